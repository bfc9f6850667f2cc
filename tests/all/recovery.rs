//! Crash recovery: a node's state rebuilt from its journal, and `floor run`
//! killed with SIGKILL at random points and
//! restarted on the same data directory, trading through the Binance
//! connector on `floor venue sim` — a separate process that outlives every
//! host, as an exchange does, and answers slowly enough that orders are
//! often on the wire when the host dies.
//!
//! At the end the venue is the referee: every order it holds is one the
//! host journaled before it left, none under a client id sent twice, and
//! the host's store has each of them with the venue's fills, no more and
//! no fewer; the host's position is the venue's balance change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use floor_host::exchange::api::auth::hmac_hex;
use floor_host::exchange::setup::{DEFAULT_KEY, DEFAULT_SECRET};
use floor_host::node::record::kind;
use floor_host::venue::binance::executor::client_order_id;
use floor_tests::{
    SimProcess, fast_trend_agent, floor_bin, gate_agent, node_header, runtime, sim_config,
};
use serde_json::Value;

const SECRET_ENV: &str = "FLOOR_TEST_SIM_SECRET";

/// A host trading BTCUSDT on the simulator at `sim`: the trend strategy on
/// its shortest windows (it turns on almost every other quote, so orders
/// are in flight most of the time) behind a risk agent.
fn host_config(data: &Path, sim: &SimProcess) -> String {
    format!(
        r#"{header}
[venue]
kind = "binance"
rest_url = "{rest}"
stream_url = "{ws}"
ws_api_url = "{ws}"
api_key = "{DEFAULT_KEY}"
api_secret_env = "{SECRET_ENV}"
reconcile_secs = 1

[account]
balances = {{ BTC = 10.0, USDT = 1000000.0 }}

[limits]
max_orders_per_second = 50

# A checkpoint every second of event time: most kills land after one, and
# the next start replays only the journal since.
[journal]
checkpoint_every_s = 1
{trend}{gate}"#,
        header = node_header(data, 30_000.0),
        rest = sim.url,
        ws = sim.ws_url,
        trend = fast_trend_agent("trend"),
        gate = gate_agent(),
    )
}

/// `floor run CONFIG ARGS…` with the simulator's secret, its stderr kept
/// in `log`.
fn host(config: &Path, args: &[&str], log: &Path) -> std::process::Child {
    Command::new(floor_bin())
        .arg("run")
        .arg(config)
        .args(args)
        .env(SECRET_ENV, DEFAULT_SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("a log file"))
        .spawn()
        .expect("floor run starts")
}

