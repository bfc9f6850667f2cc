//! Guardian: the portfolio's risk agent — drawdown, gross exposure and
//! correlation across every symbol it watches.
//!
//! It marks the account to the mids of `symbols` (cash in `quote` plus each
//! position at its mid), follows the equity's peak, and
//!
//! - **pauses** risk-taking once the drawdown from the peak passes
//!   `max_drawdown_pct`: it publishes `control.guardian.pause` (JSON with
//!   the reason) and, as a risk agent, rejects every intent that would grow
//!   a position; intents that shrink one are approved. It **resumes**
//!   (`control.guardian.resume`) once the drawdown is back under half the
//!   limit;
//! - **throttles** exposure: an intent that would take the gross exposure
//!   (Σ |position × mid|) over `max_gross` × equity is resized to the room
//!   left, or rejected when there is none;
//! - **refuses concentration**: an intent that grows a position in the same
//!   direction as an open position in another symbol whose returns
//!   correlate above `max_correlation` (over the last `corr_window` quotes)
//!   is rejected — two correlated longs are one bigger bet.
//!
//! Config: `symbols` (required, comma-separated), `quote` (USDT),
//! `max_drawdown_pct` (20), `max_gross` (1.0), `max_correlation` (0.8),
//! `corr_window` (50).

use std::collections::{BTreeMap, VecDeque};

use floor_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// A symbol's mid and recent returns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Marks {
    mid: Option<f64>,
    returns: VecDeque<f64>,
}

/// Pearson correlation of the two series' common tail.
fn correlation(a: &VecDeque<f64>, b: &VecDeque<f64>) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 3 {
        return None;
    }
    let (a, b): (Vec<f64>, Vec<f64>) = (
        a.iter().skip(a.len() - n).copied().collect(),
        b.iter().skip(b.len() - n).copied().collect(),
    );
    let mean = |x: &[f64]| x.iter().sum::<f64>() / n as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let cov: f64 = a.iter().zip(&b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// The guardian's rules, apart from the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Guard {
    max_drawdown: f64,
    max_gross: f64,
    max_correlation: f64,
    window: usize,
    marks: BTreeMap<String, Marks>,
    peak: f64,
    paused: bool,
}

impl Default for Guard {
    fn default() -> Self {
        Self {
            max_drawdown: 0.2,
            max_gross: 1.0,
            max_correlation: 0.8,
            window: 50,
            marks: BTreeMap::new(),
            peak: 0.0,
            paused: false,
        }
    }
}

impl Guard {
    fn mark(&mut self, symbol: &str, mid: f64) {
        let window = self.window;
        let m = self.marks.entry(symbol.to_string()).or_default();
        if let Some(last) = m.mid
            && last > 0.0
        {
            m.returns.push_back(mid / last - 1.0);
            if m.returns.len() > window {
                m.returns.pop_front();
            }
        }
        m.mid = Some(mid);
    }

    fn mid(&self, symbol: &str) -> Option<f64> {
        self.marks.get(symbol).and_then(|m| m.mid)
    }

    /// Equity: cash plus the positions at their mids.
    fn equity(&self, cash: f64, positions: &BTreeMap<String, f64>) -> f64 {
        cash + positions
            .iter()
            .map(|(s, q)| q * self.mid(s).unwrap_or(0.0))
            .sum::<f64>()
    }

    /// Follow the equity; a pause or resume (with why) when it changes.
    fn watch(&mut self, equity: f64) -> Option<(bool, String)> {
        self.peak = self.peak.max(equity);
        if self.peak <= 0.0 {
            return None;
        }
        let drawdown = 1.0 - equity / self.peak;
        let pause = if self.paused {
            drawdown >= self.max_drawdown / 2.0
        } else {
            drawdown > self.max_drawdown
        };
        (pause != self.paused).then(|| {
            self.paused = pause;
            (
                pause,
                format!(
                    "drawdown {:.2}% from the peak {:.2} (limit {:.2}%)",
                    drawdown * 100.0,
                    self.peak,
                    self.max_drawdown * 100.0
                ),
            )
        })
    }

