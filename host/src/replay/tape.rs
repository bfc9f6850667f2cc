//! The recorded session as a venue: the node under replay polls the
//! journal instead of a market, and every order or cancel it sends is
//! checked against the one the recorded node sent at that point.
//!
//! The venue answers as it answered then: the reports recorded right
//! after an order, a cancel or injected market data are returned again,
//! and the feed's events come back in their recorded order. The first
//! order that differs (or is missing, or extra) is the divergence; the
//! replay stops there, because what follows depended on it.

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::journal::Entry;
use crate::model::{ExecutionReport, MarketEvent, Nanos};
use crate::node::record::{Cut, decode_market, decode_market_named, kind};
use crate::venue::{Polled, ResumedOrder, Venue, VenueError, VenueEvent, VenueOrder};

/// Where the replay first did something the record did not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// The record where the two part (the next one the replay expected).
    pub seq: u64,
    /// Its event time, ns.
    pub time_ns: u64,
    /// What the recorded node did there.
    pub recorded: String,
    /// What the replay did instead.
    pub replayed: String,
}

/// The records and how far the replay has come.
pub struct Tape {
    /// The session's records, cut records included.
    session: Arc<[Entry]>,
    /// Where the inputs are among them: every record but the cuts.
    inputs: Vec<usize>,
    /// Inputs taken.
    pos: usize,
    divergence: Option<Divergence>,
    /// Orders and cancels sent (checked against the record).
    pub orders: u64,
    /// Cancels sent.
    pub cancels: u64,
    digest: super::digest::Digest,
    /// Recovering a crashed host: an order past the end of the record
    /// never left (orders are journaled before they go), so it is
    /// answered as not sent instead of diverging.
    recovering: bool,
    /// Orders the crashed host decided but never sent.
    pub unsent: u64,
}

