//! Hot swap in a node: deploys under load, probation, automatic and manual
//! rollback, refused versions, timers carried over.

use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;

use floor_host::deploy::{Candidate, DeployError, DeployRequest, EventKind};
use floor_host::model::{Payload, TopicPattern};
use floor_host::node::Node;
use floor_tests::{counter_agent, counter_outputs as counts, fixture, node_with, variant};

fn counter_node(deploy: &str) -> (Node, tempfile::TempDir) {
    let agents = format!(
        "\n[deploy]\n{deploy}\n{}",
        counter_agent(r#""test.count.#""#, r#"version = "a""#)
    );
    let (mut node, dir) = node_with(&agents);
    node.tap(TopicPattern::parse("swap.#").unwrap());
    node.tap(TopicPattern::parse("deploy.#").unwrap());
    (node, dir)
}

fn send(node: &mut Node, n: u64) {
    node.publish("test.count.in", Payload::Custom(n.to_le_bytes().to_vec()));
}

/// A version of the counter: its own bytes (`tag` makes a distinct build)
/// and config keys.
fn request(tag: &str, config: &[(&str, &str)]) -> DeployRequest {
    DeployRequest {
        agent: "counter".into(),
        component: variant(&fixture("counter"), tag),
        config: config
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect::<BTreeMap<_, _>>(),
        shadow: false,
    }
}

fn prepare(node: &Node, tag: &str, config: &[(&str, &str)]) -> Candidate {
    node.preparer()
        .prepare(&request(tag, config))
        .expect("the version prepares")
}

fn deploy_topics(node: &Node) -> Vec<String> {
    node.tapped()
        .iter()
        .filter(|e| e.topic.starts_with("deploy."))
        .map(|e| e.topic.to_string())
        .collect()
}

#[test]
fn a_counter_swapped_100_times_under_load_handles_every_message_once_in_order() {
    let (mut node, _dir) = counter_node("probation_messages = 5\nprobation_secs = 0");
    // Versions are prepared on another thread while messages flow, as the
    // admin API does; the node thread only swaps.
    let preparer = node.preparer();
    let (tx, rx) = sync_channel::<(String, Candidate)>(2);
    let maker = std::thread::spawn(move || {
        for i in 0..100 {
            let label = if i % 2 == 0 { "b" } else { "a" };
            let c = preparer
                .prepare(&request(label, &[("version", label)]))
                .expect("prepares");
            if tx.send((label.to_string(), c)).is_err() {
                return;
            }
        }
    });
    let mut expected = Vec::new();
    let mut label = "a".to_string();
    let mut n = 0u64;
    for swap in 0..=100 {
        for _ in 0..20 {
            n += 1;
            send(&mut node, n);
            expected.push((n, n, label.clone()));
        }
        if swap < 100 {
            let (next, candidate) = rx.recv().expect("a prepared version");
            node.deploy(candidate).expect("swap");
            label = next;
        }
    }
    maker.join().unwrap();
    // Every message handled exactly once, in order, by the version that
    // was live when it arrived; the count never reset across 100 swaps.
    assert_eq!(counts(&node), expected);
    let topics = deploy_topics(&node);
    assert_eq!(
        topics
            .iter()
            .filter(|t| *t == "deploy.swapped.counter")
            .count(),
        100
    );
    assert_eq!(
        topics
            .iter()
            .filter(|t| *t == "deploy.promoted.counter")
            .count(),
        100,
        "each version leaves probation after 5 messages"
    );
    let status = node.status();
    let d = &status["deploys"][0];
    assert_eq!(d["state"], "running");
    assert_eq!(d["handled_by_version"], 20);
    assert_eq!(d["overrides"]["version"], "a");
    assert_eq!(
        d["earlier"].as_array().unwrap().len(),
        4,
        "the running version and four earlier ones are kept (keep_versions = 5)"
    );
    assert_eq!(status["dlq"], 0);
    assert_eq!(status["agent_faults"], 0);
}

#[test]
fn a_version_that_traps_on_its_third_message_is_rolled_back_with_its_state() {
    let (mut node, _dir) = counter_node("probation_messages = 100");
    for n in 1..=5 {
        send(&mut node, n);
    }
    let c = prepare(&node, "bad", &[("version", "b"), ("trap_on", "3")]);
    let swapped = node.deploy(c).unwrap();
    assert_eq!(swapped.kind, EventKind::Swapped);
    for n in 6..=9 {
        send(&mut node, n);
    }
    // b handled 6 and 7, trapped on 8; a took over with b's count (7) and
    // handled 8 itself: nothing lost, nothing twice, the count intact.
    let got = counts(&node);
    let tail: Vec<(u64, u64, &str)> = got[5..]
        .iter()
        .map(|(c, n, v)| (*c, *n, v.as_str()))
        .collect();
    assert_eq!(tail, [(6, 6, "b"), (7, 7, "b"), (8, 8, "a"), (9, 9, "a")]);
    let status = node.status();
    let d = &status["deploys"][0];
    assert_eq!(d["state"], "running");
    let last = d["records"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "rolled_back");
    assert_eq!(last["automatic"], true);
    assert_eq!(last["from"], swapped.to);
    assert_eq!(last["to"], swapped.from);
    let detail = last["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("trap on message 3 of its probation")
            && detail.contains("traps on its message 3 on purpose"),
        "{detail}"
    );
    assert_eq!(status["dlq"], 0, "the faulting message was handled, by a");
    assert_eq!(status["agent_faults"], 1);
    assert!(deploy_topics(&node).contains(&"deploy.rolled_back.counter".to_string()));
}

#[test]
fn a_version_that_fails_restore_is_refused_and_the_running_one_carries_on() {
    let (mut node, _dir) = counter_node("");
    for n in 1..=3 {
        send(&mut node, n);
    }
    for (tag, key, expect) in [
        ("trap", "trap_in_restore", "trap: "),
        ("refuse", "refuse_restore", "agent_error: bad_state"),
    ] {
        let c = prepare(&node, tag, &[("version", "b"), (key, "true")]);
        let to = c.version.short().to_string();
        match node.deploy(c) {
            Err(DeployError::Restore {
                agent,
                to: refused,
                detail,
                ..
            }) => {
                assert_eq!(agent, "counter");
                assert_eq!(refused, to);
                assert!(detail.starts_with(expect), "{detail}");
            }
            other => panic!("expected a refused restore, got {other:?}"),
        }
    }
    send(&mut node, 4);
    assert_eq!(counts(&node).last().unwrap(), &(4, 4, "a".to_string()));
    let d = &node.status()["deploys"][0];
    assert_eq!(d["state"], "running");
    assert_eq!(d["earlier"].as_array().unwrap().len(), 0);
    assert_eq!(
        deploy_topics(&node),
        ["deploy.refused.counter", "deploy.refused.counter"]
    );
}

#[test]
fn rollback_by_hand_goes_back_version_by_version_with_the_state() {
    let (mut node, _dir) = counter_node("probation_messages = 1\nprobation_secs = 0");
    match node.rollback("counter", "test") {
        Err(e @ DeployError::NoPrevious { .. }) => assert!(
            e.to_string()
                .contains("has no earlier version to roll back to"),
            "{e}"
        ),
        other => panic!("expected NoPrevious, got {other:?}"),
    }
    send(&mut node, 1);
    let b = prepare(&node, "b", &[("version", "b")]);
    node.deploy(b).unwrap();
    send(&mut node, 2);
    let c = prepare(&node, "c", &[("version", "c")]);
    node.deploy(c).unwrap();
    send(&mut node, 3);
    // c → b: b is kept instantiated.
    let back = node.rollback("counter", "test").unwrap();
    assert!(!back.automatic);
    send(&mut node, 4);
    // b → a: a is kept compiled and started for the rollback.
    node.rollback("counter", "test").unwrap();
    send(&mut node, 5);
    let got: Vec<(u64, String)> = counts(&node).into_iter().map(|(c, _, v)| (c, v)).collect();
    assert_eq!(
        got,
        [
            (1, "a".into()),
            (2, "b".into()),
            (3, "c".into()),
            (4, "b".into()),
            (5, "a".into())
        ]
    );
    assert!(matches!(
        node.rollback("counter", "test"),
        Err(DeployError::NoPrevious { .. })
    ));
}

#[test]
fn a_deploy_of_garbage_or_of_an_unknown_agent_is_refused_before_the_node_sees_it() {
    let (node, _dir) = counter_node("");
    let p = node.preparer();
    let garbage = DeployRequest {
        agent: "counter".into(),
        component: b"not a component".to_vec(),
        ..DeployRequest::default()
    };
    let e = p.prepare(&garbage).unwrap_err().to_string();
    assert!(
        e.starts_with("refused to run agent `counter` from the deployed file: it is not a well-formed WebAssembly component ("),
        "{e}"
    );
    let unknown = DeployRequest {
        agent: "nobody".into(),
        ..request("x", &[])
    };
    let e = p.prepare(&unknown).unwrap_err().to_string();
    assert!(
        e.starts_with("no agent named `nobody` in this host (it runs: counter)"),
        "{e}"
    );
    let refuses_init = DeployRequest {
        agent: "counter".into(),
        component: std::fs::read(fixture("hostile")).unwrap(),
        ..DeployRequest::default()
    };
    let e = p.prepare(&refuses_init).unwrap_err().to_string();
    assert_eq!(
        e,
        "agent `counter` refused its configuration: bad_config: config key `mode` is required; set it under the agent's [config]"
    );
}

#[test]
fn pending_timers_move_to_the_new_version() {
    let (mut node, _dir) = node_with(
        "\n[[agents]]\nname = \"sleepy\"\npath = \"{hostile}\"\nrole = \"model\"\nsubscribe = [\"test.#\"]\npublish = [\"fixture.#\"]\nconfig = { mode = \"timer\" }\n",
    );
    node.publish("test.attack.now", Payload::Custom(b"attack".to_vec()));
    let c = node
        .preparer()
        .prepare(&DeployRequest {
            agent: "sleepy".into(),
            component: variant(&fixture("hostile"), "v2"),
            ..DeployRequest::default()
        })
        .unwrap();
    node.deploy(c).unwrap();
    assert!(floor_tests::published(&node, "fixture.ok.timer").is_empty());
    // The timer is 1 ms of event time ahead; the venue steps 1 ms.
    for _ in 0..10 {
        if !floor_tests::published(&node, "fixture.ok.timer").is_empty() {
            break;
        }
        assert!(node.step(), "the venue ended before the timer fired");
    }
    assert_eq!(floor_tests::published(&node, "fixture.ok.timer"), ["wake"]);
}

#[test]
fn the_swap_bench_harness_counts_no_loss_and_no_duplicate() {
    // The harness behind `floor bench --only swap`, small and unpaced (no
    // wall clock involved): its loss and duplicate figures come from the
    // agent's own answers.
    let dir = fixture("counter").parent().unwrap().to_path_buf();
    let run = floor_host::bench::swap_under_load(&dir, 6_000, 0, 500).unwrap();
    assert_eq!(run.messages, 6_000);
    assert_eq!((run.lost, run.duplicates), (0, 0));
    assert!(!run.pauses.is_empty(), "at least one swap happened");
}

fn shadow_of(node: &Node, tag: &str, config: &[(&str, &str)]) -> Candidate {
    node.preparer()
        .prepare(&DeployRequest {
            shadow: true,
            ..request(tag, config)
        })
        .expect("the shadow prepares")
}

#[test]
fn a_shadow_of_the_same_build_matches_and_a_changed_one_shows_its_first_diff() {
    let (mut node, _dir) = counter_node("");
    send(&mut node, 1);
    // The same build and config: every outcome matches.
    let same = DeployRequest {
        agent: "counter".into(),
        component: std::fs::read(fixture("counter")).unwrap(),
        config: BTreeMap::from([("version".to_string(), "a".to_string())]),
        shadow: true,
    };
    let c = node.preparer().prepare(&same).unwrap();
    let started = node.deploy(c).unwrap();
    assert_eq!(started.kind, EventKind::Shadowed);
    for n in 2..=4 {
        send(&mut node, n);
    }
    assert_eq!(node.status()["agents"][0]["state"], "shadow");
    let s = node.status()["deploys"][0]["shadow"].clone();
    assert_eq!(
        (s["matches"].as_u64(), s["diffs"].as_u64()),
        (Some(3), Some(0))
    );
    assert!(s["first_diff"].is_null());
    // Only the live version's outputs were acted on.
    assert_eq!(counts(&node).len(), 4);

    // A changed build (it labels its outputs `b`): each message differs,
    // and the first pair is kept.
    let c = shadow_of(&node, "b", &[("version", "b")]);
    node.deploy(c).unwrap();
    send(&mut node, 5);
    send(&mut node, 6);
    let s = node.status()["deploys"][0]["shadow"].clone();
    assert_eq!(
        (s["matches"].as_u64(), s["diffs"].as_u64()),
        (Some(0), Some(2))
    );
    let first = &s["first_diff"];
    assert_eq!(first["topic"], "test.count.in");
    // Count 5 of message 5, labelled `a` (97) live and `b` (98) in the shadow.
    let body = |label: u8| {
        let mut b = [5u64.to_le_bytes(), 5u64.to_le_bytes()].concat();
        b.push(label);
        serde_json::json!([{"kind": "publish", "topic": "swap.count.out",
                            "payload": {"type": "custom", "value": b}}])
    };
    assert_eq!(first["live"], body(b'a'), "{first}");
    assert_eq!(first["shadow"], body(b'b'), "{first}");
    assert_eq!(
        counts(&node).len(),
        6,
        "the shadow's outputs are never acted on"
    );
    assert_eq!(counts(&node).last().unwrap().2, "a");
}

#[test]
fn a_shadow_that_faults_is_counted_and_promote_swaps_a_good_one_in() {
    let (mut node, _dir) = counter_node("");
    match node.promote("counter", false) {
        Err(e @ DeployError::NoShadow { .. }) => {
            assert!(e.to_string().contains("floor deploy … --shadow"), "{e}")
        }
        other => panic!("expected NoShadow, got {other:?}"),
    }
    send(&mut node, 1);
    let c = shadow_of(&node, "bad", &[("version", "a"), ("trap_on", "2")]);
    node.deploy(c).unwrap();
    send(&mut node, 2);
    send(&mut node, 3);
    let s = node.status()["deploys"][0]["shadow"].clone();
    assert_eq!(s["faults"], 1);
    assert_eq!(s["first_diff"]["shadow"]["fault"], "trap");
    let discarded = node.promote("counter", true).unwrap();
    assert_eq!(discarded.kind, EventKind::ShadowDiscarded);
    assert!(node.status()["deploys"][0]["shadow"].is_null());

    let c = shadow_of(&node, "b", &[("version", "b")]);
    node.deploy(c).unwrap();
    send(&mut node, 4);
    let promoted = node.promote("counter", false).unwrap();
    assert_eq!(promoted.kind, EventKind::Swapped);
    assert!(
        promoted.detail.starts_with("promoted from the shadow"),
        "{}",
        promoted.detail
    );
    send(&mut node, 5);
    let got: Vec<(u64, String)> = counts(&node).into_iter().map(|(c, _, v)| (c, v)).collect();
    assert_eq!(
        got,
        [
            (1, "a".into()),
            (2, "a".into()),
            (3, "a".into()),
            (4, "a".into()),
            (5, "b".into())
        ]
    );
    assert_eq!(node.status()["deploys"][0]["state"], "probation");
}
