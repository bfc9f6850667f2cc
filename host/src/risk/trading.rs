//! The trading state: ACTIVE, REDUCING or HALTED.
//!
//! This is the host's master switch, above every agent. ACTIVE sends what
//! passes the risk stage and the limits; REDUCING sends only orders that
//! shrink an open position (closing out without adding risk: what a desk
//! does after a daily-loss breach); HALTED sends nothing. An operator
//! moves it (`floor halt|reduce|resume`), and the host moves it on its own
//! when it cannot trust its risk layer (a required risk agent faulted or
//! missed its deadline → HALTED) or a loss limit is breached (→ REDUCING).
//! The host never moves it back to ACTIVE by itself: a person decides.

use serde::{Deserialize, Serialize};

use super::Refusal;
use crate::model::{Nanos, ReasonCode, Side};

/// Tolerance for "the order does not flip the position".
const EPS: f64 = 1e-9;

/// Whether an order on `side` for `quantity` shrinks `position` without
/// flipping it.
pub fn reduces(side: Side, quantity: f64, position: f64) -> bool {
    position.abs() > EPS && side.sign() == -position.signum() && quantity <= position.abs() + EPS
}

/// The three states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradingMode {
    /// Orders flow.
    Active,
    /// Only orders that reduce a position.
    Reducing,
    /// No orders.
    Halted,
}

impl TradingMode {
    /// Lower-case name, as in topics and JSON.
    pub fn name(self) -> &'static str {
        match self {
            TradingMode::Active => "active",
            TradingMode::Reducing => "reducing",
            TradingMode::Halted => "halted",
        }
    }

    /// How restrictive: ACTIVE < REDUCING < HALTED.
    fn rank(self) -> u8 {
        match self {
            TradingMode::Active => 0,
            TradingMode::Reducing => 1,
            TradingMode::Halted => 2,
        }
    }
}

/// A change of state, as published on `risk.trading.<state>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradingChange {
    /// State before.
    pub from: TradingMode,
    /// State now.
    pub to: TradingMode,
    /// Who asked (`operator`, `host`).
    pub by: String,
    /// Why.
    pub reason: String,
    /// Event time of the change, ns.
    pub at: Nanos,
}

/// The current state and how it got there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradingState {
    mode: TradingMode,
    last: Option<TradingChange>,
    changes: u64,
}

impl Default for TradingState {
    fn default() -> Self {
        Self {
            mode: TradingMode::Active,
            last: None,
            changes: 0,
        }
    }
}

impl TradingState {
    /// The state now.
    pub fn mode(&self) -> TradingMode {
        self.mode
    }

    /// The latest change, if any.
    pub fn last_change(&self) -> Option<&TradingChange> {
        self.last.as_ref()
    }

    /// Number of changes so far.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Move to `to` (an operator may move either way). Returns the change,
    /// or `None` when already there.
    pub fn set(
        &mut self,
        to: TradingMode,
        by: &str,
        reason: &str,
        at: Nanos,
    ) -> Option<TradingChange> {
        if to == self.mode {
            return None;
        }
        let change = TradingChange {
            from: self.mode,
            to,
            by: by.to_string(),
            reason: reason.to_string(),
            at,
        };
        self.mode = to;
        self.changes += 1;
        self.last = Some(change.clone());
        Some(change)
    }

    /// Tighten to `to` if that is more restrictive than now (what the host
    /// does on its own: it never loosens).
    pub fn tighten(&mut self, to: TradingMode, reason: &str, at: Nanos) -> Option<TradingChange> {
        (to.rank() > self.mode.rank())
            .then(|| self.set(to, "host", reason, at))
            .flatten()
    }

    /// Whether an order on `side` for `quantity` may go out given the
    /// current `position` in its symbol.
    ///
    /// # Errors
    /// `trading_halted`, or `reduce_only` when the order would open, add to
    /// or flip a position.
    pub fn admits(&self, side: Side, quantity: f64, position: f64) -> Result<(), Refusal> {
        let why = || {
            self.last
                .as_ref()
                .map(|c| format!(" (by {}: {})", c.by, c.reason))
                .unwrap_or_default()
        };
        match self.mode {
            TradingMode::Active => Ok(()),
            TradingMode::Halted => Err(Refusal::host(
                ReasonCode::TradingHalted,
                format!("trading is halted{}; `floor resume` ends it", why()),
            )),
            TradingMode::Reducing => {
                if reduces(side, quantity, position) {
                    Ok(())
                } else {
                    Err(Refusal::host(
                        ReasonCode::ReduceOnly,
                        format!(
                            "trading is reducing{}: only orders that shrink a position go out, and a {} of {quantity} against a position of {position} does not",
                            why(),
                            side.name()
                        ),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reducing_admits_only_orders_that_shrink_the_position() {
        let mut t = TradingState::default();
        t.set(TradingMode::Reducing, "operator", "end of day", 5)
            .unwrap();
        assert!(t.admits(Side::Sell, 1.0, 2.0).is_ok());
        assert!(
            t.admits(Side::Sell, 2.0, 2.0).is_ok(),
            "closing is reducing"
        );
        assert!(
            t.admits(Side::Buy, 1.0, -3.0).is_ok(),
            "buying back a short"
        );
        for (side, qty, pos) in [
            (Side::Buy, 1.0, 2.0),   // adds
            (Side::Sell, 3.0, 2.0),  // flips to short
            (Side::Sell, 1.0, 0.0),  // opens
            (Side::Sell, 1.0, -1.0), // adds to a short
        ] {
            let r = t.admits(side, qty, pos).unwrap_err();
            assert_eq!(r.code, ReasonCode::ReduceOnly);
            assert!(r.detail.contains("end of day"), "{r}");
        }
    }

    #[test]
    fn halted_admits_nothing_and_the_host_only_tightens() {
        let mut t = TradingState::default();
        assert!(t.tighten(TradingMode::Reducing, "daily loss", 1).is_some());
        assert!(t.tighten(TradingMode::Active, "never", 2).is_none());
        let c = t
            .tighten(TradingMode::Halted, "risk agent down", 3)
            .unwrap();
        assert_eq!(
            (c.from, c.to, c.by.as_str()),
            (TradingMode::Reducing, TradingMode::Halted, "host")
        );
        assert!(t.tighten(TradingMode::Reducing, "looser", 4).is_none());
        assert_eq!(
            t.admits(Side::Sell, 1.0, 2.0).unwrap_err().code,
            ReasonCode::TradingHalted
        );
        assert!(t.set(TradingMode::Active, "operator", "fixed", 5).is_some());
        assert!(t.admits(Side::Buy, 1.0, 0.0).is_ok());
        assert_eq!(t.changes(), 3);
    }
}
