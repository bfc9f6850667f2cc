//! Orders and their execution reports.
//!
//! Order ids are deterministic (`<agent>-<n>`), so replaying the journal
//! assigns the same ids. Every order moves through the [`OrderState`]
//! machine: a report for an order the host does not know, one after the
//! order was done, or one that does not fit its state is an error the node
//! counts and logs — never applied silently. A fill after a cancel is
//! applied (the venue executed it) and counted as a late fill.
//!
//! Finished orders are not kept forever: a host that trades for weeks
//! would hold every order it ever sent. Each time the finished ones
//! outnumber twice what the last sweep kept (and at least
//! [`SWEEP_FLOOR`]), creating an order first sweeps them down to what can
//! still matter — per agent the last [`KEPT_FINISHED`] cancelled or
//! expired (a late fill may reach them), the last [`KEPT_DONE`] filled or
//! rejected (a duplicate report still reads "already FILLED"), and any
//! whose protective stop is armed (the agent cancels a stop by its order's
//! id). A report for an order swept away is an unknown order: counted and
//! logged, as after a restart, which keeps the same orders but the filled
//! and rejected ones. The sweep runs at a create, never right after a
//! final report, so the node can still read the order that just finished.

use std::collections::{HashMap, HashSet};

use crate::model::{ExecutionReport, Name, OrderEvent, OrderIntent, OrderStatus};

use super::snapshot::KEPT_FINISHED;
use super::state::{Applied, InvalidTransition, OrderState};
use super::{Portfolio, Stop, Stops};

/// Filled or rejected orders kept per agent after a sweep, newest by id
/// number.
pub const KEPT_DONE: usize = 256;

/// Finished orders held before the first sweep (and at least between two).
pub const SWEEP_FLOOR: usize = 4_096;

/// An order the host created.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    /// Host-assigned id.
    pub id: Name,
    /// Agent that asked for it.
    pub agent: Name,
    /// What was asked (after any resize).
    pub intent: OrderIntent,
    /// Filled so far.
    pub filled: f64,
    /// The last status published for it.
    pub status: OrderStatus,
    /// Where it stands in the host's state machine.
    pub state: OrderState,
    /// What replaces it once its cancel is confirmed (PENDING_REPLACE).
    pub replacement: Option<Replacement>,
}

/// A replace asked for: the new order's quantity (in all, including what
/// the old one filled) and limit price.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Replacement {
    /// Total quantity wanted; the new order is for this less what the old
    /// one filled.
    pub quantity: f64,
    /// New limit price (none: keep the old one).
    pub limit_price: Option<f64>,
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
        /// Its final state.
        current: &'static str,
        /// The report's status.
        status: &'static str,
    },
    /// The report does not fit the order's state.
    #[error("order `{id}`: {source}; the report was not applied")]
    Invalid {
        /// Order id.
        id: String,
        /// The transition refused.
        source: InvalidTransition,
    },
}

/// The order manager.
#[derive(Debug, Default)]
pub struct Oms {
    /// Keyed by ids the host makes (looked up by ids a venue reports):
    /// foldhash seeded per process, as the bus's routes, at a fraction of
    /// SipHash's cost on every order and report.
    orders: HashMap<Name, Order, foldhash::fast::RandomState>,
    /// How many of `orders` are not final (asked before every run of
    /// market events, where walking every order ever made would not do).
    open: usize,
    /// How many finished orders `orders` may hold before the next create
    /// sweeps them; 0 before the first create (then [`SWEEP_FLOOR`]).
    sweep_at: usize,
    /// Per agent: the last number given. The key is every one of the
    /// agent's orders' `agent` too (shared, not copied per order).
    counters: HashMap<Name, u64>,
    late_fills: u64,
    /// Positions, cash and PnL.
    pub portfolio: Portfolio,
    /// Protective stops armed by filled orders.
    pub stops: Stops,
}

impl Oms {
    /// An order manager over `portfolio`.
    pub fn new(portfolio: Portfolio) -> Self {
        Self {
            portfolio,
            ..Self::default()
        }
    }

    /// Number client order ids after `used` (per agent, the highest number
    /// already sent), so a host restarted on the same data directory never
    /// sends an id twice.
    pub fn continue_ids(&mut self, used: &std::collections::BTreeMap<String, u64>) {
        for (agent, n) in used {
            let c = self.counters.entry(Name::from(agent)).or_default();
            *c = (*c).max(*n);
        }
    }

