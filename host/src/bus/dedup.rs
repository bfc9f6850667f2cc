//! A window of recently seen message ids, for consumer-side deduplication.
//!
//! At-least-once delivery means a message can arrive twice (a producer's
//! retry, a Kafka redelivery, a replay). Each reliable subscriber keeps the
//! last `capacity` ids it was handed; a repeat within the window is not
//! delivered again, so a fill is never counted twice. Insert and lookup are
//! O(1): a hash set for membership, a ring for eviction order.

use std::collections::{HashSet, VecDeque};

/// Default window: the last 2,000 ids.
pub const DEFAULT_WINDOW: usize = 2_000;

/// The last `capacity` ids seen.
#[derive(Debug, Clone)]
pub struct DedupWindow {
    capacity: usize,
    order: VecDeque<u64>,
    seen: HashSet<u64>,
}

impl DedupWindow {
    /// A window of `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            order: VecDeque::with_capacity(capacity),
            seen: HashSet::with_capacity(capacity),
        }
    }

    /// Record `id`; false if it was already in the window (a duplicate).
    pub fn insert(&mut self, id: u64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(id);
        true
    }

    /// The ids remembered, oldest first (for a checkpoint).
    pub fn ids(&self) -> Vec<u64> {
        self.order.iter().copied().collect()
    }

    /// Remember exactly `ids` (oldest first; the newest past the
    /// capacity).
    pub fn set_ids(&mut self, ids: &[u64]) {
        self.order.clear();
        self.seen.clear();
        for &id in ids {
            self.insert(id);
        }
    }

    /// Ids currently remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing was seen yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl Default for DedupWindow {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_the_window_are_duplicates() {
        let mut w = DedupWindow::new(3);
        assert!(w.insert(1));
        assert!(w.insert(2));
        assert!(!w.insert(1), "1 is still in the window");
        assert!(w.insert(3));
        assert!(w.insert(4)); // evicts 1
        assert!(w.insert(1), "1 fell out of the window");
        assert!(!w.insert(4));
        assert_eq!(w.len(), 3);
    }
}
