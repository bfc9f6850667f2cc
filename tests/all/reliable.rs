//! At-least-once delivery on reliable topics: a faulting subscriber gets
//! the message again after a backoff, later messages wait behind it, and a
//! message that never goes through is dead-lettered as `retries_exhausted`.

use floor_host::model::{Payload, ReasonCode};
use floor_host::node::Node;
use floor_tests::{NO_RESTART_BACKOFF, advance, hostile_agent, node_with, published};

const MS: u64 = 1_000_000;

fn agent(mode: &str, retry: &str) -> String {
    let table = hostile_agent(
        "hostile",
        &format!(r#"mode = "{mode}""#),
        r#""test.#""#,
        r#""fixture.#""#,
        "",
    );
    // No restart backoff: these tests look at the bus's retry backoff alone.
    format!("\n{NO_RESTART_BACKOFF}[bus]\nreliable = [\"test.#\"]\nretry = {{ {retry} }}\n{table}")
}

fn send(node: &mut Node, what: &str) {
    let topic = if what == "attack" {
        "test.attack.now"
    } else {
        "test.ping.now"
    };
    node.publish(topic, Payload::Custom(what.as_bytes().to_vec()));
}

#[test]
fn a_subscriber_that_faults_twice_gets_the_message_once_and_order_holds() {
    let (mut node, _dir) = node_with(&agent("flaky", ""));
    send(&mut node, "ping");
    send(&mut node, "attack"); // attempt 1 panics: retry at 100 ms
    send(&mut node, "ping"); // waits behind the retry
    assert_eq!(published(&node, "fixture.ok.count").len(), 1);
    advance(&mut node, 50 * MS);
    assert!(
        published(&node, "fixture.ok.flaky").is_empty(),
        "not due yet"
    );
    advance(&mut node, 100 * MS); // attempt 2 panics: retry 200 ms later
    assert!(published(&node, "fixture.ok.flaky").is_empty());
    advance(&mut node, 300 * MS); // attempt 3 goes through, then the waiting ping
    assert_eq!(
        published(&node, "fixture.ok.flaky"),
        ["attempt=3"],
        "processed once"
    );
    let topics: Vec<&str> = node.tapped().iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(
        topics,
        ["fixture.ok.count", "fixture.ok.flaky", "fixture.ok.count"],
        "the second ping after the retried message"
    );
    let s = node.summary(0.0);
    assert_eq!(
        (s.retried, s.agent_faults, s.dlq, s.awaiting_retry),
        (2, 2, 0, 0)
    );
    // Per agent and per topic: the attack was retried twice; three first
    // deliveries (ping, attack, ping) entered the handler, each measured.
    let a = &s.agents[0];
    assert_eq!((a.retried, a.dead_lettered, a.denied), (2, 0, 0));
    assert_eq!(a.delivery_latency.count, 3);
    let topic = |t: &str| s.topics.iter().find(|x| x.topic == t).unwrap().clone();
    let attack = topic("test.attack.now");
    assert_eq!(
        (
            attack.published,
            attack.retried,
            attack.dead_lettered,
            attack.latency.count
        ),
        (1, 2, 0, 1)
    );
    let ping = topic("test.ping.now");
    assert_eq!(
        (ping.published, ping.retried, ping.latency.count),
        (2, 0, 2)
    );
}

#[test]
fn a_message_that_always_faults_is_dead_lettered_after_the_last_attempt() {
    let (mut node, _dir) = node_with(&agent("panic", "max_attempts = 3"));
    send(&mut node, "attack");
    send(&mut node, "ping");
    for at in [100, 300, 700] {
        advance(&mut node, at * MS);
    }
    let letters: Vec<_> = node.dlq().recent().collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, ReasonCode::RetriesExhausted);
    assert_eq!(letters[0].attempts, 3);
    assert!(
        letters[0]
            .detail
            .starts_with("3 attempt(s); the last: trap"),
        "{}",
        letters[0].detail
    );
    assert_eq!(
        letters[0].envelope.payload,
        Payload::Custom(b"attack".to_vec())
    );
    assert_eq!(letters[0].envelope.attempt, 3);
    let s = node.summary(0.0);
    let attack = s
        .topics
        .iter()
        .find(|t| t.topic == "test.attack.now")
        .unwrap();
    assert_eq!((attack.retried, attack.dead_lettered), (2, 1));
    assert_eq!((s.agents[0].retried, s.agents[0].dead_lettered), (2, 1));
    assert_eq!(
        published(&node, "fixture.ok.count").len(),
        1,
        "the ping behind it went through"
    );
    assert_eq!(node.summary(0.0).awaiting_retry, 0);
}

#[test]
fn no_retry_outside_the_window() {
    let (mut node, _dir) = node_with(&agent("panic", "window_ms = 50"));
    send(&mut node, "attack"); // the first retry would be at 100 ms: past the window
    let letters: Vec<_> = node.dlq().recent().collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (letters[0].reason, letters[0].attempts),
        (ReasonCode::RetriesExhausted, 1)
    );
}

#[test]
fn per_source_order_holds_with_four_producers_and_four_consumers() {
    let mut agents = String::new();
    for i in 0..4 {
        agents += &format!(
            r#"
[[agents]]
name = "producer{i}"
path = "{{hostile}}"
role = "model"
subscribe = ["test.ping.*"]
publish = ["test.stream.*"]
limits = {{ max_outputs = 64 }}
config = {{ mode = "producer", burst = 25 }}

[[agents]]
name = "checker{i}"
path = "{{hostile}}"
role = "model"
subscribe = ["test.stream.*"]
publish = ["fixture.#"]
config = {{ mode = "checker" }}
"#
        );
    }
    let (mut node, _dir) = node_with(&agents);
    for _ in 0..50 {
        send(&mut node, "ping");
    }
    assert!(
        published(&node, "fixture.ok.violation").is_empty(),
        "{:?}",
        published(&node, "fixture.ok.violation")
    );
    let s = node.summary(0.0);
    for a in s.agents.iter().filter(|a| a.name.starts_with("checker")) {
        // 4 producers × 50 pings × 25 messages, every one delivered once.
        assert_eq!(a.handled, 5_000, "{}", a.name);
    }
    assert_eq!(s.dlq, 0);
}

#[test]
fn a_duplicate_id_is_processed_once() {
    let (mut node, _dir) = node_with(&agent("spin", ""));
    let env = |id: u64| floor_host::model::Envelope {
        id,
        topic: "test.fill.now".into(),
        source: "peer".into(),
        sequence: id,
        event_time: 0,
        trace_id: id,
        correlation_id: None,
        attempt: 1,
        payload: Payload::Custom(b"fill".to_vec()),
    };
    node.publish_envelope(env(1_000_001));
    node.publish_envelope(env(1_000_001)); // the same fill again
    node.publish_envelope(env(1_000_002));
    assert_eq!(
        published(&node, "fixture.ok.count"),
        vec!["\u{1}\0\0\0\0\0\0\0", "\u{2}\0\0\0\0\0\0\0"]
    );
    let s = node.summary(0.0);
    let a = &s.agents[0];
    assert_eq!((a.handled, a.deduplicated), (2, 1));
    let fills = s
        .topics
        .iter()
        .find(|t| t.topic == "test.fill.now")
        .unwrap();
    assert_eq!(
        (
            fills.published,
            fills.delivered,
            fills.deduplicated,
            fills.latency.count
        ),
        (3, 3, 1, 2)
    );
}
