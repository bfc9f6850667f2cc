//! `floor backtest`: the demo's agents on a fixture data set, the same
//! report every time, and bad data refused with its row.

use std::fmt::Write as _;
use std::path::Path;

/// A deterministic fixture: `n` quotes alternating between BTCUSDT and
/// ETHUSDT, 100 ms apart, on a slow sine with a drift, and a trade every
/// tenth row.
fn fixture(path: &Path, n: u64) {
    let mut csv = String::from("time,symbol,bid,ask,bid_size,ask_size,price,size,side\n");
    let t0 = 1_795_305_600_000_000_000u64;
    for i in 0..n {
        let t = t0 + i * 100_000_000;
        let x = i as f64;
        let wave = (x / 300.0).sin() * 0.02 + (x / 37.0).sin() * 0.003 + x * 1e-6;
        let (symbol, base) = if i % 2 == 0 {
            ("BTCUSDT", 60_000.0)
        } else {
            ("ETHUSDT", 3_000.0)
        };
        let mid = base * (1.0 + wave);
        let half = mid * 0.00005;
        if i % 10 == 9 {
            let _ = writeln!(csv, "{t},{symbol},,,,,{mid:.2},0.5,sell");
        } else {
            let _ = writeln!(
                csv,
                "{t},{symbol},{:.2},{:.2},5,5,,,",
                mid - half,
                mid + half
            );
        }
    }
    std::fs::write(path, csv).unwrap();
}

/// `floor backtest --data DATA --json JSON EXTRA…`: the report's bytes and
/// what it said on stderr.
fn backtest(data: &Path, json: &Path, extra: &[&str]) -> (Vec<u8>, String) {
    let mut args = vec![
        "backtest",
        "--data",
        data.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = floor_tests::floor(&args, None);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{said}");
    (std::fs::read(json).unwrap(), said)
}

fn run(data: &Path, json: &Path, extra: &[&str]) -> serde_json::Value {
    serde_json::from_slice(&backtest(data, json, extra).0).unwrap()
}

#[test]
fn a_backtest_gives_the_same_report_twice_with_charts_from_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ticks.csv");
    fixture(&data, 20_000);
    let html = dir.path().join("report.html");
    let first = run(
        &data,
        &dir.path().join("a.json"),
        &["--report", html.to_str().unwrap()],
    );
    let second = run(&data, &dir.path().join("b.json"), &[]);
    assert_eq!(first, second, "the same config and data, the same report");
    assert_eq!(first["events"], 20_000);
    let orders = first["orders"].as_u64().unwrap();
    assert!(orders > 0, "the demo's strategies traded: {first}");
    assert!(first["fills"].as_u64().unwrap() > 0);
    assert!(first["fees"].as_f64().unwrap() > 0.0);
    // Round trips close (the trend strategy flips long and short).
    let (trades, wins) = (
        first["trades"].as_u64().unwrap(),
        first["wins"].as_u64().unwrap(),
    );
    assert!(trades > 0 && wins <= trades, "{trades} trades, {wins} wins");
    assert_eq!(
        first["win_rate"].as_f64().unwrap(),
        wins as f64 / trades as f64
    );
    let pnl = first["pnl"].as_f64().unwrap();
    let (start, end) = (
        first["start_equity"].as_f64().unwrap(),
        first["end_equity"].as_f64().unwrap(),
    );
    assert!(
        (end - start - pnl).abs() < 1e-6,
        "equity moves by the PnL: {first}"
    );
    // 2,000 s of data in one-minute bars.
    let curve = first["equity_curve"].as_array().unwrap();
    assert_eq!(curve.len(), 34);
    assert_eq!(curve.last().unwrap()[1], first["end_equity"]);
    let dd = first["max_drawdown"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&dd));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<polyline") && page.contains("Drawdown"));
    assert!(
        !page.contains("http"),
        "nothing fetched: the page is offline"
    );
}

#[test]
fn bad_data_is_refused_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("bad.csv");
    std::fs::write(
        &data,
        "time,symbol,bid,ask\n2,BTCUSDT,100,101\n1,BTCUSDT,100,101\n",
    )
    .unwrap();
    let out = floor_tests::floor(&["backtest", "--data", data.to_str().unwrap()], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2") && err.contains("goes back"), "{err}");
}

