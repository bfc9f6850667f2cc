//! Order intents as numbers (`wit/market.wit`, interface `intents`): the
//! guest side.
//!
//! The host calls `intents.on-intent` with an intent's numbers instead of
//! `agent.on-message` with its four strings, and sends the quote and the
//! position in its symbol along: a risk check then needs no allocation in
//! the guest made from the host and no call back into it for the two
//! views it nearly always asks for. This module turns the numbers back
//! into the envelope `on-message` would have had, so an
//! [`Agent`](crate::Agent) cannot tell the difference: per stream it asks
//! the host for the topic, source and symbol once (`streams.stream-of`),
//! per tag for the tag (`streams.tag-of`); while the call lasts,
//! [`host::quote`](crate::host::quote) and
//! [`host::position`](crate::host::position) answer for the intent's
//! symbol from what came with it.

use std::cell::RefCell;

use crate::bindings::exports::floor::agent::intents::IntentValues;
use crate::bindings::floor::agent::streams;
use crate::{Envelope, OrderIntent, Payload, Position, Quote};

thread_local! {
    /// The last tags met, by number, newest last
    /// ([`crate::orders::remembered`]).
    static TAGS: RefCell<Vec<(u64, String)>> = const { RefCell::new(Vec::new()) };
    /// The quote and position the intent being handled came with.
    static CARRIED: RefCell<Option<(Option<Quote>, Position)>> = const { RefCell::new(None) };
}

/// Run `f` on the envelope `intent` stands for, with its quote and
/// position answering [`quote_of`] and [`position_of`].
pub fn with_envelope<R>(intent: IntentValues, f: impl FnOnce(&Envelope) -> R) -> R {
    let (topic, source, symbol) = crate::orders::stream_names(intent.stream_number);
    let tag = TAGS.with_borrow_mut(|kept| {
        crate::orders::remembered(kept, intent.tag_number, streams::tag_of)
    });
    let quote = intent.quote.map(|b| Quote {
        symbol: symbol.clone(),
        bid: b.bid,
        bid_size: b.bid_size,
        ask: b.ask,
        ask_size: b.ask_size,
    });
    let position = Position {
        symbol: symbol.clone(),
        quantity: intent.position.quantity,
        average_price: intent.position.average_price,
        realized_pnl: intent.position.realized_pnl,
    };
    let env = Envelope {
        id: intent.id,
        topic,
        source,
        sequence: intent.sequence,
        event_time: intent.event_time,
        trace_id: intent.trace_id,
        correlation_id: intent.correlation_id,
        attempt: intent.attempt,
        payload: Payload::OrderIntent(OrderIntent {
            symbol,
            side: intent.side,
            order_type: intent.order_type,
            quantity: intent.quantity,
            limit_price: intent.limit_price,
            time_in_force: intent.time_in_force,
            tag,
            stop_price: intent.stop_price,
        }),
    };
    CARRIED.set(Some((quote, position)));
    let result = f(&env);
    CARRIED.set(None);
    result
}

/// The position in `symbol`, if the intent being handled came with it.
pub fn position_of(symbol: &str) -> Option<Position> {
    CARRIED.with_borrow(|c| {
        c.as_ref()
            .and_then(|(_, p)| (p.symbol == symbol).then(|| p.clone()))
    })
}

/// [`position_of`]'s quantity, without copying the position.
pub fn quantity_of(symbol: &str) -> Option<f64> {
    CARRIED.with_borrow(|c| {
        c.as_ref()
            .and_then(|(_, p)| (p.symbol == symbol).then_some(p.quantity))
    })
}

/// The host's answer to `quote-of(symbol)` (which may be none), if the
/// intent being handled came with it.
pub fn quote_of(symbol: &str) -> Option<Option<Quote>> {
    CARRIED.with_borrow(|c| {
        c.as_ref()
            .and_then(|(q, p)| (p.symbol == symbol).then(|| q.clone()))
    })
}
