//! Counters the status line reads while the node runs, and the summary it
//! writes at the end (`floor run --summary-json`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

use crate::model::Position;
use crate::oms::portfolio::PnlSummary;

/// Distinct rejection reasons counted one by one; past this many, new
/// ones are counted together under [`OTHER_REASONS`]. A venue's reason may
/// carry the order's numbers ("invalid quantity 0.0013"): a strategy that
/// keeps sending what a venue refuses would otherwise grow the map (and
/// the summary) by every distinct one.
pub const MAX_REASONS: usize = 200;

/// Where reasons past [`MAX_REASONS`] are counted.
pub const OTHER_REASONS: &str = "(other reasons)";

/// Rejections by reason, at most [`MAX_REASONS`] of them named.
#[derive(Debug, Clone, Default)]
pub struct ReasonCounts(BTreeMap<String, u64>);

impl ReasonCounts {
    /// Count one rejection for `reason`.
    pub fn count(&mut self, reason: String) {
        let key = if self.0.contains_key(&reason) || self.0.len() < MAX_REASONS {
            reason
        } else {
            OTHER_REASONS.to_string()
        };
        *self.0.entry(key).or_default() += 1;
    }

    /// The counts, by reason.
    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.0
    }
}

/// Live counters, shared with the status printer.
#[derive(Debug, Default)]
pub struct Stats {
    /// Market events in.
    pub events: AtomicU64,
    /// Orders sent to the venue.
    pub orders: AtomicU64,
    /// Fill reports (partial or full).
    pub fills: AtomicU64,
    /// Intents refused (risk agents, host limits, venue).
    pub rejects: AtomicU64,
    /// Agent calls that faulted.
    pub agent_faults: AtomicU64,
    /// Dead letters.
    pub dlq: AtomicU64,
    /// Alerts raised by agents.
    pub alerts: AtomicU64,
    /// Reports the order manager could not apply.
    pub oms_errors: AtomicU64,
    /// Reliable deliveries tried again after a fault.
    pub retried: AtomicU64,
    /// Balances corrected to the venue's figure.
    pub corrections: AtomicU64,
    /// Protective stops fired.
    pub stops_triggered: AtomicU64,
    /// Headlines published (`news.headline.*`).
    pub news: AtomicU64,
    /// Checkpoints taken (each starts a new session in the journal).
    pub checkpoints: AtomicU64,
    /// Total PnL, f64 bits.
    pnl_bits: AtomicU64,
}

impl Stats {
    /// Add one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Set the PnL.
    pub fn set_pnl(&self, pnl: f64) {
        self.pnl_bits.store(pnl.to_bits(), Relaxed);
    }

    /// The PnL.
    pub fn pnl(&self) -> f64 {
        f64::from_bits(self.pnl_bits.load(Relaxed))
    }

    /// One status line.
    pub fn line(&self, events_per_sec: f64) -> String {
        format!(
            "events/s {:>8.0} | events {:>9} | orders {:>6} | fills {:>6} | rejects {:>5} | pnl {:>+12.2} | faults {:>4} | dlq {:>4}",
            events_per_sec,
            self.events.load(Relaxed),
            self.orders.load(Relaxed),
            self.fills.load(Relaxed),
            self.rejects.load(Relaxed),
            self.pnl(),
            self.agent_faults.load(Relaxed),
            self.dlq.load(Relaxed),
        )
    }
}

/// One agent in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct AgentSummary {
    /// Name.
    pub name: String,
    /// The running version: hex SHA-256 of its component.
    pub version: String,
    /// `running`, `probation` after a swap, `shadow` while a candidate runs
    /// beside it, `restarting` (down for its backoff after a fault), or
    /// `quarantined`.
    pub state: String,
    /// 0–100 (deductions: see the supervisor's docs).
    pub health: u8,
    /// Why and since when it is quarantined.
    pub quarantine: Option<super::supervisor::Quarantine>,
    /// Linear memory of its running instance, bytes.
    pub memory_bytes: u64,
    /// Fuel its running version's calls burnt.
    pub fuel_used: u64,
    /// Quotes and trades its running version took as numbers (its
    /// component exports `market`, as every `floor-sdk` agent does).
    pub market_calls: u64,
    /// Of those, how many came in runs (`on-market-run`, offline), and in
    /// how many calls.
    #[serde(default)]
    pub market_in_runs: u64,
    /// Calls of `on-market-run`.
    #[serde(default)]
    pub market_runs: u64,
    /// Order events its running version took as numbers (its component
    /// exports `orders`, as every `floor-sdk` agent does).
    #[serde(default)]
    pub order_calls: u64,
    /// Order intents (risk requests) its running version took as numbers
    /// (its component exports `intents`, as every `floor-sdk` agent does).
    #[serde(default)]
    pub intent_calls: u64,
    /// Signals its running version took as numbers (its component exports
    /// `signals`, as every `floor-sdk` agent does).
    #[serde(default)]
    pub signal_calls: u64,
    /// Messages waiting for it now (behind a retry or a restart).
    pub inbox: u64,
    /// Its last error: a fault, or an error it returned.
    pub last_error: Option<super::supervisor::LastError>,
    /// Its last restart after a fault, and how its state was brought back.
    pub last_restart: Option<super::supervisor::Restart>,
    /// Messages delivered to it (including risk requests).
    pub handled: u64,
    /// Calls that faulted (limits, traps, rights; not its own errors).
    pub faults: u64,
    /// Messages it published.
    pub published: u64,
    /// Order intents it emitted.
    pub order_intents: u64,
    /// Waiting messages replaced by a newer one on the same topic.
    pub conflated: u64,
    /// Reliable messages not delivered again because their id was seen.
    pub deduplicated: u64,
    /// Deliveries to it tried again after it faulted.
    pub retried: u64,
    /// Messages dead-lettered with it as the agent.
    pub dead_lettered: u64,
    /// Of those, calls in which it overstepped its rights
    /// (`publish_denied`, `order_denied`).
    pub denied: u64,
    /// How long messages waited between the bus and its handler (first
    /// attempts; ns).
    pub delivery_latency: crate::bus::LatencySummary,
    /// Most messages that waited for it at once.
    pub max_queue: u64,
    /// Times its backlog reached high water.
    pub backpressure_engaged: u64,
    /// Event time its backlog spent above high water, ns.
    pub above_high_water_ns: u64,
    /// Instances started (1 + restarts after faults).
    pub starts: u64,
    /// Log lines past the per-call cap, counted not written.
    pub logs_suppressed: u64,
}

