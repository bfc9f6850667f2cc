//! The bus: how messages get from producers (venues, agents, the host) to
//! subscribers.
//!
//! [`Bus`] is the one interface; [`InProcessBus`] is the embedded
//! implementation. The host stamps every envelope ([`Stamper`]): id, source,
//! per-source sequence, event time, trace and correlation ids — an agent
//! cannot forge any of them. Delivery is FIFO across the whole bus, which
//! gives per-source order and makes a run a function of its inputs.
//! Reliable topics are retried when their subscriber faults ([`retry`]);
//! the node parks that subscriber's later messages meanwhile, so the order
//! still holds.
//! At-least-once delivery with retries, bounded inboxes with backpressure
//! and a Kafka backend implement this same trait later.

pub mod clock;
pub mod dedup;
pub mod inbound;
pub mod latency;
mod memory;
pub mod retry;
mod stamp;

use std::sync::Arc;

pub use dedup::DedupWindow;
pub use latency::{Latency, LatencySummary};
pub use memory::InProcessBus;
pub use retry::RetryPolicy;
pub use stamp::{Stamper, Taken};

use crate::model::{Envelope, Name, TopicPattern};

/// Index of a subscriber (an agent slot in the node).
pub type SubscriberId = usize;

/// One message for one subscriber.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Who gets it.
    pub subscriber: SubscriberId,
    /// What they get (shared between all subscribers of one publication).
    pub envelope: Arc<Envelope>,
    /// The topic's delivery class: reliable (at least once, de-duplicated,
    /// retried, never conflated) or best effort. Decided once per topic.
    pub reliable: bool,
    /// When it was queued ([`clock::now_ns`]), for delivery latency.
    pub queued_at: u64,
}

/// What [`Bus::hand`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Nothing: publish it.
    Not,
    /// Counted for its one subscriber.
    Alone,
    /// Counted for its subscriber and the tap: give it to the tap.
    Tapped,
}

/// Something that happened to a message on a topic after the bus handed
/// it out; the node tells the bus, which counts it per topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicEvent {
    /// A handler was entered for it, after waiting this long since it was
    /// queued, ns.
    Handled(u64),
    /// Tried again after its handler faulted.
    Retried,
    /// Not delivered again: the subscriber had its id already.
    Deduplicated,
    /// Replaced, while waiting, by a newer message on the same topic.
    Conflated,
    /// Put in the dead-letter queue.
    DeadLettered,
    /// Its handler overstepped its rights (`publish_denied`,
    /// `order_denied`).
    Denied,
}

/// Counters for one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TopicStats {
    /// Topic ([`OTHER_TOPICS`] for the topics past the bus's cap).
    pub topic: String,
    /// Messages published on it (or sent to one subscriber).
    pub published: u64,
    /// Deliveries queued for subscribers (a message with no subscriber has none).
    pub delivered: u64,
    /// Deliveries tried again after a fault.
    pub retried: u64,
    /// Deliveries skipped as duplicates.
    pub deduplicated: u64,
    /// Waiting messages replaced by a newer one.
    pub conflated: u64,
    /// Messages dead-lettered.
    pub dead_lettered: u64,
    /// Messages whose handler overstepped its rights.
    pub denied: u64,
    /// Queued → handler entry.
    pub latency: LatencySummary,
}

/// The name topic counters go under once the bus counts
/// [`MAX_TOPICS`] topics: an agent with wide publish rights cannot grow
/// the host's memory without bound by publishing on ever new topics.
pub const OTHER_TOPICS: &str = "(other topics)";

/// Topics counted (and routes cached) one by one.
pub const MAX_TOPICS: usize = 10_000;

/// A message bus.
pub trait Bus: Send {
    /// Deliver messages whose topic matches `pattern` to `subscriber`.
    fn subscribe(&mut self, subscriber: SubscriberId, pattern: TopicPattern);
    /// Queue `envelope` for every matching subscriber except its source
    /// `exclude` (an agent does not get its own publications); returns how
    /// many deliveries were queued.
    fn publish(&mut self, envelope: Envelope, exclude: Option<SubscriberId>) -> usize {
        self.publish_shared(std::sync::Arc::new(envelope), exclude)
    }
    /// [`Bus::publish`] of an envelope already shared (one an agent took
    /// in a run before the node published it, also held by its checkpoint).
    fn publish_shared(
        &mut self,
        envelope: std::sync::Arc<Envelope>,
        exclude: Option<SubscriberId>,
    ) -> usize;
    /// Queue `envelope` for one subscriber regardless of subscriptions
    /// (execution reports to the agent that owns the order).
    fn send_to(&mut self, subscriber: SubscriberId, envelope: Envelope) {
        self.send_to_shared(subscriber, std::sync::Arc::new(envelope));
    }
    /// [`Bus::send_to`] of an envelope also published (an order event
    /// goes to its owner and to `order.*`): shared, not copied.
    fn send_to_shared(&mut self, subscriber: SubscriberId, envelope: std::sync::Arc<Envelope>);
    /// A message already handled by `to` (an agent took it in a run of
    /// market events before the node published it): if `to` is its
    /// topic's one subscriber, or its subscribers are `to` and `tap` (a
    /// subscriber that only keeps what it is given), and the topic is not
    /// reliable, count it as published, delivered (to both) and handled
    /// at once (it waited for nothing) without queueing it, and say which
    /// ([`Handed::Tapped`]: the caller gives it to `tap` itself, before
    /// anything its handling publishes, as the queue would have).
    /// Otherwise count nothing and return [`Handed::Not`]: publish it
    /// ([`Bus::publish_shared`]) to have it delivered.
    fn hand(&mut self, topic: &Name, to: SubscriberId, tap: Option<SubscriberId>) -> Handed {
        let _ = (topic, to, tap);
        Handed::Not
    }
    /// The next delivery, in publication order.
    fn next(&mut self) -> Option<Delivery>;
    /// Deliveries waiting.
    fn pending(&self) -> usize;
    /// Who subscribes to `topic`, in subscriber order (for request/reply:
    /// the first one serves a request).
    fn subscribers(&mut self, topic: &str) -> Arc<[SubscriberId]>;
    /// Count `event` for `topic`.
    fn note(&mut self, topic: &str, event: TopicEvent);
    /// Counters per topic, sorted by topic.
    fn topic_stats(&self) -> Vec<TopicStats>;
}
