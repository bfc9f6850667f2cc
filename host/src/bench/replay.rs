//! `replay_events_per_sec`: a journal recorded by a node with one Rust
//! strategy agent (and the risk agent its orders pass) on the simulated
//! market, replayed by `floor replay`'s
//! engine — every input through the agent again, every order checked
//! against the record, every message folded into the digest.
//!
//! `checkpoint_us_p50` / `_max`: the same node taking a checkpoint every
//! second of event time — snapshots, the store's flush, the journal
//! commit, and carrying on — timed between two inputs.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::node::Node;

/// Record `events` market events, then replay them; events replayed per
/// wall-clock second (rebuilding the node from the journal included).
///
/// # Errors
/// When the agent is not built, or the replay diverges (a broken replay
/// has no speed worth reporting).
pub fn replay_throughput(agents_dir: &Path, events: u64) -> anyhow::Result<f64> {
    let data = tempfile::tempdir()?;
    let cfg = super::bench_config_with(agents_dir, data.path(), 10, 30)?;
    {
        let mut node = Node::new(&cfg, Box::new(super::sim(&cfg)))?;
        let stats = node.stats();
        while stats.events.load(Ordering::Relaxed) < events && node.step() {}
        node.flush();
    }
    let recorded = crate::replay::session::read(data.path())?;
    let session = recorded
        .sessions
        .first()
        .ok_or_else(|| anyhow::anyhow!("the recording node wrote no session"))?;
    let (_tmp, ws) = crate::replay::workspace(data.path())?;
    let start = Instant::now();
    let report = crate::replay::replay_session(&recorded, session, &ws, None)?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(d) = &report.divergence {
        anyhow::bail!("the bench's replay diverged at record {}: {d:?}", d.seq);
    }
    anyhow::ensure!(
        report.orders > 0,
        "the bench's strategy never traded: it measures nothing"
    );
    Ok(report.replayed as f64 / secs)
}

/// Record `events` market events with a checkpoint every second of event
/// time; how long each checkpoint held the node's thread, µs.
///
/// # Errors
/// When the agents are not built, or no checkpoint was taken.
pub fn checkpoint_cost(agents_dir: &Path, events: u64) -> anyhow::Result<Vec<f64>> {
    let data = tempfile::tempdir()?;
    let mut cfg = super::bench_config_with(agents_dir, data.path(), 10, 30)?;
    cfg.checkpoint_every = Some(std::time::Duration::from_secs(1));
    let mut node = Node::new(&cfg, Box::new(super::sim(&cfg)))?;
    let stats = node.stats();
    let mut took = Vec::new();
    while stats.events.load(Ordering::Relaxed) < events && node.step() {
        let t = Instant::now();
        if node.checkpoint_if_due() {
            took.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    anyhow::ensure!(
        !took.is_empty(),
        "no checkpoint in {events} events: the bench measures nothing"
    );
    Ok(took)
}
