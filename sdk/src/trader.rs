//! [`Targeter`]: move a position to a target quantity one order at a time.
//!
//! Strategies usually decide "I want to be +0.1 BTC" rather than "buy 0.2".
//! The targeter turns a target into an order from the host's position view
//! and keeps at most one order of its own working, so a strategy never stacks
//! a second order on top of one whose fill it has not seen yet. After a
//! rejection it waits `cooldown` calls of [`Targeter::move_to`] before it
//! asks again, instead of hammering the risk stage on every tick.

use crate::position::order_to_target;
use crate::{OrderEvent, OrderStatus, Outputs, host};
use serde::{Deserialize, Serialize};

/// Moves one symbol's position to a target with market orders.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Targeter {
    symbol: String,
    tag: String,
    min_quantity: f64,
    pending: bool,
    #[serde(default)]
    cooldown: u32,
    #[serde(default)]
    wait: u32,
}

/// Calls to wait after a rejection, unless set with [`Targeter::with_cooldown`].
pub const DEFAULT_COOLDOWN: u32 = 100;

impl Targeter {
    /// A targeter for `symbol`; its orders carry `tag`; differences below
    /// `min_quantity` are ignored.
    pub fn new(symbol: &str, tag: &str, min_quantity: f64) -> Self {
        Self {
            symbol: symbol.to_string(),
            tag: tag.to_string(),
            min_quantity,
            pending: false,
            cooldown: DEFAULT_COOLDOWN,
            wait: 0,
        }
    }

    /// Wait `calls` calls of `move_to` after a rejection before ordering again.
    pub fn with_cooldown(mut self, calls: u32) -> Self {
        self.cooldown = calls;
        self
    }

    /// True while an order of ours is working.
    pub fn pending(&self) -> bool {
        self.pending
    }

    /// Emit the order that takes the position to `target`, unless one is
    /// already working or the position is there. Returns true if it ordered.
    pub fn move_to(&mut self, target: f64, out: &mut Outputs) -> bool {
        if self.pending {
            return false;
        }
        if self.wait > 0 {
            self.wait -= 1;
            return false;
        }
        let current = host::position(&self.symbol).quantity;
        match order_to_target(current, target, self.min_quantity) {
            Some((side, quantity)) => {
                out.market(&self.symbol, side, quantity, &self.tag);
                self.pending = true;
                true
            }
            None => false,
        }
    }

    /// Feed every order event; clears the pending flag when our order is done.
    pub fn on_order_event(&mut self, event: &OrderEvent) {
        if event.tag != self.tag || event.symbol != self.symbol {
            return;
        }
        let done = matches!(
            event.status,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Rejected(_)
                | OrderStatus::Expired
        );
        if done {
            self.pending = false;
        }
        if matches!(event.status, OrderStatus::Rejected(_)) {
            self.wait = self.cooldown;
        }
    }
}
