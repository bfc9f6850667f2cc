//! Ensemble judge: one intent from many strategies' signals.
//!
//! Strategies that only publish signals (`signal.<kind>.<symbol>`: a score
//! from −10 to +10 and a confidence from 0 to 1) are its voters; it is the
//! one that trades. For its symbol it keeps each source's latest signal —
//! the source is the host-stamped publisher, which an agent cannot forge —
//! until the signal's horizon (or `max_age_ms` when it gives none) runs out
//! in event time. The consensus is the confidence- and weight-weighted mean
//! score: `Σ score·confidence·weight / Σ confidence·weight`, with
//! `weight.<source>` from the config (1 by default, 0 to ignore a source).
//!
//! With at least `min_voters` live signals, a consensus over `enter`
//! targets a long of `quantity`, under −`enter` a short (flat with
//! `allow_short = false`), and within ±`exit` flat; in between it holds.
//! Each decision is published on `signal.ensemble.<symbol>`.
//!
//! Config: `symbol` (required), `quantity` (0.01), `enter` (3), `exit` (1),
//! `min_voters` (2), `max_age_ms` (60000), `allow_short` (true),
//! `weight.<source>` (1).

use std::collections::BTreeMap;

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// One source's latest word.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Vote {
    score: f64,
    confidence: f64,
    until: u64,
}

/// The judging rule, apart from the host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Judge {
    enter: f64,
    exit: f64,
    min_voters: usize,
    max_age_ns: u64,
    allow_short: bool,
    weights: BTreeMap<String, f64>,
    votes: BTreeMap<String, Vote>,
    /// -1, 0, +1.
    stance: i8,
}

impl Judge {
    fn weight(&self, source: &str) -> f64 {
        self.weights.get(source).copied().unwrap_or(1.0)
    }

    /// Record `source`'s signal at event time `at`.
    fn on_signal(&mut self, source: &str, s: &Signal, at: u64) {
        if self.weight(source) <= 0.0 || !s.score.is_finite() || !s.confidence.is_finite() {
            return;
        }
        let life = if s.horizon_ns > 0 {
            s.horizon_ns
        } else {
            self.max_age_ns
        };
        self.votes.insert(
            source.to_string(),
            Vote {
                score: s.score.clamp(-10.0, 10.0),
                confidence: s.confidence.clamp(0.0, 1.0),
                until: at.saturating_add(life),
            },
        );
    }

    /// The weighted consensus of the live votes at `now`, and how many.
    fn consensus(&mut self, now: u64) -> (Option<f64>, usize) {
        self.votes.retain(|_, v| v.until > now);
        let (mut num, mut den) = (0.0, 0.0);
        for (source, v) in &self.votes {
            let w = v.confidence * self.weights.get(source).copied().unwrap_or(1.0);
            num += v.score * w;
            den += w;
        }
        let n = self.votes.len();
        ((den > 0.0).then(|| num / den), n)
    }

