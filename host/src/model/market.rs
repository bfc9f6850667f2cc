//! Market data: quotes, trades and books.

use serde::{Deserialize, Serialize};

use super::{Name, Side};

/// Top of the book.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// Venue symbol.
    pub symbol: Name,
    /// Best bid.
    pub bid: f64,
    /// Size at the best bid.
    pub bid_size: f64,
    /// Best ask.
    pub ask: f64,
    /// Size at the best ask.
    pub ask_size: f64,
}

impl Clone for Quote {
    fn clone(&self) -> Self {
        Self {
            symbol: self.symbol.clone(),
            ..*self
        }
    }

    /// Leaves the symbol's count alone when it is the same symbol: the
    /// view and the simulator keep the latest quote per symbol and take a
    /// new one on every tick.
    fn clone_from(&mut self, source: &Self) {
        self.symbol.clone_from(&source.symbol);
        self.bid = source.bid;
        self.bid_size = source.bid_size;
        self.ask = source.ask;
        self.ask_size = source.ask_size;
    }
}

impl Quote {
    /// Midpoint of bid and ask.
    pub fn mid(&self) -> f64 {
        (self.bid + self.ask) / 2.0
    }
}

/// A print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trade {
    /// Venue symbol.
    pub symbol: Name,
    /// Price.
    pub price: f64,
    /// Quantity.
    pub size: f64,
    /// Side that took liquidity.
    pub aggressor: Side,
    /// Venue trade id.
    pub trade_id: u64,
}

/// One level of a book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Price.
    pub price: f64,
    /// Size.
    pub size: f64,
}

/// Top N levels of a book, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Book {
    /// Venue symbol.
    pub symbol: String,
    /// Bids, best first.
    pub bids: Vec<Level>,
    /// Asks, best first.
    pub asks: Vec<Level>,
}

/// One market-data event from a venue, stamped with its event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MarketEvent {
    /// A new top of book.
    Quote(Quote),
    /// A print.
    Trade(Trade),
}

impl MarketEvent {
    /// The symbol the event is about.
    pub fn symbol(&self) -> &str {
        match self {
            MarketEvent::Quote(q) => &q.symbol,
            MarketEvent::Trade(t) => &t.symbol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_cloned_into_another_is_equal_to_it() {
        let q = |symbol: &str, bid: f64| Quote {
            symbol: symbol.into(),
            bid,
            bid_size: 2.0,
            ask: bid + 1.0,
            ask_size: 3.0,
        };
        let mut kept = q("BTCUSDT", 1.0);
        kept.clone_from(&q("BTCUSDT", 5.0));
        assert_eq!(kept, q("BTCUSDT", 5.0));
        kept.clone_from(&q("ETH", 7.0));
        assert_eq!(kept, q("ETH", 7.0));
        assert_eq!(kept.clone(), kept);
    }
}
