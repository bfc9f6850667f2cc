//! The trading state (ACTIVE, REDUCING, HALTED), the host's hard limits and
//! its protective stops, through a node: what each refuses, with which
//! reason code, and where the refusal is recorded; when a stop fires and
//! for how much.

use floor_host::config::NodeConfig;
use floor_host::model::{
    MarketEvent, OrderIntent, OrderStatus, OrderType, Payload, Quote, ReasonCode, Side,
    TimeInForce, TopicPattern,
};
use floor_host::node::Node;
use floor_host::risk::TradingMode;

struct Desk {
    node: Node,
    _data: tempfile::TempDir,
}

/// A node trading BTCUSDT around 20,000 with a strategy `desk` and a
/// required risk agent `gate` (the hostile fixture's `approver`: it approves
/// everything and goes down on an intent tagged `attack`), with `[limits]`
/// set by `limits` (TOML lines).
fn desk(limits: &str) -> Desk {
    let data = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
{header}
[account]
balances = {{ USDT = 1000000.0 }}

[limits]
{limits}

{desk}

[[agents]]
name = "gate"
path = "{hostile}"
role = "risk"
limits = {{ deadline_ms = 2000 }}
config = {{ mode = "approver" }}
"#,
        header = floor_tests::node_header(data.path(), 20_000.0),
        desk = floor_tests::desk_agent(),
        hostile = floor_tests::fixture("hostile").display(),
    );
    let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
    let venue = floor_tests::test_venue(&cfg);
    let mut node = Node::new(&cfg, Box::new(venue)).unwrap();
    node.tap(TopicPattern::parse("order.#").unwrap());
    node.tap(TopicPattern::parse("risk.trading.#").unwrap());
    let mut d = Desk { node, _data: data };
    d.quote(19_999.0, 20_001.0, 1_000_000);
    d
}

impl Desk {
    fn quote(&mut self, bid: f64, ask: f64, at: u64) {
        self.node.inject(
            MarketEvent::Quote(Quote {
                symbol: "BTCUSDT".into(),
                bid,
                bid_size: 10.0,
                ask,
                ask_size: 10.0,
            }),
            at,
        );
    }

    fn send(&mut self, intent: OrderIntent) -> OrderStatus {
        self.node.submit("desk", intent).unwrap();
        self.last_status()
    }

    fn last_status(&self) -> OrderStatus {
        self.node
            .tapped()
            .iter()
            .rev()
            .find_map(|e| match &e.payload {
                Payload::OrderEvent(ev) => Some(ev.status.clone()),
                _ => None,
            })
            .expect("an order event")
    }

    fn position(&self) -> f64 {
        self.node.oms().portfolio.position("BTCUSDT").quantity
    }

    /// The reason code of the newest dead letter, with its envelope topic.
    fn last_letter(&self) -> (ReasonCode, String, String) {
        let l = self.node.dlq().recent().last().expect("a dead letter");
        (l.reason, l.envelope.topic.to_string(), l.detail.clone())
    }
}

fn market(side: Side, quantity: f64, tag: &str) -> OrderIntent {
    OrderIntent {
        symbol: "BTCUSDT".into(),
        side,
        order_type: OrderType::Market,
        quantity,
        limit_price: None,
        time_in_force: TimeInForce::Ioc,
        tag: tag.into(),
        stop_price: None,
    }
}

fn limit(side: Side, quantity: f64, price: f64) -> OrderIntent {
    OrderIntent {
        order_type: OrderType::Limit,
        limit_price: Some(price),
        time_in_force: TimeInForce::Gtc,
        ..market(side, quantity, "rest")
    }
}

fn rejected_with(status: &OrderStatus, code: &str) -> bool {
    matches!(status, OrderStatus::Rejected { reason } if reason.contains(&format!(": {code}: ")))
}

