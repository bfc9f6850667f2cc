//! Market data as numbers (`wit/market.wit`): the guest side.
//!
//! For quotes and trades the host calls `market.on-market` with the
//! envelope's numbers and a stream number instead of `agent.on-message`
//! with its strings: a tick then crosses between host and guest twice
//! instead of eight times (docs/benchmarks.md). This module turns the event back into the
//! envelope `on-message` would have had, so an [`Agent`](crate::Agent)
//! cannot tell the difference: per stream it asks the host for the topic,
//! source and symbol once (`streams.stream-of`), keeps that envelope, and
//! for each event writes only its numbers — no allocation per tick. The
//! event also carries the position in its symbol, which
//! [`host::position`](crate::host::position) then answers without a call
//! into the host.
//!
//! Offline the host may send a run of events in one call
//! (`on-market-run`); [`each_in_run`] steps through it with `run.next`,
//! one event at a time, and stops at the first one with outputs, so the
//! agent sees exactly the calls it would have had one by one.

use std::cell::RefCell;

use crate::bindings::exports::floor::agent::market::{
    MarketEvent, MarketValues, PositionValues, QuoteValues, TradeValues,
};
use crate::bindings::floor::agent::{run, streams};
use crate::kept::stamp;
use crate::{Envelope, Payload, Quote, Side, Trade};

thread_local! {
    /// The envelope last rebuilt for each stream number.
    static ENVELOPES: RefCell<Vec<Option<Envelope>>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on the envelope `event` stands for.
pub fn with_envelope<R>(event: &MarketEvent, f: impl FnOnce(&Envelope) -> R) -> R {
    ENVELOPES.with(|cell| {
        let mut all = cell.borrow_mut();
        let i = event.stream_number as usize;
        if all.len() <= i {
            all.resize_with(i + 1, || None);
        }
        let env = all[i].get_or_insert_with(|| named(event.stream_number));
        fill(env, event);
        let symbol = match &env.payload {
            Payload::Quote(q) => &q.symbol,
            Payload::Trade(t) => &t.symbol,
            _ => "",
        };
        let held = &event.position;
        crate::kept::carrying(
            symbol,
            [held.quantity, held.average_price, held.realized_pnl],
            || f(env),
        )
    })
}

/// Words per event of a packed run (`wit/market.wit`).
pub const RUN_WORDS: usize = 14;

/// Event `i` of a packed run; none past its end or for an unknown kind.
pub fn unpack(words: &[u64], i: usize) -> Option<MarketEvent> {
    let w = words.get(i * RUN_WORDS..)?.get(..RUN_WORDS)?;
    let f = |k: usize| f64::from_bits(w[k]);
    let values = match w[6] {
        0 => MarketValues::Quote(QuoteValues {
            bid: f(7),
            bid_size: f(8),
            ask: f(9),
            ask_size: f(10),
        }),
        1 | 2 => MarketValues::Trade(TradeValues {
            price: f(7),
            size: f(8),
            aggressor: if w[6] == 1 { Side::Buy } else { Side::Sell },
            trade_id: w[9],
        }),
        _ => return None,
    };
    Some(MarketEvent {
        id: w[0],
        stream_number: u32::try_from(w[1]).unwrap_or(u32::MAX),
        sequence: w[2],
        event_time: w[3],
        trace_id: w[4],
        attempt: u32::try_from(w[5]).unwrap_or(u32::MAX),
        values,
        position: PositionValues {
            quantity: f(11),
            average_price: f(12),
            realized_pnl: f(13),
        },
    })
}

/// Handle the packed run `words` with `handle`, in order: the first
/// event at once, each later one after the host's `run.next` says yes.
/// Returns the outputs (or error) of the first event that has any; none
/// if the run ended without.
///
/// # Errors
/// The error `handle` returned for the event being handled.
pub fn each_in_run<O, E>(
    words: &[u64],
    mut handle: impl FnMut(&MarketEvent) -> Result<Vec<O>, E>,
) -> Result<Vec<O>, E> {
    let mut i = 0;
    while let Some(event) = unpack(words, i) {
        if i > 0 && !run::next() {
            break;
        }
        let out = handle(&event)?;
        if !out.is_empty() {
            return Ok(out);
        }
        i += 1;
    }
    Ok(Vec::new())
}

/// A blank envelope of stream `number`, its strings from the host.
fn named(number: u32) -> Envelope {
    let names = streams::stream_of(number);
    Envelope {
        id: 0,
        topic: names.topic,
        source: names.source,
        sequence: 0,
        event_time: 0,
        trace_id: 0,
        correlation_id: None,
        attempt: 1,
        payload: Payload::Quote(Quote {
            symbol: names.symbol,
            bid: 0.0,
            bid_size: 0.0,
            ask: 0.0,
            ask_size: 0.0,
        }),
    }
}

/// Write `event`'s numbers into `env`, keeping its strings.
fn fill(env: &mut Envelope, event: &MarketEvent) {
    stamp!(env, event);
    // A stream keeps its kind, so after its first event the numbers are
    // written in place; before, the payload takes the event's kind.
    let same_kind = matches!(
        (&env.payload, event.values),
        (Payload::Quote(_), MarketValues::Quote(_)) | (Payload::Trade(_), MarketValues::Trade(_))
    );
    if !same_kind {
        let symbol = match &mut env.payload {
            Payload::Quote(q) => std::mem::take(&mut q.symbol),
            Payload::Trade(t) => std::mem::take(&mut t.symbol),
            _ => String::new(),
        };
        env.payload = match event.values {
            MarketValues::Quote(_) => Payload::Quote(Quote {
                symbol,
                bid: 0.0,
                bid_size: 0.0,
                ask: 0.0,
                ask_size: 0.0,
            }),
            MarketValues::Trade(v) => Payload::Trade(Trade {
                symbol,
                price: 0.0,
                size: 0.0,
                aggressor: v.aggressor,
                trade_id: 0,
            }),
        };
    }
    match (&mut env.payload, event.values) {
        (Payload::Quote(q), MarketValues::Quote(v)) => {
            q.bid = v.bid;
            q.bid_size = v.bid_size;
            q.ask = v.ask;
            q.ask_size = v.ask_size;
        }
        (Payload::Trade(t), MarketValues::Trade(v)) => {
            t.price = v.price;
            t.size = v.size;
            t.aggressor = v.aggressor;
            t.trade_id = v.trade_id;
        }
        _ => unreachable!("the payload took the event's kind above"),
    }
}
