//! Bindings for the `floor:agent` world, generated once here, and the
//! conversions between them and [`crate::model`]. Nothing outside `agent`
//! sees a generated type.
#![allow(missing_docs)]

use crate::model;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "agent-world",
});

use floor::agent::types as w;

/// The optional `market` export and the `streams` import
/// (`market-agent-world`, `wit/market.wit`), on the same types as above.
pub mod market {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "market-agent-world",
        with: {
            "floor:agent/types": super::floor::agent::types,
            "floor:agent/host": super::floor::agent::host,
        },
    });
}

impl From<w::Side> for model::Side {
    fn from(s: w::Side) -> Self {
        match s {
            w::Side::Buy => model::Side::Buy,
            w::Side::Sell => model::Side::Sell,
        }
    }
}

impl From<model::Side> for w::Side {
    fn from(s: model::Side) -> Self {
        match s {
            model::Side::Buy => w::Side::Buy,
            model::Side::Sell => w::Side::Sell,
        }
    }
}

impl From<w::OrderIntent> for model::OrderIntent {
    fn from(o: w::OrderIntent) -> Self {
        model::OrderIntent {
            symbol: o.symbol.into(),
            side: o.side.into(),
            order_type: match o.order_type {
                w::OrderType::Market => model::OrderType::Market,
                w::OrderType::Limit => model::OrderType::Limit,
            },
            quantity: o.quantity,
            limit_price: o.limit_price,
            time_in_force: match o.time_in_force {
                w::TimeInForce::Gtc => model::TimeInForce::Gtc,
                w::TimeInForce::Ioc => model::TimeInForce::Ioc,
                w::TimeInForce::Fok => model::TimeInForce::Fok,
            },
            tag: o.tag.into(),
            stop_price: o.stop_price,
        }
    }
}

impl From<model::OrderType> for w::OrderType {
    fn from(t: model::OrderType) -> Self {
        match t {
            model::OrderType::Market => w::OrderType::Market,
            model::OrderType::Limit => w::OrderType::Limit,
        }
    }
}

impl From<model::TimeInForce> for w::TimeInForce {
    fn from(t: model::TimeInForce) -> Self {
        match t {
            model::TimeInForce::Gtc => w::TimeInForce::Gtc,
            model::TimeInForce::Ioc => w::TimeInForce::Ioc,
            model::TimeInForce::Fok => w::TimeInForce::Fok,
        }
    }
}

impl From<&model::OrderIntent> for w::OrderIntent {
    fn from(o: &model::OrderIntent) -> Self {
        w::OrderIntent {
            symbol: o.symbol.to_string(),
            side: o.side.into(),
            order_type: o.order_type.into(),
            quantity: o.quantity,
            limit_price: o.limit_price,
            time_in_force: o.time_in_force.into(),
            tag: o.tag.to_string(),
            stop_price: o.stop_price,
        }
    }
}

impl From<&model::Quote> for w::Quote {
    fn from(q: &model::Quote) -> Self {
        w::Quote {
            symbol: q.symbol.to_string(),
            bid: q.bid,
            bid_size: q.bid_size,
            ask: q.ask,
            ask_size: q.ask_size,
        }
    }
}

fn levels_to_wit(levels: &[model::Level]) -> Vec<w::Level> {
    levels
        .iter()
        .map(|l| w::Level {
            price: l.price,
            size: l.size,
        })
        .collect()
}

fn levels_from_wit(levels: Vec<w::Level>) -> Vec<model::Level> {
    levels
        .into_iter()
        .map(|l| model::Level {
            price: l.price,
            size: l.size,
        })
        .collect()
}

pub(crate) fn status_to_wit(s: &model::OrderStatus) -> w::OrderStatus {
    match s {
        model::OrderStatus::Accepted => w::OrderStatus::Accepted,
        model::OrderStatus::PartiallyFilled => w::OrderStatus::PartiallyFilled,
        model::OrderStatus::Filled => w::OrderStatus::Filled,
        model::OrderStatus::Cancelled => w::OrderStatus::Cancelled,
        model::OrderStatus::Rejected { reason } => w::OrderStatus::Rejected(reason.clone()),
        model::OrderStatus::Expired => w::OrderStatus::Expired,
    }
}

fn status_from_wit(s: w::OrderStatus) -> model::OrderStatus {
    match s {
        w::OrderStatus::Accepted => model::OrderStatus::Accepted,
        w::OrderStatus::PartiallyFilled => model::OrderStatus::PartiallyFilled,
        w::OrderStatus::Filled => model::OrderStatus::Filled,
        w::OrderStatus::Cancelled => model::OrderStatus::Cancelled,
        w::OrderStatus::Rejected(reason) => model::OrderStatus::Rejected { reason },
        w::OrderStatus::Expired => model::OrderStatus::Expired,
    }
}

