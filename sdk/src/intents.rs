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
//! symbol from what came with it. One envelope, quote and position are
//! kept and written over for each intent, their strings copied into the
//! buffers they already have: an intent costs the guest no allocation.

use std::cell::{Cell, RefCell};

use crate::bindings::exports::floor::agent::intents::IntentValues;
use crate::bindings::floor::agent::streams;
use crate::kept::{blank, carries, carrying, name_stream, set, stamp, with_remembered};
use crate::{Envelope, OrderIntent, OrderType, Payload, Quote, Side, TimeInForce};

thread_local! {
    /// The last tags met, by number, newest last
    /// ([`crate::kept::with_remembered`]).
    static TAGS: RefCell<Vec<(u64, String)>> = const { RefCell::new(Vec::new()) };
    /// The envelope written over for each intent.
    static ENVELOPE: RefCell<Envelope> = const {
        RefCell::new(blank(Payload::OrderIntent(OrderIntent {
            symbol: String::new(),
            side: Side::Buy,
            order_type: OrderType::Market,
            quantity: 0.0,
            limit_price: None,
            time_in_force: TimeInForce::Gtc,
            tag: String::new(),
            stop_price: None,
        })))
    };
    /// The quote the intent being handled came with, if it had one.
    static QUOTE: RefCell<(bool, Quote)> = const {
        RefCell::new((
            false,
            Quote {
                symbol: String::new(),
                bid: 0.0,
                bid_size: 0.0,
                ask: 0.0,
                ask_size: 0.0,
            },
        ))
    };
    /// True while an `on-intent` call is being handled.
    static IN_INTENT_CALL: Cell<bool> = const { Cell::new(false) };
}

/// Run `f` on the envelope `intent` stands for, with its quote and
/// position answering [`quote_of`] and [`crate::host::position`].
pub fn with_envelope<R>(intent: IntentValues, f: impl FnOnce(&Envelope) -> R) -> R {
    ENVELOPE.with(|cell| {
        let mut env = cell.borrow_mut();
        let env = &mut *env;
        let Payload::OrderIntent(i) = &mut env.payload else {
            unreachable!("the kept envelope holds an intent")
        };
        name_stream(
            intent.stream_number,
            &mut env.topic,
            &mut env.source,
            &mut i.symbol,
        );
        TAGS.with_borrow_mut(|kept| {
            with_remembered(kept, intent.tag_number, streams::tag_of, |tag| {
                set(&mut i.tag, tag);
            })
        });
        i.side = intent.side;
        i.order_type = intent.order_type;
        i.quantity = intent.quantity;
        i.limit_price = intent.limit_price;
        i.time_in_force = intent.time_in_force;
        i.stop_price = intent.stop_price;
        QUOTE.with_borrow_mut(|(has, q)| {
            *has = intent.quote.is_some();
            if let Some(b) = intent.quote {
                set(&mut q.symbol, &i.symbol);
                q.bid = b.bid;
                q.bid_size = b.bid_size;
                q.ask = b.ask;
                q.ask_size = b.ask_size;
            }
        });
        stamp!(env, intent, intent.correlation_id);
        let held = &intent.position;
        let position = [held.quantity, held.average_price, held.realized_pnl];
        let env = &*env;
        let Payload::OrderIntent(i) = &env.payload else {
            unreachable!("the kept envelope holds an intent")
        };
        IN_INTENT_CALL.set(true);
        let result = carrying(&i.symbol, position, || f(env));
        IN_INTENT_CALL.set(false);
        result
    })
}

/// The host's answer to `quote-of(symbol)` (which may be none), if the
/// intent being handled came with it.
pub fn quote_of(symbol: &str) -> Option<Option<Quote>> {
    // A market call carries a position too, but no quote.
    (IN_INTENT_CALL.get() && carries(symbol))
        .then(|| QUOTE.with_borrow(|(has, q)| has.then(|| q.clone())))
}