    /// The verdict on trading `quantity` (signed) of `symbol` given the
    /// positions (signed, by symbol) and the equity.
    fn verdict(
        &self,
        symbol: &str,
        quantity: f64,
        positions: &BTreeMap<String, f64>,
        equity: f64,
    ) -> RiskVerdict {
        let now = positions.get(symbol).copied().unwrap_or(0.0);
        let after = now + quantity;
        if after.abs() < now.abs() && after * now >= 0.0 {
            return RiskVerdict::Approve;
        }
        if self.paused {
            return RiskVerdict::Reject(
                "guardian: paused by the drawdown limit; only reducing orders".into(),
            );
        }
        let Some(mid) = self.mid(symbol) else {
            return RiskVerdict::Reject(format!("guardian: no mark for {symbol} yet"));
        };
        let mine = &self.marks[symbol].returns;
        for (other, q) in positions {
            if other == symbol || *q == 0.0 || q.signum() != quantity.signum() {
                continue;
            }
            if let Some(rho) = self
                .marks
                .get(other)
                .and_then(|m| correlation(mine, &m.returns))
                && rho > self.max_correlation
            {
                return RiskVerdict::Reject(format!(
                    "guardian: {symbol} moves with {other} (correlation {rho:.2} > {:.2}), which is already held the same way",
                    self.max_correlation
                ));
            }
        }
        let gross_others: f64 = positions
            .iter()
            .filter(|(s, _)| s.as_str() != symbol)
            .map(|(s, q)| (q * self.mid(s).unwrap_or(0.0)).abs())
            .sum();
        let limit = self.max_gross * equity.max(0.0);
        if gross_others + (after * mid).abs() <= limit {
            return RiskVerdict::Approve;
        }
        let room = (limit - gross_others) / mid - now.abs();
        if room > 0.0 && now * quantity >= 0.0 {
            RiskVerdict::Resize(room)
        } else {
            RiskVerdict::Reject(format!(
                "guardian: gross exposure would pass {:.2} ({} × equity {equity:.2})",
                limit, self.max_gross
            ))
        }
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Guardian {
    symbols: Vec<String>,
    quote: String,
    guard: Guard,
}

impl Guardian {
    fn book(&self) -> (f64, BTreeMap<String, f64>) {
        let cash = host::balance(&self.quote);
        let positions = self
            .symbols
            .iter()
            .map(|s| (s.clone(), host::position(s).quantity))
            .collect();
        (cash.free + cash.locked, positions)
    }
}

impl Agent for Guardian {
    fn init(&mut self, config: &Config) -> Result<(), Error> {
        config.require("symbols")?;
        self.symbols = config.list("symbols");
        self.quote = config.get("quote").unwrap_or("USDT").to_string();
        let d = Guard::default();
        self.guard = Guard {
            max_drawdown: config.parse_or("max_drawdown_pct", d.max_drawdown * 100.0)? / 100.0,
            max_gross: config.parse_or("max_gross", d.max_gross)?,
            max_correlation: config.parse_or("max_correlation", d.max_correlation)?,
            window: config.parse_or("corr_window", d.window)?,
            ..d
        };
        let g = &self.guard;
        if self.symbols.is_empty()
            || !(0.0 < g.max_drawdown && g.max_drawdown < 1.0)
            || g.max_gross <= 0.0
        {
            return Err(error(
                "bad_config",
                "need symbols, 0 < max_drawdown_pct < 100 and max_gross > 0",
            ));
        }
        Ok(())
    }

    fn on_message(&mut self, msg: &Envelope, out: &mut Outputs) -> Result<(), Error> {
        match &msg.payload {
            Payload::Quote(q) if self.symbols.contains(&q.symbol) => {
                self.guard.mark(&q.symbol, (q.bid + q.ask) / 2.0);
                let (cash, positions) = self.book();
                let equity = self.guard.equity(cash, &positions);
                if let Some((paused, why)) = self.guard.watch(equity) {
                    let action = if paused { "pause" } else { "resume" };
                    let body = format!("{{\"action\":\"{action}\",\"reason\":\"{why}\"}}");
                    out.publish(
                        format!("control.guardian.{action}"),
                        Payload::Custom(body.into_bytes()),
                    );
                    out.alert(format!("guardian: {action}: {why}"));
                }
            }
            Payload::OrderIntent(intent) => {
                let (cash, positions) = self.book();
                let equity = self.guard.equity(cash, &positions);
                let signed = match intent.side {
                    Side::Buy => intent.quantity,
                    Side::Sell => -intent.quantity,
                };
                out.reply(Payload::RiskVerdict(self.guard.verdict(
                    &intent.symbol,
                    signed,
                    &positions,
                    equity,
                )));
            }
            _ => {}
        }
        Ok(())
    }

    floor_sdk::serde_snapshot!();
}

floor_sdk::export_agent!(Guardian);

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard {
            window: 10,
            ..Guard::default()
        }
    }

