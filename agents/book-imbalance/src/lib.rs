//! Book-imbalance scanner: who is leaning on the book, and what looks wrong.
//!
//! For every symbol it is subscribed to, each quote (top of book) or book
//! (its top `depth` levels) gives an imbalance
//! `(bid size − ask size) / (bid size + ask size)`, from −1 (all offers)
//! to +1 (all bids), smoothed by an EMA over `smoothing` updates. When the
//! smoothed imbalance enters the zone beyond ±`threshold` it publishes a
//! signal on `signal.imbalance.<symbol>` (score: imbalance × 10;
//! confidence: how much size stands behind it, 1 at `full_size`), and a
//! signal with score 0 when it leaves the zone.
//!
//! Anomalies are raised as alerts (the host counts and logs them): a spread
//! wider than `max_spread_bps`, a crossed or locked book, a mid that jumps
//! more than `jump_bps` from one update to the next.
//!
//! Config: `threshold` (0.6), `smoothing` (5), `depth` (5), `full_size`
//! (10), `max_spread_bps` (50), `jump_bps` (100).

use std::collections::BTreeMap;

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// What one update shows.
#[derive(Debug, Clone, PartialEq)]
enum Finding {
    /// The smoothed imbalance entered (or, score 0, left) the zone.
    Lean { score: f64, confidence: f64 },
    /// Something looks wrong.
    Anomaly(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Settings {
    threshold: f64,
    smoothing: usize,
    depth: usize,
    full_size: f64,
    max_spread_bps: f64,
    jump_bps: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threshold: 0.6,
            smoothing: 5,
            depth: 5,
            full_size: 10.0,
            max_spread_bps: 50.0,
            jump_bps: 100.0,
        }
    }
}

/// One symbol's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Watched {
    imbalance: Ema,
    /// -1, 0 or +1: which zone the smoothed imbalance is in.
    zone: i8,
    last_mid: Option<f64>,
}

/// The scanner, apart from the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Scanner {
    settings: Settings,
    symbols: BTreeMap<String, Watched>,
}

impl Scanner {
    /// One update of `symbol`'s book: best bid and ask, and the sizes on
    /// each side.
    fn update(&mut self, symbol: &str, bid: f64, ask: f64, bids: f64, asks: f64) -> Vec<Finding> {
        let s = &self.settings;
        let mut found = Vec::new();
        let state = self
            .symbols
            .entry(symbol.to_string())
            .or_insert_with(|| Watched {
                imbalance: Ema::new(s.smoothing),
                zone: 0,
                last_mid: None,
            });
        let mid = (bid + ask) / 2.0;
        if bid >= ask {
            found.push(Finding::Anomaly(format!(
                "{symbol}: crossed or locked book (bid {bid} >= ask {ask})"
            )));
        } else if mid > 0.0 {
            let spread = (ask - bid) / mid * 1e4;
            if spread > s.max_spread_bps {
                found.push(Finding::Anomaly(format!(
                    "{symbol}: spread {spread:.1} bps (over {} bps)",
                    s.max_spread_bps
                )));
            }
        }
        if let Some(last) = state.last_mid
            && last > 0.0
        {
            let jump = (mid / last - 1.0).abs() * 1e4;
            if jump > s.jump_bps {
                found.push(Finding::Anomaly(format!(
                    "{symbol}: mid jumped {jump:.0} bps ({last} to {mid})"
                )));
            }
        }
        state.last_mid = Some(mid);
        let total = bids + asks;
        if total <= 0.0 {
            return found;
        }
        let Some(lean) = state.imbalance.update((bids - asks) / total) else {
            return found;
        };
        let zone = if lean > s.threshold {
            1
        } else if lean < -s.threshold {
            -1
        } else {
            0
        };
        if zone != state.zone {
            state.zone = zone;
            found.push(Finding::Lean {
                score: if zone == 0 { 0.0 } else { lean * 10.0 },
                confidence: (total / s.full_size).min(1.0),
            });
        }
        found
    }
}

#[derive(Default, Serialize, Deserialize)]
struct BookImbalance {
    scanner: Scanner,
}

