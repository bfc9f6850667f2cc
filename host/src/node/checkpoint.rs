//! Checkpoints: a running host journals its whole state and carries on
//! from it as a new session, so a restart or a replay starts there instead
//! of at the start of a run that may be days long.
//!
//! Every `[journal] checkpoint_every_s` of event time, at the first moment
//! the node is *settled* — nothing on the bus, no message waiting for a
//! retry or a restarted agent, no intent waiting for a person, no version
//! on probation or in a shadow — the node takes its state
//! ([`Node::capture_all`]: each agent's `snapshot()`, orders, account,
//! limits, timers, quotes, counters), ends the session with an end record,
//! and opens the next with a session record holding that state and the
//! versions running (hot deploys included). Both go to the journal in one
//! commit. Then the node *becomes* the node that record describes
//! ([`Node::continue_from`]): what the state does not hold is reset in the
//! running node exactly as in one built from the record, so a replay or
//! recovery from the checkpoint is the same node, not an approximation.
//!
//! Taking the state costs one `snapshot()` per agent and a journal
//! commit, between two inputs (`checkpoint_us_p50`). The store is not
//! waited for: a checkpoint row queued behind every earlier row says,
//! once written, that a recovery need not rewrite what precedes it
//! (recovery starts from the newest checkpoint the store has). A node not settled when a checkpoint is due tries
//! again after each input. An agent whose `snapshot()` faults is named in
//! the log and the checkpoint waits for the next interval: without its
//! state no node could carry on from the record.

use std::collections::VecDeque;
use std::time::Duration;

use crate::model::Nanos;

use super::Node;
use super::record::{self, DeployedVersions, SessionStart, VersionRef};

/// When the next checkpoint is due, and the session record each copies.
pub(super) struct Checkpoints {
    /// The record of the session this node started (none without a
    /// journal): config, data directory, venue, base versions.
    session: Option<SessionStart>,
    every: Option<Nanos>,
    /// Event time of the last checkpoint (or of the first input).
    last: Option<Nanos>,
    /// Keep the journal from the last this many checkpoints on (0: all).
    keep: usize,
    /// Seqs of this node's checkpoint records, oldest first (the last
    /// `keep`).
    taken: VecDeque<u64>,
}

impl Checkpoints {
    pub(super) fn new(session: Option<SessionStart>, every: Option<Duration>, keep: usize) -> Self {
        Self {
            every: every
                .filter(|_| session.is_some())
                .map(|d| d.as_nanos() as Nanos),
            session,
            last: None,
            keep,
            taken: VecDeque::new(),
        }
    }

    /// Note the checkpoint record `seq`; the seq before which the journal
    /// may go, once there are more than `keep`.
    fn note(&mut self, seq: u64) -> Option<u64> {
        if self.keep == 0 {
            return None;
        }
        self.taken.push_back(seq);
        if self.taken.len() < self.keep {
            return None;
        }
        while self.taken.len() > self.keep {
            self.taken.pop_front();
        }
        self.taken.front().copied()
    }
}

impl Node {
    /// Take a checkpoint if one is due and the node is settled (see the
    /// module docs). Returns true when one was taken.
    pub fn checkpoint_if_due(&mut self) -> bool {
        let Some(every) = self.checkpoints.every else {
            return false;
        };
        let last = *self.checkpoints.last.get_or_insert(self.now);
        if self.now.saturating_sub(last) < every || self.unsettled().is_some() {
            return false;
        }
        self.checkpoint()
    }

    /// For `floor status`: how often checkpoints are taken, how many were,
    /// and the event time of the last (or of the first input, before
    /// one).
    pub(super) fn checkpoint_status(&self) -> serde_json::Value {
        serde_json::json!({
            "every_s": self.checkpoints.every.map(|ns| ns / 1_000_000_000),
            "taken": self.stats.checkpoints.load(std::sync::atomic::Ordering::Relaxed),
            "last_ns": self.checkpoints.last,
            "not_now": self.unsettled(),
        })
    }

