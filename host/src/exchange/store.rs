//! Where the exchange keeps orders: a window of the most recent ones,
//! indexed by id, plus the few old ones still open.
//!
//! Order ids are handed out in sequence, so the recent orders live in a
//! `VecDeque` indexed by `id - base`: inserting is a push, finding is an
//! index, and retiring the oldest closed orders walks memory in order.
//! A hash map of every order ever placed would miss the cache on each
//! insert and eviction; this keeps the hot window dense. An order that is
//! still open when it reaches the front of the window moves to a side map
//! (`spill`), so eviction never touches a live order.

use std::collections::VecDeque;
use std::ops::Index;

use rustc_hash::FxHashMap;

use super::order::Order;

/// Orders by id: the recent window and old open orders.
#[derive(Debug)]
pub struct OrderStore {
    base: u64,
    recent: VecDeque<Option<Order>>,
    /// Closed orders held in `recent`.
    closed: usize,
    spill: FxHashMap<u64, Order>,
    /// Spilled orders that have closed since; dropped at the next insert.
    spill_closed: Vec<u64>,
    retain: usize,
}

impl OrderStore {
    /// A store that keeps about `retain` closed orders (open ones always).
    pub fn new(first_id: u64, retain: usize) -> OrderStore {
        OrderStore {
            base: first_id,
            recent: VecDeque::new(),
            closed: 0,
            spill: FxHashMap::default(),
            spill_closed: Vec::new(),
            retain: retain.max(1),
        }
    }

    /// Add the next order (ids must come in sequence). Returns the orders
    /// this retired to stay within `retain`.
    pub fn insert(&mut self, order: Order, retired: &mut Vec<Order>) {
        assert_eq!(
            order.order_id,
            self.base + self.recent.len() as u64,
            "order ids are sequential"
        );
        self.recent.push_back(Some(order));
        for id in self.spill_closed.drain(..) {
            retired.extend(self.spill.remove(&id));
        }
        while self.closed > self.retain {
            let Some(front) = self.recent.pop_front() else {
                break;
            };
            self.base += 1;
            match front {
                Some(o) if o.state.is_final() => {
                    self.closed -= 1;
                    retired.push(o);
                }
                Some(o) => {
                    self.spill.insert(o.order_id, o);
                }
                None => {}
            }
        }
    }

    /// Note that an order has reached a final state (once per order).
    pub fn closed(&mut self, id: u64) {
        if id >= self.base {
            self.closed += 1;
        } else {
            self.spill_closed.push(id);
        }
    }

    /// An order, if still held.
    pub fn get(&self, id: &u64) -> Option<&Order> {
        match id.checked_sub(self.base) {
            Some(i) => self.recent.get(i as usize).and_then(Option::as_ref),
            None => self.spill.get(id),
        }
    }

    /// An order, mutably.
    pub fn get_mut(&mut self, id: &u64) -> Option<&mut Order> {
        match id.checked_sub(self.base) {
            Some(i) => self.recent.get_mut(i as usize).and_then(Option::as_mut),
            None => self.spill.get_mut(id),
        }
    }

    /// Number of orders held.
    pub fn len(&self) -> usize {
        self.recent.len() + self.spill.len()
    }

    /// True when no order is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Index<&u64> for OrderStore {
    type Output = Order;
    fn index(&self, id: &u64) -> &Order {
        self.get(id).expect("the order is held")
    }
}
