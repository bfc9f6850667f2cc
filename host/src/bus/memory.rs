//! The embedded, in-process bus.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::{Bus, Delivery, SubscriberId};
use crate::model::{Envelope, TopicPattern};

/// In-process bus: one FIFO queue, and a cache of which subscribers a
/// topic routes to (topics repeat, so matching patterns once per topic
/// keeps publishing O(subscribers of the topic)).
#[derive(Debug, Default)]
pub struct InProcessBus {
    subscriptions: Vec<(TopicPattern, SubscriberId)>,
    routes: HashMap<String, Arc<[SubscriberId]>>,
    queue: VecDeque<Delivery>,
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    fn route(&mut self, topic: &str) -> Arc<[SubscriberId]> {
        if let Some(r) = self.routes.get(topic) {
            return r.clone();
        }
        let mut subs: Vec<SubscriberId> = self
            .subscriptions
            .iter()
            .filter(|(p, _)| p.matches(topic))
            .map(|(_, s)| *s)
            .collect();
        subs.sort_unstable();
        subs.dedup();
        let r: Arc<[SubscriberId]> = subs.into();
        self.routes.insert(topic.to_string(), r.clone());
        r
    }
}

impl Bus for InProcessBus {
    fn subscribe(&mut self, subscriber: SubscriberId, pattern: TopicPattern) {
        self.subscriptions.push((pattern, subscriber));
        self.routes.clear();
    }

    fn publish(&mut self, envelope: Envelope, exclude: Option<SubscriberId>) -> usize {
        let route = self.route(&envelope.topic);
        let envelope = Arc::new(envelope);
        let mut n = 0;
        for &subscriber in route.iter().filter(|s| Some(**s) != exclude) {
            self.queue.push_back(Delivery {
                subscriber,
                envelope: envelope.clone(),
            });
            n += 1;
        }
        n
    }

    fn send_to(&mut self, subscriber: SubscriberId, envelope: Envelope) {
        self.queue.push_back(Delivery {
            subscriber,
            envelope: Arc::new(envelope),
        });
    }

    fn next(&mut self) -> Option<Delivery> {
        self.queue.pop_front()
    }

    fn pending(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Payload;

    fn env(topic: &str, id: u64) -> Envelope {
        Envelope {
            id,
            topic: topic.into(),
            source: "s".into(),
            sequence: id,
            event_time: 0,
            trace_id: id,
            correlation_id: None,
            payload: Payload::Custom(vec![]),
        }
    }

    #[test]
    fn delivers_in_order_once_per_subscriber_skipping_the_source() {
        let mut bus = InProcessBus::new();
        bus.subscribe(0, TopicPattern::parse("md.#").unwrap());
        bus.subscribe(0, TopicPattern::parse("md.tick.*").unwrap());
        bus.subscribe(1, TopicPattern::parse("md.tick.BTCUSDT").unwrap());
        assert_eq!(bus.publish(env("md.tick.BTCUSDT", 1), None), 2);
        assert_eq!(bus.publish(env("md.tick.ETHUSDT", 2), None), 1);
        assert_eq!(bus.publish(env("md.tick.BTCUSDT", 3), Some(1)), 1);
        assert_eq!(bus.publish(env("news.x.y", 4), None), 0);
        let got: Vec<(usize, u64)> = std::iter::from_fn(|| bus.next())
            .map(|d| (d.subscriber, d.envelope.id))
            .collect();
        assert_eq!(got, vec![(0, 1), (1, 1), (0, 2), (0, 3)]);
    }
}
