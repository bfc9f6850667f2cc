//! The host's hard limits.
//!
//! Every order intent passes here after the risk agents have approved it and
//! immediately before it is sent to the venue. The threat is any agent —
//! strategy or risk — that is wrong, compromised or simply buggy: an agent
//! can make an order smaller or refuse it, but nothing an agent returns can
//! get an order past these checks. They are deliberately simple — the only
//! state is the order-rate windows and the start-of-day PnL — so they are
//! easy to audit.
//!
//! A breach refuses the order with a [`Refusal`] whose code names the limit
//! and whose detail names the value and the setting to change.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::Refusal;
use super::trading::reduces;
use crate::model::{Nanos, OrderIntent, Quote, ReasonCode, Side};

const SECOND: Nanos = 1_000_000_000;
const DAY: Nanos = 86_400 * SECOND;

/// Settings, from `[limits]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest notional of one order, quote asset.
    pub max_order_notional: f64,
    /// Largest absolute position per symbol, base units.
    pub max_position: f64,
    /// Largest sum over symbols of |position| × mark, quote asset.
    pub max_gross_exposure: f64,
    /// How far a limit price may be from the mid, percent.
    pub price_band_pct: f64,
    /// Orders per second of event time, whole host.
    pub max_orders_per_second: u32,
    /// Orders per second of event time, per agent.
    pub max_orders_per_second_per_agent: u32,
    /// Largest loss since the start of the (UTC, event-time) day, quote
    /// asset; past it only reducing orders go out and trading switches to
    /// REDUCING. Unset: no daily limit.
    pub max_daily_loss: Option<f64>,
    /// When true, every order is refused.
    pub kill_switch: bool,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_order_notional: 100_000.0,
            max_position: 10.0,
            max_gross_exposure: 1_000_000.0,
            price_band_pct: 5.0,
            max_orders_per_second: 50,
            max_orders_per_second_per_agent: 20,
            max_daily_loss: None,
            kill_switch: false,
        }
    }
}

/// What the limits need to know about the book when an order is checked.
#[derive(Debug, Clone, Copy)]
pub struct BookView<'a> {
    /// The symbol's latest quote.
    pub quote: Option<&'a Quote>,
    /// Signed position in the symbol.
    pub position: f64,
    /// Sum over symbols of |position| × mark, before this order.
    pub gross_exposure: f64,
    /// Total PnL (realised + unrealised, after fees).
    pub pnl: f64,
}

/// Event times within the last second.
#[derive(Debug, Default)]
struct Window(VecDeque<Nanos>);

impl Window {
    /// Orders in the second up to `now`.
    fn count(&mut self, now: Nanos) -> usize {
        while self
            .0
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= SECOND)
        {
            self.0.pop_front();
        }
        self.0.len()
    }
}

/// The checker, with its order-rate windows and start-of-day PnL.
#[derive(Debug)]
pub struct HardLimits {
    cfg: LimitsConfig,
    recent: Window,
    by_agent: HashMap<String, Window>,
    /// (day number, PnL at its first look).
    day: Option<(u64, f64)>,
}

impl HardLimits {
    /// Limits from settings.
    pub fn new(cfg: LimitsConfig) -> Self {
        Self {
            cfg,
            recent: Window::default(),
            by_agent: HashMap::new(),
            day: None,
        }
    }

    /// The start-of-day baseline (day number, PnL then), for a snapshot:
    /// a restart the same day must not forget the day's losses.
    pub fn day(&self) -> Option<(u64, f64)> {
        self.day
    }

    /// The order-rate windows: the event times of the orders counted in
    /// the last second, in all and per agent (sorted by agent).
    pub fn rates(&self) -> (Vec<Nanos>, std::collections::BTreeMap<String, Vec<Nanos>>) {
        (
            self.recent.0.iter().copied().collect(),
            self.by_agent
                .iter()
                .filter(|(_, w)| !w.0.is_empty())
                .map(|(k, w)| (k.clone(), w.0.iter().copied().collect()))
                .collect(),
        )
    }

    /// Put back windows from [`HardLimits::rates`].
    pub fn set_rates(
        &mut self,
        recent: &[Nanos],
        by_agent: &std::collections::BTreeMap<String, Vec<Nanos>>,
    ) {
        self.recent = Window(recent.iter().copied().collect());
        self.by_agent = by_agent
            .iter()
            .map(|(k, v)| (k.clone(), Window(v.iter().copied().collect())))
            .collect();
    }

    /// Put back a baseline from [`HardLimits::day`].
    pub fn set_day(&mut self, day: Option<(u64, f64)>) {
        self.day = day;
    }

    /// Settings in force.
    pub fn config(&self) -> &LimitsConfig {
        &self.cfg
    }

    /// Loss since the start of the event-time day (positive = a loss); the
    /// first look in a day sets its baseline.
    pub fn daily_loss(&mut self, pnl: f64, now: Nanos) -> f64 {
        let today = now / DAY;
        match self.day {
            Some((d, start)) if d == today => start - pnl,
            _ => {
                self.day = Some((today, pnl));
                0.0
            }
        }
    }

