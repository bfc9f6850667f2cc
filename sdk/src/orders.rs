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

/// Orders whose names are kept: an order's events come close together,
/// and the host names any recent one again if asked.
const KEPT: usize = 8;

thread_local! {
    /// Names of the streams met, by number.
    static STREAMS: RefCell<Vec<Option<StreamNames>>> = const { RefCell::new(Vec::new()) };
    /// Names of the last orders met, newest last.
    static ORDERS: RefCell<Vec<(u64, OrderNames)>> = const { RefCell::new(Vec::new()) };
}

/// The envelope `event` stands for.
pub fn envelope(event: OrderValues) -> Envelope {
    let (topic, source, symbol) = STREAMS.with_borrow_mut(|all| {
        let i = event.stream_number as usize;
        if all.len() <= i {
            all.resize_with(i + 1, || None);
        }
        let s = all[i].get_or_insert_with(|| streams::stream_of(event.stream_number));
        (s.topic.clone(), s.source.clone(), s.symbol.clone())
    });
    let names = ORDERS.with_borrow_mut(|kept| {
        if let Some((_, n)) = kept.iter().rev().find(|(n, _)| *n == event.order_number) {
            return n.clone();
        }
        let names = streams::order_of(event.order_number);
        if kept.len() == KEPT {
            kept.remove(0);
        }
        kept.push((event.order_number, names.clone()));
        names
    });
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
