//! [`Outputs`]: what an agent asks the host to do after one message.

use crate::bindings::floor::agent::types::{Output, Publication, Replacement, Request};
use crate::{OrderIntent, OrderType, Payload, Side, TimeInForce};

/// The outputs of one call, in order. The host checks every output against
/// the agent's rights and limits; if any breaks them, none is acted on.
#[derive(Debug, Default)]
pub struct Outputs(Vec<Output>);

impl Outputs {
    /// Publish `payload` on `topic`.
    pub fn publish(&mut self, topic: impl Into<String>, payload: Payload) {
        self.0.push(Output::Publish(Publication {
            topic: topic.into(),
            payload,
        }));
    }

    /// Send an order intent through risk and the host's limits.
    pub fn order(&mut self, intent: OrderIntent) {
        self.0.push(Output::Order(intent));
    }

    /// A market order for `quantity` of `symbol`.
    pub fn market(&mut self, symbol: &str, side: Side, quantity: f64, tag: &str) {
        self.order(market(symbol, side, quantity, None, tag));
    }

    /// A market order for `quantity` of `symbol` with a protective stop at
    /// `stop`: once it fills, the host holds the stop and closes what it
    /// opened if the market reaches it (tag `stop:<order id>`).
    pub fn market_with_stop(
        &mut self,
        symbol: &str,
        side: Side,
        quantity: f64,
        stop: f64,
        tag: &str,
    ) {
        self.order(market(symbol, side, quantity, Some(stop), tag));
    }

    /// A good-till-cancelled limit order.
    pub fn limit(&mut self, symbol: &str, side: Side, quantity: f64, price: f64, tag: &str) {
        self.order(OrderIntent {
            symbol: symbol.to_string(),
            side,
            order_type: OrderType::Limit,
            quantity,
            limit_price: Some(price),
            time_in_force: TimeInForce::Gtc,
            tag: tag.to_string(),
            stop_price: None,
        });
    }

    /// Cancel an open order by its host-assigned id.
    pub fn cancel(&mut self, order_id: impl Into<String>) {
        self.0.push(Output::Cancel(order_id.into()));
    }

    /// Replace a working order of ours: `quantity` in all (what it filled
    /// already counts), at `limit_price` (none keeps the old price). The
    /// host cancels it and, once that is confirmed, sends the new order —
    /// with a new id, the same tag — through risk and its limits again.
    pub fn replace(
        &mut self,
        order_id: impl Into<String>,
        quantity: f64,
        limit_price: Option<f64>,
    ) {
        self.0.push(Output::Replace(Replacement {
            order_id: order_id.into(),
            quantity,
            limit_price,
        }));
    }

    /// Answer the request being handled.
    pub fn reply(&mut self, payload: Payload) {
        self.0.push(Output::Reply(payload));
    }

    /// Ask the agent that serves `topic`. One answer comes back later as a
    /// message on `topic` whose `correlation_id` is `reference`: the reply,
    /// or [`Payload::NoReply`] with the reason. The responder gets at most
    /// `timeout_ns` of wall-clock time (and never more than its own deadline).
    pub fn request(
        &mut self,
        reference: u64,
        topic: impl Into<String>,
        payload: Payload,
        timeout_ns: u64,
    ) {
        self.0.push(Output::Request(Request {
            ref_: reference,
            topic: topic.into(),
            payload,
            timeout_ns,
        }));
    }

    /// Raise an alert for operators.
    pub fn alert(&mut self, message: impl Into<String>) {
        self.0.push(Output::Alert(message.into()));
    }

    /// Number of outputs so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn into_inner(self) -> Vec<Output> {
        self.0
    }
}

fn market(symbol: &str, side: Side, quantity: f64, stop: Option<f64>, tag: &str) -> OrderIntent {
    OrderIntent {
        symbol: symbol.to_string(),
        side,
        order_type: OrderType::Market,
        quantity,
        limit_price: None,
        time_in_force: TimeInForce::Ioc,
        tag: tag.to_string(),
        stop_price: stop,
    }
}
