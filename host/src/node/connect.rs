//! The configured venue, built: the synthetic walk, the simulated exchange
//! started in-process behind the Binance connector, or Binance itself.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

use crate::config::{NodeConfig, VenueKind, VenueSection};
use crate::exchange::api::SimServer;
use crate::exchange::market::MarketConfig;
use crate::exchange::replay::ReplayConfig;
use crate::exchange::setup::{AccountSetup, DEFAULT_KEY, DEFAULT_SECRET, SimSetup};
use crate::exchange::symbol::SymbolSpec;
use crate::model::Fixed;
use crate::model::clock::wall_ns as now_ns;
use crate::venue::Venue;
use crate::venue::binance::rest::Credentials;
use crate::venue::binance::{BinanceVenue, ConnectorConfig};
use crate::venue::sim::{SimConfig, SimVenue};

/// The venue `cfg` asks for (`kind` overrides `[venue] kind`).
///
/// # Errors
/// When the venue cannot be started or reached; the message says what to
/// check.
pub fn venue_for(cfg: &NodeConfig, kind: VenueKind) -> anyhow::Result<Box<dyn Venue>> {
    Ok(match kind {
        VenueKind::Synthetic => Box::new(synthetic(cfg, now_ns())),
        VenueKind::Sim => Box::new(simulated(cfg)?),
        VenueKind::Binance => Box::new(binance(cfg)?),
    })
}

/// The synthetic walk for `cfg`'s symbols, starting at event time `start`.
pub fn synthetic(cfg: &NodeConfig, start: u64) -> SimVenue {
    SimVenue::new(SimConfig {
        seed: cfg.venue.seed,
        start_time: start,
        step: 1_000_000_000 / u64::from(cfg.venue.events_per_second.max(1)),
        trade_probability: cfg.venue.trade_probability,
        taker_fee_bps: cfg.venue.taker_fee_bps,
        maker_fee_bps: cfg.venue.maker_fee_bps,
        symbols: cfg.sim_symbols(),
    })
}

/// The simulator for `cfg`'s symbols and fees as a matching engine only:
/// its market comes from outside ([`Venue::observe`], a backtest's data,
/// a replayed journal), never from its own walk.
pub fn matching_only(cfg: &NodeConfig) -> SimVenue {
    SimVenue::new(SimConfig {
        seed: cfg.venue.seed,
        start_time: 0,
        step: 1,
        trade_probability: 0.0,
        taker_fee_bps: cfg.venue.taker_fee_bps,
        maker_fee_bps: cfg.venue.maker_fee_bps,
        symbols: cfg.sim_symbols(),
    })
}

/// The simulator `cfg` describes when it names no simulator file: its
/// symbols with Binance's filters, one account holding `[account]`'s
/// balances under the default key, and a market around each price.
///
/// # Errors
/// A balance that is not a valid amount.
pub fn sim_setup(cfg: &NodeConfig) -> anyhow::Result<SimSetup> {
    let mut setup = SimSetup {
        symbols: cfg
            .symbols
            .iter()
            .map(|s| SymbolSpec::spot(&s.symbol, &s.base, &s.quote))
            .collect(),
        ..SimSetup::default()
    };
    let mut balances = std::collections::BTreeMap::new();
    for (asset, amount) in &cfg.balances {
        let fixed = format!("{amount:.8}")
            .parse::<Fixed>()
            .map_err(|e| anyhow::anyhow!("[account] balance of {asset}: {e}"))?;
        balances.insert(asset.clone(), fixed);
    }
    setup.accounts = vec![AccountSetup {
        balances,
        ..SimSetup::default().accounts.remove(0)
    }];
    let prices: Vec<(&str, f64)> = cfg
        .symbols
        .iter()
        .map(|s| (s.symbol.as_str(), s.price))
        .collect();
    let mut market = MarketConfig::around(&prices);
    market.seed = cfg.venue.seed;
    market.step_ms = cfg.venue.step_ms;
    for (m, s) in market.symbols.iter_mut().zip(&cfg.symbols) {
        m.volatility_bps = s.volatility_bps.unwrap_or(m.volatility_bps);
        m.spread_bps = s.spread_bps.unwrap_or(m.spread_bps);
    }
    setup.market = Some(market);
    if let Some(file) = &cfg.venue.replay {
        setup.market = None;
        setup.replay = Some(ReplayConfig {
            file: file.clone(),
            speed: cfg.venue.replay_speed,
            repeat: false,
        });
    }
    Ok(setup)
}

