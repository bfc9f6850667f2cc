//! The reference agents in a node, signed and sandboxed like any other:
//! what each one does with real inputs.

use floor_host::bench::{Pipeline, TickToOrder};
use floor_host::model::{MarketEvent, OrderStatus, Payload, Quote, Side, TopicPattern};
use floor_host::node::Node;

const MS: u64 = 1_000_000;

/// A node running `agents` (TOML) beside the `gate` risk agent, with
/// 1,000,000 USDT, tapping signals and order events.
fn node(agents: &str) -> (Node, tempfile::TempDir) {
    node_with_cash(agents, 1_000_000.0)
}

use floor_tests::trading_node as node_with_cash;

fn quote(node: &mut Node, mid: f64, at: u64) {
    node.inject(
        MarketEvent::Quote(Quote {
            symbol: "BTCUSDT".into(),
            bid: mid - 0.5,
            bid_size: 5.0,
            ask: mid + 0.5,
            ask_size: 5.0,
        }),
        at,
    );
}

use floor_tests::order_events as orders;

/// The scores published on `topic`.
fn scores(node: &Node, topic: &str) -> Vec<f64> {
    node.tapped()
        .iter()
        .filter(|e| e.topic == topic)
        .filter_map(|e| match &e.payload {
            Payload::Signal(s) => Some(s.score),
            _ => None,
        })
        .collect()
}

#[test]
fn momentum_buys_a_rise_and_goes_flat_when_it_fades() {
    let (mut node, _d) = node(&format!(
        r#"
[[agents]]
name = "momentum"
path = "{}"
role = "strategy"
subscribe = ["md.tick.BTCUSDT"]
publish = ["signal.momentum.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", lookback = 3, entry_pct = 1.0, exit_pct = 0.2, quantity = 0.1 }}
"#,
        floor_tests::agent("momentum").display()
    ));
    // Flat for three quotes, then +1.25% over three: long.
    let mids = [20_000.0, 20_000.0, 20_000.0, 20_250.0];
    for (i, mid) in mids.iter().enumerate() {
        quote(&mut node, *mid, (i as u64 + 1) * MS);
    }
    assert_eq!(
        orders(&node),
        [
            (Side::Buy, OrderStatus::Accepted),
            (Side::Buy, OrderStatus::Filled)
        ]
    );
    assert!((node.oms().portfolio.position("BTCUSDT").quantity - 0.1).abs() < 1e-12);
    let s = scores(&node, "signal.momentum.BTCUSDT");
    assert_eq!(s.len(), 1);
    assert!((s[0] - 6.25).abs() < 1e-9, "+1.25% reads 6.25: {s:?}");
    // The move stalls: two more quotes at the top still compare with the
    // old level; the third compares with the top itself (0%): flat.
    for i in 0..2 {
        quote(&mut node, 20_250.0, (10 + i) * MS);
    }
    assert_eq!(orders(&node).len(), 2, "still long");
    quote(&mut node, 20_250.0, 12 * MS);
    assert_eq!(
        orders(&node)[2..],
        [
            (Side::Sell, OrderStatus::Accepted),
            (Side::Sell, OrderStatus::Filled)
        ]
    );
    assert!(node.oms().portfolio.position("BTCUSDT").quantity.abs() < 1e-12);
    assert_eq!(scores(&node, "signal.momentum.BTCUSDT").len(), 2);
}

