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
    /// A risk agent rejected an order intent (or resized it upwards).
    RiskRejected,
    /// Intents over `risk.consensus_notional` did not get the quorum.
    ConsensusFailed,
    /// Trading is HALTED: no order is sent (`floor resume` ends it).
    TradingHalted,
    /// Trading is REDUCING: only orders that shrink a position are sent.
    ReduceOnly,
    /// `limits.kill_switch` is on.
    KillSwitch,
    /// The quantity is not a positive number.
    InvalidQuantity,
    /// No market price for the symbol yet, so the order cannot be valued.
    NoPrice,
    /// Over `limits.max_order_notional`.
    LimitOrderNotional,
    /// Over `limits.max_position` for the symbol.
    LimitPosition,
    /// Over `limits.max_gross_exposure` across symbols.
    LimitGrossExposure,
    /// A limit price outside `limits.price_band_pct` of the mid (fat finger).
    LimitPriceBand,
    /// Over `limits.max_orders_per_second` for the whole host.
    LimitOrderRate,
    /// Over `limits.max_orders_per_second_per_agent` for the sending agent.
    LimitAgentOrderRate,
    /// Today's loss is over `limits.max_daily_loss`: only reducing orders.
    LimitDailyLoss,
    /// The agent is quarantined (too many faults in the supervisor's
    /// window): reliable messages for it wait here until a fixed version is
    /// deployed and `floor dlq replay` hands them over.
    Quarantined,
    /// The agent faulted and is restarting from its last good state: the
    /// supervisor's backoff is not over. Messages wait in its inbox; a
    /// request to it is answered at once with this reason.
    Restarting,
    /// A person rejected an intent that waited for approval
    /// (`floor reject`).
    ApprovalRejected,
    /// An intent that waited for approval expired unanswered
    /// (`[risk] approval_timeout_secs`).
    ApprovalExpired,
    /// The host is stopping: no new order goes out while the orders
    /// already on the wire are answered (so a clean stop leaves none in
    /// doubt).
    HostStopping,
}

impl ReasonCode {
    /// Whether this code is an order refusal (risk stage, trading state or
    /// hard limit) rather than a failed delivery. A refused order is a
    /// record, not something to re-deliver: it would be stale.
    pub fn is_order_refusal(self) -> bool {
        matches!(
            self,
            ReasonCode::RiskUnavailable
                | ReasonCode::RiskRejected
                | ReasonCode::ConsensusFailed
                | ReasonCode::TradingHalted
                | ReasonCode::ReduceOnly
                | ReasonCode::KillSwitch
                | ReasonCode::InvalidQuantity
                | ReasonCode::NoPrice
                | ReasonCode::LimitOrderNotional
                | ReasonCode::LimitPosition
                | ReasonCode::LimitGrossExposure
                | ReasonCode::LimitPriceBand
                | ReasonCode::LimitOrderRate
                | ReasonCode::LimitAgentOrderRate
                | ReasonCode::LimitDailyLoss
                | ReasonCode::ApprovalRejected
                | ReasonCode::ApprovalExpired
                | ReasonCode::HostStopping
        )
    }

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
            ReasonCode::RiskRejected => "risk_rejected",
            ReasonCode::ConsensusFailed => "consensus_failed",
            ReasonCode::TradingHalted => "trading_halted",
            ReasonCode::HostStopping => "host_stopping",
            ReasonCode::ReduceOnly => "reduce_only",
            ReasonCode::KillSwitch => "kill_switch",
            ReasonCode::InvalidQuantity => "invalid_quantity",
            ReasonCode::NoPrice => "no_price",
            ReasonCode::LimitOrderNotional => "limit_order_notional",
            ReasonCode::LimitPosition => "limit_position",
            ReasonCode::LimitGrossExposure => "limit_gross_exposure",
            ReasonCode::LimitPriceBand => "limit_price_band",
            ReasonCode::LimitOrderRate => "limit_order_rate",
            ReasonCode::LimitAgentOrderRate => "limit_agent_order_rate",
            ReasonCode::LimitDailyLoss => "limit_daily_loss",
            ReasonCode::Quarantined => "quarantined",
            ReasonCode::Restarting => "restarting",
            ReasonCode::ApprovalRejected => "approval_rejected",
            ReasonCode::ApprovalExpired => "approval_expired",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
