//! The order manager's state, taken and put back: what a restarted host
//! needs to carry on where the last one stopped.
//!
//! Only what cannot be rebuilt from the config is kept: open orders, the
//! last [`KEPT_FINISHED`] cancelled or expired orders of each agent (a
//! venue may still report a fill for one: the late fill after a cancel),
//! finished orders whose protective stop is still armed (an agent cancels
//! a stop by its order's id),
//! each agent's order-id counter
//! (so no client order id is sent twice), positions, balances, marks,
//! fees, the equity peak and drawdown, and the armed protective stops.
//! Every collection is kept sorted, so the same state always encodes to
//! the same bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::Position;

use super::{Order, Stop};

/// Cancelled or expired orders kept per agent, newest first, for the
/// fills a venue reports after the cancel (filled and rejected orders can
/// change no more and are not kept).
pub const KEPT_FINISHED: usize = 1_000;

/// The order manager, as kept in a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OmsState {
    /// Orders not yet final, by id.
    pub open: Vec<Order>,
    /// Cancelled or expired orders a late fill may still reach, and
    /// finished orders whose stop is armed, by agent and number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finished: Vec<Order>,
    /// Per agent, the number of the last order id it was given.
    pub counters: BTreeMap<String, u64>,
    /// Fills applied after their order was done.
    pub late_fills: u64,
    /// The account.
    pub portfolio: PortfolioState,
    /// Armed stops, per symbol in the order they were armed.
    pub stops: Vec<Stop>,
}

/// The account, as kept in a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PortfolioState {
    /// Positions by symbol.
    pub positions: BTreeMap<String, Position>,
    /// Balances by asset.
    pub balances: BTreeMap<String, f64>,
    /// Last mark per symbol.
    pub marks: BTreeMap<String, f64>,
    /// Fees paid.
    pub fees: f64,
    /// Highest equity seen.
    pub peak_equity: f64,
    /// Largest drawdown from the peak, a fraction.
    pub max_drawdown: f64,
}
