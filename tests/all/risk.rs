//! The risk stage: required risk agents vote on everything; intents over
//! the consensus notional also need k of n consensus agents; a missing or
//! faulted vote counts against.

use floor_host::config::NodeConfig;
use floor_host::model::{MarketEvent, OrderStatus, Payload, Quote, TopicPattern};
use floor_host::node::Node;
use floor_tests::agent;
use floor_tests::market_buy;

struct Desk {
    node: Node,
    _data: tempfile::TempDir,
}

/// A node with one strategy (`desk`), a required risk agent that approves
/// everything (`gate`), and three consensus voters: `yes` approves, `no`
/// rejects anything over 5,000 notional, `half` resizes to 0.5 BTC (its
/// per-symbol cap; its default cap and another symbol's are larger).
fn desk(quorum: &str) -> Desk {
    desk_with(quorum, "")
}

/// [`desk`] with more `[[agents]]` tables.
fn desk_with(quorum: &str, extra_agents: &str) -> Desk {
    let data = tempfile::tempdir().unwrap();
    let risk = agent("risk");
    let risk = risk.display();
    let text = format!(
        r#"
{header}
[risk]
consensus_notional = 10000.0
quorum = {quorum}

{desk_and_gate}

[[agents]]
name = "yes"
path = "{risk}"
role = "risk"
limits = {{ deadline_ms = 2000 }}
vote = "consensus"
config = {{ max_order_notional = 1e9, max_position = 1000.0 }}

[[agents]]
name = "no"
path = "{risk}"
role = "risk"
limits = {{ deadline_ms = 2000 }}
vote = "consensus"
config = {{ max_order_notional = 5000.0, max_position = 1000.0 }}

[[agents]]
name = "half"
path = "{risk}"
role = "risk"
limits = {{ deadline_ms = 2000 }}
vote = "consensus"
config = {{ max_order_notional = 1e9, max_position = 1000.0, "max_position.BTCUSDT" = 0.5, "max_position.ETHUSDT" = 2.0 }}

{extra_agents}
"#,
        header = floor_tests::node_header(data.path(), 20_000.0),
        desk_and_gate = floor_tests::desk_and_gate(),
    );
    let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
    let venue = floor_tests::test_venue(&cfg);
    let mut node = Node::new(&cfg, Box::new(venue)).unwrap();
    node.tap(TopicPattern::parse("order.#").unwrap());
    node.inject(
        MarketEvent::Quote(Quote {
            symbol: "BTCUSDT".into(),
            bid: 19999.0,
            bid_size: 10.0,
            ask: 20001.0,
            ask_size: 10.0,
        }),
        1_000_000,
    );
    Desk { node, _data: data }
}

/// The final status of the last order, and its filled quantity.
fn outcome(d: &Desk) -> (OrderStatus, f64) {
    let last = d.node.tapped().last().expect("an order event");
    match &last.payload {
        Payload::OrderEvent(e) => (e.status.clone(), e.cumulative_quantity),
        other => panic!("not an order event: {other:?}"),
    }
}

fn handled(d: &Desk, name: &str) -> u64 {
    d.node
        .summary(0.0)
        .agents
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .handled
}

#[test]
fn small_intents_need_only_the_required_agents() {
    let mut d = desk("\"unanimous\"");
    d.node.submit("desk", market_buy(0.1)).unwrap(); // about 2,000 notional
    assert_eq!(outcome(&d), (OrderStatus::Filled, 0.1));
    assert_eq!(handled(&d, "gate"), 1);
    for voter in ["yes", "no", "half"] {
        assert_eq!(handled(&d, voter), 0, "{voter} was not asked");
    }
}

#[test]
fn majority_approves_a_large_intent_at_the_smallest_resize() {
    let mut d = desk("\"majority\"");
    d.node.submit("desk", market_buy(1.0)).unwrap(); // about 20,000 notional
    // `yes` approves, `half` approves at 0.5, `no` rejects: 2 of 3.
    assert_eq!(outcome(&d), (OrderStatus::Filled, 0.5));
}

#[test]
fn unanimity_fails_on_one_rejection_and_says_who_voted_what() {
    let mut d = desk("\"unanimous\"");
    d.node.submit("desk", market_buy(1.0)).unwrap();
    let (status, filled) = outcome(&d);
    assert_eq!(filled, 0.0);
    let OrderStatus::Rejected { reason } = status else {
        panic!("expected a rejection, got {status:?}");
    };
    assert!(
        reason.starts_with("host: consensus_failed: 2 of 3 approved, 3 needed"),
        "{reason}"
    );
    assert!(reason.contains("yes approves"), "{reason}");
    assert!(
        reason.contains("risk agent `no`: risk_rejected: max_order_notional"),
        "{reason}"
    );
}

