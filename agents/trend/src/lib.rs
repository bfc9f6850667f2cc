//! Trend follower: a moving-average crossover.
//!
//! On every quote of its symbol it updates a fast and a slow simple moving
//! average of the mid price. When the fast one crosses above the slow one it
//! targets a long position of `quantity`; when it crosses below, a short one
//! (or flat with `allow_short = false`). Each crossing is also published as a
//! signal on `signal.trend.<symbol>`.
//!
//! Config: `symbol` (required), `fast` (10), `slow` (30), `quantity` (0.01),
//! `allow_short` (true), `stop_pct` (0: none; else each order that opens or
//! grows the position carries a protective stop this far, in %, from the
//! price, which the host holds).

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Default, Serialize, Deserialize)]
struct Trend {
    symbol: String,
    quantity: f64,
    allow_short: bool,
    fast: Option<Sma>,
    slow: Option<Sma>,
    /// +1 when fast > slow at the last quote, -1 when below, 0 before both exist.
    regime: i8,
    targeter: Option<Targeter>,
}

impl Agent for Trend {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        let fast: usize = config.parse_or("fast", 10)?;
        let slow: usize = config.parse_or("slow", 30)?;
        if fast == 0 || fast >= slow {
            return Err(error(
                "bad_config",
                format!("need 0 < fast < slow, got fast = {fast}, slow = {slow}"),
            ));
        }
        self.symbol = config.require("symbol")?.to_string();
        self.quantity = config.parse_or("quantity", 0.01)?;
        self.allow_short = config.parse_or("allow_short", true)?;
        self.fast = Some(Sma::new(fast));
        self.slow = Some(Sma::new(slow));
        let stop_pct = config.percent_or("stop_pct", 0.0)?;
        self.targeter = Some(
            Targeter::new(&self.symbol, "trend", self.quantity / 100.0).with_stop_pct(stop_pct),
        );
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        let (Some(fast), Some(slow), Some(targeter)) = (
            self.fast.as_mut(),
            self.slow.as_mut(),
            self.targeter.as_mut(),
        ) else {
            return Err(error("not_initialised", "init was not called"));
        };
        match &msg.payload {
            Payload::OrderEvent(event) => targeter.on_order_event(event),
            Payload::Quote(q) if q.symbol == self.symbol => {
                let mid = (q.bid + q.ask) / 2.0;
                let (Some(f), Some(s)) = (fast.update(mid), slow.update(mid)) else {
                    return Ok(());
                };
                let regime = if f > s {
                    1
                } else if f < s {
                    -1
                } else {
                    self.regime
                };
                if regime != self.regime {
                    self.regime = regime;
                    out.publish(
                        format!("signal.trend.{}", self.symbol),
                        Payload::Signal(Signal {
                            symbol: self.symbol.clone(),
                            score: 10.0 * f64::from(regime),
                            confidence: ((f - s).abs() / s * 1e4).min(1.0),
                            horizon_ns: 60_000_000_000,
                        }),
                    );
                }
                let target = match self.regime {
                    1 => self.quantity,
                    -1 if self.allow_short => -self.quantity,
                    _ => 0.0,
                };
                targeter.move_to(target, out);
            }
            _ => {}
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(Trend);
