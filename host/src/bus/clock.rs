//! The bus's wall clock for latency figures: monotonic nanoseconds since
//! the process first asked. Only metrics read it — agents see event time,
//! never this — so it cannot make a run depend on the machine's speed.
//!
//! Every publication reads it, so it must be cheap: `quanta` reads the CPU's
//! time-stamp counter (calibrated against the OS clock once) in a few ns,
//! where `std::time::Instant` makes a `clock_gettime` call costing about
//! 25 ns — a sixth of a whole publish → deliver on the in-process bus. On a
//! machine without a usable TSC, quanta falls back to the OS clock.

use std::sync::OnceLock;

static CLOCK: OnceLock<(quanta::Clock, u64)> = OnceLock::new();

/// Monotonic ns since the first call in this process.
pub fn now_ns() -> u64 {
    let (clock, base) = CLOCK.get_or_init(|| {
        let c = quanta::Clock::new();
        let base = c.raw();
        (c, base)
    });
    clock.delta_as_nanos(*base, clock.raw())
}
