//! Backtests: the same agents, under the same host, on history.
//!
//! A backtest is a node like any other — the agents sandboxed and
//! metered, every order through the risk agents and the host's hard
//! limits — whose venue is the in-process simulator fed the historical
//! events one by one ([`data`]): each event first moves the simulator's
//! touch (filling what rests there), then reaches the agents. Nothing
//! depends on the wall clock, so the same config and data give the same
//! report, byte for byte. It keeps no journal (it is its own record:
//! config + data) and writes its store in a temporary directory.
//!
//! - [`data`]: the CSV of quotes and trades.
//! - [`recorded`]: a host's journal as data (the market `floor run` saw).
//! - [`metrics`]: trades, PnL, Sharpe, Sortino, drawdown, exposure, turnover.
//! - [`html`]: the report page (equity and drawdown, SVG, offline).
//! - [`sweep`]: a grid of agent settings, one backtest per point, in
//!   parallel.

pub mod data;
pub mod html;
pub mod metrics;
pub mod recorded;
pub mod sweep;

use std::sync::{Arc, Mutex};

use anyhow::Context as _;

use crate::config::NodeConfig;
use crate::model::{ExecutionReport, MarketEvent, Nanos};
pub use crate::node::Delivery;
use crate::node::Node;
use crate::venue::sim::SimVenue;
use crate::venue::{Polled, Venue, VenueError, VenueOrder};
pub use metrics::{Metrics, Report};

/// The simulator, fed from outside; it notes what it fills.
struct History {
    sim: SimVenue,
    fills: Arc<Mutex<metrics::Fills>>,
}

impl History {
    fn note(&self, reports: &[ExecutionReport]) {
        let mut f = self.fills.lock().expect("backtest fills lock poisoned");
        for r in reports.iter().filter(|r| r.last_quantity > 0.0) {
            f.count += 1;
            f.notional += r.last_quantity * r.last_price;
        }
    }
}

impl Venue for History {
    fn name(&self) -> &str {
        "backtest"
    }

    fn poll(&mut self) -> Polled {
        Polled::Ended
    }

    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport> {
        let r = self.sim.submit(order, now);
        self.note(&r);
        r
    }

    fn cancel(&mut self, order_id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        let r = self.sim.cancel(order_id, now)?;
        self.note(&r);
        Ok(r)
    }

    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport> {
        let r = self.sim.observe(event, now);
        self.note(&r);
        r
    }
}

/// An agent call's wall-clock deadline in a backtest: far beyond any
/// call that fuel lets finish.
const OFFLINE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

/// Run `cfg`'s agents over `events`, sampling equity every `bar_ns` of
/// event time; `work_dir` takes the store and dead letters.
///
/// # Errors
/// When the node cannot be built (an agent that does not load, a config
/// the host refuses).
pub fn run(
    cfg: &NodeConfig,
    events: &[(Nanos, MarketEvent)],
    bar_ns: u64,
    work_dir: &std::path::Path,
) -> anyhow::Result<Report> {
    run_with(cfg, events, bar_ns, work_dir, Delivery::Runs)
}

/// [`run`], with market events delivered as `delivery` says.
///
/// # Errors
/// As [`run`].
pub fn run_with(
    cfg: &NodeConfig,
    events: &[(Nanos, MarketEvent)],
    bar_ns: u64,
    work_dir: &std::path::Path,
    delivery: Delivery,
) -> anyhow::Result<Report> {
    let mut cfg = cfg.clone();
    cfg.data_dir = work_dir.to_path_buf();
    cfg.journal = None;
    cfg.admin.enabled = false;
    // Offline, a slow or loaded machine must not change the result: no
    // wall-clock deadline cuts a call short (fuel still bounds each one,
    // and it counts instructions, not time).
    for a in &mut cfg.agents {
        a.limits.deadline = OFFLINE_DEADLINE;
    }
    let fills = Arc::new(Mutex::new(metrics::Fills::default()));
    let venue = History {
        sim: crate::node::connect::matching_only(&cfg),
        fills: fills.clone(),
    };
    let mut node = Node::new(&cfg, Box::new(venue)).context("cannot build the backtest's node")?;
    // The report is the backtest's record; the store's rows would go to a
    // directory thrown away after the run (a fifth of the machine's time).
    node.set_store(crate::store::Store::none(&work_dir.join("floor.db")));
    let symbols: Vec<String> = cfg.symbols.iter().map(|s| s.symbol.clone()).collect();
    let mut m = Metrics::new(node.oms().portfolio.equity_now().equity, bar_ns, &symbols);
    // The config's news file, merged by time: each headline just before
    // the first market event at or after it.
    let headlines = cfg.news.as_ref().map_or(&[][..], |n| &n.headlines[..]);
    node.set_delivery(delivery);
    let mut next = 0;
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        while let Some(h) = headlines.get(next).filter(|h| h.time <= t) {
            node.headline_at(h.news.clone(), h.time)
                .context("a headline of the news file was refused")?;
            next += 1;
        }
        // A run stops short of the next headline: it goes in between.
        let end = headlines.get(next).map_or(events.len(), |h| {
            i + events[i..].partition_point(|(t, _)| *t < h.time)
        });
        i += node.inject_run(&events[i..end.max(i + 1)], &mut |j, node: &mut Node| {
            let k = i + j;
            let next = events.get(k + 1).map(|(n, _)| *n);
            m.after(events[k].0, next, &node.oms().portfolio);
        });
    }
    node.flush();
    let s = node.summary(0.0);
    let f = fills.lock().expect("backtest fills lock poisoned").clone();
    Ok(m.report(&s, &f, events.len() as u64))
}
