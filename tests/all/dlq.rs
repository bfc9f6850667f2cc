//! `floor dlq list | replay`: dead letters on disk, re-delivered after a fix.

use floor_tests::{BTCUSDT, HostileNode, floor, hostile_agent};
use serde_json::Value;

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A config for the hostile agent in trespass mode, writing into `dir`,
/// with these publish rights.
fn config(dir: &std::path::Path, name: &str, publish: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "{}{BTCUSDT}{}",
            floor_tests::node_section(std::path::Path::new(".")),
            hostile_agent(
                "hostile",
                r#"mode = "trespass""#,
                r#""test.#""#,
                publish,
                ""
            ),
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn dead_letters_are_listed_and_replayed_after_a_fix() {
    let mut h = HostileNode::new("trespass", "", r#""fixture.ok.*""#);
    h.ping();
    h.attack();
    h.attack();
    let dir = h.data_dir().to_path_buf();
    let d = dir.to_str().unwrap();

    let out = floor(&["dlq", "list", "--data-dir", d, "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = json_lines(&out.stdout);
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0]["id"].as_u64(), listed[1]["id"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(listed[0]["reason"], "publish_denied");
    assert_eq!(listed[0]["attempts"], 1);
    let s = h.node.summary(0.0);
    assert_eq!((s.agents[0].denied, s.agents[0].dead_lettered), (2, 2));
    let attacks = s
        .topics
        .iter()
        .find(|t| t.topic == "test.attack.now")
        .unwrap();
    assert_eq!((attacks.denied, attacks.dead_lettered), (2, 2));
    assert_eq!(listed[0]["envelope"]["topic"], "test.attack.now");
    let out = floor(&["dlq", "list", "--data-dir", d, "--reason", "trap"], None);
    assert!(out.stdout.is_empty(), "no trap was dead-lettered");

    // The fix: the agent may now publish where it wanted to.
    let fixed = config(&dir, "fixed.toml", r#""fixture.#", "order.#""#);
    let out = floor(&["dlq", "replay", &fixed, "--id", "2"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replayed = json_lines(&out.stdout);
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0]["id"], 2);
    assert_eq!(replayed[0]["outcome"], "ok");
    assert_eq!(replayed[0]["outputs"], 1);

    // Without the fix both fail again, and are dead-lettered again.
    let unfixed = config(&dir, "unfixed.toml", r#""fixture.ok.*""#);
    let out = floor(&["dlq", "replay", &unfixed, "--all"], None);
    assert_eq!(out.status.code(), Some(3));
    let replayed = json_lines(&out.stdout);
    assert!(
        replayed.iter().all(|r| r["outcome"] == "fault"),
        "{replayed:?}"
    );
    assert!(
        replayed[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("publish_denied")
    );
    let out = floor(&["dlq", "list", "--data-dir", d, "--json"], None);
    let ids: Vec<u64> = json_lines(&out.stdout)
        .iter()
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4]);

    let out = floor(&["dlq", "replay", &fixed, "--id", "99"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no dead letter with id 99"));
}