#[test]
fn halted_refuses_the_very_next_order_and_resume_lets_orders_through() {
    let mut d = desk("");
    assert_eq!(d.send(market(Side::Buy, 0.1, "t")), OrderStatus::Filled);
    d.node.set_trading(TradingMode::Halted, "operator", "lunch");
    let s = d.send(market(Side::Sell, 0.1, "t"));
    assert!(rejected_with(&s, "trading_halted"), "{s:?}");
    let (code, topic, detail) = d.last_letter();
    assert_eq!(
        (code, topic.as_str()),
        (ReasonCode::TradingHalted, "order.refused.BTCUSDT")
    );
    assert!(
        detail.contains("by operator: lunch") && detail.contains("floor resume"),
        "{detail}"
    );
    assert_eq!(d.position(), 0.1, "nothing went out while halted");
    d.node.set_trading(TradingMode::Active, "operator", "back");
    assert_eq!(d.send(market(Side::Sell, 0.1, "t")), OrderStatus::Filled);
    assert_eq!(d.position(), 0.0);
    let changes: Vec<&str> = d
        .node
        .tapped()
        .iter()
        .filter(|e| e.topic.starts_with("risk.trading."))
        .map(|e| e.topic.as_str())
        .collect();
    assert_eq!(changes, ["risk.trading.halted", "risk.trading.active"]);
}

#[test]
fn halting_cancels_every_open_order() {
    let mut d = desk("");
    assert_eq!(
        d.send(limit(Side::Buy, 0.2, 19_500.0)),
        OrderStatus::Accepted
    );
    assert_eq!(
        d.send(limit(Side::Sell, 0.2, 20_500.0)),
        OrderStatus::Accepted
    );
    assert_eq!(d.node.oms().open_orders().count(), 2);
    d.node
        .set_trading(TradingMode::Halted, "operator", "venue incident");
    assert_eq!(d.node.oms().open_orders().count(), 0);
    let cancelled = d
        .node
        .tapped()
        .iter()
        .filter(|e| e.topic == "order.cancelled.BTCUSDT")
        .count();
    assert_eq!(cancelled, 2);
}

#[test]
fn reducing_lets_a_position_shrink_but_not_grow_or_flip() {
    let mut d = desk("");
    assert_eq!(d.send(market(Side::Buy, 0.5, "t")), OrderStatus::Filled);
    d.node
        .set_trading(TradingMode::Reducing, "operator", "end of day");
    for intent in [market(Side::Buy, 0.1, "t"), market(Side::Sell, 0.6, "t")] {
        let s = d.send(intent);
        assert!(rejected_with(&s, "reduce_only"), "{s:?}");
    }
    assert_eq!(d.send(market(Side::Sell, 0.3, "t")), OrderStatus::Filled);
    assert!((d.position() - 0.2).abs() < 1e-9);
}

#[test]
fn a_required_risk_agent_going_down_halts_trading_until_an_operator_resumes() {
    let mut d = desk("");
    let s = d.send(market(Side::Buy, 0.1, "attack"));
    let OrderStatus::Rejected { reason } = &s else {
        panic!("expected a rejection, got {s:?}");
    };
    assert!(
        reason.starts_with("risk agent `gate`: risk_unavailable: faulted (trap)"),
        "{reason}"
    );
    assert_eq!(d.node.trading().mode(), TradingMode::Halted);
    let change = d.node.trading().last_change().unwrap();
    assert_eq!(change.by, "host");
    assert!(
        change
            .reason
            .contains("required risk agent `gate` is unavailable"),
        "{change:?}"
    );
    assert_eq!(d.node.status()["agents"][1]["state"], "restarting");
    // After its restart backoff (1 s of event time) the agent is back, but
    // the host does not trust itself back into trading.
    d.quote(19_999.0, 20_001.0, 1_001_000_000);
    assert_eq!(d.node.status()["agents"][1]["state"], "running");
    let s = d.send(market(Side::Buy, 0.1, "t"));
    assert!(rejected_with(&s, "trading_halted"), "{s:?}");
    d.node
        .set_trading(TradingMode::Active, "operator", "gate checked");
    assert_eq!(d.send(market(Side::Buy, 0.1, "t")), OrderStatus::Filled);
    let summary = d.node.summary(0.0);
    assert_eq!(
        summary.reject_reasons["risk agent `gate`: risk_unavailable"],
        1
    );
    assert_eq!(summary.reject_reasons["host: trading_halted"], 1);
    assert_eq!(summary.trading, TradingMode::Active);
}

