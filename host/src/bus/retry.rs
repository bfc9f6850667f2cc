//! When to deliver a reliable message again after its subscriber faulted.
//!
//! Exponential backoff in event time: 100 ms, 200 ms, 400 ms, … capped at
//! 10 s, for at most 5 attempts within 60 s of the first (the defaults;
//! `[bus]` in the config changes them). A message past either limit is
//! dead-lettered as `retries_exhausted` with its attempt count.

use serde::Deserialize;

use crate::model::Nanos;

/// Retry settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No attempt starts later than this after the first, ms.
    pub window_ms: u64,
    /// Delay before the second attempt, ms; doubles each time.
    pub backoff_ms: u64,
    /// Largest delay, ms.
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            window_ms: 60_000,
            backoff_ms: 100,
            max_backoff_ms: 10_000,
        }
    }
}

impl RetryPolicy {
    /// When attempt `next` (2, 3, …) is due, for a message first tried at
    /// `first` and last tried at `now`; `None` when it may not be retried.
    pub fn next_due(&self, next: u32, first: Nanos, now: Nanos) -> Option<Nanos> {
        if next > self.max_attempts {
            return None;
        }
        let exp = next.saturating_sub(2).min(32);
        let delay_ms = self
            .backoff_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_backoff_ms);
        let due = now.saturating_add(delay_ms.saturating_mul(1_000_000));
        (due <= first.saturating_add(self.window_ms.saturating_mul(1_000_000))).then_some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn backoff_doubles_and_attempts_are_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_due(2, 0, 0), Some(100 * MS));
        assert_eq!(p.next_due(3, 0, 100 * MS), Some(300 * MS));
        assert_eq!(p.next_due(4, 0, 300 * MS), Some(700 * MS));
        assert_eq!(p.next_due(5, 0, 700 * MS), Some(1_500 * MS));
        assert_eq!(p.next_due(6, 0, 1_500 * MS), None, "5 attempts in all");
    }

    #[test]
    fn no_attempt_after_the_window() {
        let p = RetryPolicy {
            window_ms: 1_000,
            ..RetryPolicy::default()
        };
        assert_eq!(p.next_due(2, 0, 950 * MS), None);
        assert_eq!(p.next_due(2, 0, 900 * MS), Some(1_000 * MS));
    }

    #[test]
    fn delay_is_capped() {
        let p = RetryPolicy {
            max_attempts: 40,
            window_ms: u64::MAX / MS,
            ..RetryPolicy::default()
        };
        assert_eq!(p.next_due(30, 0, 0), Some(10_000 * MS));
    }
}
