//! Helpers for Floor's integration tests: where the built agents, fixtures
//! and the `floor` binary are, and a node around one hostile agent.
//!
//! `cargo xtask test` builds all of them before it runs the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use floor_host::config::NodeConfig;
use floor_host::model::{OrderStatus, Payload, Side, TopicPattern};
use floor_host::node::Node;
use floor_host::venue::sim::{SimConfig, SimVenue};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.is_file(),
        "`{}` is missing: run the suite with `cargo xtask test`, which builds it",
        path.display()
    );
    path
}

/// A reference agent, `target/agents/<name>.wasm`.
pub fn agent(name: &str) -> PathBuf {
    built(
        workspace()
            .join("target/agents")
            .join(format!("{name}.wasm")),
    )
}

/// A test fixture, `target/fixtures/<name>.wasm`.
pub fn fixture(name: &str) -> PathBuf {
    built(
        workspace()
            .join("target/fixtures")
            .join(format!("{name}.wasm")),
    )
}

/// The compile cache every test node shares, so each component is compiled
/// once per test run rather than once per test.
pub fn test_cache() -> PathBuf {
    workspace().join("target/test-cache")
}

/// The development key `cargo xtask` signs every agent and fixture with:
/// its public half, `target/keys/dev.pub`.
pub fn dev_key() -> PathBuf {
    built(workspace().join("target/keys/dev.pub"))
}

/// A `[trust]` section that trusts the development key for every role:
/// test nodes run signed agents through the real path.
pub fn dev_trust() -> String {
    format!(
        "\n[trust]\n[[trust.keys]]\nname = \"dev\"\npublic_key = \"{}\"\n\n",
        dev_key().display()
    )
}

/// `[node]` with `data_dir` and the shared compile cache, then
/// [`dev_trust`]: the head of every test config.
pub fn node_section(data: &Path) -> String {
    format!(
        "[node]\ndata_dir = \"{}\"\ncache_dir = \"{}\"\n{}",
        data.display(),
        test_cache().display(),
        dev_trust()
    )
}

/// The debug `floor` binary.
pub fn floor_bin() -> PathBuf {
    built(workspace().join("target/debug/floor"))
}

/// Run `floor` with `args` in the workspace root and `stdin`.
pub fn floor(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(floor_bin())
        .args(args)
        .current_dir(workspace())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("floor starts");
    {
        let mut input = child.stdin.take().expect("stdin is piped");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("writing stdin");
        }
    }
    child.wait_with_output().expect("floor runs")
}

/// The one symbol test configs trade.
pub const BTCUSDT: &str = r#"
[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 100.0
"#;

/// An `[[agents]]` table for the hostile fixture named `name`: `config` is
/// the body of its config table (`mode = "flaky"`), `subscribe` and
/// `publish` the bodies of those lists, `extra` more lines for the table.
pub fn hostile_agent(
    name: &str,
    config: &str,
    subscribe: &str,
    publish: &str,
    extra: &str,
) -> String {
    format!(
        "\n[[agents]]\nname = \"{name}\"\npath = \"{}\"\nrole = \"model\"\nsubscribe = [{subscribe}]\npublish = [{publish}]\nconfig = {{ {config} }}\n{extra}\n",
        fixture("hostile").display()
    )
}

/// An `[[agents]]` table for the counter fixture, named `counter`,
/// subscribed to `subscribe` (a list body) and publishing `swap.#`;
/// `config` is the body of its config table.
pub fn counter_agent(subscribe: &str, config: &str) -> String {
    format!(
        "\n[[agents]]\nname = \"counter\"\npath = \"{}\"\nrole = \"model\"\nsubscribe = [{subscribe}]\npublish = [\"swap.#\"]\nconfig = {{ {config} }}\n",
        fixture("counter").display()
    )
}

/// The bytes of component `path` with a custom section `floor-test-variant`
/// holding `tag` appended, signed again with the development key: the same
/// code, a different hash — a second "build" of an agent for deploy tests.
pub fn variant(path: &Path, tag: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("component built (cargo xtask build)");
    let name = b"floor-test-variant";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(tag.as_bytes());
    assert!(body.len() < 128, "one-byte LEB128 size");
    bytes.push(0); // custom section id
    bytes.push(body.len() as u8);
    bytes.extend_from_slice(&body);
    dev_signed(&bytes)
}

/// `bytes` signed (once more) with the development key.
pub fn dev_signed(bytes: &[u8]) -> Vec<u8> {
    let key = floor_host::signing::keys::load_secret(&dev_key().with_extension("key"))
        .expect("the development key (cargo xtask build makes it)");
    floor_host::signing::artifact::sign(bytes, &key.secret, key.key_id()).expect("signs")
}

/// A quiet simulated venue for `cfg`'s symbols: seed 1, event time from 0
/// in 1 ms steps, no trades, no fees.
pub fn test_venue(cfg: &NodeConfig) -> SimVenue {
    SimVenue::new(SimConfig {
        seed: 1,
        start_time: 0,
        step: 1_000_000,
        trade_probability: 0.0,
        taker_fee_bps: 0.0,
        maker_fee_bps: 0.0,
        symbols: cfg.sim_symbols(),
    })
}

/// A node over a config made of one BTCUSDT symbol and `agents` (TOML
/// `[[agents]]` tables; `{hostile}` stands for the hostile fixture's path),
/// with a data directory of its own and a tap on `fixture.ok.#`.
pub fn node_with(agents: &str) -> (Node, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "{}{BTCUSDT}\n{}",
        node_section(data.path()),
        agents.replace("{hostile}", &fixture("hostile").display().to_string())
    );
    let cfg = NodeConfig::parse(&text, "<test>", Path::new(".")).expect("valid test config");
    let venue = test_venue(&cfg);
    let mut node = Node::new(&cfg, Box::new(venue)).expect("node starts");
    node.tap(TopicPattern::parse("fixture.ok.#").expect("valid pattern"));
    (node, data)
}

