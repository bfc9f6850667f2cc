//! Four eyes: intents over `[risk] approval_notional` wait for a person,
//! who approves (checked again, then sent) or rejects; unanswered, they
//! expire refused.

use floor_host::config::NodeConfig;
use floor_host::model::{MarketEvent, OrderStatus, Payload, Quote, ReasonCode, TopicPattern};
use floor_host::node::Node;
use floor_host::node::operator::Operation;
use floor_host::risk::TradingMode;
use floor_tests::market_buy;

const S: u64 = 1_000_000_000;

/// A desk trading BTCUSDT around 20,000 with a gate that approves
/// everything; intents over 10,000 notional wait up to 60 s for a person.
fn desk() -> (Node, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let text = format!(
        "{}[risk]\napproval_notional = 10000.0\napproval_timeout_secs = 60\n{}",
        floor_tests::node_header(data.path(), 20_000.0),
        floor_tests::desk_and_gate()
    );
    let cfg = NodeConfig::parse(&text, "<test>", std::path::Path::new(".")).unwrap();
    let mut node = Node::new(&cfg, Box::new(floor_tests::test_venue(&cfg))).unwrap();
    node.tap(TopicPattern::parse("order.#").unwrap());
    node.tap(TopicPattern::parse("risk.approval.#").unwrap());
    quote(&mut node, S);
    (node, data)
}

fn quote(node: &mut Node, at: u64) {
    node.inject(
        MarketEvent::Quote(Quote {
            symbol: "BTCUSDT".into(),
            bid: 19_999.0,
            bid_size: 10.0,
            ask: 20_001.0,
            ask_size: 10.0,
        }),
        at,
    );
}

/// The statuses of the desk's order events so far.
fn statuses(node: &Node) -> Vec<OrderStatus> {
    node.tapped()
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::OrderEvent(o) => Some(o.status.clone()),
            _ => None,
        })
        .collect()
}

/// The one intent waiting now: its approval id.
fn waiting(node: &Node) -> u64 {
    let pending = node.pending_approvals();
    assert_eq!(pending.len(), 1, "{pending:?}");
    pending[0].id
}

#[test]
fn a_large_intent_waits_for_a_person_and_goes_out_once_approved() {
    let (mut node, _d) = desk();
    node.submit("desk", market_buy(0.1)).unwrap(); // about 2,000: goes out
    node.submit("desk", market_buy(1.0)).unwrap(); // about 20,000: waits
    assert_eq!(
        statuses(&node),
        [OrderStatus::Accepted, OrderStatus::Filled]
    );
    let id = waiting(&node);
    let p = &node.pending_approvals()[0];
    assert_eq!((p.agent.as_str(), p.intent.quantity), ("desk", 1.0));
    assert!((p.notional - 20_001.0).abs() < 1e-6, "{}", p.notional);
    assert_eq!(p.expires_at, S + 60 * S);
    let announced: Vec<&str> = node
        .tapped()
        .iter()
        .map(|e| e.topic.as_str())
        .filter(|t| t.starts_with("risk.approval."))
        .collect();
    assert_eq!(announced, ["risk.approval.pending"]);
    let status = node.status();
    assert_eq!(status["pending_approvals"][0]["id"], id);
    assert_eq!(status["alerts"], 1, "a person is needed: an alert");

    let answer = node
        .operate(Operation::Approve {
            id,
            by: "alice".into(),
        })
        .unwrap();
    assert_eq!(answer["sent"], true);
    assert_eq!(
        statuses(&node)[2..],
        [OrderStatus::Accepted, OrderStatus::Filled]
    );
    assert!(node.pending_approvals().is_empty());
    assert_eq!(node.oms().portfolio.position("BTCUSDT").quantity, 1.1);

    let again = node
        .operate(Operation::Approve {
            id,
            by: "alice".into(),
        })
        .unwrap_err();
    assert_eq!(
        again.to_string(),
        format!(
            "no order intent waits for approval as {id} (waiting: none); `floor status` lists them"
        )
    );
}

#[test]
fn a_rejected_or_unanswered_intent_is_refused_with_its_reason() {
    let (mut node, _d) = desk();
    node.submit("desk", market_buy(1.0)).unwrap();
    let id = waiting(&node);
    node.operate(Operation::Reject {
        id,
        reason: "too big for a Friday".into(),
    })
    .unwrap();
    assert_eq!(
        statuses(&node),
        [OrderStatus::Rejected {
            reason: "host: approval_rejected: too big for a Friday".into()
        }]
    );

    node.submit("desk", market_buy(2.0)).unwrap();
    waiting(&node);
    quote(&mut node, S + 59 * S);
    assert_eq!(node.pending_approvals().len(), 1, "not due yet");
    quote(&mut node, S + 61 * S);
    assert!(node.pending_approvals().is_empty());
    let letters: Vec<_> = node.dlq().recent().map(|l| l.reason).collect();
    assert_eq!(
        letters,
        [ReasonCode::ApprovalRejected, ReasonCode::ApprovalExpired]
    );
    assert_eq!(node.oms().portfolio.position("BTCUSDT").quantity, 0.0);
}

#[test]
fn an_approval_is_checked_again_and_a_halt_meanwhile_refuses_it() {
    let (mut node, _d) = desk();
    node.submit("desk", market_buy(1.0)).unwrap();
    let id = waiting(&node);
    node.set_trading(TradingMode::Halted, "operator", "test");
    let answer = node
        .operate(Operation::Approve {
            id,
            by: "alice".into(),
        })
        .unwrap();
    assert_eq!(answer["sent"], false);
    let last = node.dlq().recent().last().unwrap();
    assert_eq!(last.reason, ReasonCode::TradingHalted);
    assert_eq!(node.oms().portfolio.position("BTCUSDT").quantity, 0.0);
}

#[test]
fn approval_settings_are_validated() {
    let data = tempfile::tempdir().unwrap();
    let text = format!(
        "{}[risk]\napproval_notional = -1.0\napproval_timeout_secs = 0\n{}",
        floor_tests::node_header(data.path(), 20_000.0),
        floor_tests::desk_and_gate()
    );
    let err = NodeConfig::parse(&text, "<test>", std::path::Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("risk.approval_notional must be a non-negative number, got -1"),
        "{err}"
    );
    assert!(
        err.contains("risk.approval_timeout_secs must be at least 1"),
        "{err}"
    );
}
