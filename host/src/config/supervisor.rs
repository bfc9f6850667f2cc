//! `[supervisor]`: when a faulting agent is taken out of service.

use serde::Deserialize;

/// `[supervisor]` as written (and resolved).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisorPolicy {
    /// More than this many faults…
    pub max_faults: u32,
    /// …within this many seconds of event time quarantine the agent.
    pub window_secs: f64,
}

impl Default for SupervisorPolicy {
    fn default() -> Self {
        Self {
            max_faults: 10,
            window_secs: 60.0,
        }
    }
}

impl SupervisorPolicy {
    /// Check the values; problems go to `problems`.
    pub fn check(&self, problems: &mut Vec<String>) {
        if !(self.window_secs.is_finite() && self.window_secs > 0.0) {
            problems.push(format!(
                "supervisor.window_secs = {}: write a number of seconds above 0",
                self.window_secs
            ));
        }
    }

    /// The window in nanoseconds of event time.
    pub fn window_ns(&self) -> u64 {
        (self.window_secs.max(0.0) * 1e9) as u64
    }
}