/// Wait until `log` has a line containing `text` (the host said it is
/// up); give up after 3,000 looks 20 ms apart (a liveness bound, not a
/// speed check).
fn wait_for_line(log: &Path, text: &str, child: &mut std::process::Child) {
    for _ in 0..3_000 {
        let seen = std::fs::read_to_string(log).unwrap_or_default();
        if seen.contains(text) {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the host stopped ({status}) before it was up:\n{seen}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the host never said it was up: {}", log.display());
}

/// A signed GET on the simulator.
fn signed(sim: &SimProcess, path: &str, params: &str) -> Value {
    let ts = floor_host::exchange::api::now_ms();
    let payload = if params.is_empty() {
        format!("recvWindow=60000&timestamp={ts}")
    } else {
        format!("{params}&recvWindow=60000&timestamp={ts}")
    };
    let sig = hmac_hex(DEFAULT_SECRET.as_bytes(), &payload);
    let url = format!("{}{path}?{payload}&signature={sig}", sim.url);
    runtime().block_on(async {
        reqwest::Client::new()
            .get(&url)
            .header("X-MBX-APIKEY", DEFAULT_KEY)
            .send()
            .await
            .expect("the simulator answers")
            .json::<Value>()
            .await
            .expect("JSON")
    })
}

fn amount(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an amount: {v}"))
}

#[test]
fn twenty_kill_nines_lose_no_fill_and_send_no_order_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Every request takes 120 ms at the venue: an order is often on the
    // wire when the host dies, and only reconciliation can say what
    // became of it.
    let sim_file = dir.path().join("sim.toml");
    std::fs::write(
        &sim_file,
        format!(
            "latency_ms = 120\n{}\n[market]\nstep_ms = 25\n[[market.symbols]]\nsymbol = \"BTCUSDT\"\nprice = 30000.0\n",
            sim_config(&[("paper", DEFAULT_KEY, DEFAULT_SECRET)])
        ),
    )
    .unwrap();
    let sim = SimProcess::start(Some(&sim_file));
    let config = dir.path().join("host.toml");
    std::fs::write(&config, host_config(&data, &sim)).unwrap();

    // Kill points: every other run at a random moment from its start
    // (recovering, connecting or trading), the others at a random moment
    // once they trade (a loaded machine starts slowly: those still die
    // with orders in flight).
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..20 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let wait = Duration::from_millis(200 + (seed >> 33) % 2_500);
        let log = dir.path().join(format!("run-{i}.log"));
        let mut child = host(&config, &["--quiet"], &log);
        if i % 2 == 1 {
            wait_for_line(&log, "on venue `binance`", &mut child);
        }
        std::thread::sleep(wait);
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "run {i} stopped by itself ({status}) before its kill:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
    }
    // The last run ends by itself: its store is complete.
    let log = dir.path().join("last.log");
    let summary = dir.path().join("summary.json");
    let status = host(
        &config,
        &[
            "--quiet",
            "--for",
            "4s",
            "--summary-json",
            summary.to_str().unwrap(),
        ],
        &log,
    )
    .wait()
    .unwrap();
    let last_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "the last run failed:\n{last_log}");
    assert!(
        last_log.contains("carrying on from session"),
        "the last run recovered its predecessor's state:\n{last_log}"
    );

    // Every session, cut short or not, replays bit for bit from the state
    // it started from.
    let replay = floor_tests::floor(&["replay", data.to_str().unwrap(), "--json"], None);
    let report: Value = serde_json::from_slice(&replay.stdout).unwrap_or_else(|_| {
        panic!(
            "floor replay printed no report:\n{}",
            String::from_utf8_lossy(&replay.stderr)
        )
    });
    assert!(
        replay.status.success() && report["identical"] == true,
        "the replay diverged: {report:#}"
    );
    let sessions = report["sessions"].as_array().unwrap();
    assert!(sessions.len() >= 11, "{} sessions", sessions.len());
    assert!(
        sessions.iter().filter(|s| s["cut_short"] == true).count() >= 10,
        "the killed sessions are cut short"
    );
    assert_eq!(
        sessions.last().unwrap()["cut_short"],
        false,
        "the last run stopped cleanly"
    );
    // Runs took checkpoints; each was found to be the state the replay of
    // the session before it reached.
    let checked = sessions
        .iter()
        .filter(|s| s["checkpoint_checked"] == true)
        .count();
    assert!(checked >= 5, "{checked} checkpoints checked");

    // The host's orders as journaled before they left: no id twice.
    let scan = floor_host::journal::reader::read_all(&data.join("journal"), 1).unwrap();
    let mut sent: Vec<String> = scan
        .entries
        .iter()
        .filter(|e| e.kind == kind::ORDER)
        .map(|e| {
            floor_host::node::order_records::decode_order(&e.payload)
                .unwrap()
                .order_id
                .to_string()
        })
        .collect();
    let journaled = sent.len();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), journaled, "an order id was sent twice");
    assert!(journaled >= 10, "the host traded: {journaled} orders");
    let scope = std::fs::read_to_string(data.join("client_id_scope")).unwrap();
    let by_client: BTreeMap<String, String> = sent
        .iter()
        .map(|id| (client_order_id(scope.trim(), id), id.clone()))
        .collect();

    // The venue's orders and fills.
    let orders = signed(&sim, "/api/v3/allOrders", "symbol=BTCUSDT&limit=1000");
    let orders = orders.as_array().expect("a list of orders");
    let trades = signed(&sim, "/api/v3/myTrades", "symbol=BTCUSDT&limit=1000");
    let trades = trades.as_array().expect("a list of trades");
    let mut venue_fills: BTreeMap<u64, f64> = BTreeMap::new();
    for t in trades {
        *venue_fills
            .entry(t["orderId"].as_u64().unwrap())
            .or_default() += amount(&t["qty"]);
    }
    let mut clients = BTreeSet::new();
    for o in orders {
        let client = o["clientOrderId"].as_str().unwrap().to_string();
        assert!(
            clients.insert(client.clone()),
            "client id {client} twice at the venue"
        );
        assert!(
            by_client.contains_key(&client),
            "the venue has order {client}, which the host never journaled"
        );
    }

    // The host's store against the venue, order by order.
    let db = rusqlite::Connection::open(data.join("floor.db")).unwrap();
    let mut stored: BTreeMap<String, (String, f64, String)> = BTreeMap::new();
    let mut q = db
        .prepare("SELECT order_id, status, filled, coalesce(reason, '') FROM orders")
        .unwrap();
    for row in q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
    {
        let (id, status, filled, reason): (String, String, f64, String) = row.unwrap();
        stored.insert(id, (status, filled, reason));
    }
    let mut store_fills: BTreeMap<String, f64> = BTreeMap::new();
    let mut q = db
        .prepare("SELECT order_id, sum(quantity) FROM fills GROUP BY order_id")
        .unwrap();
    for row in q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
        .unwrap()
    {
        let (id, qty) = row.unwrap();
        store_fills.insert(id, qty);
    }
    let mut venue_filled_total = 0.0;
    for o in orders {
        let client = o["clientOrderId"].as_str().unwrap();
        let id = &by_client[client];
        let executed = amount(&o["executedQty"]);
        let traded = venue_fills
            .get(&o["orderId"].as_u64().unwrap())
            .copied()
            .unwrap_or(0.0);
        assert!(
            (executed - traded).abs() < 1e-9,
            "{id}: venue's own figures"
        );
        let (status, filled, _) = stored
            .get(id)
            .unwrap_or_else(|| panic!("the venue has {id}; the host's store does not"));
        assert!(
            (filled - executed).abs() < 1e-9,
            "{id}: the host has {filled} filled, the venue {executed} ({status})"
        );
        let fills = store_fills.get(id).copied().unwrap_or(0.0);
        assert!(
            (fills - executed).abs() < 1e-9,
            "{id}: the store's fills add up to {fills}, the venue filled {executed}"
        );
        let expected = match o["status"].as_str().unwrap() {
            "FILLED" => "filled",
            "CANCELED" => "cancelled",
            "EXPIRED" | "EXPIRED_IN_MATCH" => "expired",
            "NEW" => "accepted",
            "PARTIALLY_FILLED" => "partially_filled",
            other => panic!("{id}: venue status {other}"),
        };
        assert_eq!(status, expected, "{id}: the host's status");
        venue_filled_total += executed;
    }
    assert!(venue_filled_total > 0.0, "something filled");
    eprintln!(
        "{journaled} orders journaled, {} at the venue, {venue_filled_total} BTC filled",
        orders.len()
    );
    // Journaled, never at the venue: the host knows it was not placed.
    for (client, id) in &by_client {
        if clients.contains(client) {
            continue;
        }
        let (status, _, reason) = stored
            .get(id)
            .unwrap_or_else(|| panic!("{id} was journaled; the store does not have it"));
        assert_eq!(
            status, "rejected",
            "{id} never reached the venue ({reason})"
        );
    }

    // The account: the host's position is what the venue's balance moved.
    let account = signed(&sim, "/api/v3/account", "");
    let btc: f64 = account["balances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["asset"] == "BTC")
        .map(|b| amount(&b["free"]) + amount(&b["locked"]))
        .sum();
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let position: f64 = summary["positions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["symbol"] == "BTCUSDT")
        .map(|p| p["quantity"].as_f64().unwrap())
        .sum();
    assert!(
        (position - (btc - 10.0)).abs() < 1e-8,
        "the host's BTCUSDT position {position}, the venue's BTC moved by {}",
        btc - 10.0
    );
}

#[test]
fn a_recovered_node_has_the_state_the_dead_one_had_and_stays_halted() {
    use floor_host::node::operator::Operation;
    use floor_host::risk::TradingMode;
    let data = tempfile::tempdir().unwrap();
    let (mut node, _) = crate::journal::witnessed_node(data.path());
    let sent = crate::journal::turn(&mut node, 1..=9);
    assert!(sent >= 4, "the desk traded: {sent}");
    node.operate(Operation::Trading {
        state: TradingMode::Halted,
        reason: "end of the test".into(),
    })
    .unwrap();
    let live = node.capture();
    // No clean stop: the node just goes, as a killed host does.
    drop(node);

    let recovered = floor_host::replay::recover::recover(data.path())
        .unwrap()
        .expect("a session to recover");
    assert!(recovered.divergence.is_none());
    assert_eq!(recovered.unsent, 0);
    assert_eq!(
        recovered.state, live,
        "agents, orders, account, stops, trading state: as the dead node had them"
    );
    assert!(
        recovered.state.oms.portfolio.positions["BTCUSDT"].quantity != 0.0,
        "a position to carry: {:?}",
        recovered.state.oms.portfolio
    );

    // Carrying on: still halted, same position, and the agent remembers
    // its averages (its next intents are refused by the halt, not lost).
    let (mut node, _) = crate::journal::witnessed_node_from(data.path(), Some(&recovered.state));
    assert_eq!(node.trading().mode(), TradingMode::Halted);
    assert_eq!(
        node.oms().portfolio.position("BTCUSDT"),
        recovered.state.oms.portfolio.positions["BTCUSDT"]
    );
    assert_eq!(
        crate::journal::turn(&mut node, 10..=14),
        0,
        "halted: nothing sent"
    );
    let summary = node.summary(0.0);
    assert!(
        summary
            .reject_reasons
            .keys()
            .any(|k| k.contains("trading_halted")),
        "the agent kept trading and was refused: {:?}",
        summary.reject_reasons
    );
    drop(node);

    // Both sessions replay bit for bit, the second from the state it
    // started from.
    let out = floor_tests::floor(&["replay", data.path().to_str().unwrap(), "--json"], None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report:#}");
    let sessions = report["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s["cut_short"] == true));
}