/// The texts published on `topic` that the node's tap saw.
pub fn published(node: &Node, topic: &str) -> Vec<String> {
    node.tapped()
        .iter()
        .filter(|e| e.topic == topic)
        .map(|e| match &e.payload {
            Payload::Custom(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("unexpected payload {other:?}"),
        })
        .collect()
}

/// `[supervisor]` with no restart backoff: for tests of one fault at a
/// time, or of the bus's own retry backoff, at a fixed event time.
pub const NO_RESTART_BACKOFF: &str = "[supervisor]\nrestart_backoff_ms = 0\n\n";

/// A node with one agent built from the hostile fixture.
pub struct HostileNode {
    /// The node.
    pub node: Node,
    data: tempfile::TempDir,
}

impl HostileNode {
    /// The hostile agent in `mode`, with `limits` (an inline TOML table body
    /// such as `fuel = 1000`), `publish` rights and subscribed to `test.#`.
    /// It is served again at once after a fault (no restart backoff), so a
    /// test sees the next message handled without moving event time.
    pub fn new(mode: &str, limits: &str, publish: &str) -> Self {
        Self::with(mode, limits, publish, "")
    }

    /// Like [`HostileNode::new`], with `extra` TOML lines added to the
    /// agent's table (e.g. `read_dirs = { "/data" = "/tmp/x" }`).
    pub fn with(mode: &str, limits: &str, publish: &str, extra: &str) -> Self {
        Self::with_config(mode, limits, publish, extra, "")
    }

    /// Like [`HostileNode::with`], with more agent config pairs
    /// (`connect = "127.0.0.1:80"`, inline-table syntax, after `mode`).
    pub fn with_config(mode: &str, limits: &str, publish: &str, extra: &str, config: &str) -> Self {
        let config = if config.is_empty() {
            String::new()
        } else {
            format!(", {config}")
        };
        let data = tempfile::tempdir().expect("temp dir");
        let text = format!(
            "{}[runtime]\npool_instances = 8\n\n{NO_RESTART_BACKOFF}{BTCUSDT}{}",
            node_section(data.path()),
            hostile_agent(
                "hostile",
                &format!(r#"mode = "{mode}"{config}"#),
                r#""test.#""#,
                publish,
                &format!("limits = {{ {limits} }}\n{extra}"),
            ),
        );
        let cfg = NodeConfig::parse(&text, "<test>", Path::new(".")).expect("valid test config");
        let venue = test_venue(&cfg);
        let mut node = Node::new(&cfg, Box::new(venue)).expect("node starts");
        node.tap(TopicPattern::parse("fixture.ok.#").expect("valid pattern"));
        Self { node, data }
    }

    /// The node's data directory (its `dlq.jsonl` is there).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Publish a harmless message.
    pub fn ping(&mut self) {
        self.node
            .publish("test.ping.now", Payload::Custom(b"hello".to_vec()));
    }

    /// Publish the message that makes the fixture misbehave.
    pub fn attack(&mut self) {
        self.node
            .publish("test.attack.now", Payload::Custom(b"attack".to_vec()));
    }

    /// The message counts the fixture has published so far (the count is
    /// its state: a restart after a fault carries it on).
    pub fn counts(&self) -> Vec<u64> {
        self.node
            .tapped()
            .iter()
            .filter(|e| e.topic == "fixture.ok.count")
            .map(|e| match &e.payload {
                Payload::Custom(b) => u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
                other => panic!("unexpected payload {other:?}"),
            })
            .collect()
    }

    /// Texts the fixture published on `topic`, in order.
    pub fn published(&self, topic: &str) -> Vec<String> {
        published(&self.node, topic)
    }
}

/// Two `[[agents]]` tables: `desk`, a strategy (the trend agent) that
/// may trade BTCUSDT and that tests send intents for, and `gate`, a risk
/// agent that approves anything sane.
pub fn desk_and_gate() -> String {
    desk_agent() + &gate_agent()
}

/// An `[[agents]]` table: the trend strategy as `name`, on its shortest
/// windows (1 and 2 ticks of BTCUSDT), so it turns — and trades 0.01 —
/// on almost every other quote.
pub fn fast_trend_agent(name: &str) -> String {
    format!(
        r#"
[[agents]]
name = "{name}"
path = "{}"
role = "strategy"
subscribe = ["md.tick.BTCUSDT"]
publish = ["signal.trend.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", fast = 1, slow = 2, quantity = 0.01 }}
"#,
        agent("trend").display()
    )
}

/// The `gate` risk agent of [`desk_and_gate`] alone: the risk agent with
/// limits far out of the way, so it approves what tests send.
pub fn gate_agent() -> String {
    format!(
        r#"
[[agents]]
name = "gate"
path = "{}"
role = "risk"
limits = {{ deadline_ms = 2000 }}
config = {{ max_order_notional = 1e9, max_position = 1000.0 }}
"#,
        agent("risk").display()
    )
}

/// The `desk` strategy of [`desk_and_gate`] alone: the trend agent, allowed
/// to trade BTCUSDT (tests send intents on its behalf with `Node::submit`)
/// and to publish what its signed manifest asks for.
pub fn desk_agent() -> String {
    format!(
        r#"
[[agents]]
name = "desk"
path = "{}"
role = "strategy"
publish = ["signal.trend.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT" }}
"#,
        agent("trend").display()
    )
}