#[test]
fn each_hard_limit_refuses_what_it_must_and_files_it() {
    let mut d = desk(
        "max_order_notional = 50000.0\nmax_position = 2.0\nmax_gross_exposure = 30000.0\nprice_band_pct = 1.0\nmax_orders_per_second = 100\nmax_orders_per_second_per_agent = 100",
    );
    let cases = [
        (market(Side::Buy, 3.0, "t"), "limit_order_notional"), // 60,000
        (limit(Side::Buy, 0.1, 19_000.0), "limit_price_band"), // 5% off
        (market(Side::Buy, 1.6, "t"), "limit_gross_exposure"), // 32,000
        (market(Side::Buy, f64::NAN, "t"), "invalid_quantity"),
    ];
    for (intent, code) in cases {
        let s = d.send(intent);
        assert!(rejected_with(&s, code), "{code}: {s:?}");
        assert_eq!(d.last_letter().0.as_str(), code);
    }
    assert_eq!(d.send(market(Side::Buy, 1.4, "t")), OrderStatus::Filled);
    // 1.4 + 0.7 = 2.1 BTC > 2 — the position limit.
    let s = d.send(market(Side::Buy, 0.7, "t"));
    assert!(rejected_with(&s, "limit_position"), "{s:?}");
    let summary = d.node.summary(0.0);
    assert_eq!(summary.reject_reasons["host: limit_order_notional"], 1);
    assert_eq!(summary.dlq_by_reason["limit_price_band"], 1);
    assert_eq!(
        summary.orders, 1,
        "only the one order within every limit went out"
    );
}

#[test]
fn the_per_agent_order_rate_counts_in_event_time() {
    let mut d = desk("max_orders_per_second_per_agent = 2");
    assert_eq!(d.send(market(Side::Buy, 0.01, "t")), OrderStatus::Filled);
    assert_eq!(d.send(market(Side::Buy, 0.01, "t")), OrderStatus::Filled);
    let s = d.send(market(Side::Buy, 0.01, "t"));
    assert!(rejected_with(&s, "limit_agent_order_rate"), "{s:?}");
    d.quote(19_999.0, 20_001.0, 1_100_000_000);
    assert_eq!(d.send(market(Side::Buy, 0.01, "t")), OrderStatus::Filled);
}

#[test]
fn a_daily_loss_breach_switches_to_reducing() {
    let mut d = desk("max_daily_loss = 500.0");
    assert_eq!(d.send(market(Side::Buy, 1.0, "t")), OrderStatus::Filled);
    // The market falls 1,000: a loss of about 1,000 on the long.
    d.quote(18_999.0, 19_001.0, 2_000_000);
    let s = d.send(market(Side::Buy, 0.1, "t"));
    assert!(rejected_with(&s, "limit_daily_loss"), "{s:?}");
    assert_eq!(d.node.trading().mode(), TradingMode::Reducing);
    assert!(
        d.node
            .trading()
            .last_change()
            .unwrap()
            .reason
            .contains("max_daily_loss = 500")
    );
    assert_eq!(
        d.send(market(Side::Sell, 1.0, "t")),
        OrderStatus::Filled,
        "getting out is allowed"
    );
    let summary = d.node.summary(0.0);
    assert!(summary.equity.max_drawdown > 0.0009, "{:?}", summary.equity);
}

fn with_stop(intent: OrderIntent, stop: f64) -> OrderIntent {
    OrderIntent {
        stop_price: Some(stop),
        ..intent
    }
}

