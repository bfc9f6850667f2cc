//! Protective stops the host holds for filled orders.
//!
//! An order intent may carry a `stop-price`. As the order fills, the host
//! arms a stop for the filled quantity: a long's stop sells when the bid
//! falls to it, a short's buys when the ask rises to it. The stop lives in
//! the host, not in the agent, so it fires even when the strategy that
//! opened the position is slow, faulted, quarantined or swapped out — the
//! failure a risk manager fears most is a position nobody watches.
//!
//! A stop never grows a position: after every fill the stops in a symbol
//! are fitted to the position (a long's stops together cover at most the
//! long quantity; the newest shrink first), so a strategy that exits on its
//! own leaves no stop behind. Held in the host rather than at the venue, a
//! stop works on every venue and in every trading state, but only while
//! the host runs; recovery re-arms it from the journal.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::Side;

/// One armed stop.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Stop {
    /// The filled order that asked for it.
    pub origin: String,
    /// That order's agent (the exit order is its).
    pub agent: String,
    /// Symbol.
    pub symbol: String,
    /// The side of the closing order: sell for a long, buy for a short.
    pub exit: Side,
    /// The trigger price.
    pub price: f64,
    /// Quantity it closes.
    pub quantity: f64,
}

impl Stop {
    /// Whether a quote `bid`/`ask` reaches the stop.
    pub fn reached(&self, bid: f64, ask: f64) -> bool {
        match self.exit {
            Side::Sell => bid > 0.0 && bid <= self.price,
            Side::Buy => ask > 0.0 && ask >= self.price,
        }
    }
}

/// Every armed stop, per symbol in the order they were armed.
#[derive(Debug, Default)]
pub struct Stops {
    by_symbol: HashMap<String, Vec<Stop>>,
}

impl Stops {
    /// Stops armed before (a snapshot's, in the order [`Stops::all`] gave
    /// them).
    pub fn from_armed(stops: impl IntoIterator<Item = Stop>) -> Self {
        let mut by_symbol: HashMap<String, Vec<Stop>> = HashMap::new();
        for s in stops {
            by_symbol.entry(s.symbol.clone()).or_default().push(s);
        }
        Self { by_symbol }
    }

    /// A fill of `quantity` of order `origin` (`side`, by `agent`) whose
    /// intent asked for a stop at `price`: the stop covers that much more.
    pub fn on_fill(
        &mut self,
        origin: &str,
        agent: &str,
        symbol: &str,
        side: Side,
        quantity: f64,
        price: f64,
    ) {
        let list = self.by_symbol.entry(symbol.to_string()).or_default();
        match list.iter_mut().find(|s| s.origin == origin) {
            Some(s) => s.quantity += quantity,
            None => list.push(Stop {
                origin: origin.to_string(),
                agent: agent.to_string(),
                symbol: symbol.to_string(),
                exit: side.opposite(),
                price,
                quantity,
            }),
        }
    }

    /// Fit the stops in `symbol` to a signed `position`: stops on the
    /// other side of it are dropped, the rest cover at most its size
    /// (the newest shrink first). Returns the stops dropped.
    pub fn fit(&mut self, symbol: &str, position: f64) -> Vec<Stop> {
        let Some(list) = self.by_symbol.get_mut(symbol) else {
            return Vec::new();
        };
        let (mut long_room, mut short_room) = (position.max(0.0), (-position).max(0.0));
        // Oldest keep their cover: walk the list from the front.
        for s in list.iter_mut() {
            let room = match s.exit {
                Side::Sell => &mut long_room,
                Side::Buy => &mut short_room,
            };
            s.quantity = s.quantity.min(*room);
            *room -= s.quantity;
        }
        let (kept, dropped) = list
            .drain(..)
            .partition(|s| s.quantity > 1e-12 * (1.0 + position.abs()));
        *list = kept;
        if list.is_empty() {
            self.by_symbol.remove(symbol);
        }
        dropped
    }