#[test]
fn a_count_quorum_needs_that_many() {
    let mut d = desk("1");
    d.node.submit("desk", market_buy(1.0)).unwrap();
    assert_eq!(outcome(&d), (OrderStatus::Filled, 0.5));
}

#[test]
fn consensus_settings_are_validated() {
    let base = r#"
[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 1.0

[risk]
quorum = "most"
"#;
    let err = NodeConfig::parse(base, "t", std::path::Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("quorum `most`: use \"majority\", \"unanimous\" or a number"),
        "{err}"
    );
    let err = NodeConfig::parse(
        &base.replace("quorum = \"most\"", "consensus_notional = 5.0\nquorum = 2"),
        "t",
        std::path::Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("no risk agent has vote = \"consensus\""),
        "{err}"
    );
    assert!(
        err.contains("risk.quorum = 2 needs between 1 and the 0 consensus agent(s)"),
        "{err}"
    );
}

#[test]
fn a_tap_sees_all_order_flow_and_may_not_publish() {
    // The hostile fixture publishes `fixture.ok.count` for every message it
    // handles: as a tap, each of those publishes is refused.
    let shadow = format!(
        r#"
[supervisor]
# Each denied publish restarts it: served again at once.
restart_backoff_ms = 0

[[agents]]
name = "shadow"
path = "{}"
role = "observer"
subscribe = ["order.#"]
config = {{ mode = "spin" }}
"#,
        floor_tests::fixture("hostile").display()
    );
    let mut d = desk_with("\"majority\"", &shadow);
    d.node.submit("desk", market_buy(0.1)).unwrap();
    d.node.submit("desk", market_buy(1.0)).unwrap();
    let order_events = d.node.tapped().len() as u64;
    assert!(order_events >= 4, "two orders, accepted and filled each");
    assert_eq!(
        handled(&d, "shadow"),
        order_events,
        "the tap saw every order event"
    );
    let denied: Vec<_> = d
        .node
        .dlq()
        .recent()
        .filter(|l| l.agent == "shadow")
        .collect();
    assert_eq!(denied.len() as u64, order_events);
    assert!(
        denied
            .iter()
            .all(|l| l.reason == floor_host::model::ReasonCode::PublishDenied)
    );
    assert!(
        denied[0].detail.contains("may publish only on []"),
        "{}",
        denied[0].detail
    );
    // Trading is unaffected: `half` caps the position at 0.5 and 0.1 is held.
    assert_eq!(outcome(&d), (OrderStatus::Filled, 0.4));
}

#[test]
fn an_observer_with_publish_rights_is_a_config_error() {
    let text = format!(
        r#"
[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 1.0

[[agents]]
name = "shadow"
path = "{}"
role = "observer"
publish = ["alerts.#"]
"#,
        floor_tests::fixture("hostile").display()
    );
    let err = NodeConfig::parse(&text, "t", std::path::Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("agent `shadow`: observers are read-only taps"),
        "{err}"
    );
}

#[test]
fn a_per_symbol_cap_that_is_not_a_positive_number_stops_the_node_at_start() {
    let data = tempfile::tempdir().unwrap();
    let risk = agent("risk");
    for (value, why) in [
        (
            "\"lots\"",
            "config key `max_position.BTCUSDT` = `lots` is not a valid f64",
        ),
        (
            "-1.0",
            "config key `max_position.BTCUSDT` = -1: need a position cap > 0",
        ),
    ] {
        let text = format!(
            r#"
{header}
{desk_and_gate}

[[agents]]
name = "capped"
path = "{risk}"
role = "risk"
config = {{ "max_position.BTCUSDT" = {value} }}
"#,
            header = floor_tests::node_header(data.path(), 20_000.0),
            desk_and_gate = floor_tests::desk_and_gate(),
            risk = risk.display(),
        );
        let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
        let venue = floor_tests::test_venue(&cfg);
        let e = format!("{:#}", Node::new(&cfg, Box::new(venue)).err().unwrap());
        assert!(
            e.contains("`capped`") && e.contains(&format!("bad_config: {why}")),
            "{e}"
        );
    }
}