fn connector(
    v: &VenueSection,
    name: &str,
    urls: (String, String, String),
    api_key: String,
    credentials: Credentials,
    cfg: &NodeConfig,
) -> ConnectorConfig {
    ConnectorConfig {
        name: name.to_string(),
        rest_url: urls.0,
        stream_url: urls.1,
        ws_api_url: urls.2,
        api_key,
        credentials,
        symbols: cfg.symbols.iter().map(|s| s.symbol.clone()).collect(),
        scope: v
            .client_id_scope
            .clone()
            .unwrap_or_else(|| default_scope(cfg)),
        reconcile_every: Duration::from_secs(v.reconcile_secs),
        breaker_failures: v.breaker_failures,
        breaker_open_ms: v.breaker_open_secs * 1_000,
        poll_wait: Duration::from_millis(5),
        spin: Duration::from_micros(v.spin_us),
    }
}

/// The client-order-id scope when the config names none. With a journal,
/// one per data directory (kept in `<data_dir>/client_id_scope`): order
/// ids continue across restarts, so ids stay unique, and a restarted host
/// finds the orders it sent before under the same client ids. Without
/// one, a new scope per run (ids start again at 1).
fn default_scope(cfg: &NodeConfig) -> String {
    let fresh = format!("run-{}", now_ns());
    if cfg.journal.is_none() {
        return fresh;
    }
    let file = cfg.data_dir.join("client_id_scope");
    if let Ok(text) = std::fs::read_to_string(&file)
        && !text.trim().is_empty()
    {
        return text.trim().to_string();
    }
    let kept = std::fs::create_dir_all(&cfg.data_dir).and_then(|()| std::fs::write(&file, &fresh));
    if let Err(e) = kept {
        tracing::warn!(
            "cannot keep the client-id scope in `{}` ({e}): a restart will not find this run's orders by client id",
            file.display()
        );
    }
    fresh
}

/// The simulated exchange on 127.0.0.1 (a free port), and the connector
/// trading on it with the first account that has an HMAC secret.
///
/// # Errors
/// When the simulator config is unusable or the server cannot start.
pub fn simulated(cfg: &NodeConfig) -> anyhow::Result<BinanceVenue> {
    let setup = match &cfg.venue.sim_config {
        Some(path) => SimSetup::load(path)?,
        None => sim_setup(cfg)?,
    };
    let (key, secret) = setup
        .accounts
        .iter()
        .find_map(|a| Some((a.api_key.clone(), a.api_secret.clone()?)))
        .unwrap_or((DEFAULT_KEY.into(), DEFAULT_SECRET.into()));
    let (exchange, api) = setup.build()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("floor-venue")
        .enable_all()
        .build()
        .context("cannot start the venue's runtime")?;
    let server = rt
        .block_on(SimServer::start(
            exchange,
            api,
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .context("cannot start the simulated exchange on 127.0.0.1")?;
    tracing::info!(rest = %server.rest_url(), "simulated exchange started");
    let urls = (server.rest_url(), server.ws_url(), server.ws_url());
    let c = connector(
        &cfg.venue,
        "sim",
        urls,
        key,
        Credentials::Hmac(secret.into_bytes()),
        cfg,
    );
    Ok(BinanceVenue::connect_on(c, rt, vec![Box::new(server)])?)
}

/// Binance, with the key from the config and the secret from the
/// environment or a key file.
///
/// # Errors
/// A missing secret or key file, or a venue that cannot be reached.
pub fn binance(cfg: &NodeConfig) -> anyhow::Result<BinanceVenue> {
    let v = &cfg.venue;
    let credentials = match (&v.api_secret_env, &v.ed25519_key_file) {
        (Some(var), _) => Credentials::Hmac(
            std::env::var(var)
                .with_context(|| {
                    format!("venue.api_secret_env: set the environment variable `{var}` to the API secret")
                })?
                .into_bytes(),
        ),
        (None, Some(file)) => {
            use ed25519_dalek::pkcs8::DecodePrivateKey as _;
            let pem = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read venue.ed25519_key_file `{}`", file.display()))?;
            Credentials::Ed25519(
                ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
                    anyhow::anyhow!(
                        "venue.ed25519_key_file `{}` is not an Ed25519 private key in PKCS#8 PEM: {e}",
                        file.display()
                    )
                })?,
            )
        }
        (None, None) => anyhow::bail!("venue.kind = \"binance\" needs api_secret_env or ed25519_key_file"),
    };
    let get = |o: &Option<String>| o.clone().unwrap_or_default();
    let urls = (get(&v.rest_url), get(&v.stream_url), get(&v.ws_api_url));
    let c = connector(v, "binance", urls, get(&v.api_key), credentials, cfg);
    Ok(BinanceVenue::connect(c)?)
}
