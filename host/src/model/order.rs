//! Orders: what agents intend, what risk says, what venues report.

use serde::{Deserialize, Serialize};

use super::Name;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// +1 for buy, -1 for sell.
    pub fn sign(self) -> f64 {
        match self {
            Side::Buy => 1.0,
            Side::Sell => -1.0,
        }
    }

    /// `buy` or `sell`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }

    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

/// Market or limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// At the best available prices.
    Market,
    /// At the limit price or better.
    Limit,
}

/// How long an order works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
}

/// An order an agent would like sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderIntent {
    /// Symbol.
    pub symbol: Name,
    /// Side.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// Quantity in base units.
    pub quantity: f64,
    /// Limit price (limit orders).
    #[serde(default)]
    pub limit_price: Option<f64>,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// The agent's own tag.
    #[serde(default)]
    pub tag: Name,
    /// A protective stop the host holds for what this order fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<f64>,
}

/// An order still working at the venue, as agents see it (`open-orders`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenOrder {
    /// Host-assigned id.
    pub order_id: Name,
    /// Agent that sent it.
    pub agent: Name,
    /// What was asked (after any resize).
    pub intent: OrderIntent,
    /// Filled so far.
    pub filled: f64,
}

impl OrderIntent {
    /// Quantity × limit price, or × `reference` for market orders.
    pub fn notional(&self, reference: f64) -> f64 {
        self.quantity * self.limit_price.unwrap_or(reference)
    }
}

/// A risk agent's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case", deny_unknown_fields)]
pub enum RiskVerdict {
    /// Send as is.
    Approve,
    /// Send with this smaller quantity.
    Resize {
        /// New quantity.
        quantity: f64,
    },
    /// Do not send.
    Reject {
        /// Why.
        reason: String,
    },
}

/// Where an order stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderStatus {
    /// Accepted by the venue.
    Accepted,
    /// Partly filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled.
    Cancelled,
    /// Refused, with the reason.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Time in force ran out.
    Expired,
}

impl OrderStatus {
    /// True once nothing more can happen to the order.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected { .. }
                | OrderStatus::Expired
        )
    }

    /// Lower-case name used in topics (`order.<status>.<symbol>`).
    pub fn name(&self) -> &'static str {
        match self {
            OrderStatus::Accepted => "accepted",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Rejected { .. } => "rejected",
            OrderStatus::Expired => "expired",
        }
    }

    /// `order.<status>.`: the topic of an event with this status, less its
    /// symbol.
    pub fn topic_prefix(&self) -> &'static str {
        match self {
            OrderStatus::Accepted => "order.accepted.",
            OrderStatus::PartiallyFilled => "order.partially_filled.",
            OrderStatus::Filled => "order.filled.",
            OrderStatus::Cancelled => "order.cancelled.",
            OrderStatus::Rejected { .. } => "order.rejected.",
            OrderStatus::Expired => "order.expired.",
        }
    }
}

/// What a venue reports about one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionReport {
    /// Host-assigned order id (the venue's client order id).
    pub order_id: Name,
    /// New status.
    pub status: OrderStatus,
    /// Quantity filled by this report.
    pub last_quantity: f64,
    /// Price of this report's fill.
    pub last_price: f64,
    /// Fee for this report's fill, valued in the quote asset.
    pub fee: f64,
    /// The part of the fee the venue took in the base asset, in base units
    /// (Binance spot takes a buy's commission from the coins bought): the
    /// position grows by that much less. 0 when the fee was in the quote.
    #[serde(default)]
    pub fee_base: f64,
}

/// An execution report as the order manager publishes it to agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEvent {
    /// Host-assigned order id.
    pub order_id: Name,
    /// Agent that sent the intent.
    pub agent: Name,
    /// The intent's tag.
    pub tag: Name,
    /// Symbol.
    pub symbol: Name,
    /// Side.
    pub side: Side,
    /// New status.
    pub status: OrderStatus,
    /// Filled by this event.
    pub last_quantity: f64,
    /// Price of this event's fill.
    pub last_price: f64,
    /// Filled so far.
    pub cumulative_quantity: f64,
    /// Still working.
    pub leaves_quantity: f64,
    /// Fee for this event's fill.
    pub fee: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_topic_prefix_is_order_then_its_name() {
        let all = [
            OrderStatus::Accepted,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled,
            OrderStatus::Cancelled,
            OrderStatus::Rejected { reason: "x".into() },
            OrderStatus::Expired,
        ];
        for s in all {
            assert_eq!(s.topic_prefix(), format!("order.{}.", s.name()));
        }
    }
}
