//! Accounts: balances per asset, free and locked.
//!
//! An open order locks what it may spend (quote for a buy, base for a sell)
//! so that two orders cannot spend the same funds; a fill moves locked
//! funds to the other side, and a cancel frees what is left.

use serde::{Deserialize, Serialize};

use crate::model::Fixed;

/// One asset's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balance {
    /// Spendable.
    pub free: Fixed,
    /// Held by open orders.
    pub locked: Fixed,
}

/// An account at the exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Its name (for logs and the API key table).
    pub name: String,
    /// Maker fee, basis points.
    pub maker_bps: i64,
    /// Taker fee, basis points.
    pub taker_bps: i64,
    /// Balances indexed by asset id (the exchange's asset table).
    balances: Vec<Balance>,
}

impl Account {
    /// An empty account with fees in basis points.
    pub fn new(name: &str, maker_bps: i64, taker_bps: i64) -> Account {
        Account {
            name: name.to_string(),
            maker_bps,
            taker_bps,
            balances: Vec::new(),
        }
    }

    fn slot(&mut self, asset: usize) -> &mut Balance {
        if self.balances.len() <= asset {
            self.balances.resize(asset + 1, Balance::default());
        }
        &mut self.balances[asset]
    }

    /// The balance of one asset.
    pub fn balance(&self, asset: usize) -> Balance {
        self.balances.get(asset).copied().unwrap_or_default()
    }

    /// Every asset id with a non-zero balance, and its balance.
    pub fn balances(&self) -> impl Iterator<Item = (usize, Balance)> + '_ {
        self.balances
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.free.is_zero() || !b.locked.is_zero())
            .map(|(i, b)| (i, *b))
    }

    /// Add to the free balance (a deposit, proceeds of a fill).
    pub fn credit(&mut self, asset: usize, amount: Fixed) {
        self.slot(asset).free += amount;
    }

    /// Move `amount` from free to locked; false (and nothing moved) when
    /// the free balance is short.
    pub fn lock(&mut self, asset: usize, amount: Fixed) -> bool {
        let b = self.slot(asset);
        if b.free < amount {
            return false;
        }
        b.free -= amount;
        b.locked += amount;
        true
    }

    /// Move `amount` from locked back to free.
    pub fn unlock(&mut self, asset: usize, amount: Fixed) {
        let b = self.slot(asset);
        b.locked -= amount;
        b.free += amount;
    }

    /// Take `amount` out of locked funds (what a fill pays).
    pub fn spend_locked(&mut self, asset: usize, amount: Fixed) {
        self.slot(asset).locked -= amount;
    }
}
