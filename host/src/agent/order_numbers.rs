//! Order numbers for the `orders` export (`wit/market.wit`).
//!
//! An agent that exports `orders` gets order events as numbers: the
//! envelope's topic, source and symbol become a stream number
//! ([`super::streams`]), and the order's id, agent and tag one order
//! number, which the guest names through `streams.order-of` the first
//! time it meets it. Numbers are per instance (a fresh instance starts
//! again from 1, and so does its guest's memory of them), one per order,
//! and the last [`KEPT`] are remembered: the guest asks during the call
//! that carries a new number, so that is always enough.

use std::collections::{HashMap, VecDeque};

use crate::model::Name;

/// Orders whose numbers are remembered.
pub const KEPT: usize = 64;

/// What an order number stands for.
#[derive(Debug, Clone)]
struct Named {
    order_id: Name,
    agent: Name,
    tag: Name,
}

/// One instance's order numbers: the last [`KEPT`] orders, newest last,
/// numbered without gaps up to `last`, and found by id (an order's first
/// event asks whether any of them is it).
#[derive(Debug, Default)]
pub struct OrderNumbers {
    /// The number of the newest order (0 before the first).
    last: u64,
    recent: VecDeque<Named>,
    by_id: HashMap<Name, u64, foldhash::fast::RandomState>,
}

impl OrderNumbers {
    /// The number of order `order_id` (sent by `agent`, tagged `tag`):
    /// the one it was given, if it is among the last [`KEPT`], else the
    /// next.
    pub fn number(&mut self, order_id: &Name, agent: &Name, tag: &Name) -> u64 {
        if let Some(&n) = self.by_id.get(order_id) {
            return n;
        }
        if self.recent.len() == KEPT
            && let Some(gone) = self.recent.pop_front()
        {
            self.by_id.remove(&gone.order_id);
        }
        self.last += 1;
        self.recent.push_back(Named {
            order_id: order_id.clone(),
            agent: agent.clone(),
            tag: tag.clone(),
        });
        self.by_id.insert(order_id.clone(), self.last);
        self.last
    }

    /// The order id, agent and tag behind `number`, if it is remembered.
    pub fn names(&self, number: u64) -> Option<(&str, &str, &str)> {
        let first = self.last + 1 - self.recent.len() as u64;
        let i = usize::try_from(number.checked_sub(first)?).ok()?;
        self.recent
            .get(i)
            .map(|n| (n.order_id.as_str(), n.agent.as_str(), n.tag.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_keeps_its_number_and_names_it() {
        let mut o = OrderNumbers::default();
        let (a, t) = (Name::from("trend"), Name::from("trend"));
        let first = o.number(&"trend-1".into(), &a, &t);
        let second = o.number(&"trend-2".into(), &a, &"stop:trend-1".into());
        assert_eq!((first, second), (1, 2));
        // Its next event, with an id that shares no memory with the first.
        assert_eq!(o.number(&Name::from("trend-1"), &a, &t), 1);
        assert_eq!(o.names(2), Some(("trend-2", "trend", "stop:trend-1")));
        assert_eq!(o.names(3), None, "never given");
    }

    #[test]
    fn only_the_last_orders_are_remembered() {
        let mut o = OrderNumbers::default();
        let a = Name::from("a");
        for i in 0..KEPT + 3 {
            o.number(&format!("a-{i}").into(), &a, &a);
        }
        assert_eq!(o.names(3), None);
        assert_eq!(o.names(4), Some(("a-3", "a", "a")));
        // A forgotten order met again gets a new number.
        assert_eq!(o.number(&"a-0".into(), &a, &a), KEPT as u64 + 4);
    }
}
