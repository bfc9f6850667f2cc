//! [`Targeter`]: move a position to a target quantity one order at a time.
//!
//! Strategies usually decide "I want to be +0.1 BTC" rather than "buy 0.2".
//! The targeter turns a target into an order from the host's position view
//! and keeps at most one order of its own working, so a strategy never stacks
//! a second order on top of one whose fill it has not seen yet.

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
}

impl Targeter {
    /// A targeter for `symbol`; its orders carry `tag`; differences below
    /// `min_quantity` are ignored.
    pub fn new(symbol: &str, tag: &str, min_quantity: f64) -> Self {
        Self {
            symbol: symbol.to_string(),
            tag: tag.to_string(),
            min_quantity,
            pending: false,
        }
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
    }
}
