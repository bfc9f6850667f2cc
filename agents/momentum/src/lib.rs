//! Momentum: follow the rate of change.
//!
//! On every quote of its symbol it compares the mid price with the mid
//! `lookback` quotes ago. A rise of more than `entry_pct` percent targets a
//! long of `quantity`; a fall of more than `entry_pct` a short (or flat with
//! `allow_short = false`); once the move fades below `exit_pct` in either
//! direction it goes flat. Every change of stance is published as a signal
//! on `signal.momentum.<symbol>`, its score the rate of change scaled so
//! that `entry_pct` is 5 (clamped to ±10).
//!
//! With `trade = false` it only publishes its signals: a voter for an
//! ensemble judge that does the trading.
//!
//! Config: `symbol` (required), `lookback` (20), `entry_pct` (0.5),
//! `exit_pct` (0.1), `quantity` (0.01), `allow_short` (true), `trade`
//! (true).

use std::collections::VecDeque;

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// Where the strategy wants to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
enum Stance {
    Long,
    Short,
    #[default]
    Flat,
}

/// The rule, apart from the host: mids in, stance changes out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Rule {
    lookback: usize,
    entry: f64,
    exit: f64,
    allow_short: bool,
    mids: VecDeque<f64>,
    stance: Stance,
}

impl Rule {
    /// Feed a mid; the new stance and the rate of change (percent) when
    /// the stance changes.
    fn on_mid(&mut self, mid: f64) -> Option<(Stance, f64)> {
        self.mids.push_back(mid);
        if self.mids.len() <= self.lookback {
            return None;
        }
        let then = self.mids.pop_front()?;
        let roc = (mid / then - 1.0) * 100.0;
        let next = if roc > self.entry {
            Stance::Long
        } else if roc < -self.entry && self.allow_short {
            Stance::Short
        } else if roc.abs() < self.exit || (roc < -self.entry && !self.allow_short) {
            Stance::Flat
        } else {
            self.stance
        };
        (next != self.stance).then(|| {
            self.stance = next;
            (next, roc)
        })
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Momentum {
    symbol: String,
    quantity: f64,
    trade: bool,
    rule: Rule,
    targeter: Option<Targeter>,
}

impl Agent for Momentum {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        self.symbol = config.require("symbol")?.to_string();
        self.quantity = config.parse_or("quantity", 0.01)?;
        self.trade = config.parse_or("trade", true)?;
        let lookback: usize = config.parse_or("lookback", 20)?;
        let entry: f64 = config.parse_or("entry_pct", 0.5)?;
        let exit: f64 = config.parse_or("exit_pct", 0.1)?;
        if lookback == 0 || !(0.0 <= exit && exit < entry) || self.quantity <= 0.0 {
            return Err(error(
                "bad_config",
                format!(
                    "need lookback >= 1, 0 <= exit_pct < entry_pct and quantity > 0, got {lookback}, {exit}, {entry}, {}",
                    self.quantity
                ),
            ));
        }
        self.rule = Rule {
            lookback,
            entry,
            exit,
            allow_short: config.parse_or("allow_short", true)?,
            ..Rule::default()
        };
        self.targeter = Some(Targeter::new(
            &self.symbol,
            "momentum",
            self.quantity / 100.0,
        ));
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        let Some(targeter) = self.targeter.as_mut() else {
            return Err(error("not_initialised", "init was not called"));
        };
        match &msg.payload {
            Payload::OrderEvent(event) => targeter.on_order_event(event),
            Payload::Quote(q) if q.symbol == self.symbol => {
                if let Some((_, roc)) = self.rule.on_mid((q.bid + q.ask) / 2.0) {
                    out.publish(
                        format!("signal.momentum.{}", self.symbol),
                        Payload::Signal(Signal {
                            symbol: self.symbol.clone(),
                            score: (roc / self.rule.entry * 5.0).clamp(-10.0, 10.0),
                            confidence: (roc.abs() / (2.0 * self.rule.entry)).min(1.0),
                            horizon_ns: 0,
                        }),
                    );
                }
                if !self.trade {
                    return Ok(());
                }
                let target = match self.rule.stance {
                    Stance::Long => self.quantity,
                    Stance::Short => -self.quantity,
                    Stance::Flat => 0.0,
                };
                targeter.move_to(target, out);
            }
            _ => {}
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(Momentum);

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow_short: bool) -> Rule {
        Rule {
            lookback: 2,
            entry: 1.0,
            exit: 0.2,
            allow_short,
            ..Rule::default()
        }
    }

    #[test]
    fn enters_on_a_strong_move_holds_through_a_weaker_one_and_exits_when_it_fades() {
        let mut r = rule(true);
        assert_eq!(r.on_mid(100.0), None);
        assert_eq!(r.on_mid(100.5), None, "not enough history yet");
        let (stance, roc) = r.on_mid(101.5).unwrap(); // +1.5% over 2 quotes
        assert_eq!(stance, Stance::Long);
        assert!((roc - 1.5).abs() < 1e-9);
        assert_eq!(r.on_mid(101.5), None, "+0.99% over 2: weaker, still long");
        let (stance, roc) = r.on_mid(101.6).unwrap(); // +0.1% over 2: faded
        assert_eq!(stance, Stance::Flat);
        assert!(roc < 0.2);
    }

    #[test]
    fn shorts_only_when_allowed() {
        let mut r = rule(true);
        for m in [100.0, 99.5] {
            r.on_mid(m);
        }
        assert_eq!(r.on_mid(98.5).map(|s| s.0), Some(Stance::Short));
        let mut r = rule(false);
        for m in [100.0, 99.5] {
            r.on_mid(m);
        }
        assert_eq!(r.on_mid(98.5), None, "flat already: no change");
        assert_eq!(r.stance, Stance::Flat);
    }
}
