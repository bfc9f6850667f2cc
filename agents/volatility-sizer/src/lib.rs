//! Volatility sizer: a risk agent that sizes positions by how much the
//! market moves.
//!
//! It watches the mid price of every symbol it is subscribed to and keeps
//! the standard deviation σ of the last `window` quote-to-quote returns.
//! The largest position it allows in a symbol is the one whose loss in a
//! move of `sigmas` σ is `risk_budget` (quote asset):
//! `max_position = risk_budget / (price × σ × sigmas)`. So in a calm market
//! it lets a strategy hold more, in a wild one less.
//!
//! On each `risk.check.request` it approves an intent that stays within
//! that size, resizes one that would go past it down to the room left,
//! and rejects one with no room. An intent that shrinks the position is
//! always approved: cutting risk is never blocked. Until `window` returns
//! are in, it rejects (fail safe: it cannot size what it has not
//! measured).
//!
//! Config: `risk_budget` (1000), `sigmas` (3), `window` (50).

use std::collections::{BTreeMap, VecDeque};

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// Rolling σ of returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Vol {
    last: Option<f64>,
    returns: VecDeque<f64>,
}

impl Vol {
    fn on_mid(&mut self, mid: f64, window: usize) {
        if let Some(last) = self.last
            && last > 0.0
        {
            self.returns.push_back(mid / last - 1.0);
            if self.returns.len() > window {
                self.returns.pop_front();
            }
        }
        self.last = Some(mid);
    }

    fn sigma(&self, window: usize) -> Option<f64> {
        if self.returns.len() < window {
            return None;
        }
        let n = self.returns.len() as f64;
        let mean = self.returns.iter().sum::<f64>() / n;
        let var = self.returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Some(var.sqrt())
    }
}

/// The sizing rule, apart from the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sizer {
    risk_budget: f64,
    sigmas: f64,
    window: usize,
    vols: BTreeMap<String, Vol>,
}

impl Default for Sizer {
    fn default() -> Self {
        Self {
            risk_budget: 1000.0,
            sigmas: 3.0,
            window: 50,
            vols: BTreeMap::new(),
        }
    }
}

impl Sizer {
    fn on_mid(&mut self, symbol: &str, mid: f64) {
        let window = self.window;
        self.vols
            .entry(symbol.to_string())
            .or_default()
            .on_mid(mid, window);
    }

    /// The verdict on trading `quantity` (signed: + buys) of `symbol` at
    /// `price`, holding `position` now.
    fn verdict(&self, symbol: &str, quantity: f64, price: f64, position: f64) -> RiskVerdict {
        let after = position + quantity;
        if after.abs() < position.abs() && after * position >= 0.0 {
            return RiskVerdict::Approve;
        }
        let Some(sigma) = self.vols.get(symbol).and_then(|v| v.sigma(self.window)) else {
            return RiskVerdict::Reject(format!(
                "volatility-sizer: no volatility for {symbol} yet (needs {} returns)",
                self.window
            ));
        };
        if sigma <= 0.0 || price <= 0.0 {
            return RiskVerdict::Approve;
        }
        let max = self.risk_budget / (price * sigma * self.sigmas);
        if after.abs() <= max {
            return RiskVerdict::Approve;
        }
        let room = if quantity > 0.0 {
            max - position
        } else {
            max + position
        };
        if room > quantity.abs() * 1e-9 && room > 0.0 {
            RiskVerdict::Resize(room)
        } else {
            RiskVerdict::Reject(format!(
                "volatility-sizer: {symbol} at σ {:.4}% allows ±{max:.6}, the position is {position:.6}",
                sigma * 100.0
            ))
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct VolatilitySizer {
    sizer: Sizer,
}

impl Agent for VolatilitySizer {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let d = Sizer::default();
        self.sizer = Sizer {
            risk_budget: config.parse_or("risk_budget", d.risk_budget)?,
            sigmas: config.parse_or("sigmas", d.sigmas)?,
            window: config.parse_or("window", d.window)?,
            vols: BTreeMap::new(),
        };
        let s = &self.sizer;
        if s.risk_budget <= 0.0 || s.sigmas <= 0.0 || s.window < 2 {
            return Err(error(
                "bad_config",
                format!(
                    "need risk_budget > 0, sigmas > 0 and window >= 2, got {}, {}, {}",
                    s.risk_budget, s.sigmas, s.window
                ),
            ));
        }
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        match &msg.payload {
            Payload::Quote(q) => self.sizer.on_mid(&q.symbol, (q.bid + q.ask) / 2.0),
            Payload::OrderIntent(intent) => {
                let price = intent
                    .limit_price
                    .or_else(|| {
                        host::quote(&intent.symbol).map(|q| match intent.side {
                            Side::Buy => q.ask,
                            Side::Sell => q.bid,
                        })
                    })
                    .unwrap_or(0.0);
                let signed = match intent.side {
                    Side::Buy => intent.quantity,
                    Side::Sell => -intent.quantity,
                };
                let position = host::position(&intent.symbol).quantity;
                let verdict = if price <= 0.0 {
                    RiskVerdict::Reject(format!(
                        "volatility-sizer: no price to size {} with",
                        intent.symbol
                    ))
                } else {
                    self.sizer.verdict(&intent.symbol, signed, price, position)
                };
                out.reply(Payload::RiskVerdict(verdict));
            }
            _ => {}
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(VolatilitySizer);

#[cfg(test)]
mod tests {
    use super::*;

    /// A sizer fed mids alternating ±`step` around 100: σ ≈ step %.
    fn sizer(step: f64) -> Sizer {
        let mut s = Sizer {
            risk_budget: 3.0,
            sigmas: 3.0,
            window: 10,
            vols: BTreeMap::new(),
        };
        for i in 0..=10 {
            s.on_mid("X", if i % 2 == 0 { 100.0 } else { 100.0 + step });
        }
        s
    }

    #[test]
    fn the_calmer_the_market_the_larger_the_position_allowed() {
        let calm = sizer(0.1);
        let wild = sizer(1.0);
        let sigma = |s: &Sizer| s.vols["X"].sigma(10).unwrap();
        assert!(sigma(&wild) > 9.0 * sigma(&calm));
        // budget 3 / (100 × σ × 3): calm σ ≈ 0.105% allows about 9.5,
        // wild σ ≈ 1.05% about 0.95.
        assert!(matches!(
            calm.verdict("X", 5.0, 100.0, 0.0),
            RiskVerdict::Approve
        ));
        match wild.verdict("X", 5.0, 100.0, 0.0) {
            RiskVerdict::Resize(q) => assert!((0.5..1.0).contains(&q), "{q}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_room_is_a_rejection_and_cutting_risk_is_always_approved() {
        let wild = sizer(1.0);
        assert!(matches!(
            wild.verdict("X", 1.0, 100.0, 5.0),
            RiskVerdict::Reject(_)
        ));
        assert!(matches!(
            wild.verdict("X", -1.0, 100.0, 5.0),
            RiskVerdict::Approve
        ));
        match wild.verdict("Y", 1.0, 100.0, 0.0) {
            RiskVerdict::Reject(why) => assert_eq!(
                why,
                "volatility-sizer: no volatility for Y yet (needs 10 returns)"
            ),
            other => panic!("{other:?}"),
        }
    }
}
