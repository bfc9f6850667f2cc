//! Risk the host enforces itself.
//!
//! - [`limits`]: [`HardLimits`], checked after the risk agents, last
//!   before the venue.
//! - [`trading`]: the [`TradingState`] (ACTIVE, REDUCING, HALTED), checked
//!   before anything else.
//! - [`refusal`]: [`Refusal`], why an order was not sent.

pub mod limits;
pub mod refusal;
pub mod trading;

pub use limits::{BookView, HardLimits, LimitsConfig};
pub use refusal::Refusal;
pub use trading::{TradingChange, TradingMode, TradingState};