#[test]
fn book_imbalance_signals_a_lean_and_alerts_on_a_wide_spread() {
    let (mut node, _d) = node(&format!(
        r#"
[[agents]]
name = "scanner"
path = "{}"
role = "model"
subscribe = ["md.tick.*"]
publish = ["signal.imbalance.*"]
config = {{ threshold = 0.5, smoothing = 2, max_spread_bps = 20 }}
"#,
        floor_tests::agent("book-imbalance").display()
    ));
    let lean = |node: &mut Node, bid_size: f64, ask_size: f64, spread: f64, at: u64| {
        node.inject(
            MarketEvent::Quote(Quote {
                symbol: "BTCUSDT".into(),
                bid: 20_000.0 - spread / 2.0,
                bid_size,
                ask: 20_000.0 + spread / 2.0,
                ask_size,
            }),
            at,
        );
    };
    lean(&mut node, 8.0, 2.0, 1.0, MS);
    lean(&mut node, 8.0, 2.0, 1.0, 2 * MS);
    assert_eq!(scores(&node, "signal.imbalance.BTCUSDT"), [6.0]);
    assert_eq!(node.status()["alerts"], 0);
    lean(&mut node, 8.0, 2.0, 100.0, 3 * MS); // 50 bps wide
    assert_eq!(node.status()["alerts"], 1);
    assert!(node.oms().open_orders().next().is_none(), "it never trades");
}

#[test]
fn compliance_shadow_alerts_on_a_restricted_symbol_and_a_big_fill() {
    let (mut node, _d) = node(&format!(
        r#"
{}
[[agents]]
name = "compliance"
path = "{}"
role = "observer"
subscribe = ["order.#"]
config = {{ restricted = "BTCUSDT", max_fill_notional = 10000 }}
"#,
        floor_tests::desk_agent(),
        floor_tests::agent("compliance-shadow").display()
    ));
    quote(&mut node, 20_000.0, MS);
    let small = floor_host::model::OrderIntent {
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        order_type: floor_host::model::OrderType::Market,
        quantity: 0.1,
        limit_price: None,
        time_in_force: floor_host::model::TimeInForce::Ioc,
        tag: "t".into(),
        stop_price: None,
    };
    node.submit("desk", small.clone()).unwrap();
    // Accepted on a restricted symbol: one alert; the 2,000 fill is fine.
    assert_eq!(node.status()["alerts"], 1);
    node.submit(
        "desk",
        floor_host::model::OrderIntent {
            quantity: 1.0,
            ..small
        },
    )
    .unwrap();
    // Restricted again, and a 20,000 fill over 10,000.
    assert_eq!(node.status()["alerts"], 3);
    let shadow = node
        .summary(0.0)
        .agents
        .into_iter()
        .find(|a| a.name == "compliance")
        .unwrap();
    assert_eq!(
        (shadow.faults, shadow.denied, shadow.order_intents),
        (0, 0, 0)
    );
}

#[test]
fn volatility_sizer_refuses_before_it_measured_and_resizes_to_its_budget() {
    let (mut node, _d) = node(&format!(
        r#"
{}
[[agents]]
name = "sizer"
path = "{}"
role = "risk"
subscribe = ["md.tick.*"]
config = {{ risk_budget = 600, sigmas = 3, window = 10 }}
"#,
        floor_tests::desk_agent(),
        floor_tests::agent("volatility-sizer").display()
    ));
    let buy = floor_host::model::OrderIntent {
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        order_type: floor_host::model::OrderType::Market,
        quantity: 2.0,
        limit_price: None,
        time_in_force: floor_host::model::TimeInForce::Ioc,
        tag: "t".into(),
        stop_price: None,
    };
    quote(&mut node, 20_000.0, MS);
    node.submit("desk", buy.clone()).unwrap();
    let last = node.dlq().recent().last().unwrap();
    assert_eq!(last.reason, floor_host::model::ReasonCode::RiskRejected);
    assert!(
        last.detail
            .contains("volatility-sizer: no volatility for BTCUSDT yet (needs 10 returns)"),
        "{}",
        last.detail
    );
    // Ten 1% swings: σ about 1.05%, so 600 / (20,000 × 1.05% × 3) ≈ 0.95.
    for i in 0..10u64 {
        let mid = if i % 2 == 0 { 20_200.0 } else { 20_000.0 };
        quote(&mut node, mid, (2 + i) * MS);
    }
    node.submit("desk", buy).unwrap();
    let held = node.oms().portfolio.position("BTCUSDT").quantity;
    assert!((0.9..1.0).contains(&held), "resized to about 0.95: {held}");
}

