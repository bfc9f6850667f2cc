//! `[supervisor]`: how a faulting agent is restarted, and when it is taken
//! out of service.

use serde::Deserialize;

/// `[supervisor]` as written (and resolved).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisorPolicy {
    /// More than this many faults…
    pub max_faults: u32,
    /// …within this many seconds of event time quarantine the agent.
    pub window_secs: f64,
    /// After a fault the agent is served again this long later (event
    /// time, ms; 0: at once)…
    pub restart_backoff_ms: u64,
    /// …doubling with each fault up to this…
    pub restart_backoff_max_ms: u64,
    /// …and back to `restart_backoff_ms` after this many seconds without a
    /// fault.
    pub healthy_secs: f64,
    /// Take the agent's state (`snapshot`) every this many messages: a
    /// restart begins from it and replays the messages handled since.
    pub checkpoint_every: u32,
}

impl Default for SupervisorPolicy {
    fn default() -> Self {
        // With the backoff doubling from 1 s, a crash loop faults at 0, 1,
        // 3, 7, 15 and 31 s: its 6th fault, within the minute, quarantines it.
        Self {
            max_faults: 5,
            window_secs: 60.0,
            restart_backoff_ms: 1_000,
            restart_backoff_max_ms: 30_000,
            healthy_secs: 60.0,
            checkpoint_every: 1_000,
        }
    }
}

impl SupervisorPolicy {
    /// Check the values; problems go to `problems`.
    pub fn check(&self, problems: &mut Vec<String>) {
        for (key, v) in [
            ("window_secs", self.window_secs),
            ("healthy_secs", self.healthy_secs),
        ] {
            if !(v.is_finite() && v > 0.0) {
                problems.push(format!(
                    "supervisor.{key} = {v}: write a number of seconds above 0"
                ));
            }
        }
        if self.restart_backoff_max_ms < self.restart_backoff_ms {
            problems.push(format!(
                "supervisor.restart_backoff_max_ms = {} is below restart_backoff_ms = {}: the cap must be at least the first backoff",
                self.restart_backoff_max_ms, self.restart_backoff_ms
            ));
        }
        if self.checkpoint_every == 0 {
            problems.push(
                "supervisor.checkpoint_every = 0: write how many messages between two snapshots (at least 1)"
                    .to_string(),
            );
        }
    }

    /// The window in nanoseconds of event time.
    pub fn window_ns(&self) -> u64 {
        (self.window_secs.max(0.0) * 1e9) as u64
    }

    /// The healthy period in nanoseconds of event time.
    pub fn healthy_ns(&self) -> u64 {
        (self.healthy_secs.max(0.0) * 1e9) as u64
    }

    /// The backoff after a fault, given the previous one (`None`: the first
    /// fault after a healthy period), in ns of event time.
    pub fn next_backoff_ns(&self, previous: Option<u64>) -> u64 {
        let first = self.restart_backoff_ms.saturating_mul(1_000_000);
        let cap = self.restart_backoff_max_ms.saturating_mul(1_000_000);
        match previous {
            None | Some(0) => first,
            Some(p) => p.saturating_mul(2).min(cap),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let p = SupervisorPolicy::default();
        let mut b = None;
        let mut seen = Vec::new();
        for _ in 0..7 {
            let next = p.next_backoff_ns(b);
            seen.push(next / 1_000_000);
            b = Some(next);
        }
        assert_eq!(seen, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    }

    #[test]
    fn bad_values_are_named() {
        let p = SupervisorPolicy {
            restart_backoff_ms: 5_000,
            restart_backoff_max_ms: 1_000,
            checkpoint_every: 0,
            healthy_secs: -1.0,
            ..SupervisorPolicy::default()
        };
        let mut problems = Vec::new();
        p.check(&mut problems);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("supervisor.healthy_secs = -1"));
        assert!(problems[1].contains("restart_backoff_max_ms = 1000 is below"));
        assert!(problems[2].starts_with("supervisor.checkpoint_every = 0"));
    }
}
