//! Risk the host enforces itself.
//!
//! - [`limits`]: [`HardLimits`], checked after the risk agents, last
//!   before the venue.

pub mod limits;

pub use limits::{HardLimits, LimitsConfig};
