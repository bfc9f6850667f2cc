//! What the connector knows about each order it sent, and the one place
//! where venue reports become the host's [`ExecutionReport`]s.
//!
//! Two sources report on the same orders: the user-data stream (live, but
//! lost while the socket is down, and possibly delayed or duplicated) and
//! REST reconciliation (complete, but only when asked). The tracker makes
//! their union exactly-once: a fill is known by its venue trade id and is
//! reported once whichever source brings it first; a final status is
//! reported once, after the fills; `Accepted` only before anything else.
//! What the host then sees is the same whether the stream was perfect or
//! dropped half the session.

use std::collections::{HashMap, HashSet};

use crate::model::{ExecutionReport, Fixed, Name, OrderStatus};
use crate::venue::{ResumedOrder, VenueOrder};

/// How far the send of an order has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sent {
    /// Queued or on the wire: reconciliation leaves it alone.
    InFlight,
    /// The venue has it.
    Placed,
    /// The answer was lost and could not be settled: reconciliation asks.
    Unresolved,
}

/// One fill as the venue reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct VenueFill {
    /// The venue's trade id.
    pub trade_id: i64,
    /// Quantity.
    pub qty: Fixed,
    /// Price.
    pub price: Fixed,
    /// Fee.
    pub commission: Fixed,
    /// Asset the fee was charged in.
    pub commission_asset: String,
}

#[derive(Debug)]
struct Tracked {
    order_id: Name,
    symbol: Name,
    quantity: Fixed,
    sent: Sent,
    venue_id: Option<u64>,
    cum: Fixed,
    trades: HashSet<i64>,
    /// Filled before a restart (the host has those fills): a listed
    /// fill that ends at or below it is not reported again.
    known: Fixed,
    accepted: bool,
    done: bool,
}

/// Counters (for status and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Reports for fills or statuses already reported (duplicates from
    /// the venue, or stream reports that reconciliation got to first).
    pub duplicates: u64,
    /// Reports about orders this connector did not send.
    pub foreign: u64,
    /// Fills that only reconciliation found.
    pub recovered_fills: u64,
    /// Final statuses that only reconciliation found.
    pub recovered_statuses: u64,
}

/// Every order the connector sent, by client order id.
#[derive(Debug, Default)]
pub struct Tracker {
    orders: HashMap<String, Tracked>,
    by_order: HashMap<String, String>,
    base_asset: HashMap<String, String>,
    stats: TrackerStats,
}

/// The host's status for a Binance order status, where one exists.
pub fn status_of(venue: &str, reason: &str) -> Option<OrderStatus> {
    Some(match venue {
        "NEW" => OrderStatus::Accepted,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" | "PENDING_CANCEL" => OrderStatus::Cancelled,
        "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
        "REJECTED" => OrderStatus::Rejected {
            reason: format!("venue: {reason}"),
        },
        _ => return None,
    })
}

