//! One symbol's limit order book: price levels in price-time priority.
//!
//! Each side is a `BTreeMap` from price to a level; a level is a FIFO of
//! resting orders kept as an intrusive doubly linked list inside one slab
//! (`Vec<Node>` plus a free list), so adding, cancelling from the middle of
//! a queue and filling the head are all O(1) once the level is found, and
//! no order allocates. The book knows prices, quantities and which account
//! owns each resting order — nothing about balances or order types; the
//! [`engine`](super::engine) decides what to match.

use std::collections::BTreeMap;

use crate::model::Fixed;
use crate::model::Side;

/// A resting order's slot in the book.
pub type Handle = u32;

const NIL: u32 = u32::MAX;

/// A resting order as the book sees it.
#[derive(Debug, Clone)]
pub struct Node {
    /// Exchange order id.
    pub order_id: u64,
    /// Owner (for self-trade prevention).
    pub account: u32,
    /// Quantity still resting.
    pub leaves: Fixed,
    /// Limit price.
    pub price: Fixed,
    /// Side.
    pub side: Side,
    prev: u32,
    next: u32,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    head: u32,
    tail: u32,
    qty: Fixed,
}

/// Level changes since the last [`Book::take_diff`], in Binance's terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DepthDiff {
    /// First update id in this diff (`U`).
    pub first_update_id: u64,
    /// Last update id in this diff (`u`).
    pub final_update_id: u64,
    /// Changed bid levels: price and the new total (zero: level gone).
    pub bids: Vec<(Fixed, Fixed)>,
    /// Changed ask levels.
    pub asks: Vec<(Fixed, Fixed)>,
}

/// A limit order book.
#[derive(Debug, Default)]
pub struct Book {
    bids: BTreeMap<Fixed, Level>,
    asks: BTreeMap<Fixed, Level>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    update_id: u64,
    tracking: bool,
    diff_from: u64,
    changed_bids: Vec<Fixed>,
    changed_asks: Vec<Fixed>,
}

impl Book {
    /// An empty book.
    pub fn new() -> Book {
        Book::default()
    }

    /// Id of the last change (Binance's `lastUpdateId`).
    pub fn update_id(&self) -> u64 {
        self.update_id
    }

    /// Start or stop recording changed levels for [`Book::take_diff`].
    /// Off by default, so a book nobody streams keeps no history.
    pub fn track_changes(&mut self, on: bool) {
        if on && !self.tracking {
            self.diff_from = self.update_id + 1;
        }
        self.tracking = on;
        if !on {
            self.changed_bids.clear();
            self.changed_asks.clear();
        }
    }

    fn side(&self, side: Side) -> &BTreeMap<Fixed, Level> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn touched(&mut self, side: Side, price: Fixed) {
        self.update_id += 1;
        if self.tracking {
            match side {
                Side::Buy => self.changed_bids.push(price),
                Side::Sell => self.changed_asks.push(price),
            }
        }
    }

