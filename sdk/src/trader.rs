//! [`Targeter`]: move a position to a target quantity one order at a time.
//!
//! Strategies usually decide "I want to be +0.1 BTC" rather than "buy 0.2".
//! The targeter turns a target into an order from the host's position view
//! and keeps at most one order of its own working, so a strategy never stacks
//! a second order on top of one whose fill it has not seen yet. After a
//! rejection it waits `cooldown` calls of [`Targeter::move_to`] before it
//! asks again, instead of hammering the risk stage on every tick.

use crate::position::order_to_target;
use crate::{OrderEvent, OrderStatus, Outputs, Side, host};
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
    /// Protective stop distance for orders that grow the position, % of
    /// the price (0: none).
    #[serde(default)]
    stop_pct: f64,
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
            stop_pct: 0.0,
        }
    }

    /// Give every order that opens or grows the position a protective stop
    /// `pct` % away from the price it pays (below for a long, above for a
    /// short); the host holds it once the order fills. 0 turns it off.
    pub fn with_stop_pct(mut self, pct: f64) -> Self {
        self.stop_pct = pct;
        self
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
        let current = host::quantity(&self.symbol);
        match order_to_target(current, target, self.min_quantity) {
            Some((side, quantity)) => {
                // Opens, grows or flips: the new exposure needs a stop.
                let grows = target.abs() > current.abs() || target * current < 0.0;
                // The quote is asked for only when a stop is to be placed:
                // it is a call into the host.
                let price = (grows && self.stop_pct > 0.0)
                    .then(|| host::quote(&self.symbol))
                    .flatten()
                    .map(|q| match side {
                        Side::Buy => q.ask,
                        Side::Sell => q.bid,
                    });
                match price.filter(|p| *p > 0.0) {
                    Some(p) => {
                        let stop = p * (1.0 - side_sign(side) * self.stop_pct / 100.0);
                        out.market_with_stop(&self.symbol, side, quantity, stop, &self.tag);
                    }
                    None => out.market(&self.symbol, side, quantity, &self.tag),
                }
                self.pending = true;
                true
            }
            None => false,
        }
    }

    /// Feed every order event; clears the pending flag when our order is
    /// done. A fill of the host's protective stop (tag `stop:…`) makes it
    /// stand aside for `cooldown` calls, so a strategy whose target has not
    /// changed does not buy straight back into the move that stopped it.
    pub fn on_order_event(&mut self, event: &OrderEvent) {
        if event.symbol != self.symbol {
            return;
        }
        if event.tag.starts_with("stop:") {
            if event.last_quantity > 0.0 {
                self.wait = self.cooldown;
            }
            return;
        }
        if event.tag != self.tag {
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

/// +1 for a buy, -1 for a sell.
fn side_sign(side: Side) -> f64 {
    match side {
        Side::Buy => 1.0,
        Side::Sell => -1.0,
    }
}
