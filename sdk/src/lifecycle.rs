//! [`Lifecycle`]: one trade's life, from scanning to closed, as a checked state
//! machine.
//!
//! A strategy that trades with stops and targets is a state machine whether
//! it says so or not; writing it down stops the classic bugs — a second
//! entry while the first is in flight, an exit for a position that was
//! never filled, a stop on the wrong side of a short. Every transition is
//! checked and a wrong one is an error that names both states, so the
//! agent can log it instead of acting on it.
//!
//! ```text
//! SCANNING → SETUP_DETECTED → ENTRY_APPROVED → ORDER_PLACED → FILLED → HOLDING
//!     ▲            │                │               │                     │
//!     └────────────┴────────────────┴───────────────┘ (setup gone,        ▼
//!     │                                                rejected)   EXIT_TRIGGERED
//!     │                                                                   │
//!   CLOSED ◄──────────────── ORDER_CLOSING ◄──────────────────────────────┘
//!                                 │ (exit rejected) → HOLDING
//! ```
//!
//! The plan's stop and target are checked against the side: a long's stop
//! sits below its entry and its target above; a short's the other way.

use serde::{Deserialize, Serialize};

use crate::Side;

/// Where a trade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TradeState {
    /// Looking for a setup.
    Scanning,
    /// A setup is seen; entry not yet approved.
    SetupDetected,
    /// Entry approved (by the strategy's own filters); no order yet.
    EntryApproved,
    /// The entry order is out.
    OrderPlaced,
    /// The entry order filled.
    Filled,
    /// In the position, watching stop and target.
    Holding,
    /// Stop or target hit (or an exit signal): an exit is due.
    ExitTriggered,
    /// The exit order is out.
    OrderClosing,
    /// Out of the position; the trade is done.
    Closed,
}

/// A transition that is not allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleError {
    /// State before.
    pub from: TradeState,
    /// State asked for.
    pub to: TradeState,
}

impl std::fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "trade lifecycle: {:?} → {:?} is not a valid transition",
            self.from, self.to
        )
    }
}

impl std::error::Error for LifecycleError {}

/// Entry, stop and target of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Long (buy) or short (sell).
    #[serde(with = "side_name")]
    pub side: Side,
    /// Expected entry price.
    pub entry: f64,
    /// Stop loss: below the entry for a long, above it for a short.
    pub stop: f64,
    /// Take profit: above the entry for a long, below it for a short.
    pub target: f64,
    /// Quantity, base units.
    pub quantity: f64,
}

impl Plan {
    /// A plan with the stop `stop_pct` percent away from `entry` and the
    /// target at `reward_risk` times that distance on the other side.
    pub fn with_reward_risk(
        side: Side,
        entry: f64,
        quantity: f64,
        stop_pct: f64,
        reward_risk: f64,
    ) -> Self {
        let risk = entry * stop_pct / 100.0;
        let dir = if side == Side::Buy { 1.0 } else { -1.0 };
        Self {
            side,
            entry,
            stop: entry - dir * risk,
            target: entry + dir * risk * reward_risk,
            quantity,
        }
    }

    /// Whether stop and target sit on the right sides of the entry.
    pub fn is_consistent(&self) -> bool {
        let (below, above) = match self.side {
            Side::Buy => (self.stop, self.target),
            Side::Sell => (self.target, self.stop),
        };
        below < self.entry && self.entry < above && self.quantity > 0.0
    }
}

/// `Side` (a generated binding type) as `"buy"` / `"sell"` in snapshots.
mod side_name {
    use crate::Side;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(side: &Side, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *side == Side::Buy { "buy" } else { "sell" })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Side, D::Error> {
        match String::deserialize(d)?.as_str() {
            "buy" => Ok(Side::Buy),
            "sell" => Ok(Side::Sell),
            other => Err(serde::de::Error::custom(format!(
                "side `{other}`: use buy or sell"
            ))),
        }
    }
}

/// Why a holding position should be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitReason {
    /// The price went through the stop.
    Stop,
    /// The price reached the target.
    Target,
}

/// One trade's state, its plan and its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    state: TradeState,
    plan: Option<Plan>,
    /// Average entry fill price.
    entry_price: Option<f64>,
    /// Why the exit was triggered.
    exit_reason: Option<ExitReason>,
    /// Realised PnL of the last closed trade (before fees).
    realized: f64,
    /// Trades closed so far.
    closed: u64,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            state: TradeState::Scanning,
            plan: None,
            entry_price: None,
            exit_reason: None,
            realized: 0.0,
            closed: 0,
        }
    }
}

