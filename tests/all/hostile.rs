//! Hostile agents: each misbehaves once; the host survives, records the
//! input in the dead-letter queue with the right reason code and the
//! original envelope, and the next message is handled by a fresh instance
//! that carries on from the state before the attack.

use floor_host::model::{Payload, ReasonCode};
use floor_tests::HostileNode;

fn survives(mode: &str, limits: &str, publish: &str, reason: ReasonCode, detail: &str) {
    let mut h = HostileNode::new(mode, limits, publish);
    h.ping();
    assert_eq!(
        h.counts(),
        vec![1],
        "{mode}: the agent works before the attack"
    );

    h.attack();
    let letters: Vec<_> = h.node.dlq().recent().cloned().collect();
    assert_eq!(letters.len(), 1, "{mode}: one dead letter: {letters:?}");
    let letter = &letters[0];
    assert_eq!(letter.reason, reason, "{mode}: {}", letter.detail);
    assert!(
        letter.detail.contains(detail),
        "{mode}: detail `{}` should mention `{detail}`",
        letter.detail
    );
    assert_eq!(letter.agent, "hostile");
    assert_eq!(letter.envelope.topic, "test.attack.now");
    assert_eq!(letter.envelope.source, "host");
    assert_eq!(letter.envelope.payload, Payload::Custom(b"attack".to_vec()));

    h.ping();
    assert_eq!(
        h.counts(),
        vec![1, 2],
        "{mode}: a fresh instance, with the state from before the attack, handles the next message"
    );
    let s = h.node.summary(0.0);
    assert_eq!(s.agent_faults, 1);
    assert_eq!(s.dlq, 1);
    assert_eq!(s.dlq_by_reason.get(reason.as_str()), Some(&1));
    assert_eq!(s.agents[0].starts, 2, "{mode}: restarted once");
}

const ALL: &str = r#""fixture.#""#;

#[test]
fn infinite_loop_runs_out_of_fuel() {
    survives(
        "spin",
        "fuel = 2_000_000, deadline_ms = 10_000",
        ALL,
        ReasonCode::FuelExhausted,
        "fuel",
    );
}

#[test]
fn memory_past_the_cap_is_refused() {
    survives(
        "memhog",
        "memory_mb = 8",
        ALL,
        ReasonCode::MemoryLimit,
        "memory limit",
    );
}

#[test]
fn panic_is_a_trap() {
    survives(
        "panic",
        "",
        ALL,
        ReasonCode::Trap,
        "hostile agent panics on purpose",
    );
}

#[test]
fn huge_output_is_refused() {
    survives(
        "bigoutput",
        "max_output_bytes = 65536",
        ALL,
        ReasonCode::OutputTooLarge,
        "cap is 65536 bytes",
    );
}

#[test]
fn too_many_outputs_are_refused() {
    survives(
        "flood",
        "max_outputs = 64",
        ALL,
        ReasonCode::TooManyOutputs,
        "10000 outputs",
    );
}

#[test]
fn publishing_outside_rights_is_denied() {
    survives(
        "trespass",
        "",
        r#""fixture.ok.*""#,
        ReasonCode::PublishDenied,
        "published on `order.fake.filled`",
    );
}

#[test]
fn ordering_without_order_rights_is_denied() {
    survives(
        "trader",
        "",
        ALL,
        ReasonCode::OrderDenied,
        "may trade only []",
    );
}

#[test]
fn sleeping_past_the_deadline_is_interrupted() {
    // Fuel would last for ages: only the wall-clock deadline can stop it.
    survives(
        "sleeper",
        "fuel = 100_000_000_000, deadline_ms = 50",
        ALL,
        ReasonCode::DeadlineExceeded,
        "interrupt",
    );
}

#[test]
fn an_agent_error_keeps_the_instance_and_its_state() {
    let mut h = HostileNode::new("refuse", "", ALL);
    h.ping();
    h.attack();
    h.ping();
    // Not restarted: the same instance counted all three messages.
    assert_eq!(h.counts(), vec![1, 3]);
    let letters: Vec<_> = h.node.dlq().recent().cloned().collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, ReasonCode::AgentError);
    assert!(
        letters[0]
            .detail
            .contains("refused: hostile agent refuses on purpose")
    );
    let s = h.node.summary(0.0);
    assert_eq!((s.agent_faults, s.agents[0].starts), (0, 1));
}

#[test]
fn repeated_attacks_never_take_the_host_down() {
    let mut h = HostileNode::new("panic", "", ALL);
    for _ in 0..20 {
        h.attack();
        h.ping();
    }
    // Each of the first 5 faults restarts the agent (its count carried
    // on), which then handles the ping; the 6th quarantines it
    // (`[supervisor] max_faults = 5`): it is called no more, and the host
    // carries on.
    assert_eq!(h.counts(), vec![1, 2, 3, 4, 5]);
    assert_eq!(h.node.dlq().total(), 6);
    let a = &h.node.summary(0.0).agents[0];
    assert_eq!((a.starts, a.state.as_str()), (7, "quarantined"));
    assert_eq!(a.quarantine.as_ref().map(|q| q.refused), Some(29));
    h.ping();
    assert_eq!(h.counts().len(), 5);
}

#[test]
fn replying_to_a_message_that_is_no_request_is_refused() {
    survives(
        "replier",
        "",
        ALL,
        ReasonCode::ReplyWithoutRequest,
        "not a request",
    );
}
