//! `backtest_ticks_per_sec`: a moving-average-cross strategy (the trend
//! agent, fast 10 / slow 30) whose orders pass the risk agent and the
//! hard limits, over simulated quotes held in memory — what
//! `floor backtest` does once its CSV is read, its config's compile cache
//! warm (as from the second backtest of a config on: the cache lives in
//! the config's data directory). Starting the node is timed: verifying
//! the signatures and loading the compiled agents.

use std::path::Path;
use std::time::Instant;

use crate::model::{MarketEvent, Nanos};
use crate::venue::{Polled, Venue, VenueEvent};

/// Ticks per wall-clock second through a backtest of `ticks` quotes.
///
/// # Errors
/// When the agents are not built, or the strategy never trades (then the
/// figure would measure nothing).
pub fn backtest_throughput(agents_dir: &Path, ticks: u64) -> anyhow::Result<f64> {
    let data = tempfile::tempdir()?;
    let cfg = super::bench_config_with(agents_dir, data.path(), 10, 30)?;
    let mut walk = super::sim(&cfg);
    let mut events: Vec<(Nanos, MarketEvent)> = Vec::with_capacity(ticks as usize);
    while (events.len() as u64) < ticks {
        match walk.poll() {
            Polled::Event(t, VenueEvent::Market(m @ MarketEvent::Quote(_))) => events.push((t, m)),
            Polled::Ended => break,
            _ => {}
        }
    }
    // Compile the agents into the config's cache, as any earlier run of
    // the config would have; the timed run loads them from there.
    crate::backtest::run(
        &cfg,
        &events[..events.len().min(100)],
        60_000_000_000,
        data.path(),
    )?;
    let start = Instant::now();
    let report = crate::backtest::run(&cfg, &events, 60_000_000_000, data.path())?;
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.fills > 0,
        "the bench's strategy never traded: it measures nothing"
    );
    Ok(report.events as f64 / secs)
}
