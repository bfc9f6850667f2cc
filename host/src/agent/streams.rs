//! Stream numbers for the `market` export (`wit/market.wit`).
//!
//! An agent that exports `market` gets quotes and trades as numbers: the
//! envelope's topic, source and symbol become one stream number, which the
//! guest names once through `streams.stream-of`. Numbers are per agent,
//! given in the order its streams first appear, and kept across restarts
//! (a fresh instance asks again). Only the numbers a call carries depend on
//! that order; what the agent sees — the envelope it rebuilds — does not.

use std::collections::HashMap;

/// Past this many streams an agent gets further market data through
/// `on-message` (with its strings): the table stays small whatever an
/// agent subscribes to.
pub const MAX_STREAMS: usize = 4096;

/// What a stream number stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamNames {
    /// The envelope's topic.
    pub topic: String,
    /// The envelope's source.
    pub source: String,
    /// The quote's or trade's symbol.
    pub symbol: String,
}

/// One agent's streams, by number (their index).
#[derive(Debug, Default)]
pub struct Streams {
    names: Vec<StreamNames>,
    /// Numbers by topic (a topic has one stream per source, and in
    /// practice one source).
    by_topic: HashMap<String, Vec<u32>, foldhash::fast::RandomState>,
}

impl Streams {
    /// The number of the stream (`topic`, `source`, `symbol`), given now if
    /// it is new; none past [`MAX_STREAMS`].
    pub fn number(&mut self, topic: &str, source: &str, symbol: &str) -> Option<u32> {
        if let Some(candidates) = self.by_topic.get(topic) {
            for &n in candidates {
                let s = &self.names[n as usize];
                if s.source == source && s.symbol == symbol {
                    return Some(n);
                }
            }
        }
        if self.names.len() >= MAX_STREAMS {
            return None;
        }
        let n = u32::try_from(self.names.len()).ok()?;
        self.names.push(StreamNames {
            topic: topic.to_string(),
            source: source.to_string(),
            symbol: symbol.to_string(),
        });
        self.by_topic.entry(topic.to_string()).or_default().push(n);
        Some(n)
    }

    /// What `number` stands for, if it was given.
    pub fn names(&self, number: u32) -> Option<&StreamNames> {
        self.names.get(number as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_per_topic_source_and_symbol() {
        let mut s = Streams::default();
        assert_eq!(s.number("md.tick.A", "sim", "A"), Some(0));
        assert_eq!(s.number("md.trade.A", "sim", "A"), Some(1));
        assert_eq!(s.number("md.tick.A", "binance", "A"), Some(2));
        assert_eq!(s.number("md.tick.A", "sim", "A"), Some(0));
        assert_eq!(s.names(2).map(|n| n.source.as_str()), Some("binance"));
        assert_eq!(s.names(3), None);
    }

    #[test]
    fn the_table_is_bounded() {
        let mut s = Streams::default();
        for i in 0..MAX_STREAMS {
            assert!(s.number(&format!("md.tick.S{i}"), "sim", "S").is_some());
        }
        assert_eq!(s.number("md.tick.one-more", "sim", "S"), None);
        assert_eq!(
            s.number("md.tick.S7", "sim", "S"),
            Some(7),
            "known ones still resolve"
        );
    }
}
