//! What people do to a running node: operator commands.
//!
//! The admin API (and anything else that drives a node from outside)
//! turns requests into an [`Operation`]; the node's own thread applies it
//! between two inputs, so an operator command is just another input in the
//! one total order — nothing is locked, and a HALT takes effect before the
//! next message is handled.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Node;
use crate::deploy::Candidate;
use crate::dlq::{DeadLetter, read_file};
use crate::risk::TradingMode;

/// One command.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Operation {
    /// The node's figures, trading state and open orders.
    Status,
    /// Move the trading state (`floor halt | reduce | resume`).
    Trading {
        /// The new state.
        state: TradingMode,
        /// Why, for the record.
        reason: String,
    },
    /// Re-deliver dead letters to their agents as they run now.
    DlqReplay(ReplaySelection),
    /// Compare orders and balances with the venue now (`floor reconcile`).
    Reconcile,
    /// The host is stopping: refuse new orders from here on, while the
    /// answers to orders already sent come in (`floor run`'s clean stop).
    Stopping,
    /// Swap in a version prepared off the node's thread (`floor deploy`).
    #[serde(skip)]
    Deploy(Box<Candidate>),
    /// Swap the shadow in, or stop it (`floor promote [--discard]`).
    Promote {
        /// The agent.
        agent: String,
        /// Stop the shadow instead.
        discard: bool,
    },
    /// Send an intent that waits for approval (`floor approve`).
    Approve {
        /// Its approval id.
        id: u64,
        /// Who approves, for the record.
        by: String,
    },
    /// Refuse an intent that waits for approval (`floor reject`).
    Reject {
        /// Its approval id.
        id: u64,
        /// Why, for the record and the agent.
        reason: String,
    },
    /// Publish a headline (`POST /v1/news`, `floor news`, the news file).
    News(crate::model::News),
    /// Go back one version (`floor rollback`).
    Rollback {
        /// The agent.
        agent: String,
        /// Why, for the record.
        reason: String,
    },
}

/// Which dead letters to replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySelection {
    /// Entries by id.
    #[serde(default)]
    pub ids: Vec<u64>,
    /// Every entry (of `agent`, if given).
    #[serde(default)]
    pub all: bool,
    /// Only this agent's.
    #[serde(default)]
    pub agent: Option<String>,
}

/// Why an operation was refused: the message says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct OperationError(pub String);

impl Node {
    /// Journal a command that changes something (not `status`): JSON, and
    /// for a deploy the agent, the artifact's hash and its overrides.
    fn record_operation(&self, op: &Operation) {
        let Some(rec) = &self.recorder else {
            return;
        };
        let value = match op {
            Operation::Status => return,
            Operation::Deploy(c) => json!({
                "command": "deploy",
                "agent": c.version.spec.name,
                "sha256": c.version.sha256,
                "overrides": c.version.overrides,
                "shadow": c.shadow,
            }),
            other => serde_json::to_value(other).unwrap_or_default(),
        };
        rec.append(
            super::record::kind::OPERATION,
            self.now,
            value.to_string().as_bytes(),
        );
    }

