//! The embedded, in-process bus.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::clock::now_ns;
use super::{
    Bus, Delivery, Handed, Latency, MAX_TOPICS, OTHER_TOPICS, SubscriberId, TopicEvent, TopicStats,
};
use crate::model::{Envelope, Key, Name, TopicPattern};

/// Where one topic goes, and its counters.
#[derive(Debug, Clone)]
struct Route {
    subscribers: Arc<[SubscriberId]>,
    reliable: bool,
    counts: Counts,
}

/// One topic's counters (or those of all topics past the cap).
#[derive(Debug, Clone, Default)]
struct Counts {
    published: u64,
    delivered: u64,
    retried: u64,
    deduplicated: u64,
    conflated: u64,
    dead_lettered: u64,
    denied: u64,
    /// Made on the first handled delivery that waited: topics nobody
    /// handles cost none.
    latency: Option<Box<Latency>>,
    /// Deliveries handled without waiting (a run's events): counted here
    /// and added to `latency` when it is read, not recorded one by one on
    /// the hot path.
    at_once: u64,
}

impl Counts {
    fn note(&mut self, event: TopicEvent) {
        match event {
            TopicEvent::Handled(0) => self.at_once += 1,
            TopicEvent::Handled(ns) => self
                .latency
                .get_or_insert_with(|| Box::new(Latency::new(1)))
                .record(ns),
            TopicEvent::Retried => self.retried += 1,
            TopicEvent::Deduplicated => self.deduplicated += 1,
            TopicEvent::Conflated => self.conflated += 1,
            TopicEvent::DeadLettered => self.dead_lettered += 1,
            TopicEvent::Denied => self.denied += 1,
        }
    }

    fn stats(&self, topic: &str) -> TopicStats {
        TopicStats {
            topic: topic.to_string(),
            published: self.published,
            delivered: self.delivered,
            retried: self.retried,
            deduplicated: self.deduplicated,
            conflated: self.conflated,
            dead_lettered: self.dead_lettered,
            denied: self.denied,
            latency: match (&self.latency, self.at_once) {
                (l, 0) => l.as_ref().map(|l| l.summary()).unwrap_or_default(),
                (l, n) => {
                    let mut all = l.as_deref().cloned().unwrap_or_else(|| Latency::new(1));
                    all.record_n(0, n);
                    all.summary()
                }
            },
        }
    }
}

/// In-process bus: one FIFO queue, and a cache of which subscribers a
/// topic routes to (topics repeat, so matching patterns once per topic
/// keeps publishing O(subscribers of the topic)); the cache also holds
/// the topic's counters. Past [`MAX_TOPICS`] topics, new ones are routed
/// afresh each time and counted together under [`OTHER_TOPICS`].
#[derive(Debug, Default)]
pub struct InProcessBus {
    subscriptions: Vec<(TopicPattern, SubscriberId)>,
    reliable: Vec<TopicPattern>,
    /// Keyed by topics agents choose: foldhash, seeded per process (no
    /// chosen collisions), at a fraction of SipHash's cost, looked up on
    /// every publish and every delivery. A key is the [`Name`] that first
    /// asked for its route, so a lookup with an envelope's own topic
    /// (shared with the key, from the node's topic cache) compares no text.
    routes: HashMap<Name, Route, foldhash::fast::RandomState>,
    other: Counts,
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

    /// `f` on the route of `topic` (its subscribers, its delivery class,
    /// its counters): cached, made on first sight, or, past the cap, made
    /// afresh with the shared counters.
    fn with_route<Q, R>(
        &mut self,
        topic: &Q,
        f: impl FnOnce(&Arc<[SubscriberId]>, bool, &mut Counts) -> R,
    ) -> R
    where
        Q: Key + ?Sized,
        Name: Borrow<Q>,
    {
        // One hash lookup on the hot path (a known topic).
        if let Some(r) = self.routes.get_mut(topic) {
            return f(&r.subscribers, r.reliable, &mut r.counts);
        }
        let subscribers = self.subscribers_of(topic.text());
        let reliable = self.classify(topic.text());
        if self.routes.len() >= MAX_TOPICS {
            return f(&subscribers, reliable, &mut self.other);
        }
        let r = self.routes.entry(topic.to_name()).or_insert_with(|| Route {
            subscribers,
            reliable,
            counts: Counts::default(),
        });
        f(&r.subscribers, r.reliable, &mut r.counts)
    }
}

impl Bus for InProcessBus {
    fn subscribe(&mut self, subscriber: SubscriberId, pattern: TopicPattern) {
        self.subscriptions.push((pattern, subscriber));
        // Re-route known topics, keeping their counters.
        let topics: Vec<Name> = self.routes.keys().cloned().collect();
        for t in topics {
            let subs = self.subscribers_of(&t);
            if let Some(r) = self.routes.get_mut(&t) {
                r.subscribers = subs;
            }
        }
    }

    fn publish_shared(&mut self, envelope: Arc<Envelope>, exclude: Option<SubscriberId>) -> usize {
        let (subscribers, reliable, n) = self.with_route(&envelope.topic, |subs, reliable, c| {
            let n = subs.iter().filter(|s| Some(**s) != exclude).count();
            c.published += 1;
            c.delivered += n as u64;
            (subs.clone(), reliable, n)
        });
        if n == 0 {
            return 0;
        }
        let queued_at = now_ns();
        for &subscriber in subscribers.iter().filter(|s| Some(**s) != exclude) {
            self.queue.push_back(Delivery {
                subscriber,
                envelope: envelope.clone(),
                reliable,
                queued_at,
            });
        }
        n
    }

