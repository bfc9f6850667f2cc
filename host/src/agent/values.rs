//! A message as the numbers of the export that takes its kind
//! (`wit/market.wit`): quotes and trades for `market`, order events for
//! `orders`, order intents for `intents`, signals for `signals`.
//!
//! Each export takes what `on-message` would have had with its strings
//! replaced by numbers the guest names once (a stream: topic, source and
//! symbol; an order; a tag), and with what the agent nearly always asks
//! the host next (its position in the symbol, an intent's quote) sent
//! along. A message goes as numbers only when the component has the
//! export for its kind and the numbers can be given (a stream table has
//! a cap); otherwise through `on-message`, unchanged.

use std::sync::Mutex;

use super::bindings;
use super::bindings::market::exports::floor::agent::intents as wi;
use super::bindings::market::exports::floor::agent::market as wm;
use super::bindings::market::exports::floor::agent::orders as wo;
use super::bindings::market::exports::floor::agent::signals as wsg;
use super::numbers::{OrderNumbers, TagNumbers};
use super::state::View;
use super::streams::Streams;
use crate::model::{Envelope, Payload};

/// A `*-values` record `$ty` of `msg` in stream `$stream`: the envelope's
/// numbers every such record carries, then the record's own `$rest`.
macro_rules! with_head {
    ($($ty:ident)::+, $msg:expr, $stream:expr, { $($rest:tt)* }) => {
        $($ty)::+ {
            id: $msg.id,
            stream_number: $stream,
            sequence: $msg.sequence,
            event_time: $msg.event_time,
            trace_id: $msg.trace_id,
            attempt: $msg.attempt,
            $($rest)*
        }
    };
}

/// A message in the form of the export that takes it.
pub(super) enum Values {
    /// A quote or a trade (`market.on-market`).
    Market(wm::MarketEvent),
    /// An order event (`orders.on-order-event`).
    Order(wo::OrderValues),
    /// An order intent (`intents.on-intent`).
    Intent(wi::IntentValues),
    /// A signal (`signals.on-signal`).
    Signal(wsg::SignalValues),
}

/// Which numbers exports a component has.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Exports {
    pub market: bool,
    pub orders: bool,
    pub intents: bool,
    pub signals: bool,
}

/// `msg` as the numbers of the export in `exports` that takes its kind;
/// none when there is no such export or no number can be given (it goes
/// through `on-message`).
pub(super) fn values(
    exports: Exports,
    streams: &Mutex<Streams>,
    orders: &mut OrderNumbers,
    tags: &mut TagNumbers,
    view: &dyn View,
    msg: &Envelope,
) -> Option<Values> {
    match &msg.payload {
        Payload::Quote(_) | Payload::Trade(_) if exports.market => {
            market_event(streams, view, msg).map(Values::Market)
        }
        Payload::OrderEvent(_) if exports.orders => {
            order_values(streams, orders, msg).map(Values::Order)
        }
        Payload::OrderIntent(_) if exports.intents => {
            intent_values(streams, tags, view, msg).map(Values::Intent)
        }
        Payload::Signal(_) if exports.signals => {
            signal_values(streams, view, msg).map(Values::Signal)
        }
        _ => None,
    }
}

/// The number of `msg`'s stream (its topic and source, and `symbol`),
/// given now if it is new; none past the table's cap.
fn stream_number(streams: &Mutex<Streams>, msg: &Envelope, symbol: &str) -> Option<u32> {
    streams
        .lock()
        .expect("stream table lock poisoned")
        .number(&msg.topic, &msg.source, symbol)
}

