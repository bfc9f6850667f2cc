//! One agent's versions: the live instance, the previous one kept
//! instantiated for a quick rollback, older ones kept compiled, the
//! probation of a fresh swap, and a record of what happened.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::checkpoint::{Checkpoint, Recovery};
use super::shadow::{Shadow, ShadowReport};
use super::{Candidate, DeployError, Preparer, Reaper};
use crate::agent::run::RunEvent;
use crate::agent::{AgentInstance, AgentSpec, CallFault};
use crate::config::DeployPolicy;
use crate::model::{Envelope, Output, ReasonCode, Timer};

/// Deploy records kept per agent (the newest).
const RECORDS: usize = 20;

/// One version of an agent.
#[derive(Clone)]
pub struct Version {
    /// What it runs: the component, limits, rights, config.
    pub spec: AgentSpec,
    /// Hex SHA-256 of the component's bytes.
    pub sha256: String,
    /// Config keys this version overrides.
    pub overrides: BTreeMap<String, String>,
    /// Messages it handled in effect.
    pub handled: u64,
}

impl Version {
    /// A version that has handled nothing yet.
    pub fn new(spec: AgentSpec, sha256: String, overrides: BTreeMap<String, String>) -> Self {
        Self {
            spec,
            sha256,
            overrides,
            handled: 0,
        }
    }

    /// The first 12 hex digits of its hash: how people name it.
    pub fn short(&self) -> &str {
        &self.sha256[..self.sha256.len().min(12)]
    }
}

/// What happened to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Swapped in; on probation.
    Swapped,
    /// Probation over without a fault.
    Promoted,
    /// Replaced by the version before it.
    RolledBack,
    /// Never swapped in: `restore` failed.
    Refused,
    /// Started in the live version's shadow.
    Shadowed,
    /// The shadow stopped without being promoted.
    ShadowDiscarded,
}

/// One entry in an agent's deploy record.
#[derive(Debug, Clone, Serialize)]
pub struct DeployRecord {
    /// What happened.
    pub kind: EventKind,
    /// The version running before (short hash).
    pub from: String,
    /// The version running after, or refused (short hash).
    pub to: String,
    /// True when the host did it by itself (a fault on probation).
    pub automatic: bool,
    /// Why, for people.
    pub detail: String,
    /// How long the agent's inbox was not served, µs (swaps and rollbacks).
    pub pause_us: f64,
    /// Wall clock, ms since the Unix epoch.
    pub at_unix_ms: u64,
}

/// An event for the node to publish (`deploy.<kind>.<agent>`).
pub type DeployEvent = DeployRecord;

/// A fresh version's probation: the checkpoint is taken after every
/// message, so a rollback starts from the state just before the fault.
struct Probation {
    since: Instant,
    handled: u64,
}

/// The result of a call, and the deploy event it caused, if any.
pub struct Called {
    /// The outputs, or the fault (of the version that has the agent now).
    pub result: Result<Vec<Output>, CallFault>,
    /// A promotion or an automatic rollback.
    pub event: Option<DeployEvent>,
    /// The agent faulted and was restarted from its last good state.
    pub recovery: Option<Recovery>,
}

/// An agent as deploys see it.
pub struct Deployed {
    live: AgentInstance,
    version: Version,
    previous: Option<(AgentInstance, Version)>,
    older: VecDeque<Version>,
    probation: Option<Probation>,
    records: VecDeque<DeployRecord>,
    policy: DeployPolicy,
    reaper: Reaper,
    shadow: Option<Shadow>,
    checkpoint: Checkpoint,
    cuts: Cuts,
}

/// Calls cut by the wall-clock deadline. A run notes them (for the
/// journal: machine load, not input, decided them); a replay is told them
/// and cuts the same calls again, and no other. Calls are numbered per
/// agent, across its versions, from 1: every call of the running
/// version, a rollback's second try included (the shadow's are not).
#[derive(Debug, Default)]
struct Cuts {
    calls: u64,
    noted: Vec<u64>,
    repeat: Option<std::collections::BTreeSet<u64>>,
}

