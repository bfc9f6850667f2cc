//! The simulated market: a seeded generator that makes the book live.
//!
//! A house market maker quotes a ladder of bids and asks around a mid
//! price that takes a random walk (with occasional bursts of higher
//! volatility), and a house taker sends market orders at a configured
//! rate. Both are ordinary accounts trading through the same matching
//! engine as users: a user's resting order is filled when the flow reaches
//! it, and its trades print on the public tape. The same seed and the same
//! step times give the same market.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;

use super::engine::{Exchange, OrderRef};
use super::order::NewOrder;
use crate::model::Fixed;
use crate::model::Side;

/// How one symbol's market moves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolMarket {
    /// Symbol (must be one the exchange trades).
    pub symbol: String,
    /// Starting mid price.
    pub price: f64,
    /// Standard deviation of one step's log return, basis points.
    #[serde(default = "default_volatility")]
    pub volatility_bps: f64,
    /// Distance between the best bid and ask, basis points of the mid.
    #[serde(default = "default_spread")]
    pub spread_bps: f64,
    /// Price levels quoted on each side.
    #[serde(default = "default_levels")]
    pub levels: u32,
    /// Base quantity quoted at each level.
    #[serde(default = "default_level_size")]
    pub level_size: f64,
    /// Probability that a step also sends a market order.
    #[serde(default = "default_trade_probability")]
    pub trade_probability: f64,
    /// Largest market order, as a fraction of one level.
    #[serde(default = "default_trade_fraction")]
    pub trade_fraction: f64,
}

fn default_volatility() -> f64 {
    2.0
}
fn default_spread() -> f64 {
    1.0
}
fn default_levels() -> u32 {
    10
}
fn default_level_size() -> f64 {
    0.5
}
fn default_trade_probability() -> f64 {
    0.3
}
fn default_trade_fraction() -> f64 {
    0.5
}

/// The whole market's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Seed: the same seed gives the same market.
    #[serde(default)]
    pub seed: u64,
    /// Time between steps, ms.
    #[serde(default = "default_step")]
    pub step_ms: u64,
    /// Probability that a step starts a burst.
    #[serde(default = "default_burst_probability")]
    pub burst_probability: f64,
    /// Volatility multiplier during a burst.
    #[serde(default = "default_burst_multiplier")]
    pub burst_multiplier: f64,
    /// Steps a burst lasts.
    #[serde(default = "default_burst_steps")]
    pub burst_steps: u32,
    /// Per-symbol settings.
    pub symbols: Vec<SymbolMarket>,
}

fn default_step() -> u64 {
    100
}
fn default_burst_probability() -> f64 {
    0.002
}
fn default_burst_multiplier() -> f64 {
    8.0
}
fn default_burst_steps() -> u32 {
    20
}

impl MarketConfig {
    /// A market for `symbols` at these starting prices, other settings by
    /// default.
    pub fn around(prices: &[(&str, f64)]) -> MarketConfig {
        MarketConfig {
            seed: 0,
            step_ms: default_step(),
            burst_probability: default_burst_probability(),
            burst_multiplier: default_burst_multiplier(),
            burst_steps: default_burst_steps(),
            symbols: prices
                .iter()
                .map(|(s, p)| SymbolMarket {
                    symbol: s.to_string(),
                    price: *p,
                    volatility_bps: default_volatility(),
                    spread_bps: default_spread(),
                    levels: default_levels(),
                    level_size: default_level_size(),
                    trade_probability: default_trade_probability(),
                    trade_fraction: default_trade_fraction(),
                })
                .collect(),
        }
    }
}

struct Live {
    cfg: SymbolMarket,
    tick: Fixed,
    step: Fixed,
    mid: f64,
    quotes: Vec<u64>,
}

/// The generator, attached to one exchange.
pub struct Market {
    rng: StdRng,
    maker: u32,
    taker: u32,
    symbols: Vec<Live>,
    burst_left: u32,
    cfg: MarketConfig,
}