impl Desk {
    /// (order id, tag, side, status, filled quantity) of each final order event.
    fn done_orders(&self) -> Vec<(String, String, Side, &'static str, f64)> {
        self.node
            .tapped()
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::OrderEvent(o) if o.leaves_quantity == 0.0 => Some((
                    o.order_id.to_string(),
                    o.tag.to_string(),
                    o.side,
                    o.status.name(),
                    o.cumulative_quantity,
                )),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_protective_stop_closes_a_long_when_the_bid_reaches_it_even_while_halted() {
    let mut d = desk("");
    let entry = with_stop(market(Side::Buy, 0.4, "entry"), 19_000.0);
    assert_eq!(d.send(entry), OrderStatus::Filled);
    let stops = d.node.summary(0.0).stops;
    assert_eq!(stops.len(), 1);
    assert_eq!(
        (stops[0].origin.as_str(), stops[0].exit, stops[0].quantity),
        ("desk-1", Side::Sell, 0.4)
    );
    d.quote(19_001.0, 19_003.0, 2_000_000);
    assert_eq!(d.position(), 0.4, "above the stop: nothing happens");
    // Halted refuses new risk, never the way out.
    d.node
        .set_trading(TradingMode::Halted, "operator", "incident");
    d.quote(18_990.0, 18_992.0, 3_000_000);
    assert_eq!(d.position(), 0.0);
    let last = d.done_orders().pop().unwrap();
    assert_eq!(
        last,
        (
            "desk-2".into(),
            "stop:desk-1".into(),
            Side::Sell,
            "filled",
            0.4
        )
    );
    let summary = d.node.summary(0.0);
    assert_eq!((summary.stops_triggered, summary.stops.len()), (1, 0));
    // It fired once: the next quote below sends nothing.
    d.quote(18_900.0, 18_902.0, 4_000_000);
    assert_eq!(d.node.summary(0.0).orders, 2);
}

#[test]
fn a_short_stop_sits_above_and_buys_back_when_the_ask_reaches_it() {
    let mut d = desk("");
    let entry = with_stop(market(Side::Sell, 0.3, "entry"), 21_000.0);
    assert_eq!(d.send(entry), OrderStatus::Filled);
    d.quote(18_000.0, 18_002.0, 2_000_000);
    assert_eq!(d.position(), -0.3, "a falling market is the short's friend");
    d.quote(20_998.0, 21_000.0, 3_000_000);
    assert_eq!(d.position(), 0.0);
    let last = d.done_orders().pop().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2, last.4),
        ("stop:desk-1", Side::Buy, 0.3)
    );
}

#[test]
fn a_stop_shrinks_with_the_position_and_goes_when_its_order_is_cancelled() {
    let mut d = desk("");
    assert_eq!(
        d.send(with_stop(market(Side::Buy, 0.5, "a"), 19_000.0)),
        OrderStatus::Filled
    );
    assert_eq!(
        d.send(with_stop(market(Side::Buy, 0.5, "b"), 19_500.0)),
        OrderStatus::Filled
    );
    // The strategy takes 0.7 off itself: the newest stop (19,500) shrinks
    // to nothing, the oldest keeps covering what is left.
    assert_eq!(d.send(market(Side::Sell, 0.7, "out")), OrderStatus::Filled);
    let stops = d.node.summary(0.0).stops;
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].origin, "desk-1");
    assert!((stops[0].quantity - 0.3).abs() < 1e-12);
    // Cancelling the filled order cancels its stop; nothing fires later.
    d.node.cancel_order("desk", "desk-1").unwrap();
    assert!(d.node.summary(0.0).stops.is_empty());
    d.quote(18_000.0, 18_002.0, 2_000_000);
    assert!((d.position() - 0.3).abs() < 1e-12);
    assert_eq!(d.node.summary(0.0).stops_triggered, 0);
}

#[test]
fn a_stop_does_not_sell_what_a_working_exit_already_sells() {
    let mut d = desk("");
    assert_eq!(
        d.send(with_stop(market(Side::Buy, 0.5, "in"), 19_000.0)),
        OrderStatus::Filled
    );
    // A take-profit for 0.4 rests at 20,900.
    assert_eq!(
        d.send(limit(Side::Sell, 0.4, 20_900.0)),
        OrderStatus::Accepted
    );
    d.quote(18_990.0, 18_992.0, 2_000_000);
    // The stop sells only the 0.1 the resting order does not cover.
    let last = d.done_orders().pop().unwrap();
    assert_eq!(last.1, "stop:desk-1");
    assert!((last.4 - 0.1).abs() < 1e-12, "{}", last.4);
    assert!((d.position() - 0.4).abs() < 1e-12);
}

#[test]
fn a_replace_cancels_then_sends_what_is_wanted_at_the_new_price() {
    let mut d = desk("");
    assert_eq!(
        d.send(limit(Side::Buy, 0.3, 19_500.0)),
        OrderStatus::Accepted
    );
    d.node
        .replace_order("desk", "desk-1", 0.5, Some(19_600.0))
        .unwrap();
    let events: Vec<(String, &str)> = d
        .node
        .tapped()
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::OrderEvent(o) => Some((o.order_id.to_string(), o.status.name())),
            _ => None,
        })
        .collect();
    assert_eq!(
        events[1..],
        [
            ("desk-1".to_string(), "cancelled"),
            ("desk-2".to_string(), "accepted")
        ]
    );
    let open: Vec<_> = d.node.oms().open_orders().collect();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (
            open[0].id.as_str(),
            open[0].intent.quantity,
            open[0].intent.limit_price
        ),
        ("desk-2", 0.5, Some(19_600.0))
    );
    assert_eq!(open[0].intent.tag, "rest", "the same tag");
}