/// A fault that restarted the instance (not the agent's own refusal).
fn faulted(result: &Result<Vec<Output>, CallFault>) -> bool {
    result
        .as_ref()
        .is_err_and(|f| f.reason != ReasonCode::AgentError)
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Deployed {
    /// The version an agent started with, its state checkpointed every
    /// `checkpoint_every` messages; what it sheds is dropped on `reaper`'s
    /// thread.
    pub fn new(
        live: AgentInstance,
        version: Version,
        policy: DeployPolicy,
        checkpoint_every: usize,
        reaper: Reaper,
    ) -> Self {
        Self {
            checkpoint: Checkpoint::new(checkpoint_every, reaper.clone()),
            reaper,
            shadow: None,
            live,
            version,
            previous: None,
            older: VecDeque::new(),
            probation: None,
            records: VecDeque::new(),
            policy,
            cuts: Cuts::default(),
        }
    }

    /// Replay: cut exactly these calls (numbers from the journal's cut
    /// records) with a zero deadline. The node's runtime runs without a
    /// wall clock then, so no other call is cut.
    pub fn repeat_cuts(&mut self, calls: impl IntoIterator<Item = u64>) {
        self.cuts.repeat = Some(calls.into_iter().collect());
    }

    /// The numbers of the calls the wall-clock deadline cut since last
    /// asked (none in a replay: those were on record already).
    pub fn take_cuts(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.cuts.noted)
    }

    /// `state` (just taken with [`Deployed::snapshot`]) is the running
    /// version's last good state: a fault restarts it from there.
    pub fn checkpointed(&mut self, state: Vec<u8>) {
        self.checkpoint.reset(Some(state));
    }

    /// Number calls from 1 again: a new session starts (a checkpoint).
    pub fn start_session(&mut self) {
        self.cuts.calls = 0;
    }

    /// The running version's pending timers.
    pub fn timers(&self) -> std::collections::BTreeMap<String, u64> {
        self.live.timers()
    }

    /// When the running version's earliest timer is due, if it has any.
    pub fn next_timer_due(&self) -> Option<u64> {
        self.live.next_timer_due()
    }

    /// Make `timers` the running version's pending timers.
    pub fn set_timers(&mut self, timers: std::collections::BTreeMap<String, u64>) {
        self.live.set_timers(timers);
    }

    /// Run `version` (started as `live`) from now on, with `earlier` to
    /// roll back to (newest first): a replay rebuilding the versions a
    /// checkpoint names. No probation, no swap of state (the checkpoint's
    /// state is restored next); the instance it replaces is dropped.
    pub fn install(&mut self, live: AgentInstance, version: Version, earlier: Vec<Version>) {
        let old = std::mem::replace(&mut self.live, live);
        self.reaper.drop_later(old);
        self.version = version;
        if let Some((old, _)) = self.previous.take() {
            self.reaper.drop_later(old);
        }
        self.older = earlier.into();
        self.probation = None;
        self.checkpoint.reset(None);
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        self.live.name()
    }

    /// The running version.
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// Versions to roll back to, newest first.
    pub fn earlier(&self) -> impl Iterator<Item = &Version> {
        self.previous
            .iter()
            .map(|(_, v)| v)
            .chain(self.older.iter())
    }

    /// `probation` (a fresh version), `shadow` (a candidate runs beside
    /// the live version) or `running`.
    pub fn state(&self) -> &'static str {
        if self.probation.is_some() {
            "probation"
        } else if self.shadow.is_some() {
            "shadow"
        } else {
            "running"
        }
    }

    /// True while a new version is on probation.
    pub fn on_probation(&self) -> bool {
        self.probation.is_some()
    }

    /// What happened, oldest first.
    pub fn records(&self) -> impl Iterator<Item = &DeployRecord> {
        self.records.iter()
    }

    /// Instances of the running version started (1 + restarts after faults).
    pub fn starts(&self) -> u64 {
        self.live.starts()
    }

    /// Log lines the running version wrote past its cap.
    pub fn logs_suppressed(&self) -> u64 {
        self.live.logs_suppressed()
    }

    /// Fuel the running version's `on-message` calls burnt.
    pub fn fuel_used(&self) -> u64 {
        self.live.fuel_used()
    }

    /// Bytes of linear memory the running instance holds.
    pub fn memory_bytes(&self) -> usize {
        self.live.memory_bytes()
    }

    /// Quotes and trades the running version took as numbers (`market`).
    pub fn market_calls(&self) -> u64 {
        self.live.market_calls()
    }

    /// Of those, the events that came in runs, and the runs.
    pub fn market_runs(&self) -> (u64, u64) {
        self.live.market_runs()
    }

    /// Order events the running version took as numbers (`orders`).
    pub fn order_calls(&self) -> u64 {
        self.live.order_calls()
    }

    /// Order intents the running version took as numbers (`intents`).
    pub fn intent_calls(&self) -> u64 {
        self.live.intent_calls()
    }

    /// Signals the running version took as numbers (`signals`).
    pub fn signal_calls(&self) -> u64 {
        self.live.signal_calls()
    }

    /// The running version's state now (for a host's snapshot).
    ///
    /// # Errors
    /// [`CallFault`] when `snapshot()` faults.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, CallFault> {
        self.live.snapshot()
    }

    /// Start the running version from `state` (a restarted host's
    /// snapshot), which becomes its last good state.
    ///
    /// # Errors
    /// [`CallFault`] when `restore` refuses or faults: the instance then
    /// runs from `init`.
    pub fn restore(&mut self, state: &[u8]) -> Result<(), CallFault> {
        self.live.restore(state)?;
        self.checkpoint.reset(Some(state.to_vec()));
        Ok(())
    }

    /// Timers due at `now` (event time), removed, in due order.
    pub fn take_due_timers(&mut self, now: u64) -> Vec<Timer> {
        self.live.take_due_timers(now)
    }

    fn record(
        &mut self,
        kind: EventKind,
        from: &str,
        to: &str,
        automatic: bool,
        detail: String,
        pause: Duration,
    ) -> DeployRecord {
        let r = DeployRecord {
            kind,
            from: from.to_string(),
            to: to.to_string(),
            automatic,
            detail,
            pause_us: pause.as_secs_f64() * 1e6,
            at_unix_ms: unix_ms(),
        };
        if self.records.len() == RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(r.clone());
        r
    }

    /// Handle one message with the running version. On probation, a fault
    /// rolls back to the previous version, which then handles the message.
    /// A shadow, if one runs, gets the message too and its outcome is
    /// compared with the live one.
    pub fn call(
        &mut self,
        msg: &Arc<Envelope>,
        in_request: bool,
        deadline: Option<Duration>,
    ) -> Called {
        let called = self.call_live(msg, in_request, deadline);
        if let Some(shadow) = self.shadow.as_mut() {
            shadow.compare(msg, in_request, deadline, &called.result);
        }
        called
    }

    /// How the shadow compares, if one runs.
    pub fn shadow(&self) -> Option<&ShadowReport> {
        self.shadow.as_ref().map(Shadow::report)
    }

    /// Start `candidate` in the shadow of the live version, from its state
    /// (a shadow already running is replaced).
    ///
    /// # Errors
    /// [`DeployError::Snapshot`] or [`DeployError::Restore`].
    pub fn start_shadow(&mut self, candidate: Candidate) -> Result<DeployEvent, DeployError> {
        let Candidate {
            mut instance,
            version,
            ..
        } = candidate;
        let state = self.live.snapshot().map_err(|f| DeployError::Snapshot {
            agent: self.name().to_string(),
            detail: format!("{}: {}", f.reason, f.detail),
        })?;
        let from = self.version.short().to_string();
        if let Err(f) = instance.restore(&state) {
            return Err(DeployError::Restore {
                agent: self.name().to_string(),
                from,
                to: version.short().to_string(),
                detail: format!("{}: {}", f.reason, f.detail),
            });
        }
        let to = version.short().to_string();
        let shadow = Shadow::new(instance, version);
        if let Some(old) = self.shadow.replace(shadow) {
            self.reaper.drop_later(old);
        }
        Ok(self.record(
            EventKind::Shadowed,
            &from,
            &to,
            false,
            "runs in the shadow of the live version: outputs compared, never acted on".into(),
            Duration::ZERO,
        ))
    }

    /// Swap the shadow in (`floor promote`), as a deploy: from the live
    /// version's state, on probation. With `discard`, stop it instead.
    ///
    /// # Errors
    /// [`DeployError::NoShadow`], or as [`Deployed::swap`].
    pub fn promote_shadow(&mut self, discard: bool) -> Result<DeployEvent, DeployError> {
        let Some(shadow) = self.shadow.take() else {
            return Err(DeployError::NoShadow {
                agent: self.name().to_string(),
            });
        };
        let r = shadow.report();
        let summary = format!(
            "shadow {}: {} match(es), {} diff(s), {} fault(s)",
            shadow.version().short(),
            r.matches,
            r.diffs,
            r.faults
        );
        if discard {
            let from = self.version.short().to_string();
            let to = shadow.version().short().to_string();
            self.reaper.drop_later(shadow);
            return Ok(self.record(
                EventKind::ShadowDiscarded,
                &from,
                &to,
                false,
                summary,
                Duration::ZERO,
            ));
        }
        let (instance, version) = shadow.into_parts();
        let mut event = self.swap(Candidate {
            instance,
            version,
            from_cache: true,
            prepare_ns: 0,
            shadow: false,
        })?;
        event.detail = format!("promoted from the {summary}; {}", event.detail);
        if let Some(last) = self.records.back_mut() {
            last.detail.clone_from(&event.detail);
        }
        Ok(event)
    }

    fn call_live(
        &mut self,
        msg: &Arc<Envelope>,
        in_request: bool,
        deadline: Option<Duration>,
    ) -> Called {
        self.cuts.calls += 1;
        let n = self.cuts.calls;
        let result = match &self.cuts.repeat {
            Some(cut) if cut.contains(&n) => {
                self.live
                    .handle_within(msg, in_request, Some(Duration::ZERO))
            }
            _ => self.live.handle_within(msg, in_request, deadline),
        };
        if self.cuts.repeat.is_none()
            && result
                .as_ref()
                .is_err_and(|f| f.reason == ReasonCode::DeadlineExceeded)
        {
            self.cuts.noted.push(n);
        }
        if !faulted(&result) {
            return self.handled(msg, in_request, deadline, result);
        }
        if let Some(p) = self.probation.as_ref() {
            let why = format!(
                "{} on message {} of its probation: {}",
                result.as_ref().err().map_or(ReasonCode::Trap, |f| f.reason),
                p.handled + 1,
                result.as_ref().err().map_or("", |f| f.detail.as_str())
            );
            match self.roll_back(None, true, why) {
                Ok(event) => {
                    // The previous version, from the last good state, takes
                    // the message.
                    let mut called = self.call_live(msg, in_request, deadline);
                    called.event = Some(event);
                    return called;
                }
                Err(e) => tracing::error!(agent = %self.name(), "cannot roll back: {e}"),
            }
        }
        let recovery = self.checkpoint.recover(&mut self.live);
        Called {
            result,
            event: None,
            recovery: Some(recovery),
        }
    }

    /// How many market events the agent may take in one call now
    /// ([`Deployed::call_run`]): none while a new version is on probation
    /// or a shadow runs (each compares or checkpoints message by message),
    /// or when the component takes no runs; else up to its next checkpoint
    /// and, in a replay, short of the next call the recorded run had cut
    /// (that one goes alone, cut again).
    pub fn run_room(&self) -> usize {
        if self.probation.is_some() || self.shadow.is_some() || !self.live.takes_runs() {
            return 0;
        }
        let room = self.checkpoint.until_due();
        let Some(cut) = &self.cuts.repeat else {
            return room;
        };
        match cut.range(self.cuts.calls + 1..).next() {
            Some(n) => room.min(usize::try_from(n - self.cuts.calls - 1).unwrap_or(usize::MAX)),
            None => room,
        }
    }

    /// Handle a run of market events from `source` (at most
    /// [`Deployed::run_room`]) in one call, as [`Deployed::call`] would one
    /// by one, up to the first that has outputs, an error or a fault.
    /// Returns how many were taken and the last one's result (those before
    /// it had no outputs); none when the first cannot go in a run: call it
    /// alone then. Hand the taken events' envelopes to
    /// [`Deployed::finish_run`] next.
    pub fn call_run(
        &mut self,
        source: &str,
        events: &[RunEvent<'_>],
    ) -> Option<(usize, Result<Vec<Output>, CallFault>)> {
        let (taken, result) = self.live.handle_run(source, events)?;
        // Each event is a call, as it would have been one by one.
        self.cuts.calls += taken as u64;
        if result
            .as_ref()
            .is_err_and(|f| f.reason == ReasonCode::DeadlineExceeded)
        {
            self.cuts.noted.push(self.cuts.calls);
        }
        Some((taken, result))
    }

    /// After [`Deployed::call_run`]: the envelopes of the events taken,
    /// noted as handled (for the checkpoint) and, after the last one's
    /// fault, the restart's recovery; or its checkpoint when one is due.
    pub fn finish_run<'a>(
        &mut self,
        taken: impl IntoIterator<Item = &'a Arc<Envelope>>,
        result: Result<Vec<Output>, CallFault>,
    ) -> Called {
        let mut taken = taken.into_iter().peekable();
        let mut last = None;
        while let Some(msg) = taken.next() {
            if taken.peek().is_none() {
                last = Some(msg);
                break;
            }
            self.version.handled += 1;
            let due = self.checkpoint.note(msg, false);
            debug_assert!(!due, "a run ends at the next checkpoint");
        }
        let Some(last) = last else {
            return Called {
                result,
                event: None,
                recovery: None,
            };
        };
        if !faulted(&result) {
            return self.handled(last, false, None, result);
        }
        let recovery = self.checkpoint.recover(&mut self.live);
        Called {
            result,
            event: None,
            recovery: Some(recovery),
        }
    }

    /// After a message handled without a fault: note it, and take the
    /// state when a checkpoint is due (after every message on probation).
    fn handled(
        &mut self,
        msg: &Arc<Envelope>,
        in_request: bool,
        deadline: Option<Duration>,
        result: Result<Vec<Output>, CallFault>,
    ) -> Called {
        self.version.handled += 1;
        let due = self.checkpoint.note(msg, in_request) || self.probation.is_some();
        let mut called = Called {
            result,
            event: None,
            recovery: None,
        };
        if !due {
            return called;
        }
        match self.live.snapshot() {
            Ok(state) => {
                self.checkpoint.set(state);
                if let Some(p) = self.probation.as_mut() {
                    p.handled += 1;
                    called.event = self.check_probation(Instant::now());
                }
            }
            Err(f) if self.probation.is_some() => {
                // The outputs stand; the previous version takes the state
                // from before this message and handles it too, for its
                // state only (its outputs are dropped: they were made).
                let why = format!(
                    "snapshot() faulted on probation: {}: {}",
                    f.reason, f.detail
                );
                called.event = self.roll_back(None, true, why).ok();
                if called.event.is_some() {
                    let _ = self.call_live(msg, in_request, deadline);
                }
            }
            Err(f) => {
                let why = format!("snapshot() faulted: {}: {}", f.reason, f.detail);
                tracing::error!(agent = %self.name(), "{why}; a restart after a fault will begin from init");
                self.checkpoint.fail(why);
            }
        }
        called
    }

    /// End probation if its window is over; the promotion, if so.
    pub fn check_probation(&mut self, now: Instant) -> Option<DeployEvent> {
        let p = self.probation.as_ref()?;
        let messages = self.policy.probation_messages;
        let done = (messages == 0 || p.handled >= messages)
            && now.duration_since(p.since) >= self.policy.probation_time();
        if !done {
            return None;
        }
        let detail = format!(
            "handled {} message(s) in {:.1}s of probation without a fault",
            p.handled,
            now.duration_since(p.since).as_secs_f64()
        );
        self.probation = None;
        let v = self.version.short().to_string();
        Some(self.record(EventKind::Promoted, &v, &v, true, detail, Duration::ZERO))
    }

    /// Swap `candidate` in: `snapshot` → `restore` → timers → switch. The
    /// new version starts its probation.
    ///
    /// # Errors
    /// [`DeployError::Snapshot`] or [`DeployError::Restore`]; the running
    /// version then carries on untouched.
    pub fn swap(&mut self, candidate: Candidate) -> Result<DeployEvent, DeployError> {
        let Candidate {
            mut instance,
            version,
            ..
        } = candidate;
        let started = Instant::now();
        let state = self.live.snapshot().map_err(|f| DeployError::Snapshot {
            agent: self.name().to_string(),
            detail: format!("{}: {}", f.reason, f.detail),
        })?;
        if let Err(f) = instance.restore(&state) {
            let err = DeployError::Restore {
                agent: self.name().to_string(),
                from: self.version.short().to_string(),
                to: version.short().to_string(),
                detail: format!("{}: {}", f.reason, f.detail),
            };
            let from = self.version.short().to_string();
            self.record(
                EventKind::Refused,
                &from,
                version.short(),
                true,
                err.to_string(),
                Duration::ZERO,
            );
            return Err(err);
        }
        instance.put_timers(self.live.take_timers());
        let old = std::mem::replace(&mut self.live, instance);
        let old_version = std::mem::replace(&mut self.version, version);
        let displaced = self.previous.replace((old, old_version));
        let pause = started.elapsed();
        self.probation = Some(Probation {
            since: Instant::now(),
            handled: 0,
        });
        self.checkpoint.reset(Some(state));
        // Dropping an instance or the last copy of a component takes tens
        // of µs (pool slot, code unmapped): done on the reaper's thread.
        if let Some((instance, v)) = displaced {
            self.reaper.drop_later(instance);
            self.older.push_front(v);
            let keep = self.policy.keep_versions.saturating_sub(2);
            while self.older.len() > keep {
                if let Some(v) = self.older.pop_back() {
                    self.reaper.drop_later(v);
                }
            }
        }
        let from = self.previous.as_ref().map(|(_, v)| v.short().to_string());
        let to = self.version.short().to_string();
        let detail = format!(
            "on probation for {} message(s) and {}s",
            self.policy.probation_messages, self.policy.probation_secs
        );
        Ok(self.record(
            EventKind::Swapped,
            from.as_deref().unwrap_or(""),
            &to,
            false,
            detail,
            pause,
        ))
    }

    /// Go back one version: the running version's state (on probation: its
    /// last good state) is restored into the previous version, which takes
    /// over. `preparer` starts an older version that is not instantiated;
    /// without one, only the instantiated previous version can be used.
    ///
    /// # Errors
    /// [`DeployError::NoPrevious`]; for a rollback by hand also a state the
    /// previous version refuses ([`DeployError::Restore`]), and nothing
    /// changes. An automatic rollback goes ahead then, and the previous
    /// version carries on from its own state (said in the record).
    pub fn roll_back(
        &mut self,
        preparer: Option<&Preparer>,
        automatic: bool,
        reason: String,
    ) -> Result<DeployEvent, DeployError> {
        let started = Instant::now();
        let agent = self.name().to_string();
        let state = match (self.probation.as_ref(), self.checkpoint.state()) {
            (Some(_), Some(last_good)) => last_good.to_vec(),
            _ => self.live.snapshot().map_err(|f| DeployError::Snapshot {
                agent: agent.clone(),
                detail: format!("{}: {}", f.reason, f.detail),
            })?,
        };
        let (mut prev, prev_version) = match self.previous.take() {
            Some(p) => p,
            None => {
                let (Some(v), Some(preparer)) = (self.older.pop_front(), preparer) else {
                    return Err(DeployError::NoPrevious { agent });
                };
                match preparer.start(v.spec.clone()) {
                    Ok(i) => (i, v),
                    Err(e) => {
                        self.older.push_front(v);
                        return Err(e.into());
                    }
                }
            }
        };
        let mut detail = reason;
        let mut restored = Some(state);
        if let Some(Err(f)) = restored.as_ref().map(|s| prev.restore(s)) {
            if !automatic {
                let err = DeployError::Restore {
                    agent,
                    from: self.version.short().to_string(),
                    to: prev_version.short().to_string(),
                    detail: format!("{}: {}", f.reason, f.detail),
                };
                self.previous = Some((prev, prev_version));
                return Err(err);
            }
            detail.push_str(&format!(
                "; {} refused the state ({}: {}), so it carries on from its own state at the swap",
                prev_version.short(),
                f.reason,
                f.detail
            ));
            restored = prev.snapshot().ok();
        }
        prev.put_timers(self.live.take_timers());
        let bad = std::mem::replace(&mut self.live, prev);
        let bad_version = std::mem::replace(&mut self.version, prev_version);
        self.probation = None;
        self.checkpoint.reset(restored);
        let pause = started.elapsed();
        self.reaper.drop_later(bad);
        let to = self.version.short().to_string();
        Ok(self.record(
            EventKind::RolledBack,
            bad_version.short(),
            &to,
            automatic,
            detail,
            pause,
        ))
    }
}