/// Host payload → guest payload.
pub fn payload_to_wit(p: &model::Payload) -> w::Payload {
    use model::Payload as P;
    match p {
        P::Quote(q) => w::Payload::Quote(q.into()),
        P::Trade(t) => w::Payload::Trade(w::Trade {
            symbol: t.symbol.to_string(),
            price: t.price,
            size: t.size,
            aggressor: t.aggressor.into(),
            trade_id: t.trade_id,
        }),
        P::Book(b) => w::Payload::Book(w::Book {
            symbol: b.symbol.clone(),
            bids: levels_to_wit(&b.bids),
            asks: levels_to_wit(&b.asks),
        }),
        P::News(n) => w::Payload::News(w::News {
            headline: n.headline.clone(),
            source: n.source.clone(),
            symbols: n.symbols.clone(),
        }),
        P::Signal(s) => w::Payload::Signal(w::Signal {
            symbol: s.symbol.clone(),
            score: s.score,
            confidence: s.confidence,
            horizon_ns: s.horizon_ns,
        }),
        P::OrderIntent(o) => w::Payload::OrderIntent(o.as_ref().into()),
        P::OrderEvent(e) => w::Payload::OrderEvent(w::OrderEvent {
            order_id: e.order_id.to_string(),
            agent: e.agent.to_string(),
            tag: e.tag.to_string(),
            symbol: e.symbol.to_string(),
            side: e.side.into(),
            status: status_to_wit(&e.status),
            last_quantity: e.last_quantity,
            last_price: e.last_price,
            cumulative_quantity: e.cumulative_quantity,
            leaves_quantity: e.leaves_quantity,
            fee: e.fee,
        }),
        P::RiskVerdict(v) => w::Payload::RiskVerdict(match v {
            model::RiskVerdict::Approve => w::RiskVerdict::Approve,
            model::RiskVerdict::Resize { quantity } => w::RiskVerdict::Resize(*quantity),
            model::RiskVerdict::Reject { reason } => w::RiskVerdict::Reject(reason.clone()),
        }),
        P::Timer(t) => w::Payload::Timer(w::Timer {
            id: t.id.clone(),
            due: t.due,
        }),
        P::NoReply(why) => w::Payload::NoReply(why.clone()),
        P::Custom(bytes) => w::Payload::Custom(bytes.clone()),
    }
}

/// Guest payload → host payload.
pub fn payload_from_wit(p: w::Payload) -> model::Payload {
    use model::Payload as P;
    match p {
        w::Payload::Quote(q) => P::Quote(model::Quote {
            symbol: q.symbol.into(),
            bid: q.bid,
            bid_size: q.bid_size,
            ask: q.ask,
            ask_size: q.ask_size,
        }),
        w::Payload::Trade(t) => P::Trade(model::Trade {
            symbol: t.symbol.into(),
            price: t.price,
            size: t.size,
            aggressor: t.aggressor.into(),
            trade_id: t.trade_id,
        }),
        w::Payload::Book(b) => P::Book(Box::new(model::Book {
            symbol: b.symbol,
            bids: levels_from_wit(b.bids),
            asks: levels_from_wit(b.asks),
        })),
        w::Payload::News(n) => P::News(Box::new(model::News {
            headline: n.headline,
            source: n.source,
            symbols: n.symbols,
        })),
        w::Payload::Signal(s) => P::Signal(model::Signal {
            symbol: s.symbol,
            score: s.score,
            confidence: s.confidence,
            horizon_ns: s.horizon_ns,
        }),
        w::Payload::OrderIntent(o) => P::OrderIntent(Box::new(o.into())),
        w::Payload::OrderEvent(e) => P::OrderEvent(Box::new(model::OrderEvent {
            order_id: e.order_id.into(),
            agent: e.agent.into(),
            tag: e.tag.into(),
            symbol: e.symbol.into(),
            side: e.side.into(),
            status: status_from_wit(e.status),
            last_quantity: e.last_quantity,
            last_price: e.last_price,
            cumulative_quantity: e.cumulative_quantity,
            leaves_quantity: e.leaves_quantity,
            fee: e.fee,
        })),
        w::Payload::RiskVerdict(v) => P::RiskVerdict(match v {
            w::RiskVerdict::Approve => model::RiskVerdict::Approve,
            w::RiskVerdict::Resize(quantity) => model::RiskVerdict::Resize { quantity },
            w::RiskVerdict::Reject(reason) => model::RiskVerdict::Reject { reason },
        }),
        w::Payload::Timer(t) => P::Timer(model::Timer {
            id: t.id,
            due: t.due,
        }),
        w::Payload::NoReply(why) => P::NoReply(why),
        w::Payload::Custom(bytes) => P::Custom(bytes),
    }
}

