//! An agent's last good state, so a restart after a fault loses nothing.
//!
//! After a fault the agent's instance is thrown away (wasmtime will not
//! enter a trapped instance again) and a fresh one starts from `init`. On
//! its own that would forget everything the agent had learnt. So every
//! `[supervisor] checkpoint_every` messages the running version's state is
//! taken with `snapshot()`, and the messages handled since are kept (shared
//! with the bus, not copied). [`Checkpoint::recover`] restores that state
//! into the fresh instance and replays the messages since, dropping their
//! outputs (they were acted on when they were first handled): the agent is
//! where it was just before the message that faulted.
//!
//! That is exact for an agent whose state follows from its messages (every
//! reference agent). One that reads the host's view (quotes, positions) in
//! `on-message` sees the current view during the replay. Pending timers are
//! the host's: those from before the fault are kept, and whatever the
//! replay sets is dropped.
//!
//! When a replayed message faults again, or `restore` refuses the state,
//! the agent starts from the snapshot alone, or from `init`, and the
//! recovery says so. When `snapshot()` itself faults, checkpoints stop
//! until the next deploy, and restarts begin from `init`.

use std::sync::Arc;

use serde::Serialize;

use super::Reaper;
use crate::agent::AgentInstance;
use crate::model::{Envelope, ReasonCode};

/// Envelopes of a cleared tail freed with each message noted after it.
/// Freeing a thousand at once would stall the node's thread (most of a
/// swap's pause); handing them to the reaper's thread made that thread
/// free what this one allocated, which with the system allocator costs
/// more than the freeing itself (a lock per free, seen as a tenth of a
/// backtest's profile). Two per message retire a tail before the next
/// one is cleared.
const RETIRE_PER_NOTE: usize = 2;

/// The last good state and the messages handled since.
pub(super) struct Checkpoint {
    /// `None`: the state right after `init`.
    state: Option<Vec<u8>>,
    /// Messages handled since, with whether each was a request.
    tail: Vec<(Arc<Envelope>, bool)>,
    /// A cleared tail, freed a few at a time ([`RETIRE_PER_NOTE`]).
    retired: Vec<(Arc<Envelope>, bool)>,
    every: usize,
    /// Why checkpoints stopped (`snapshot()` faulted).
    broken: Option<String>,
    reaper: Reaper,
}

/// How a restart went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Recovery {
    /// True when the state came from a snapshot (not from `init`).
    pub from_snapshot: bool,
    /// Messages replayed on top of it.
    pub replayed: usize,
    /// True when the agent is exactly where it was before the fault.
    pub complete: bool,
    /// What happened, for people.
    pub detail: String,
}

impl Checkpoint {
    /// A checkpoint at `init`, taken again every `every` messages.
    pub(super) fn new(every: usize, reaper: Reaper) -> Self {
        Self {
            state: None,
            tail: Vec::new(),
            retired: Vec::new(),
            every: every.max(1),
            broken: None,
            reaper,
        }
    }

    /// Forget the messages since the last checkpoint: they are freed a
    /// few with each later message. A tail cleared while the last is
    /// still being freed (two swaps in a row) goes to the reaper.
    fn clear_tail(&mut self) {
        if self.retired.is_empty() {
            std::mem::swap(&mut self.tail, &mut self.retired);
        } else {
            let fresh = Vec::with_capacity(self.tail.capacity());
            self.reaper
                .drop_later(std::mem::replace(&mut self.tail, fresh));
        }
    }

    /// The last good state (`None`: `init`'s).
    pub(super) fn state(&self) -> Option<&[u8]> {
        self.state.as_deref()
    }

    /// Start again from `state` (a swap or a rollback put it in place).
    pub(super) fn reset(&mut self, state: Option<Vec<u8>>) {
        self.state = state;
        self.clear_tail();
        self.broken = None;
    }

    /// Messages until a snapshot is due (at least 1): a run of market
    /// events handed over in one call ends there, so the state taken is
    /// the one after the message the checkpoint says.
    pub(super) fn until_due(&self) -> usize {
        if self.broken.is_some() {
            return usize::MAX;
        }
        self.every.saturating_sub(self.tail.len()).max(1)
    }

