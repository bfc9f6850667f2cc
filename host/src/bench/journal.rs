//! Journal appends: small records, group commit every millisecond.

use std::time::{Duration, Instant};

use crate::journal::{Durability, Journal, JournalConfig};

/// Append `records` records of 100 bytes (a small envelope's size) into a
/// fresh journal in a temporary directory, committing — and syncing, the
/// `Interval(1 ms)` policy — whenever a millisecond has passed since the
/// last commit, then a final sync. Appends per second, end to end.
///
/// # Errors
/// When the temporary journal cannot be written.
pub fn journal_appends(records: u64) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let mut j = Journal::open(
        dir.path(),
        JournalConfig {
            durability: Durability::Interval(Duration::from_millis(1)),
            ..JournalConfig::default()
        },
    )?;
    let payload = [0x5au8; 100];
    let start = Instant::now();
    let mut last_commit = start;
    for i in 0..records {
        j.append(1, i, &payload)?;
        // Checking the clock is not free: look every 256 appends.
        if i % 256 == 255 && last_commit.elapsed() >= Duration::from_millis(1) {
            j.commit()?;
            last_commit = Instant::now();
        }
    }
    j.sync()?;
    Ok(records as f64 / start.elapsed().as_secs_f64())
}
