//! The view agents read through `position-of`, `balance-of`, `quote-of`
//! and `open-orders`. The node writes it as quotes, fills and order events
//! arrive; agent calls read it.

use rustc_hash::FxHashMap;
use std::sync::RwLock;

use crate::agent::View;
use crate::model::{Balance, Name, OpenOrder, Position, Quote};

/// Keyed by the config's symbols and assets: an agent's `quote-of` may
/// look up any string, but only the host puts keys in, so Fx hashing
/// (read on every quote and every `position-of`) has no collisions to
/// fear.
#[derive(Default)]
struct Data {
    quotes: FxHashMap<Name, Quote>,
    positions: FxHashMap<Name, Position>,
    balances: FxHashMap<Name, Balance>,
    /// Working orders per symbol, oldest first.
    open: FxHashMap<Name, Vec<OpenOrder>>,
}

/// The node's view, shared with every agent's store.
#[derive(Default)]
pub struct SharedView(RwLock<Data>);

impl SharedView {
    /// Record a new top of book.
    pub fn set_quote(&self, q: &Quote) {
        let mut d = self.0.write().expect("view lock poisoned");
        match d.quotes.get_mut(&q.symbol) {
            Some(slot) => slot.clone_from(q),
            None => {
                d.quotes.insert(q.symbol.clone(), q.clone());
            }
        }
    }

    /// Forget everything (a node carrying on from a checkpoint rebuilds
    /// the view from the state).
    pub fn clear(&self) {
        *self.0.write().expect("view lock poisoned") = Data::default();
    }

    /// Every symbol's last top of book, by symbol (for a checkpoint).
    pub fn quotes(&self) -> Vec<Quote> {
        let d = self.0.read().expect("view lock poisoned");
        let mut q: Vec<Quote> = d.quotes.values().cloned().collect();
        q.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        q
    }

    /// Replace every top of book with `quotes`.
    pub fn set_quotes(&self, quotes: &[Quote]) {
        let mut d = self.0.write().expect("view lock poisoned");
        d.quotes = quotes
            .iter()
            .map(|q| (q.symbol.clone(), q.clone()))
            .collect();
    }

    /// Record a position.
    pub fn set_position(&self, p: Position) {
        self.0
            .write()
            .expect("view lock poisoned")
            .positions
            .insert(p.symbol.clone(), p);
    }

    /// Record a balance.
    pub fn set_balance(&self, b: Balance) {
        self.0
            .write()
            .expect("view lock poisoned")
            .balances
            .insert(b.asset.clone(), b);
    }
}

impl SharedView {
    /// Record where an order stands: a working order is added or updated,
    /// a finished one (`working` false) removed.
    pub fn set_order(&self, order: OpenOrder, working: bool) {
        let mut d = self.0.write().expect("view lock poisoned");
        let list = d.open.entry(order.intent.symbol.clone()).or_default();
        match list.iter().position(|o| o.order_id == order.order_id) {
            Some(i) if working => list[i] = order,
            Some(i) => {
                list.remove(i);
            }
            None if working => list.push(order),
            None => {}
        }
    }
}

impl View for SharedView {
    fn position(&self, symbol: &str) -> Position {
        let d = self.0.read().expect("view lock poisoned");
        d.positions
            .get(symbol)
            .cloned()
            .unwrap_or_else(|| Position {
                symbol: symbol.into(),
                ..Position::default()
            })
    }

    fn position_numbers(&self, symbol: &str) -> (f64, f64, f64) {
        let d = self.0.read().expect("view lock poisoned");
        d.positions.get(symbol).map_or((0.0, 0.0, 0.0), |p| {
            (p.quantity, p.average_price, p.realized_pnl)
        })
    }

    fn balance(&self, asset: &str) -> Balance {
        let d = self.0.read().expect("view lock poisoned");
        d.balances.get(asset).cloned().unwrap_or_else(|| Balance {
            asset: asset.into(),
            ..Balance::default()
        })
    }

    fn quote(&self, symbol: &str) -> Option<Quote> {
        self.0
            .read()
            .expect("view lock poisoned")
            .quotes
            .get(symbol)
            .cloned()
    }

    fn open_orders(&self, symbol: &str) -> Vec<OpenOrder> {
        self.0
            .read()
            .expect("view lock poisoned")
            .open
            .get(symbol)
            .cloned()
            .unwrap_or_default()
    }
}
