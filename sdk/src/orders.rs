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
//! agent and tag (`streams.order-of`). One envelope is kept and written
//! over for each event, its strings copied into the buffers they already
//! have: an order event costs the guest no allocation.

use std::cell::RefCell;

use crate::bindings::exports::floor::agent::orders::OrderValues;
use crate::bindings::floor::agent::streams::{self, OrderNames};
use crate::kept::{blank, name_stream, set, stamp, with_remembered};
use crate::{Envelope, OrderEvent, OrderStatus, Payload, Side};

thread_local! {
    /// Names of the last orders met, newest last.
    static ORDERS: RefCell<Vec<(u64, OrderNames)>> = const { RefCell::new(Vec::new()) };
    /// The envelope written over for each order event.
    static ENVELOPE: RefCell<Envelope> = const {
        RefCell::new(blank(Payload::OrderEvent(OrderEvent {
            order_id: String::new(),
            agent: String::new(),
            tag: String::new(),
            symbol: String::new(),
            side: Side::Buy,
            status: OrderStatus::Accepted,
            last_quantity: 0.0,
            last_price: 0.0,
            cumulative_quantity: 0.0,
            leaves_quantity: 0.0,
            fee: 0.0,
        })))
    };
}

/// Run `f` on the envelope `event` stands for.
pub fn with_envelope<R>(event: OrderValues, f: impl FnOnce(&Envelope) -> R) -> R {
    ENVELOPE.with(|cell| {
        let mut env = cell.borrow_mut();
        let env = &mut *env;
        let Payload::OrderEvent(e) = &mut env.payload else {
            unreachable!("the kept envelope holds an order event")
        };
        name_stream(
            event.stream_number,
            &mut env.topic,
            &mut env.source,
            &mut e.symbol,
        );
        ORDERS.with_borrow_mut(|kept| {
            with_remembered(kept, event.order_number, streams::order_of, |n| {
                set(&mut e.order_id, &n.order_id);
                set(&mut e.agent, &n.agent);
                set(&mut e.tag, &n.tag);
            })
        });
        e.side = event.side;
        e.status = event.status;
        e.last_quantity = event.last_quantity;
        e.last_price = event.last_price;
        e.cumulative_quantity = event.cumulative_quantity;
        e.leaves_quantity = event.leaves_quantity;
        e.fee = event.fee;
        stamp!(env, event);
        f(env)
    })
}

/// The envelope `event` stands for, as a value of its own.
pub fn envelope(event: OrderValues) -> Envelope {
    with_envelope(event, Envelope::clone)
}
