//! Agent templates: `floor new` makes a project outside this repository,
//! `floor build` turns it into a signed component of the host's world —
//! with no registry (`CARGO_NET_OFFLINE`) — and `floor call` runs it on
//! scripted input, across a snapshot/restore too.

use std::path::Path;
use std::process::Command;

use floor_tests::{dev_key, floor, workspace};
use serde_json::Value;

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn ok(out: &std::process::Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The repository's pinned toolchain (`rust-toolchain.toml`), whose
/// wasm32-wasip2 target `.ci/run` installs: the projects live outside the
/// repository, where rustup would otherwise pick the default toolchain.
fn toolchain() -> String {
    let text = std::fs::read_to_string(workspace().join("rust-toolchain.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table["toolchain"]["channel"].as_str().unwrap().to_string()
}

fn quote(mid: f64) -> String {
    format!(
        r#"{{"topic":"md.tick.BTCUSDT","payload":{{"type":"quote","value":{{"symbol":"BTCUSDT","bid":{},"bid_size":1.0,"ask":{},"ask_size":1.0}}}}}}"#,
        mid - 0.5,
        mid + 0.5
    )
}

/// `floor new NAME --kind KIND` in `dir`, then `floor build` offline with
/// the development key; the projects share one target directory so the
/// SDK's dependencies compile once.
fn new_and_build(dir: &Path, name: &str, kind: &str) -> std::path::PathBuf {
    new_and_build_in(dir, name, kind, "rust")
}

fn new_and_build_in(dir: &Path, name: &str, kind: &str, lang: &str) -> std::path::PathBuf {
    ok(
        &floor(
            &[
                "new",
                name,
                "--lang",
                lang,
                "--kind",
                kind,
                "--dir",
                dir.to_str().unwrap(),
            ],
            None,
        ),
        "floor new",
    );
    let project = dir.join(name);
    let shared = dir.join("shared-target");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, project.join("target")).unwrap();
    let out = build(&project, &[]);
    let said = ok(&out, &format!("floor build of the {kind} template"));
    assert!(said.contains("checked against this host's world"), "{said}");
    let wasm = project.join(format!("{name}.wasm"));
    assert!(wasm.is_file());
    wasm
}

/// The directory `cargo xtask test` installs the npm-borne toolchain in
/// (componentize-qjs), put first on PATH as a global install would be.
fn path_with_toolchains() -> std::ffi::OsString {
    let bin = workspace().join("target/toolchains/node_modules/.bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).unwrap()
}

/// `floor build DIR` offline with the development key, and `env` on top.
fn build(project: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let key = dev_key().with_extension("key");
    Command::new(floor_tests::floor_bin())
        .args(["build", project.to_str().unwrap(), "--key"])
        .arg(&key)
        .env("CARGO_NET_OFFLINE", "true")
        .env("RUSTUP_TOOLCHAIN", toolchain())
        .env("PATH", path_with_toolchains())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn call(wasm: &Path, config: &[&str], input: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["call", wasm.to_str().unwrap()];
    for c in config {
        args.extend(["--config", c]);
    }
    args.extend_from_slice(extra);
    lines(ok(&floor(&args, Some(input)), "floor call").as_bytes())
}

/// `wasm` (signed with the development key, manifest `name` 0.1.0) checked
/// as a host would.
fn verified(wasm: &Path, name: &str) {
    let out = floor(
        &[
            "verify",
            wasm.to_str().unwrap(),
            "--trust",
            dev_key().to_str().unwrap(),
        ],
        None,
    );
    let said = ok(&out, "floor verify");
    assert!(said.contains(&format!("{name} 0.1.0 (strategy)")), "{said}");
}

/// The crossover strategy of either template, as agent `name`, on a rise
/// and a fall (fast 2, slow 3): it signals and buys, then signals and
/// sends `sides` — the same with a snapshot/restore after five inputs.
/// (`floor call` reports no fills: the Rust template's targeter waits for
/// the buy's outcome before it sells; the Python one assumes the fill.)
fn trades_the_crossover(wasm: &Path, name: &str, sides: &[&str]) {
    let mids = [
        100.0, 100.0, 100.0, 99.0, 101.0, 103.0, 104.0, 101.0, 98.0, 96.0,
    ];
    let input: Vec<String> = mids.iter().map(|m| quote(*m)).collect();
    let input = input.join("\n");
    let config = ["symbol=BTCUSDT", "fast=2", "slow=3", "quantity=0.5"];
    let plain = call(wasm, &config, &input, &[]);
    let swapped = call(wasm, &config, &input, &["--swap-after", "5"]);
    assert_eq!(
        plain, swapped,
        "snapshot/restore after 5 inputs changes nothing"
    );
    let outputs: Vec<&Value> = plain
        .iter()
        .flat_map(|l| l["outputs"].as_array().unwrap())
        .collect();
    let sent: Vec<&str> = outputs
        .iter()
        .filter(|o| o["kind"] == "order")
        .map(|o| o["intent"]["side"].as_str().unwrap())
        .collect();
    assert_eq!(sent, sides, "{plain:?}");
    let topic = format!("signal.{name}.BTCUSDT");
    assert_eq!(
        outputs
            .iter()
            .filter(|o| o["topic"] == topic.as_str())
            .count(),
        2,
        "{plain:?}"
    );
}

#[test]
fn every_rust_template_builds_signed_and_runs_in_the_host() {
    let dir = tempfile::tempdir().unwrap();

    // A strategy: names filled in, its own unit tests pass, it orders on a
    // crossover, and a snapshot/restore midway changes nothing.
    let wasm = new_and_build(dir.path(), "sma-probe", "strategy");
    let project = dir.path().join("sma-probe");
    let manifest = std::fs::read_to_string(project.join("manifest.toml")).unwrap();
    assert!(manifest.contains("name = \"sma-probe\"") && manifest.contains("role = \"strategy\""));
    assert!(
        !std::fs::read_to_string(project.join("src/lib.rs"))
            .unwrap()
            .contains("{{")
    );
    verified(&wasm, "sma-probe");
    let tests = Command::new("cargo")
        .args(["test", "--offline", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.path().join("native-target"))
        .env("RUSTUP_TOOLCHAIN", toolchain())
        .output()
        .unwrap();
    let said = ok(&tests, "the template's own cargo test");
    assert!(said.contains("2 passed"), "{said}");
    trades_the_crossover(&wasm, "sma-probe", &["buy"]);

    // A risk check: a fat finger rejected by rule, a sane price approved.
    let wasm = new_and_build(dir.path(), "band-probe", "risk");
    let intent = |price: f64| {
        format!(
            r#"{{"topic":"risk.check.request","correlation_id":7,"payload":{{"type":"order_intent","value":{{"symbol":"BTCUSDT","side":"buy","order_type":"limit","quantity":1.0,"limit_price":{price},"time_in_force":"gtc"}}}}}}"#
        )
    };
    let input = [quote(100.0), intent(101.0), intent(130.0)].join("\n");
    let got = call(&wasm, &["band_pct=5"], &input, &[]);
    let verdict = |i: usize| got[i]["outputs"][0]["payload"]["value"].clone();
    assert_eq!(verdict(1)["verdict"], "approve", "{got:?}");
    assert_eq!(verdict(2)["verdict"], "reject", "{got:?}");
    assert!(
        verdict(2)["reason"]
            .as_str()
            .unwrap()
            .starts_with("price_band:"),
        "{got:?}"
    );

    // A model publishes a bounded score; an observer alerts on a big trade.
    let wasm = new_and_build(dir.path(), "dev-probe", "model");
    let input: Vec<String> = (0..30).map(|i| quote(100.0 + f64::from(i % 7))).collect();
    let got = call(
        &wasm,
        &["symbol=BTCUSDT", "period=5"],
        &input.join("\n"),
        &[],
    );
    let scores: Vec<f64> = got
        .iter()
        .flat_map(|l| l["outputs"].as_array().unwrap())
        .map(|o| o["payload"]["value"]["score"].as_f64().unwrap())
        .collect();
    assert!(!scores.is_empty() && scores.iter().all(|s| (-10.0..=10.0).contains(s)));
    let wasm = new_and_build(dir.path(), "tape-probe", "observer");
    let trade = |size: f64| {
        format!(
            r#"{{"topic":"md.trade.BTCUSDT","payload":{{"type":"trade","value":{{"symbol":"BTCUSDT","price":100.0,"size":{size},"aggressor":"buy","trade_id":1}}}}}}"#
        )
    };
    let got = call(
        &wasm,
        &["alert_size=5"],
        &[trade(1.0), trade(9.0)].join("\n"),
        &[],
    );
    assert_eq!(got[0]["outputs"], serde_json::json!([]));
    assert_eq!(got[1]["outputs"][0]["kind"], "alert", "{got:?}");

    // Projects the host does not know are refused with what to do.
    let out = floor(&["build", workspace().join("docs").to_str().unwrap()], None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no agent project `floor build` knows")
    );
    let out = floor(
        &[
            "new",
            "x",
            "--lang",
            "c",
            "--kind",
            "risk",
            "--dir",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no C risk template"));
    let out = floor(
        &["new", "Bad_Name", "--dir", dir.path().to_str().unwrap()],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot name an agent"));
}

/// A strategy template in `lang` (Python, JavaScript, C): made, built,
/// verified; its own unit tests (`own_tests`, run in the project) pass;
/// it trades the crossover across a snapshot; a config it refuses is its
/// error, said as such. Returns the project's directory (in `dir`).
fn a_strategy_template(
    dir: &Path,
    lang: &str,
    name: &str,
    own_tests: &[&str],
) -> std::path::PathBuf {
    let wasm = new_and_build_in(dir, name, "strategy", lang);
    let project = dir.join(name);
    verified(&wasm, name);
    let tests = Command::new(own_tests[0])
        .args(&own_tests[1..])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        tests.status.success(),
        "{own_tests:?}: {}{}",
        String::from_utf8_lossy(&tests.stdout),
        String::from_utf8_lossy(&tests.stderr)
    );
    trades_the_crossover(&wasm, name, &["buy", "sell"]);
    let refused = floor(
        &["call", wasm.to_str().unwrap(), "--config", "fast=2"],
        Some(&quote(100.0)),
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("bad_config: config key `symbol` is required"),
        "{said}"
    );
    project
}

#[test]
fn the_python_template_builds_signed_and_trades_across_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    a_strategy_template(
        dir.path(),
        "python",
        "py-probe",
        &["python3", "-m", "unittest"],
    );
}

#[test]
fn the_javascript_template_builds_signed_and_trades_across_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let project = a_strategy_template(dir.path(), "javascript", "js-probe", &["node", "--test"]);
    // A script that does not parse stops the build, with the tool's words.
    std::fs::write(project.join("logic.js"), "export class Sma {").unwrap();
    let out = build(&project, &[]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("componentize-qjs failed to build"), "{said}");
    // No componentize-qjs anywhere: say how to get it.
    let out = build(&project, &[("PATH", "/usr/bin:/bin")]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("componentize-qjs is not installed: run `npm install`"),
        "{said}"
    );
}

#[test]
fn the_c_template_builds_signed_and_trades_across_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let project = a_strategy_template(dir.path(), "c", "c-probe", &["make", "test"]);
    let size = std::fs::metadata(project.join("c-probe.wasm"))
        .unwrap()
        .len();
    assert!(
        size < 200 * 1024,
        "a C agent of {size} bytes: debug info left in?"
    );
    // A compiler that is not there is named, with how to get one.
    let out = build(&project, &[("CC", "/nonexistent/cc")]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cannot run CC=`/nonexistent/cc`") && said.contains("pip install ziglang"),
        "{said}"
    );
    // An agent missing an export does not link, and the linker names it.
    let app = std::fs::read_to_string(project.join("app.c")).unwrap();
    let cut = app.find("bool exports_floor_agent_agent_restore").unwrap();
    std::fs::write(project.join("app.c"), &app[..cut]).unwrap();
    let out = build(&project, &[]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("undefined symbol: exports_floor_agent_agent_restore")
            && said.contains("failed to build"),
        "{said}"
    );
}
