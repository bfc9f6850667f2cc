//! The dead-letter queue: every message that could not be handled, with
//! its reason code and the original envelope.
//!
//! Nothing is dropped silently: each entry is counted by reason, appended
//! (and flushed) to a JSON-lines file when the node has a data directory,
//! and the most recent ones are kept in memory for `floor run`'s summary and
//! for tests. Entries are numbered from 1 per file, in order, across runs:
//! `floor dlq list` shows them and `floor dlq replay` re-delivers them.

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
    /// Number within its file, from 1 (assigned by the queue).
    #[serde(default)]
    pub id: u64,
    /// Delivery attempts made before it landed here.
    #[serde(default = "one")]
    pub attempts: u32,
    /// Agent that was handling it (or `host`).
    pub agent: String,
    /// Why.
    pub reason: ReasonCode,
    /// What happened, for people.
    pub detail: String,
    /// The message as it was delivered.
    pub envelope: Envelope,
}

fn one() -> u32 {
    1
}

/// Why a dead-letter file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read the dead-letter file `{path}`: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

/// What a dead-letter file holds.
#[derive(Debug, Default)]
pub struct DlqFile {
    /// The entries, in file order.
    pub letters: Vec<DeadLetter>,
    /// Lines that are not entries (a torn last line after a crash, say):
    /// line number and why, reported rather than dropped.
    pub bad_lines: Vec<(usize, String)>,
}

/// Read every entry of a dead-letter file.
///
/// # Errors
/// [`ReadError`] when the file cannot be read.
pub fn read_file(path: &Path) -> Result<DlqFile, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut letters = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<DeadLetter>(line) {
            Ok(l) => letters.push(l),
            Err(e) => bad.push((i + 1, e.to_string())),
        }
    }
    Ok(DlqFile {
        letters,
        bad_lines: bad,
    })
}

/// The queue.
#[derive(Debug, Default)]
pub struct DeadLetterQueue {
    recent: VecDeque<DeadLetter>,
    next_id: u64,
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
        // Number on from the entries already in the file.
        let existing = match read_file(path) {
            Ok(file) => file.letters.iter().map(|l| l.id).max().unwrap_or(0),
            Err(_) => 0,
        };
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self {
            file: Some(BufWriter::new(f)),
            next_id: existing,
            ..Self::default()
        })
    }

    /// Record a dead letter; it gets the next id.
    pub fn push(&mut self, mut letter: DeadLetter) {
        self.next_id += 1;
        letter.id = self.next_id;
        // A refused order is the risk layer doing its job: on record, but
        // not a warning that someone must act on.
        if letter.reason.is_order_refusal() {
            tracing::info!(agent = %letter.agent, reason = %letter.reason, "order refused: {}", letter.detail);
        } else {
            tracing::warn!(
                agent = %letter.agent,
                reason = %letter.reason,
                topic = %letter.envelope.topic,
                id = letter.envelope.id,
                "dead letter: {}",
                letter.detail
            );
        }
        self.total += 1;
        *self.by_reason.entry(letter.reason.as_str()).or_default() += 1;
        if let Some(f) = self.file.as_mut() {
            let ok = serde_json::to_writer(&mut *f, &letter).is_ok()
                && f.write_all(b"\n").is_ok()
                && f.flush().is_ok();
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