#[test]
fn ensemble_judge_trades_on_the_weighted_consensus_of_its_sources() {
    let (mut node, _d) = node(&format!(
        r#"
[[agents]]
name = "judge"
path = "{}"
role = "strategy"
subscribe = ["signal.#", "md.tick.BTCUSDT"]
publish = ["signal.ensemble.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", quantity = 0.2, enter = 3, exit = 1, min_voters = 2, "weight.gamma" = 0 }}
"#,
        floor_tests::agent("ensemble-judge").display()
    ));
    quote(&mut node, 20_000.0, MS);
    let mut id = 1_000_000;
    let mut vote = |node: &mut Node, source: &str, score: f64, confidence: f64, at: u64| {
        id += 1;
        node.publish_envelope(floor_host::model::Envelope {
            id,
            topic: format!("signal.{source}.BTCUSDT").into(),
            source: source.into(),
            sequence: id,
            event_time: at,
            trace_id: id,
            correlation_id: None,
            attempt: 1,
            payload: Payload::Signal(floor_host::model::Signal {
                symbol: "BTCUSDT".into(),
                score,
                confidence,
                horizon_ns: 0,
            }),
        });
    };
    vote(&mut node, "alpha", 8.0, 1.0, 2 * MS);
    vote(&mut node, "gamma", 10.0, 1.0, 3 * MS); // weight 0: not a voter
    assert!(orders(&node).is_empty(), "one voter of two");
    vote(&mut node, "beta", 2.0, 0.5, 4 * MS); // (8 + 1) / 1.5 = 6
    assert_eq!(
        orders(&node),
        [
            (Side::Buy, OrderStatus::Accepted),
            (Side::Buy, OrderStatus::Filled)
        ]
    );
    assert_eq!(scores(&node, "signal.ensemble.BTCUSDT"), [6.0]);
    vote(&mut node, "beta", -9.0, 1.0, 5 * MS); // (8 − 9) / 2 = −0.5: flat
    assert_eq!(orders(&node).len(), 4);
    assert!(node.oms().portfolio.position("BTCUSDT").quantity.abs() < 1e-12);
}

#[test]
fn guardian_caps_gross_exposure_and_pauses_on_a_drawdown() {
    let (mut node, _d) = node_with_cash(
        &format!(
            r#"
{}
[[agents]]
name = "guardian"
path = "{}"
role = "risk"
subscribe = ["md.tick.*"]
publish = ["control.guardian.*"]
config = {{ symbols = "BTCUSDT", max_gross = 0.5, max_drawdown_pct = 20 }}
"#,
            floor_tests::desk_agent(),
            floor_tests::agent("guardian").display()
        ),
        100_000.0,
    );
    node.tap(TopicPattern::parse("control.#").unwrap());
    quote(&mut node, 20_000.0, MS);
    let order = |side: Side, quantity: f64| floor_host::model::OrderIntent {
        symbol: "BTCUSDT".into(),
        side,
        order_type: floor_host::model::OrderType::Market,
        quantity,
        limit_price: None,
        time_in_force: floor_host::model::TimeInForce::Ioc,
        tag: "t".into(),
        stop_price: None,
    };
    // Equity 100,000 and at most half of it gross: 3 BTC (60,000) is
    // resized to about 2.5.
    node.submit("desk", order(Side::Buy, 3.0)).unwrap();
    let held = node.oms().portfolio.position("BTCUSDT").quantity;
    assert!(
        (2.49..=2.5).contains(&held),
        "{held}: {:?}",
        node.dlq()
            .recent()
            .map(|l| l.detail.clone())
            .collect::<Vec<_>>()
    );
    // BTC falls to 8,000: 2.5 × 12,000 lost of 100,000, a 30% drawdown.
    quote(&mut node, 8_000.0, 2 * MS);
    let controls: Vec<&str> = node
        .tapped()
        .iter()
        .map(|e| e.topic.as_str())
        .filter(|t| t.starts_with("control."))
        .collect();
    assert_eq!(controls, ["control.guardian.pause"]);
    node.submit("desk", order(Side::Buy, 1.0)).unwrap();
    let last = node.dlq().recent().last().unwrap();
    assert_eq!(last.reason, floor_host::model::ReasonCode::RiskRejected);
    assert!(
        last.detail
            .contains("guardian: paused by the drawdown limit"),
        "{}",
        last.detail
    );
    node.submit("desk", order(Side::Sell, 1.0)).unwrap();
    let now = node.oms().portfolio.position("BTCUSDT").quantity;
    assert!(
        (now - (held - 1.0)).abs() < 1e-9,
        "getting out is allowed: {now}"
    );
}

