//! The node's loop: step until told to stop, pacing market events to the
//! wall clock when paper trading.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::sync::mpsc::Receiver;

use super::operator::Call;
use super::{Node, Summary};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop after this much wall-clock time.
    pub duration: Option<Duration>,
    /// Stop after this many market events.
    pub max_events: Option<u64>,
    /// Pace market events to this many per wall-clock second (0: as fast
    /// as possible).
    pub events_per_second: u32,
}

/// Run `node` until `stop` is set, the duration or event budget is spent,
/// or the venue's feed ends; then return the summary. Operator calls on
/// `calls` are applied between two inputs.
pub fn run(
    node: &mut Node,
    opts: &RunOptions,
    stop: &AtomicBool,
    calls: Option<&Receiver<Call>>,
) -> Summary {
    let start = Instant::now();
    let stats = node.stats();
    let interval = (opts.events_per_second > 0)
        .then(|| Duration::from_secs_f64(1.0 / f64::from(opts.events_per_second)));
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Some(calls) = calls {
            while let Ok(Call { op, reply }) = calls.try_recv() {
                let _ = reply.send(node.operate(op));
            }
        }
        let elapsed = start.elapsed();
        if opts.duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        let events = stats.events.load(Ordering::Relaxed);
        if opts.max_events.is_some_and(|m| events >= m) {
            break;
        }
        if let Some(iv) = interval {
            // Event n is due at n × interval after the start.
            let due = iv.mul_f64(events as f64);
            if due > elapsed {
                std::thread::sleep((due - elapsed).min(Duration::from_millis(50)));
                continue;
            }
        }
        if !node.step() {
            return finish(node, start);
        }
        node.checkpoint_if_due();
    }
    settle(node);
    finish(node, start)
}

/// How long a stopping host waits for the answers to orders it sent.
const SETTLE_WITHIN: Duration = Duration::from_secs(5);

/// A clean stop leaves no order in doubt: with orders still unanswered,
/// refuse new ones (journaled, so a replay does the same) and keep taking
/// the venue's reports until every order is answered or
/// [`SETTLE_WITHIN`] has passed. What is still open is then the next
/// start's to reconcile.
fn settle(node: &mut Node) {
    if node.awaiting_answers() == 0 {
        return;
    }
    let _ = node.operate(crate::node::operator::Operation::Stopping);
    let since = Instant::now();
    while node.awaiting_answers() > 0 && since.elapsed() < SETTLE_WITHIN {
        if !node.step() {
            break;
        }
    }
    let left = node.awaiting_answers();
    if left > 0 {
        tracing::warn!(
            "stopping with {left} order(s) still unanswered after {SETTLE_WITHIN:?}: the next start on this data directory reconciles them with the venue"
        );
    }
}

fn finish(node: &mut Node, start: Instant) -> Summary {
    node.close();
    node.summary(start.elapsed().as_secs_f64())
}
