//! Hot swaps as the node sees them: every call to an agent goes through
//! its [`Deployed`](crate::deploy::Deployed) versions, and what deploys do
//! is published and counted.
//!
//! Each event goes out on `deploy.<kind>.<agent>` (`swapped`, `promoted`,
//! `rolled_back`, `refused`, `shadowed`, `shadow_discarded`) as JSON, from
//! the host; a rollback or a refused swap is also an alert.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Node, Stats};
use crate::agent::CallFault;
use crate::deploy::{Candidate, DeployError, DeployEvent, EventKind, Preparer};
use crate::model::{Envelope, Output};

impl Node {
    /// Call agent `idx` with `msg`: the one way the node calls an agent, so
    /// probation and rollback see every message.
    pub(super) fn call_agent(
        &mut self,
        idx: usize,
        msg: &Arc<Envelope>,
        in_request: bool,
        deadline: Option<Duration>,
    ) -> Result<Vec<Output>, CallFault> {
        if let Some(q) = self.agents[idx].supervision.quarantine() {
            let detail = format!(
                "`{}` is quarantined: {}",
                self.agents[idx].agent.name(),
                q.reason
            );
            self.agents[idx].supervision.refuse();
            return Err(CallFault {
                reason: crate::model::ReasonCode::Quarantined,
                detail,
            });
        }
        if let Some(back) = self.restarting(idx) {
            return Err(CallFault {
                reason: crate::model::ReasonCode::Restarting,
                detail: format!(
                    "`{}` is restarting after a fault; it is served again from event time {back}",
                    self.agents[idx].agent.name()
                ),
            });
        }
        let called = self.agents[idx].agent.call(msg, in_request, deadline);
        self.after_call(idx, called)
    }

    /// What a call of agent `idx` leaves for the node: cuts for the
    /// journal, the supervisor's note of a fault, a restart's recovery, a
    /// deploy event.
    pub(super) fn after_call(
        &mut self,
        idx: usize,
        called: crate::deploy::Called,
    ) -> Result<Vec<Output>, CallFault> {
        for call in self.agents[idx].agent.take_cuts() {
            if let Some(r) = &self.recorder {
                let agent = self.agents[idx].agent.name().to_string();
                r.append_json(
                    super::record::kind::CUT,
                    self.now,
                    &super::record::Cut { agent, call },
                );
            }
        }
        if let Err(f) = &called.result {
            let now = self.now;
            self.agents[idx]
                .supervision
                .note_error(now, f.reason, &f.detail);
        }
        if let Some(recovery) = called.recovery {
            self.restarted(idx, recovery);
        }
        if let Some(event) = called.event {
            if event.kind == EventKind::RolledBack {
                // The new version's fault, although the message was handled.
                Stats::bump(&self.stats.agent_faults);
                self.agents[idx].counts.faults += 1;
                self.supervise(idx);
            }
            self.deploy_event(idx, &event);
        }
        called.result
    }

    /// Replay: cut exactly the calls the recorded run's deadlines cut
    /// (its journal's cut records), and no other. Build the node with
    /// `runtime.wall_clock` off, so its own machine's load cuts nothing.
    pub fn repeat_cuts(&mut self, cuts: &[super::record::Cut]) {
        for slot in &mut self.agents {
            let name = slot.agent.name().to_string();
            slot.agent
                .repeat_cuts(cuts.iter().filter(|c| c.agent == name).map(|c| c.call));
        }
    }

    /// A handle that prepares new versions of this node's agents, for the
    /// admin API's threads.
    pub fn preparer(&self) -> Preparer {
        self.preparer.clone()
    }

    /// Swap a prepared version in (`floor deploy`). Returns the swap's record.
    ///
    /// # Errors
    /// [`DeployError`] when the agent is gone or `restore` fails; the running
    /// version is then untouched.
    pub fn deploy(&mut self, candidate: Candidate) -> Result<DeployEvent, DeployError> {
        let name = candidate.instance.name().to_string();
        let idx = self.index_for_deploy(&name)?;
        if candidate.shadow {
            let event = self.agents[idx].agent.start_shadow(candidate)?;
            self.deploy_event(idx, &event);
            self.drain();
            return Ok(event);
        }
        match self.agents[idx].agent.swap(candidate) {
            Ok(event) => {
                self.deploy_event(idx, &event);
                self.drain();
                Ok(event)
            }
            Err(e) => {
                if let Some(r) = self.agents[idx].agent.records().last().cloned()
                    && r.kind == EventKind::Refused
                {
                    self.deploy_event(idx, &r);
                }
                self.drain();
                Err(e)
            }
        }
    }