#[test]
fn risk_sentinel_wants_a_stop_sizes_to_equity_and_refuses_a_self_cross() {
    let (mut node, _d) = node_with_cash(
        &format!(
            r#"
{}
[[agents]]
name = "sentinel"
path = "{}"
role = "risk"
config = {{ symbols = "BTCUSDT" }}
"#,
            floor_tests::desk_agent(),
            floor_tests::agent("risk-sentinel").display()
        ),
        100_000.0,
    );
    let intent = |side: Side, qty: f64, limit: Option<f64>, stop: Option<f64>| {
        floor_host::model::OrderIntent {
            symbol: "BTCUSDT".into(),
            side,
            order_type: if limit.is_some() {
                floor_host::model::OrderType::Limit
            } else {
                floor_host::model::OrderType::Market
            },
            quantity: qty,
            limit_price: limit,
            time_in_force: floor_host::model::TimeInForce::Gtc,
            tag: "t".into(),
            stop_price: stop,
        }
    };
    let refusal = |node: &Node| node.dlq().recent().last().unwrap().detail.clone();
    quote(&mut node, 20_000.0, MS);
    // No stop: refused, whatever the size.
    node.submit("desk", intent(Side::Buy, 0.1, None, None))
        .unwrap();
    let why = refusal(&node);
    assert!(
        why.contains(
            "stop_required: an order that adds risk needs a stop-price within 5% of 20000.5"
        ),
        "{why}"
    );
    // With a stop, 2 BTC (40,000) is cut to 20% of the 100,000 equity:
    // 20,000 / 20,000.5.
    node.submit("desk", intent(Side::Buy, 2.0, None, Some(19_500.0)))
        .unwrap();
    let held = node.oms().portfolio.position("BTCUSDT").quantity;
    assert!((held - 20_000.0 / 20_000.5).abs() < 1e-9, "{held}");
    // The host armed the stop the intent carried.
    assert_eq!(node.summary(0.0).stops[0].price, 19_500.0);
    // A resting offer of ours at 20,100; a bid at 20,100 would lift it.
    node.submit("desk", intent(Side::Sell, 0.5, Some(20_100.0), None))
        .unwrap();
    assert_eq!(
        node.oms().open_orders().count(),
        1,
        "reducing: approved, resting"
    );
    let dead = node.dlq().recent().count();
    node.submit(
        "desk",
        intent(Side::Buy, 0.01, Some(20_100.0), Some(19_500.0)),
    )
    .unwrap();
    assert_eq!(node.dlq().recent().count(), dead + 1);
    let why = refusal(&node);
    assert!(
        why.contains("self_cross: a buy at 20100 would trade against our own order desk-3"),
        "{why}"
    );
}

#[test]
fn the_tick_to_order_bench_pipelines_send_an_order_on_every_tick() {
    // The harness behind `tick_to_order_*` in `floor bench`: if a reference
    // agent stopped trading on alternating ticks (a refusal, a stop firing,
    // a cooldown), the figures would measure the wrong path.
    let dir = floor_tests::agent("trend").parent().unwrap().to_path_buf();
    for pipeline in [Pipeline::Reference, Pipeline::OneRisk] {
        let mut t = TickToOrder::new(&dir, pipeline).unwrap();
        // Warm-up: the sizer refuses until it has measured 10 returns, and
        // the judge then waits out its cooldown (100 calls).
        for _ in 0..150 {
            t.tick();
        }
        let sent = (0..200).filter(|_| t.tick().is_some()).count();
        assert_eq!(sent, 200, "{pipeline:?}");
    }
}
