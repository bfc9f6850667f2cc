//! Delivering a message to an agent, at least once for reliable topics.
//!
//! When an agent faults on a message of a reliable topic (orders, fills,
//! signals, verdicts by default), the message is tried again on the agent's
//! fresh instance after a backoff in event time ([`RetryPolicy`]), with its
//! `attempt` number raised. Meanwhile the agent is *parked*: later messages
//! for it wait behind the retrying one, so each source's order still holds
//! for that agent, and every other agent carries on. A message that faults
//! on every attempt allowed is dead-lettered as `retries_exhausted` with the
//! attempt count and the last fault.
//!
//! Only faults are retried — a trap, fuel, the deadline, memory. Refusals
//! that would happen again the same way (rights, the agent's own error) go
//! to the dead-letter queue at once.
//!
//! The backlog behind a retry is the agent's inbox, and it is bounded: at
//! high water (75% of `inbox_capacity`) the node applies backpressure — it
//! takes no new input and moves event time to the next retry instead — and
//! releases it at low water (50%). Nothing is dropped: producers wait. For
//! topics the agent asked to conflate (market data, never a reliable
//! topic), only the newest waiting message per topic is kept, moved to the
//! back so each source's order still holds; each replacement is counted.
//!
//! Reliable messages are de-duplicated per agent by id (the last 2,000):
//! at-least-once transports and replays may hand one over twice, and a fill
//! must never count twice.
//!
//! Each first handler entry records how long the message waited since the
//! bus queued it, per agent and per topic (delivery latency); retries,
//! duplicates, conflations, dead letters and denials are counted on both.
//!
//! [`RetryPolicy`]: crate::bus::RetryPolicy

use std::collections::VecDeque;
use std::sync::Arc;

use super::{Node, Stats, TAP};
use crate::agent::CallFault;
use crate::bus::{Delivery, TopicEvent, clock};
use crate::deploy::Called;
use crate::model::{Envelope, Nanos, ReasonCode, TopicPattern};

/// An agent's inbox bounds and conflated topics.
#[derive(Debug, Clone)]
pub(super) struct InboxPolicy {
    high: usize,
    low: usize,
    conflate: Vec<TopicPattern>,
}

impl InboxPolicy {
    pub(super) fn new(capacity: usize, conflate: Vec<TopicPattern>) -> Self {
        Self {
            high: capacity * 3 / 4,
            low: capacity / 2,
            conflate,
        }
    }
}

/// An agent waiting for a retry, and what queued up behind it.
#[derive(Debug)]
pub(super) struct Parked {
    /// When the head may be tried again.
    due: Nanos,
    /// When the head was first tried.
    first_tried: Nanos,
    /// The head (with its next attempt number), then later messages.
    queue: VecDeque<Waiting>,
}

/// A message on its way to one agent.
#[derive(Debug)]
struct Waiting {
    env: Arc<Envelope>,
    /// The attempt this delivery will be, from 1.
    attempt: u32,
    /// Its topic's delivery class.
    reliable: bool,
    /// When the bus queued it ([`clock::now_ns`]).
    queued_at: u64,
}

impl Parked {
    /// Messages waiting.
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }
}

fn retryable(reason: ReasonCode) -> bool {
    matches!(
        reason,
        ReasonCode::Trap
            | ReasonCode::FuelExhausted
            | ReasonCode::DeadlineExceeded
            | ReasonCode::MemoryLimit
    )
}

impl Node {
    pub(super) fn deliver(&mut self, d: Delivery) {
        self.deliver_ran(d, None);
    }