    /// The breach message when today's loss is past `limits.max_daily_loss`.
    pub fn daily_loss_breach(&mut self, pnl: f64, now: Nanos) -> Option<String> {
        let max = self.cfg.max_daily_loss?;
        let loss = self.daily_loss(pnl, now);
        (loss >= max)
            .then(|| format!("today's loss {loss:.2} is at or over limits.max_daily_loss = {max}"))
    }

    /// Check an intent by `agent` at event time `now`; on success the order
    /// counts towards the rate windows.
    ///
    /// # Errors
    /// The refusal, with the limit's reason code.
    pub fn check(
        &mut self,
        agent: &str,
        intent: &OrderIntent,
        book: &BookView<'_>,
        now: Nanos,
    ) -> Result<(), Refusal> {
        let c = &self.cfg;
        let refuse = |code, detail: String| Err(Refusal::host(code, detail));
        if c.kill_switch {
            return refuse(
                ReasonCode::KillSwitch,
                "kill switch is on: no orders are sent (set limits.kill_switch = false)".into(),
            );
        }
        if !(intent.quantity.is_finite() && intent.quantity > 0.0) {
            return refuse(
                ReasonCode::InvalidQuantity,
                format!("quantity {} is not a positive number", intent.quantity),
            );
        }
        let Some(q) = book.quote else {
            return refuse(
                ReasonCode::NoPrice,
                format!(
                    "no market price for `{}` yet: the host does not send orders it cannot value",
                    intent.symbol
                ),
            );
        };
        let mid = q.mid();
        if let Some(p) = intent.limit_price {
            let off = ((p - mid) / mid).abs() * 100.0;
            if !p.is_finite() || off > c.price_band_pct {
                return refuse(
                    ReasonCode::LimitPriceBand,
                    format!(
                        "limit {p} is {off:.2}% from the mid {mid:.2}, over limits.price_band_pct = {}",
                        c.price_band_pct
                    ),
                );
            }
        }
        let reference = match intent.side {
            Side::Buy => q.ask,
            Side::Sell => q.bid,
        };
        let notional = intent.notional(reference);
        if notional > c.max_order_notional {
            return refuse(
                ReasonCode::LimitOrderNotional,
                format!(
                    "order notional {notional:.2} is over limits.max_order_notional = {}",
                    c.max_order_notional
                ),
            );
        }
        let reducing = reduces(intent.side, intent.quantity, book.position);
        let after = book.position + intent.side.sign() * intent.quantity;
        if after.abs() > c.max_position + 1e-12 && !reducing {
            return refuse(
                ReasonCode::LimitPosition,
                format!(
                    "position in `{}` would be {after:.6}, over limits.max_position = {}",
                    intent.symbol, c.max_position
                ),
            );
        }
        let gross = book.gross_exposure + (after.abs() - book.position.abs()) * mid;
        if gross > c.max_gross_exposure && !reducing {
            return refuse(
                ReasonCode::LimitGrossExposure,
                format!(
                    "gross exposure would be {gross:.2}, over limits.max_gross_exposure = {}",
                    c.max_gross_exposure
                ),
            );
        }
        if !reducing && let Some(breach) = self.daily_loss_breach(book.pnl, now) {
            return Err(Refusal::host(
                ReasonCode::LimitDailyLoss,
                format!("{breach}: only orders that reduce a position go out until tomorrow (UTC)"),
            ));
        }
        let c = &self.cfg;
        let total = self.recent.count(now);
        if total >= c.max_orders_per_second as usize {
            return refuse(
                ReasonCode::LimitOrderRate,
                format!(
                    "{total} orders in the last second, limits.max_orders_per_second = {}",
                    c.max_orders_per_second
                ),
            );
        }
        let mine = self.by_agent.entry(agent.to_string()).or_default();
        let n = mine.count(now);
        if n >= c.max_orders_per_second_per_agent as usize {
            return refuse(
                ReasonCode::LimitAgentOrderRate,
                format!(
                    "agent `{agent}` sent {n} orders in the last second, limits.max_orders_per_second_per_agent = {}",
                    c.max_orders_per_second_per_agent
                ),
            );
        }
        mine.0.push_back(now);
        self.recent.0.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Name, OrderType, TimeInForce};

    fn quote() -> Quote {
        Quote {
            symbol: "BTCUSDT".into(),
            bid: 99.0,
            bid_size: 1.0,
            ask: 101.0,
            ask_size: 1.0,
        }
    }

    fn order(side: Side, qty: f64, limit: Option<f64>) -> OrderIntent {
        OrderIntent {
            symbol: "BTCUSDT".into(),
            side,
            order_type: if limit.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            quantity: qty,
            limit_price: limit,
            time_in_force: TimeInForce::Gtc,
            tag: Name::default(),
            stop_price: None,
        }
    }

    fn buy(qty: f64, limit: Option<f64>) -> OrderIntent {
        order(Side::Buy, qty, limit)
    }

