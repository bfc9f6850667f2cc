//! Relative strength index with Wilder's smoothing.

use serde::{Deserialize, Serialize};

/// Wilder's RSI over `period` changes, 0 to 100.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rsi {
    period: usize,
    last: Option<f64>,
    changes: usize,
    avg_gain: f64,
    avg_loss: f64,
}

impl Rsi {
    /// A new RSI over `period` price changes (at least 1).
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            last: None,
            changes: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
        }
    }

    /// Add a price; returns the RSI once `period` changes were seen.
    pub fn update(&mut self, price: f64) -> Option<f64> {
        let last = self.last.replace(price)?;
        let change = price - last;
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        self.changes += 1;
        let n = self.period as f64;
        if self.changes <= self.period {
            // First `period` changes: plain average.
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        self.value()
    }

    /// Current value.
    pub fn value(&self) -> Option<f64> {
        if self.changes < self.period {
            return None;
        }
        if self.avg_loss == 0.0 {
            return Some(if self.avg_gain == 0.0 { 50.0 } else { 100.0 });
        }
        let rs = self.avg_gain / self.avg_loss;
        Some(100.0 - 100.0 / (1.0 + rs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rises_gives_100_only_falls_gives_0() {
        let mut up = Rsi::new(3);
        let mut down = Rsi::new(3);
        for i in 0..5 {
            up.update(10.0 + i as f64);
            down.update(10.0 - i as f64);
        }
        assert_eq!(up.value(), Some(100.0));
        assert_eq!(down.value(), Some(0.0));
    }

    #[test]
    fn equal_gains_and_losses_give_50() {
        let mut rsi = Rsi::new(2);
        assert_eq!(rsi.update(10.0), None);
        assert_eq!(rsi.update(11.0), None);
        assert_eq!(rsi.update(10.0), Some(50.0));
    }
}
