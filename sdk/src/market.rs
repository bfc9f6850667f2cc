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

use std::cell::{Cell, RefCell};

use crate::bindings::exports::floor::agent::market::{MarketEvent, MarketValues};
use crate::bindings::floor::agent::streams;
use crate::{Envelope, Payload, Position, Quote, Trade};

thread_local! {
    /// The envelope last rebuilt for each stream number.
    static ENVELOPES: RefCell<Vec<Option<Envelope>>> = const { RefCell::new(Vec::new()) };
    /// The position the host sent along with the event being handled
    /// ([`position_of`]), kept between calls so its symbol's buffer is
    /// reused.
    static POSITION: RefCell<Position> = const {
        RefCell::new(Position {
            symbol: String::new(),
            quantity: 0.0,
            average_price: 0.0,
            realized_pnl: 0.0,
        })
    };
    /// True while an `on-market` call is being handled.
    static IN_MARKET_CALL: Cell<bool> = const { Cell::new(false) };
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
        POSITION.with_borrow_mut(|pos| {
            pos.symbol.clear();
            pos.symbol.push_str(symbol);
            pos.quantity = event.position.quantity;
            pos.average_price = event.position.average_price;
            pos.realized_pnl = event.position.realized_pnl;
        });
        IN_MARKET_CALL.set(true);
        let result = f(env);
        IN_MARKET_CALL.set(false);
        result
    })
}

/// The position in `symbol` if the market event being handled carried
/// it: the host's answer to `position-of` for the whole call, since
/// nothing changes a position while an agent is called.
pub fn position_of(symbol: &str) -> Option<Position> {
    if !IN_MARKET_CALL.get() {
        return None;
    }
    POSITION.with_borrow(|pos| (pos.symbol == symbol).then(|| pos.clone()))
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
    env.id = event.id;
    env.sequence = event.sequence;
    env.event_time = event.event_time;
    env.trace_id = event.trace_id;
    env.correlation_id = None;
    env.attempt = event.attempt;
    let symbol = match &mut env.payload {
        Payload::Quote(q) => std::mem::take(&mut q.symbol),
        Payload::Trade(t) => std::mem::take(&mut t.symbol),
        _ => String::new(),
    };
    env.payload = match event.values {
        MarketValues::Quote(v) => Payload::Quote(Quote {
            symbol,
            bid: v.bid,
            bid_size: v.bid_size,
            ask: v.ask,
            ask_size: v.ask_size,
        }),
        MarketValues::Trade(v) => Payload::Trade(Trade {
            symbol,
            price: v.price,
            size: v.size,
            aggressor: v.aggressor,
            trade_id: v.trade_id,
        }),
    };
}
