//! Bad configs: a clear message listing every problem, and a non-zero exit.

use floor_tests::floor;

#[test]
fn every_problem_in_a_config_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        r#"
[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 100.0

[[agents]]
name = "a"
path = "missing.wasm"
role = "strategy"
subscribe = ["md.#.tick"]
order_symbols = ["BTCUSDT"]

[[agents]]
name = "a"
path = "missing.wasm"
role = "observer"
"#,
    )
    .unwrap();
    let out = floor(&["run", path.to_str().unwrap(), "--for", "1s"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has 5 problem(s)"), "{err}");
    assert!(
        err.contains("missing.wasm` does not exist; build the agents"),
        "{err}"
    );
    assert!(err.contains("`#` may only be the last segment"), "{err}");
    assert!(err.contains("agent `a` is configured twice"), "{err}");
    assert!(err.contains("no agent has role = \"risk\""), "{err}");
}

#[test]
fn unknown_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.toml");
    std::fs::write(&path, "[venue]\nseeed = 1\n").unwrap();
    let out = floor(&["run", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field `seeed`"), "{err}");
}
