//! The host's hard limits.
//!
//! Every order intent passes here after the risk agents have approved it and
//! immediately before it is sent to the venue. The threat is any agent —
//! strategy or risk — that is wrong, compromised or simply buggy: an agent
//! can make an order smaller or refuse it, but nothing an agent returns can
//! get an order past these checks. They are deliberately simple and
//! stateless apart from the order-rate window, so they are easy to audit.
//!
//! A breach rejects the order with a reason that names the limit, the
//! value and the setting to change.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::model::{Nanos, OrderIntent, Quote};

/// Settings, from `[limits]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest notional of one order, quote asset.
    pub max_order_notional: f64,
    /// Largest absolute position per symbol, base units.
    pub max_position: f64,
    /// How far a limit price may be from the mid, percent.
    pub price_band_pct: f64,
    /// Orders per second of event time, whole host.
    pub max_orders_per_second: u32,
    /// When true, every order is refused.
    pub kill_switch: bool,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_order_notional: 100_000.0,
            max_position: 10.0,
            price_band_pct: 5.0,
            max_orders_per_second: 50,
            kill_switch: false,
        }
    }
}

/// The checker, with its order-rate window.
#[derive(Debug)]
pub struct HardLimits {
    cfg: LimitsConfig,
    recent: VecDeque<Nanos>,
}

impl HardLimits {
    /// Limits from settings.
    pub fn new(cfg: LimitsConfig) -> Self {
        Self {
            cfg,
            recent: VecDeque::new(),
        }
    }

    /// Settings in force.
    pub fn config(&self) -> &LimitsConfig {
        &self.cfg
    }

    /// Check an intent at event time `now` given the current quote and
    /// position; on success the order counts towards the rate window.
    ///
    /// # Errors
    /// The reason for the rejection.
    pub fn check(
        &mut self,
        intent: &OrderIntent,
        quote: Option<&Quote>,
        position: f64,
        now: Nanos,
    ) -> Result<(), String> {
        let c = &self.cfg;
        if c.kill_switch {
            return Err(
                "kill switch is on: no orders are sent (set limits.kill_switch = false)".into(),
            );
        }
        if !(intent.quantity.is_finite() && intent.quantity > 0.0) {
            return Err(format!(
                "quantity {} is not a positive number",
                intent.quantity
            ));
        }
        let Some(q) = quote else {
            return Err(format!(
                "no market price for `{}` yet: the host does not send orders it cannot value",
                intent.symbol
            ));
        };
        let mid = q.mid();
        if let Some(p) = intent.limit_price {
            let off = ((p - mid) / mid).abs() * 100.0;
            if !p.is_finite() || off > c.price_band_pct {
                return Err(format!(
                    "price band: limit {p} is {off:.2}% from the mid {mid:.2}, over limits.price_band_pct = {}",
                    c.price_band_pct
                ));
            }
        }
        let reference = match intent.side {
            crate::model::Side::Buy => q.ask,
            crate::model::Side::Sell => q.bid,
        };
        let notional = intent.notional(reference);
        if notional > c.max_order_notional {
            return Err(format!(
                "order notional {notional:.2} is over limits.max_order_notional = {}",
                c.max_order_notional
            ));
        }
        let after = position + intent.side.sign() * intent.quantity;
        if after.abs() > c.max_position + 1e-12 {
            return Err(format!(
                "position in `{}` would be {after:.6}, over limits.max_position = {}",
                intent.symbol, c.max_position
            ));
        }
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= 1_000_000_000)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= c.max_orders_per_second as usize {
            return Err(format!(
                "order rate: {} orders in the last second, limits.max_orders_per_second = {}",
                self.recent.len(),
                c.max_orders_per_second
            ));
        }
        self.recent.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderType, Side, TimeInForce};

    fn quote() -> Quote {
        Quote {
            symbol: "BTCUSDT".into(),
            bid: 99.0,
            bid_size: 1.0,
            ask: 101.0,
            ask_size: 1.0,
        }
    }

    fn buy(qty: f64, limit: Option<f64>) -> OrderIntent {
        OrderIntent {
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            order_type: if limit.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            quantity: qty,
            limit_price: limit,
            time_in_force: TimeInForce::Gtc,
            tag: String::new(),
        }
    }

    fn limits() -> HardLimits {
        HardLimits::new(LimitsConfig {
            max_order_notional: 1_000.0,
            max_position: 5.0,
            price_band_pct: 2.0,
            max_orders_per_second: 2,
            kill_switch: false,
        })
    }

    #[test]
    fn each_limit_rejects_with_its_name() {
        let mut l = limits();
        let q = quote();
        let err = |r: Result<(), String>| r.unwrap_err();
        assert!(err(l.check(&buy(20.0, None), Some(&q), 0.0, 0)).contains("max_order_notional"));
        assert!(err(l.check(&buy(1.0, None), Some(&q), 4.5, 0)).contains("max_position"));
        assert!(err(l.check(&buy(1.0, Some(90.0)), Some(&q), 0.0, 0)).contains("price_band_pct"));
        assert!(err(l.check(&buy(1.0, None), None, 0.0, 0)).contains("no market price"));
        assert!(err(l.check(&buy(f64::NAN, None), Some(&q), 0.0, 0)).contains("not a positive"));
    }

    #[test]
    fn order_rate_is_a_sliding_second_of_event_time() {
        let mut l = limits();
        let q = quote();
        assert!(l.check(&buy(1.0, None), Some(&q), 0.0, 0).is_ok());
        assert!(l.check(&buy(1.0, None), Some(&q), 0.0, 500_000_000).is_ok());
        assert!(
            l.check(&buy(1.0, None), Some(&q), 0.0, 900_000_000)
                .unwrap_err()
                .contains("order rate")
        );
        assert!(
            l.check(&buy(1.0, None), Some(&q), 0.0, 1_000_000_000)
                .is_ok()
        );
    }

    #[test]
    fn kill_switch_refuses_everything() {
        let mut l = HardLimits::new(LimitsConfig {
            kill_switch: true,
            ..LimitsConfig::default()
        });
        assert!(
            l.check(&buy(0.1, None), Some(&quote()), 0.0, 0)
                .unwrap_err()
                .contains("kill switch")
        );
    }
}
