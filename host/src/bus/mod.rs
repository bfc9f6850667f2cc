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

pub mod dedup;
mod memory;
pub mod retry;
mod stamp;

use std::sync::Arc;

pub use dedup::DedupWindow;
pub use memory::InProcessBus;
pub use retry::RetryPolicy;
pub use stamp::Stamper;

use crate::model::{Envelope, TopicPattern};

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
}

/// Counters for one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TopicStats {
    /// Topic.
    pub topic: String,
    /// Messages published on it.
    pub published: u64,
    /// Deliveries queued for subscribers (a message with no subscriber has none).
    pub delivered: u64,
}

/// A message bus.
pub trait Bus: Send {
    /// Deliver messages whose topic matches `pattern` to `subscriber`.
    fn subscribe(&mut self, subscriber: SubscriberId, pattern: TopicPattern);
    /// Queue `envelope` for every matching subscriber except its source
    /// `exclude` (an agent does not get its own publications); returns how
    /// many deliveries were queued.
    fn publish(&mut self, envelope: Envelope, exclude: Option<SubscriberId>) -> usize;
    /// Queue `envelope` for one subscriber regardless of subscriptions
    /// (execution reports to the agent that owns the order).
    fn send_to(&mut self, subscriber: SubscriberId, envelope: Envelope);
    /// The next delivery, in publication order.
    fn next(&mut self) -> Option<Delivery>;
    /// Deliveries waiting.
    fn pending(&self) -> usize;
    /// Who subscribes to `topic`, in subscriber order (for request/reply:
    /// the first one serves a request).
    fn subscribers(&mut self, topic: &str) -> Arc<[SubscriberId]>;
    /// Counters per topic, sorted by topic.
    fn topic_stats(&self) -> Vec<TopicStats>;
}