    /// Add a resting order at the back of its price level.
    pub fn insert(
        &mut self,
        side: Side,
        price: Fixed,
        order_id: u64,
        account: u32,
        qty: Fixed,
    ) -> Handle {
        let node = Node {
            order_id,
            account,
            leaves: qty,
            price,
            side,
            prev: NIL,
            next: NIL,
        };
        let h = match self.free.pop() {
            Some(h) => {
                self.nodes[h as usize] = node;
                h
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let levels = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let level = levels.entry(price).or_insert(Level {
            head: NIL,
            tail: NIL,
            qty: Fixed::ZERO,
        });
        level.qty += qty;
        let tail = level.tail;
        if tail == NIL {
            level.head = h;
        } else {
            self.nodes[tail as usize].next = h;
            self.nodes[h as usize].prev = tail;
        }
        level.tail = h;
        self.touched(side, price);
        h
    }

    /// The resting order in slot `h`.
    pub fn node(&self, h: Handle) -> &Node {
        &self.nodes[h as usize]
    }

    /// Take an order out of the book (cancelled, expired or filled).
    pub fn remove(&mut self, h: Handle) -> Node {
        let node = self.nodes[h as usize].clone();
        let levels = match node.side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        let level = levels
            .get_mut(&node.price)
            .expect("a resting order's level exists");
        level.qty -= node.leaves;
        if node.prev == NIL {
            level.head = node.next;
        } else {
            self.nodes[node.prev as usize].next = node.next;
        }
        if node.next == NIL {
            level.tail = node.prev;
        } else {
            self.nodes[node.next as usize].prev = node.prev;
        }
        if level.head == NIL {
            levels.remove(&node.price);
        }
        self.free.push(h);
        self.touched(node.side, node.price);
        node
    }

    /// Reduce a resting order by `qty` (a fill or a decrement); removes it
    /// when nothing is left. Returns true when it was removed.
    pub fn reduce(&mut self, h: Handle, qty: Fixed) -> bool {
        let node = &mut self.nodes[h as usize];
        debug_assert!(qty <= node.leaves);
        if qty >= node.leaves {
            self.remove(h);
            return true;
        }
        node.leaves -= qty;
        let (side, price) = (node.side, node.price);
        let levels = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if let Some(level) = levels.get_mut(&price) {
            level.qty -= qty;
        }
        self.touched(side, price);
        false
    }

    /// Best price and its total quantity on one side.
    pub fn best(&self, side: Side) -> Option<(Fixed, Fixed)> {
        let level = match side {
            Side::Buy => self.bids.iter().next_back(),
            Side::Sell => self.asks.iter().next(),
        };
        level.map(|(p, l)| (*p, l.qty))
    }

    /// The first order in time at the best price of one side.
    pub fn head(&self, side: Side) -> Option<Handle> {
        let level = match side {
            Side::Buy => self.bids.values().next_back(),
            Side::Sell => self.asks.values().next(),
        };
        level.map(|l| l.head)
    }

    /// The order after `h` in its level's queue.
    pub fn next_in_level(&self, h: Handle) -> Option<Handle> {
        let next = self.nodes[h as usize].next;
        (next != NIL).then_some(next)
    }

    /// Levels of one side, best first: (price, total quantity).
    pub fn levels(&self, side: Side) -> Box<dyn Iterator<Item = (Fixed, Fixed)> + '_> {
        match side {
            Side::Buy => Box::new(self.bids.iter().rev().map(|(p, l)| (*p, l.qty))),
            Side::Sell => Box::new(self.asks.iter().map(|(p, l)| (*p, l.qty))),
        }
    }

    /// Number of price levels on one side.
    pub fn depth_len(&self, side: Side) -> usize {
        self.side(side).len()
    }

    /// The total quantity at one price (zero when no level).
    pub fn qty_at(&self, side: Side, price: Fixed) -> Fixed {
        self.side(side).get(&price).map_or(Fixed::ZERO, |l| l.qty)
    }

    /// Changed levels since the last call, with their current totals, or
    /// `None` when nothing changed (or tracking is off).
    pub fn take_diff(&mut self) -> Option<DepthDiff> {
        if !self.tracking || self.update_id < self.diff_from {
            return None;
        }
        let mut bids = std::mem::take(&mut self.changed_bids);
        let mut asks = std::mem::take(&mut self.changed_asks);
        bids.sort_unstable_by(|a, b| b.cmp(a));
        bids.dedup();
        asks.sort_unstable();
        asks.dedup();
        let diff = DepthDiff {
            first_update_id: self.diff_from,
            final_update_id: self.update_id,
            bids: bids
                .into_iter()
                .map(|p| (p, self.qty_at(Side::Buy, p)))
                .collect(),
            asks: asks
                .into_iter()
                .map(|p| (p, self.qty_at(Side::Sell, p)))
                .collect(),
        };
        self.diff_from = self.update_id + 1;
        Some(diff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: &str) -> Fixed {
        x.parse().unwrap()
    }

    #[test]
    fn price_then_time_priority() {
        let mut b = Book::new();
        let a = b.insert(Side::Sell, f("101"), 1, 0, f("1"));
        let c = b.insert(Side::Sell, f("100"), 2, 0, f("2"));
        let d = b.insert(Side::Sell, f("100"), 3, 0, f("3"));
        b.insert(Side::Buy, f("99"), 4, 0, f("1"));
        b.insert(Side::Buy, f("98"), 5, 0, f("1"));
        assert_eq!(b.best(Side::Sell), Some((f("100"), f("5"))));
        assert_eq!(b.best(Side::Buy), Some((f("99"), f("1"))));
        assert_eq!(b.head(Side::Sell), Some(c));
        assert_eq!(b.next_in_level(c), Some(d));
        // Filling the head partly keeps its place; filling it all moves on.
        assert!(!b.reduce(c, f("1.5")));
        assert_eq!(b.head(Side::Sell), Some(c));
        assert!(b.reduce(c, f("0.5")));
        assert_eq!(b.head(Side::Sell), Some(d));
        b.remove(d);
        assert_eq!(b.head(Side::Sell), Some(a));
        let asks: Vec<_> = b.levels(Side::Sell).collect();
        assert_eq!(asks, vec![(f("101"), f("1"))]);
        let bids: Vec<_> = b.levels(Side::Buy).collect();
        assert_eq!(bids, vec![(f("99"), f("1")), (f("98"), f("1"))]);
    }

    #[test]
    fn cancel_from_the_middle_keeps_the_queue() {
        let mut b = Book::new();
        let h: Vec<_> = (0..4)
            .map(|i| b.insert(Side::Buy, f("10"), i, 0, f("1")))
            .collect();
        b.remove(h[1]);
        b.remove(h[3]);
        assert_eq!(b.head(Side::Buy), Some(h[0]));
        assert_eq!(b.next_in_level(h[0]), Some(h[2]));
        assert_eq!(b.next_in_level(h[2]), None);
        assert_eq!(b.qty_at(Side::Buy, f("10")), f("2"));
        // Freed slots are reused.
        let again = b.insert(Side::Buy, f("10"), 9, 0, f("1"));
        assert!(again == h[1] || again == h[3]);
        assert_eq!(b.next_in_level(h[2]), Some(again));
    }

    #[test]
    fn diffs_carry_update_ids_and_final_totals() {
        let mut b = Book::new();
        b.insert(Side::Buy, f("10"), 1, 0, f("1"));
        assert_eq!(b.take_diff(), None, "not tracking yet");
        b.track_changes(true);
        let h = b.insert(Side::Buy, f("10"), 2, 0, f("2"));
        b.insert(Side::Sell, f("11"), 3, 0, f("1"));
        b.remove(h);
        let d = b.take_diff().unwrap();
        assert_eq!((d.first_update_id, d.final_update_id), (2, 4));
        assert_eq!(d.bids, vec![(f("10"), f("1"))]);
        assert_eq!(d.asks, vec![(f("11"), f("1"))]);
        assert_eq!(b.take_diff(), None);
        b.insert(Side::Sell, f("11"), 4, 0, f("1"));
        let d = b.take_diff().unwrap();
        assert_eq!((d.first_update_id, d.final_update_id), (5, 5));
        assert_eq!(d.asks, vec![(f("11"), f("2"))]);
    }
}
