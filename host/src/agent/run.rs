//! A run of market events as `market.on-market-run` takes it: packed in
//! 64-bit words (`wit/market.wit` gives the layout).
//!
//! Why words and not a `list<market-event>`: wasmtime 48 lowers a list of
//! records field by field, looking the guest's memory up for each field —
//! about 1,000 instructions per event, as much as the call it was meant
//! to save. A list of numbers it copies in one go.

use super::bindings::floor::agent::types as wt;
use crate::model::{MarketEvent, Side};

/// Words per event.
pub const WORDS: usize = 14;

/// What kind of event word 6 says.
const QUOTE: u64 = 0;
const TRADE_BUY: u64 = 1;
const TRADE_SELL: u64 = 2;

/// One event of a run, as the node stamps it.
#[derive(Debug, Clone, Copy)]
pub struct RunEvent<'a> {
    /// The envelope's id (also its trace id: market data starts a trace).
    pub id: u64,
    /// The envelope's sequence number.
    pub sequence: u64,
    /// The envelope's event time.
    pub event_time: u64,
    /// The envelope's topic.
    pub topic: &'a str,
    /// The quote or trade.
    pub event: &'a MarketEvent,
}

/// Append `e` (of stream `stream`, with the position in its symbol) to
/// `words`.
pub fn pack(words: &mut Vec<u64>, e: &RunEvent<'_>, stream: u32, position: (f64, f64, f64)) {
    let (kind, v) = match e.event {
        MarketEvent::Quote(q) => (
            QUOTE,
            [
                q.bid.to_bits(),
                q.bid_size.to_bits(),
                q.ask.to_bits(),
                q.ask_size.to_bits(),
            ],
        ),
        MarketEvent::Trade(t) => (
            match t.aggressor {
                Side::Buy => TRADE_BUY,
                Side::Sell => TRADE_SELL,
            },
            [t.price.to_bits(), t.size.to_bits(), t.trade_id, 0],
        ),
    };
    words.extend_from_slice(&[
        e.id,
        u64::from(stream),
        e.sequence,
        e.event_time,
        e.id,
        1,
        kind,
        v[0],
        v[1],
        v[2],
        v[3],
        position.0.to_bits(),
        position.1.to_bits(),
        position.2.to_bits(),
    ]);
}

/// Event `i`'s event time.
pub fn event_time(words: &[u64], i: usize) -> u64 {
    words[i * WORDS + 3]
}

/// Event `i`'s stream number and, if it is a quote, its numbers as
/// `host.quote-of` gives them (symbol left empty).
pub fn quote(words: &[u64], i: usize) -> (u32, Option<wt::Quote>) {
    let w = &words[i * WORDS..][..WORDS];
    let stream = u32::try_from(w[1]).unwrap_or(u32::MAX);
    let q = (w[6] == QUOTE).then(|| wt::Quote {
        symbol: String::new(),
        bid: f64::from_bits(w[7]),
        bid_size: f64::from_bits(w[8]),
        ask: f64::from_bits(w[9]),
        ask_size: f64::from_bits(w[10]),
    });
    (stream, q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Quote, Trade};

    #[test]
    fn quotes_and_trades_pack_to_the_documented_words() {
        let q = MarketEvent::Quote(Quote {
            symbol: "A".into(),
            bid: 1.5,
            bid_size: 2.0,
            ask: 1.75,
            ask_size: 3.0,
        });
        let t = MarketEvent::Trade(Trade {
            symbol: "A".into(),
            price: 9.0,
            size: 0.5,
            aggressor: Side::Sell,
            trade_id: 77,
        });
        let mut words = Vec::new();
        let at = |id, event| RunEvent {
            id,
            sequence: id + 100,
            event_time: id * 10,
            topic: "md.x",
            event,
        };
        pack(&mut words, &at(5, &q), 3, (1.0, 2.0, -4.0));
        pack(&mut words, &at(6, &t), 4, (0.0, 0.0, 0.0));
        assert_eq!(words.len(), 2 * WORDS);
        assert_eq!(&words[..7], &[5, 3, 105, 50, 5, 1, QUOTE]);
        assert_eq!(f64::from_bits(words[9]), 1.75);
        assert_eq!(f64::from_bits(words[13]), -4.0);
        assert_eq!(&words[WORDS..WORDS + 7], &[6, 4, 106, 60, 6, 1, TRADE_SELL]);
        assert_eq!(words[WORDS + 9], 77);
        assert_eq!(event_time(&words, 1), 60);
        let (stream, quoted) = quote(&words, 0);
        assert_eq!(stream, 3);
        assert_eq!(quoted.map(|q| (q.bid, q.ask_size)), Some((1.5, 3.0)));
        assert!(quote(&words, 1).1.is_none());
    }
}
