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

/// A time as people and files write it: nanoseconds since the epoch, or
/// RFC 3339 (`2026-11-20T14:30:00Z`, fractions allowed).
///
/// # Errors
/// What the text is not, for a message that names where it came from.
pub fn parse_time(s: &str) -> Result<Nanos, String> {
    if let Ok(ns) = s.parse::<u64>() {
        return Ok(ns);
    }
    humantime::parse_rfc3339_weak(s)
        .map_err(|e| format!("time `{s}` is neither ns since the epoch nor RFC 3339 ({e})"))?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as Nanos)
        .map_err(|_| format!("time `{s}` is before 1970"))
}
