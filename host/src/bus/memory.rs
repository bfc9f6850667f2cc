//! The embedded, in-process bus.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::{Bus, Delivery, SubscriberId, TopicStats};
use crate::model::{Envelope, TopicPattern};

/// Where one topic goes, and its counters.
#[derive(Debug)]
struct Route {
    subscribers: Arc<[SubscriberId]>,
    reliable: bool,
    published: u64,
    delivered: u64,
}

/// In-process bus: one FIFO queue, and a cache of which subscribers a
/// topic routes to (topics repeat, so matching patterns once per topic
/// keeps publishing O(subscribers of the topic)); the cache also holds
/// the topic's counters.
#[derive(Debug, Default)]
pub struct InProcessBus {
    subscriptions: Vec<(TopicPattern, SubscriberId)>,
    reliable: Vec<TopicPattern>,
    routes: HashMap<String, Route>,
    queue: VecDeque<Delivery>,
}

impl InProcessBus {
    /// An empty bus on which every topic is best effort.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty bus whose topics matching `reliable` are delivered reliably.
    pub fn with_reliable(reliable: Vec<TopicPattern>) -> Self {
        Self {
            reliable,
            ..Self::default()
        }
    }

    fn classify(&self, topic: &str) -> bool {
        self.reliable.iter().any(|p| p.matches(topic))
    }

    fn subscribers_of(&self, topic: &str) -> Arc<[SubscriberId]> {
        let mut subs: Vec<SubscriberId> = self
            .subscriptions
            .iter()
            .filter(|(p, _)| p.matches(topic))
            .map(|(_, s)| *s)
            .collect();
        subs.sort_unstable();
        subs.dedup();
        subs.into()
    }

    /// The subscribers of `topic`, how many get this publication, and the
    /// topic's delivery class (decided once, when the topic is first seen);
    /// counts the publication.
    fn route(
        &mut self,
        topic: &str,
        exclude: Option<SubscriberId>,
    ) -> (Arc<[SubscriberId]>, usize, bool) {
        let count = |subs: &[SubscriberId]| subs.iter().filter(|s| Some(**s) != exclude).count();
        // One hash lookup on the hot path (a known topic).
        if let Some(r) = self.routes.get_mut(topic) {
            let n = count(&r.subscribers);
            r.published += 1;
            r.delivered += n as u64;
            return (r.subscribers.clone(), n, r.reliable);
        }
        let subscribers = self.subscribers_of(topic);
        let n = count(&subscribers);
        let reliable = self.classify(topic);
        self.routes.insert(
            topic.to_string(),
            Route {
                subscribers: subscribers.clone(),
                reliable,
                published: 1,
                delivered: n as u64,
            },
        );
        (subscribers, n, reliable)
    }
}

impl Bus for InProcessBus {
    fn subscribe(&mut self, subscriber: SubscriberId, pattern: TopicPattern) {
        self.subscriptions.push((pattern, subscriber));
        // Re-route known topics, keeping their counters.
        let topics: Vec<String> = self.routes.keys().cloned().collect();
        for t in topics {
            let subs = self.subscribers_of(&t);
            if let Some(r) = self.routes.get_mut(&t) {
                r.subscribers = subs;
            }
        }
    }

    fn publish(&mut self, envelope: Envelope, exclude: Option<SubscriberId>) -> usize {
        let (subscribers, n, reliable) = self.route(&envelope.topic, exclude);
        let envelope = Arc::new(envelope);
        for &subscriber in subscribers.iter().filter(|s| Some(**s) != exclude) {
            self.queue.push_back(Delivery {
                subscriber,
                envelope: envelope.clone(),
                reliable,
            });
        }
        n
    }

    fn send_to(&mut self, subscriber: SubscriberId, envelope: Envelope) {
        let reliable = match self.routes.get(&envelope.topic) {
            Some(r) => r.reliable,
            None => self.classify(&envelope.topic),
        };
        self.queue.push_back(Delivery {
            subscriber,
            envelope: Arc::new(envelope),
            reliable,
        });
    }

    fn next(&mut self) -> Option<Delivery> {
        self.queue.pop_front()
    }

    fn pending(&self) -> usize {
        self.queue.len()
    }

    fn subscribers(&mut self, topic: &str) -> Arc<[SubscriberId]> {
        match self.routes.get(topic) {
            Some(r) => r.subscribers.clone(),
            None => self.subscribers_of(topic),
        }
    }

    fn topic_stats(&self) -> Vec<TopicStats> {
        let mut v: Vec<TopicStats> = self
            .routes
            .iter()
            .map(|(topic, r)| TopicStats {
                topic: topic.clone(),
                published: r.published,
                delivered: r.delivered,
            })
            .collect();
        v.sort_by(|a, b| a.topic.cmp(&b.topic));
        v
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
            attempt: 1,
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
        let stats = bus.topic_stats();
        let btc = stats.iter().find(|t| t.topic == "md.tick.BTCUSDT").unwrap();
        assert_eq!((btc.published, btc.delivered), (2, 3));
        let news = stats.iter().find(|t| t.topic == "news.x.y").unwrap();
        assert_eq!((news.published, news.delivered), (1, 0));
    }

    #[test]
    fn the_delivery_class_is_decided_per_topic() {
        let mut bus = InProcessBus::with_reliable(vec![TopicPattern::parse("order.#").unwrap()]);
        bus.subscribe(0, TopicPattern::parse("#").unwrap());
        bus.publish(env("order.filled.X", 1), None);
        bus.publish(env("md.tick.X", 2), None);
        bus.send_to(0, env("order.filled.Y", 3));
        let classes: Vec<bool> = std::iter::from_fn(|| bus.next())
            .map(|d| d.reliable)
            .collect();
        assert_eq!(classes, [true, false, true]);
    }

    #[test]
    fn a_late_subscription_reroutes_known_topics_and_keeps_counts() {
        let mut bus = InProcessBus::new();
        assert_eq!(bus.publish(env("signal.trend.X", 1), None), 0);
        bus.subscribe(3, TopicPattern::parse("signal.#").unwrap());
        assert_eq!(bus.publish(env("signal.trend.X", 2), None), 1);
        let s = &bus.topic_stats()[0];
        assert_eq!((s.published, s.delivered), (2, 1));
    }
}