    /// Swap `agent`'s shadow in (`floor promote`), or stop it (`discard`).
    ///
    /// # Errors
    /// [`DeployError::NoShadow`], or as [`Node::deploy`].
    pub fn promote(&mut self, agent: &str, discard: bool) -> Result<DeployEvent, DeployError> {
        let idx = self.index_for_deploy(agent)?;
        let event = self.agents[idx].agent.promote_shadow(discard)?;
        self.deploy_event(idx, &event);
        self.drain();
        Ok(event)
    }

    /// Go back one version of `agent` (`floor rollback`).
    ///
    /// # Errors
    /// [`DeployError`] when there is nothing to roll back to or the earlier
    /// version refuses the state; nothing changes then.
    pub fn rollback(&mut self, agent: &str, reason: &str) -> Result<DeployEvent, DeployError> {
        let idx = self.index_for_deploy(agent)?;
        let preparer = self.preparer.clone();
        let event = self.agents[idx]
            .agent
            .roll_back(Some(&preparer), false, reason.to_string())?;
        self.deploy_event(idx, &event);
        self.drain();
        Ok(event)
    }

    fn index_for_deploy(&self, agent: &str) -> Result<usize, DeployError> {
        self.by_name
            .get(agent)
            .copied()
            .ok_or_else(|| DeployError::UnknownAgent {
                agent: agent.to_string(),
                known: self
                    .agents
                    .iter()
                    .map(|a| a.agent.name().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Promote versions whose probation is over (wall clock), so a quiet
    /// agent is not on probation forever.
    pub(super) fn check_probations(&mut self) {
        if self.on_probation == 0 {
            return;
        }
        let now = Instant::now();
        for idx in 0..self.agents.len() {
            if let Some(event) = self.agents[idx].agent.check_probation(now) {
                self.deploy_event(idx, &event);
            }
        }
    }

    /// Publish and log a deploy event. A version an operator put in place
    /// (a swap, a rollback by hand) releases the agent from quarantine.
    fn deploy_event(&mut self, idx: usize, event: &DeployEvent) {
        let name = self.agents[idx].agent.name().to_string();
        // Deploy events are rare: count the probations again rather than
        // keep a running tally in every path.
        self.on_probation = self
            .agents
            .iter()
            .filter(|a| a.agent.on_probation())
            .count();
        if matches!(event.kind, EventKind::Swapped | EventKind::RolledBack) && !event.automatic {
            self.release(idx);
        }
        match event.kind {
            EventKind::Promoted => {
                tracing::info!(agent = %name, version = %event.to, "promoted: {}", event.detail);
            }
            EventKind::RolledBack if event.automatic => {
                Stats::bump(&self.stats.alerts);
                tracing::warn!(agent = %name, from = %event.from, to = %event.to, "rolled back: {}", event.detail);
            }
            EventKind::RolledBack | EventKind::Refused => {
                Stats::bump(&self.stats.alerts);
                tracing::warn!(agent = %name, from = %event.from, to = %event.to, "{}", event.detail);
            }
            EventKind::Shadowed | EventKind::ShadowDiscarded => {
                tracing::info!(agent = %name, live = %event.from, shadow = %event.to, "{}", event.detail)
            }
            EventKind::Swapped => {
                tracing::info!(agent = %name, from = %event.from, to = %event.to, pause_us = event.pause_us, "swapped")
            }
        }
        let kind = serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.announce(
            format!("deploy.{kind}.{name}"),
            &json!({"agent": name, "event": event}),
        );
    }

    /// Versions and deploy records per agent, for `floor status`.
    pub(super) fn deploy_status(&self) -> Value {
        self.agents
            .iter()
            .map(|a| {
                let d = &a.agent;
                let v = d.version();
                json!({
                    "agent": d.name(),
                    "version": v.sha256,
                    "state": d.state(),
                    "handled_by_version": v.handled,
                    "overrides": v.overrides,
                    "memory_bytes": d.memory_bytes(),
                    "earlier": d.earlier().map(|e| json!({"version": e.sha256, "handled": e.handled})).collect::<Vec<_>>(),
                    "records": d.records().collect::<Vec<_>>(),
                    "shadow": d.shadow(),
                })
            })
            .collect()
    }
}
