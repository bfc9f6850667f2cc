//! Exponential moving average.

use serde::{Deserialize, Serialize};

/// Exponential moving average with smoothing `2 / (period + 1)`, seeded with
/// the simple average of the first `period` values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ema {
    period: usize,
    alpha: f64,
    seen: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl Ema {
    /// A new EMA over `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Add a value; returns the EMA once `period` values were seen.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.seen += 1;
        self.value = match self.value {
            Some(prev) => Some(prev + self.alpha * (x - prev)),
            None => {
                self.seed_sum += x;
                (self.seen == self.period).then(|| self.seed_sum / self.period as f64)
            }
        };
        self.value
    }

    /// Current value.
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_sma_then_smooths() {
        let mut ema = Ema::new(3);
        assert_eq!(ema.update(2.0), None);
        assert_eq!(ema.update(4.0), None);
        assert_eq!(ema.update(6.0), Some(4.0));
        // alpha = 0.5: 4 + 0.5 * (8 - 4) = 6
        assert_eq!(ema.update(8.0), Some(6.0));
    }
}
