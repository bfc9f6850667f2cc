//! Delivery latency: how long a message waited between its publication on
//! the bus and its handler's entry (behind other deliveries, a retry, a
//! restart's backoff or backpressure). Recorded in an HDR histogram, so
//! percentiles stay exact to a few percent whatever the spread.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Percentiles of one histogram, ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    /// Deliveries measured.
    pub count: u64,
    /// Median.
    pub p50_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Largest.
    pub max_ns: u64,
}

/// A latency histogram from 1 ns to an hour (longer waits count as an hour).
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

const HOUR_NS: u64 = 3_600_000_000_000;

impl Latency {
    /// With `sigfig` significant decimal digits: 2 (about 1% error, ~30 KB)
    /// per agent, 1 (about 6%, ~4 KB) per topic, where there may be many.
    pub fn new(sigfig: u8) -> Self {
        Self(Histogram::new_with_bounds(1, HOUR_NS, sigfig).expect("valid histogram bounds"))
    }

    /// Record one wait.
    pub fn record(&mut self, ns: u64) {
        self.record_n(ns, 1);
    }

    /// Record `n` waits of `ns` each.
    pub fn record_n(&mut self, ns: u64, n: u64) {
        self.0.saturating_record_n(ns.clamp(1, HOUR_NS), n);
    }

    /// Its percentiles.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.0.len(),
            p50_ns: self.0.value_at_quantile(0.5),
            p99_ns: self.0.value_at_quantile(0.99),
            max_ns: self.0.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_within_the_histograms_precision() {
        let mut l = Latency::new(2);
        for ns in 1..=1000u64 {
            l.record(ns * 1000);
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        assert!((495_000..=505_000).contains(&s.p50_ns), "{s:?}");
        assert!((985_000..=995_000).contains(&s.p99_ns), "{s:?}");
        assert!((995_000..=1_005_000).contains(&s.max_ns), "{s:?}");
        let mut empty = Latency::new(1);
        assert_eq!(empty.summary(), LatencySummary::default());
        empty.record(u64::MAX);
        assert_eq!(empty.summary().count, 1, "a wait past an hour still counts");
    }
}