/// `msg` as a `market` event, if it is a quote or a trade that is not a
/// request or reply and its stream has (or gets) a number; with the
/// position in its symbol as `view` has it now.
fn market_event(
    streams: &Mutex<Streams>,
    view: &dyn View,
    msg: &Envelope,
) -> Option<wm::MarketEvent> {
    if msg.correlation_id.is_some() {
        return None;
    }
    let (symbol, values) = match &msg.payload {
        Payload::Quote(q) => (
            &q.symbol,
            wm::MarketValues::Quote(wm::QuoteValues {
                bid: q.bid,
                bid_size: q.bid_size,
                ask: q.ask,
                ask_size: q.ask_size,
            }),
        ),
        Payload::Trade(t) => (
            &t.symbol,
            wm::MarketValues::Trade(wm::TradeValues {
                price: t.price,
                size: t.size,
                aggressor: t.aggressor.into(),
                trade_id: t.trade_id,
            }),
        ),
        _ => return None,
    };
    let stream_number = stream_number(streams, msg, symbol)?;
    let (quantity, average_price, realized_pnl) = view.position_numbers(symbol);
    Some(with_head!(wm::MarketEvent, msg, stream_number, {
        values,
        position: wm::PositionValues {
            quantity,
            average_price,
            realized_pnl,
        },
    }))
}

/// `msg` as an `orders` event, if it is an order event (never a request
/// or reply) whose stream has (or gets) a number; its order gets one from
/// `numbers`.
fn order_values(
    streams: &Mutex<Streams>,
    numbers: &mut OrderNumbers,
    msg: &Envelope,
) -> Option<wo::OrderValues> {
    let Payload::OrderEvent(e) = &msg.payload else {
        return None;
    };
    if msg.correlation_id.is_some() {
        return None;
    }
    let stream_number = stream_number(streams, msg, &e.symbol)?;
    Some(with_head!(wo::OrderValues, msg, stream_number, {
        order_number: numbers.number(&e.order_id, || (e.agent.clone(), e.tag.clone())),
        side: e.side.into(),
        status: bindings::status_to_wit(&e.status),
        last_quantity: e.last_quantity,
        last_price: e.last_price,
        cumulative_quantity: e.cumulative_quantity,
        leaves_quantity: e.leaves_quantity,
        fee: e.fee,
    }))
}

/// `msg` as an `intents` call, if it carries an order intent whose stream
/// has (or gets) a number; its tag gets one from `tags`, and the quote
/// and position in its symbol come along.
fn intent_values(
    streams: &Mutex<Streams>,
    tags: &mut TagNumbers,
    view: &dyn View,
    msg: &Envelope,
) -> Option<wi::IntentValues> {
    let Payload::OrderIntent(i) = &msg.payload else {
        return None;
    };
    let stream_number = stream_number(streams, msg, &i.symbol)?;
    Some(with_head!(wi::IntentValues, msg, stream_number, {
        correlation_id: msg.correlation_id,
        tag_number: tags.number(&i.tag, || ()),
        side: i.side.into(),
        order_type: i.order_type.into(),
        quantity: i.quantity,
        limit_price: i.limit_price,
        time_in_force: i.time_in_force.into(),
        stop_price: i.stop_price,
        quote: view.quote(&i.symbol).map(|q| wi::TopOfBook {
            bid: q.bid,
            bid_size: q.bid_size,
            ask: q.ask,
            ask_size: q.ask_size,
        }),
        position: holding(view, &i.symbol),
    }))
}

/// `msg` as a `signals` call, if it carries a signal whose stream has (or
/// gets) a number; the position in its symbol comes along.
fn signal_values(
    streams: &Mutex<Streams>,
    view: &dyn View,
    msg: &Envelope,
) -> Option<wsg::SignalValues> {
    let Payload::Signal(s) = &msg.payload else {
        return None;
    };
    let stream_number = stream_number(streams, msg, &s.symbol)?;
    Some(with_head!(wsg::SignalValues, msg, stream_number, {
        correlation_id: msg.correlation_id,
        score: s.score,
        confidence: s.confidence,
        horizon_ns: s.horizon_ns,
        position: holding(view, &s.symbol),
    }))
}

/// The position in `symbol` as `view` has it now.
fn holding(view: &dyn View, symbol: &str) -> wi::Holding {
    let (quantity, average_price, realized_pnl) = view.position_numbers(symbol);
    wi::Holding {
        quantity,
        average_price,
        realized_pnl,
    }
}
