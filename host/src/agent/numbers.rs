//! Numbers for the names an order event or an order intent carries
//! (`wit/market.wit`, exports `orders` and `intents`).
//!
//! An agent that exports `orders` gets order events as numbers: the
//! envelope's topic, source and symbol become a stream number
//! ([`super::streams`]), and the order's id, agent and tag one order
//! number. One that exports `intents` gets an intent's tag as a tag
//! number. The guest names a number through `streams.order-of` or
//! `streams.tag-of` the first time it meets it. Numbers are per instance
//! (a fresh instance starts again from 1, and so does its guest's memory
//! of them), one per order or tag, and the last [`KEPT`] are remembered:
//! the guest asks during the call that carries a new number, so that is
//! always enough, and an agent that tags every order differently cannot
//! grow the table.

use std::collections::{HashMap, VecDeque};

use crate::model::Name;

/// Names whose numbers are remembered.
pub const KEPT: usize = 64;

/// One instance's numbers for one kind of name: the last [`KEPT`] keys
/// with what else each stands for, newest last, numbered without gaps up
/// to `last`, and found by key.
#[derive(Debug)]
pub struct Numbers<V> {
    /// The number of the newest key (0 before the first).
    last: u64,
    recent: VecDeque<(Name, V)>,
    by_key: HashMap<Name, u64, foldhash::fast::RandomState>,
}

impl<V> Default for Numbers<V> {
    fn default() -> Self {
        Self {
            last: 0,
            recent: VecDeque::new(),
            by_key: HashMap::default(),
        }
    }
}

impl<V> Numbers<V> {
    /// The number of `key`: the one it was given, if it is among the last
    /// [`KEPT`], else the next (standing for `key` and `with()`).
    pub fn number(&mut self, key: &Name, with: impl FnOnce() -> V) -> u64 {
        if let Some(&n) = self.by_key.get(key) {
            return n;
        }
        if self.recent.len() == KEPT
            && let Some((gone, _)) = self.recent.pop_front()
        {
            self.by_key.remove(&gone);
        }
        self.last += 1;
        self.recent.push_back((key.clone(), with()));
        self.by_key.insert(key.clone(), self.last);
        self.last
    }

    /// The key behind `number` and what else it stands for, if it is
    /// remembered.
    pub fn names(&self, number: u64) -> Option<(&Name, &V)> {
        let first = self.last + 1 - self.recent.len() as u64;
        let i = usize::try_from(number.checked_sub(first)?).ok()?;
        self.recent.get(i).map(|(k, v)| (k, v))
    }
}

/// Orders by id, each with its agent and tag.
pub type OrderNumbers = Numbers<(Name, Name)>;

/// Intents' tags.
pub type TagNumbers = Numbers<()>;

#[cfg(test)]
mod tests {
    use super::*;

    fn order(o: &OrderNumbers, n: u64) -> Option<(&str, &str, &str)> {
        o.names(n)
            .map(|(id, (agent, tag))| (id.as_str(), agent.as_str(), tag.as_str()))
    }

    #[test]
    fn an_order_keeps_its_number_and_names_it() {
        let mut o = OrderNumbers::default();
        let named = |agent: &str, tag: &str| {
            let (a, t) = (Name::from(agent), Name::from(tag));
            move || (a, t)
        };
        let first = o.number(&"trend-1".into(), named("trend", "trend"));
        let second = o.number(&"trend-2".into(), named("trend", "stop:trend-1"));
        assert_eq!((first, second), (1, 2));
        // Its next event, with an id that shares no memory with the first.
        assert_eq!(o.number(&Name::from("trend-1"), named("x", "y")), 1);
        assert_eq!(order(&o, 1), Some(("trend-1", "trend", "trend")));
        assert_eq!(order(&o, 2), Some(("trend-2", "trend", "stop:trend-1")));
        assert_eq!(order(&o, 3), None, "never given");
        assert_eq!(order(&o, 0), None);
    }

    #[test]
    fn only_the_last_names_are_remembered() {
        let mut t = TagNumbers::default();
        for i in 0..KEPT + 3 {
            t.number(&format!("tag-{i}").into(), || ());
        }
        assert_eq!(t.names(3), None);
        assert_eq!(t.names(4).map(|(k, ())| k.as_str()), Some("tag-3"));
        // A forgotten tag met again gets a new number.
        assert_eq!(t.number(&"tag-0".into(), || ()), KEPT as u64 + 4);
        assert_eq!(t.number(&"tag-3".into(), || ()), KEPT as u64 + 4 + 1);
        assert_eq!(t.number(&"tag-5".into(), || ()), 6, "still remembered");
    }
}
