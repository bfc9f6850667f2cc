//! Position arithmetic a strategy needs: exposure, unrealised PnL, and the
//! order that takes a position to a target.

use crate::{Position, Side};

/// Unrealised PnL of `pos` marked at `mark` (negative for losing shorts too).
pub fn unrealized_pnl(pos: &Position, mark: f64) -> f64 {
    pos.quantity * (mark - pos.average_price)
}

/// Absolute notional of `pos` at `mark`.
pub fn notional(pos: &Position, mark: f64) -> f64 {
    pos.quantity.abs() * mark
}

/// The side and quantity that move `current` to `target` (signed
/// quantities), or `None` if they differ by less than `min_qty`.
pub fn order_to_target(current: f64, target: f64, min_qty: f64) -> Option<(Side, f64)> {
    let delta = target - current;
    if delta.abs() < min_qty.max(f64::EPSILON) {
        None
    } else if delta > 0.0 {
        Some((Side::Buy, delta))
    } else {
        Some((Side::Sell, -delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(quantity: f64, average_price: f64) -> Position {
        Position {
            symbol: "X".into(),
            quantity,
            average_price,
            realized_pnl: 0.0,
        }
    }

    #[test]
    fn short_gains_when_price_falls() {
        assert_eq!(unrealized_pnl(&pos(-2.0, 100.0), 90.0), 20.0);
        assert_eq!(unrealized_pnl(&pos(2.0, 100.0), 90.0), -20.0);
        assert_eq!(notional(&pos(-2.0, 100.0), 90.0), 180.0);
    }

    #[test]
    fn order_to_target_flips_a_short_to_long() {
        assert!(matches!(order_to_target(-1.0, 1.0, 0.001), Some((Side::Buy, q)) if q == 2.0));
        assert!(matches!(order_to_target(1.0, 0.0, 0.001), Some((Side::Sell, q)) if q == 1.0));
        assert!(order_to_target(1.0, 1.0005, 0.001).is_none());
    }
}
