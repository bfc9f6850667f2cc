//! The supervisor: a faulted agent restarts from its last good state after
//! a backoff, and one that faults too often is taken out of service.
//!
//! **Restart.** A fault throws the agent's instance away; the fresh one is
//! brought to the state just before the faulting message at once (the last
//! checkpoint plus the messages since: see
//! [`checkpoint`](crate::deploy::checkpoint)). The agent is then *down* for
//! `[supervisor] restart_backoff_ms` of event time (default 1 s), doubling
//! with each further fault up to `restart_backoff_max_ms` (30 s), and back
//! to the first backoff once it has gone `healthy_secs` (60 s) without a
//! fault. While it is down its messages wait in its inbox (bounded, with
//! backpressure and conflation as for a retry), and a request to it is
//! answered at once as `restarting`. Each restart is published on
//! `supervisor.restart.<agent>`.
//!
//! **Quarantine.** Every fault (a trap, fuel, the deadline, memory, a forbidden output —
//! not an error the agent returns itself) is noted at its event time. More
//! than `[supervisor] max_faults` within `window_secs` quarantine the
//! agent: it is called no more. Reliable messages for it go to the
//! dead-letter queue as `quarantined` (replay them once it is fixed); other
//! messages (market data) are counted, not kept. A quarantined risk agent
//! halts trading. Deploying a version (or rolling back) releases it.
//!
//! Health, 0–100, per agent: 0 when quarantined; otherwise 100, minus 20
//! per fault in the current window, minus 30 while it is down restarting,
//! minus 10 while a new version is on probation, minus 10 while its inbox
//! is above high water. The host's
//! health is its lowest agent's, capped at 25 while trading is HALTED and
//! 75 while REDUCING.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{Node, Stats};
use crate::config::Role;
use crate::deploy::Recovery;
use crate::model::{Nanos, ReasonCode};
use crate::risk::TradingMode;

/// One agent's fault history, restarts and quarantine (kept in a
/// checkpoint: a node carrying on counts the same faults).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Supervision {
    /// Event times of the faults in the window.
    faults: VecDeque<Nanos>,
    quarantine: Option<Quarantine>,
    /// The backoff of the last restart, ns.
    backoff: Option<Nanos>,
    /// Served again from this event time on (after a restart).
    down_until: Nanos,
    last_restart: Option<Restart>,
    last_error: Option<LastError>,
}

/// The last restart after a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restart {
    /// Event time of the fault.
    pub at: Nanos,
    /// Event time from which it is served again.
    pub back_at: Nanos,
    /// How the state was brought back.
    pub recovery: Recovery,
}

/// The last error of an agent's call (a fault, or its own error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastError {
    /// Event time.
    pub at: Nanos,
    /// Why.
    pub reason: ReasonCode,
    /// What exactly.
    pub detail: String,
}

/// Why and since when an agent is quarantined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

    /// The last restart, if any.
    pub(super) fn last_restart(&self) -> Option<&Restart> {
        self.last_restart.as_ref()
    }

    /// The last error, if any.
    pub(super) fn last_error(&self) -> Option<&LastError> {
        self.last_error.as_ref()
    }

    /// Note a call that failed.
    pub(super) fn note_error(&mut self, at: Nanos, reason: ReasonCode, detail: &str) {
        self.last_error = Some(LastError {
            at,
            reason,
            detail: detail.to_string(),
        });
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
        self.announce(
            format!("supervisor.quarantine.{name}"),
            &serde_json::json!({"agent": name, "reason": reason}),
        );
        if self.agents[idx].role == Role::Risk {
            self.tighten_trading(
                TradingMode::Halted,
                &format!("risk agent `{name}` is quarantined: {reason}"),
            );
        }
    }

    /// Agent `idx` faulted and was restarted as `recovery` says: take it out
    /// of service for its backoff.
    pub(super) fn restarted(&mut self, idx: usize, recovery: Recovery) {
        let now = self.now;
        let healthy = self.supervisor.healthy_ns();
        let s = &mut self.agents[idx].supervision;
        let previous = s
            .backoff
            .filter(|_| now.saturating_sub(s.down_until) <= healthy);
        let backoff = self.supervisor.next_backoff_ns(previous);
        s.backoff = Some(backoff);
        s.down_until = now.saturating_add(backoff);
        let back_at = s.down_until;
        s.last_restart = Some(Restart {
            at: now,
            back_at,
            recovery,
        });
        let name = self.agents[idx].agent.name().to_string();
        let restart = self.agents[idx].supervision.last_restart.clone();
        let r = restart.as_ref().map(|r| &r.recovery);
        tracing::warn!(
            agent = %name,
            backoff_ms = backoff / 1_000_000,
            "{}",
            r.map_or("", |r| r.detail.as_str())
        );
        if backoff > 0 {
            self.park_until(idx, back_at);
        }
        self.announce(
            format!("supervisor.restart.{name}"),
            &serde_json::json!({"agent": name, "restart": restart}),
        );
    }

    /// Whether agent `idx` is down for a restart's backoff at event time `at`.
    pub(super) fn restarting_at(&self, idx: usize, at: Nanos) -> bool {
        self.agents[idx].supervision.down_until > at
    }

    /// When agent `idx` is down restarting: the event time it is back.
    pub(super) fn restarting(&self, idx: usize) -> Option<Nanos> {
        let until = self.agents[idx].supervision.down_until;
        (until > self.now).then_some(until)
    }

    /// Put agent `idx` back in service (a new version was swapped in).
    pub(super) fn release(&mut self, idx: usize) {
        let s = &mut self.agents[idx].supervision;
        s.faults.clear();
        s.backoff = None;
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
        if self.restarting(idx).is_some() {
            h -= 30;
        }
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