    fn book(p: &[(&str, f64)]) -> BTreeMap<String, f64> {
        p.iter().map(|(s, q)| (s.to_string(), *q)).collect()
    }

    #[test]
    fn a_drawdown_pauses_risk_taking_until_it_halves() {
        let mut g = guard();
        g.mark("X", 100.0);
        assert_eq!(g.watch(1000.0), None);
        assert_eq!(g.watch(850.0), None, "15%: within the limit");
        let (paused, why) = g.watch(790.0).unwrap();
        assert!(paused);
        assert_eq!(why, "drawdown 21.00% from the peak 1000.00 (limit 20.00%)");
        let pos = book(&[("X", 2.0)]);
        assert!(matches!(
            g.verdict("X", 1.0, &pos, 790.0),
            RiskVerdict::Reject(_)
        ));
        assert!(matches!(
            g.verdict("X", -1.0, &pos, 790.0),
            RiskVerdict::Approve
        ));
        assert_eq!(g.watch(880.0), None, "12%: not yet under half the limit");
        assert_eq!(g.watch(920.0).map(|w| w.0), Some(false), "8%: resumed");
    }

    #[test]
    fn gross_exposure_is_resized_to_the_room_left() {
        let mut g = guard();
        g.mark("X", 100.0);
        g.mark("Y", 50.0);
        let pos = book(&[("X", 5.0), ("Y", 0.0)]);
        // Equity 1,000: 500 in X, room for 500 more = 10 Y.
        match g.verdict("Y", 15.0, &pos, 1000.0) {
            RiskVerdict::Resize(q) => assert!((q - 10.0).abs() < 1e-9, "{q}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            g.verdict("Y", 8.0, &pos, 1000.0),
            RiskVerdict::Approve
        ));
    }

    #[test]
    fn a_second_bet_on_a_correlated_symbol_is_refused() {
        let mut g = guard();
        for i in 0..12 {
            let wiggle = if i % 2 == 0 { 1.0 } else { -1.0 } * (i as f64);
            g.mark("X", 100.0 + wiggle);
            g.mark("Y", 50.0 + wiggle / 2.0);
            g.mark("Z", 80.0 - wiggle);
        }
        let pos = book(&[("X", 1.0), ("Y", 0.0), ("Z", 0.0)]);
        match g.verdict("Y", 1.0, &pos, 10_000.0) {
            RiskVerdict::Reject(why) => {
                assert!(why.starts_with("guardian: Y moves with X"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(g.verdict("Y", -1.0, &pos, 10_000.0), RiskVerdict::Approve),
            "the other way is a hedge"
        );
        assert!(
            matches!(g.verdict("Z", 1.0, &pos, 10_000.0), RiskVerdict::Approve),
            "Z moves against X"
        );
    }
}
