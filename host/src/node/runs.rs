//! Runs: offline, a stretch of market events handed to one agent in one
//! call (`market.on-market-run`, `wit/market.wit`).
//!
//! A call into a component costs the host thousands of instructions
//! before the guest does anything (wasmtime looks the function up, sets
//! up lowering and lifting, calls the post-return): most of a backtest
//! tick. When nothing but the agent's own outputs could come between a
//! stretch of events, they go in one call, and the agent steps through
//! them with `run.next`, each event under its own fuel, deadline and
//! event time. It stops at the first event with outputs (or an error or
//! a fault); the node then does its own part of every event the agent
//! took, in order, exactly as it would have one by one — the venue's
//! touch, the view and marks, the bus's counters, the checkpoint, and
//! for the last event its outcome — and hands the rest over again.
//!
//! "Nothing could come between" is checked before the call:
//! - the node is offline (`floor backtest`; no journal records inputs);
//! - the bus is idle, no agent waits for a retry, no order works at the
//!   venue and no stop is armed (a tick could fill one), no intent waits
//!   for a person;
//! - every event of the run goes to this agent alone, which is in
//!   service, takes runs (it exports `market`), is not on probation or
//!   shadowed, and has room before its next checkpoint;
//! - the run ends before the first event at which any agent's timer
//!   falls due.
//!
//! What the agent can see during the run is what it would have seen:
//! `host.now` and the WASI clocks read each event's time, `quote-of`
//! answers from the run's quotes up to the event being handled, and
//! positions, balances and open orders cannot change before its first
//! output. Setting or cancelling a timer ends the run after that event.
//! The events carry the ids and sequence numbers `inject` would stamp
//! them with, and the node stamps those it took just so. `floor backtest --one-at-a-time` turns runs off; a
//! test checks that the report is the same byte for byte.

use std::sync::Arc;

use super::{Node, TAP};
use crate::agent::run::RunEvent;
use crate::model::{Envelope, MarketEvent, Nanos};

/// Most events one call takes.
pub const MAX_RUN: usize = 256;
/// Fewest events a run is offered. Events offered and not taken cost
/// their stamping and lowering for nothing, so a run is offered twice as
/// many as the agent took last time (or twice as many as last offered,
/// when it took them all), within these bounds.
pub const MIN_RUN: usize = 8;

impl Node {
    /// Offline (a backtest): let quiet stretches of market events go to
    /// an agent in one call ([`Node::inject_run`]).
    pub fn set_market_runs(&mut self, on: bool) {
        self.market_runs = on;
    }

    /// Take the first of `events` (event time, event), or a run of them,
    /// as [`Node::inject`] takes one at a time; `after(i, node)` is called
    /// once each event `i` is done with, before the next. Returns how many
    /// were taken (at least one, when `events` is not empty).
    pub fn inject_run(
        &mut self,
        events: &[(Nanos, MarketEvent)],
        after: &mut dyn FnMut(usize, &Node),
    ) -> usize {
        let Some((t, first)) = events.first() else {
            return 0;
        };
        let taken = match self.run_target(*t, first) {
            Some((idx, room)) => self.run(idx, &events[..events.len().min(room)], after),
            None => 0,
        };
        if taken > 0 {
            return taken;
        }
        self.inject(first.clone(), *t);
        after(0, self);
        1
    }

    /// The agent a run starting with `first` (at `t`) would go to, and how
    /// many events it may hold; none when the node is not quiet.
    fn run_target(&mut self, t: Nanos, first: &MarketEvent) -> Option<(usize, usize)> {
        let quiet = self.market_runs
            && self.recorder.is_none()
            && self.bus.pending() == 0
            && self.parked.is_empty()
            && self.pending_approvals.is_empty()
            && !self.oms.any_open()
            && self.oms.stops.all().next().is_none();
        if !quiet {
            return None;
        }
        let subscribers = self.bus.subscribers(&market_topic(first));
        let &[idx] = &subscribers[..] else {
            return None;
        };
        if idx == TAP
            || self.agents[idx].supervision.quarantined()
            || self.restarting_at(idx, self.now.max(t))
        {
            return None;
        }
        let room = self.agents[idx]
            .agent
            .run_room()
            .min(self.agents[idx].run_len);
        (room > 1).then_some((idx, room))
    }