    /// Remove and return the stop armed for order `origin`.
    pub fn cancel(&mut self, origin: &str) -> Option<Stop> {
        let (symbol, i) = self.by_symbol.iter().find_map(|(sym, list)| {
            list.iter()
                .position(|s| s.origin == origin)
                .map(|i| (sym.clone(), i))
        })?;
        let list = self.by_symbol.get_mut(&symbol)?;
        let stop = list.remove(i);
        if list.is_empty() {
            self.by_symbol.remove(&symbol);
        }
        Some(stop)
    }

    /// Remove and return the stops in `symbol` that a quote reaches.
    pub fn reached(&mut self, symbol: &str, bid: f64, ask: f64) -> Vec<Stop> {
        let Some(list) = self.by_symbol.get_mut(symbol) else {
            return Vec::new();
        };
        if !list.iter().any(|s| s.reached(bid, ask)) {
            return Vec::new();
        }
        let (hit, kept): (Vec<_>, Vec<_>) = list.drain(..).partition(|s| s.reached(bid, ask));
        *list = kept;
        if list.is_empty() {
            self.by_symbol.remove(symbol);
        }
        hit
    }

    /// Every armed stop, by symbol.
    pub fn all(&self) -> impl Iterator<Item = &Stop> {
        self.by_symbol.values().flatten()
    }

    /// Whether any stop is armed in `symbol`.
    pub fn any_in(&self, symbol: &str) -> bool {
        self.by_symbol.contains_key(symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_stop_sells_when_the_bid_falls_to_it_and_a_short_one_buys_on_the_ask() {
        let mut s = Stops::default();
        s.on_fill("a-1", "a", "X", Side::Buy, 2.0, 95.0);
        s.on_fill("a-1", "a", "X", Side::Buy, 1.0, 95.0);
        s.on_fill("a-2", "a", "Y", Side::Sell, 1.0, 105.0);
        assert!(s.reached("X", 95.1, 95.2).is_empty());
        let hit = s.reached("X", 95.0, 95.1);
        assert_eq!(hit.len(), 1);
        assert_eq!((hit[0].exit, hit[0].quantity), (Side::Sell, 3.0));
        assert!(!s.any_in("X"));
        // A short's stop sits above: the bid going up does nothing, the ask does.
        assert!(s.reached("Y", 106.0, 104.9).is_empty());
        let hit = s.reached("Y", 104.9, 105.0);
        assert_eq!((hit[0].exit, hit[0].origin.as_str()), (Side::Buy, "a-2"));
    }

    #[test]
    fn stops_follow_the_position_down_and_vanish_when_it_is_flat() {
        let mut s = Stops::default();
        s.on_fill("a-1", "a", "X", Side::Buy, 2.0, 95.0);
        s.on_fill("b-1", "b", "X", Side::Buy, 1.0, 90.0);
        // The strategy sold 1.5 of the 3: the newest stop goes first.
        let dropped = s.fit("X", 1.5);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].origin, "b-1");
        let left: Vec<_> = s.all().map(|x| (x.origin.clone(), x.quantity)).collect();
        assert_eq!(left, [("a-1".to_string(), 1.5)]);
        // Flat, then short: a long's stop must not buy… or sell.
        assert_eq!(s.fit("X", -1.0).len(), 1);
        assert_eq!(s.all().count(), 0);
    }

    #[test]
    fn cancelling_the_origin_cancels_its_stop_only() {
        let mut s = Stops::default();
        s.on_fill("a-1", "a", "X", Side::Buy, 1.0, 95.0);
        s.on_fill("a-2", "a", "X", Side::Buy, 1.0, 96.0);
        assert_eq!(s.cancel("a-1").map(|x| x.price), Some(95.0));
        assert_eq!(s.cancel("a-1"), None);
        assert_eq!(s.all().count(), 1);
    }
}
