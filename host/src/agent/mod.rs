//! Agents: components of the `floor:agent` world, run under the host's
//! limits and rights.
//!
//! This is where WebAssembly meets trading: it turns the generated bindings
//! into the host's own [`crate::model`] types at the boundary, answers the
//! agent's imports from a [`View`] of the account and the market, checks
//! every output against the agent's [`Rights`], and turns any fault into a
//! reason code and a fresh instance.
//!
//! - [`bindings`]: generated bindings and the conversions.
//! - [`state`]: what a store holds, and the host imports.
//! - [`output`]: the tail of what an agent writes to stdio, for fault reports.
//! - [`rights`]: publish and order rights.
//! - [`streams`]: stream numbers for market data as numbers (`market`).
//! - [`instance`]: [`AgentInstance`], one agent's instance and its lifecycle.

pub mod bindings;
pub mod instance;
pub mod numbers;
pub mod output;
pub mod rights;
pub mod run;
pub mod state;
pub mod streams;
mod values;

pub use instance::{AgentInstance, AgentLinker, AgentSpec, CallFault, StartError};
pub use rights::Rights;
pub use state::{EmptyView, View};
