//! `[deploy]`: how a hot swap is watched and how many versions are kept.

use serde::Deserialize;

/// `[deploy]` as written (and resolved: every value is usable as is).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployPolicy {
    /// A new version is on probation until it has handled this many
    /// messages (0: no message count)…
    pub probation_messages: u64,
    /// …and this many seconds of wall clock have passed since the swap
    /// (0: no time). A fault during probation rolls back by itself.
    pub probation_secs: f64,
    /// Versions kept per agent, the running one included (at least 2): the
    /// one before the running version stays instantiated, so a rollback
    /// to it is as quick as a swap; older ones are kept compiled.
    pub keep_versions: usize,
}

impl Default for DeployPolicy {
    fn default() -> Self {
        Self {
            probation_messages: 100,
            probation_secs: 10.0,
            keep_versions: 5,
        }
    }
}

impl DeployPolicy {
    /// Check the values; problems go to `problems`.
    pub fn check(&self, problems: &mut Vec<String>) {
        if self.keep_versions < 2 {
            problems.push(format!(
                "deploy.keep_versions = {}: keep at least 2 (the running version and the one to roll back to)",
                self.keep_versions
            ));
        }
        if !(self.probation_secs.is_finite() && self.probation_secs >= 0.0) {
            problems.push(format!(
                "deploy.probation_secs = {}: write a number of seconds, 0 or more",
                self.probation_secs
            ));
        }
    }

    /// The probation's wall-clock part.
    pub fn probation_time(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.probation_secs.max(0.0))
    }
}
