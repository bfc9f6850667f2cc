//! The host's imports, wrapped: event time, config, views (positions,
//! balances, quotes, open orders), timers, logging.
//!
//! Every function here is answered by the host from its own state in the
//! order of the journal, so calling them keeps the agent deterministic.

use crate::bindings::floor::agent::host as raw;
use crate::{Balance, LogLevel, OpenOrder, Position, Quote};

/// Event time of the message being handled, ns since the Unix epoch.
pub fn now() -> u64 {
    raw::now()
}

/// A config value, if set.
pub fn config(key: &str) -> Option<String> {
    raw::config(key)
}

/// The account's position in `symbol`. For the symbol of the quote,
/// trade or order intent being handled the host has sent it along with
/// it, so no call into the host is made ([`crate::market`],
/// [`crate::intents`]).
pub fn position(symbol: &str) -> Position {
    crate::kept::carried_position(symbol).unwrap_or_else(|| raw::position_of(symbol))
}

/// The signed quantity held in `symbol` (> 0 long, < 0 short, 0 flat):
/// [`position`]'s `quantity`, without copying the position (strategies
/// ask it on every tick).
pub fn quantity(symbol: &str) -> f64 {
    crate::kept::carried_quantity(symbol).unwrap_or_else(|| raw::position_of(symbol).quantity)
}

/// The account's balance of `asset`.
pub fn balance(asset: &str) -> Balance {
    raw::balance_of(asset)
}

/// Latest top of book for `symbol`. For the symbol of the order intent
/// being handled the host has sent it along ([`crate::intents`]).
pub fn quote(symbol: &str) -> Option<Quote> {
    crate::intents::quote_of(symbol).unwrap_or_else(|| raw::quote_of(symbol))
}

/// The account's working orders in `symbol` (every agent's), oldest first.
pub fn open_orders(symbol: &str) -> Vec<OpenOrder> {
    raw::open_orders(symbol)
}

/// Ask for a timer message with `id` at event time `due`; false if refused.
pub fn set_timer(id: &str, due: u64) -> bool {
    raw::set_timer(id, due)
}

/// Cancel a timer; true if it was set.
pub fn cancel_timer(id: &str) -> bool {
    raw::cancel_timer(id)
}

/// Log a line at `level`.
pub fn log(level: LogLevel, message: &str) {
    raw::log(level, message)
}

/// Log at info level.
pub fn info(message: &str) {
    log(LogLevel::Info, message)
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message)
}