#[test]
fn a_sweep_backtests_every_point_and_threads_do_not_change_a_figure() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ticks.csv");
    fixture(&data, 6_000);
    let sweep = [
        "--sweep",
        "trend.fast=4,8",
        "--sweep",
        "trend.slow=16,24,32",
    ];
    let one = run(
        &data,
        &dir.path().join("one.json"),
        &[&sweep[..], &["--threads", "1"]].concat(),
    );
    let two = run(
        &data,
        &dir.path().join("two.json"),
        &[&sweep[..], &["--threads", "2"]].concat(),
    );
    assert_eq!(one, two, "the same grid on 1 and 2 threads");
    let points = one.as_array().unwrap();
    assert_eq!(points.len(), 6, "2 × 3 points");
    assert_eq!(points[0]["params"]["trend.fast"], "4");
    assert_eq!(points[0]["params"]["trend.slow"], "16");
    assert_eq!(points[5]["params"]["trend.fast"], "8");
    assert_eq!(points[5]["params"]["trend.slow"], "32");
    // Each point is the plain backtest of its settings: the demo's own
    // (fast 8, slow 24) is point 4.
    let alone = run(&data, &dir.path().join("alone.json"), &[]);
    assert_eq!(points[4]["report"], alone, "a point is its own backtest");
    let pnls: std::collections::BTreeSet<String> = points
        .iter()
        .map(|p| p["report"]["pnl"].to_string())
        .collect();
    assert!(pnls.len() > 1, "the settings change the outcome: {pnls:?}");

    // An axis for an agent the config does not run is refused up front.
    let out = floor_tests::floor(
        &[
            "backtest",
            "--data",
            data.to_str().unwrap(),
            "--sweep",
            "nosuch.fast=1,2",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no agent `nosuch`") && err.contains("trend"),
        "{err}"
    );
}

#[test]
fn a_hosts_journal_is_backtest_data() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    floor_tests::run_synthetic_demo(run_dir.to_str().unwrap(), 3_000);
    let journal = floor_tests::floor(&["journal", run_dir.to_str().unwrap(), "--json"], None);
    let summary: serde_json::Value = serde_json::from_slice(&journal.stdout).unwrap();
    let market = summary["by_kind"]["market"].as_u64().unwrap();
    let report = run(&run_dir, &dir.path().join("r.json"), &[]);
    assert_eq!(
        report["events"].as_u64(),
        Some(market),
        "every recorded market event"
    );
    assert!(report["orders"].as_u64().unwrap() > 0, "{report}");
    let again = run(&run_dir, &dir.path().join("r2.json"), &[]);
    assert_eq!(report, again);
}

#[test]
fn a_news_file_is_merged_with_the_market_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ticks.csv");
    fixture(&data, 2_000); // 200 s of market from t0
    let t0 = 1_795_305_600_000_000_000u64;
    let news = dir.path().join("news.csv");
    std::fs::write(
        &news,
        format!(
            "time,headline,source,symbols\n{},BTC breaks out,wire,BTCUSDT\n{},ETH upgrade ships,wire,ETHUSDT\n{},After the close,wire,\n",
            t0 + 5_000_000_000,
            t0 + 150_000_000_000,
            t0 + 900_000_000_000,
        ),
    )
    .unwrap();
    // The demo's config, its paths made absolute, with the news file.
    let root = floor_tests::workspace();
    let demo = std::fs::read_to_string(root.join("examples/demo.toml"))
        .unwrap()
        .replace("\"../target/", &format!("\"{}/target/", root.display()));
    let config = dir.path().join("news.toml");
    std::fs::write(
        &config,
        format!("{demo}\n[news]\nfile = \"{}\"\n", news.display()),
    )
    .unwrap();
    let report = run(
        &data,
        &dir.path().join("r.json"),
        &["--config", config.to_str().unwrap()],
    );
    // Two headlines fall within the market data; the one after its end
    // has no market to be merged into.
    assert_eq!(report["news"], 2, "{report:#}");
    // A bad news file fails the config, naming the line.
    std::fs::write(&news, "time,headline\nnot-a-time,x\n").unwrap();
    let out = floor_tests::floor(
        &[
            "backtest",
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("line 2: time `not-a-time`"), "{said}");
}

#[test]
fn runs_of_ticks_in_one_call_give_the_report_of_one_call_per_tick() {
    // The benches' node (examples/profile.toml: the trend strategy alone
    // on BTCUSDT ticks, its orders through the risk agent) on a wave of
    // BTCUSDT quotes: quiet stretches between its orders go in runs.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("btc.csv");
    let mut csv = String::from("time,symbol,bid,ask\n");
    for i in 0..6_000u64 {
        let mid = 60_000.0 * (1.0 + (i as f64 / 150.0).sin() * 0.01);
        let _ = writeln!(
            csv,
            "{},BTCUSDT,{:.2},{:.2}",
            1_795_305_600_000_000_000u64 + i * 100_000_000,
            mid - 1.0,
            mid + 1.0
        );
    }
    std::fs::write(&data, csv).unwrap();
    let profile = floor_tests::workspace().join("examples/profile.toml");
    let profile = profile.to_str().unwrap();
    let (runs, said) = backtest(&data, &dir.path().join("runs.json"), &[profile]);
    let (one, said_one) = backtest(
        &data,
        &dir.path().join("one.json"),
        &[profile, "--one-at-a-time"],
    );
    assert_eq!(
        String::from_utf8_lossy(&runs),
        String::from_utf8_lossy(&one),
        "the same report, byte for byte"
    );
    let report: serde_json::Value = serde_json::from_slice(&runs).unwrap();
    assert!(
        report["orders"].as_u64().unwrap() > 10,
        "it traded: {report}"
    );
    let taken = |s: &str| -> u64 {
        let (_, rest) = s.split_once("events/s; ").expect(s);
        rest.split(' ').next().unwrap().parse().expect(s)
    };
    assert_eq!(taken(&said_one), 0, "{said_one}");
    assert!(taken(&said) > 5_000, "most ticks went in runs: {said}");
}