    /// [`Node::deliver`], where `ran` (if any) is the outcome of the
    /// agent's call already made for this message: in a run of market
    /// events ([`Node::inject_run`]) the agent took it before the node's
    /// own part of it.
    pub(super) fn deliver_ran(&mut self, d: Delivery, ran: Option<Called>) {
        let idx = d.subscriber;
        if idx == TAP {
            self.tapped.push(d.envelope);
            return;
        }
        // Consumer-side deduplication of reliable messages, by id.
        if d.reliable && !self.agents[idx].seen.insert(d.envelope.id) {
            debug_assert!(ran.is_none(), "a run's message is new");
            self.agents[idx].counts.deduplicated += 1;
            self.bus.note(&d.envelope.topic, TopicEvent::Deduplicated);
            return;
        }
        if self.agents[idx].supervision.quarantined() {
            debug_assert!(ran.is_none(), "no run goes to a quarantined agent");
            // Reliable messages are kept in the DLQ for after the fix;
            // market data is counted, not kept.
            self.agents[idx].supervision.refuse();
            if d.reliable {
                let name = self.agents[idx].agent.name().to_string();
                self.dead_letter(
                    &name,
                    ReasonCode::Quarantined,
                    format!("`{name}` is quarantined; replay this after deploying a fix"),
                    (*d.envelope).clone(),
                    1,
                );
            }
            return;
        }
        let w = Waiting {
            env: d.envelope,
            attempt: 1,
            reliable: d.reliable,
            queued_at: d.queued_at,
        };
        if self.parked.contains_key(&idx) {
            debug_assert!(ran.is_none(), "no run goes to a parked agent");
            self.enqueue(idx, w);
            return;
        }
        let now = self.now;
        self.try_deliver(idx, w, now, ran);
    }

    /// A market event agent `idx` took in a run, when the bus counted it
    /// handled without queueing it ([`crate::bus::Bus::hand`]: the agent
    /// is its one subscriber, the topic not reliable): what
    /// [`Node::deliver_ran`] does for such a message, less the queue.
    pub(super) fn deliver_handed(&mut self, idx: usize, env: &Arc<Envelope>, ran: Called) {
        self.agents[idx].counts.latency.record(0);
        self.agents[idx].counts.handled += 1;
        match self.after_call(idx, ran) {
            Ok(outputs) => self.act(idx, env, outputs),
            // Not reliable: a fault is not retried (as in `try_deliver`).
            Err(fault) => self.fault(idx, fault, env),
        }
    }

    /// Queue `w` behind agent `idx`'s retry, conflating where asked.
    fn enqueue(&mut self, idx: usize, w: Waiting) {
        let conflate = !w.reliable
            && self.agents[idx]
                .inbox
                .conflate
                .iter()
                .any(|p| p.matches(&w.env.topic));
        let Some(p) = self.parked.get_mut(&idx) else {
            return;
        };
        if conflate {
            // Never the head: it is the message being retried.
            if let Some(pos) = p
                .queue
                .iter()
                .skip(1)
                .position(|q| q.env.topic == w.env.topic)
            {
                p.queue.remove(pos + 1);
                self.agents[idx].counts.conflated += 1;
                self.bus.note(&w.env.topic, TopicEvent::Conflated);
            }
        }
        p.queue.push_back(w);
        let len = p.queue.len();
        self.note_depth(idx, len);
    }

    /// Track the backlog of agent `idx` against its water marks.
    fn note_depth(&mut self, idx: usize, len: usize) {
        let now = self.now;
        let slot = &mut self.agents[idx];
        slot.counts.max_queue = slot.counts.max_queue.max(len as u64);
        match slot.counts.above_high_since {
            None if len >= slot.inbox.high => {
                slot.counts.above_high_since = Some(now);
                slot.counts.backpressure_engaged += 1;
                tracing::warn!(agent = %slot.agent.name(), backlog = len, "backpressure: inbox at high water");
            }
            Some(since) if len <= slot.inbox.low => {
                slot.counts.above_high_since = None;
                slot.counts.above_high_ns += now.saturating_sub(since);
                tracing::info!(agent = %slot.agent.name(), backlog = len, "backpressure released");
            }
            _ => {}
        }
    }

    /// True while some agent's backlog is above its high water mark.
    pub fn backpressured(&self) -> bool {
        self.agents
            .iter()
            .any(|a| a.counts.above_high_since.is_some())
    }

    /// Move event time to the earliest retry and run due retries; false if
    /// nothing is waiting for a retry.
    pub(super) fn advance_to_next_retry(&mut self) -> bool {
        let Some(due) = self.parked.values().map(|p| p.due).min() else {
            return false;
        };
        self.now = self.now.max(due);
        self.fire_parked();
        true
    }

