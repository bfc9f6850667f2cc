//! Venues: where orders go and market data comes from.
//!
//! [`Venue`] is the interface the node drives. Two kinds implement it:
//! [`binance::BinanceVenue`], the connector that speaks Binance's protocol
//! to Binance or to Floor's simulated exchange (`crate::exchange`) on
//! loopback — what paper and live trading use — and [`sim::SimVenue`], a
//! synthetic random walk in the node's own thread, deterministic and
//! socket-free, for fast runs and benchmarks. A venue knows nothing about
//! WebAssembly or agents: it sees orders with host-assigned ids and reports
//! what happened to them.

pub mod binance;
pub mod sim;

use serde::{Deserialize, Serialize};

use crate::model::{
    ExecutionReport, MarketEvent, Name, Nanos, OrderIntent, OrderStatus, OrderType, Side,
    TimeInForce,
};

/// An order as sent to a venue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VenueOrder {
    /// Host-assigned id (the venue's client order id).
    pub order_id: Name,
    /// Symbol.
    pub symbol: Name,
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

impl VenueOrder {
    /// The order for `intent`, sent as `order_id`.
    pub fn from_intent(order_id: Name, intent: &OrderIntent) -> Self {
        Self {
            order_id,
            symbol: intent.symbol.clone(),
            side: intent.side,
            order_type: intent.order_type,
            quantity: intent.quantity,
            limit_price: intent.limit_price,
            time_in_force: intent.time_in_force,
        }
    }
}

/// An order a restarted host still holds open: sent by the host before it
/// stopped, not known to be final.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumedOrder {
    /// The order as it was sent.
    pub order: VenueOrder,
    /// Filled, as far as the host knows.
    pub filled: f64,
    /// Whether the venue had acknowledged it.
    pub accepted: bool,
}

/// Something a venue reports, at an event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VenueEvent {
    /// Market data.
    Market(MarketEvent),
    /// An execution report for one of our orders.
    Execution(ExecutionReport),
    /// A change in the connection the host should know about (a circuit
    /// breaker opening, a stream lost and regained, a reconciliation that
    /// found what the stream missed): published on `topic`, counted as an
    /// alert.
    Notice {
        /// `venue.<what>.<state>`, e.g. `venue.breaker.open`.
        topic: String,
        /// What happened, for people.
        detail: String,
    },
    /// The account's balances as the venue holds them, taken while none of
    /// our orders was open or in flight: the node takes them as the truth.
    Balances(Vec<crate::model::Balance>),
}

/// What [`Venue::poll`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled {
    /// An event and its event time.
    Event(Nanos, VenueEvent),
    /// Nothing yet; the venue's time now (timers may be due).
    Idle(Nanos),
    /// The feed has ended (a finite replay); nothing more will come.
    Ended,
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

    /// The next event. A live venue waits a little for one and says
    /// [`Polled::Idle`] when none came.
    fn poll(&mut self) -> Polled;

    /// Up to `max` market events that [`Venue::poll`] would give next, in
    /// order and at event times up to `until`, left in place, added to
    /// `into` (a buffer the caller keeps, so that looking ahead allocates
    /// nothing): a replay hands such a stretch to an agent in one call (a
    /// run, `node::runs`). A venue that cannot look ahead (a live one) adds
    /// none.
    fn market_ahead(&mut self, max: usize, until: Nanos, into: &mut Vec<(Nanos, MarketEvent)>) {
        let _ = (max, until, into);
    }

    /// Take the first `n` of [`Venue::market_ahead`]'s events, as `n`
    /// polls would have.
    fn take_ahead(&mut self, n: usize) {
        let _ = n;
    }

    /// Send an order; the reports it causes right away (accepted, fills,
    /// rejection). A venue over the network returns none: its reports come
    /// through [`Venue::poll`].
    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport>;

    /// Cancel an open order (its report may come now or through `poll`).
    ///
    /// # Errors
    /// [`VenueError::UnknownOrder`] when it is not open.
    fn cancel(&mut self, order_id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError>;

    /// Market data that reached the host from elsewhere (a replay, a
    /// benchmark). A simulated venue takes it as its new touch and returns
    /// the fills it causes; a live venue ignores it.
    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport>;

    /// The orders a restarted host holds open (from its snapshot). A
    /// venue that outlived the host takes them back and reconciles them:
    /// fills and final states from while the host was down arrive through
    /// `poll`, each once. One that did not outlive it (in-process) lost
    /// them with the host, and reports each as expired.
    fn resume(&mut self, open: &[ResumedOrder], _now: Nanos) -> Vec<ExecutionReport> {
        open.iter()
            .map(|o| ExecutionReport {
                order_id: o.order.order_id.clone(),
                status: OrderStatus::Expired,
                last_quantity: 0.0,
                last_price: 0.0,
                fee: 0.0,
                fee_base: 0.0,
            })
            .collect()
    }

    /// Compare our orders and the account with the venue now (an
    /// operator's doubt, a test); what differs arrives later through
    /// `poll`. A venue that cannot drift (in-process) does nothing.
    fn reconcile(&mut self) {}
}
