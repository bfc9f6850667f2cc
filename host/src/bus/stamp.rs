//! The host's stamp on every envelope.

use std::cell::Cell;

use rustc_hash::FxHashMap;

use crate::model::{Envelope, Name, Nanos, Payload};

/// Assigns envelope ids and per-source sequence numbers.
#[derive(Debug, Default)]
pub struct Stamper {
    next_id: u64,
    /// Per source (the host's own names and its agents', never a key an
    /// agent picks): Fx hashing, looked up on every message. The key is
    /// the envelope's `source` too: stamping shares it, never copies it.
    sequences: FxHashMap<Name, Cell<u64>>,
}

impl Stamper {
    /// A stamper starting at id 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next message id (also used for trace ids of new inputs).
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The last id given and each source's last sequence number, sorted
    /// by source (for a checkpoint: a node carrying on numbers on).
    pub fn state(&self) -> (u64, std::collections::BTreeMap<String, u64>) {
        (
            self.next_id,
            self.sequences
                .iter()
                .map(|(k, v)| (k.to_string(), v.get()))
                .collect(),
        )
    }

    /// Number on from a [`Stamper::state`].
    pub fn set_state(&mut self, last_id: u64, sequences: &std::collections::BTreeMap<String, u64>) {
        self.next_id = last_id;
        self.sequences = sequences
            .iter()
            .map(|(k, v)| (Name::from(k), Cell::new(*v)))
            .collect();
    }

    /// Where numbering stands for `source`: the last id given and its last
    /// sequence number (0: none yet). The next stamp from `source` gets
    /// one more of each.
    pub fn mark(&self, source: &str) -> (u64, u64) {
        (
            self.next_id,
            self.sequences.get(source).map_or(0, Cell::get),
        )
    }

    /// `source` as a name: the one its envelopes share if it stamped any
    /// (no allocation), else a new one.
    pub fn name(&self, source: &str) -> Name {
        self.sequences
            .get_key_value(source)
            .map_or_else(|| Name::from(source), |(name, _)| name.clone())
    }

    /// Take the next `n` ids and `source`'s next `n` sequence numbers at
    /// once, for envelopes made by the caller (a run's events, one
    /// source, nothing stamped between them): the shared name of the
    /// source and the numbers before the first, as [`Stamper::mark`]
    /// said them. Envelope `k` of the `n` (from 1) has id `id + k`,
    /// sequence `sequence + k`, and is its own trace, as `n` calls of
    /// [`Stamper::stamp`] would have numbered them.
    pub fn take(&mut self, source: &str, n: u64) -> Taken {
        let id = self.next_id;
        self.next_id += n;
        let (name, sequence) = match self.sequences.get_key_value(source) {
            Some((name, s)) => {
                let before = s.get();
                s.set(before + n);
                (name.clone(), before)
            }
            None => {
                let name = Name::from(source);
                self.sequences.insert(name.clone(), Cell::new(n));
                (name, 0)
            }
        };
        Taken {
            source: name,
            id,
            sequence,
        }
    }

    /// Stamp a new envelope from `source`. `trace_id` 0 starts a new trace
    /// whose id is the envelope's own id.
    pub fn stamp(
        &mut self,
        source: &str,
        topic: impl Into<Name>,
        payload: Payload,
        event_time: Nanos,
        trace_id: u64,
        correlation_id: Option<u64>,
    ) -> Envelope {
        let mut env = self
            .take(source, 1)
            .envelope(1, topic.into(), payload, event_time);
        if trace_id != 0 {
            env.trace_id = trace_id;
        }
        env.correlation_id = correlation_id;
        env
    }
}

/// Numbers taken with [`Stamper::take`].
#[derive(Debug, Clone)]
pub struct Taken {
    /// The source, shared.
    pub source: Name,
    /// The last id given before the first taken.
    pub id: u64,
    /// The source's last sequence number before the first taken.
    pub sequence: u64,
}

impl Taken {
    /// Envelope `k` (from 1) of those taken: `payload` from the source at
    /// `event_time` on `topic`, its own trace.
    pub fn envelope(&self, k: u64, topic: Name, payload: Payload, event_time: Nanos) -> Envelope {
        let id = self.id + k;
        Envelope {
            id,
            topic,
            source: self.source.clone(),
            sequence: self.sequence + k,
            event_time,
            trace_id: id,
            correlation_id: None,
            attempt: 1,
            payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_are_per_source_and_gapless() {
        let mut s = Stamper::new();
        let p = || Payload::Custom(vec![]);
        let a1 = s.stamp("a", "t.x.y", p(), 5, 0, None);
        let b1 = s.stamp("b", "t.x.y", p(), 5, 0, None);
        let a2 = s.stamp("a", "t.x.y", p(), 6, a1.trace_id, None);
        assert_eq!((a1.sequence, b1.sequence, a2.sequence), (1, 1, 2));
        assert_eq!((a1.id, b1.id, a2.id), (1, 2, 3));
        assert_eq!(a1.trace_id, 1);
        assert_eq!(a2.trace_id, 1);
    }

    #[test]
    fn taking_numbers_at_once_numbers_as_stamping_one_by_one() {
        let p = || Payload::Custom(vec![]);
        let mut one = Stamper::new();
        let mut all = Stamper::new();
        for s in [&mut one, &mut all] {
            let _ = s.stamp("v", "t", p(), 1, 0, None);
            let _ = s.stamp("w", "t", p(), 1, 0, None);
        }
        let stamped: Vec<Envelope> = (0..3)
            .map(|i| one.stamp("v", "t", p(), 5 + i, 0, None))
            .collect();
        let taken = all.take("v", 3);
        let made: Vec<Envelope> = (1..=3)
            .map(|k| taken.envelope(k, "t".into(), p(), 4 + k))
            .collect();
        assert_eq!(made, stamped);
        // And both number on alike, for that source and a new one.
        assert_eq!(
            all.stamp("v", "t", p(), 9, 0, None),
            one.stamp("v", "t", p(), 9, 0, None)
        );
        let fresh = all.take("x", 2);
        assert_eq!((fresh.id, fresh.sequence), (6, 0));
        assert_eq!(all.mark("x"), (8, 2));
    }

    #[test]
    fn the_next_stamp_is_one_past_the_mark() {
        let mut s = Stamper::new();
        let p = || Payload::Custom(vec![]);
        assert_eq!(s.mark("v"), (0, 0));
        let _ = s.stamp("w", "t", p(), 1, 0, None);
        let _ = s.stamp("v", "t", p(), 1, 0, None);
        let (id, seq) = s.mark("v");
        let next = s.stamp("v", "t", p(), 2, 0, None);
        assert_eq!(
            (next.id, next.sequence, next.trace_id),
            (id + 1, seq + 1, id + 1)
        );
    }
}
