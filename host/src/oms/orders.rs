//! Orders and their execution reports.
//!
//! Order ids are deterministic (`<agent>-<n>`), so replaying the journal
//! assigns the same ids. A report for an order the host does not know, or
//! one after the order was done, is an error the node counts and logs —
//! never applied silently. The full state machine (pending cancel/replace,
//! late fills after cancel) comes with the orders-and-risk work.

use std::collections::HashMap;

use crate::model::{ExecutionReport, OrderEvent, OrderIntent, OrderStatus};

use super::Portfolio;

/// An order the host created.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Host-assigned id.
    pub id: String,
    /// Agent that asked for it.
    pub agent: String,
    /// What was asked (after any resize).
    pub intent: OrderIntent,
    /// Filled so far.
    pub filled: f64,
    /// Current status.
    pub status: OrderStatus,
}

/// Why a report could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OmsError {
    /// No order with that id.
    #[error("execution report for unknown order `{0}`")]
    UnknownOrder(String),
    /// The order was already final.
    #[error("execution report ({status}) for order `{id}`, which is already {current}")]
    AlreadyDone {
        /// Order id.
        id: String,
        /// Its final status.
        current: &'static str,
        /// The report's status.
        status: &'static str,
    },
}

/// The order manager.
#[derive(Debug, Default)]
pub struct Oms {
    orders: HashMap<String, Order>,
    counters: HashMap<String, u64>,
    /// Positions, cash and PnL.
    pub portfolio: Portfolio,
}

impl Oms {
    /// An order manager over `portfolio`.
    pub fn new(portfolio: Portfolio) -> Self {
        Self {
            portfolio,
            ..Self::default()
        }
    }

    /// Create an order for `agent` and return its id.
    pub fn create(&mut self, agent: &str, intent: OrderIntent) -> String {
        let n = self.counters.entry(agent.to_string()).or_default();
        *n += 1;
        let id = format!("{agent}-{n}");
        self.orders.insert(
            id.clone(),
            Order {
                id: id.clone(),
                agent: agent.to_string(),
                intent,
                filled: 0.0,
                status: OrderStatus::Accepted,
            },
        );
        id
    }

    /// An order by id.
    pub fn get(&self, id: &str) -> Option<&Order> {
        self.orders.get(id)
    }

    /// Orders not yet final.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values().filter(|o| !o.status.is_final())
    }

    /// Apply a venue report: update the order and the portfolio, and return
    /// the event to publish.
    ///
    /// # Errors
    /// [`OmsError`] for unknown orders and reports after the order was done.
    pub fn apply(&mut self, report: &ExecutionReport) -> Result<OrderEvent, OmsError> {
        let order = self
            .orders
            .get_mut(&report.order_id)
            .ok_or_else(|| OmsError::UnknownOrder(report.order_id.clone()))?;
        if order.status.is_final() {
            return Err(OmsError::AlreadyDone {
                id: order.id.clone(),
                current: order.status.name(),
                status: report.status.name(),
            });
        }
        order.status = report.status.clone();
        if report.last_quantity > 0.0 {
            order.filled += report.last_quantity;
            self.portfolio.apply_fill(
                &order.intent.symbol,
                order.intent.side,
                report.last_quantity,
                report.last_price,
                report.fee,
            );
        }
        Ok(OrderEvent {
            order_id: order.id.clone(),
            agent: order.agent.clone(),
            tag: order.intent.tag.clone(),
            symbol: order.intent.symbol.clone(),
            side: order.intent.side,
            status: report.status.clone(),
            last_quantity: report.last_quantity,
            last_price: report.last_price,
            cumulative_quantity: order.filled,
            leaves_quantity: if order.status.is_final() {
                0.0
            } else {
                (order.intent.quantity - order.filled).max(0.0)
            },
            fee: report.fee,
        })
    }

    /// Record an intent the host refused before it reached the venue, and
    /// return its rejection event (the order gets an id so it can be traced).
    pub fn reject(&mut self, agent: &str, intent: OrderIntent, reason: String) -> OrderEvent {
        let id = self.create(agent, intent);
        let report = ExecutionReport {
            order_id: id,
            status: OrderStatus::Rejected { reason },
            last_quantity: 0.0,
            last_price: 0.0,
            fee: 0.0,
        };
        self.apply(&report)
            .expect("a new order accepts its first report")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderType, Side, TimeInForce};

    fn intent(qty: f64) -> OrderIntent {
        OrderIntent {
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            order_type: OrderType::Market,
            quantity: qty,
            limit_price: None,
            time_in_force: TimeInForce::Ioc,
            tag: "t".into(),
        }
    }

    fn report(id: &str, status: OrderStatus, qty: f64) -> ExecutionReport {
        ExecutionReport {
            order_id: id.into(),
            status,
            last_quantity: qty,
            last_price: 100.0,
            fee: 0.0,
        }
    }

    #[test]
    fn ids_are_per_agent_and_deterministic() {
        let mut oms = Oms::default();
        assert_eq!(oms.create("a", intent(1.0)), "a-1");
        assert_eq!(oms.create("b", intent(1.0)), "b-1");
        assert_eq!(oms.create("a", intent(1.0)), "a-2");
    }

    #[test]
    fn fills_accumulate_and_reports_after_done_are_errors() {
        let mut oms = Oms::default();
        let id = oms.create("a", intent(2.0));
        let e = oms
            .apply(&report(&id, OrderStatus::PartiallyFilled, 0.5))
            .unwrap();
        assert_eq!((e.cumulative_quantity, e.leaves_quantity), (0.5, 1.5));
        let e = oms.apply(&report(&id, OrderStatus::Filled, 1.5)).unwrap();
        assert_eq!((e.cumulative_quantity, e.leaves_quantity), (2.0, 0.0));
        assert_eq!(oms.portfolio.position("BTCUSDT").quantity, 2.0);
        assert!(matches!(
            oms.apply(&report(&id, OrderStatus::Filled, 1.0)),
            Err(OmsError::AlreadyDone { .. })
        ));
        assert_eq!(
            oms.portfolio.position("BTCUSDT").quantity,
            2.0,
            "late report not applied"
        );
        assert!(matches!(
            oms.apply(&report("zzz", OrderStatus::Filled, 1.0)),
            Err(OmsError::UnknownOrder(_))
        ));
    }
}
