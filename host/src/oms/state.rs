//! The order state machine the host keeps for every order.
//!
//! ```text
//!   SUBMITTED ──► ACCEPTED ──► PARTIALLY_FILLED ──► FILLED
//!       │            │   ╲           │     ▲ │
//!       │            │    ╲          │     └─┘ (more fills)
//!       │            ▼     ▼         ▼
//!       │      PENDING_CANCEL ──► CANCELLED / EXPIRED
//!       │      PENDING_REPLACE ─► CANCELLED, then a new order
//!       ▼
//!   REJECTED                     (any open state may also end in
//!                                 FILLED, CANCELLED or EXPIRED)
//! ```
//!
//! Agents see the venue-facing statuses ([`OrderStatus`]); the host adds
//! `SUBMITTED` (sent, no answer yet), `PENDING_CANCEL` (a cancel is on its
//! way) and `PENDING_REPLACE` (a cancel is on its way, and once the venue
//! confirms it the host sends the replacement; see `Oms::request_replace`). A report that does not fit the current state is an
//! [`InvalidTransition`]: counted, logged and not applied — except a fill
//! after a cancel, which venues do produce (the cancel crossed the fill on
//! the wire): the money moved, so the fill is applied and reported as a
//! late fill.

use crate::model::OrderStatus;

/// Where an order stands, as the host tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OrderState {
    /// Sent to the venue; no answer yet.
    Submitted,
    /// Working at the venue, nothing filled.
    Accepted,
    /// Working, partly filled.
    PartiallyFilled,
    /// A cancel was requested; fills may still arrive.
    PendingCancel {
        /// Filled before the cancel was asked for.
        filled: bool,
    },
    /// A replace was requested: the cancel half is on its way; fills may
    /// still arrive.
    PendingReplace {
        /// Filled before the replace was asked for.
        filled: bool,
    },
    /// Completely filled.
    Filled,
    /// Cancelled.
    Cancelled,
    /// Refused by the host or the venue.
    Rejected,
    /// Time in force ran out (IOC/FOK remainder, self-trade prevention).
    Expired,
}

/// A report that does not fit the order's state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid transition {from} → {to}")]
pub struct InvalidTransition {
    /// The state it was in.
    pub from: &'static str,
    /// The status the report carried.
    pub to: &'static str,
}

/// What applying a report does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A normal step.
    Step(OrderState),
    /// A fill after the order was cancelled or expired: applied to the
    /// position, the state stays.
    LateFill,
}

impl OrderState {
    /// Upper-case name, as in logs and the store.
    pub fn name(self) -> &'static str {
        match self {
            OrderState::Submitted => "SUBMITTED",
            OrderState::Accepted => "ACCEPTED",
            OrderState::PartiallyFilled => "PARTIALLY_FILLED",
            OrderState::PendingCancel { .. } => "PENDING_CANCEL",
            OrderState::PendingReplace { .. } => "PENDING_REPLACE",
            OrderState::Filled => "FILLED",
            OrderState::Cancelled => "CANCELLED",
            OrderState::Rejected => "REJECTED",
            OrderState::Expired => "EXPIRED",
        }
    }

    /// True once nothing more is expected.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected | OrderState::Expired
        )
    }

    /// Ask for a cancel.
    ///
    /// # Errors
    /// When the order is not open (or a cancel is already pending).
    pub fn cancel(self) -> Result<OrderState, InvalidTransition> {
        match self {
            OrderState::Submitted | OrderState::Accepted => {
                Ok(OrderState::PendingCancel { filled: false })
            }
            OrderState::PartiallyFilled => Ok(OrderState::PendingCancel { filled: true }),
            other => Err(InvalidTransition {
                from: other.name(),
                to: "PENDING_CANCEL",
            }),
        }
    }

    /// Ask for a replace (cancel, then a new order once it is confirmed).
    ///
    /// # Errors
    /// When the order is not open, or a cancel or replace is pending.
    pub fn replace(self) -> Result<OrderState, InvalidTransition> {
        match self {
            OrderState::Submitted | OrderState::Accepted => {
                Ok(OrderState::PendingReplace { filled: false })
            }
            OrderState::PartiallyFilled => Ok(OrderState::PendingReplace { filled: true }),
            other => Err(InvalidTransition {
                from: other.name(),
                to: "PENDING_REPLACE",
            }),
        }
    }

    /// The state after a venue report with `status` (`fill`: the report
    /// carries a fill).
    ///
    /// # Errors
    /// [`InvalidTransition`] when the report does not fit.
    pub fn apply(self, status: &OrderStatus, fill: bool) -> Result<Applied, InvalidTransition> {
        use OrderState as S;
        let invalid = || InvalidTransition {
            from: self.name(),
            to: status_name(status),
        };
        let next = match (self, status) {
            (S::Cancelled | S::Expired, _) if fill => return Ok(Applied::LateFill),
            (s, _) if s.is_final() => return Err(invalid()),
            (S::Submitted, OrderStatus::Accepted) => S::Accepted,
            (_, OrderStatus::Accepted) => return Err(invalid()),
            (S::PendingCancel { .. }, OrderStatus::PartiallyFilled) => {
                S::PendingCancel { filled: true }
            }
            (S::PendingReplace { .. }, OrderStatus::PartiallyFilled) => {
                S::PendingReplace { filled: true }
            }
            (_, OrderStatus::PartiallyFilled) if fill => S::PartiallyFilled,
            (_, OrderStatus::Filled) if fill => S::Filled,
            (_, OrderStatus::PartiallyFilled | OrderStatus::Filled) => return Err(invalid()),
            (_, OrderStatus::Cancelled) => S::Cancelled,
            (_, OrderStatus::Expired) => S::Expired,
            (S::Submitted, OrderStatus::Rejected { .. }) => S::Rejected,
            // A venue rejects an order it never accepted; a "rejected"
            // for a working order is a refused cancel or amend, not the
            // order's end.
            (_, OrderStatus::Rejected { .. }) => return Err(invalid()),
        };
        Ok(Applied::Step(next))
    }
}

