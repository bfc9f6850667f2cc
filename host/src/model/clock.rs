//! The wall clock, read in one place. Agents never see it (their time is
//! the event time the host hands over); venues, the simulator and the
//! connector stamp what arrives from the outside world with it.

use std::time::{SystemTime, UNIX_EPOCH};

use super::Nanos;

/// Nanoseconds since the Unix epoch (0 if the clock is before it).
pub fn wall_ns() -> Nanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as Nanos)
}

/// Milliseconds since the Unix epoch: Binance's timestamps.
pub fn wall_ms() -> u64 {
    wall_ns() / 1_000_000
}