    fn limits() -> HardLimits {
        HardLimits::new(LimitsConfig {
            max_order_notional: 1_000.0,
            max_position: 5.0,
            max_gross_exposure: 800.0,
            price_band_pct: 2.0,
            max_orders_per_second: 3,
            max_orders_per_second_per_agent: 2,
            max_daily_loss: Some(50.0),
            kill_switch: false,
        })
    }

    fn book(q: &Quote, position: f64) -> BookView<'_> {
        BookView {
            quote: Some(q),
            position,
            gross_exposure: position.abs() * 100.0,
            pnl: 0.0,
        }
    }

    fn code(r: Result<(), Refusal>) -> ReasonCode {
        r.unwrap_err().code
    }

    #[test]
    fn each_limit_refuses_with_its_code_and_setting() {
        let mut l = limits();
        let q = quote();
        let r = l
            .check("a", &buy(20.0, None), &book(&q, 0.0), 0)
            .unwrap_err();
        assert_eq!(r.code, ReasonCode::LimitOrderNotional);
        assert!(r.detail.contains("limits.max_order_notional = 1000"), "{r}");
        assert_eq!(
            code(l.check("a", &buy(1.0, None), &book(&q, 4.5), 0)),
            ReasonCode::LimitPosition
        );
        assert_eq!(
            code(l.check("a", &buy(1.0, Some(90.0)), &book(&q, 0.0), 0)),
            ReasonCode::LimitPriceBand
        );
        let blind = BookView {
            quote: None,
            ..book(&q, 0.0)
        };
        assert_eq!(
            code(l.check("a", &buy(1.0, None), &blind, 0)),
            ReasonCode::NoPrice
        );
        assert_eq!(
            code(l.check("a", &buy(f64::NAN, None), &book(&q, 0.0), 0)),
            ReasonCode::InvalidQuantity
        );
        // 4 BTC held (400) plus 600 elsewhere: one more BTC makes 1,100 > 800.
        let busy = BookView {
            gross_exposure: 1_000.0,
            ..book(&q, 4.0)
        };
        assert_eq!(
            code(l.check("a", &buy(1.0, None), &busy, 0)),
            ReasonCode::LimitGrossExposure
        );
        // Selling from the same book shrinks exposure: allowed.
        assert!(
            l.check("a", &order(Side::Sell, 1.0, None), &busy, 0)
                .is_ok()
        );
    }

    #[test]
    fn reducing_orders_pass_position_and_exposure_limits() {
        let mut l = limits();
        let q = quote();
        // Over the position limit already (a limit lowered mid-session):
        // selling down is allowed, adding is not.
        let over = BookView {
            gross_exposure: 900.0,
            ..book(&q, 9.0)
        };
        assert!(
            l.check("a", &order(Side::Sell, 2.0, None), &over, 0)
                .is_ok()
        );
        assert_eq!(
            code(l.check("a", &buy(0.1, None), &over, 0)),
            ReasonCode::LimitPosition
        );
    }

    #[test]
    fn order_rate_is_a_sliding_second_of_event_time_per_host_and_per_agent() {
        let mut l = limits();
        let q = quote();
        let b = book(&q, 0.0);
        assert!(l.check("a", &buy(1.0, None), &b, 0).is_ok());
        assert!(l.check("a", &buy(1.0, None), &b, 500_000_000).is_ok());
        assert_eq!(
            code(l.check("a", &buy(1.0, None), &b, 900_000_000)),
            ReasonCode::LimitAgentOrderRate
        );
        assert!(
            l.check("b", &buy(1.0, None), &b, 900_000_000).is_ok(),
            "b has its own window"
        );
        assert_eq!(
            code(l.check("c", &buy(1.0, None), &b, 950_000_000)),
            ReasonCode::LimitOrderRate
        );
        assert!(l.check("a", &buy(1.0, None), &b, 1_000_000_000).is_ok());
    }

    #[test]
    fn daily_loss_allows_only_reducing_orders_until_the_next_day() {
        let mut l = limits();
        let q = quote();
        assert_eq!(l.daily_loss(10.0, 1), 0.0, "first look sets the baseline");
        let losing = BookView {
            pnl: -45.0,
            ..book(&q, 2.0)
        };
        assert_eq!(
            code(l.check("a", &buy(0.1, None), &losing, 2)),
            ReasonCode::LimitDailyLoss
        );
        assert!(
            l.check("a", &order(Side::Sell, 1.0, None), &losing, 3)
                .is_ok()
        );
        let tomorrow = DAY + 5;
        assert!(
            l.check("a", &buy(0.1, None), &losing, tomorrow).is_ok(),
            "new day, new baseline"
        );
    }

    #[test]
    fn kill_switch_refuses_everything() {
        let mut l = HardLimits::new(LimitsConfig {
            kill_switch: true,
            ..LimitsConfig::default()
        });
        let q = quote();
        assert_eq!(
            code(l.check("a", &buy(0.1, None), &book(&q, 0.0), 0)),
            ReasonCode::KillSwitch
        );
    }
}