impl Lifecycle {
    /// Where the trade stands.
    pub fn state(&self) -> TradeState {
        self.state
    }

    /// The plan, once a setup is detected.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }

    /// The average entry price, once filled.
    pub fn entry_price(&self) -> Option<f64> {
        self.entry_price
    }

    /// Why the exit was triggered, if it was.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.exit_reason
    }

    /// PnL of the last closed trade (price difference × quantity; fees are
    /// the host's business).
    pub fn realized(&self) -> f64 {
        self.realized
    }

    /// Trades closed so far.
    pub fn closed(&self) -> u64 {
        self.closed
    }

    fn go(&mut self, to: TradeState) -> Result<(), LifecycleError> {
        use TradeState::*;
        let ok = matches!(
            (self.state, to),
            (Scanning, SetupDetected)
                | (SetupDetected, EntryApproved | Scanning)
                | (EntryApproved, OrderPlaced | Scanning)
                | (OrderPlaced, Filled | Scanning)
                | (Filled, Holding)
                | (Holding, ExitTriggered)
                | (ExitTriggered, OrderClosing)
                | (OrderClosing, Closed | Holding)
                | (Closed, Scanning | SetupDetected)
        );
        if !ok {
            return Err(LifecycleError {
                from: self.state,
                to,
            });
        }
        self.state = to;
        Ok(())
    }

    /// A setup with this plan. From SCANNING (or CLOSED, for the next
    /// trade).
    ///
    /// # Errors
    /// From another state; also when the plan's stop or target is on the
    /// wrong side (reported as a transition to SETUP_DETECTED that is not
    /// allowed, from the current state).
    pub fn setup(&mut self, plan: Plan) -> Result<(), LifecycleError> {
        if !plan.is_consistent() {
            return Err(LifecycleError {
                from: self.state,
                to: TradeState::SetupDetected,
            });
        }
        self.go(TradeState::SetupDetected)?;
        self.plan = Some(plan);
        self.entry_price = None;
        self.exit_reason = None;
        Ok(())
    }

    /// The strategy's filters approve the entry.
    ///
    /// # Errors
    /// Unless SETUP_DETECTED.
    pub fn approve(&mut self) -> Result<(), LifecycleError> {
        self.go(TradeState::EntryApproved)
    }

    /// The entry order was sent.
    ///
    /// # Errors
    /// Unless ENTRY_APPROVED.
    pub fn placed(&mut self) -> Result<(), LifecycleError> {
        self.go(TradeState::OrderPlaced)
    }

    /// The setup went away, or the entry was refused or cancelled unfilled:
    /// back to SCANNING.
    ///
    /// # Errors
    /// Once filled (a position must be exited, not abandoned).
    pub fn abandon(&mut self) -> Result<(), LifecycleError> {
        self.go(TradeState::Scanning)?;
        self.plan = None;
        Ok(())
    }

    /// The entry filled at `price`: FILLED, then HOLDING.
    ///
    /// # Errors
    /// Unless ORDER_PLACED.
    pub fn filled(&mut self, price: f64) -> Result<(), LifecycleError> {
        self.go(TradeState::Filled)?;
        self.entry_price = Some(price);
        self.go(TradeState::Holding)
    }

    /// Check the price against stop and target while HOLDING; when one is
    /// hit, the trade moves to EXIT_TRIGGERED and the reason is returned.
    pub fn check_exit(&mut self, price: f64) -> Option<ExitReason> {
        let plan = self.plan?;
        if self.state != TradeState::Holding {
            return None;
        }
        let long = plan.side == Side::Buy;
        let reason = if (long && price <= plan.stop) || (!long && price >= plan.stop) {
            ExitReason::Stop
        } else if (long && price >= plan.target) || (!long && price <= plan.target) {
            ExitReason::Target
        } else {
            return None;
        };
        self.exit_reason = Some(reason);
        self.state = TradeState::ExitTriggered;
        Some(reason)
    }

    /// The exit order was sent.
    ///
    /// # Errors
    /// Unless EXIT_TRIGGERED.
    pub fn closing(&mut self) -> Result<(), LifecycleError> {
        self.go(TradeState::OrderClosing)
    }

    /// The exit was refused: still HOLDING (and still watching the stop).
    ///
    /// # Errors
    /// Unless ORDER_CLOSING.
    pub fn exit_refused(&mut self) -> Result<(), LifecycleError> {
        self.go(TradeState::Holding)?;
        self.exit_reason = None;
        Ok(())
    }

    /// The exit filled at `price`: CLOSED, with the trade's PnL.
    ///
    /// # Errors
    /// Unless ORDER_CLOSING.
    pub fn closed_at(&mut self, price: f64) -> Result<f64, LifecycleError> {
        self.go(TradeState::Closed)?;
        let (Some(plan), Some(entry)) = (self.plan, self.entry_price) else {
            return Ok(0.0);
        };
        let dir = if plan.side == Side::Buy { 1.0 } else { -1.0 };
        self.realized = (price - entry) * dir * plan.quantity;
        self.closed += 1;
        Ok(self.realized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_goes_from_scanning_to_closed_at_the_target() {
        let mut t = Lifecycle::default();
        let plan = Plan::with_reward_risk(Side::Buy, 100.0, 2.0, 5.0, 3.0);
        assert_eq!((plan.stop, plan.target), (95.0, 115.0));
        t.setup(plan).unwrap();
        t.approve().unwrap();
        t.placed().unwrap();
        t.filled(100.0).unwrap();
        assert_eq!(t.state(), TradeState::Holding);
        assert_eq!(t.check_exit(110.0), None);
        assert_eq!(t.check_exit(115.5), Some(ExitReason::Target));
        t.closing().unwrap();
        assert_eq!(t.closed_at(115.0).unwrap(), 30.0);
        assert_eq!((t.state(), t.closed()), (TradeState::Closed, 1));
    }

    #[test]
    fn a_short_stops_out_above_its_entry() {
        let mut t = Lifecycle::default();
        let plan = Plan::with_reward_risk(Side::Sell, 100.0, 1.0, 5.0, 3.0);
        assert_eq!((plan.stop, plan.target), (105.0, 85.0));
        t.setup(plan).unwrap();
        t.approve().unwrap();
        t.placed().unwrap();
        t.filled(100.0).unwrap();
        assert_eq!(t.check_exit(95.0), None, "a fall is good for a short");
        assert_eq!(t.check_exit(105.0), Some(ExitReason::Stop));
        t.closing().unwrap();
        assert_eq!(t.closed_at(105.0).unwrap(), -5.0);
    }

    #[test]
    fn invalid_transitions_are_errors_that_name_both_states() {
        let mut t = Lifecycle::default();
        let e = t.filled(100.0).unwrap_err();
        assert_eq!((e.from, e.to), (TradeState::Scanning, TradeState::Filled));
        assert_eq!(
            e.to_string(),
            "trade lifecycle: Scanning → Filled is not a valid transition"
        );
        t.setup(Plan::with_reward_risk(Side::Buy, 100.0, 1.0, 5.0, 3.0))
            .unwrap();
        assert!(
            t.setup(Plan::with_reward_risk(Side::Buy, 100.0, 1.0, 5.0, 3.0))
                .is_err(),
            "no second entry"
        );
        t.approve().unwrap();
        t.placed().unwrap();
        t.filled(100.0).unwrap();
        assert!(t.abandon().is_err(), "a position is exited, not abandoned");
        assert!(
            t.closing().is_err(),
            "no exit order before an exit is triggered"
        );
    }

    #[test]
    fn a_refused_exit_keeps_holding_and_a_bad_plan_is_refused() {
        let mut t = Lifecycle::default();
        let bad = Plan {
            side: Side::Sell,
            entry: 100.0,
            stop: 95.0,
            target: 110.0,
            quantity: 1.0,
        };
        assert!(t.setup(bad).is_err(), "a short's stop below its entry");
        t.setup(Plan::with_reward_risk(Side::Buy, 100.0, 1.0, 5.0, 3.0))
            .unwrap();
        t.approve().unwrap();
        t.placed().unwrap();
        t.filled(100.0).unwrap();
        t.check_exit(90.0).unwrap();
        t.closing().unwrap();
        t.exit_refused().unwrap();
        assert_eq!(t.state(), TradeState::Holding);
        assert_eq!(
            t.check_exit(94.0),
            Some(ExitReason::Stop),
            "still watching the stop"
        );
    }
}
