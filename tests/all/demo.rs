//! The demo pipeline end to end through the `floor` binary: strategy →
//! risk agent → host limits → simulated venue → order manager.

use floor_tests::floor;
use serde_json::Value;

fn run_demo(extra: &[&str]) -> Value {
    run_example("examples/demo.toml", extra)
}

fn run_example(config: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    let mut args = vec![
        "run",
        config,
        "--summary-json",
        summary.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    let out = floor(&args, None);
    assert!(
        out.status.success(),
        "floor run failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap()
}

#[test]
fn the_paper_example_runs_the_whole_reference_pipeline() {
    let s = run_example(
        "examples/paper.toml",
        &["--venue", "synthetic", "--fast", "--events", "20000"],
    );
    let agents: Vec<(&str, u64, u64, &str)> = s["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap(),
                a["handled"].as_u64().unwrap(),
                a["faults"].as_u64().unwrap(),
                a["state"].as_str().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = agents.iter().map(|a| a.0).collect();
    assert_eq!(
        names,
        [
            "momentum",
            "imbalance",
            "sentiment",
            "judge",
            "trend",
            "sentinel",
            "sizer",
            "guardian",
            "compliance"
        ]
    );
    for (name, handled, faults, state) in &agents {
        if *name == "sentiment" {
            // Headlines come on the wall clock from news.jsonl, the first
            // at the start; a fast run may end before the next. Each one
            // published is read once.
            assert_eq!(Some(*handled), s["news"].as_u64(), "{s}");
        } else {
            assert!(*handled > 0, "{name} handled nothing: {s}");
        }
        assert_eq!((*faults, *state), (0, "running"), "{name}: {s}");
    }
    assert!(s["orders"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["agent_faults"], 0, "{s}");
}

#[test]
fn demo_trades_and_risk_rejects_carry_reasons() {
    let s = run_demo(&["--venue", "synthetic", "--fast", "--events", "20000"]);
    for key in [
        "events",
        "orders",
        "fills",
        "rejects",
        "pnl",
        "agent_faults",
        "dlq",
    ] {
        assert!(s.get(key).is_some(), "summary lacks `{key}`: {s}");
    }
    assert_eq!(s["events"], 20000);
    assert!(s["orders"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["fills"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["agent_faults"], 0, "{s}");
    // Every dead letter is a refused order (filed with its reason code).
    let refused: u64 = s["reject_reasons"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("venue:"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(s["dlq"].as_u64().unwrap(), refused, "{s}");
    let reasons = s["reject_reasons"].as_object().unwrap();
    assert!(
        reasons
            .keys()
            .any(|k| k == "risk agent `risk`: max_order_notional"),
        "meanrev's flips are over the risk agent's notional cap: {reasons:?}"
    );
    assert!(s["rejects"].as_u64().unwrap() >= 1);
    // Per-agent and per-topic counters add up.
    let agents = s["agents"].as_array().unwrap();
    let risk = agents.iter().find(|a| a["name"] == "risk").unwrap();
    let intents: u64 = agents
        .iter()
        .map(|a| a["order_intents"].as_u64().unwrap())
        .sum();
    assert_eq!(
        risk["handled"].as_u64().unwrap(),
        intents,
        "every intent asked the risk agent once"
    );
    assert_eq!(
        s["orders"].as_u64().unwrap() + s["rejects"].as_u64().unwrap(),
        intents,
        "every intent was either sent or rejected: {s}"
    );
    let ticks = s["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["topic"] == "md.tick.BTCUSDT")
        .unwrap();
    assert!(ticks["published"].as_u64().unwrap() > 0);
    assert_eq!(
        ticks["published"], ticks["delivered"],
        "one subscriber (trend) per BTC tick"
    );
    let eth = s["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["symbol"] == "ETHUSDT")
        .unwrap();
    assert!(
        eth["quantity"].as_f64().unwrap().abs() <= 5.0 + 1e-9,
        "the risk agent resizes ETH to its 5.0 cap: {eth}"
    );
}

#[test]
fn same_seed_same_decisions() {
    let a = run_demo(&["--venue", "synthetic", "--fast", "--events", "5000"]);
    let b = run_demo(&["--venue", "synthetic", "--fast", "--events", "5000"]);
    for key in [
        "orders",
        "fills",
        "rejects",
        "pnl",
        "positions",
        "reject_reasons",
    ] {
        assert_eq!(
            a[key], b[key],
            "`{key}` differs between two runs of the same seed"
        );
    }
}

#[test]
fn without_a_config_the_built_in_demo_runs() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("s.json");
    let out = floor(
        &[
            "run",
            "--venue",
            "synthetic",
            "--fast",
            "--events",
            "2000",
            "-q",
            "--summary-json",
            summary.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(s["events"], 2000);
    let names: Vec<&str> = s["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["trend", "meanrev", "risk"]);
}

/// The demo as configured: the simulated exchange in-process, traded
/// through the Binance connector over loopback sockets.
#[test]
fn the_demo_paper_trades_on_the_simulated_exchange_for_its_duration() {
    let s = run_demo(&["--for", "3s"]);
    assert!(
        s["events"].as_u64().unwrap() > 0,
        "market data arrived: {s}"
    );
    assert_eq!(s["agent_faults"], 0, "{s}");
    assert_eq!(s["oms_errors"], 0, "every execution report applied: {s}");
}

#[test]
fn fast_needs_the_synthetic_venue() {
    let out = floor(
        &["run", "examples/demo.toml", "--fast", "--events", "10"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--fast needs the synthetic venue"), "{err}");
}

#[test]
fn ctrl_c_stops_cleanly_with_a_summary() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(floor_tests::floor_bin())
        .args(["run", "examples/demo.toml"])
        .current_dir(floor_tests::workspace())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first status line: the node is trading.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "floor exited before its first status line"
        );
        if line.starts_with("events/s") {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit status {:?}", out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("--- summary ---"), "{stdout}");
}

/// docs/benchmarks.md's recipe for instruction counts, without valgrind:
/// `examples/profile.toml` records a session that `floor replay` checks
/// and `floor backtest` takes as data, with the strategy trading.
#[test]
fn the_profiling_example_records_replays_and_backtests() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let s = run_example(
        "examples/profile.toml",
        &["--fast", "--events", "3000", "--data-dir", data],
    );
    assert!(
        s["orders"].as_u64().unwrap() > 0,
        "the strategy traded: {s}"
    );
    let replay = floor(&["replay", data], None);
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    // Every record replayed, none diverged (that would exit non-zero).
    let counts: Vec<&str> = text
        .split("events ")
        .nth(1)
        .and_then(|t| t.split(" |").next())
        .map(|c| c.split(" of ").collect())
        .unwrap_or_default();
    assert!(counts.len() == 2 && counts[0] == counts[1], "{text}");
    // Quiet stretches of ticks went to the strategy in runs (trades for
    // no agent between them); one call per tick, as recorded, gives the
    // same digest.
    let session = |extra: &[&str]| -> Value {
        let out = floor(&[&["replay", data, "--json"], extra].concat(), None);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report["sessions"][0].clone()
    };
    let (runs, one) = (session(&[]), session(&["--one-at-a-time"]));
    assert_eq!(runs["digest"], one["digest"], "{runs} {one}");
    assert_eq!(one["in_runs"][0], 0, "{one}");
    assert!(
        runs["in_runs"][0].as_u64().unwrap() > 1_000,
        "most ticks went in runs: {runs}"
    );
    let json = dir.path().join("bt.json");
    let bt = floor(
        &[
            "backtest",
            "--config",
            "examples/profile.toml",
            "--data",
            data,
            "--json",
            json.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        bt.status.success(),
        "{}",
        String::from_utf8_lossy(&bt.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["events"], 3000, "{report}");
    assert!(report["fills"].as_u64().unwrap() > 0, "{report}");
}
