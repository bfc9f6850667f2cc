//! Tick to order: how long a market tick takes to become an order at the
//! venue boundary, through the agents and the host's checks.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context as _;

use super::{agent_path, bench_config, bench_node_config, quote, sim};
use crate::config::NodeConfig;
use crate::model::{ExecutionReport, MarketEvent, Nanos};
use crate::node::Node;
use crate::venue::sim::SimVenue;
use crate::venue::{Polled, Venue, VenueError, VenueOrder};

/// Which agents stand between a tick and an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    /// The trend strategy (fast 1, slow 2) and the `risk` agent.
    OneRisk,
    /// The reference pipeline: `momentum` publishes a signal, the
    /// `ensemble-judge` turns the vote into an intent with a stop,
    /// `risk-sentinel` and `volatility-sizer` both approve it, then the
    /// host's hard limits.
    Reference,
}

fn reference_config(agents_dir: &Path, data_dir: &Path) -> anyhow::Result<NodeConfig> {
    let path = |name| agent_path(agents_dir, name).map(|p| p.display().to_string());
    let agents = format!(
        r#"
[[agents]]
name = "momentum"
path = "{momentum}"
role = "strategy"
subscribe = ["md.tick.BTCUSDT"]
publish = ["signal.momentum.*"]
config = {{ symbol = "BTCUSDT", lookback = 1, entry_pct = 0.5, exit_pct = 0.1, trade = false }}

[[agents]]
name = "judge"
path = "{judge}"
role = "strategy"
subscribe = ["signal.momentum.*"]
publish = ["signal.ensemble.*"]
order_symbols = ["BTCUSDT"]
config = {{ symbol = "BTCUSDT", quantity = 0.01, enter = 3, exit = 1, min_voters = 1, stop_pct = 4 }}

[[agents]]
name = "sentinel"
path = "{sentinel}"
role = "risk"
config = {{ symbols = "BTCUSDT" }}

[[agents]]
name = "sizer"
path = "{sizer}"
role = "risk"
subscribe = ["md.tick.*"]
config = {{ risk_budget = 1000000000, window = 10 }}
"#,
        momentum = path("momentum")?,
        judge = path("ensemble-judge")?,
        sentinel = path("risk-sentinel")?,
        sizer = path("volatility-sizer")?,
    );
    bench_node_config(agents_dir, data_dir, &agents)
}

/// A venue wrapper that records when an order reaches the venue boundary.
struct ProbeVenue {
    inner: SimVenue,
    base: Instant,
    last_submit: Arc<AtomicU64>,
}

impl Venue for ProbeVenue {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn poll(&mut self) -> Polled {
        self.inner.poll()
    }
    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport> {
        self.last_submit
            .store(self.base.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.inner.submit(order, now)
    }
    fn cancel(&mut self, order_id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        self.inner.cancel(order_id, now)
    }
    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport> {
        self.inner.observe(event, now)
    }
}

/// A node running a [`Pipeline`], fed ticks that alternate between 100 and
/// 101 so that every tick turns the strategy around and sends an order.
pub struct TickToOrder {
    node: Node,
    _data: tempfile::TempDir,
    base: Instant,
    last_submit: Arc<AtomicU64>,
    n: u64,
}

impl TickToOrder {
    /// Build the node running `pipeline`.
    ///
    /// # Errors
    /// When the agents are missing or do not start.
    pub fn new(agents_dir: &Path, pipeline: Pipeline) -> anyhow::Result<Self> {
        let data = tempfile::tempdir()?;
        let cfg = match pipeline {
            Pipeline::OneRisk => bench_config(agents_dir, data.path())?,
            Pipeline::Reference => reference_config(agents_dir, data.path())?,
        };
        let last_submit = Arc::new(AtomicU64::new(0));
        let base = Instant::now();
        let venue = ProbeVenue {
            inner: sim(&cfg),
            base,
            last_submit: last_submit.clone(),
        };
        let node = Node::new(&cfg, Box::new(venue)).context("starting the bench node")?;
        Ok(Self {
            node,
            _data: data,
            base,
            last_submit,
            n: 0,
        })
    }

    /// Inject one tick; the nanoseconds from tick in to order at the venue
    /// boundary, if the tick caused an order.
    pub fn tick(&mut self) -> Option<u64> {
        self.n += 1;
        let mid = if self.n.is_multiple_of(2) {
            100.0
        } else {
            101.0
        };
        let t0 = self.base.elapsed().as_nanos() as u64;
        let orders = self.node.inject(
            MarketEvent::Quote(quote("BTCUSDT", mid)),
            self.n * 1_000_000,
        );
        (orders > 0).then(|| self.last_submit.load(Ordering::Relaxed).saturating_sub(t0))
    }
}
