//! Order management: the host's record of every order it sent and of what
//! the account holds because of them.
//!
//! - [`orders`]: [`Oms`], order ids and execution reports → order events.
//! - [`portfolio`]: [`Portfolio`], positions, cash, PnL.
//! - [`state`]: the order state machine.

pub mod orders;
pub mod portfolio;
pub mod state;

pub use orders::{Oms, OmsError, Order};
pub use portfolio::{Equity, Portfolio};
pub use state::{InvalidTransition, OrderState};