    /// Decide at `now`: the new stance and the consensus, when it changes.
    fn decide(&mut self, now: u64) -> Option<(i8, f64)> {
        let (consensus, voters) = self.consensus(now);
        let c = consensus.unwrap_or(0.0);
        let next = if voters < self.min_voters {
            0
        } else if c > self.enter {
            1
        } else if c < -self.enter {
            if self.allow_short { -1 } else { 0 }
        } else if c.abs() < self.exit {
            0
        } else {
            self.stance
        };
        (next != self.stance).then(|| {
            self.stance = next;
            (next, c)
        })
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Ensemble {
    symbol: String,
    quantity: f64,
    judge: Judge,
    targeter: Option<Targeter>,
}

impl Agent for Ensemble {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        self.symbol = config.require("symbol")?.to_string();
        self.quantity = config.parse_or("quantity", 0.01)?;
        let mut judge = Judge {
            enter: config.parse_or("enter", 3.0)?,
            exit: config.parse_or("exit", 1.0)?,
            min_voters: config.parse_or("min_voters", 2)?,
            max_age_ns: config.parse_or::<u64>("max_age_ms", 60_000)? * 1_000_000,
            allow_short: config.parse_or("allow_short", true)?,
            ..Judge::default()
        };
        for (key, value) in config.pairs() {
            if let Some(source) = key.strip_prefix("weight.") {
                let w: f64 = value.parse().map_err(|_| {
                    error("bad_config", format!("`{key}` = `{value}` is not a number"))
                })?;
                judge.weights.insert(source.to_string(), w);
            }
        }
        if !(0.0 <= judge.exit && judge.exit < judge.enter && judge.enter <= 10.0)
            || judge.min_voters == 0
            || self.quantity <= 0.0
        {
            return Err(error(
                "bad_config",
                format!(
                    "need 0 <= exit < enter <= 10, min_voters >= 1 and quantity > 0, got {}, {}, {}, {}",
                    judge.exit, judge.enter, judge.min_voters, self.quantity
                ),
            ));
        }
        self.judge = judge;
        let stop_pct = config.percent_or("stop_pct", 0.0)?;
        self.targeter = Some(
            Targeter::new(&self.symbol, "ensemble", self.quantity / 100.0).with_stop_pct(stop_pct),
        );
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        let Some(targeter) = self.targeter.as_mut() else {
            return Err(error("not_initialised", "init was not called"));
        };
        match &msg.payload {
            Payload::OrderEvent(event) => {
                targeter.on_order_event(event);
                return Ok(());
            }
            Payload::Signal(s) if s.symbol == self.symbol => {
                self.judge.on_signal(&msg.source, s, msg.event_time);
            }
            // Quotes keep time moving, so stale votes expire.
            Payload::Quote(q) if q.symbol == self.symbol => {}
            _ => return Ok(()),
        }
        if let Some((_, consensus)) = self.judge.decide(msg.event_time) {
            out.publish(
                format!("signal.ensemble.{}", self.symbol),
                Payload::Signal(Signal {
                    symbol: self.symbol.clone(),
                    score: consensus,
                    confidence: 1.0,
                    horizon_ns: 0,
                }),
            );
        }
        let target = f64::from(self.judge.stance) * self.quantity;
        targeter.move_to(target, out);
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(Ensemble);

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn judge() -> Judge {
        Judge {
            enter: 3.0,
            exit: 1.0,
            min_voters: 2,
            max_age_ns: 10 * S,
            allow_short: true,
            ..Judge::default()
        }
    }

    fn signal(score: f64, confidence: f64) -> Signal {
        Signal {
            symbol: "X".into(),
            score,
            confidence,
            horizon_ns: 0,
        }
    }

    #[test]
    fn a_confident_majority_decides_and_a_lone_voice_does_not() {
        let mut j = judge();
        j.on_signal("trend", &signal(8.0, 1.0), 0);
        assert_eq!(j.decide(0), None, "one voter of the two needed");
        j.on_signal("momentum", &signal(-2.0, 0.25), S);
        // (8·1 − 2·0.25) / 1.25 = 6: long.
        assert_eq!(j.decide(S), Some((1, 6.0)));
        j.on_signal("imbalance", &signal(-8.0, 1.0), 2 * S);
        // (8 − 0.5 − 8) / 2.25 ≈ −0.22: within ±1, flat.
        let (stance, c) = j.decide(2 * S).unwrap();
        assert_eq!(stance, 0);
        assert!((c + 0.5 / 2.25).abs() < 1e-12, "{c}");
    }

    #[test]
    fn weights_count_and_stale_votes_expire() {
        let mut j = judge();
        j.weights.insert("noisy".into(), 0.0);
        j.weights.insert("trusted".into(), 3.0);
        j.on_signal("noisy", &signal(-10.0, 1.0), 0);
        j.on_signal("trusted", &signal(5.0, 1.0), 0);
        j.on_signal("other", &signal(-3.0, 1.0), 0);
        // (5·3 − 3) / 4 = 3: not over enter (3). Holding flat.
        assert_eq!(j.decide(0), None);
        j.on_signal("other", &signal(-1.0, 1.0), S);
        // (15 − 1) / 4 = 3.5: long.
        assert_eq!(j.decide(S), Some((1, 3.5)));
        // Ten seconds on, `trusted` (from 0) expires; one voter left is
        // too few: flat.
        assert_eq!(j.decide(10 * S - 1), None, "both still live");
        assert_eq!(j.decide(10 * S).map(|d| d.0), Some(0));
    }
}