/// The start of a test config: `[node]` with `data` and the shared compile
/// cache, then one BTCUSDT symbol (base BTC, quote USDT) at `price`.
pub fn node_header(data: &Path, price: f64) -> String {
    format!(
        "{}[[symbols]]\nsymbol = \"BTCUSDT\"\nbase = \"BTC\"\nquote = \"USDT\"\nprice = {price:?}\n",
        node_section(data)
    )
}

/// A node running `agents` (TOML) beside the `gate` risk agent, with
/// `cash` USDT, tapping signals and order events: the reference agents'
/// tests.
pub fn trading_node(agents: &str, cash: f64) -> (Node, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("temp dir");
    let text = format!(
        "{}[account]\nbalances = {{ USDT = {cash:?} }}\n{agents}{}",
        node_header(data.path(), 20_000.0),
        gate_agent()
    );
    let cfg = NodeConfig::parse(&text, "<test>", Path::new(".")).expect("valid test config");
    let mut node = Node::new(&cfg, Box::new(test_venue(&cfg))).expect("node starts");
    node.tap(TopicPattern::parse("signal.#").expect("valid pattern"));
    node.tap(TopicPattern::parse("order.#").expect("valid pattern"));
    (node, data)
}

/// (side, status) of every order event a [`trading_node`] tapped so far.
pub fn order_events(node: &Node) -> Vec<(Side, OrderStatus)> {
    node.tapped()
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::OrderEvent(o) => Some((o.side, o.status.clone())),
            _ => None,
        })
        .collect()
}

/// An `[[agents]]` table: the sentiment model on `news.#`, with the limits
/// its manifest asks for and `config` (an inline table's body).
pub fn sentiment_agent(config: &str) -> String {
    format!(
        r#"
[[agents]]
name = "sentiment"
path = "{}"
role = "model"
subscribe = ["news.#"]
publish = ["signal.sentiment.*"]
limits = {{ fuel = 400_000_000, memory_mb = 64 }}
config = {{ {config} }}
"#,
        agent("sentiment").display()
    )
}

