//! Compliance shadow: a read-only tap on all order flow that keeps an
//! audit trail and raises an alert on every policy breach.
//!
//! Run it as an `observer` subscribed to `order.#`: it sees every order
//! event of every agent on the host, may publish nothing (the host refuses
//! an observer's publications) and cannot trade; it can only log and
//! alert. Each order event becomes one audit line in the host's log
//! (`audit: <agent> <order id> <status> <side> <symbol> …`). Policies:
//!
//! - a fill whose notional is over `max_fill_notional`;
//! - an agent with more than `max_orders_per_minute` new orders in a
//!   minute of event time;
//! - an agent whose refused orders are over `max_reject_pct` percent of its
//!   last `reject_window` orders (a strategy hammering the risk stage);
//! - any order on a symbol in `restricted` (comma-separated);
//! - a buy fill and a sell fill of one symbol within `wash_window_ms` —
//!   the host trading with itself (possible wash trade).
//!
//! Config: `max_fill_notional` (100000), `max_orders_per_minute` (60),
//! `max_reject_pct` (50), `reject_window` (20), `restricted` (none),
//! `wash_window_ms` (1000).

use std::collections::{BTreeMap, VecDeque};

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

const MINUTE_NS: u64 = 60_000_000_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Rules {
    max_fill_notional: f64,
    max_orders_per_minute: usize,
    max_reject_pct: f64,
    reject_window: usize,
    restricted: Vec<String>,
    wash_window_ns: u64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            max_fill_notional: 100_000.0,
            max_orders_per_minute: 60,
            max_reject_pct: 50.0,
            reject_window: 20,
            restricted: Vec::new(),
            wash_window_ns: 1_000_000_000,
        }
    }
}

/// What the shadow remembers per agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Desk {
    /// Event times of its recent new orders.
    orders: VecDeque<u64>,
    /// Its last orders' outcomes: true when refused.
    outcomes: VecDeque<bool>,
    /// Whether the rate alert is raised (raised once per breach).
    over_rate: bool,
    over_rejects: bool,
}

/// The policies, apart from the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Policy {
    rules: Rules,
    desks: BTreeMap<String, Desk>,
    /// Per symbol: the last buy fill's and the last sell fill's event time.
    fills: BTreeMap<String, (Option<u64>, Option<u64>)>,
}

impl Policy {
    /// One order event at event time `at`; the breaches it shows.
    fn on_event(&mut self, e: &OrderEvent, at: u64) -> Vec<String> {
        let r = &self.rules;
        let mut breaches = Vec::new();
        let desk = self.desks.entry(e.agent.clone()).or_default();
        let new = matches!(e.status, OrderStatus::Accepted | OrderStatus::Rejected(_))
            && e.cumulative_quantity == 0.0;
        if r.restricted.iter().any(|s| s == &e.symbol) && new {
            breaches.push(format!(
                "`{}` ordered restricted symbol {} (order {})",
                e.agent, e.symbol, e.order_id
            ));
        }
        if new {
            desk.orders.push_back(at);
            while desk.orders.front().is_some_and(|t| at - t >= MINUTE_NS) {
                desk.orders.pop_front();
            }
            let over = desk.orders.len() > r.max_orders_per_minute;
            if over && !desk.over_rate {
                breaches.push(format!(
                    "`{}` sent {} orders within a minute (policy: {})",
                    e.agent,
                    desk.orders.len(),
                    r.max_orders_per_minute
                ));
            }
            desk.over_rate = over;
            desk.outcomes
                .push_back(matches!(e.status, OrderStatus::Rejected(_)));
            if desk.outcomes.len() > r.reject_window {
                desk.outcomes.pop_front();
            }
            let refused = desk.outcomes.iter().filter(|x| **x).count();
            let pct = refused as f64 * 100.0 / desk.outcomes.len() as f64;
            let over = desk.outcomes.len() == r.reject_window && pct > r.max_reject_pct;
            if over && !desk.over_rejects {
                breaches.push(format!(
                    "`{}` had {refused} of its last {} orders refused ({pct:.0}%, policy: {}%)",
                    e.agent, r.reject_window, r.max_reject_pct
                ));
            }
            desk.over_rejects = over;
        }
        if e.last_quantity > 0.0 {
            let notional = e.last_quantity * e.last_price;
            if notional > r.max_fill_notional {
                breaches.push(format!(
                    "`{}` filled {:.2} notional in one fill of order {} (policy: {:.2})",
                    e.agent, notional, e.order_id, r.max_fill_notional
                ));
            }
            let (buy, sell) = self.fills.entry(e.symbol.clone()).or_default();
            let (mine, other) = match e.side {
                Side::Buy => (buy, *sell),
                Side::Sell => (sell, *buy),
            };
            *mine = Some(at);
            if other.is_some_and(|t| at - t < r.wash_window_ns) {
                breaches.push(format!(
                    "{} bought and sold within {} ms (order {} of `{}`): possible wash trade",
                    e.symbol,
                    r.wash_window_ns / 1_000_000,
                    e.order_id,
                    e.agent
                ));
            }
        }
        breaches
    }
}

