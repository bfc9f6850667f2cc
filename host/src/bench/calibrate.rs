//! `calibration_us_before` / `_after`: a fixed piece of CPU work, timed
//! just before the groups run and again after them.
//!
//! Floor's figures are taken on shared machines, where the same binary can
//! read half its speed a minute later: the host's other tenants take the
//! CPU, and no guest counter shows it (steal reads 0 in this kind of VM).
//! The work here is pure computation on two registers — no memory, no
//! system call, nothing Floor's code could change — so its time moves only
//! with the machine. A run whose calibration reads well above the quiet
//! machine's (docs/benchmarks.md), or whose two readings differ, was taken
//! on a busy machine; figures are comparable across runs whose
//! calibrations are.

use std::hint::black_box;
use std::time::Instant;

/// Steps of the work (about 3.8 ms on a quiet machine here).
const STEPS: u64 = 2_000_000;
/// Rounds timed; the median is reported.
const ROUNDS: usize = 7;

/// The work: `steps` steps of a xorshift generator folded into a sum, a
/// serial dependency chain the CPU cannot shortcut.
fn work(steps: u64) -> u64 {
    let (mut x, mut sum) = (0x9E37_79B9_7F4A_7C15_u64, 0u64);
    for _ in 0..steps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum = sum.wrapping_add(x).rotate_left(5);
    }
    sum
}

/// The work's median time over [`ROUNDS`] rounds, µs.
pub fn calibration_us() -> f64 {
    let mut took: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            black_box(work(black_box(STEPS)));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    took.sort_by(f64::total_cmp);
    took[ROUNDS / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_is_the_same_every_time_and_takes_time() {
        // Pinned: a change to the work would make old calibrations
        // incomparable with new ones.
        assert_eq!(work(3), work(3));
        assert_ne!(work(3), work(4));
        assert_eq!(work(0), 0);
        assert_eq!(work(1_000), 0xb244_63e4_4c62_9f5b, "{:#x}", work(1_000));
        let us = calibration_us();
        assert!(us > 0.0 && us.is_finite(), "{us}");
    }
}