    /// Hand `events` (or the quiet head of them) to agent `idx` in one
    /// call, then do the node's part of each event it took. Returns how
    /// many it took; 0 when it took none (deliver the first alone).
    fn run(
        &mut self,
        idx: usize,
        events: &[(Nanos, MarketEvent)],
        after: &mut dyn FnMut(usize, &Node),
    ) -> usize {
        let due = self
            .agents
            .iter()
            .filter_map(|a| a.agent.next_timer_due())
            .min()
            .unwrap_or(Nanos::MAX);
        // The run: events for this agent alone, before any timer falls due.
        let mut topics: Vec<String> = Vec::new();
        let mut at: Vec<(Nanos, usize)> = Vec::with_capacity(events.len());
        let mut now = self.now;
        let mut prev: Option<&MarketEvent> = None;
        for (t, event) in events {
            now = now.max(*t);
            if now >= due {
                break;
            }
            if !prev.is_some_and(|p| same_stream(p, event)) {
                let topic = market_topic(event);
                if !matches!(&self.bus.subscribers(&topic)[..], &[only] if only == idx) {
                    break;
                }
                topics.push(topic);
            }
            at.push((now, topics.len() - 1));
            prev = Some(event);
        }
        if at.len() < 2 {
            return 0;
        }
        // Numbered as `inject` would stamp them, one after the other.
        let source = self.venue.name().to_string();
        let (last_id, last_seq) = self.stamper.mark(&source);
        let run: Vec<RunEvent<'_>> = at
            .iter()
            .zip(events)
            .zip(1u64..)
            .map(|(((time, topic), (_, event)), n)| RunEvent {
                id: last_id + n,
                sequence: last_seq + n,
                event_time: *time,
                topic: &topics[*topic],
                event,
            })
            .collect();
        let Some((taken, result)) = self.agents[idx].agent.call_run(&source, &run) else {
            return 0;
        };
        drop(run);
        self.agents[idx].run_len = (2 * taken).clamp(MIN_RUN, MAX_RUN);
        let start = self.now;
        let envs: Vec<Arc<Envelope>> = events[..taken]
            .iter()
            .map(|(t, event)| {
                self.now = self.now.max(*t);
                Arc::new(self.stamp_market(event.clone()))
            })
            .collect();
        self.now = start;
        debug_assert_eq!(
            envs.last().map(|e| (e.id, e.sequence)),
            Some((last_id + taken as u64, last_seq + taken as u64)),
            "a run's events are stamped with the numbers the agent saw"
        );
        let called = self.agents[idx].agent.finish_run(&envs, result);
        let mut outcome = Some(called);
        for (i, env) in envs.into_iter().enumerate() {
            let ran = if i + 1 == taken {
                outcome.take()
            } else {
                Some(crate::deploy::Called {
                    result: Ok(Vec::new()),
                    event: None,
                    recovery: None,
                })
            };
            self.take_taken(&events[i], env, ran);
            after(i, self);
        }
        taken
    }

    /// The node's part of a market event an agent took in a run: what
    /// [`Node::inject`] does around the agent's call, in the same order.
    fn take_taken(
        &mut self,
        (t, event): &(Nanos, MarketEvent),
        env: Arc<Envelope>,
        ran: Option<crate::deploy::Called>,
    ) {
        self.now = self.now.max(*t);
        for r in self.venue.observe(event, self.now) {
            // None: no order works (checked before the run).
            self.on_execution(&r, 0);
        }
        self.market_side(event);
        if let crate::model::Payload::Quote(q) = &env.payload {
            self.fire_stops(q, env.trace_id);
        }
        self.bus.publish_shared(env, None);
        match self.bus.next() {
            Some(d) => self.deliver_ran(d, ran),
            None => debug_assert!(false, "a run's event has its agent"),
        }
        self.fire_timers();
        self.expire_approvals();
        self.fire_parked();
        self.drain();
    }
}

/// Whether two market events go on one topic (kind and symbol).
fn same_stream(a: &MarketEvent, b: &MarketEvent) -> bool {
    let kind = |e: &MarketEvent| matches!(e, MarketEvent::Quote(_));
    kind(a) == kind(b) && a.symbol() == b.symbol()
}

/// The topic `event` is published on.
fn market_topic(event: &MarketEvent) -> String {
    match event {
        MarketEvent::Quote(q) => super::topic("md.tick.", &q.symbol),
        MarketEvent::Trade(t) => super::topic("md.trade.", &t.symbol),
    }
}