impl Agent for BookImbalance {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let d = Settings::default();
        let s = Settings {
            threshold: config.parse_or("threshold", d.threshold)?,
            smoothing: config.parse_or("smoothing", d.smoothing)?,
            depth: config.parse_or("depth", d.depth)?,
            full_size: config.parse_or("full_size", d.full_size)?,
            max_spread_bps: config.parse_or("max_spread_bps", d.max_spread_bps)?,
            jump_bps: config.parse_or("jump_bps", d.jump_bps)?,
        };
        if !(0.0 < s.threshold && s.threshold < 1.0) || s.depth == 0 || s.full_size <= 0.0 {
            return Err(error(
                "bad_config",
                format!(
                    "need 0 < threshold < 1, depth >= 1 and full_size > 0, got {}, {}, {}",
                    s.threshold, s.depth, s.full_size
                ),
            ));
        }
        self.scanner.settings = s;
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        let (symbol, found) = match &msg.payload {
            Payload::Quote(q) => (
                &q.symbol,
                self.scanner
                    .update(&q.symbol, q.bid, q.ask, q.bid_size, q.ask_size),
            ),
            Payload::Book(b) => {
                let (Some(bid), Some(ask)) = (b.bids.first(), b.asks.first()) else {
                    return Ok(());
                };
                let depth = self.scanner.settings.depth;
                let sum = |levels: &[Level]| levels.iter().take(depth).map(|l| l.size).sum();
                let (bids, asks) = (sum(&b.bids), sum(&b.asks));
                (
                    &b.symbol,
                    self.scanner
                        .update(&b.symbol, bid.price, ask.price, bids, asks),
                )
            }
            _ => return Ok(()),
        };
        for f in found {
            match f {
                Finding::Lean { score, confidence } => out.publish(
                    format!("signal.imbalance.{symbol}"),
                    Payload::Signal(Signal {
                        symbol: symbol.clone(),
                        score,
                        confidence,
                        horizon_ns: 0,
                    }),
                ),
                Finding::Anomaly(what) => out.alert(what),
            }
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(BookImbalance);

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> Scanner {
        Scanner {
            settings: Settings {
                smoothing: 2,
                ..Settings::default()
            },
            ..Scanner::default()
        }
    }

    #[test]
    fn a_lean_is_signalled_entering_and_leaving_the_zone() {
        let mut s = scanner();
        assert_eq!(
            s.update("X", 99.99, 100.01, 9.0, 1.0),
            [],
            "smoothing needs 2"
        );
        let found = s.update("X", 99.99, 100.01, 9.0, 1.0); // 0.8, 0.8
        assert_eq!(
            found,
            [Finding::Lean {
                score: 8.0,
                confidence: 1.0
            }]
        );
        assert_eq!(
            s.update("X", 99.99, 100.01, 9.0, 1.0),
            [],
            "still in the zone"
        );
        // Balanced now: the EMA (alpha 2/3) falls to 0.8 / 3 = 0.27: out.
        let found = s.update("X", 99.99, 100.01, 1.0, 1.0);
        assert_eq!(
            found,
            [Finding::Lean {
                score: 0.0,
                confidence: 0.2
            }]
        );
        // Each symbol on its own.
        assert_eq!(s.update("Y", 99.99, 100.01, 1.0, 9.0), []);
    }

    #[test]
    fn wide_crossed_and_jumping_books_are_anomalies() {
        let mut s = scanner();
        let anomalies = |f: Vec<Finding>| {
            f.into_iter()
                .filter_map(|f| match f {
                    Finding::Anomaly(a) => Some(a),
                    Finding::Lean { .. } => None,
                })
                .collect::<Vec<_>>()
        };
        assert!(anomalies(s.update("X", 99.99, 100.01, 1.0, 1.0)).is_empty());
        assert_eq!(
            anomalies(s.update("X", 99.0, 101.0, 1.0, 1.0)),
            ["X: spread 200.0 bps (over 50 bps)"]
        );
        assert_eq!(
            anomalies(s.update("X", 100.0, 100.0, 1.0, 1.0)),
            ["X: crossed or locked book (bid 100 >= ask 100)"]
        );
        assert_eq!(
            anomalies(s.update("X", 101.99, 102.01, 1.0, 1.0)),
            ["X: mid jumped 200 bps (100 to 102)"]
        );
    }
}