impl Tracker {
    /// A tracker; `base_asset` maps each symbol to its base asset (fees
    /// charged in it are converted to the quote asset at the fill price).
    pub fn new(base_asset: HashMap<String, String>) -> Tracker {
        Tracker {
            base_asset,
            ..Tracker::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &TrackerStats {
        &self.stats
    }

    /// Start tracking `order`, sent as `client_id`.
    pub fn track(&mut self, client_id: &str, order: &VenueOrder) {
        self.by_order
            .insert(order.order_id.to_string(), client_id.to_string());
        self.orders.insert(
            client_id.to_string(),
            Tracked {
                order_id: order.order_id.clone(),
                symbol: order.symbol.clone(),
                quantity: Fixed::from_f64(order.quantity),
                sent: Sent::InFlight,
                venue_id: None,
                cum: Fixed::ZERO,
                trades: HashSet::new(),
                known: Fixed::ZERO,
                accepted: false,
                done: false,
            },
        );
    }

    /// Track an order a restarted host still holds open, as `client_id`:
    /// its answer is unknown here, so reconciliation asks the venue about
    /// it, and the fills the host already has are not reported again.
    pub fn resume(&mut self, client_id: &str, order: &ResumedOrder) {
        self.track(client_id, &order.order);
        if let Some(t) = self.orders.get_mut(client_id) {
            t.sent = Sent::Unresolved;
            t.known = Fixed::from_f64(order.filled);
            t.cum = t.known;
            t.accepted = order.accepted;
        }
    }

    /// The send of `client_id` got this far.
    pub fn sent(&mut self, client_id: &str, sent: Sent, venue_id: Option<u64>) {
        if let Some(t) = self.orders.get_mut(client_id) {
            // A report already proved it placed; a lost answer changes nothing.
            if !(t.sent == Sent::Placed && sent == Sent::Unresolved) {
                t.sent = sent;
            }
            t.venue_id = venue_id.or(t.venue_id);
        }
    }

    /// The client id and symbol of a host order that is still open here.
    pub fn open_order(&self, order_id: &str) -> Option<(&str, &str)> {
        let client = self.by_order.get(order_id)?;
        let t = self.orders.get(client)?;
        (!t.done).then_some((client.as_str(), t.symbol.as_str()))
    }

    /// Whether `client_id` is one of ours and not final.
    pub fn is_open(&self, client_id: &str) -> bool {
        self.orders.get(client_id).is_some_and(|t| !t.done)
    }

    /// Orders sent whose answer has not come back yet.
    pub fn in_flight(&self) -> usize {
        self.orders
            .values()
            .filter(|t| !t.done && t.sent == Sent::InFlight)
            .count()
    }

    /// Orders to reconcile: placed or unresolved, not yet final. Each is
    /// (client id, symbol, sent, venue order id).
    pub fn to_reconcile(&self) -> Vec<(String, String, Sent, Option<u64>)> {
        let mut v: Vec<_> = self
            .orders
            .iter()
            .filter(|(_, t)| !t.done && t.sent != Sent::InFlight)
            .map(|(c, t)| (c.clone(), t.symbol.to_string(), t.sent, t.venue_id))
            .collect();
        v.sort();
        v
    }

    /// Filled so far, as far as reported.
    pub fn filled(&self, client_id: &str) -> Option<Fixed> {
        self.orders.get(client_id).map(|t| t.cum)
    }

    /// A report from the user-data stream.
    pub fn on_stream(&mut self, r: &super::user::Report) -> Option<ExecutionReport> {
        let Some(t) = self.orders.get_mut(&r.client_order_id) else {
            self.stats.foreign += 1;
            return None;
        };
        t.venue_id = Some(r.order_id);
        if t.sent == Sent::InFlight {
            // A report proves the venue has it, whatever the REST answer.
            t.sent = Sent::Placed;
        }
        if r.exec == "TRADE" && r.cum_qty <= t.known {
            // The host had this fill before it restarted.
            t.trades.insert(r.trade_id);
            return None;
        }
        if r.exec == "TRADE" {
            let fill = VenueFill {
                trade_id: r.trade_id,
                qty: r.last_qty,
                price: r.last_price,
                commission: r.commission,
                commission_asset: r.commission_asset.clone(),
            };
            self.on_fill(&r.client_order_id.clone(), &fill, false)
        } else {
            let status = status_of(&r.status, &r.reason)?;
            self.on_status(&r.client_order_id.clone(), status, false)
        }
    }

    /// A fill as the venue lists it (reconciliation), with the order's
    /// filled quantity once it is done: fills the host had before a
    /// restart are noted, not reported again.
    pub fn on_listed_fill(
        &mut self,
        client_id: &str,
        fill: &VenueFill,
        cum_after: Fixed,
    ) -> Option<ExecutionReport> {
        if let Some(t) = self.orders.get_mut(client_id)
            && cum_after <= t.known
        {
            t.trades.insert(fill.trade_id);
            return None;
        }
        self.on_fill(client_id, fill, true)
    }

    /// A fill, from either source (`recovered`: reconciliation found it).
    pub fn on_fill(
        &mut self,
        client_id: &str,
        fill: &VenueFill,
        recovered: bool,
    ) -> Option<ExecutionReport> {
        let t = self.orders.get_mut(client_id)?;
        if !t.trades.insert(fill.trade_id) {
            self.stats.duplicates += 1;
            return None;
        }
        if recovered {
            self.stats.recovered_fills += 1;
        }
        t.cum += fill.qty;
        let status = if t.cum >= t.quantity {
            t.done = true;
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        t.accepted = true;
        let in_base =
            fill.commission_asset == self.base_asset.get(t.symbol.as_str()).map_or("", |s| s);
        let fee = if in_base {
            fill.commission.times(fill.price)
        } else {
            // The quote asset (or an asset the host does not value: 0 is
            // what the portfolio can account for).
            fill.commission
        };
        Some(ExecutionReport {
            order_id: t.order_id.clone(),
            status,
            last_quantity: fill.qty.to_f64(),
            last_price: fill.price.to_f64(),
            fee: fee.to_f64(),
            fee_base: if in_base {
                fill.commission.to_f64()
            } else {
                0.0
            },
        })
    }

    /// A status without a fill, from either source. Fill statuses are
    /// ignored here: the fills carry them.
    pub fn on_status(
        &mut self,
        client_id: &str,
        status: OrderStatus,
        recovered: bool,
    ) -> Option<ExecutionReport> {
        let t = self.orders.get_mut(client_id)?;
        let report = |t: &Tracked, status| ExecutionReport {
            order_id: t.order_id.clone(),
            status,
            last_quantity: 0.0,
            last_price: 0.0,
            fee: 0.0,
            fee_base: 0.0,
        };
        match status {
            _ if t.done => {
                self.stats.duplicates += 1;
                None
            }
            OrderStatus::Accepted if !t.accepted => {
                t.accepted = true;
                Some(report(t, status))
            }
            OrderStatus::Accepted | OrderStatus::PartiallyFilled | OrderStatus::Filled => None,
            final_status => {
                t.done = true;
                if recovered {
                    self.stats.recovered_statuses += 1;
                }
                Some(report(t, final_status))
            }
        }
    }

    /// Forget finished orders (keeps the map from growing over a session).
    pub fn prune(&mut self) {
        let by_order = &mut self.by_order;
        self.orders.retain(|_, t| {
            if t.done {
                by_order.remove(t.order_id.as_str());
            }
            !t.done
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderType, Side, TimeInForce};

    fn tracker() -> Tracker {
        let mut t = Tracker::new([("BTCUSDT".to_string(), "BTC".to_string())].into());
        t.track(
            "fl-1",
            &VenueOrder {
                order_id: "trend-1".into(),
                symbol: "BTCUSDT".into(),
                side: Side::Buy,
                order_type: OrderType::Limit,
                quantity: 1.0,
                limit_price: Some(100.0),
                time_in_force: TimeInForce::Gtc,
            },
        );
        t.sent("fl-1", Sent::Placed, Some(7));
        t
    }

    fn fill(id: i64, qty: &str) -> VenueFill {
        VenueFill {
            trade_id: id,
            qty: qty.parse().unwrap(),
            price: Fixed::units(100),
            commission: "0.001".parse().unwrap(),
            commission_asset: "BTC".into(),
        }
    }

    #[test]
    fn each_fill_once_whichever_source_brings_it() {
        let mut t = tracker();
        let first = t.on_fill("fl-1", &fill(1, "0.4"), false).unwrap();
        assert_eq!(first.status, OrderStatus::PartiallyFilled);
        assert_eq!(
            (first.last_quantity, first.fee, first.fee_base),
            (0.4, 0.1, 0.001),
            "fee in base: valued in the quote, and its coins named"
        );
        assert!(t.on_fill("fl-1", &fill(1, "0.4"), true).is_none());
        let last = t.on_fill("fl-1", &fill(2, "0.6"), true).unwrap();
        assert_eq!(last.status, OrderStatus::Filled);
        assert!(t.on_status("fl-1", OrderStatus::Cancelled, false).is_none());
        assert_eq!(t.filled("fl-1"), Some(Fixed::units(1)));
        assert_eq!(
            t.stats(),
            &TrackerStats {
                duplicates: 2,
                recovered_fills: 1,
                ..TrackerStats::default()
            }
        );
        assert!(t.to_reconcile().is_empty(), "a filled order is settled");
    }

    #[test]
    fn a_resumed_order_reports_only_the_fills_the_host_did_not_have() {
        let mut t = Tracker::new([("BTCUSDT".to_string(), "BTC".to_string())].into());
        let order = VenueOrder {
            order_id: "trend-9".into(),
            symbol: "BTCUSDT".into(),
            side: Side::Sell,
            order_type: OrderType::Limit,
            quantity: 1.0,
            limit_price: Some(100.0),
            time_in_force: TimeInForce::Gtc,
        };
        t.resume(
            "fl-9",
            &ResumedOrder {
                order,
                filled: 0.4,
                accepted: true,
            },
        );
        // Unanswered as far as this connector knows: reconciliation asks.
        assert_eq!(
            t.to_reconcile(),
            vec![("fl-9".into(), "BTCUSDT".into(), Sent::Unresolved, None)]
        );
        // The venue lists both fills; the first the host already had.
        assert!(
            t.on_listed_fill("fl-9", &fill(11, "0.4"), "0.4".parse().unwrap())
                .is_none()
        );
        let new = t
            .on_listed_fill("fl-9", &fill(12, "0.6"), Fixed::units(1))
            .unwrap();
        assert_eq!(
            (new.status, new.last_quantity, new.order_id.as_str()),
            (OrderStatus::Filled, 0.6, "trend-9")
        );
        // Listed again at the next reconciliation: nothing twice.
        assert!(
            t.on_listed_fill("fl-9", &fill(12, "0.6"), Fixed::units(1))
                .is_none()
        );
        assert!(!t.is_open("fl-9"));
    }

    #[test]
    fn accepted_only_first_and_final_status_once() {
        let mut t = tracker();
        assert!(t.on_status("fl-1", OrderStatus::Accepted, false).is_some());
        assert!(t.on_status("fl-1", OrderStatus::Accepted, false).is_none());
        t.on_fill("fl-1", &fill(3, "0.5"), false).unwrap();
        let done = t.on_status("fl-1", OrderStatus::Cancelled, true).unwrap();
        assert_eq!(
            (done.status, done.last_quantity),
            (OrderStatus::Cancelled, 0.0)
        );
        assert!(t.on_status("fl-1", OrderStatus::Cancelled, false).is_none());
        assert_eq!(t.open_order("trend-1"), None);
        t.prune();
        assert_eq!(t.filled("fl-1"), None);
    }

    #[test]
    fn unknown_orders_are_counted_not_reported() {
        let mut t = tracker();
        assert!(t.on_fill("someone-else", &fill(1, "1"), false).is_none());
        assert_eq!(status_of("TRADE_PREVENTION_WHATEVER", ""), None);
        assert_eq!(
            status_of("REJECTED", "INSUFFICIENT_BALANCE"),
            Some(OrderStatus::Rejected {
                reason: "venue: INSUFFICIENT_BALANCE".into()
            })
        );
    }
}
