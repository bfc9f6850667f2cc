//! Bounded inboxes: backpressure at the high water mark, release at the low
//! one, nothing dropped; conflation of market data for a slow subscriber,
//! never of reliable messages.

use floor_host::model::{MarketEvent, Payload, Quote};
use floor_host::node::Node;
use floor_tests::{node_with, published};

const MS: u64 = 1_000_000;

fn slow_agent(extra: &str) -> String {
    format!(
        r#"
[supervisor]
# The bus's retry backoff alone: no restart backoff on top.
restart_backoff_ms = 0

[bus]
reliable = ["test.#"]

[[agents]]
name = "slow"
path = "{{hostile}}"
role = "model"
subscribe = ["test.#", "md.tick.*"]
publish = ["fixture.#"]
config = {{ mode = "flaky" }}
{extra}
"#
    )
}

fn send(node: &mut Node, what: &str) {
    let topic = if what == "attack" {
        "test.attack.now"
    } else {
        "test.ping.now"
    };
    node.publish(topic, Payload::Custom(what.as_bytes().to_vec()));
}

fn tick(node: &mut Node, at: u64) {
    let q = Quote {
        symbol: "BTCUSDT".into(),
        bid: 99.0 + at as f64 / 1e9,
        bid_size: 1.0,
        ask: 101.0,
        ask_size: 1.0,
    };
    node.inject(MarketEvent::Quote(q), at);
}

#[test]
fn backpressure_engages_at_high_water_and_releases_at_low_water() {
    // Capacity 8: high water 6, low water 4. `md.tick` is not subscribed to
    // by this agent's inbox test: only reliable pings wait.
    let (mut node, _dir) = node_with(&slow_agent("inbox_capacity = 8"));
    send(&mut node, "attack"); // attempt 1 panics: parked until 100 ms
    for _ in 0..4 {
        send(&mut node, "ping");
    }
    assert!(!node.backpressured(), "5 waiting, below high water");
    send(&mut node, "ping");
    assert!(node.backpressured(), "6 waiting: high water");
    let events = node.summary(0.0).events;
    assert!(
        node.step(),
        "a step while backpressured runs the retry instead of taking input"
    );
    assert_eq!(node.summary(0.0).events, events, "no new input was taken");
    assert!(
        node.backpressured(),
        "attempt 2 panicked too: still waiting"
    );
    assert!(node.step());
    assert!(
        !node.backpressured(),
        "attempt 3 went through and the backlog drained"
    );
    assert_eq!(published(&node, "fixture.ok.flaky"), ["attempt=3"]);
    assert_eq!(
        published(&node, "fixture.ok.count").len(),
        5,
        "every ping handled, none dropped"
    );
    let s = node.summary(0.0);
    let slow = &s.agents[0];
    assert_eq!((slow.backpressure_engaged, slow.max_queue), (1, 6));
    assert_eq!(
        slow.above_high_water_ns,
        300 * MS,
        "from 0 to the third attempt at 300 ms"
    );
    assert_eq!(s.awaiting_retry, 0);
}

#[test]
fn a_slow_subscriber_gets_the_latest_tick_and_every_reliable_message() {
    let (mut node, _dir) = node_with(&slow_agent(r#"conflate = ["md.tick.*"]"#));
    send(&mut node, "attack"); // parked until 100 ms
    for t in 1..=10 {
        tick(&mut node, t * MS);
    }
    send(&mut node, "ping");
    for t in 11..=20 {
        tick(&mut node, t * MS);
    }
    tick(&mut node, 100 * MS); // attempt 2 panics: parked until 300 ms
    tick(&mut node, 300 * MS); // attempt 3, the ping, the latest waiting tick, this tick
    assert_eq!(published(&node, "fixture.ok.flaky"), ["attempt=3"]);
    // ping, the tick of 100 ms (the one left waiting), the tick of 300 ms.
    assert_eq!(published(&node, "fixture.ok.count").len(), 3);
    let slow = &node.summary(0.0).agents[0];
    assert_eq!(slow.conflated, 20, "21 ticks waited in turn, one at a time");
    let s = node.summary(0.0);
    let conflated: u64 = s
        .topics
        .iter()
        .filter(|t| t.topic.starts_with("md.tick."))
        .map(|t| t.conflated)
        .sum();
    assert_eq!(conflated, 20, "counted per topic too");
    assert_eq!(
        slow.max_queue, 3,
        "the retried message, the ping and one tick"
    );
}

#[test]
fn reliable_messages_are_never_conflated() {
    // Asking to conflate a reliable topic changes nothing for it.
    let (mut node, _dir) = node_with(&slow_agent(r#"conflate = ["test.#"]"#));
    send(&mut node, "attack");
    for _ in 0..3 {
        send(&mut node, "ping");
    }
    tick(&mut node, 100 * MS);
    tick(&mut node, 300 * MS);
    assert_eq!(
        published(&node, "fixture.ok.count").len(),
        3 + 2,
        "three pings and two ticks"
    );
    assert_eq!(node.summary(0.0).agents[0].conflated, 0);
}