    /// Create an order for `agent` and return its id.
    pub fn create(&mut self, agent: &str, intent: OrderIntent) -> Name {
        if self.orders.len() - self.open >= self.sweep_at.max(SWEEP_FLOOR) {
            self.sweep();
        }
        // Looked up before inserting: a known agent's counter costs no
        // allocation.
        let (agent, n) = match self.counters.get_key_value(agent) {
            Some((a, n)) => (a.clone(), n + 1),
            None => (Name::from(agent), 1),
        };
        // A known agent keeps its key (and every order shares it).
        self.counters.insert(agent.clone(), n);
        let id = Name::from(format!("{agent}-{n}"));
        self.open += 1;
        self.orders.insert(
            id.clone(),
            Order {
                id: id.clone(),
                agent,
                intent,
                filled: 0.0,
                status: OrderStatus::Accepted,
                state: OrderState::Submitted,
                replacement: None,
            },
        );
        id
    }

    /// An order by id.
    pub fn get(&self, id: &str) -> Option<&Order> {
        self.orders.get(id)
    }

    /// Whether any order is not final yet.
    pub fn any_open(&self) -> bool {
        self.open > 0
    }

    /// Forget the finished orders nothing can reach any more.
    fn sweep(&mut self) {
        let keep: HashSet<Name> = self
            .kept_finished(KEPT_DONE)
            .into_iter()
            .map(|o| o.id.clone())
            .collect();
        self.orders
            .retain(|id, o| !o.state.is_final() || keep.contains(id));
        self.sweep_at = 2 * keep.len();
    }