/// A simulator config trading BTCUSDT (Binance's filters: tick 0.01, step
/// 0.00001, notional 5) for these accounts: (name, API key, HMAC secret),
/// each holding 10 BTC and 1,000,000 USDT.
pub fn sim_config(accounts: &[(&str, &str, &str)]) -> String {
    let mut toml = String::from(
        "[[symbols]]\nsymbol = \"BTCUSDT\"\nbase_asset = \"BTC\"\nquote_asset = \"USDT\"\n\
         tick_size = 0.01\nmin_price = 0.01\nstep_size = 0.00001\nmin_qty = 0.00001\nmin_notional = 5\n",
    );
    for (name, key, secret) in accounts {
        toml.push_str(&format!(
            "\n[[accounts]]\nname = \"{name}\"\napi_key = \"{key}\"\napi_secret = \"{secret}\"\n\
             balances = {{ BTC = 10, USDT = 1000000 }}\n"
        ));
    }
    toml
}

/// A two-thread tokio runtime for tests that serve or call over loopback.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Move `node`'s event time to `at` with a BTCUSDT quote (that the tests'
/// agents do not subscribe to): due retries, restarts and timers run.
pub fn advance(node: &mut Node, at: u64) {
    let q = floor_host::model::Quote {
        symbol: "BTCUSDT".into(),
        bid: 99.0,
        bid_size: 1.0,
        ask: 101.0,
        ask_size: 1.0,
    };
    node.inject(floor_host::model::MarketEvent::Quote(q), at);
}

/// What the counter fixture published on `swap.count.out`, in order:
/// (its count, the message's payload counter, its version label).
pub fn counter_outputs(node: &Node) -> Vec<(u64, u64, String)> {
    node.tapped()
        .iter()
        .filter(|e| e.topic == "swap.count.out")
        .map(|e| match &e.payload {
            Payload::Custom(b) => (
                u64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
                String::from_utf8_lossy(&b[16..]).into_owned(),
            ),
            other => panic!("unexpected payload {other:?}"),
        })
        .collect()
}

/// `floor run` of the built-in demo on the synthetic venue, flat out, for
/// `events` market events (400 per second of event time), keeping its
/// journal, store and artifacts in `data_dir`; it must succeed.
pub fn run_synthetic_demo(data_dir: &str, events: u64) {
    let out = floor(
        &[
            "run",
            "--venue",
            "synthetic",
            "--fast",
            "--events",
            &events.to_string(),
            "--quiet",
            "--data-dir",
            data_dir,
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `floor venue sim` as a child process (its own config, or the default:
/// BTCUSDT and ETHUSDT with a moving market, account `paper` under the
/// default key), killed on drop.
pub struct SimProcess {
    child: std::process::Child,
    /// Its REST base URL.
    pub url: String,
    /// Its WebSocket base URL (streams and the WebSocket API).
    pub ws_url: String,
}

impl SimProcess {
    /// Start it and wait for the URLs it prints.
    pub fn start(config: Option<&Path>) -> SimProcess {
        use std::io::{BufRead, BufReader};
        let mut cmd = Command::new(floor_bin());
        cmd.args(["venue", "sim"]);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("floor venue sim starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        // Keep reading (and discarding) after the URLs so the pipe stays open.
        std::thread::spawn(move || {
            let (mut rest, mut ws) = (None, None);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(u) = line.strip_prefix("rest ") {
                    rest = Some(u.to_string());
                }
                if let Some(u) = line.strip_prefix("ws ") {
                    ws = Some(u.trim_end_matches("/ws").to_string());
                }
                if let (Some(r), Some(w)) = (&rest, &ws) {
                    let _ = tx.send((r.clone(), w.clone()));
                    rest = None;
                }
            }
        });
        let (url, ws_url) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("floor venue sim prints its URLs");
        SimProcess { child, url, ws_url }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A market buy of `quantity` BTCUSDT, immediate or cancel, tagged `t`.
pub fn market_buy(quantity: f64) -> floor_host::model::OrderIntent {
    use floor_host::model::{OrderIntent, OrderType, Side, TimeInForce};
    OrderIntent {
        symbol: "BTCUSDT".into(),
        side: Side::Buy,
        order_type: OrderType::Market,
        quantity,
        limit_price: None,
        time_in_force: TimeInForce::Ioc,
        tag: "t".into(),
        stop_price: None,
    }
}
