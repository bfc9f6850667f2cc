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
//! - the node is offline — a backtest ([`Node::inject_run`]) or a replay
//!   ([`Node::step_run`], whose journal the venue looks ahead in); no
//!   journal records inputs;
//! - the bus is idle, no agent waits for a retry, no order works at the
//!   venue and no stop is armed (a tick could fill one), no intent waits
//!   for a person;
//! - every event of the run goes to this agent alone (and the node's tap)
//!   or is a trade for no agent (it moves no quote, mark or position;
//!   the node takes it in its turn); the agent is in service, takes runs
//!   (it exports `market`), is not on probation or shadowed, and has room
//!   before its next checkpoint and, in a replay, before the next call
//!   the recorded run had cut;
//! - the run ends before the first event at which any agent's timer
//!   falls due.
//!
//! What the agent can see during the run is what it would have seen:
//! `host.now` and the WASI clocks read each event's time, `quote-of`
//! answers from the run's quotes up to the event being handled, and
//! positions, balances and open orders cannot change before its first
//! output. Setting or cancelling a timer ends the run after that event.
//! The events carry the ids and sequence numbers one input at a time
//! would stamp them with, and the node stamps those it took just so.
//! `floor backtest --one-at-a-time` and `floor replay --one-at-a-time`
//! turn runs off; tests check that reports and digests are the same.

use std::sync::Arc;

use super::{Node, TAP};
use crate::agent::run::RunEvent;
use crate::bus::Handed;
use crate::model::{Envelope, MarketEvent, Name, Nanos};

/// How market events reach the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Quiet stretches in one call each, offline (`on-market-run`; the
    /// default of backtests and replays): the same outcome, faster.
    #[default]
    Runs,
    /// One call per event, as a live host does.
    OneAtATime,
}

/// Where a run's events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Fed from outside ([`Node::inject_run`]): the venue sees each as
    /// its touch first.
    Outside,
    /// The venue's own, looked ahead at ([`Node::step_run`]).
    Venue,
}

/// Most events one call takes.
pub const MAX_RUN: usize = 256;
/// Fewest events a run is offered. Events offered and not taken cost
/// their stamping and lowering for nothing, so a run is offered twice as
/// many as the agent took last time (or twice as many as last offered,
/// when it took them all), within these bounds.
pub const MIN_RUN: usize = 8;

impl Node {
    /// Offline (a backtest, a replay): let quiet stretches of market
    /// events go to an agent in one call ([`Node::inject_run`],
    /// [`Node::step_run`]), or not.
    pub fn set_delivery(&mut self, delivery: Delivery) {
        self.market_runs = delivery == Delivery::Runs;
    }

    /// [`Node::step`], or when the venue can look ahead (a replay's
    /// journal) at a quiet stretch of market events up to event time
    /// `until`, a run of them; `after(node)` is called after each step or
    /// event of the run. False once the venue has ended.
    pub fn step_run(&mut self, until: Option<Nanos>, after: &mut dyn FnMut(&mut Node)) -> bool {
        // Quiet first: looking ahead decodes the journal's records, for
        // nothing when a run could not start.
        if self.quiet() {
            // Room for trades for no agent among the agent's events.
            let max = 2 * self.agents.iter().map(|a| a.run_len).max().unwrap_or(0);
            // The node's buffer, taken while the run borrows the node.
            let mut ahead = std::mem::take(&mut self.ahead);
            self.venue
                .market_ahead(max, until.unwrap_or(Nanos::MAX), &mut ahead);
            let ran = match ahead.first() {
                Some((t, first)) => self.run_target(*t, first).is_some_and(|(idx, room)| {
                    self.run(idx, room, &ahead, Source::Venue, &mut |_, node| after(node)) > 0
                }),
                None => false,
            };
            ahead.clear();
            self.ahead = ahead;
            if ran {
                return true;
            }
        }
        let more = self.step();
        after(self);
        more
    }

