//! The simulated exchange: what `floor venue sim` serves and what every
//! test trades against.
//!
//! This module is the exchange itself — symbols with Binance's filters,
//! accounts with free and locked balances, one limit order book per symbol
//! in price-time priority, the order types and time-in-force rules of
//! Binance spot, self-trade prevention and fees — as a deterministic state
//! machine driven by its caller's clock. It knows nothing of agents, WASM
//! or the node; the protocol server and the market generator sit on top.
//!
//! Modules: [`symbol`] (a symbol and its filters), [`account`] (balances), [`book`]
//! (the order book), [`order`] (order types, states, the events the
//! exchange reports), [`engine`] (order entry, cancels, queries),
//! `matching` (taking liquidity, STP, stop triggers), [`error`] (Binance's
//! error codes), [`market`] (the seeded generator) and [`replay`] (a
//! recorded CSV) that make the book live.

pub mod account;
pub mod api;
pub mod book;
pub mod engine;
pub mod error;
pub mod market;
mod matching;
pub mod order;
pub mod replay;
pub mod setup;
pub mod store;
pub mod symbol;

pub use crate::model::Fixed;
/// Exact amounts live in the model (the connector uses them too).
pub use crate::model::fixed;
pub use engine::{Exchange, OrderAck, OrderRef};
pub use error::ApiError;
pub use order::{Event, NewOrder, OrderKind, OrderState, StpMode};
pub use symbol::SymbolSpec;

#[cfg(test)]
mod tests;
