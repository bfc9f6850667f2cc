//! The node's side of protective stops (see [`crate::oms::stops`]): fire
//! the ones a quote reaches, keep the agents' `open-orders` view current,
//! and send orders to the venue.
//!
//! A fired stop is a market order for the stop's agent, tagged
//! `stop:<origin order id>`, sized to what the position still holds less
//! what working orders on the same side already close, so a stop and the
//! strategy's own exit never sell the same coins twice. It does not go
//! through the risk agents, the hard limits or the trading state: it can
//! only make a position smaller, and HALTED must not keep a position from
//! being closed. Every stop fired is logged and counted
//! (`stops_triggered`).

use super::Node;
use super::stats::Stats;
use crate::model::{OpenOrder, OrderIntent, OrderType, Quote, Side, TimeInForce};
use crate::oms::Stop;
use crate::venue::VenueOrder;

impl Node {
    /// Fire every stop `q` reaches, as part of trace `trace`.
    pub(super) fn fire_stops(&mut self, q: &Quote, trace: u64) {
        if !self.oms.stops.any_in(&q.symbol) {
            return;
        }
        for stop in self.oms.stops.reached(&q.symbol, q.bid, q.ask) {
            self.fire_stop(stop, q, trace);
        }
    }

    fn fire_stop(&mut self, stop: Stop, q: &Quote, trace: u64) {
        let position = self.oms.portfolio.position(&stop.symbol).quantity;
        let held = match stop.exit {
            Side::Sell => position.max(0.0),
            Side::Buy => (-position).max(0.0),
        };
        let closing: f64 = self
            .oms
            .open_orders()
            .filter(|o| o.intent.symbol == stop.symbol && o.intent.side == stop.exit)
            .map(|o| (o.intent.quantity - o.filled).max(0.0))
            .sum();
        let quantity = stop.quantity.min(held - closing);
        if quantity <= 1e-12 {
            tracing::info!(
                "stop of order `{}` reached at bid {} / ask {}, but working orders already close the position",
                stop.origin,
                q.bid,
                q.ask
            );
            return;
        }
        tracing::warn!(
            agent = %stop.agent,
            "stop of order `{}` reached at bid {} / ask {} (stop {}): {} {} {} at market",
            stop.origin,
            q.bid,
            q.ask,
            stop.price,
            stop.exit.name(),
            quantity,
            stop.symbol
        );
        Stats::bump(&self.stats.stops_triggered);
        let intent = OrderIntent {
            symbol: stop.symbol.into(),
            side: stop.exit,
            order_type: OrderType::Market,
            quantity,
            limit_price: None,
            time_in_force: TimeInForce::Ioc,
            tag: format!("stop:{}", stop.origin).into(),
            stop_price: None,
        };
        self.send_to_venue(&stop.agent, intent, trace);
    }

    /// Create the order for `agent` and send it to the venue; apply what the
    /// venue answers at once.
    pub(super) fn send_to_venue(&mut self, agent: &str, intent: OrderIntent, trace: u64) {
        let order_id = self.oms.create(agent, intent.clone());
        let order = VenueOrder::from_intent(order_id.clone(), &intent);
        self.track_order(&order_id);
        Stats::bump(&self.stats.orders);
        let reports = self.venue.submit(order, self.now);
        for r in reports {
            self.on_execution(&r, trace);
        }
    }

    /// Bring order `id` up to date in the agents' `open-orders` view.
    pub(super) fn track_order(&self, id: &str) {
        if let Some(o) = self.oms.get(id) {
            let working = !o.state.is_final();
            self.view.set_order(
                OpenOrder {
                    order_id: o.id.clone(),
                    agent: o.agent.clone(),
                    intent: o.intent.clone(),
                    filled: o.filled,
                },
                working,
            );
        }
    }
}
