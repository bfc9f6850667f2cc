//! What-if: a session's recorded market through a candidate version of an
//! agent, and the decisions that change.
//!
//! A candidate sends other orders than the record holds, so the recorded
//! venue's answers no longer fit; both runs — the recorded versions (the
//! baseline) and the candidate — therefore trade on the same paper venue,
//! the in-process simulator, fed the recorded market data tick by tick,
//! with the recorded operator commands applied where they were. Orders
//! are compared input by input: the n-th order an input caused in one run
//! against the n-th it caused in the other (same agent, symbol, side,
//! type, quantity, price and time in force), so one extra order early on
//! shows as one added order, not as every later one changed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use serde::Serialize;

use super::tape::Tape;
use super::{Recorded, Session, Workspace, lock};
use crate::model::{ExecutionReport, MarketEvent, Nanos};
use crate::node::record::{decode_market, kind};
use crate::venue::sim::SimVenue;
use crate::venue::{Polled, Venue, VenueError, VenueOrder};

/// An order one of the runs sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    /// The journal record (an input) that caused it.
    pub input: u64,
    /// Event time, ns.
    pub time_ns: u64,
    /// The agent whose order it is.
    pub agent: String,
    /// The order.
    pub order: VenueOrder,
}

impl Placed {
    fn same_decision(&self, other: &Placed) -> bool {
        let (a, b) = (&self.order, &other.order);
        self.agent == other.agent
            && a.symbol == b.symbol
            && a.side == b.side
            && a.order_type == b.order_type
            && a.quantity == b.quantity
            && a.limit_price == b.limit_price
            && a.time_in_force == b.time_in_force
    }
}

/// One run's outcome on the paper venue.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Orders sent.
    pub orders: u64,
    /// Fills.
    pub fills: u64,
    /// PnL at the end, marked to the last quote.
    pub pnl: f64,
}

/// An order both runs sent for the same input, differently.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    /// The recorded versions' order.
    pub baseline: Placed,
    /// The candidate's.
    pub candidate: Placed,
}

/// The decision diff of one session.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionDiff {
    /// Seq of the session's start record.
    pub session: u64,
    /// Agents replaced, with the candidate file.
    pub candidates: Vec<(String, PathBuf)>,
    /// Market inputs replayed.
    pub inputs: u64,
    /// The recorded versions.
    pub baseline: Outcome,
    /// With the candidates.
    pub candidate: Outcome,
    /// Orders the same in both.
    pub unchanged: u64,
    /// Orders only the candidate sent.
    pub added: Vec<Placed>,
    /// Orders only the recorded versions sent.
    pub removed: Vec<Placed>,
    /// Orders both sent for the same input, differently.
    pub changed: Vec<Changed>,
}

/// The paper venue: the simulator for orders, the tape for time.
struct Paper {
    name: String,
    sim: SimVenue,
    tape: Arc<Mutex<Tape>>,
    placed: Arc<Mutex<Vec<Placed>>>,
}

impl Venue for Paper {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Polled {
        let mut tape = lock(&self.tape);
        match tape.peek() {
            Some(e) if e.kind == kind::IDLE => {
                let t = e.time;
                tape.advance();
                Polled::Idle(t)
            }
            _ => Polled::Ended,
        }
    }

    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport> {
        let input = lock(&self.tape).last_seq();
        let agent = order
            .order_id
            .rsplit_once('-')
            .map_or(order.order_id.as_str(), |(a, _)| a)
            .to_string();
        self.placed
            .lock()
            .expect("what-if orders lock poisoned")
            .push(Placed {
                input,
                time_ns: now,
                agent,
                order: order.clone(),
            });
        self.sim.submit(order, now)
    }

    fn cancel(&mut self, order_id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        self.sim.cancel(order_id, now)
    }

    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport> {
        self.sim.observe(event, now)
    }
}

