//! Simple moving average over a fixed window.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Simple moving average of the last `window` values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sma {
    window: usize,
    values: VecDeque<f64>,
    sum: f64,
}

impl Sma {
    /// A new average over `window` values (at least 1).
    pub fn new(window: usize) -> Self {
        let window = window.max(1);
        Self {
            window,
            values: VecDeque::with_capacity(window),
            sum: 0.0,
        }
    }

    /// Add a value; returns the average once the window is full.
    pub fn update(&mut self, value: f64) -> Option<f64> {
        self.values.push_back(value);
        self.sum += value;
        if self.values.len() > self.window {
            self.sum -= self.values.pop_front().unwrap_or(0.0);
        }
        self.value()
    }

    /// The average, once `window` values have been seen.
    pub fn value(&self) -> Option<f64> {
        (self.values.len() == self.window).then(|| self.sum / self.window as f64)
    }

    /// The window length.
    pub fn window(&self) -> usize {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_last_window_values() {
        let mut sma = Sma::new(3);
        assert_eq!(sma.update(1.0), None);
        assert_eq!(sma.update(2.0), None);
        assert_eq!(sma.update(3.0), Some(2.0));
        assert_eq!(sma.update(7.0), Some(4.0));
    }

    #[test]
    fn zero_window_is_treated_as_one() {
        let mut sma = Sma::new(0);
        assert_eq!(sma.update(5.0), Some(5.0));
    }
}
