//! Order events as numbers (`wit/market.wit`, interface `orders`): the
//! guest side.
//!
//! The host calls `orders.on-order-event` with an order event's numbers
//! instead of `agent.on-message` with its six strings: the call then
//! needs no allocation in the guest made from the host, each of which is
//! a crossing of its own. This module turns the numbers back into the
//! envelope `on-message` would have had, so an [`Agent`](crate::Agent)
//! cannot tell the difference: per stream it asks the host for the topic,
//! source and symbol once (`streams.stream-of`), per order for its id,
//! agent and tag (`streams.order-of`).

use std::cell::RefCell;

use crate::bindings::exports::floor::agent::orders::OrderValues;
use crate::bindings::floor::agent::streams::{self, OrderNames, StreamNames};
use crate::{Envelope, OrderEvent, Payload};

/// Orders (or tags) whose names are kept: an order's events come close
/// together, an agent's orders have few tags, and the host names any
/// recent one again if asked.
const KEPT: usize = 8;

thread_local! {
    /// Names of the streams met, by number.
    static STREAMS: RefCell<Vec<Option<StreamNames>>> = const { RefCell::new(Vec::new()) };
    /// Names of the last orders met, newest last.
    static ORDERS: RefCell<Vec<(u64, OrderNames)>> = const { RefCell::new(Vec::new()) };
}

/// The topic, source and symbol of stream `number`, asked of the host
/// the first time (shared with [`crate::intents`]).
pub(crate) fn stream_names(number: u32) -> (String, String, String) {
    STREAMS.with_borrow_mut(|all| {
        let i = number as usize;
        if all.len() <= i {
            all.resize_with(i + 1, || None);
        }
        let s = all[i].get_or_insert_with(|| streams::stream_of(number));
        (s.topic.clone(), s.source.clone(), s.symbol.clone())
    })
}

/// What `number` names, from the last [`KEPT`] met (newest last), asked
/// of the host with `ask` the first time (shared with [`crate::intents`]).
pub(crate) fn remembered<T: Clone>(
    kept: &mut Vec<(u64, T)>,
    number: u64,
    ask: impl FnOnce(u64) -> T,
) -> T {
    if let Some((_, t)) = kept.iter().rev().find(|(n, _)| *n == number) {
        return t.clone();
    }
    let named = ask(number);
    if kept.len() == KEPT {
        kept.remove(0);
    }
    kept.push((number, named.clone()));
    named
}

/// The envelope `event` stands for.
pub fn envelope(event: OrderValues) -> Envelope {
    let (topic, source, symbol) = stream_names(event.stream_number);
    let names =
        ORDERS.with_borrow_mut(|kept| remembered(kept, event.order_number, streams::order_of));
    Envelope {
        id: event.id,
        topic,
        source,
        sequence: event.sequence,
        event_time: event.event_time,
        trace_id: event.trace_id,
        correlation_id: None,
        attempt: event.attempt,
        payload: Payload::OrderEvent(OrderEvent {
            order_id: names.order_id,
            agent: names.agent,
            tag: names.tag,
            symbol,
            side: event.side,
            status: event.status,
            last_quantity: event.last_quantity,
            last_price: event.last_price,
            cumulative_quantity: event.cumulative_quantity,
            leaves_quantity: event.leaves_quantity,
            fee: event.fee,
        }),
    }
}
