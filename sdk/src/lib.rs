//! Floor's guest SDK: write a trading agent in Rust without touching raw bindings.
//!
//! An agent is a type that implements [`Agent`]; [`export_agent!`] turns it
//! into a WebAssembly component of the `floor:agent` world. The host calls it
//! one message at a time; the agent answers with [`Outputs`] (publications,
//! order intents, cancels, a reply, alerts) and can look at the host's view of
//! the world through [`host`] (event time, config, positions, balances, quotes,
//! open orders, timers). It sees nothing else: no sockets, no files, no wall clock.
//!
//! ```no_run
//! use floor_sdk::prelude::*;
//!
//! #[derive(Default)]
//! struct Echo;
//!
//! impl Agent for Echo {
//!     fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
//!         out.publish("echo.seen.any", msg.payload.clone());
//!         Ok(())
//!     }
//! }
//!
//! floor_sdk::export_agent!(Echo);
//! ```
//!
//! # Layout
//!
//! - [`agent`]: the [`Agent`] trait and the [`export_agent!`] macro.
//! - [`outputs`]: [`Outputs`], what a call returns.
//! - [`config`]: [`Config`], typed access to the agent's configuration.
//! - [`host`]: the host's imports, wrapped.
//! - [`indicators`]: SMA, EMA and RSI with O(1) updates.
//! - [`lifecycle`]: [`lifecycle::Lifecycle`], one trade's checked life from
//!   scanning to closed, with stop and target.
//! - [`position`]: position and PnL arithmetic.
//! - [`state`]: snapshot/restore encoding.
//! - [`trader`]: [`Targeter`], orders that move a position to a target.
//! - [`market`]: quotes and trades as numbers, turned back into envelopes
//!   (the macro's business).
//! - [`orders`]: order events as numbers, turned back into envelopes (the
//!   macro's business too).
//! - [`intents`]: order intents as numbers, likewise.
//! - [`signals`]: signals as numbers, likewise.
//! - [`bindings`]: the generated bindings (the macro's business, not yours).

pub mod agent;
pub mod bindings;
pub mod config;
pub mod host;
pub mod indicators;
pub mod intents;
mod kept;
pub mod lifecycle;
pub mod market;
pub mod orders;
pub mod outputs;
pub mod position;
pub mod signals;
pub mod state;
pub mod trader;

pub use agent::Agent;
pub use config::Config;
pub use outputs::Outputs;
pub use trader::Targeter;
pub use types::*;

/// The contract's plain data types: envelopes, payloads, intents, verdicts.
pub mod types {
    pub use crate::bindings::floor::agent::host::{Balance, OpenOrder, Position};
    pub use crate::bindings::floor::agent::types::{
        Book, Envelope, Error, Level, LogLevel, News, OrderEvent, OrderIntent, OrderStatus,
        OrderType, Payload, Quote, RiskVerdict, Side, Signal, TimeInForce, Timer, Trade,
    };

    /// Build an [`Error`] from a short code and a message.
    pub fn error(code: &str, message: impl Into<String>) -> Error {
        Error {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Everything an agent usually needs, in one `use`.
pub mod prelude {
    pub use crate::indicators::{Ema, Rsi, Sma};
    pub use crate::lifecycle::{ExitReason, Lifecycle, Plan, TradeState};
    pub use crate::types::*;
    pub use crate::{Agent, Config, Outputs, Targeter, host};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::agent::dispatch;
}
