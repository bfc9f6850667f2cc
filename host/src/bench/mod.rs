//! Measurement harness shared by `floor bench` and the criterion benches in
//! `benches/`, so both measure exactly the same code paths.
//!
//! Each probe does one unit of work; callers time it (hdrhistogram in
//! `floor bench`, criterion in `cargo bench`). Nothing here asserts on time.

mod backtest;
mod bus;
mod calibrate;
mod exchange;
mod journal;
mod replay;
mod roundtrip;
mod sentiment;
mod swap;
mod tick;

pub use backtest::backtest_throughput;
pub use bus::{bus_hop, bus_throughput};
pub use calibrate::calibration_us;
pub use exchange::{OrderFlow, exchange_throughput};
pub use journal::journal_appends;
pub use replay::{checkpoint_cost, replay_throughput};
pub use roundtrip::order_roundtrip;
pub use sentiment::SentimentProbe;
pub use swap::{SwapRun, swap_under_load};
pub use tick::{Pipeline, TickToOrder};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context as _;

use crate::agent::{AgentInstance, AgentLinker, AgentSpec, Rights};
use crate::config::NodeConfig;
use crate::model::{Envelope, MarketEvent, Payload, Quote};
use crate::node::{Node, SharedView};
use crate::runtime::{ComponentCache, Limits, Runtime, RuntimeConfig, cache};
use crate::venue::sim::{SimConfig, SimVenue};

/// Where `cargo xtask build` puts the agents.
pub const DEFAULT_AGENTS_DIR: &str = "target/agents";
/// Where it puts the test fixtures (the swap bench's counter).
pub const DEFAULT_FIXTURES_DIR: &str = "target/fixtures";

fn agent_path(dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let p = dir.join(format!("{name}.wasm"));
    anyhow::ensure!(
        p.is_file(),
        "`{}` not found; build the agents first with `cargo xtask build`",
        p.display()
    );
    Ok(p)
}

/// A `[trust]` section trusting the development key `cargo xtask build`
/// signs the components in `dir` with (`dir/../keys/dev.pub`): benches run
/// signed agents, as a host does.
pub(crate) fn dev_trust(dir: &Path) -> anyhow::Result<String> {
    let key = dir.join("../keys/dev.pub");
    anyhow::ensure!(
        key.is_file(),
        "`{}` not found: `cargo xtask build` makes the development key and signs the agents with it",
        key.display()
    );
    Ok(format!(
        "[trust]\n[[trust.keys]]\nname = \"dev\"\npublic_key = \"{}\"\n",
        key.display()
    ))
}

fn quote(symbol: &str, mid: f64) -> Quote {
    Quote {
        symbol: symbol.into(),
        bid: mid - 0.5,
        bid_size: 3.0,
        ask: mid + 0.5,
        ask_size: 3.0,
    }
}

/// One trend agent under the node's limits, for call, instantiate and load
/// probes.
pub struct AgentProbe {
    _runtime: Runtime,
    agent: AgentInstance,
    cwasm: tempfile::NamedTempFile,
    engine: wasmtime::Engine,
    envelope: Envelope,
    n: u64,
}

impl AgentProbe {
    /// Load `trend.wasm` from `agents_dir` and start it.
    ///
    /// # Errors
    /// When the agent is missing or does not start.
    pub fn new(agents_dir: &Path) -> anyhow::Result<Self> {
        Self::of(&agent_path(agents_dir, "trend")?)
    }

    /// Start the strategy at `path`: the trend agent, or a template's
    /// crossover built in another language. Both take `symbol`, `fast`
    /// and `slow`.
    ///
    /// # Errors
    /// When the component does not load or start.
    pub fn of(path: &Path) -> anyhow::Result<Self> {
        let runtime = Runtime::new(RuntimeConfig {
            pool_instances: 64,
            ..RuntimeConfig::default()
        })?;
        let loaded = ComponentCache::new(runtime.engine(), None).load(runtime.engine(), path)?;
        let mut cwasm = tempfile::NamedTempFile::new()?;
        std::io::Write::write_all(&mut cwasm, &loaded.component.serialize()?)?;
        let linker = AgentLinker::new(runtime.engine())?;
        let spec = AgentSpec {
            name: "trend".into(),
            component: loaded.component,
            limits: Limits::default(),
            rights: Rights::all(),
            config: vec![
                ("symbol".into(), "BTCUSDT".into()),
                ("fast".into(), "5".into()),
                ("slow".into(), "20".into()),
            ],
            seed: 1,
            read_dirs: Vec::new(),
        };
        let agent = AgentInstance::start(&runtime, &linker, spec, Arc::new(SharedView::default()))?;
        let envelope = Envelope {
            id: 1,
            topic: "md.tick.BTCUSDT".into(),
            source: "venue".into(),
            sequence: 1,
            event_time: 1,
            trace_id: 1,
            correlation_id: None,
            attempt: 1,
            payload: Payload::Quote(quote("BTCUSDT", 100.0)),
        };
        Ok(Self {
            engine: runtime.engine().clone(),
            _runtime: runtime,
            agent,
            cwasm,
            envelope,
            n: 0,
        })
    }

    /// One `on-message` call with a tick, fuel and deadline on.
    pub fn call(&mut self) {
        self.n += 1;
        if let Payload::Quote(q) = &mut self.envelope.payload {
            let mid = 100.0 + (self.n % 17) as f64 * 0.25;
            q.bid = mid - 0.5;
            q.ask = mid + 0.5;
        }
        self.envelope.id = self.n;
        self.envelope.sequence = self.n;
        self.envelope.event_time = self.n;
        let out = self.agent.handle(&self.envelope, false);
        std::hint::black_box(out).expect("trend agent faulted in the benchmark");
    }

