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
}

impl Default for JournalSection {
    fn default() -> Self {
        Self {
            enabled: true,
            durability: "interval".into(),
            sync_ms: 100,
            segment_mb: 64,
        }
    }
}

impl JournalSection {
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
        self.enabled.then_some(JournalConfig {
            durability,
            segment_bytes: self.segment_mb << 20,
        })
    }
}
