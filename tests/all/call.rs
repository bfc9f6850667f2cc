//! `floor call`: one agent in isolation, envelopes in, outputs out, as JSON lines.

use floor_tests::{agent, fixture, floor};
use serde_json::Value;

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn quote(mid: f64) -> String {
    format!(
        r#"{{"topic":"md.tick.BTCUSDT","payload":{{"type":"quote","value":{{"symbol":"BTCUSDT","bid":{},"bid_size":1.0,"ask":{},"ask_size":1.0}}}}}}"#,
        mid - 0.5,
        mid + 0.5
    )
}

#[test]
fn trend_agent_orders_on_a_crossover() {
    // fast = 1, slow = 2: a rise puts the fast average above the slow one.
    let input = [quote(100.0), quote(101.0)].join("\n");
    let trend = agent("trend");
    let out = floor(
        &[
            "call",
            trend.to_str().unwrap(),
            "--config",
            "symbol=BTCUSDT",
            "--config",
            "fast=1",
            "--config",
            "slow=2",
            "--config",
            "quantity=0.5",
        ],
        Some(&input),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out.stdout);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["outputs"], serde_json::json!([]));
    let outputs = got[1]["outputs"].as_array().unwrap();
    assert_eq!(outputs[0]["kind"], "publish");
    assert_eq!(outputs[0]["topic"], "signal.trend.BTCUSDT");
    assert_eq!(outputs[0]["payload"]["value"]["score"], 10.0);
    assert_eq!(outputs[1]["kind"], "order");
    assert_eq!(outputs[1]["intent"]["side"], "buy");
    assert_eq!(outputs[1]["intent"]["quantity"], 0.5);
}

#[test]
fn risk_agent_replies_to_requests_with_reasons() {
    let intent = |qty: f64| {
        format!(
            r#"{{"topic":"risk.check.request","correlation_id":7,"payload":{{"type":"order_intent","value":{{"symbol":"BTCUSDT","side":"buy","order_type":"limit","quantity":{qty},"limit_price":100.0,"time_in_force":"gtc"}}}}}}"#
        )
    };
    let input = [intent(0.5), intent(2.0), intent(500.0)].join("\n");
    let risk = agent("risk");
    let out = floor(
        &[
            "call",
            risk.to_str().unwrap(),
            "--config",
            "max_order_notional=10000",
            "--config",
            "max_position=1",
        ],
        Some(&input),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out.stdout);
    let verdict = |i: usize| got[i]["outputs"][0]["payload"]["value"].clone();
    assert_eq!(verdict(0), serde_json::json!({"verdict": "approve"}));
    assert_eq!(
        verdict(1),
        serde_json::json!({"verdict": "resize", "quantity": 1.0})
    );
    assert_eq!(
        verdict(2)["reason"],
        "max_order_notional: 50000.00 > 10000.00",
        "{:?}",
        got[2]
    );
}

#[test]
fn faults_are_reported_with_reason_codes_and_the_next_input_still_runs() {
    let ping = r#"{"topic":"test.ping.x","payload":{"type":"custom","value":[1]}}"#;
    let attack =
        r#"{"topic":"test.attack.x","payload":{"type":"custom","value":[97,116,116,97,99,107]}}"#;
    let input = [ping, attack, "this is not json", ping].join("\n");
    let hostile = fixture("hostile");
    let out = floor(
        &[
            "call",
            hostile.to_str().unwrap(),
            "--config",
            "mode=spin",
            "--fuel",
            "1000000",
        ],
        Some(&input),
    );
    assert_eq!(out.status.code(), Some(3), "exit 3 when any input faulted");
    let got = lines(&out.stdout);
    assert_eq!(got.len(), 4);
    assert_eq!(got[0]["outputs"][0]["topic"], "fixture.ok.count");
    assert_eq!(got[1]["fault"]["reason"], "fuel_exhausted");
    assert_eq!(got[2]["fault"]["reason"], "decode_error");
    assert_eq!(got[2]["line"], 3);
    // A fresh instance: its count starts again at 1.
    assert_eq!(
        got[3]["outputs"][0]["payload"]["value"],
        serde_json::json!([1, 0, 0, 0, 0, 0, 0, 0])
    );
}

#[test]
fn a_file_that_is_not_a_component_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm not really").unwrap();
    let out = floor(&["call", bogus.to_str().unwrap()], Some(""));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not a valid WebAssembly component"),
        "{err}"
    );
    assert!(err.contains("build it for wasm32-wasip2"), "{err}");
}