/// Host envelope → guest envelope.
pub fn envelope_to_wit(e: &model::Envelope) -> w::Envelope {
    w::Envelope {
        id: e.id,
        topic: e.topic.to_string(),
        source: e.source.to_string(),
        sequence: e.sequence,
        event_time: e.event_time,
        trace_id: e.trace_id,
        correlation_id: e.correlation_id,
        attempt: e.attempt,
        payload: payload_to_wit(&e.payload),
    }
}

/// Overwrite `dst` with `src`, reusing `dst`'s strings: on the hot path
/// (a stream of ticks) this converts an envelope without allocating.
pub fn fill_envelope(dst: &mut w::Envelope, src: &model::Envelope) {
    dst.id = src.id;
    dst.topic.clear();
    dst.topic.push_str(&src.topic);
    dst.source.clear();
    dst.source.push_str(&src.source);
    dst.sequence = src.sequence;
    dst.event_time = src.event_time;
    dst.trace_id = src.trace_id;
    dst.correlation_id = src.correlation_id;
    dst.attempt = src.attempt;
    match (&mut dst.payload, &src.payload) {
        (w::Payload::Quote(d), model::Payload::Quote(q)) => {
            d.symbol.clear();
            d.symbol.push_str(&q.symbol);
            d.bid = q.bid;
            d.bid_size = q.bid_size;
            d.ask = q.ask;
            d.ask_size = q.ask_size;
        }
        (w::Payload::Trade(d), model::Payload::Trade(t)) => {
            d.symbol.clear();
            d.symbol.push_str(&t.symbol);
            d.price = t.price;
            d.size = t.size;
            d.aggressor = t.aggressor.into();
            d.trade_id = t.trade_id;
        }
        (d, p) => *d = payload_to_wit(p),
    }
}

/// Guest output → host output.
pub fn output_from_wit(o: w::Output) -> model::Output {
    match o {
        w::Output::Publish(p) => model::Output::Publish {
            topic: p.topic,
            payload: payload_from_wit(p.payload),
        },
        w::Output::Order(intent) => model::Output::Order {
            intent: intent.into(),
        },
        w::Output::Cancel(order_id) => model::Output::Cancel { order_id },
        w::Output::Replace(r) => model::Output::Replace {
            order_id: r.order_id,
            quantity: r.quantity,
            limit_price: r.limit_price,
        },
        w::Output::Reply(payload) => model::Output::Reply {
            payload: payload_from_wit(payload),
        },
        w::Output::Alert(message) => model::Output::Alert { message },
        w::Output::Request(r) => model::Output::Request {
            reference: r.ref_,
            topic: r.topic,
            payload: payload_from_wit(r.payload),
            timeout_ns: r.timeout_ns,
        },
    }
}

/// Size of a guest output before conversion, for the per-output byte cap.
/// Checked before converting, so an oversized output is never copied twice.
pub fn wit_output_size(o: &w::Output) -> usize {
    match o {
        w::Output::Publish(p) => p.topic.len() + wit_payload_size(&p.payload),
        w::Output::Order(i) => 64 + i.symbol.len() + i.tag.len(),
        w::Output::Cancel(id) => id.len(),
        w::Output::Replace(r) => 16 + r.order_id.len(),
        w::Output::Reply(p) => wit_payload_size(p),
        w::Output::Request(r) => r.topic.len() + wit_payload_size(&r.payload),
        w::Output::Alert(m) => m.len(),
    }
}

fn wit_payload_size(p: &w::Payload) -> usize {
    64 + match p {
        w::Payload::Custom(b) => b.len(),
        w::Payload::News(n) => {
            n.headline.len() + n.source.len() + n.symbols.iter().map(String::len).sum::<usize>()
        }
        w::Payload::Book(b) => b.symbol.len() + 16 * (b.bids.len() + b.asks.len()),
        w::Payload::RiskVerdict(w::RiskVerdict::Reject(r)) => r.len(),
        w::Payload::OrderEvent(e) => {
            e.order_id.len() + e.agent.len() + e.tag.len() + e.symbol.len()
        }
        w::Payload::Timer(t) => t.id.len(),
        w::Payload::NoReply(why) => why.len(),
        _ => 32,
    }
}
