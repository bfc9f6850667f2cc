//! A local copy of a venue's order book, kept in step by Binance's
//! documented procedure: buffer the diff stream, take a REST snapshot,
//! drop diffs the snapshot already contains (`u ≤ lastUpdateId`), check
//! that the first kept diff straddles the snapshot, then apply diffs in
//! order — and start over on any gap (`U > last + 1`). Prices and
//! quantities are exact ([`Fixed`]), so the copy equals the venue's book,
//! level for level.

use std::collections::BTreeMap;

use super::decode::{DepthSnapshot, DepthUpdate};
use crate::model::{Fixed, Side};

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncAction {
    /// Fetch a REST snapshot (`GET /api/v3/depth`) and pass it to
    /// [`LocalBook::on_snapshot`]; keep feeding diffs meanwhile.
    NeedSnapshot,
    /// The book is current.
    Live,
    /// Nothing to do (an old diff, or still waiting for the snapshot).
    Wait,
    /// The stream had a gap: the book was discarded; fetch a new snapshot.
    Resync {
        /// What went wrong, for the log and the metrics.
        reason: String,
    },
}

/// The local book.
#[derive(Debug, Clone, Default)]
pub struct LocalBook {
    bids: BTreeMap<Fixed, Fixed>,
    asks: BTreeMap<Fixed, Fixed>,
    /// `Some` once synchronised: the last applied update id.
    last: Option<u64>,
    buffer: Vec<DepthUpdate>,
    snapshot_requested: bool,
    resyncs: u64,
}

impl LocalBook {
    /// An empty, unsynchronised book.
    pub fn new() -> LocalBook {
        LocalBook::default()
    }

    /// The last applied update id, once synchronised.
    pub fn last_update_id(&self) -> Option<u64> {
        self.last
    }

    /// How many times the book had to start over.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// Levels of one side, best first.
    pub fn levels(&self, side: Side) -> Vec<(Fixed, Fixed)> {
        match side {
            Side::Buy => self.bids.iter().rev().map(|(p, q)| (*p, *q)).collect(),
            Side::Sell => self.asks.iter().map(|(p, q)| (*p, *q)).collect(),
        }
    }

    fn apply(&mut self, d: &DepthUpdate) {
        for (levels, changes) in [(&mut self.bids, &d.bids), (&mut self.asks, &d.asks)] {
            for (p, q) in changes {
                if q.is_zero() {
                    levels.remove(p);
                } else {
                    levels.insert(*p, *q);
                }
            }
        }
        self.last = Some(d.final_update_id);
    }

    fn restart(&mut self, reason: String) -> SyncAction {
        self.bids.clear();
        self.asks.clear();
        self.last = None;
        self.buffer.clear();
        self.snapshot_requested = true;
        self.resyncs += 1;
        SyncAction::Resync { reason }
    }

    /// A diff from the stream.
    pub fn on_diff(&mut self, d: DepthUpdate) -> SyncAction {
        let Some(last) = self.last else {
            self.buffer.push(d);
            if self.snapshot_requested {
                return SyncAction::Wait;
            }
            self.snapshot_requested = true;
            return SyncAction::NeedSnapshot;
        };
        if d.final_update_id <= last {
            return SyncAction::Wait;
        }
        if d.first_update_id > last + 1 {
            return self.restart(format!(
                "gap in the diff stream: expected update {}, got {}",
                last + 1,
                d.first_update_id
            ));
        }
        self.apply(&d);
        SyncAction::Live
    }

    /// The REST snapshot asked for by [`SyncAction::NeedSnapshot`].
    pub fn on_snapshot(&mut self, s: DepthSnapshot) -> SyncAction {
        let buffered = std::mem::take(&mut self.buffer);
        if let Some(first) = buffered.first()
            && s.last_update_id + 1 < first.first_update_id
        {
            // Older than the stream we hold: diffs in between are missing.
            self.buffer = buffered;
            self.snapshot_requested = true;
            return SyncAction::NeedSnapshot;
        }
        self.bids = s.bids.into_iter().collect();
        self.asks = s.asks.into_iter().collect();
        self.last = Some(s.last_update_id);
        self.snapshot_requested = false;
        for d in buffered {
            if let SyncAction::Resync { reason } = self.on_diff(d) {
                return SyncAction::Resync { reason };
            }
        }
        SyncAction::Live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: &str) -> Fixed {
        x.parse().unwrap()
    }

