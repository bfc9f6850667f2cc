//! The envelope every bus message travels in, its payloads, and the
//! outputs an agent returns.

use serde::{Deserialize, Serialize};

use super::{Book, Name, Nanos, OrderEvent, OrderIntent, Quote, RiskVerdict, Trade};

/// A headline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct News {
    /// Headline text.
    pub headline: String,
    /// Source.
    pub source: String,
    /// Tagged symbols.
    #[serde(default)]
    pub symbols: Vec<String>,
}

/// An opinion about a symbol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Symbol.
    pub symbol: String,
    /// -10 … +10.
    pub score: f64,
    /// 0 … 1.
    pub confidence: f64,
    /// How long it holds, ns.
    pub horizon_ns: u64,
}

/// A fired timer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timer {
    /// The agent's id for it.
    pub id: String,
    /// When it was due.
    pub due: Nanos,
}

/// What an envelope carries. JSON: `{"type": "quote", "value": {…}}`.
///
/// The rare large kinds are boxed: every envelope is as large as its
/// largest kind, and market data (most envelopes by far) is small. Boxed,
/// an envelope is 144 bytes instead of 224: less to copy when it is
/// stamped and less memory for an agent's checkpoint tail. Serialized
/// forms are the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Payload {
    /// Top of book.
    Quote(Quote),
    /// A print.
    Trade(Trade),
    /// Book levels.
    Book(Box<Book>),
    /// A headline.
    News(Box<News>),
    /// An opinion.
    Signal(Signal),
    /// An order intent (a risk request).
    OrderIntent(Box<OrderIntent>),
    /// An execution report.
    OrderEvent(Box<OrderEvent>),
    /// A risk verdict (a risk reply).
    RiskVerdict(RiskVerdict),
    /// A fired timer.
    Timer(Timer),
    /// A request got no reply; why.
    NoReply(String),
    /// Opaque bytes.
    Custom(Vec<u8>),
}

impl Payload {
    /// Approximate encoded size in bytes, used for the per-output cap.
    pub fn size_hint(&self) -> usize {
        const FIXED: usize = 64;
        FIXED
            + match self {
                Payload::Quote(q) => q.symbol.len(),
                Payload::Trade(t) => t.symbol.len(),
                Payload::Book(b) => b.symbol.len() + 16 * (b.bids.len() + b.asks.len()),
                Payload::News(n) => {
                    n.headline.len()
                        + n.source.len()
                        + n.symbols.iter().map(String::len).sum::<usize>()
                }
                Payload::Signal(s) => s.symbol.len(),
                Payload::OrderIntent(o) => o.symbol.len() + o.tag.len(),
                Payload::OrderEvent(e) => {
                    e.order_id.len() + e.agent.len() + e.tag.len() + e.symbol.len()
                }
                Payload::RiskVerdict(RiskVerdict::Reject { reason }) => reason.len(),
                Payload::RiskVerdict(_) => 0,
                Payload::Timer(t) => t.id.len(),
                Payload::NoReply(why) => why.len(),
                Payload::Custom(bytes) => bytes.len(),
            }
    }
}

impl From<super::MarketEvent> for Payload {
    fn from(event: super::MarketEvent) -> Self {
        match event {
            super::MarketEvent::Quote(q) => Payload::Quote(q),
            super::MarketEvent::Trade(t) => Payload::Trade(t),
        }
    }
}

/// A bus message. The host fills every field; agents cannot forge them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Unique id within the host.
    #[serde(default)]
    pub id: u64,
    /// `<domain>.<action>.<status>`.
    pub topic: Name,
    /// Producing agent or host component.
    #[serde(default)]
    pub source: Name,
    /// Per-source sequence number from 1.
    #[serde(default)]
    pub sequence: u64,
    /// Event time, ns.
    #[serde(default)]
    pub event_time: Nanos,
    /// Shared by everything one input caused.
    #[serde(default)]
    pub trace_id: u64,
    /// Request/reply pairing.
    #[serde(default)]
    pub correlation_id: Option<u64>,
    /// Delivery attempt to the receiving agent, from 1.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// Content.
    pub payload: Payload,
}

fn first_attempt() -> u32 {
    1
}

/// One thing an agent asks the host to do.
/// JSON: `{"kind": "publish", "topic": …, "payload": {…}}` and so on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Output {
    /// Publish on a topic.
    Publish {
        /// Topic.
        topic: String,
        /// Content.
        payload: Payload,
    },
    /// Send an order.
    Order {
        /// The intent.
        intent: OrderIntent,
    },
    /// Cancel an order.
    Cancel {
        /// Host-assigned id.
        order_id: String,
    },
    /// Replace a working order (cancel, then a new order for what is still
    /// wanted).
    Replace {
        /// Host-assigned id of the order to replace.
        order_id: String,
        /// Total quantity wanted, including the old order's fills.
        quantity: f64,
        /// New limit price (none: keep the old one).
        #[serde(default)]
        limit_price: Option<f64>,
    },
    /// Reply to the request being handled.
    Reply {
        /// Content.
        payload: Payload,
    },
    /// Ask the agent that serves `topic`; one answer comes back with
    /// correlation id `reference`.
    Request {
        /// The requester's number for it.
        #[serde(rename = "ref")]
        reference: u64,
        /// Topic.
        topic: String,
        /// Content.
        payload: Payload,
        /// Wall-clock time the responder may take, ns.
        timeout_ns: u64,
    },
    /// Alert operators.
    Alert {
        /// Text.
        message: String,
    },
}

impl Output {
    /// Approximate encoded size in bytes, used for the per-output cap.
    pub fn size_hint(&self) -> usize {
        match self {
            Output::Publish { topic, payload } => topic.len() + payload.size_hint(),
            Output::Order { intent } => 64 + intent.symbol.len() + intent.tag.len(),
            Output::Cancel { order_id } => order_id.len(),
            Output::Replace { order_id, .. } => 16 + order_id.len(),
            Output::Reply { payload } => payload.size_hint(),
            Output::Request { topic, payload, .. } => topic.len() + payload.size_hint(),
            Output::Alert { message } => message.len(),
        }
    }
}
