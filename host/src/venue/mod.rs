//! Venues: where orders go and market data comes from.
//!
//! [`Venue`] is the interface the node drives; [`sim::SimVenue`] is the
//! built-in simulated exchange. A venue knows nothing about WebAssembly or
//! agents: it sees orders with host-assigned ids and reports what happened
//! to them. The Binance connector and the full matching engine implement
//! this same trait.

pub mod binance;
pub mod sim;

use serde::{Deserialize, Serialize};

use crate::model::{ExecutionReport, MarketEvent, Nanos, OrderType, Side, TimeInForce};

/// An order as sent to a venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueOrder {
    /// Host-assigned id (the venue's client order id).
    pub order_id: String,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Market or limit.
    pub order_type: OrderType,
    /// Quantity.
    pub quantity: f64,
    /// Limit price.
    pub limit_price: Option<f64>,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

/// Something a venue reports, at an event time.
#[derive(Debug, Clone, PartialEq)]
pub enum VenueEvent {
    /// Market data.
    Market(MarketEvent),
    /// An execution report for one of our orders.
    Execution(ExecutionReport),
}

/// Why a venue refused a request outright (as opposed to rejecting an order,
/// which is an execution report).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VenueError {
    /// No such open order.
    #[error("unknown order `{0}`: it is not open at the venue (already done, or never sent)")]
    UnknownOrder(String),
}

/// A trading venue.
pub trait Venue: Send {
    /// Name for logs and status.
    fn name(&self) -> &str;

    /// The next event and its event time, or `None` when the feed has ended.
    fn poll(&mut self) -> Option<(Nanos, VenueEvent)>;

    /// Send an order; the reports it causes right away (accepted, fills,
    /// rejection).
    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport>;

    /// Cancel an open order.
    ///
    /// # Errors
    /// [`VenueError::UnknownOrder`] when it is not open.
    fn cancel(&mut self, order_id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError>;

    /// Market data that reached the host from elsewhere (a replay, a
    /// benchmark). A simulated venue takes it as its new touch and returns
    /// the fills it causes; a live venue ignores it.
    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport>;
}
