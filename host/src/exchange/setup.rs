//! The simulator's config file: symbols, accounts with API keys and
//! starting balances, rate limits, latency.
//!
//! ```toml
//! latency_ms = 0
//!
//! [[symbols]]
//! symbol = "BTCUSDT"
//! base_asset = "BTC"
//! quote_asset = "USDT"
//! tick_size = 0.01
//! step_size = 0.00001
//! min_qty = 0.00001
//! min_notional = 5
//!
//! [[accounts]]
//! name = "paper"
//! api_key = "my-key"
//! api_secret = "my-secret"          # HMAC-SHA256; or:
//! # ed25519_public_key = "key.pem"  # a PEM file, relative to this file
//! balances = { BTC = 10, USDT = 1000000 }
//!
//! [[rate_limits]]                    # Binance's limits when absent
//! kind = "REQUEST_WEIGHT"
//! interval_ms = 60000
//! limit = 6000
//!
//! # [replay]                         # or: a recorded market (see `replay`)
//! # file = "btcusdt.csv"
//! # speed = 1.0
//! # repeat = false
//!
//! [market]                           # optional: a live book (see `market`)
//! seed = 1
//! step_ms = 100
//! [[market.symbols]]
//! symbol = "BTCUSDT"
//! price = 30000
//! volatility_bps = 2
//! ```
//!
//! Without a file, [`SimSetup::default`] trades BTCUSDT and ETHUSDT with
//! one account (`floor-sim-key` / `floor-sim-secret`) and a live market.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::api::{ApiConfig, ApiKey, RateLimit, Secret};
use super::engine::Exchange;
use super::market::MarketConfig;
use super::replay::{Recording, ReplayConfig};
use super::symbol::SymbolSpec;
use crate::model::Fixed;

/// The default API key of `floor venue sim`.
pub const DEFAULT_KEY: &str = "floor-sim-key";
/// The default API secret of `floor venue sim`.
pub const DEFAULT_SECRET: &str = "floor-sim-secret";

/// One account in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSetup {
    /// Name (logs).
    pub name: String,
    /// The key clients send in `X-MBX-APIKEY`.
    pub api_key: String,
    /// HMAC secret.
    #[serde(default)]
    pub api_secret: Option<String>,
    /// Ed25519 public key, a PEM file.
    #[serde(default)]
    pub ed25519_public_key: Option<std::path::PathBuf>,
    /// Maker fee, basis points.
    #[serde(default = "default_fee")]
    pub maker_bps: i64,
    /// Taker fee, basis points.
    #[serde(default = "default_fee")]
    pub taker_bps: i64,
    /// Starting balances by asset.
    #[serde(default)]
    pub balances: BTreeMap<String, Fixed>,
}

fn default_fee() -> i64 {
    10
}

/// The whole simulator config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSetup {
    /// Symbols traded.
    pub symbols: Vec<SymbolSpec>,
    /// Accounts.
    #[serde(default)]
    pub accounts: Vec<AccountSetup>,
    /// Rate limits; Binance's when empty.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// Round trip of each request, ms: half before it is handled, half
    /// before its answer leaves.
    #[serde(default)]
    pub latency_ms: u64,
    /// Ban after ignoring a 429, ms.
    #[serde(default = "default_ban")]
    pub ban_ms: u64,
    /// Closed orders and trades kept for queries.
    #[serde(default = "default_retain")]
    pub retain: usize,
    /// The market generator (none: the book holds only what clients send).
    #[serde(default)]
    pub market: Option<MarketConfig>,
    /// A recorded market to replay instead of the generator.
    #[serde(default)]
    pub replay: Option<ReplayConfig>,
}

fn default_ban() -> u64 {
    120_000
}
fn default_retain() -> usize {
    super::engine::DEFAULT_RETAIN
}

impl Default for SimSetup {
    fn default() -> Self {
        let balances = [("BTC", 10), ("ETH", 100), ("USDT", 1_000_000)]
            .into_iter()
            .map(|(a, n)| (a.to_string(), Fixed::units(n)))
            .collect();
        SimSetup {
            symbols: vec![
                SymbolSpec::spot("BTCUSDT", "BTC", "USDT"),
                SymbolSpec::spot("ETHUSDT", "ETH", "USDT"),
            ],
            accounts: vec![AccountSetup {
                name: "paper".into(),
                api_key: DEFAULT_KEY.into(),
                api_secret: Some(DEFAULT_SECRET.into()),
                ed25519_public_key: None,
                maker_bps: default_fee(),
                taker_bps: default_fee(),
                balances,
            }],
            rate_limits: Vec::new(),
            latency_ms: 0,
            ban_ms: default_ban(),
            retain: default_retain(),
            market: Some(MarketConfig::around(&[
                ("BTCUSDT", 30_000.0),
                ("ETHUSDT", 2_000.0),
            ])),
            replay: None,
        }
    }
}

