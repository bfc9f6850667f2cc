//! What the account holds: positions and balances, as agents see them.

use serde::{Deserialize, Serialize};

use super::Name;

/// A position in one symbol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Symbol.
    pub symbol: Name,
    /// Signed quantity: > 0 long, < 0 short.
    pub quantity: f64,
    /// Average entry price of the open quantity (0 when flat).
    pub average_price: f64,
    /// Realised PnL after fees, quote asset.
    pub realized_pnl: f64,
}

/// A balance of one asset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    /// Asset.
    pub asset: Name,
    /// Available.
    pub free: f64,
    /// Reserved by open orders.
    pub locked: f64,
}