    fn diff(first: u64, last: u64, bids: &[(&str, &str)], asks: &[(&str, &str)]) -> DepthUpdate {
        let lv = |l: &[(&str, &str)]| l.iter().map(|(p, q)| (f(p), f(q))).collect();
        DepthUpdate {
            symbol: "BTCUSDT".into(),
            event_time_ms: 0,
            first_update_id: first,
            final_update_id: last,
            bids: lv(bids),
            asks: lv(asks),
        }
    }

    #[test]
    fn the_documented_procedure() {
        let mut b = LocalBook::new();
        assert_eq!(
            b.on_diff(diff(5, 7, &[("10", "1")], &[])),
            SyncAction::NeedSnapshot
        );
        assert_eq!(
            b.on_diff(diff(8, 9, &[("10", "0"), ("9", "2")], &[("11", "1")])),
            SyncAction::Wait
        );
        // The snapshot already holds updates up to 7: the first diff is dropped.
        let snap = DepthSnapshot {
            last_update_id: 7,
            bids: vec![(f("10"), f("1"))],
            asks: vec![(f("12"), f("3"))],
        };
        assert_eq!(b.on_snapshot(snap), SyncAction::Live);
        assert_eq!(b.last_update_id(), Some(9));
        assert_eq!(b.levels(Side::Buy), vec![(f("9"), f("2"))]);
        assert_eq!(
            b.levels(Side::Sell),
            vec![(f("11"), f("1")), (f("12"), f("3"))]
        );
        assert_eq!(
            b.on_diff(diff(9, 9, &[], &[])),
            SyncAction::Wait,
            "old news"
        );
        assert_eq!(
            b.on_diff(diff(10, 12, &[], &[("11", "0")])),
            SyncAction::Live
        );
        assert_eq!(b.levels(Side::Sell), vec![(f("12"), f("3"))]);
    }

    #[test]
    fn a_gap_discards_the_book_and_asks_again() {
        let mut b = LocalBook::new();
        b.on_diff(diff(1, 1, &[("10", "1")], &[]));
        b.on_snapshot(DepthSnapshot {
            last_update_id: 1,
            bids: vec![(f("10"), f("1"))],
            asks: vec![],
        });
        let r = b.on_diff(diff(5, 6, &[], &[]));
        assert!(
            matches!(&r, SyncAction::Resync { reason } if reason.contains("expected update 2, got 5")),
            "{r:?}"
        );
        assert_eq!((b.last_update_id(), b.resyncs()), (None, 1));
        assert!(b.levels(Side::Buy).is_empty());
        assert_eq!(
            b.on_diff(diff(7, 7, &[], &[])),
            SyncAction::Wait,
            "a snapshot is already asked for"
        );
        assert_eq!(
            b.on_snapshot(DepthSnapshot {
                last_update_id: 6,
                ..Default::default()
            }),
            SyncAction::Live
        );
        assert_eq!(b.last_update_id(), Some(7));
    }

    #[test]
    fn a_snapshot_older_than_the_stream_is_refused() {
        let mut b = LocalBook::new();
        b.on_diff(diff(20, 21, &[], &[]));
        assert_eq!(
            b.on_snapshot(DepthSnapshot {
                last_update_id: 10,
                ..Default::default()
            }),
            SyncAction::NeedSnapshot
        );
        assert_eq!(b.last_update_id(), None);
        assert_eq!(
            b.on_snapshot(DepthSnapshot {
                last_update_id: 19,
                ..Default::default()
            }),
            SyncAction::Live
        );
        assert_eq!(b.last_update_id(), Some(21));
    }
}