/// What a run did. Keys are stable: scripts and CI read them.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Market events in.
    pub events: u64,
    /// Orders sent to the venue.
    pub orders: u64,
    /// Fill reports.
    pub fills: u64,
    /// Refused intents.
    pub rejects: u64,
    /// Total PnL (realised + unrealised), quote asset.
    pub pnl: f64,
    /// PnL broken down.
    pub pnl_detail: PnlSummary,
    /// Faulted agent calls.
    pub agent_faults: u64,
    /// Dead letters.
    pub dlq: u64,
    /// Dead letters by reason code.
    pub dlq_by_reason: BTreeMap<String, u64>,
    /// Alerts.
    pub alerts: u64,
    /// Reports the order manager refused (unknown order, after the end,
    /// an invalid transition).
    pub oms_errors: u64,
    /// Fills that arrived after their order was cancelled or expired
    /// (applied: the venue executed them).
    pub late_fills: u64,
    /// Balances the host corrected to the venue's figure in reconciliation.
    pub corrections: u64,
    /// Protective stops fired (market orders tagged `stop:<order id>`).
    pub stops_triggered: u64,
    /// Headlines published (the webhook, the news file).
    pub news: u64,
    /// Protective stops still armed.
    pub stops: Vec<crate::oms::Stop>,
    /// Reliable deliveries tried again after a fault.
    pub retried: u64,
    /// Messages still waiting behind a retry when the summary was taken.
    pub awaiting_retry: u64,
    /// Rejection reasons and how often each occurred.
    pub reject_reasons: BTreeMap<String, u64>,
    /// The trading state at the end (`active`, `reducing`, `halted`).
    pub trading: crate::risk::TradingMode,
    /// The latest trading-state change, if any.
    pub trading_change: Option<crate::risk::TradingChange>,
    /// Equity, drawdown from peak and gross exposure at the end.
    pub equity: crate::oms::Equity,
    /// Positions at the end.
    pub positions: Vec<Position>,
    /// The host's health, 0–100: its lowest agent's, capped at 25 while
    /// HALTED and 75 while REDUCING.
    pub health: u8,
    /// Agents.
    pub agents: Vec<AgentSummary>,
    /// Bus counters per topic.
    pub topics: Vec<crate::bus::TopicStats>,
    /// Inputs written to the journal so far (none when it is off).
    pub journal_records: Option<u64>,
    /// Why the journal cannot be written, once it could not: every order
    /// since was refused.
    pub journal_failure: Option<String>,
    /// Checkpoints taken (`[journal] checkpoint_every_s`).
    pub checkpoints: u64,
    /// Wall-clock seconds the run took.
    pub wall_seconds: f64,
    /// Market events per wall-clock second.
    pub events_per_second: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_past_the_cap_are_counted_together_and_none_is_lost() {
        let mut r = ReasonCounts::default();
        for i in 0..MAX_REASONS + 50 {
            r.count(format!("venue: invalid quantity {i}"));
        }
        // A reason already named keeps its own count past the cap.
        r.count("venue: invalid quantity 0".to_string());
        let c = r.counts();
        assert_eq!(c.len(), MAX_REASONS + 1);
        assert_eq!(c[OTHER_REASONS], 50);
        assert_eq!(c["venue: invalid quantity 0"], 2);
        assert_eq!(c.values().sum::<u64>(), MAX_REASONS as u64 + 51);
    }
}
