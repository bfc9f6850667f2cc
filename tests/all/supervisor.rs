//! The supervisor: a crash-looping agent is quarantined, a quarantined risk
//! agent halts trading, and a deploy puts an agent back in service.

use floor_host::deploy::DeployRequest;
use floor_host::model::{Payload, ReasonCode, TopicPattern};
use floor_host::node::Node;
use floor_host::risk::TradingMode;
use floor_tests::{fixture, node_with, published};

/// A node with the hostile fixture as `role`, in `mode`, quarantined after
/// more than 3 faults; `test.reliable.*` is a reliable topic.
fn supervised(role: &str, mode: &str) -> (Node, tempfile::TempDir) {
    let (mut node, dir) = node_with(&format!(
        "\n[supervisor]\nmax_faults = 3\nwindow_secs = 60\n\n[bus]\nreliable = [\"test.reliable.*\"]\n\n[[agents]]\nname = \"looper\"\npath = \"{{hostile}}\"\nrole = \"{role}\"\nsubscribe = [\"test.#\"]\npublish = [\"fixture.#\"]\nconfig = {{ mode = \"{mode}\" }}\n"
    ));
    node.tap(TopicPattern::parse("supervisor.#").unwrap());
    (node, dir)
}

fn attack(node: &mut Node) {
    node.publish("test.attack.now", Payload::Custom(b"attack".to_vec()));
}

fn ping(node: &mut Node) {
    node.publish("test.ping.now", Payload::Custom(b"hello".to_vec()));
}

fn agent(node: &Node) -> serde_json::Value {
    node.status()["agents"][0].clone()
}

#[test]
fn a_crash_looping_agent_is_quarantined_until_a_fixed_version_is_deployed() {
    let (mut node, _dir) = supervised("model", "panic");
    for _ in 0..3 {
        attack(&mut node);
    }
    let a = agent(&node);
    assert_eq!(a["state"], "running");
    assert_eq!(a["health"], 40, "100 - 3 faults × 20");
    attack(&mut node); // the 4th fault within the window
    let a = agent(&node);
    assert_eq!(a["state"], "quarantined");
    assert_eq!(a["health"], 0);
    assert_eq!(node.status()["health"], 0);
    assert_eq!(
        a["quarantine"]["reason"],
        "4 faults within 60s (the limit is 3); deploy a fixed version to release it"
    );
    let topics: Vec<&str> = node.tapped().iter().map(|e| e.topic.as_str()).collect();
    assert!(
        topics.contains(&"supervisor.quarantine.looper"),
        "{topics:?}"
    );

    // Quarantined: not called. Market-like messages are counted; reliable
    // ones wait in the DLQ for the fix.
    let handled = a["handled"].as_u64().unwrap();
    ping(&mut node);
    node.publish("test.reliable.now", Payload::Custom(b"hello".to_vec()));
    let a = agent(&node);
    assert_eq!(a["handled"].as_u64().unwrap(), handled);
    assert_eq!(a["quarantine"]["refused"], 2);
    let last = node.dlq().recent().last().unwrap().clone();
    assert_eq!(last.reason, ReasonCode::Quarantined);
    assert_eq!(last.envelope.topic, "test.reliable.now");
    assert!(published(&node, "fixture.ok.count").is_empty());

    // A fixed version (here: the same code in a harmless mode) releases it.
    let fixed = node
        .preparer()
        .prepare(&DeployRequest {
            agent: "looper".into(),
            component: std::fs::read(fixture("hostile")).unwrap(),
            config: [("mode".to_string(), "refuse".to_string())].into(),
            shadow: false,
        })
        .unwrap();
    node.deploy(fixed).unwrap();
    ping(&mut node);
    assert_eq!(
        published(&node, "fixture.ok.count"),
        ["\u{1}\0\0\0\0\0\0\0"]
    );
    let a = agent(&node);
    assert_eq!(a["state"], "probation");
    assert!(a["quarantine"].is_null());
}

#[test]
fn quarantining_the_risk_agent_halts_trading() {
    let (mut node, _dir) = supervised("risk", "panic");
    assert_eq!(node.trading().mode(), TradingMode::Active);
    for _ in 0..4 {
        attack(&mut node);
    }
    assert_eq!(agent(&node)["state"], "quarantined");
    assert_eq!(node.trading().mode(), TradingMode::Halted);
    let change = node.trading().last_change().unwrap().clone();
    assert_eq!(change.by, "host");
    assert!(
        change
            .reason
            .starts_with("risk agent `looper` is quarantined: 4 faults within 60s"),
        "{}",
        change.reason
    );
}

#[test]
fn faults_outside_the_window_do_not_add_up() {
    let (mut node, _dir) = node_with(
        "\n[supervisor]\nmax_faults = 1\nwindow_secs = 0.001\n\n[[agents]]\nname = \"looper\"\npath = \"{hostile}\"\nrole = \"model\"\nsubscribe = [\"test.#\"]\npublish = [\"fixture.#\"]\nconfig = { mode = \"panic\" }\n",
    );
    for _ in 0..3 {
        attack(&mut node);
        // Event time moves 1 ms per step: the previous fault leaves the window.
        node.step();
        node.step();
    }
    assert_eq!(agent(&node)["state"], "running");
    assert_eq!(agent(&node)["faults"], 3);
}