    /// Apply `op` and say what happened.
    ///
    /// # Errors
    /// When the operation names something that does not exist.
    pub fn operate(&mut self, op: Operation) -> Result<Value, OperationError> {
        self.record_operation(&op);
        match op {
            Operation::Status => Ok(self.status()),
            Operation::Stopping => {
                self.stopping = true;
                Ok(json!({"stopping": true, "awaiting_answers": self.awaiting_answers()}))
            }
            Operation::Reconcile => {
                self.reconcile_venue();
                Ok(
                    json!({"requested": true, "note": "discrepancies arrive as venue.reconcile.* notices; `floor status` counts corrections"}),
                )
            }
            Operation::Deploy(candidate) => {
                let prepare_ms = candidate.prepare_ns as f64 / 1e6;
                let from_cache = candidate.from_cache;
                self.deploy(*candidate)
                    .map(|event| json!({"event": event, "prepare_ms": prepare_ms, "compiled": !from_cache}))
                    .map_err(|e| OperationError(e.to_string()))
            }
            Operation::Promote { agent, discard } => self
                .promote(&agent, discard)
                .map(|event| json!({"event": event}))
                .map_err(|e| OperationError(e.to_string())),
            Operation::Rollback { agent, reason } => self
                .rollback(&agent, &reason)
                .map(|event| json!({"event": event}))
                .map_err(|e| OperationError(e.to_string())),
            Operation::News(news) => self.news(news),
            Operation::Approve { id, by } => self.approve(id, &by),
            Operation::Reject { id, reason } => self.reject_pending(id, &reason),
            Operation::Trading { state, reason } => {
                let from = self.trading.mode();
                self.set_trading(state, "operator", &reason);
                Ok(json!({"from": from, "to": self.trading.mode(), "reason": reason}))
            }
            Operation::DlqReplay(ReplaySelection { ids, all, agent }) => {
                let letters = self.stored_letters()?;
                let chosen: Vec<DeadLetter> = letters
                    .into_iter()
                    .filter(|l| all || ids.contains(&l.id))
                    .filter(|l| agent.as_ref().is_none_or(|a| &l.agent == a))
                    .collect();
                if let Some(id) = ids.iter().find(|id| !chosen.iter().any(|l| l.id == **id)) {
                    return Err(OperationError(format!(
                        "no dead letter with id {id}{}; `floor dlq list` shows them",
                        agent
                            .map(|a| format!(" for agent `{a}`"))
                            .unwrap_or_default()
                    )));
                }
                let outcomes: Vec<Value> = chosen.iter().map(|l| self.replay_letter(l)).collect();
                Ok(Value::Array(outcomes))
            }
        }
    }

    /// Figures for `floor status`: the run summary so far, plus the open
    /// orders and the event time.
    pub fn status(&self) -> Value {
        let mut v = serde_json::to_value(self.summary(self.started.elapsed().as_secs_f64()))
            .unwrap_or_else(|e| json!({"error": e.to_string()}));
        v["event_time_ns"] = json!(self.now);
        v["checkpoint"] = self.checkpoint_status();
        v["deploys"] = self.deploy_status();
        v["trust"] = json!({"signatures": self.trust_mode, "warnings": self.trust_warnings});
        v["pending_approvals"] = json!(self.pending_approvals());
        v["open_orders"] = self
            .oms
            .open_orders()
            .map(|o| {
                json!({"id": o.id, "agent": o.agent, "symbol": o.intent.symbol,
                       "side": o.intent.side, "quantity": o.intent.quantity,
                       "limit_price": o.intent.limit_price, "filled": o.filled,
                       "state": o.state.name()})
            })
            .collect();
        v
    }

    /// Every dead letter in this node's file (memory keeps only the recent).
    fn stored_letters(&mut self) -> Result<Vec<DeadLetter>, OperationError> {
        self.dlq.flush();
        if !self.dlq_path.exists() {
            return Ok(Vec::new());
        }
        read_file(&self.dlq_path)
            .map(|f| f.letters)
            .map_err(|e| OperationError(format!("{e}")))
    }

    /// Re-deliver one dead letter and say how it went, as a JSON object
    /// with `id`, `agent`, `outcome` (`ok`, `fault`, `skipped`) and detail.
    /// Refused orders and requests are skipped: a refused order would be
    /// stale, and nobody waits for a request's reply any more.
    pub fn replay_letter(&mut self, l: &DeadLetter) -> Value {
        if l.reason.is_order_refusal() && l.envelope.topic.starts_with("order.refused.") {
            return json!({"id": l.id, "agent": l.agent, "outcome": "skipped",
                          "detail": "a refused order is a record, not re-sent: it would be stale; the agent sends a new one"});
        }
        if l.envelope.correlation_id.is_some() {
            return json!({"id": l.id, "agent": l.agent, "outcome": "skipped",
                          "detail": "a request is not replayed: nobody waits for its reply any more"});
        }
        match self.redeliver(&l.agent, &l.envelope) {
            Ok(n) => json!({"id": l.id, "agent": l.agent, "outcome": "ok", "outputs": n}),
            Err(e) => {
                json!({"id": l.id, "agent": l.agent, "outcome": "fault", "detail": format!("{e:#}")})
            }
        }
    }
}

/// An operation with the channel its answer goes back on: what the admin
/// API hands to the node's thread.
#[derive(Debug)]
pub struct Call {
    /// What to do.
    pub op: Operation,
    /// Where the answer goes.
    pub reply: tokio::sync::oneshot::Sender<Result<Value, OperationError>>,
}
