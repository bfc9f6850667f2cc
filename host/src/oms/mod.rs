//! Order management: the host's record of every order it sent and of what
//! the account holds because of them.
//!
//! - [`orders`]: [`Oms`], order ids and execution reports → order events.
//! - [`portfolio`]: [`Portfolio`], positions, cash, PnL.
//! - [`state`]: the order state machine.
//! - [`stops`]: [`Stops`], protective stops held for filled orders.
//! - [`snapshot`]: [`OmsState`], all of it as a restarted host needs it.

pub mod orders;
pub mod portfolio;
pub mod snapshot;
pub mod state;
pub mod stops;

pub use orders::{Oms, OmsError, Order, Replacement};
pub use portfolio::{Equity, Portfolio};
pub use snapshot::{OmsState, PortfolioState};
pub use state::{InvalidTransition, OrderState};
pub use stops::{Stop, Stops};
