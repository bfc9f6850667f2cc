//! The topics the node names on every event — `md.tick.<symbol>`,
//! `md.trade.<symbol>`, `order.<status>.<symbol>` — each made once and
//! then shared.
//!
//! Building one costs an allocation and a copy, and freeing it another
//! call; a backtest does that for every tick and every order event. A
//! topic's [`Name`] is shared by every envelope that carries it, so once
//! made it costs a reference count.

use rustc_hash::FxHashMap;

use crate::model::{MarketEvent, Name};

/// Symbols whose topics are kept. Symbols come from the config and the
/// venue's data, so there are few; past this many (a hostile or broken
/// feed naming a new symbol per tick) topics are made each time instead,
/// and the node's memory stays bounded.
const MAX_SYMBOLS: usize = 4096;

/// Topics by symbol, then by prefix (a `&'static str` such as `md.tick.`).
#[derive(Debug, Default)]
pub(super) struct Topics {
    by_symbol: FxHashMap<Name, Vec<(&'static str, Name)>>,
}

impl Topics {
    /// `prefix` + `symbol`, the one made before if there was one.
    pub(super) fn get(&mut self, prefix: &'static str, symbol: &Name) -> Name {
        if let Some(known) = self.by_symbol.get(symbol.as_str())
            && let Some((_, topic)) = known.iter().find(|(p, _)| *p == prefix)
        {
            return topic.clone();
        }
        let topic = Name::from(topic(prefix, symbol));
        if self.by_symbol.len() < MAX_SYMBOLS || self.by_symbol.contains_key(symbol.as_str()) {
            self.by_symbol
                .entry(symbol.clone())
                .or_default()
                .push((prefix, topic.clone()));
        }
        topic
    }

    /// The topic a market event is published on.
    pub(super) fn market(&mut self, event: &MarketEvent) -> Name {
        match event {
            MarketEvent::Quote(q) => self.get("md.tick.", &q.symbol),
            MarketEvent::Trade(t) => self.get("md.trade.", &t.symbol),
        }
    }
}

/// `prefix` + `symbol`, allocated once at its size.
fn topic(prefix: &str, symbol: &str) -> String {
    let mut t = String::with_capacity(prefix.len() + symbol.len());
    t.push_str(prefix);
    t.push_str(symbol);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_is_made_once_per_prefix_and_symbol() {
        let mut t = Topics::default();
        let btc = Name::from("BTCUSDT");
        let a = t.get("md.tick.", &btc);
        assert_eq!(a, "md.tick.BTCUSDT");
        let b = t.get("md.tick.", &Name::from("BTCUSDT"));
        assert!(
            std::ptr::eq(a.as_str(), b.as_str()),
            "the same topic, shared"
        );
        assert_eq!(t.get("md.trade.", &btc), "md.trade.BTCUSDT");
        assert_eq!(t.get("md.tick.", &Name::from("ETHUSDT")), "md.tick.ETHUSDT");
    }

    #[test]
    fn past_the_cap_new_symbols_get_their_topic_but_are_not_kept() {
        let mut t = Topics::default();
        for i in 0..MAX_SYMBOLS + 10 {
            let s = Name::from(format!("S{i}"));
            assert_eq!(t.get("md.tick.", &s), format!("md.tick.S{i}"));
        }
        assert_eq!(t.by_symbol.len(), MAX_SYMBOLS);
        // A kept symbol still gains topics under a new prefix.
        assert_eq!(t.get("md.trade.", &Name::from("S0")), "md.trade.S0");
        assert_eq!(t.by_symbol["S0"].len(), 2);
    }
}