impl Market {
    /// Open the house accounts on `ex` and check the symbols.
    ///
    /// # Errors
    /// A symbol the exchange does not trade, or a non-positive price or
    /// level size.
    pub fn new(ex: &mut Exchange, cfg: MarketConfig) -> Result<Market, String> {
        let mut symbols = Vec::new();
        for s in &cfg.symbols {
            let spec = ex
                .symbols()
                .find(|spec| spec.symbol == s.symbol)
                .ok_or_else(|| format!("market for {}: the exchange does not trade it", s.symbol))?
                .clone();
            if !(s.price > 0.0 && s.level_size > 0.0 && s.levels > 0) {
                return Err(format!(
                    "market for {}: price, level_size and levels must be positive",
                    s.symbol
                ));
            }
            symbols.push(Live {
                tick: spec.tick_size,
                step: spec.step_size,
                mid: s.price,
                quotes: Vec::new(),
                cfg: s.clone(),
            });
        }
        let maker = house_account(ex, "house-maker");
        let taker = house_account(ex, "house-taker");
        Ok(Market {
            rng: StdRng::seed_from_u64(cfg.seed),
            maker,
            taker,
            symbols,
            burst_left: 0,
            cfg,
        })
    }

    /// Time between steps.
    pub fn step_ms(&self) -> u64 {
        self.cfg.step_ms.max(1)
    }

    /// The current mid of a symbol.
    pub fn mid(&self, symbol: &str) -> Option<f64> {
        self.symbols
            .iter()
            .find(|s| s.cfg.symbol == symbol)
            .map(|s| s.mid)
    }

    /// One step: move every mid, re-quote the ladder, maybe trade.
    pub fn step(&mut self, ex: &mut Exchange, now_ms: u64) {
        if self.burst_left > 0 {
            self.burst_left -= 1;
        } else if self
            .rng
            .random_bool(self.cfg.burst_probability.clamp(0.0, 1.0))
        {
            self.burst_left = self.cfg.burst_steps;
        }
        let scale = if self.burst_left > 0 {
            self.cfg.burst_multiplier
        } else {
            1.0
        };
        for i in 0..self.symbols.len() {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            let s = &mut self.symbols[i];
            s.mid *= (z * s.cfg.volatility_bps * scale / 1e4).exp();
            self.requote(ex, i, now_ms);
            let s = &self.symbols[i];
            if self
                .rng
                .random_bool(s.cfg.trade_probability.clamp(0.0, 1.0))
            {
                let side = if self.rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let qty =
                    s.cfg.level_size * s.cfg.trade_fraction * self.rng.random_range(0.05..1.0);
                let qty = round_down(qty, s.step);
                if !qty.is_zero() {
                    let symbol = s.cfg.symbol.clone();
                    // Refusals (a filter, an empty side) are part of the market.
                    let _ = ex.new_order(self.taker, NewOrder::market(&symbol, side, qty), now_ms);
                }
            }
        }
    }

    fn requote(&mut self, ex: &mut Exchange, i: usize, now_ms: u64) {
        let s = &mut self.symbols[i];
        for id in s.quotes.drain(..) {
            let _ = ex.cancel(self.maker, &s.cfg.symbol, &OrderRef::Id(id), now_ms);
        }
        let half = (s.mid * s.cfg.spread_bps / 2e4).max(s.tick.to_f64());
        let size = round_down(s.cfg.level_size, s.step);
        for level in 0..s.cfg.levels {
            let offset = half + level as f64 * s.tick.to_f64() * 2.0;
            for (side, price) in [(Side::Buy, s.mid - offset), (Side::Sell, s.mid + offset)] {
                let price = match side {
                    Side::Buy => round_down(price, s.tick),
                    Side::Sell => round_up(price, s.tick),
                };
                if price.0 <= 0 {
                    continue;
                }
                if let Ok(ack) = ex.new_order(
                    self.maker,
                    NewOrder::limit(&s.cfg.symbol, side, size, price),
                    now_ms,
                ) && !ack.order.state.is_final()
                {
                    s.quotes.push(ack.order.order_id);
                }
            }
        }
    }
}

