//! Four eyes: intents over `[risk] approval_notional` wait for a person.
//!
//! An intent that passed the risk agents and the hard limits, but whose
//! notional is over the approval threshold, is not sent: it is held, given
//! an approval id, published on `risk.approval.pending` (JSON, with the
//! agent, the intent, its notional and when it expires) and counted as an
//! alert. A person answers with `floor approve ID` or `floor reject ID`:
//!
//! - approved, it goes through the trading state, the risk agents and the
//!   hard limits *again* — the market, the positions and the trading state
//!   may have moved while it waited — and is sent if they still pass;
//! - rejected, it is refused with `approval_rejected` and the person's
//!   reason;
//! - unanswered for `approval_timeout_secs` of event time, it expires:
//!   refused with `approval_expired`. Fail safe: silence never sends.
//!
//! Held intents are listed in `floor status` (`pending_approvals`). Every
//! outcome is published like any order event (`order.rejected.*` to the
//! agent, the dead-letter queue for refusals).

use serde::Serialize;
use serde_json::{Value, json};

use super::Node;
use super::operator::OperationError;
use crate::model::{Nanos, OrderIntent, ReasonCode};
use crate::risk::Refusal;

/// An intent waiting for a person.
#[derive(Debug, Clone, Serialize)]
pub struct PendingApproval {
    /// What `floor approve` and `floor reject` name it by.
    pub id: u64,
    /// The agent that sent it.
    pub agent: String,
    /// The intent, as the risk agents left it.
    pub intent: OrderIntent,
    /// Its notional when it was held, quote asset.
    pub notional: f64,
    /// Event time it was held at, ns.
    pub held_at: Nanos,
    /// Event time it expires at, ns.
    pub expires_at: Nanos,
    #[serde(skip)]
    trace: u64,
}

impl Node {
    /// Whether `intent` must wait for a person.
    pub(super) fn needs_approval(&self, intent: &OrderIntent) -> Option<f64> {
        let threshold = self.risk_policy.approval_notional?;
        // Unknown notional (no price) is treated as large: fail safe.
        let notional = self.notional(intent).unwrap_or(f64::INFINITY);
        (notional > threshold).then_some(notional)
    }

    /// Hold `intent` of agent `agent` for a person.
    pub(super) fn hold_for_approval(
        &mut self,
        agent: &str,
        intent: OrderIntent,
        notional: f64,
        trace: u64,
    ) {
        let id = self.stamper.next_id();
        let pending = PendingApproval {
            id,
            agent: agent.to_string(),
            intent,
            notional,
            held_at: self.now,
            expires_at: self
                .now
                .saturating_add(self.risk_policy.approval_timeout_secs * 1_000_000_000),
            trace,
        };
        crate::node::Stats::bump(&self.stats.alerts);
        tracing::warn!(
            id,
            agent,
            notional,
            "order intent waits for approval: `floor approve {id}` or `floor reject {id}`"
        );
        self.announce("risk.approval.pending".into(), &pending);
        self.pending_approvals.insert(id, pending);
    }

    /// A person approved `id`: check it again and send it.
    pub(super) fn approve(&mut self, id: u64, by: &str) -> Result<Value, OperationError> {
        let p = self.take_pending(id)?;
        let Some(&idx) = self.by_name.get(&p.agent) else {
            return Err(OperationError(format!("agent `{}` is gone", p.agent)));
        };
        tracing::info!(id, by, "order intent approved");
        self.announce(
            "risk.approval.approved".into(),
            &json!({"id": id, "by": by}),
        );
        let sent = self.send_checked(idx, p.intent, p.trace, true);
        self.drain();
        Ok(json!({"id": id, "approved_by": by, "sent": sent}))
    }

    /// A person rejected `id`.
    pub(super) fn reject_pending(
        &mut self,
        id: u64,
        reason: &str,
    ) -> Result<Value, OperationError> {
        let p = self.take_pending(id)?;
        let refusal = Refusal::host(ReasonCode::ApprovalRejected, reason.to_string());
        self.refuse(&p.agent, p.intent, refusal, p.trace);
        self.drain();
        Ok(json!({"id": id, "rejected": true, "reason": reason}))
    }

    /// Refuse every held intent whose time is up.
    pub(super) fn expire_approvals(&mut self) {
        let now = self.now;
        let due: Vec<u64> = self
            .pending_approvals
            .values()
            .filter(|p| p.expires_at <= now)
            .map(|p| p.id)
            .collect();
        for id in due {
            if let Some(p) = self.pending_approvals.remove(&id) {
                let refusal = Refusal::host(
                    ReasonCode::ApprovalExpired,
                    format!(
                        "nobody approved it within {} s ([risk] approval_timeout_secs)",
                        self.risk_policy.approval_timeout_secs
                    ),
                );
                self.refuse(&p.agent, p.intent, refusal, p.trace);
            }
        }
    }

    fn take_pending(&mut self, id: u64) -> Result<PendingApproval, OperationError> {
        self.pending_approvals.remove(&id).ok_or_else(|| {
            let waiting: Vec<String> = self.pending_approvals.keys().map(u64::to_string).collect();
            OperationError(format!(
                "no order intent waits for approval as {id} (waiting: {}); `floor status` lists them",
                if waiting.is_empty() {
                    "none".to_string()
                } else {
                    waiting.join(", ")
                }
            ))
        })
    }

    /// Intents waiting for a person, oldest first.
    pub fn pending_approvals(&self) -> Vec<PendingApproval> {
        self.pending_approvals.values().cloned().collect()
    }
}