impl SimSetup {
    /// Parse a config from TOML text (PEM paths relative to the working
    /// directory).
    ///
    /// # Errors
    /// Malformed TOML or unknown fields, with the place named.
    pub fn parse(text: &str) -> anyhow::Result<SimSetup> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("the simulator config is not valid: {e}"))
    }

    /// Read a config file; PEM paths are relative to it.
    ///
    /// # Errors
    /// Unreadable or malformed files, with the file named.
    pub fn load(path: &Path) -> anyhow::Result<SimSetup> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read simulator config {}: {e}", path.display()))?;
        let mut setup: SimSetup = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("simulator config {} is not valid: {e}", path.display())
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for a in &mut setup.accounts {
            if let Some(p) = &mut a.ed25519_public_key {
                *p = dir.join(&*p);
            }
        }
        if let Some(r) = &mut setup.replay {
            r.file = dir.join(&r.file);
        }
        Ok(setup)
    }

    /// Build the exchange and the server settings.
    ///
    /// # Errors
    /// Every problem found (bad symbols, accounts without a secret or with
    /// two, duplicate keys, unreadable PEM files), one per line.
    pub fn build(&self) -> anyhow::Result<(Exchange, ApiConfig)> {
        let mut problems = Vec::new();
        let exchange = Exchange::new(self.symbols.clone()).map_err(|e| anyhow::anyhow!("{e}"));
        let mut exchange = match exchange {
            Ok(ex) => ex.retain(self.retain),
            Err(e) => return Err(e),
        };
        let mut keys: Vec<ApiKey> = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for a in &self.accounts {
            let secret = match (&a.api_secret, &a.ed25519_public_key) {
                (Some(s), None) => Some(Secret::Hmac(s.as_bytes().to_vec())),
                (None, Some(pem)) => match std::fs::read_to_string(pem) {
                    Ok(text) => Secret::ed25519_pem(&text)
                        .map_err(|e| {
                            problems.push(format!("account {}: {}: {e}", a.name, pem.display()))
                        })
                        .ok(),
                    Err(e) => {
                        problems.push(format!(
                            "account {}: cannot read {}: {e}",
                            a.name,
                            pem.display()
                        ));
                        None
                    }
                },
                _ => {
                    problems.push(format!(
                        "account {}: give exactly one of api_secret (HMAC) or ed25519_public_key (a PEM file)",
                        a.name
                    ));
                    None
                }
            };
            if !names.insert(a.api_key.as_str()) {
                problems.push(format!(
                    "account {}: api_key `{}` is used twice",
                    a.name, a.api_key
                ));
            }
            let id = exchange.open_account(&a.name, a.maker_bps, a.taker_bps);
            for (asset, amount) in &a.balances {
                exchange.deposit(id, asset, *amount);
            }
            if let Some(secret) = secret {
                keys.push(ApiKey {
                    key: a.api_key.clone(),
                    secret,
                    account: id,
                });
            }
        }
        let replay = match &self.replay {
            Some(_) if self.market.is_some() => {
                problems.push(
                    "give [market] (a generated market) or [replay] (a recorded one), not both"
                        .into(),
                );
                None
            }
            Some(cfg) => {
                let symbols: Vec<String> = self.symbols.iter().map(|s| s.symbol.clone()).collect();
                Recording::load(cfg, &symbols)
                    .map_err(|e| problems.push(e))
                    .ok()
            }
            None => None,
        };
        for l in &self.rate_limits {
            if l.interval_ms == 0 || l.interval_ms % 1_000 != 0 {
                problems.push(format!(
                    "rate limit {:?}: interval_ms must be a positive whole number of seconds",
                    l.kind
                ));
            }
        }
        if !problems.is_empty() {
            anyhow::bail!(
                "the simulator config has problems:\n  {}",
                problems.join("\n  ")
            );
        }
        let limits = if self.rate_limits.is_empty() {
            RateLimit::binance_defaults()
        } else {
            self.rate_limits.clone()
        };
        Ok((
            exchange,
            ApiConfig {
                keys,
                limits,
                ban_ms: self.ban_ms,
                latency: Duration::from_millis(self.latency_ms),
                market: self.market.clone(),
                replay,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_setup_builds() {
        let (ex, api) = SimSetup::default().build().unwrap();
        assert_eq!(ex.symbols().count(), 2);
        assert_eq!(api.keys.len(), 1);
        assert_eq!(ex.balance(0, "USDT").free, Fixed::units(1_000_000));
    }

    #[test]
    fn every_problem_is_reported() {
        let text = r#"
            [[symbols]]
            symbol = "BTCUSDT"
            base_asset = "BTC"
            quote_asset = "USDT"
            tick_size = 0.01
            step_size = 0.001
            min_qty = 0.001

            [[accounts]]
            name = "a"
            api_key = "k"

            [[accounts]]
            name = "b"
            api_key = "k"
            api_secret = "s"

            [[rate_limits]]
            kind = "ORDERS"
            interval_ms = 1500
            limit = 5
        "#;
        let setup: SimSetup = toml::from_str(text).unwrap();
        let err = setup.build().err().unwrap().to_string();
        assert!(
            err.contains("account a: give exactly one of api_secret"),
            "{err}"
        );
        assert!(err.contains("api_key `k` is used twice"), "{err}");
        assert!(err.contains("whole number of seconds"), "{err}");
    }
}
