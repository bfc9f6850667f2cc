//! The supervisor: a faulted agent restarts from its last good state after
//! a backoff, a crash-looping agent is quarantined, a quarantined risk agent
//! halts trading, and a deploy puts an agent back in service.

use floor_host::deploy::DeployRequest;
use floor_host::model::{Payload, ReasonCode, TopicPattern};
use floor_host::node::Node;
use floor_host::risk::TradingMode;
use floor_tests::{advance, counter_agent, counter_outputs, fixture, node_with, published};

/// A node with the hostile fixture as `role`, in `mode`, quarantined after
/// more than 3 faults and served again at once after each; `test.reliable.*`
/// is a reliable topic.
fn supervised(role: &str, mode: &str) -> (Node, tempfile::TempDir) {
    let (mut node, dir) = node_with(&format!(
        "\n[supervisor]\nmax_faults = 3\nwindow_secs = 60\nrestart_backoff_ms = 0\n\n[bus]\nreliable = [\"test.reliable.*\"]\n\n[[agents]]\nname = \"looper\"\npath = \"{{hostile}}\"\nrole = \"{role}\"\nsubscribe = [\"test.#\"]\npublish = [\"fixture.#\"]\nconfig = {{ mode = \"{mode}\" }}\n"
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
        "\n[supervisor]\nmax_faults = 1\nwindow_secs = 0.001\nrestart_backoff_ms = 0\n\n[[agents]]\nname = \"looper\"\npath = \"{hostile}\"\nrole = \"model\"\nsubscribe = [\"test.#\"]\npublish = [\"fixture.#\"]\nconfig = { mode = \"panic\" }\n",
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

/// One second of event time (the node's clock, moved by the test; no wall
/// clock is read).
const SEC: u64 = 1_000_000_000;

/// (count, payload counter) of each `swap.count.out` the counter published.
fn counts(node: &Node) -> Vec<(u64, u64)> {
    counter_outputs(node)
        .into_iter()
        .map(|(c, n, _)| (c, n))
        .collect()
}

#[test]
fn a_faulted_agent_restarts_from_its_last_good_state_after_a_backoff() {
    // A checkpoint every 4 messages; the counter traps on the 6th message
    // an instance handles; its input topic is reliable.
    let (mut node, _dir) = node_with(&format!(
        "\n[supervisor]\ncheckpoint_every = 4\n\n[bus]\nreliable = [\"swap.in.*\"]\n{}",
        counter_agent(r#""swap.in.*""#, r#"trap_on = "6""#)
    ));
    node.tap(TopicPattern::parse("swap.count.out").unwrap());
    node.tap(TopicPattern::parse("supervisor.restart.*").unwrap());
    for i in 1..=7u64 {
        node.publish("swap.in.now", Payload::Custom(i.to_le_bytes().to_vec()));
    }
    // 1–5 handled; 6 trapped; the fresh instance took the checkpoint (after
    // 4) and replayed 5; 6 and 7 wait for the backoff.
    assert_eq!(counts(&node), (1..=5).map(|i| (i, i)).collect::<Vec<_>>());
    let a = node.status()["agents"][0].clone();
    assert_eq!(a["state"], "restarting");
    assert_eq!(a["health"], 50, "100 - 20 (a fault) - 30 (restarting)");
    assert_eq!(a["inbox"], 2);
    assert_eq!(a["starts"], 2);
    assert_eq!(a["last_error"]["reason"], "trap");
    assert!(
        a["last_error"]["detail"]
            .as_str()
            .unwrap()
            .contains("traps on its message 6 on purpose"),
        "{}",
        a["last_error"]
    );
    let r = &a["last_restart"];
    assert_eq!(
        (r["at"].as_u64(), r["back_at"].as_u64()),
        (Some(0), Some(SEC))
    );
    assert_eq!(r["recovery"]["from_snapshot"], true);
    assert_eq!(r["recovery"]["replayed"], 1);
    assert_eq!(r["recovery"]["complete"], true);
    assert_eq!(
        node.tapped()
            .iter()
            .filter(|e| e.topic == "supervisor.restart.counter")
            .count(),
        1
    );

    advance(&mut node, SEC - 1);
    assert_eq!(counts(&node).len(), 5, "still down");
    // Back: 6 (its second attempt) and 7, each once, the count carried on.
    advance(&mut node, SEC);
    assert_eq!(counts(&node), (1..=7).map(|i| (i, i)).collect::<Vec<_>>());
    let a = node.status()["agents"][0].clone();
    assert_eq!(
        (a["state"].as_str(), a["inbox"].as_u64()),
        (Some("running"), Some(0))
    );
    assert!(
        node.dlq().recent().next().is_none(),
        "nothing dead-lettered"
    );
}

#[test]
fn the_restart_backoff_doubles_and_resets_after_a_healthy_period() {
    let (mut node, _dir) = node_with(
        "\n[[agents]]\nname = \"looper\"\npath = \"{hostile}\"\nrole = \"model\"\nsubscribe = [\"test.#\"]\npublish = [\"fixture.#\"]\nconfig = { mode = \"panic\" }\n",
    );
    let back_at = |node: &Node| node.status()["agents"][0]["last_restart"]["back_at"].as_u64();
    attack(&mut node);
    assert_eq!(back_at(&node), Some(SEC));
    attack(&mut node); // waits, and faults when the agent is back
    ping(&mut node);
    advance(&mut node, SEC);
    assert_eq!(back_at(&node), Some(3 * SEC), "2 s after the second fault");
    assert!(
        published(&node, "fixture.ok.count").is_empty(),
        "the ping waits"
    );
    advance(&mut node, 3 * SEC);
    assert_eq!(published(&node, "fixture.ok.count").len(), 1);
    // A minute without a fault: the backoff starts again from 1 s.
    advance(&mut node, 64 * SEC);
    attack(&mut node);
    assert_eq!(back_at(&node), Some(65 * SEC));
    assert_eq!(agent(&node)["state"], "restarting");
    assert_eq!(agent(&node)["faults"], 3);
}
