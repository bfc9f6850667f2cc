//! Request/reply between agents: exactly one answer, or a `no-reply` that
//! says why.

use floor_host::model::{Payload, ReasonCode};
use floor_tests::{node_with, published};

const ASKER: &str = r#"
[[agents]]
name = "asker"
path = "{hostile}"
role = "model"
subscribe = ["test.#"]
publish = ["svc.#", "fixture.#"]
config = { mode = "asker" }
"#;

const ANSWERER: &str = r#"
[[agents]]
name = "answerer"
path = "{hostile}"
role = "model"
subscribe = ["svc.echo.*"]
config = { mode = "answerer" }
"#;

fn attack(node: &mut floor_host::node::Node) {
    node.publish("test.attack.now", Payload::Custom(b"attack".to_vec()));
}

#[test]
fn a_request_gets_exactly_one_reply() {
    let (mut node, _dir) = node_with(&format!("{ASKER}{ANSWERER}"));
    attack(&mut node);
    assert_eq!(
        published(&node, "fixture.ok.answer"),
        ["ref=7 from=answerer answer:ping"]
    );
    attack(&mut node);
    assert_eq!(
        published(&node, "fixture.ok.answer").len(),
        2,
        "one answer per request"
    );
}

#[test]
fn a_request_nobody_serves_gets_a_no_reply() {
    let (mut node, _dir) = node_with(ASKER);
    attack(&mut node);
    assert_eq!(
        published(&node, "fixture.ok.answer"),
        ["ref=7 from=host no-reply: no agent subscribes to `svc.echo.now`"]
    );
}

#[test]
fn a_responder_past_the_timeout_gives_a_no_reply_and_a_dead_letter() {
    // Asking `attack` makes the answerer sleep; the request's 20 ms timeout
    // stops it, not its own 100 ms deadline.
    let asker = ASKER.replace(r#"mode = "asker""#, r#"mode = "asker", ask = "attack""#);
    let (mut node, _dir) = node_with(&format!("{asker}{ANSWERER}"));
    attack(&mut node);
    let answers = published(&node, "fixture.ok.answer");
    assert_eq!(answers.len(), 1);
    assert!(
        answers[0]
            .starts_with("ref=7 from=answerer no-reply: `answerer` faulted (deadline_exceeded)"),
        "{answers:?}"
    );
    let letters: Vec<_> = node.dlq().recent().collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].agent, "answerer");
    assert_eq!(letters[0].reason, ReasonCode::DeadlineExceeded);
    assert_eq!(letters[0].envelope.topic, "svc.echo.now");
    assert_eq!(letters[0].envelope.source, "asker");
}

#[test]
fn requesting_outside_publish_rights_is_denied() {
    let asker = ASKER.replace(
        r#"publish = ["svc.#", "fixture.#"]"#,
        r#"publish = ["fixture.#"]"#,
    );
    let (mut node, _dir) = node_with(&format!("{asker}{ANSWERER}"));
    attack(&mut node);
    assert!(published(&node, "fixture.ok.answer").is_empty());
    let letters: Vec<_> = node.dlq().recent().collect();
    assert_eq!(letters[0].reason, ReasonCode::PublishDenied);
    assert!(
        letters[0].detail.contains("`svc.echo.now`"),
        "{}",
        letters[0].detail
    );
}
