//! The supervisor: an agent that faults too often is taken out of service.
//!
//! Every fault (a trap, fuel, the deadline, memory, a forbidden output —
//! not an error the agent returns itself) is noted at its event time. More
//! than `[supervisor] max_faults` within `window_secs` quarantine the
//! agent: it is called no more. Reliable messages for it go to the
//! dead-letter queue as `quarantined` (replay them once it is fixed); other
//! messages (market data) are counted, not kept. A quarantined risk agent
//! halts trading. Deploying a version (or rolling back) releases it.
//!
//! Health, 0–100, per agent: 0 when quarantined; otherwise 100, minus 20
//! per fault in the current window, minus 10 while a new version is on
//! probation, minus 10 while its inbox is above high water. The host's
//! health is its lowest agent's, capped at 25 while trading is HALTED and
//! 75 while REDUCING.

use std::collections::VecDeque;

use serde::Serialize;

use super::{HOST, Node, Stats};
use crate::config::Role;
use crate::model::{Nanos, Payload};
use crate::risk::TradingMode;

/// One agent's fault history and quarantine.
#[derive(Debug, Default)]
pub(super) struct Supervision {
    /// Event times of the faults in the window.
    faults: VecDeque<Nanos>,
    quarantine: Option<Quarantine>,
}

/// Why and since when an agent is quarantined.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantine {
    /// Event time it was quarantined.
    pub since: Nanos,
    /// Why.
    pub reason: String,
    /// Messages not delivered since (reliable ones are in the DLQ).
    pub refused: u64,
}

impl Supervision {
    /// Whether the agent is out of service.
    pub(super) fn quarantined(&self) -> bool {
        self.quarantine.is_some()
    }

    /// The quarantine, if any.
    pub(super) fn quarantine(&self) -> Option<&Quarantine> {
        self.quarantine.as_ref()
    }

    /// Count a message refused because of the quarantine.
    pub(super) fn refuse(&mut self) {
        if let Some(q) = self.quarantine.as_mut() {
            q.refused += 1;
        }
    }
}

impl Node {
    /// Note a fault of agent `idx`; quarantine it when it is one too many.
    pub(super) fn supervise(&mut self, idx: usize) {
        let now = self.now;
        let window = self.supervisor.window_ns();
        let max = self.supervisor.max_faults as usize;
        let name = self.agents[idx].agent.name().to_string();
        let s = &mut self.agents[idx].supervision;
        s.faults.push_back(now);
        while s
            .faults
            .front()
            .is_some_and(|t| now.saturating_sub(*t) > window)
        {
            s.faults.pop_front();
        }
        if s.quarantine.is_some() || s.faults.len() <= max {
            return;
        }
        let reason = format!(
            "{} faults within {}s (the limit is {}); deploy a fixed version to release it",
            s.faults.len(),
            self.supervisor.window_secs,
            max
        );
        s.quarantine = Some(Quarantine {
            since: now,
            reason: reason.clone(),
            refused: 0,
        });
        Stats::bump(&self.stats.alerts);
        tracing::error!(agent = %name, "quarantined: {reason}");
        let body = serde_json::to_vec(&serde_json::json!({"agent": name, "reason": reason}))
            .unwrap_or_default();
        let env = self.stamper.stamp(
            HOST,
            format!("supervisor.quarantine.{name}"),
            Payload::Custom(body),
            self.now,
            0,
            None,
        );
        self.bus.publish(env, None);
        if self.agents[idx].role == Role::Risk {
            self.tighten_trading(
                TradingMode::Halted,
                &format!("risk agent `{name}` is quarantined: {reason}"),
            );
        }
    }

    /// Put agent `idx` back in service (a new version was swapped in).
    pub(super) fn release(&mut self, idx: usize) {
        let s = &mut self.agents[idx].supervision;
        s.faults.clear();
        if let Some(q) = s.quarantine.take() {
            tracing::warn!(agent = %self.agents[idx].agent.name(), refused = q.refused, "released from quarantine");
        }
    }

    /// Agent `idx`'s health, 0–100 (see the module docs).
    pub(super) fn health(&self, idx: usize) -> u8 {
        let a = &self.agents[idx];
        if a.supervision.quarantined() {
            return 0;
        }
        let mut h = 100i64 - 20 * a.supervision.faults.len() as i64;
        if a.agent.on_probation() {
            h -= 10;
        }
        if a.counts.above_high_since.is_some() {
            h -= 10;
        }
        h.clamp(0, 100) as u8
    }

    /// The host's health: its lowest agent's, capped by the trading state.
    pub(super) fn host_health(&self) -> u8 {
        let lowest = (0..self.agents.len())
            .map(|i| self.health(i))
            .min()
            .unwrap_or(100);
        match self.trading.mode() {
            TradingMode::Halted => lowest.min(25),
            TradingMode::Reducing => lowest.min(75),
            TradingMode::Active => lowest,
        }
    }
}