/// One record, said for people: its kind and content.
pub fn describe(e: &Entry) -> String {
    let content = match e.kind {
        kind::MARKET | kind::INJECTED => decode_market(&e.payload)
            .ok()
            .and_then(|m| serde_json::to_string(&m).ok())
            .unwrap_or_default(),
        kind::IDLE => String::new(),
        kind::ORDER | kind::ANSWER => crate::node::order_records::to_json(e.kind, &e.payload)
            .map_or_else(|why| format!("undecodable: {why}"), |v| v.to_string()),
        _ => String::from_utf8_lossy(&e.payload).into_owned(),
    };
    let mut text = format!("record {} ({}) {content}", e.seq, kind::name(e.kind));
    if text.len() > 400 {
        let mut cut = 400;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The calls the recorded run's wall-clock deadlines cut, for
/// [`crate::node::Node::repeat_cuts`].
///
/// # Errors
/// When a cut record does not decode.
pub fn cuts(records: &[Entry]) -> anyhow::Result<Vec<Cut>> {
    records
        .iter()
        .filter(|e| e.kind == kind::CUT)
        .map(|e| {
            serde_json::from_slice(&e.payload)
                .map_err(|err| anyhow::anyhow!("journal record {} is not a cut: {err}", e.seq))
        })
        .collect()
}

impl Tape {
    /// A tape over a session's records. Cut records are not inputs: the
    /// node is told them beforehand ([`cuts`]).
    pub fn new(records: &Arc<[Entry]>) -> Arc<Mutex<Tape>> {
        let inputs = (0..records.len())
            .filter(|&i| records[i].kind != kind::CUT)
            .collect();
        Arc::new(Mutex::new(Tape {
            session: Arc::clone(records),
            inputs,
            pos: 0,
            divergence: None,
            orders: 0,
            cancels: 0,
            digest: super::digest::Digest::new(),
            recovering: false,
            unsent: 0,
        }))
    }

    /// A tape for recovering a crashed host (see [`Tape::unsent`]).
    pub fn recovering(records: &Arc<[Entry]>) -> Arc<Mutex<Tape>> {
        let tape = Tape::new(records);
        tape.lock().expect("a new lock").recovering = true;
        tape
    }

    /// Whether every record has been taken (and nothing diverged).
    pub fn at_end(&self) -> bool {
        self.divergence.is_none() && self.pos == self.inputs.len()
    }

    /// The next record, unless the replay has diverged.
    pub fn peek(&self) -> Option<&Entry> {
        if self.divergence.is_some() {
            return None;
        }
        self.input(self.pos)
    }

    /// Input `i` (from 0), if there is one.
    fn input(&self, i: usize) -> Option<&Entry> {
        self.inputs.get(i).and_then(|&at| self.session.get(at))
    }

    /// Take the next record.
    pub fn advance(&mut self) {
        self.pos += 1;
    }

    /// Seq of the last record taken (0 before the first).
    pub fn last_seq(&self) -> u64 {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.input(i))
            .map_or(0, |e| e.seq)
    }

    /// Records taken so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Records on the tape (the session's, less its cut records).
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// Whether the tape holds no records.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// The divergence, once there is one.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    /// Fold bytes the node sent into the digest.
    fn fold(&mut self, tag: u8, bytes: &[u8]) {
        self.digest.fold(tag, bytes);
    }

    /// Fold a message the node published into the digest.
    pub fn fold_message(&mut self, env: Arc<crate::model::Envelope>) {
        self.digest.fold_message(env);
    }

    /// The digest of everything folded in, hex.
    pub fn digest_hex(&mut self) -> String {
        self.digest.hex()
    }

    /// Record a divergence found outside the records (a checkpoint's
    /// state), unless one was found already.
    pub fn diverge_at(&mut self, seq: u64, time_ns: u64, recorded: String, replayed: String) {
        self.divergence.get_or_insert(Divergence {
            seq,
            time_ns,
            recorded,
            replayed,
        });
    }

    /// Record that the replay did `replayed` where the record shows the
    /// next record (or its end).
    pub fn diverge(&mut self, replayed: String) {
        if self.divergence.is_some() {
            return;
        }
        let last = self.inputs.len().checked_sub(1).and_then(|i| self.input(i));
        let (seq, time_ns, recorded) = match self.input(self.pos) {
            Some(e) => (e.seq, e.time, describe(e)),
            None => (
                last.map_or(0, |e| e.seq + 1),
                last.map_or(0, |e| e.time),
                "the end of the session".to_string(),
            ),
        };
        self.divergence = Some(Divergence {
            seq,
            time_ns,
            recorded,
            replayed,
        });
    }

    /// Take the next record if it is `kind` with exactly `payload`;
    /// otherwise diverge, saying the replay did `what`.
    fn expect(&mut self, kind: u8, payload: &[u8], what: impl FnOnce() -> String) -> bool {
        if self.divergence.is_some() {
            return false;
        }
        match self.input(self.pos) {
            Some(e) if e.kind == kind && e.payload == payload => {
                self.pos += 1;
                self.fold(kind, payload);
                true
            }
            _ => {
                self.diverge(what());
                false
            }
        }
    }

    /// The reports recorded right here (after an order, a cancel or
    /// injected market data), taken; none if the next record is another.
    fn reports(&mut self) -> Vec<ExecutionReport> {
        let read = match self.peek() {
            Some(e) if e.kind == kind::ANSWER => {
                crate::node::order_records::decode_reports(&e.payload).map_err(|e| e.to_string())
            }
            Some(e) if e.kind == kind::REPORTS => {
                serde_json::from_slice(&e.payload).map_err(|e| e.to_string())
            }
            _ => return Vec::new(),
        };
        match read {
            Ok(r) => {
                self.pos += 1;
                r
            }
            Err(err) => {
                self.diverge(format!("could not read the recorded reports: {err}"));
                Vec::new()
            }
        }
    }
}

/// The venue a replayed node trades on: the tape.
pub struct TapeVenue {
    name: String,
    tape: Arc<Mutex<Tape>>,
    /// One name per symbol, not one per record.
    symbols: crate::model::Interner,
    /// Market records looked ahead at and decoded, by input index, from
    /// the tape's position on: a run takes only some of what it is
    /// offered, and the rest is offered again.
    ahead: std::collections::VecDeque<(usize, Nanos, MarketEvent)>,
}

impl TapeVenue {
    /// A venue named as the recorded one was, reading `tape`.
    pub fn new(name: &str, tape: Arc<Mutex<Tape>>) -> Self {
        Self {
            name: name.to_string(),
            tape,
            symbols: crate::model::Interner::default(),
            ahead: std::collections::VecDeque::new(),
        }
    }

    fn tape(&self) -> MutexGuard<'_, Tape> {
        self.tape.lock().expect("replay tape lock poisoned")
    }
}