/// One audit line.
fn audit(e: &OrderEvent) -> String {
    let status = match &e.status {
        OrderStatus::Accepted => "accepted".to_string(),
        OrderStatus::PartiallyFilled => "partially_filled".to_string(),
        OrderStatus::Filled => "filled".to_string(),
        OrderStatus::Cancelled => "cancelled".to_string(),
        OrderStatus::Rejected(why) => format!("rejected ({why})"),
        OrderStatus::Expired => "expired".to_string(),
    };
    format!(
        "audit: {} {} {status} {:?} {} last {}@{} cum {} leaves {} fee {}",
        e.agent,
        e.order_id,
        e.side,
        e.symbol,
        e.last_quantity,
        e.last_price,
        e.cumulative_quantity,
        e.leaves_quantity,
        e.fee
    )
}

#[derive(Default, Serialize, Deserialize)]
struct Shadow {
    policy: Policy,
}

impl Agent for Shadow {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let d = Rules::default();
        let rules = Rules {
            max_fill_notional: config.parse_or("max_fill_notional", d.max_fill_notional)?,
            max_orders_per_minute: config
                .parse_or("max_orders_per_minute", d.max_orders_per_minute)?,
            max_reject_pct: config.parse_or("max_reject_pct", d.max_reject_pct)?,
            reject_window: config.parse_or("reject_window", d.reject_window)?,
            restricted: config.list("restricted"),
            wash_window_ns: config.parse_or::<u64>("wash_window_ms", 1_000)? * 1_000_000,
        };
        if rules.reject_window == 0 {
            return Err(error("bad_config", "reject_window must be at least 1"));
        }
        self.policy.rules = rules;
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        if let Payload::OrderEvent(e) = &msg.payload {
            host::info(&audit(e));
            for breach in self.policy.on_event(e, msg.event_time) {
                out.alert(format!("compliance: {breach}"));
            }
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(Shadow);

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn event(agent: &str, side: Side, status: OrderStatus, fill: f64) -> OrderEvent {
        OrderEvent {
            order_id: "o".into(),
            agent: agent.into(),
            tag: String::new(),
            symbol: "BTCUSDT".into(),
            side,
            status,
            last_quantity: fill,
            last_price: if fill > 0.0 { 20_000.0 } else { 0.0 },
            cumulative_quantity: fill,
            leaves_quantity: 0.0,
            fee: 0.0,
        }
    }

    fn policy(rules: Rules) -> Policy {
        Policy {
            rules,
            ..Policy::default()
        }
    }

    #[test]
    fn a_burst_of_orders_is_flagged_once_and_again_after_it_calmed() {
        let mut p = policy(Rules {
            max_orders_per_minute: 2,
            ..Rules::default()
        });
        let new = event("a", Side::Buy, OrderStatus::Accepted, 0.0);
        assert!(p.on_event(&new, 0).is_empty());
        assert!(p.on_event(&new, MS).is_empty());
        assert_eq!(
            p.on_event(&new, 2 * MS),
            ["`a` sent 3 orders within a minute (policy: 2)"]
        );
        assert!(p.on_event(&new, 3 * MS).is_empty(), "flagged once");
        assert!(p.on_event(&new, 200 * 1000 * MS).is_empty(), "calm again");
        assert!(p.on_event(&new, 201 * 1000 * MS).is_empty());
        assert_eq!(p.on_event(&new, 202 * 1000 * MS).len(), 1);
    }

    #[test]
    fn big_fills_refusals_restricted_symbols_and_wash_trades_are_breaches() {
        let mut p = policy(Rules {
            max_fill_notional: 10_000.0,
            reject_window: 2,
            restricted: vec!["BTCUSDT".into()],
            ..Rules::default()
        });
        let refused = event("a", Side::Buy, OrderStatus::Rejected("x".into()), 0.0);
        assert_eq!(
            p.on_event(&refused, 0),
            ["`a` ordered restricted symbol BTCUSDT (order o)"]
        );
        assert_eq!(
            p.on_event(&refused, MS)[1],
            "`a` had 2 of its last 2 orders refused (100%, policy: 50%)"
        );
        let mut p = policy(Rules {
            max_fill_notional: 10_000.0,
            ..Rules::default()
        });
        assert_eq!(
            p.on_event(&event("a", Side::Buy, OrderStatus::Filled, 1.0), 0),
            ["`a` filled 20000.00 notional in one fill of order o (policy: 10000.00)"]
        );
        assert_eq!(
            p.on_event(&event("b", Side::Sell, OrderStatus::Filled, 0.1), 500 * MS),
            ["BTCUSDT bought and sold within 1000 ms (order o of `b`): possible wash trade"]
        );
        assert!(
            p.on_event(&event("b", Side::Sell, OrderStatus::Filled, 0.1), 1600 * MS)
                .is_empty(),
            "the buy is 1.6 s old"
        );
    }
}