/// A fee-free account with ten billion of every asset the exchange
/// trades: the house that makes (or replays) the market.
pub fn house_account(ex: &mut Exchange, name: &str) -> u32 {
    let account = ex.open_account(name, 0, 0);
    let assets: Vec<String> = ex
        .symbols()
        .flat_map(|s| [s.base_asset.clone(), s.quote_asset.clone()])
        .collect();
    for asset in &assets {
        ex.deposit(account, asset, Fixed::units(10_000_000_000));
    }
    account
}

fn round_down(x: f64, unit: Fixed) -> Fixed {
    let v = Fixed::from_f64(x).0;
    Fixed(v - v.rem_euclid(unit.0.max(1)))
}

fn round_up(x: f64, unit: Fixed) -> Fixed {
    let down = round_down(x, unit);
    if down == Fixed::from_f64(x) {
        down
    } else {
        Fixed(down.0 + unit.0.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{OrderState, SymbolSpec};

    fn exchange() -> (Exchange, u32) {
        let mut ex = Exchange::new(vec![SymbolSpec::spot("BTCUSDT", "BTC", "USDT")]).unwrap();
        let user = ex.open_account("user", 10, 10);
        ex.deposit(user, "USDT", Fixed::units(1_000_000));
        (ex, user)
    }

    #[test]
    fn the_house_keeps_a_two_sided_book_and_trades() {
        let (mut ex, _) = exchange();
        let mut m = Market::new(&mut ex, MarketConfig::around(&[("BTCUSDT", 30_000.0)])).unwrap();
        for t in 0..500 {
            m.step(&mut ex, t * 100);
            let (bid, ask) = ex.book_ticker("BTCUSDT").unwrap();
            let (b, a) = (bid.unwrap().0, ask.unwrap().0);
            assert!(b < a, "step {t}: crossed {b} {a}");
            assert_eq!(ex.depth("BTCUSDT", 100).unwrap().1.len(), 10);
        }
        let last = ex.last_price("BTCUSDT").unwrap().expect("the taker traded");
        assert!((last.to_f64() / 30_000.0 - 1.0).abs() < 0.05);
        assert!(ex.my_trades(m.taker, "BTCUSDT").len() > 100);
    }

    #[test]
    fn the_same_seed_gives_the_same_market() {
        let run = |seed| {
            let (mut ex, _) = exchange();
            let mut cfg = MarketConfig::around(&[("BTCUSDT", 30_000.0)]);
            cfg.seed = seed;
            let mut m = Market::new(&mut ex, cfg).unwrap();
            (0..200)
                .map(|t| {
                    m.step(&mut ex, t);
                    ex.last_price("BTCUSDT").unwrap()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn a_user_bid_is_filled_when_the_market_comes_down_to_it() {
        let (mut ex, user) = exchange();
        let mut cfg = MarketConfig::around(&[("BTCUSDT", 30_000.0)]);
        cfg.symbols[0].volatility_bps = 20.0;
        let mut m = Market::new(&mut ex, cfg).unwrap();
        m.step(&mut ex, 0);
        let bid = ex
            .new_order(
                user,
                NewOrder::limit(
                    "BTCUSDT",
                    Side::Buy,
                    "0.01".parse().unwrap(),
                    Fixed::units(29_950),
                ),
                1,
            )
            .unwrap()
            .order
            .order_id;
        let mut t = 2;
        while ex.order(user, "BTCUSDT", &OrderRef::Id(bid)).unwrap().state != OrderState::Filled {
            m.step(&mut ex, t);
            t += 1;
            assert!(
                t < 100_000,
                "the market never came down to 29,950 (mid {:?})",
                m.mid("BTCUSDT")
            );
        }
        assert_eq!(ex.balance(user, "BTC").free, "0.00999".parse().unwrap());
    }
}