    /// Note a message handled in effect. True when a snapshot is due.
    pub(super) fn note(&mut self, msg: &Arc<Envelope>, in_request: bool) -> bool {
        for _ in 0..RETIRE_PER_NOTE {
            if self.retired.pop().is_none() {
                break;
            }
        }
        if self.broken.is_some() {
            return false;
        }
        self.tail.push((Arc::clone(msg), in_request));
        self.tail.len() >= self.every
    }

    /// The state after the last noted message.
    pub(super) fn set(&mut self, state: Vec<u8>) {
        self.state = Some(state);
        self.clear_tail();
    }

    /// `snapshot()` faulted: no more checkpoints until the next deploy.
    pub(super) fn fail(&mut self, why: String) {
        self.state = None;
        self.clear_tail();
        self.broken = Some(why);
    }

    /// Bring `instance`, freshly started after a fault, to the last good
    /// state and replay the messages since.
    pub(super) fn recover(&self, instance: &mut AgentInstance) -> Recovery {
        let timers = instance.take_timers();
        let recovery = self.replay(instance);
        drop(instance.take_timers());
        instance.put_timers(timers);
        recovery
    }

    fn replay(&self, instance: &mut AgentInstance) -> Recovery {
        if let Some(why) = &self.broken {
            return Recovery {
                from_snapshot: false,
                replayed: 0,
                complete: false,
                detail: format!("restarted from init: checkpoints stopped ({why})"),
            };
        }
        if let Some(state) = &self.state
            && let Err(f) = instance.restore(state)
        {
            return Recovery {
                from_snapshot: false,
                replayed: 0,
                complete: false,
                detail: format!(
                    "restarted from init: restore() of the last snapshot failed ({}: {})",
                    f.reason, f.detail
                ),
            };
        }
        let from_snapshot = self.state.is_some();
        let origin = if from_snapshot {
            "the last snapshot"
        } else {
            "init"
        };
        for (i, (msg, in_request)) in self.tail.iter().enumerate() {
            match instance.handle(msg, *in_request) {
                // The agent's own refusal happened the first time too.
                Ok(_) => {}
                Err(f) if f.reason == ReasonCode::AgentError => {}
                Err(f) => {
                    // The instance was restarted again: start it from the
                    // snapshot alone.
                    let restored = match &self.state {
                        Some(state) => instance.restore(state).is_ok(),
                        None => true,
                    };
                    let origin = if restored { origin } else { "init" };
                    return Recovery {
                        from_snapshot: from_snapshot && restored,
                        replayed: 0,
                        complete: false,
                        detail: format!(
                            "restarted from {origin}, without the {} message(s) since the snapshot: replaying message {} faulted ({}: {})",
                            self.tail.len(),
                            i + 1,
                            f.reason,
                            f.detail
                        ),
                    };
                }
            }
        }
        Recovery {
            from_snapshot,
            replayed: self.tail.len(),
            complete: true,
            detail: format!(
                "restarted from {origin} and {} message(s) replayed",
                self.tail.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Payload;

    fn message(id: u64) -> Arc<Envelope> {
        Arc::new(Envelope {
            id,
            topic: "md.tick.X".into(),
            source: "test".into(),
            sequence: id,
            event_time: id,
            trace_id: id,
            correlation_id: None,
            attempt: 1,
            payload: Payload::Custom(vec![0; 8]),
        })
    }

    #[test]
    fn a_cleared_tail_is_freed_a_few_envelopes_per_later_message_on_this_thread() {
        let mut c = Checkpoint::new(4, Reaper::start());
        let first: Vec<Arc<Envelope>> = (1..=4).map(message).collect();
        for m in &first {
            c.note(m, false);
        }
        assert!(
            first.iter().all(|m| Arc::strong_count(m) == 2),
            "kept in the tail"
        );
        c.set(vec![1]);
        assert!(
            first.iter().all(|m| Arc::strong_count(m) == 2),
            "not freed all at once"
        );
        c.note(&message(5), false);
        let held = first.iter().filter(|m| Arc::strong_count(m) == 2).count();
        assert_eq!(
            held,
            4 - RETIRE_PER_NOTE,
            "two retired with the next message"
        );
        c.note(&message(6), false);
        assert!(
            first.iter().all(|m| Arc::strong_count(m) == 1),
            "all retired"
        );
        assert_eq!(c.tail.len(), 2, "the new tail is the two since");
    }
}