impl Venue for TapeVenue {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self) -> Polled {
        let mut tape = self.tape.lock().expect("replay tape lock poisoned");
        let Some(e) = tape.peek() else {
            return Polled::Ended;
        };
        let (k, t) = (e.kind, e.time);
        let polled = match k {
            kind::MARKET => decode_market_named(&e.payload, &mut self.symbols)
                .map(|m| Polled::Event(t, VenueEvent::Market(m)))
                .map_err(|err| err.to_string()),
            kind::VENUE => serde_json::from_slice::<VenueEvent>(&e.payload)
                .map(|v| Polled::Event(t, v))
                .map_err(|err| err.to_string()),
            kind::IDLE => Ok(Polled::Idle(t)),
            _ => {
                tape.diverge("nothing: it went on to the next input".into());
                return Polled::Ended;
            }
        };
        match polled {
            Ok(p) => {
                tape.advance();
                p
            }
            Err(why) => {
                tape.diverge(format!("could not read the recorded input: {why}"));
                Polled::Ended
            }
        }
    }

    fn market_ahead(&mut self, max: usize, until: Nanos, into: &mut Vec<(Nanos, MarketEvent)>) {
        let tape = self.tape.lock().expect("replay tape lock poisoned");
        if tape.divergence.is_some() {
            return;
        }
        // What was decoded before and not taken since.
        while self.ahead.front().is_some_and(|(i, ..)| *i < tape.pos) {
            self.ahead.pop_front();
        }
        if self.ahead.front().is_some_and(|(i, ..)| *i != tape.pos) {
            self.ahead.clear();
        }
        let end = tape.inputs.len().min(tape.pos + max);
        for i in tape.pos + self.ahead.len()..end {
            let Some(e) = tape.input(i).filter(|e| e.kind == kind::MARKET) else {
                break;
            };
            // Unreadable: `poll` says so when it gets there.
            let Ok(m) = decode_market_named(&e.payload, &mut self.symbols) else {
                break;
            };
            self.ahead.push_back((i, e.time, m));
        }
        into.extend(
            self.ahead
                .iter()
                .take(max)
                .take_while(|(_, t, _)| *t <= until)
                .map(|(_, t, m)| (*t, m.clone())),
        );
    }

    fn take_ahead(&mut self, n: usize) {
        let mut tape = self.tape.lock().expect("replay tape lock poisoned");
        tape.pos = (tape.pos + n).min(tape.inputs.len());
        let pos = tape.pos;
        while self.ahead.front().is_some_and(|(i, ..)| *i < pos) {
            self.ahead.pop_front();
        }
    }

    fn submit(&mut self, order: VenueOrder, _now: Nanos) -> Vec<ExecutionReport> {
        let mut tape = self.tape();
        if tape.recovering && tape.at_end() {
            tape.unsent += 1;
            return vec![ExecutionReport {
                order_id: order.order_id,
                status: crate::model::OrderStatus::Rejected {
                    reason:
                        "not_sent: the host stopped before this order left; the venue never saw it"
                            .into(),
                },
                last_quantity: 0.0,
                last_price: 0.0,
                fee: 0.0,
                fee_base: 0.0,
            }];
        }
        // Encoded as the record it should match was (older journals hold
        // orders in JSON).
        let (kind, bytes) = match tape.peek() {
            Some(e) if e.kind == kind::SUBMIT => {
                (kind::SUBMIT, serde_json::to_vec(&order).unwrap_or_default())
            }
            _ => (
                kind::ORDER,
                crate::node::order_records::encode_order(&order).unwrap_or_default(),
            ),
        };
        if tape.expect(kind, &bytes, || {
            format!(
                "order {}",
                serde_json::to_string(&order).unwrap_or_else(|e| e.to_string())
            )
        }) {
            tape.orders += 1;
            tape.reports()
        } else {
            Vec::new()
        }
    }

    fn cancel(&mut self, order_id: &str, _now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        let mut tape = self.tape();
        if tape.recovering && tape.at_end() {
            // Never sent: the order stays open at the venue, which the
            // restarted host reconciles.
            return Err(VenueError::UnknownOrder(order_id.to_string()));
        }
        if !tape.expect(kind::CANCEL, order_id.as_bytes(), || {
            format!("cancel of {order_id}")
        }) {
            return Ok(Vec::new());
        }
        tape.cancels += 1;
        if let Some(e) = tape.peek()
            && e.kind == kind::CANCEL_REFUSED
        {
            tape.advance();
            return Err(VenueError::UnknownOrder(order_id.to_string()));
        }
        Ok(tape.reports())
    }

    fn observe(&mut self, _event: &MarketEvent, _now: Nanos) -> Vec<ExecutionReport> {
        self.tape().reports()
    }

    fn resume(&mut self, _open: &[ResumedOrder], _now: Nanos) -> Vec<ExecutionReport> {
        self.tape().reports()
    }
}
