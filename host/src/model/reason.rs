//! Reason codes: the closed set of reasons a message can end up in the
//! dead-letter queue or an order can be refused by the host.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a message was not handled normally. The set is closed and each
/// code's meaning is documented here; dashboards and tests match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The call used up its fuel (instruction budget).
    FuelExhausted,
    /// The call ran past its wall-clock deadline (epoch interruption).
    DeadlineExceeded,
    /// The instance tried to grow its memories past the agent's cap.
    MemoryLimit,
    /// The guest trapped (panic, unreachable, out-of-bounds access…).
    Trap,
    /// An output published on a topic outside the agent's publish rights.
    PublishDenied,
    /// An output sent an order the agent has no right to send.
    OrderDenied,
    /// One output was larger than the per-output byte cap.
    OutputTooLarge,
    /// The call returned more outputs than the per-call cap.
    TooManyOutputs,
    /// The agent returned an error instead of outputs.
    AgentError,
    /// The agent replied although it was not handling a request.
    ReplyWithoutRequest,
    /// A risk agent faulted or did not answer an order request in time.
    RiskUnavailable,
    /// The input could not be decoded.
    DecodeError,
    /// A reliable message faulted its subscriber on every attempt the retry
    /// policy allows; the detail names the last fault.
    RetriesExhausted,
}

impl ReasonCode {
    /// The snake_case name, as in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::FuelExhausted => "fuel_exhausted",
            ReasonCode::DeadlineExceeded => "deadline_exceeded",
            ReasonCode::MemoryLimit => "memory_limit",
            ReasonCode::Trap => "trap",
            ReasonCode::PublishDenied => "publish_denied",
            ReasonCode::OrderDenied => "order_denied",
            ReasonCode::OutputTooLarge => "output_too_large",
            ReasonCode::TooManyOutputs => "too_many_outputs",
            ReasonCode::AgentError => "agent_error",
            ReasonCode::ReplyWithoutRequest => "reply_without_request",
            ReasonCode::RiskUnavailable => "risk_unavailable",
            ReasonCode::DecodeError => "decode_error",
            ReasonCode::RetriesExhausted => "retries_exhausted",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
