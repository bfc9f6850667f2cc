//! `[journal]`: where and how the host journals its inputs.

use std::time::Duration;

use serde::Deserialize;

use crate::journal::{Durability, JournalConfig};

/// `[journal]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSection {
    /// Journal every input to `<data_dir>/journal` (on by default).
    pub enabled: bool,
    /// When committed records are synced to the disk: `interval` (every
    /// `sync_ms` at most), `every_commit`, or `never` (the OS decides).
    pub durability: String,
    /// The interval for `durability = "interval"`, ms (100: a sync
    /// blocks writes to the file while it runs, so more often costs the
    /// trading path latency).
    pub sync_ms: u64,
    /// Segment size before the journal rotates, MiB.
    pub segment_mb: u64,
    /// Take a checkpoint this often (event time, seconds; 0: never): the
    /// host journals its whole state and carries on from it as a new
    /// session, so a restart or a replay starts there instead of at the
    /// start (see docs/recovery.md).
    pub checkpoint_every_s: u64,
    /// Keep the journal from the last this many checkpoints on, deleting
    /// whole segments before (0: keep everything, the default: every
    /// session stays replayable).
    pub keep_checkpoints: u64,
}

impl Default for JournalSection {
    fn default() -> Self {
        Self {
            enabled: true,
            durability: "interval".into(),
            sync_ms: 100,
            segment_mb: 64,
            checkpoint_every_s: 300,
            keep_checkpoints: 0,
        }
    }
}

impl JournalSection {
    /// How often a journaled host takes a checkpoint; none for never.
    pub fn checkpoint_every(&self) -> Option<Duration> {
        (self.enabled && self.checkpoint_every_s > 0)
            .then(|| Duration::from_secs(self.checkpoint_every_s))
    }

    /// The journal's settings (none when disabled); problems are added to
    /// `problems`.
    pub fn resolve(&self, problems: &mut Vec<String>) -> Option<JournalConfig> {
        let durability = match self.durability.as_str() {
            "interval" => Durability::Interval(Duration::from_millis(self.sync_ms)),
            "every_commit" => Durability::EveryCommit,
            "never" => Durability::Never,
            other => {
                problems.push(format!(
                    "journal.durability = {other:?}: use \"interval\", \"every_commit\" or \"never\""
                ));
                Durability::EveryCommit
            }
        };
        if !(1..=4096).contains(&self.segment_mb) {
            problems.push(format!(
                "journal.segment_mb = {}: use 1 to 4096",
                self.segment_mb
            ));
        }
        if self.checkpoint_every_s > 7 * 86_400 {
            problems.push(format!(
                "journal.checkpoint_every_s = {}: use 0 (never) to 604800 (a week)",
                self.checkpoint_every_s
            ));
        }
        if self.keep_checkpoints > 0 && self.checkpoint_every_s == 0 {
            problems.push(format!(
                "journal.keep_checkpoints = {} with checkpoint_every_s = 0: there are no checkpoints to keep the journal from; set checkpoint_every_s, or keep_checkpoints = 0",
                self.keep_checkpoints
            ));
        }
        self.enabled.then_some(JournalConfig {
            durability,
            segment_bytes: self.segment_mb << 20,
        })
    }
}