#[test]
fn a_replacement_passes_the_limits_again_and_only_the_owner_may_replace() {
    let mut d = desk("");
    assert_eq!(
        d.send(limit(Side::Buy, 0.3, 19_500.0)),
        OrderStatus::Accepted
    );
    // A fat-finger price: the old order is gone, the new one refused.
    d.node
        .replace_order("desk", "desk-1", 0.3, Some(25_000.0))
        .unwrap();
    assert!(
        rejected_with(&d.last_status(), "limit_price_band"),
        "{:?}",
        d.last_status()
    );
    assert_eq!(d.node.oms().open_orders().count(), 0);
    // The risk agent may not touch the desk's orders; nothing changes.
    assert_eq!(
        d.send(limit(Side::Buy, 0.3, 19_500.0)),
        OrderStatus::Accepted
    );
    d.node.replace_order("gate", "desk-3", 1.0, None).unwrap();
    let (code, _, detail) = d.last_letter();
    assert_eq!(code, ReasonCode::OrderDenied);
    assert_eq!(
        detail,
        "agent `gate` tried to replace order `desk-3`, which is not one of its orders"
    );
    let open: Vec<_> = d.node.oms().open_orders().map(|o| o.id.clone()).collect();
    assert_eq!(open, ["desk-3"]);
    // A replace asking for nothing is refused before anything is cancelled.
    d.node.replace_order("desk", "desk-3", 0.0, None).unwrap();
    assert_eq!(d.last_letter().0, ReasonCode::InvalidQuantity);
    assert_eq!(d.node.oms().open_orders().count(), 1);
}

#[test]
fn orders_fills_refusals_and_trading_changes_are_in_the_store() {
    let mut d = desk("max_order_notional = 50000.0");
    assert_eq!(d.send(market(Side::Buy, 0.5, "in")), OrderStatus::Filled);
    assert_eq!(
        d.send(limit(Side::Buy, 0.2, 19_500.0)),
        OrderStatus::Accepted
    );
    d.node.cancel_order("desk", "desk-2").unwrap();
    let s = d.send(market(Side::Buy, 3.0, "big"));
    assert!(rejected_with(&s, "limit_order_notional"), "{s:?}");
    d.node
        .set_trading(TradingMode::Halted, "alice", "end of the test");
    d.node.store().flush();
    assert_eq!(d.node.store().errors(), 0);

    let db = rusqlite::Connection::open(d._data.path().join("floor.db")).unwrap();
    let orders: Vec<(String, String, String, f64)> = db
        .prepare("SELECT order_id, tag, status, filled FROM orders ORDER BY created_ns, order_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let want = |id: &str, tag: &str, status: &str, filled: f64| {
        (id.to_string(), tag.to_string(), status.to_string(), filled)
    };
    assert_eq!(
        orders,
        [
            want("desk-1", "in", "filled", 0.5),
            want("desk-2", "rest", "cancelled", 0.0),
            want("desk-3", "big", "rejected", 0.0),
        ]
    );
    let (qty, price): (f64, f64) = db
        .query_row("SELECT quantity, price FROM fills", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((qty, price), (0.5, 20_001.0));
    let why: String = db
        .query_row(
            "SELECT reason FROM orders WHERE order_id = 'desk-3'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(why.contains("limit_order_notional"), "{why}");
    let letter: (String, String) = db
        .query_row("SELECT agent, reason FROM dead_letters", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        letter,
        ("desk".to_string(), "limit_order_notional".to_string())
    );
    let (actor, action, detail): (String, String, String) = db
        .query_row(
            "SELECT actor, action, detail FROM audit WHERE action = 'risk.trading.halted'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (actor.as_str(), action.as_str()),
        ("alice", "risk.trading.halted")
    );
    assert!(detail.contains("end of the test"), "{detail}");
}
