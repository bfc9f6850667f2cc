//! Shadow mode: a candidate version runs beside the live one on a copy of
//! its inputs, and what it would have done is compared with what the live
//! version did — without acting on any of it.
//!
//! The shadow starts from the live version's snapshot, then sees every
//! message the live version sees, in the same order, under its own limits.
//! Its outputs are compared with the live outputs message by message: equal
//! outcomes (the same outputs, or a fault with the same reason code) are
//! matches, anything else a diff, and the first diff is kept whole for
//! people to read. A shadow that faults is restarted like any agent (and
//! from then on starts from scratch, which its diffs will show). It costs a
//! second agent call per message while it runs.
//!
//! Its own timers never fire (the live version's do, and both see them).

use serde::Serialize;

use super::Version;
use crate::agent::{AgentInstance, CallFault};
use crate::model::{Envelope, Output};

/// The first message on which the shadow and the live version differed.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The message's id.
    pub message_id: u64,
    /// Its topic.
    pub topic: String,
    /// What the live version did: its outputs, or `{"fault": reason}`.
    pub live: serde_json::Value,
    /// What the shadow would have done.
    pub shadow: serde_json::Value,
}

/// How the shadow compares so far.
#[derive(Debug, Clone, Serialize)]
pub struct ShadowReport {
    /// The shadow's version (hex SHA-256).
    pub version: String,
    /// Messages with the same outcome.
    pub matches: u64,
    /// Messages with a different outcome.
    pub diffs: u64,
    /// Calls on which the shadow faulted.
    pub faults: u64,
    /// The first differing pair.
    pub first_diff: Option<Diff>,
}

/// A candidate running in the shadow of the live version.
pub struct Shadow {
    instance: AgentInstance,
    version: Version,
    report: ShadowReport,
}

fn outcome(r: &Result<Vec<Output>, CallFault>) -> serde_json::Value {
    match r {
        Ok(outputs) => serde_json::to_value(outputs).unwrap_or_default(),
        Err(f) => serde_json::json!({"fault": f.reason, "detail": f.detail}),
    }
}

fn same(a: &Result<Vec<Output>, CallFault>, b: &Result<Vec<Output>, CallFault>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => x.reason == y.reason,
        _ => false,
    }
}

impl Shadow {
    /// A shadow of `version`, whose `instance` has restored the live state.
    pub fn new(instance: AgentInstance, version: Version) -> Self {
        Self {
            report: ShadowReport {
                version: version.sha256.clone(),
                matches: 0,
                diffs: 0,
                faults: 0,
                first_diff: None,
            },
            instance,
            version,
        }
    }

    /// Its instance and version, to be swapped in.
    pub fn into_parts(self) -> (AgentInstance, Version) {
        (self.instance, self.version)
    }

    /// Give the shadow `msg` and compare its outcome with `live`'s.
    pub fn compare(
        &mut self,
        msg: &Envelope,
        in_request: bool,
        deadline: Option<std::time::Duration>,
        live: &Result<Vec<Output>, CallFault>,
    ) {
        let mine = self.instance.handle_within(msg, in_request, deadline);
        if mine.is_err() {
            self.report.faults += 1;
        }
        if same(live, &mine) {
            self.report.matches += 1;
            return;
        }
        self.report.diffs += 1;
        if self.report.first_diff.is_none() {
            self.report.first_diff = Some(Diff {
                message_id: msg.id,
                topic: msg.topic.to_string(),
                live: outcome(live),
                shadow: outcome(&mine),
            });
        }
    }

    /// How it compares so far.
    pub fn report(&self) -> &ShadowReport {
        &self.report
    }

    /// Its version.
    pub fn version(&self) -> &Version {
        &self.version
    }
}