    /// Deliver `w` to agent `idx`. False if the agent was parked for a
    /// retry (the message is then at the head of its queue).
    fn try_deliver(
        &mut self,
        idx: usize,
        w: Waiting,
        first_tried: Nanos,
        ran: Option<Called>,
    ) -> bool {
        let Waiting {
            env,
            attempt,
            reliable,
            queued_at,
        } = w;
        let msg = if attempt == 1 {
            let waited = clock::now_ns().saturating_sub(queued_at);
            self.agents[idx].counts.latency.record(waited);
            self.bus.note(&env.topic, TopicEvent::Handled(waited));
            env.clone()
        } else {
            let mut e = (*env).clone();
            e.attempt = attempt;
            Arc::new(e)
        };
        self.agents[idx].counts.handled += 1;
        let result = match ran {
            Some(called) => self.after_call(idx, called),
            None => self.call_agent(idx, &msg, false, None),
        };
        let fault = match result {
            Ok(outputs) => {
                self.act(idx, &msg, outputs);
                return true;
            }
            Err(fault) => fault,
        };
        if !(retryable(fault.reason) && reliable) {
            self.fault(idx, fault, &msg);
            return true;
        }
        Stats::bump(&self.stats.agent_faults);
        self.agents[idx].counts.faults += 1;
        self.supervise(idx);
        match self.retry.next_due(attempt + 1, first_tried, self.now) {
            Some(due) => {
                Stats::bump(&self.stats.retried);
                self.agents[idx].counts.retried += 1;
                self.bus.note(&env.topic, TopicEvent::Retried);
                tracing::info!(
                    agent = %self.agents[idx].agent.name(),
                    id = msg.id,
                    attempt,
                    "reliable delivery faulted ({}), retrying at event time {due}",
                    fault.reason
                );
                let parked = self.parked.entry(idx).or_insert_with(|| Parked {
                    due,
                    first_tried,
                    queue: VecDeque::new(),
                });
                // A restart's backoff may keep it down longer.
                parked.due = parked.due.max(due);
                parked.first_tried = first_tried;
                parked.queue.push_front(Waiting {
                    env,
                    attempt: attempt + 1,
                    reliable: true,
                    queued_at,
                });
                false
            }
            None => {
                let CallFault { reason, detail } = fault;
                let name = self.agents[idx].agent.name().to_string();
                self.dead_letter(
                    &name,
                    ReasonCode::RetriesExhausted,
                    format!("{attempt} attempt(s); the last: {reason}: {detail}"),
                    (*msg).clone(),
                    attempt,
                );
                true
            }
        }
    }

    /// Retry parked agents whose backoff is over, in agent order, and hand
    /// them what queued up behind.
    pub(super) fn fire_parked(&mut self) {
        let due: Vec<usize> = self
            .parked
            .iter()
            .filter(|(_, p)| p.due <= self.now)
            .map(|(i, _)| *i)
            .collect();
        for idx in due {
            let Some(mut p) = self.parked.remove(&idx) else {
                continue;
            };
            while let Some(w) = p.queue.pop_front() {
                // Only a retried message (the head) keeps its first try.
                let first = if w.attempt > 1 {
                    p.first_tried
                } else {
                    self.now
                };
                let left = p.queue.len();
                self.note_depth(idx, left);
                self.try_deliver(idx, w, first, None);
                if let Some(again) = self.parked.get_mut(&idx) {
                    // Parked again (a retry, or a restart's backoff): what
                    // is left waits behind.
                    again.queue.extend(p.queue.drain(..));
                    break;
                }
            }
        }
    }

    /// Keep agent `idx` from being served before event time `due` (a
    /// restart's backoff): what arrives meanwhile waits in its queue.
    pub(super) fn park_until(&mut self, idx: usize, due: Nanos) {
        let now = self.now;
        let p = self.parked.entry(idx).or_insert_with(|| Parked {
            due,
            first_tried: now,
            queue: VecDeque::new(),
        });
        p.due = p.due.max(due);
    }

    /// Messages waiting for agent `idx` now.
    pub(super) fn inbox_depth(&self, idx: usize) -> usize {
        self.parked.get(&idx).map_or(0, Parked::len)
    }

    /// Messages waiting behind retries, for the summary.
    pub(super) fn parked_messages(&self) -> u64 {
        self.parked.values().map(|p| p.len() as u64).sum()
    }
}