    /// Why the node cannot be checkpointed now, if it cannot.
    fn unsettled(&self) -> Option<&'static str> {
        if self.bus.pending() > 0 {
            Some("messages on the bus")
        } else if !self.parked.is_empty() {
            Some("messages waiting for a retry or a restarting agent")
        } else if !self.pending_approvals.is_empty() {
            Some("intents waiting for a person")
        } else if self.agents.iter().any(|a| a.agent.state() != "running") {
            Some("a version on probation or in a shadow")
        } else if self.stopping {
            Some("the host is stopping")
        } else if self.backpressured() {
            Some("an inbox above high water")
        } else {
            None
        }
    }

    /// Take a checkpoint now (the node is settled). True when taken.
    fn checkpoint(&mut self) -> bool {
        self.checkpoints.last = Some(self.now);
        let (Some(rec), Some(base)) = (self.recorder.clone(), self.checkpoints.session.clone())
        else {
            return false;
        };
        let state = self.capture_all();
        if state.agents.len() != self.agents.len() {
            tracing::warn!(
                "checkpoint skipped: an agent's snapshot() faulted (named above); the next is tried in {} s",
                self.checkpoints.every.unwrap_or(0) / 1_000_000_000
            );
            return false;
        }
        let deployed = self.deployed_versions(&base);
        let start = SessionStart {
            wall_ns: crate::model::clock::wall_ns(),
            order_ids: state.oms.counters.clone(),
            state: Some(state),
            deployed,
            ..base
        };
        let bytes = match serde_json::to_vec(&start) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("checkpoint not taken: its state does not encode: {e}");
                return false;
            }
        };
        self.dlq.flush();
        rec.append(record::kind::END, self.now, &[]);
        let seq = rec.next_seq();
        rec.append(record::kind::SESSION, start.wall_ns, &bytes);
        if let Err(why) = rec.commit() {
            tracing::error!("checkpoint not taken: {why}");
            return false;
        }
        // Behind every row queued so far: once it is in the store, a
        // recovery need not rewrite the rows before it (the node does not
        // wait for that).
        self.store
            .record(crate::store::Row::Checkpoint { seq, at: self.now });
        if let Some(from) = self.checkpoints.note(seq) {
            match rec.retain_from(from) {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    "journal: {n} segment(s) before checkpoint record {from} deleted ([journal] keep_checkpoints)"
                ),
                Err(why) => tracing::warn!("journal: old segments not deleted: {why}"),
            }
        }
        let state = start.state.as_ref().expect("set above");
        if let Err(e) = self.continue_from(state, true) {
            // The node's own state, just taken: only a bug lands here.
            tracing::error!("carrying on from the checkpoint: {e:#}");
        }
        super::Stats::bump(&self.stats.checkpoints);
        tracing::info!(
            at = self.now,
            seq,
            bytes = bytes.len(),
            "checkpoint: a new session starts from the node's state"
        );
        true
    }

    /// Start the versions a checkpoint names in place of the configured
    /// ones (a replay or recovery starting at it): each prepared from its
    /// artifact as a deploy is, and what it can roll back to with it.
    ///
    /// # Errors
    /// When an artifact is missing or altered, or a version does not start.
    pub fn install_versions(
        &mut self,
        deployed: &[DeployedVersions],
        artifacts: &crate::deploy::Artifacts,
    ) -> anyhow::Result<()> {
        let prepare = |agent: &str, v: &VersionRef| -> anyhow::Result<crate::deploy::Candidate> {
            let req = crate::deploy::DeployRequest {
                agent: agent.to_string(),
                component: artifacts.read(&v.sha256)?,
                config: v.overrides.clone(),
                shadow: false,
            };
            Ok(self.preparer.prepare(&req)?)
        };
        let mut installs = Vec::with_capacity(deployed.len());
        for d in deployed {
            let idx = self.agent_index(&d.name)?;
            let live = prepare(&d.name, &d.live)?;
            let mut earlier = Vec::with_capacity(d.earlier.len());
            for v in &d.earlier {
                earlier.push(prepare(&d.name, v)?.version);
            }
            installs.push((idx, live, earlier));
        }
        for (idx, live, earlier) in installs {
            self.agents[idx]
                .agent
                .install(live.instance, live.version, earlier);
        }
        Ok(())
    }

    /// The agents whose versions differ from the session's `base` record
    /// (a deploy happened), with what each can roll back to.
    fn deployed_versions(&self, base: &SessionStart) -> Vec<DeployedVersions> {
        self.agents
            .iter()
            .zip(&base.agents)
            .filter_map(|(slot, b)| {
                let live = slot.agent.version();
                let earlier: Vec<VersionRef> = slot.agent.earlier().map(VersionRef::of).collect();
                (live.sha256 != b.sha256 || !live.overrides.is_empty() || !earlier.is_empty()).then(
                    || DeployedVersions {
                        name: b.name.clone(),
                        live: VersionRef::of(live),
                        earlier,
                    },
                )
            })
            .collect()
    }
}
