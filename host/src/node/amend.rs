//! An agent's changes to its working orders: cancel, and replace (cancel,
//! then a new order for what is still wanted once the venue confirms).
//!
//! Replace is done by the host as cancel-then-new rather than with a
//! venue's amend call, so it works the same on every venue and the new
//! size and price pass the risk agents and the hard limits like any new
//! order: a changed price is a new decision. Between the two the old order
//! is PENDING_REPLACE; fills that land meanwhile count against the new
//! order's quantity, and an order that fills completely first is simply
//! done. An agent may change only its own orders; anything else is refused
//! with `order_denied` and dead-lettered.

use super::Node;
use crate::model::{Envelope, ReasonCode};
use crate::oms::Replacement;

impl Node {
    /// The name of agent `idx` if order `order_id` is one of its own;
    /// otherwise the attempt to `what` it is dead-lettered and `None`.
    fn owner_or_refuse(
        &mut self,
        idx: usize,
        order_id: &str,
        what: &str,
        cause: &Envelope,
    ) -> Option<String> {
        let name = self.agents[idx].agent.name().to_string();
        if self.oms.get(order_id).is_some_and(|o| o.agent == name) {
            return Some(name);
        }
        self.dead_letter(
            &name,
            ReasonCode::OrderDenied,
            format!(
                "agent `{name}` tried to {what} order `{order_id}`, which is not one of its orders"
            ),
            cause.clone(),
            1,
        );
        None
    }

    pub(super) fn cancel(&mut self, idx: usize, order_id: &str, cause: &Envelope) {
        let Some(name) = self.owner_or_refuse(idx, order_id, "cancel", cause) else {
            return;
        };
        let done = self.oms.get(order_id).is_some_and(|o| o.state.is_final());
        if done && let Some(stop) = self.oms.stops.cancel(order_id) {
            tracing::info!(agent = %name, "stop of order `{order_id}` at {} cancelled", stop.price);
            return;
        }
        if let Err(e) = self.oms.request_cancel(order_id) {
            tracing::info!(agent = %name, "cancel not sent: {e}");
            return;
        }
        match self.venue.cancel(order_id, self.now) {
            Ok(reports) => {
                for r in reports {
                    self.on_execution(&r, cause.trace_id);
                }
            }
            Err(e) => tracing::info!(agent = %name, "cancel refused by the venue: {e}"),
        }
    }

    pub(super) fn replace(
        &mut self,
        idx: usize,
        order_id: &str,
        with: Replacement,
        cause: &Envelope,
    ) {
        let Some(name) = self.owner_or_refuse(idx, order_id, "replace", cause) else {
            return;
        };
        let price_ok = with.limit_price.is_none_or(|p| p.is_finite() && p > 0.0);
        if !(with.quantity.is_finite() && with.quantity > 0.0 && price_ok) {
            let code = if price_ok {
                ReasonCode::InvalidQuantity
            } else {
                ReasonCode::LimitPriceBand
            };
            self.dead_letter(
                &name,
                code,
                format!(
                    "agent `{name}` asked to replace order `{order_id}` with quantity {} at {:?}; \
                     the quantity must be a positive number and the price positive",
                    with.quantity, with.limit_price
                ),
                cause.clone(),
                1,
            );
            return;
        }
        if let Err(e) = self.oms.request_replace(order_id, with) {
            tracing::info!(agent = %name, "replace not sent: {e}");
            return;
        }
        match self.venue.cancel(order_id, self.now) {
            Ok(reports) => {
                for r in reports {
                    self.on_execution(&r, cause.trace_id);
                }
            }
            Err(e) => {
                tracing::info!(agent = %name, "replace: the cancel was refused by the venue: {e}")
            }
        }
    }

    /// Order `order_id` has just reached a final state: if a replace was
    /// waiting for that, send the new order.
    pub(super) fn follow_replacement(&mut self, order_id: &str, trace: u64) {
        let Some((agent, intent)) = self.oms.take_replacement(order_id) else {
            return;
        };
        let Some(&idx) = self.by_name.get(&agent) else {
            tracing::warn!(
                "order `{order_id}` was cancelled to be replaced, but agent `{agent}` is gone; nothing sent"
            );
            return;
        };
        tracing::info!(agent = %agent, "order `{order_id}` replaced by {} at {:?}", intent.quantity, intent.limit_price);
        self.place(idx, intent, trace);
    }
}