    /// Take the first of `events` (event time, event), or a run of them,
    /// as [`Node::inject`] takes one at a time; `after(i, node)` is called
    /// once each event `i` is done with, before the next. Returns how many
    /// were taken (at least one, when `events` is not empty).
    pub fn inject_run(
        &mut self,
        events: &[(Nanos, MarketEvent)],
        after: &mut dyn FnMut(usize, &mut Node),
    ) -> usize {
        let Some((t, first)) = events.first() else {
            return 0;
        };
        let taken = match self.run_target(*t, first) {
            Some((idx, room)) => self.run(idx, room, events, Source::Outside, after),
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
        if !self.quiet() {
            return None;
        }
        let topic = self.topics.market(first);
        let idx = self.sole_agent(&topic)?;
        if self.agents[idx].supervision.quarantined() || self.restarting_at(idx, self.now.max(t)) {
            return None;
        }
        let room = self.agents[idx]
            .agent
            .run_room()
            .min(self.agents[idx].run_len);
        (room > 1).then_some((idx, room))
    }

    /// Hand `events` (or the quiet head of them), up to `room` of them
    /// for the agent, to agent `idx` in one call, then do the node's part
    /// of each event up to the last one it took. Returns how many events
    /// that was; 0 when it took none (deliver the first alone).
    fn run(
        &mut self,
        idx: usize,
        room: usize,
        events: &[(Nanos, MarketEvent)],
        from: Source,
        after: &mut dyn FnMut(usize, &mut Node),
    ) -> usize {
        let due = self
            .agents
            .iter()
            .filter_map(|a| a.agent.next_timer_due())
            .min()
            .unwrap_or(Nanos::MAX);
        // The run: events for this agent alone, and trades for no agent
        // (they move no quote, mark or position: only the tap sees them),
        // before any timer falls due.
        let mut topics: Vec<Name> = Vec::new();
        // Per event: its time, its topic, and whether it is the agent's.
        let mut at: Vec<(Nanos, usize, bool)> = Vec::with_capacity(room);
        // The streams met so far (kind, symbol): the topic, and whether it
        // is the agent's (else a trade for no agent). Quotes and trades
        // interleave: a topic is routed once per stream, not per event.
        let mut streams: Vec<(bool, &str, usize, bool)> = Vec::new();
        let mut mine = 0;
        let mut now = self.now;
        for (t, event) in events {
            now = now.max(*t);
            if now >= due || mine == room {
                break;
            }
            let quote = matches!(event, MarketEvent::Quote(_));
            let known = streams
                .iter()
                .find(|(q, symbol, ..)| *q == quote && crate::model::same(symbol, event.symbol()));
            let (topic, its) = match known {
                Some(&(_, _, topic, its)) => (topic, its),
                None => {
                    let topic = self.topics.market(event);
                    let its = match self.bus.subscribers(&topic)[..] {
                        [only] | [only, TAP] if only == idx => true,
                        [] | [TAP] if !quote => false,
                        _ => break,
                    };
                    topics.push(topic);
                    streams.push((quote, event.symbol(), topics.len() - 1, its));
                    (topics.len() - 1, its)
                }
            };
            if its {
                mine += 1;
            }
            at.push((now, topic, its));
        }
        if mine < 2 {
            return 0;
        }
        // Numbered as `inject` would stamp them, one after the other.
        let source = self.stamper.name(self.venue.name());
        let (last_id, last_seq) = self.stamper.mark(&source);
        let run: Vec<RunEvent<'_>> = at
            .iter()
            .zip(events)
            .zip(1u64..)
            .filter(|(((.., its), _), _)| *its)
            .map(|(((time, topic, _), (_, event)), n)| RunEvent {
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
        // Up to the last event the agent took.
        let through = at
            .iter()
            .enumerate()
            .filter(|(_, (.., its))| *its)
            .nth(taken - 1)
            .map_or(at.len(), |(i, _)| i + 1);
        // Stamped as `inject` would have, one after the other: nothing
        // was stamped since the mark (the agent's outputs are acted on
        // below), so the numbers are the ones the agent saw.
        let taken_numbers = self.stamper.take(&source, through as u64);
        debug_assert_eq!(
            (taken_numbers.id, taken_numbers.sequence),
            (last_id, last_seq),
            "a run's events are stamped with the numbers the agent saw"
        );
        let mut now = self.now;
        let envs: Vec<Arc<Envelope>> = events[..through]
            .iter()
            .zip(&at)
            .zip(1u64..)
            .map(|(((t, event), (_, topic, _)), k)| {
                now = now.max(*t);
                Arc::new(taken_numbers.envelope(
                    k,
                    topics[*topic].clone(),
                    event.clone().into(),
                    now,
                ))
            })
            .collect();
        if from == Source::Venue {
            self.venue.take_ahead(through);
        }
        let taken_envs = envs
            .iter()
            .zip(&at)
            .filter(|(_, (.., its))| *its)
            .map(|(e, _)| e);
        let mut outcome = Some(self.agents[idx].agent.finish_run(taken_envs, result));
        let mut left = taken;
        for (i, (env, (.., its))) in envs.into_iter().zip(&at).enumerate() {
            let ran = match its {
                false => None,
                true => {
                    left -= 1;
                    Some(if left == 0 {
                        outcome
                            .take()
                            .expect("the last taken event has the outcome")
                    } else {
                        crate::deploy::Called {
                            result: Ok(Vec::new()),
                            event: None,
                            recovery: None,
                        }
                    })
                }
            };
            self.take_taken(idx, &events[i], env, from, ran);
            after(i, self);
        }
        through
    }

    /// The node's part of a market event an agent took in a run: what
    /// [`Node::inject`] or [`Node::step`] does around the agent's call, in
    /// the same order, less what could have nothing to do.
    fn take_taken(
        &mut self,
        idx: usize,
        (t, event): &(Nanos, MarketEvent),
        env: Arc<Envelope>,
        from: Source,
        ran: Option<crate::deploy::Called>,
    ) {
        self.now = self.now.max(*t);
        if from == Source::Outside {
            for r in self.venue.observe(event, self.now) {
                // None: no order works (checked before the run).
                self.on_execution(&r, 0);
            }
        }
        self.market_side(event);
        if let crate::model::Payload::Quote(q) = &env.payload {
            self.fire_stops(q, env.trace_id);
        }
        match ran {
            // The agent alone takes it (and the node's tap keeps it):
            // counted, not queued. The tap keeps it first, as the queue
            // would have had it: it was empty (the run is quiet), and
            // what the agent's outputs publish comes after.
            Some(ran) => match self.bus.hand(&env.topic, idx, Some(TAP)) {
                Handed::Alone => self.deliver_handed(idx, &env, ran),
                Handed::Tapped => {
                    self.tapped.push(Arc::clone(&env));
                    self.deliver_handed(idx, &env, ran);
                }
                Handed::Not => self.publish_and_deliver(env, ran),
            },
            // A trade for no agent goes to the tap alone.
            None => {
                self.bus.publish_shared(env, None);
            }
        }
        // One at a time, timers, approvals, retries and probations are
        // looked at next, before the agent's call; here that call is
        // over. None was due or pending when the run began, and the
        // event before this one changed nothing (it had no outputs), so
        // they had nothing to do — and what the call itself just set (a
        // timer due now) waits for the next input, as it would have.
        self.drain();
    }

    /// A run's event its agent took, through the queue (a reliable topic):
    /// its delivery is first, the tap's after it.
    fn publish_and_deliver(&mut self, env: Arc<Envelope>, ran: crate::deploy::Called) {
        self.bus.publish_shared(env, None);
        match self.bus.next() {
            Some(d) => self.deliver_ran(d, Some(ran)),
            None => debug_assert!(false, "a run's event has its agent"),
        }
    }

    /// Whether runs are on and nothing but one agent's own outputs could
    /// come between the next market events.
    fn quiet(&self) -> bool {
        self.market_runs
            && self.recorder.is_none()
            && self.bus.pending() == 0
            && self.parked.is_empty()
            && self.pending_approvals.is_empty()
            && !self.oms.any_open()
            && self.oms.stops.all().next().is_none()
    }

    /// The one agent `topic` goes to, if exactly one does (besides the
    /// node's own tap, which only keeps what it is given).
    fn sole_agent(&mut self, topic: &str) -> Option<usize> {
        match self.bus.subscribers(topic)[..] {
            [idx] | [idx, TAP] if idx != TAP => Some(idx),
            _ => None,
        }
    }
}