/// Run `session`'s market through the recorded versions with `candidates`
/// swapped in (none: the baseline) on the paper venue.
fn paper_run(
    recorded: &Recorded,
    session: &Session,
    ws: &Workspace,
    candidates: &[(String, PathBuf)],
    dev: bool,
    label: &str,
) -> anyhow::Result<(Outcome, Vec<Placed>, u64)> {
    let dir = ws.work_dir.join(format!("whatif-{}-{label}", session.seq));
    let mut cfg = super::session::config_for(
        &session.start,
        &recorded.artifacts,
        &dir,
        Some(&ws.cache_dir),
        candidates,
    )?;
    cfg.trust.dev |= dev;
    let tape = Tape::new(&session.records);
    let placed = Arc::new(Mutex::new(Vec::new()));
    let sim = crate::node::connect::matching_only(&cfg);
    let venue = Paper {
        name: session.start.venue.clone(),
        sim,
        tape: tape.clone(),
        placed: placed.clone(),
    };
    let keep: Vec<String> = candidates.iter().map(|(n, _)| n.clone()).collect();
    let mut node = super::start_node(session, &cfg, Box::new(venue), &recorded.artifacts, &keep)
        .with_context(|| format!("cannot build the {label} node"))?;
    node.repeat_cuts(&super::tape::cuts(&session.records)?);
    node.continue_order_ids(&session.start.order_ids);
    let mut inputs = 0u64;
    loop {
        let next = lock(&tape).peek().map(|e| (e.kind, e.time, e.seq));
        let Some((k, time, seq)) = next else { break };
        match k {
            kind::MARKET | kind::INJECTED => {
                let event = {
                    let mut t = lock(&tape);
                    let m = decode_market(&t.peek().expect("peeked").payload)
                        .with_context(|| format!("journal record {seq} is not market data"))?;
                    t.advance();
                    m
                };
                inputs += 1;
                node.inject(event, time);
            }
            kind::IDLE => {
                node.step();
            }
            kind::OPERATION => {
                let payload = {
                    let mut t = lock(&tape);
                    let p = t.peek().expect("peeked").payload.clone();
                    t.advance();
                    p
                };
                super::operate(&mut node, &recorded.artifacts, &payload)
                    .with_context(|| format!("replaying the operator command in record {seq}"))?;
            }
            // The live venue's answers and the live orders: not this run's.
            _ => lock(&tape).advance(),
        }
    }
    node.flush();
    let s = node.summary(0.0);
    let placed = std::mem::take(&mut *placed.lock().expect("what-if orders lock poisoned"));
    Ok((
        Outcome {
            orders: s.orders,
            fills: s.fills,
            pnl: s.pnl,
        },
        placed,
        inputs,
    ))
}

/// The decision diff of `session` with `candidates` (agent name → file).
///
/// # Errors
/// When a node cannot be built (a candidate that does not load, or is not
/// signed by a key the recorded `[trust]` accepts unless `dev`).
pub fn what_if(
    recorded: &Recorded,
    session: &Session,
    ws: &Workspace,
    candidates: &[(String, PathBuf)],
    dev: bool,
) -> anyhow::Result<DecisionDiff> {
    let (baseline, before, inputs) = paper_run(recorded, session, ws, &[], dev, "baseline")?;
    let (candidate, after, _) = paper_run(recorded, session, ws, candidates, dev, "candidate")?;
    let by_input = |orders: Vec<Placed>| {
        let mut m: BTreeMap<u64, Vec<Placed>> = BTreeMap::new();
        for p in orders {
            m.entry(p.input).or_default().push(p);
        }
        m
    };
    let (mut before, mut after) = (by_input(before), by_input(after));
    let inputs_with_orders: std::collections::BTreeSet<u64> =
        before.keys().chain(after.keys()).copied().collect();
    let mut diff = DecisionDiff {
        session: session.seq,
        candidates: candidates.to_vec(),
        inputs,
        baseline,
        candidate,
        unchanged: 0,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for input in inputs_with_orders {
        let b = before.remove(&input).unwrap_or_default();
        let mut a = after.remove(&input).unwrap_or_default().into_iter();
        for old in b {
            match a.next() {
                Some(new) if old.same_decision(&new) => diff.unchanged += 1,
                Some(new) => diff.changed.push(Changed {
                    baseline: old,
                    candidate: new,
                }),
                None => diff.removed.push(old),
            }
        }
        diff.added.extend(a);
    }
    Ok(diff)
}
