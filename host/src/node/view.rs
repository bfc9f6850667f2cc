//! The view agents read through `position-of`, `balance-of`, `quote-of`.
//! The node writes it as quotes and fills arrive; agent calls read it.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::agent::View;
use crate::model::{Balance, Position, Quote};

#[derive(Default)]
struct Data {
    quotes: HashMap<String, Quote>,
    positions: HashMap<String, Position>,
    balances: HashMap<String, Balance>,
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

impl View for SharedView {
    fn position(&self, symbol: &str) -> Position {
        let d = self.0.read().expect("view lock poisoned");
        d.positions
            .get(symbol)
            .cloned()
            .unwrap_or_else(|| Position {
                symbol: symbol.to_string(),
                ..Position::default()
            })
    }

    fn balance(&self, asset: &str) -> Balance {
        let d = self.0.read().expect("view lock poisoned");
        d.balances.get(asset).cloned().unwrap_or_else(|| Balance {
            asset: asset.to_string(),
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
}