    /// Instantiate a throwaway instance from the pooling allocator.
    pub fn instantiate(&self) {
        self.agent
            .instantiate_throwaway()
            .expect("instantiation failed in the benchmark");
    }

    /// Load the compiled component from disk (memory-mapped).
    pub fn load(&self) {
        let c = cache::deserialize_own(&self.engine, self.cwasm.path());
        std::hint::black_box(c).expect("loading the compiled component failed");
    }
}

/// The trend strategy on BTCUSDT with moving averages of `fast` and
/// `slow` ticks, as a config's `[[agents]]` entry.
fn trend_agent(agents_dir: &Path, fast: u32, slow: u32) -> anyhow::Result<String> {
    Ok(format!(
        r#"
[[agents]]
name = "trend"
path = "{trend}"
role = "strategy"
subscribe = ["md.tick.BTCUSDT"]
publish = ["signal.trend.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", fast = {fast}, slow = {slow}, quantity = 0.01 }}
"#,
        trend = agent_path(agents_dir, "trend")?.display(),
    ))
}

fn bench_config(agents_dir: &Path, data_dir: &Path) -> anyhow::Result<NodeConfig> {
    bench_config_with(agents_dir, data_dir, 1, 2)
}

/// [`bench_config`] with the trend strategy's moving averages of `fast`
/// and `slow` ticks (10 and 30: it trades now and then, as in a real run).
fn bench_config_with(
    agents_dir: &Path,
    data_dir: &Path,
    fast: u32,
    slow: u32,
) -> anyhow::Result<NodeConfig> {
    let trend = trend_agent(agents_dir, fast, slow)?;
    let risk = agent_path(agents_dir, "risk")?;
    let agents = format!(
        r#"{trend}
[[agents]]
name = "risk"
path = "{risk}"
role = "risk"
config = {{ max_order_notional = 1000000.0, max_position = 100.0 }}
"#,
        risk = risk.display(),
    );
    bench_node_config(agents_dir, data_dir, &agents)
}

/// The bench node's config: one BTCUSDT market at 100, a million USDT,
/// hard limits that never bind (they are still checked), `agents` (TOML).
fn bench_node_config(
    agents_dir: &Path,
    data_dir: &Path,
    agents: &str,
) -> anyhow::Result<NodeConfig> {
    let text = format!(
        r#"
[node]
data_dir = "{data}"

[venue]
realtime = false
events_per_second = 1000

[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 100.0

[account]
balances = {{ USDT = 1000000.0 }}

[limits]
max_order_notional = 1000000.0
max_position = 1000.0
price_band_pct = 50.0
max_orders_per_second = 1000000000
max_orders_per_second_per_agent = 1000000000
max_gross_exposure = 1000000000.0

{trust}
{agents}"#,
        data = data_dir.display(),
        trust = dev_trust(agents_dir)?,
    );
    Ok(NodeConfig::parse(&text, "<bench>", Path::new("."))?)
}

fn sim(cfg: &NodeConfig) -> SimVenue {
    SimVenue::new(SimConfig {
        seed: 1,
        start_time: 1_000_000_000,
        step: 1_000_000,
        trade_probability: 0.3,
        taker_fee_bps: 7.5,
        maker_fee_bps: 2.5,
        symbols: cfg.sim_symbols(),
    })
}

/// The risk stage alone: one order intent to the risk agent by
/// request/reply and its verdict back, on the bench node (no venue, no
/// limits).
pub struct RiskStage {
    node: Node,
    _data: tempfile::TempDir,
    intent: crate::model::OrderIntent,
}

impl RiskStage {
    /// Build the node and give it a price.
    ///
    /// # Errors
    /// When the agents are missing or do not start.
    pub fn new(agents_dir: &Path) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let cfg = bench_config(agents_dir, data.path())?;
        let mut node = Node::new(&cfg, Box::new(sim(&cfg))).context("starting the bench node")?;
        node.inject(MarketEvent::Quote(quote("BTCUSDT", 100.0)), 1_000_000);
        let intent = crate::model::OrderIntent {
            symbol: "BTCUSDT".into(),
            side: crate::model::Side::Buy,
            order_type: crate::model::OrderType::Market,
            quantity: 0.01,
            limit_price: None,
            time_in_force: crate::model::TimeInForce::Ioc,
            tag: "bench".into(),
            stop_price: None,
        };
        Ok(Self {
            node,
            _data: data,
            intent,
        })
    }

    /// One intent through the risk stage; panics if it is not approved (the
    /// bench would measure the wrong path).
    pub fn check(&mut self) {
        let verdict = self.node.ask_risk(self.intent.clone());
        std::hint::black_box(verdict).expect("the risk agent refused the bench intent");
    }
}

/// Market events per second through a node with the trend and risk agents,
/// unpaced, over `events` events from the simulated venue.
///
/// # Errors
/// When the agents are missing or do not start.
pub fn node_throughput(agents_dir: &Path, events: u64) -> anyhow::Result<f64> {
    let data = tempfile::tempdir()?;
    // Ordinary windows: the strategy trades now and then, as in a real run.
    let cfg = bench_config_with(agents_dir, data.path(), 10, 30)?;
    let mut node = Node::new(&cfg, Box::new(sim(&cfg)))?;
    let stats = node.stats();
    let start = Instant::now();
    while stats.events.load(Ordering::Relaxed) < events && node.step() {}
    Ok(stats.events.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}