    fn send_to_shared(&mut self, subscriber: SubscriberId, envelope: Arc<Envelope>) {
        let reliable = self.with_route(&envelope.topic, |_, reliable, c| {
            c.published += 1;
            c.delivered += 1;
            reliable
        });
        self.queue.push_back(Delivery {
            subscriber,
            envelope,
            reliable,
            queued_at: now_ns(),
        });
    }

    fn hand(&mut self, topic: &Name, to: SubscriberId, tap: Option<SubscriberId>) -> Handed {
        self.with_route(topic, |subs, reliable, c| {
            let handed = match subs[..] {
                _ if reliable => Handed::Not,
                [only] if only == to => Handed::Alone,
                [a, b] if tap.is_some_and(|t| (a, b) == (to, t) || (a, b) == (t, to)) => {
                    Handed::Tapped
                }
                _ => Handed::Not,
            };
            if handed != Handed::Not {
                c.published += 1;
                c.delivered += if handed == Handed::Tapped { 2 } else { 1 };
                c.note(TopicEvent::Handled(0));
            }
            handed
        })
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

    fn note(&mut self, topic: &str, event: TopicEvent) {
        self.with_route(topic, |_, _, c| c.note(event));
    }

    fn topic_stats(&self) -> Vec<TopicStats> {
        let mut v: Vec<TopicStats> = self
            .routes
            .iter()
            .map(|(topic, r)| r.counts.stats(topic))
            .collect();
        v.sort_by(|a, b| a.topic.cmp(&b.topic));
        if self.other.published > 0 || self.other.dead_lettered > 0 || self.other.denied > 0 {
            v.push(self.other.stats(OTHER_TOPICS));
        }
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
    fn a_message_handed_to_its_one_subscriber_is_counted_not_queued() {
        let mut bus = InProcessBus::with_reliable(vec![TopicPattern::parse("order.#").unwrap()]);
        bus.subscribe(0, TopicPattern::parse("md.#").unwrap());
        bus.subscribe(0, TopicPattern::parse("order.#").unwrap());
        bus.subscribe(1, TopicPattern::parse("md.trade.*").unwrap());
        let hand =
            |bus: &mut InProcessBus, topic: &str, to, tap| bus.hand(&Name::from(topic), to, tap);
        assert_eq!(hand(&mut bus, "md.tick.X", 0, None), Handed::Alone);
        assert_eq!(
            hand(&mut bus, "md.tick.X", 1, None),
            Handed::Not,
            "not its subscriber"
        );
        assert_eq!(
            hand(&mut bus, "md.trade.X", 0, None),
            Handed::Not,
            "another subscribes too"
        );
        assert_eq!(
            hand(&mut bus, "order.filled.X", 0, Some(1)),
            Handed::Not,
            "reliable"
        );
        // The other subscriber as a tap: both counted, nothing queued.
        assert_eq!(hand(&mut bus, "md.trade.Y", 0, Some(1)), Handed::Tapped);
        assert_eq!(hand(&mut bus, "md.trade.Y", 1, Some(0)), Handed::Tapped);
        assert_eq!(
            hand(&mut bus, "md.tick.Y", 0, Some(1)),
            Handed::Alone,
            "no tap on it"
        );
        assert_eq!(bus.pending(), 0);
        let stats = bus.topic_stats();
        let counts = |topic: &str| {
            let t = stats.iter().find(|t| t.topic == topic).unwrap();
            (t.published, t.delivered, t.latency.count)
        };
        assert_eq!(counts("md.tick.X"), (1, 1, 1));
        assert_eq!(counts("md.trade.Y"), (2, 4, 2));
        assert_eq!(counts("md.trade.X"), (0, 0, 0));
        assert_eq!(counts("order.filled.X"), (0, 0, 0));
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

    #[test]
    fn what_happens_after_delivery_is_counted_per_topic() {
        let mut bus = InProcessBus::new();
        bus.subscribe(0, TopicPattern::parse("#").unwrap());
        bus.publish(env("signal.a.X", 1), None);
        bus.send_to(0, env("order.filled.X", 2));
        for e in [
            TopicEvent::Handled(1_000),
            TopicEvent::Handled(3_000),
            TopicEvent::Retried,
            TopicEvent::Deduplicated,
            TopicEvent::Conflated,
            TopicEvent::DeadLettered,
            TopicEvent::Denied,
        ] {
            bus.note("signal.a.X", e);
        }
        let stats = bus.topic_stats();
        let order = stats.iter().find(|t| t.topic == "order.filled.X").unwrap();
        assert_eq!((order.published, order.delivered), (1, 1), "send_to counts");
        let s = stats.iter().find(|t| t.topic == "signal.a.X").unwrap();
        assert_eq!(
            (
                s.retried,
                s.deduplicated,
                s.conflated,
                s.dead_lettered,
                s.denied
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(s.latency.count, 2);
        assert!((960..=1_040).contains(&s.latency.p50_ns), "{:?}", s.latency);
        assert!(
            (2_880..=3_120).contains(&s.latency.max_ns),
            "{:?}",
            s.latency
        );
    }

    #[test]
    fn topics_past_the_cap_are_routed_but_counted_together() {
        let mut bus = InProcessBus::new();
        bus.subscribe(7, TopicPattern::parse("spam.#").unwrap());
        for i in 0..MAX_TOPICS as u64 + 5 {
            assert_eq!(bus.publish(env(&format!("spam.t{i}"), i), None), 1);
        }
        bus.note("spam.fresh", TopicEvent::Denied);
        let stats = bus.topic_stats();
        assert_eq!(stats.len(), MAX_TOPICS + 1);
        let other = stats.last().unwrap();
        assert_eq!(other.topic, OTHER_TOPICS);
        assert_eq!((other.published, other.delivered, other.denied), (5, 5, 1));
        assert_eq!(std::iter::from_fn(|| bus.next()).count(), MAX_TOPICS + 5);
    }
}