fn status_name(s: &OrderStatus) -> &'static str {
    match s {
        OrderStatus::Accepted => "ACCEPTED",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELLED",
        OrderStatus::Rejected { .. } => "REJECTED",
        OrderStatus::Expired => "EXPIRED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderState as S;

    fn step(s: S, status: OrderStatus, fill: bool) -> Result<S, InvalidTransition> {
        match s.apply(&status, fill)? {
            Applied::Step(n) => Ok(n),
            Applied::LateFill => panic!("late fill"),
        }
    }

    #[test]
    fn the_normal_life_of_an_order() {
        let s = step(S::Submitted, OrderStatus::Accepted, false).unwrap();
        let s = step(s, OrderStatus::PartiallyFilled, true).unwrap();
        let s = step(s, OrderStatus::PartiallyFilled, true).unwrap();
        assert_eq!(step(s, OrderStatus::Filled, true), Ok(S::Filled));
        // A fast venue may fill before (or instead of) acknowledging.
        assert_eq!(step(S::Submitted, OrderStatus::Filled, true), Ok(S::Filled));
        let r = OrderStatus::Rejected { reason: "x".into() };
        assert_eq!(step(S::Submitted, r, false), Ok(S::Rejected));
    }

    #[test]
    fn cancels_wait_and_fills_still_count() {
        let s = S::Accepted.cancel().unwrap();
        assert_eq!(s, S::PendingCancel { filled: false });
        let s = step(s, OrderStatus::PartiallyFilled, true).unwrap();
        assert_eq!(s, S::PendingCancel { filled: true });
        assert_eq!(step(s, OrderStatus::Cancelled, false), Ok(S::Cancelled));
        assert!(s.cancel().is_err(), "one cancel at a time");
        assert_eq!(
            S::Cancelled.apply(&OrderStatus::PartiallyFilled, true),
            Ok(Applied::LateFill)
        );
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        let e = step(S::PartiallyFilled, OrderStatus::Accepted, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid transition PARTIALLY_FILLED → ACCEPTED"
        );
        assert!(step(S::Filled, OrderStatus::Cancelled, false).is_err());
        assert!(
            step(S::Accepted, OrderStatus::Filled, false).is_err(),
            "a fill without quantity"
        );
        let r = OrderStatus::Rejected { reason: "x".into() };
        assert!(step(S::Accepted, r, false).is_err());
        assert!(S::Filled.cancel().is_err());
    }

    #[test]
    fn a_replace_is_a_cancel_that_waits_for_its_confirmation() {
        let s = S::PartiallyFilled.replace().unwrap();
        assert_eq!(s, S::PendingReplace { filled: true });
        assert_eq!(s.name(), "PENDING_REPLACE");
        assert!(s.cancel().is_err() && s.replace().is_err(), "one at a time");
        let s = step(
            S::Accepted.replace().unwrap(),
            OrderStatus::PartiallyFilled,
            true,
        )
        .unwrap();
        assert_eq!(s, S::PendingReplace { filled: true });
        assert_eq!(step(s, OrderStatus::Cancelled, false), Ok(S::Cancelled));
        // It may fill completely before the cancel lands: then it is done.
        assert_eq!(step(s, OrderStatus::Filled, true), Ok(S::Filled));
        assert!(S::Filled.replace().is_err());
    }
}
