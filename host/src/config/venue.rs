//! `[venue]`: where the node trades.
//!
//! Three kinds, one config shape, so a paper-trading config becomes a live
//! one by changing `kind` and the URLs:
//!
//! - `sim` (default): Floor's simulated exchange, started in-process on
//!   127.0.0.1, traded through the Binance connector over real sockets —
//!   the same code path as live trading;
//! - `binance`: Binance spot (live, testnet or demo URLs) through the same
//!   connector;
//! - `synthetic`: a seeded random walk inside the node's own thread, no
//!   sockets, no protocol: deterministic and as fast as the agents allow
//!   (`floor run --fast`, benchmarks, quick what-ifs).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Which venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    /// The simulated exchange in-process, over Binance's protocol.
    #[default]
    Sim,
    /// Binance spot.
    Binance,
    /// The in-thread random walk.
    Synthetic,
}

impl VenueKind {
    /// Whether the venue's orders and account outlive the host: a restart
    /// carries on from the journal only then (the in-process simulator and
    /// the synthetic walk start empty with every run).
    pub fn outlives_host(self) -> bool {
        self == VenueKind::Binance
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            VenueKind::Sim => "sim",
            VenueKind::Binance => "binance",
            VenueKind::Synthetic => "synthetic",
        }
    }

    /// Parse a name (`floor run --venue`).
    ///
    /// # Errors
    /// An unknown name, with the known ones.
    pub fn parse(name: &str) -> Result<VenueKind, String> {
        match name {
            "sim" => Ok(VenueKind::Sim),
            "binance" => Ok(VenueKind::Binance),
            "synthetic" => Ok(VenueKind::Synthetic),
            other => Err(format!(
                "venue `{other}`: use `sim`, `binance` or `synthetic`"
            )),
        }
    }
}

/// `[venue]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueSection {
    /// Which venue.
    pub kind: VenueKind,
    /// Seed of the simulated market (`sim`, `synthetic`).
    pub seed: u64,
    /// `synthetic`: market events per second of event time.
    pub events_per_second: u32,
    /// `synthetic`: pace events to the wall clock (paper trading) or run
    /// as fast as possible (backtests, benchmarks).
    pub realtime: bool,
    /// `synthetic`: probability that a quote step also prints a trade.
    pub trade_probability: f64,
    /// `synthetic`: taker fee, bps.
    pub taker_fee_bps: f64,
    /// `synthetic`: maker fee, bps.
    pub maker_fee_bps: f64,
    /// `sim`: a simulator config file (`floor venue sim --config`); without
    /// one, the simulator is built from `[[symbols]]` and `[account]`.
    pub sim_config: Option<PathBuf>,
    /// `sim`: the market generator's step, ms.
    pub step_ms: u64,
    /// `sim`: replay this recorded market (CSV, docs/venue.md) instead of
    /// generating one.
    pub replay: Option<PathBuf>,
    /// `sim`: replay speed (1: as recorded).
    pub replay_speed: f64,
    /// `binance`: REST base URL.
    pub rest_url: Option<String>,
    /// `binance`: market-stream base URL.
    pub stream_url: Option<String>,
    /// `binance`: WebSocket API base URL.
    pub ws_api_url: Option<String>,
    /// `binance`: API key.
    pub api_key: Option<String>,
    /// `binance`: the environment variable holding the HMAC secret.
    pub api_secret_env: Option<String>,
    /// `binance`: an Ed25519 private key (PKCS#8 PEM) instead of HMAC.
    pub ed25519_key_file: Option<PathBuf>,
    /// Reconcile open orders this often, s (also after every reconnect).
    pub reconcile_secs: u64,
    /// Makes client order ids unique; default: one per data directory
    /// (see `node::connect`).
    pub client_id_scope: Option<String>,
    /// Consecutive order-entry failures that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open, s.
    pub breaker_open_secs: u64,
    /// Connected venues: how long the node polls its feed for the next
    /// event before it sleeps, µs (0: sleep at once).
    pub spin_us: u64,
}

impl Default for VenueSection {
    fn default() -> Self {
        Self {
            kind: VenueKind::default(),
            seed: 42,
            events_per_second: 500,
            realtime: true,
            trade_probability: 0.3,
            taker_fee_bps: 7.5,
            maker_fee_bps: 2.5,
            sim_config: None,
            step_ms: 100,
            replay: None,
            replay_speed: 1.0,
            rest_url: None,
            stream_url: None,
            ws_api_url: None,
            api_key: None,
            api_secret_env: None,
            ed25519_key_file: None,
            reconcile_secs: 30,
            client_id_scope: None,
            breaker_failures: 3,
            breaker_open_secs: 60,
            spin_us: 50,
        }
    }
}

impl VenueSection {
    /// Check the keys the kind needs, and resolve paths against `base`.
    pub(super) fn check(&mut self, base: &Path, p: &mut Vec<String>) {
        let resolve = |f: &mut Option<PathBuf>| {
            if let Some(f) = f
                && f.is_relative()
            {
                *f = base.join(&*f);
            }
        };
        resolve(&mut self.sim_config);
        resolve(&mut self.replay);
        resolve(&mut self.ed25519_key_file);
        if self.events_per_second == 0 {
            p.push("venue.events_per_second must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.trade_probability) {
            p.push("venue.trade_probability must be between 0 and 1".into());
        }
        if self.step_ms == 0 || self.reconcile_secs == 0 || self.breaker_failures == 0 {
            p.push(
                "venue.step_ms, venue.reconcile_secs and venue.breaker_failures must be at least 1"
                    .into(),
            );
        }
        if !(self.replay_speed.is_finite() && self.replay_speed > 0.0) {
            p.push(format!(
                "venue.replay_speed must be a positive number, got {}",
                self.replay_speed
            ));
        }
        if self.replay.is_some() && self.sim_config.is_some() {
            p.push("venue.replay and venue.sim_config: put the replay in the simulator config's [replay] instead".into());
        }
        if self.kind == VenueKind::Binance {
            for (key, v) in [
                ("rest_url", &self.rest_url),
                ("stream_url", &self.stream_url),
                ("ws_api_url", &self.ws_api_url),
                ("api_key", &self.api_key),
            ] {
                if v.as_deref().is_none_or(str::is_empty) {
                    p.push(format!(
                        "venue.kind = \"binance\" needs venue.{key} (see docs/config.md)"
                    ));
                }
            }
            if self.api_secret_env.is_some() == self.ed25519_key_file.is_some() {
                p.push(
                    "venue.kind = \"binance\" needs exactly one of venue.api_secret_env (HMAC) and venue.ed25519_key_file"
                        .into(),
                );
            }
        }
    }
}
