//! The dead-letter queue: every message that could not be handled, with
//! its reason code and the original envelope.
//!
//! Nothing is dropped silently: each entry is counted by reason, appended
//! to a JSON-lines file when the node has a data directory, and the most
//! recent ones are kept in memory for `floor run`'s summary and for tests.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::{Envelope, ReasonCode};

/// Entries kept in memory; older ones are still in the file and the counts.
pub const KEEP_IN_MEMORY: usize = 10_000;

/// One dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Agent that was handling it (or `host`).
    pub agent: String,
    /// Why.
    pub reason: ReasonCode,
    /// What happened, for people.
    pub detail: String,
    /// The message as it was delivered.
    pub envelope: Envelope,
}

/// The queue.
#[derive(Debug, Default)]
pub struct DeadLetterQueue {
    recent: VecDeque<DeadLetter>,
    total: u64,
    by_reason: BTreeMap<&'static str, u64>,
    file: Option<BufWriter<File>>,
}

impl DeadLetterQueue {
    /// A queue in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// A queue that also appends to `path` (JSON lines).
    ///
    /// # Errors
    /// When the file cannot be opened for appending.
    pub fn with_file(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            file: Some(BufWriter::new(f)),
            ..Self::default()
        })
    }

    /// Record a dead letter.
    pub fn push(&mut self, letter: DeadLetter) {
        tracing::warn!(
            agent = %letter.agent,
            reason = %letter.reason,
            topic = %letter.envelope.topic,
            id = letter.envelope.id,
            "dead letter: {}",
            letter.detail
        );
        self.total += 1;
        *self.by_reason.entry(letter.reason.as_str()).or_default() += 1;
        if let Some(f) = self.file.as_mut() {
            let ok = serde_json::to_writer(&mut *f, &letter).is_ok() && f.write_all(b"\n").is_ok();
            if !ok {
                tracing::error!("cannot append to the dead-letter file; entry kept in memory only");
            }
        }
        if self.recent.len() == KEEP_IN_MEMORY {
            self.recent.pop_front();
        }
        self.recent.push_back(letter);
    }

    /// Entries recorded since start.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Counts by reason code.
    pub fn by_reason(&self) -> &BTreeMap<&'static str, u64> {
        &self.by_reason
    }

    /// The most recent entries, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = &DeadLetter> {
        self.recent.iter()
    }

    /// Flush the file, if any.
    pub fn flush(&mut self) {
        if let Some(f) = self.file.as_mut() {
            let _ = f.flush();
        }
    }
}