    /// Orders not yet final.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values().filter(|o| !o.state.is_final())
    }

    /// Everything a restarted host needs (see [`super::snapshot`]).
    pub fn state(&self) -> super::OmsState {
        let mut open: Vec<Order> = self.open_orders().cloned().collect();
        open.sort_by(|a, b| a.id.cmp(&b.id));
        let finished: Vec<Order> = self.kept_finished(0).into_iter().cloned().collect();
        // Stable: within a symbol, stops keep the order they were armed in.
        let mut stops: Vec<Stop> = self.stops.all().cloned().collect();
        stops.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        super::OmsState {
            open,
            finished,
            counters: self
                .counters
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            late_fills: self.late_fills,
            portfolio: self.portfolio.state(),
            stops,
        }
    }

    /// The finished orders worth keeping, sorted by agent and number: per
    /// agent the last [`KEPT_FINISHED`] cancelled or expired ones (a late
    /// fill may reach them) and the last `done` filled or rejected ones,
    /// and every one whose protective stop is armed.
    fn kept_finished(&self, done: usize) -> Vec<&Order> {
        let guarded: HashSet<&str> = self.stops.all().map(|s| s.origin.as_str()).collect();
        let guarded = &guarded;
        let mut finished: Vec<(&str, bool, u64, &Order)> = self
            .orders
            .values()
            .filter(|o| o.state.is_final())
            .map(|o| {
                let late = matches!(o.state, OrderState::Cancelled | OrderState::Expired);
                (o.agent.as_str(), late, id_number(&o.id), o)
            })
            .collect();
        finished.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let mut kept: Vec<(&str, u64, &Order)> = finished
            .chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
            .flat_map(|group| {
                let keep = if group[0].1 { KEPT_FINISHED } else { done };
                let from = group.len().saturating_sub(keep);
                group
                    .iter()
                    .enumerate()
                    .filter(move |(i, o)| *i >= from || guarded.contains(o.3.id.as_str()))
                    .map(|(_, (agent, _, n, o))| (*agent, *n, *o))
            })
            .collect();
        kept.sort_by_key(|(agent, n, _)| (*agent, *n));
        kept.into_iter().map(|(_, _, o)| o).collect()
    }

    /// Put back `state` (from [`Oms::state`]): its open orders, the
    /// finished ones a late fill may reach, id counters (never lowered),
    /// account and stops replace what is here. Other finished orders are
    /// forgotten: nothing more can happen to them.
    pub fn restore(&mut self, state: &super::OmsState) {
        self.orders = state
            .open
            .iter()
            .chain(&state.finished)
            .map(|o| (o.id.clone(), o.clone()))
            .collect();
        self.open = self.open_orders().count();
        self.continue_ids(&state.counters);
        self.late_fills = state.late_fills;
        self.portfolio.restore(&state.portfolio);
        self.stops = Stops::from_armed(state.stops.iter().cloned());
    }

    /// Fills applied after their order was cancelled or expired.
    pub fn late_fills(&self) -> u64 {
        self.late_fills
    }

    /// Note that a cancel of `id` is on its way.
    ///
    /// # Errors
    /// [`OmsError`] when there is no such order or it is not open.
    pub fn request_cancel(&mut self, id: &str) -> Result<(), OmsError> {
        let order = self
            .orders
            .get_mut(id)
            .ok_or_else(|| OmsError::UnknownOrder(id.to_string()))?;
        order.state = order.state.cancel().map_err(|source| OmsError::Invalid {
            id: id.to_string(),
            source,
        })?;
        Ok(())
    }

    /// Note that `id` is to be replaced by `with`: its cancel is on its
    /// way, and [`Oms::take_replacement`] gives the new intent once the
    /// venue confirms it.
    ///
    /// # Errors
    /// [`OmsError`] when there is no such order or it is not open.
    pub fn request_replace(&mut self, id: &str, with: Replacement) -> Result<(), OmsError> {
        let order = self
            .orders
            .get_mut(id)
            .ok_or_else(|| OmsError::UnknownOrder(id.to_string()))?;
        order.state = order.state.replace().map_err(|source| OmsError::Invalid {
            id: id.to_string(),
            source,
        })?;
        order.replacement = Some(with);
        Ok(())
    }

    /// The intent replacing order `id`, once it is cancelled: the old
    /// intent with the new price and the quantity still wanted (none when
    /// its fills already reached it). A replace of an order that filled
    /// completely first is dropped. Either way the replace is used up.
    pub fn take_replacement(&mut self, id: &str) -> Option<(String, OrderIntent)> {
        let order = self.orders.get_mut(id)?;
        if order.state != OrderState::Cancelled && order.state.is_final() {
            order.replacement = None;
        }
        if order.state != OrderState::Cancelled {
            return None;
        }
        let with = order.replacement.take()?;
        let quantity = with.quantity - order.filled;
        if quantity <= 1e-12 * with.quantity.max(1.0) {
            return None;
        }
        let intent = OrderIntent {
            quantity,
            limit_price: with.limit_price.or(order.intent.limit_price),
            ..order.intent.clone()
        };
        Some((order.agent.to_string(), intent))
    }

    /// Apply a venue report: update the order and the portfolio, and return
    /// the event to publish.
    ///
    /// # Errors
    /// [`OmsError`] for unknown orders and reports after the order was done.
    pub fn apply(&mut self, report: &ExecutionReport) -> Result<OrderEvent, OmsError> {
        let order = self
            .orders
            .get_mut(report.order_id.as_str())
            .ok_or_else(|| OmsError::UnknownOrder(report.order_id.to_string()))?;
        let fill = report.last_quantity > 0.0;
        match order.state.apply(&report.status, fill) {
            Ok(Applied::Step(next)) => {
                if next.is_final() && !order.state.is_final() {
                    self.open -= 1;
                }
                order.state = next;
                order.status = report.status.clone();
            }
            Ok(Applied::LateFill) => {
                self.late_fills += 1;
                tracing::warn!(
                    "order `{}`: a fill of {} after it was {}; applied (the venue executed it)",
                    order.id,
                    report.last_quantity,
                    order.state.name()
                );
            }
            Err(_) if order.state.is_final() => {
                return Err(OmsError::AlreadyDone {
                    id: order.id.to_string(),
                    current: order.state.name(),
                    status: report.status.name(),
                });
            }
            Err(source) => {
                return Err(OmsError::Invalid {
                    id: order.id.to_string(),
                    source,
                });
            }
        }
        if fill {
            order.filled += report.last_quantity;
            self.portfolio.apply_fill(
                &order.intent.symbol,
                order.intent.side,
                report.last_quantity,
                report.last_price,
                report.fee,
                report.fee_base,
            );
            let symbol = &order.intent.symbol;
            if let Some(stop) = order.intent.stop_price {
                self.stops.on_fill(
                    &order.id,
                    &order.agent,
                    symbol,
                    order.intent.side,
                    report.last_quantity,
                    stop,
                );
            }
            if self.stops.any_in(symbol) {
                let position = self.portfolio.position(symbol).quantity;
                for s in self.stops.fit(symbol, position) {
                    tracing::info!(
                        "stop of order `{}` ({} {} at {}) dropped: the position it protected is closed",
                        s.origin,
                        s.exit.name(),
                        s.symbol,
                        s.price
                    );
                }
            }
        }
        Ok(OrderEvent {
            order_id: order.id.clone(),
            agent: order.agent.clone(),
            tag: order.intent.tag.clone(),
            symbol: order.intent.symbol.clone(),
            side: order.intent.side,
            status: order.status.clone(),
            last_quantity: report.last_quantity,
            last_price: report.last_price,
            cumulative_quantity: order.filled,
            leaves_quantity: if order.state.is_final() {
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
            fee_base: 0.0,
        };
        self.apply(&report)
            .expect("a new order accepts its first report")
    }
}

/// The number of a host order id (`<agent>-<n>`); 0 for another form.
fn id_number(id: &str) -> u64 {
    id.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
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
            stop_price: None,
        }
    }

    fn report(id: &str, status: OrderStatus, qty: f64) -> ExecutionReport {
        ExecutionReport {
            order_id: id.into(),
            status,
            last_quantity: qty,
            last_price: 100.0,
            fee: 0.0,
            fee_base: 0.0,
        }
    }

    #[test]
    fn a_replace_asks_for_what_is_still_wanted_once_the_cancel_lands() {
        let mut oms = Oms::default();
        let limit = OrderIntent {
            order_type: OrderType::Limit,
            limit_price: Some(99.0),
            time_in_force: TimeInForce::Gtc,
            stop_price: Some(95.0),
            ..intent(2.0)
        };
        let id = oms.create("a", limit);
        oms.apply(&report(&id, OrderStatus::Accepted, 0.0)).unwrap();
        let with = Replacement {
            quantity: 3.0,
            limit_price: Some(99.5),
        };
        oms.request_replace(&id, with).unwrap();
        assert_eq!(oms.get(&id).unwrap().state.name(), "PENDING_REPLACE");
        assert!(
            oms.take_replacement(&id).is_none(),
            "not before the cancel lands"
        );
        // 0.5 fills while the cancel is on its way; then it lands.
        oms.apply(&report(&id, OrderStatus::PartiallyFilled, 0.5))
            .unwrap();
        oms.apply(&report(&id, OrderStatus::Cancelled, 0.0))
            .unwrap();
        let (agent, new) = oms.take_replacement(&id).unwrap();
        assert_eq!(agent, "a");
        assert_eq!(
            (
                new.quantity,
                new.limit_price,
                new.stop_price,
                new.tag.as_str()
            ),
            (2.5, Some(99.5), Some(95.0), "t")
        );
        assert!(oms.take_replacement(&id).is_none(), "used up");
        // An order that fills completely before its cancel is not replaced.
        let id = oms.create("a", intent(1.0));
        oms.request_replace(&id, with).unwrap();
        oms.apply(&report(&id, OrderStatus::Filled, 1.0)).unwrap();
        assert!(oms.take_replacement(&id).is_none());
        assert!(
            oms.request_replace(&id, with).is_err(),
            "done: nothing to replace"
        );
    }

    #[test]
    fn ids_are_per_agent_and_deterministic() {
        let mut oms = Oms::default();
        assert_eq!(oms.create("a", intent(1.0)), "a-1");
        assert_eq!(oms.create("b", intent(1.0)), "b-1");
        assert_eq!(oms.create("a", intent(1.0)), "a-2");
    }

    #[test]
    fn a_restored_state_keeps_the_last_cancelled_orders_so_a_late_fill_still_counts() {
        use crate::oms::snapshot::KEPT_FINISHED;
        let mut oms = Oms::default();
        let mut ids = Vec::new();
        for _ in 0..KEPT_FINISHED + 2 {
            let id = oms.create("a", intent(1.0));
            oms.apply(&report(&id, OrderStatus::Accepted, 0.0)).unwrap();
            oms.apply(&report(&id, OrderStatus::Cancelled, 0.0))
                .unwrap();
            ids.push(id);
        }
        let filled = oms.create("b", intent(1.0));
        oms.apply(&report(&filled, OrderStatus::Filled, 1.0))
            .unwrap();
        let state = oms.state();
        assert_eq!(
            state.finished.len(),
            KEPT_FINISHED,
            "filled ones are not kept"
        );
        // By number, not by text: `a-1001` is newer than `a-999`.
        assert_eq!(state.finished[0].id, ids[2]);
        assert_eq!(state.finished.last().unwrap().id, ids[KEPT_FINISHED + 1]);

        let mut restarted = Oms::default();
        restarted.restore(&state);
        assert_eq!(restarted.open_orders().count(), 0);
        let late = restarted
            .apply(&report(
                ids.last().unwrap(),
                OrderStatus::PartiallyFilled,
                0.5,
            ))
            .unwrap();
        assert_eq!(late.status, OrderStatus::Cancelled);
        assert_eq!(restarted.late_fills(), 1);
        assert_eq!(restarted.portfolio.position("BTCUSDT").quantity, 1.5);
        assert!(matches!(
            restarted.apply(&report(&ids[0], OrderStatus::PartiallyFilled, 0.5)),
            Err(OmsError::UnknownOrder(_))
        ));
        assert!(matches!(
            restarted.apply(&report(&filled, OrderStatus::Filled, 1.0)),
            Err(OmsError::UnknownOrder(_))
        ));
    }

    #[test]
    fn finished_orders_are_swept_down_to_what_a_report_or_a_stop_can_still_reach() {
        let mut oms = Oms::default();
        // An early buy whose protective stop stays armed throughout.
        let guarded = oms.create(
            "a",
            OrderIntent {
                stop_price: Some(50.0),
                ..intent(1.0)
            },
        );
        oms.apply(&report(&guarded, OrderStatus::Filled, 1.0))
            .unwrap();
        let (mut cancelled, mut filled) = (Vec::new(), Vec::new());
        for i in 0..3 * SWEEP_FLOOR {
            let id = oms.create("a", intent(0.001));
            if i % 3 == 0 {
                oms.apply(&report(&id, OrderStatus::Accepted, 0.0)).unwrap();
                oms.apply(&report(&id, OrderStatus::Cancelled, 0.0))
                    .unwrap();
                cancelled.push(id);
            } else {
                oms.apply(&report(&id, OrderStatus::Filled, 0.001)).unwrap();
                filled.push(id);
            }
        }
        let open = oms.create("a", intent(1.0));
        assert!(
            oms.orders.len() <= SWEEP_FLOOR + 1,
            "{} orders held after {} sent",
            oms.orders.len(),
            3 * SWEEP_FLOOR + 2
        );
        assert!(oms.get(&open).is_some() && oms.any_open());
        assert!(oms.get(&guarded).is_some(), "its stop is armed");
        // A late fill reaches the last cancelled orders, not the first.
        let late = oms
            .apply(&report(
                cancelled.last().unwrap(),
                OrderStatus::PartiallyFilled,
                0.001,
            ))
            .unwrap();
        assert_eq!(late.status, OrderStatus::Cancelled);
        assert_eq!(oms.late_fills(), 1);
        assert!(matches!(
            oms.apply(&report(&cancelled[0], OrderStatus::PartiallyFilled, 0.001)),
            Err(OmsError::UnknownOrder(_))
        ));
        // A duplicate report of a recent fill still reads "already done".
        assert!(matches!(
            oms.apply(&report(filled.last().unwrap(), OrderStatus::Filled, 0.001)),
            Err(OmsError::AlreadyDone {
                current: "FILLED",
                ..
            })
        ));
        assert!(matches!(
            oms.apply(&report(&filled[0], OrderStatus::Filled, 0.001)),
            Err(OmsError::UnknownOrder(_))
        ));
        // A snapshot keeps what a restarted host needs: the open order,
        // the last cancelled ones, and the order whose stop is armed.
        let state = oms.state();
        assert_eq!(state.open.len(), 1);
        assert_eq!(state.finished.len(), KEPT_FINISHED + 1);
        assert_eq!(state.finished[0].id, guarded);
        let mut restarted = Oms::default();
        restarted.restore(&state);
        assert!(restarted.get(&guarded).is_some());
    }

    #[test]
    fn invalid_transitions_are_refused_and_late_fills_applied() {
        let mut oms = Oms::default();
        let id = oms.create("a", intent(2.0));
        oms.apply(&report(&id, OrderStatus::Accepted, 0.0)).unwrap();
        oms.apply(&report(&id, OrderStatus::PartiallyFilled, 0.5))
            .unwrap();
        let e = oms
            .apply(&report(&id, OrderStatus::Accepted, 0.0))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "order `{id}`: invalid transition PARTIALLY_FILLED → ACCEPTED; the report was not applied"
            )
        );
        assert_eq!(oms.get(&id).unwrap().status, OrderStatus::PartiallyFilled);
        oms.request_cancel(&id).unwrap();
        assert!(oms.request_cancel(&id).is_err(), "one cancel at a time");
        oms.apply(&report(&id, OrderStatus::Cancelled, 0.0))
            .unwrap();
        let late = oms
            .apply(&report(&id, OrderStatus::PartiallyFilled, 0.25))
            .unwrap();
        assert_eq!(
            late.status,
            OrderStatus::Cancelled,
            "the order stays cancelled"
        );
        assert_eq!((late.last_quantity, late.cumulative_quantity), (0.25, 0.75));
        assert_eq!(oms.late_fills(), 1);
        assert_eq!(oms.portfolio.position("BTCUSDT").quantity, 0.75);
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
