//! What a backtest reports, computed from the portfolio as it moves.
//!
//! Equity is sampled at the end of every bar of event time (`--bar`,
//! default one minute); returns are bar to bar. Sharpe and Sortino are
//! annualised for a market that never closes (365 days of bars), with no
//! risk-free rate. Drawdown is the portfolio's own, tick by tick. A trade
//! is a round trip per symbol: from a flat position to flat again (a flip
//! closes one and opens the next); its PnL is the realised PnL, fees
//! included, that the position made meanwhile.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Nanos;
use crate::node::Summary;
use crate::oms::Portfolio;

const YEAR_NS: f64 = 365.0 * 86_400e9;
/// A position smaller than this is flat.
const FLAT: f64 = 1e-9;

/// Fills as the venue made them.
#[derive(Debug, Clone, Default)]
pub struct Fills {
    /// How many.
    pub count: u64,
    /// Traded notional, quote currency.
    pub notional: f64,
}

/// The report. Every figure is a function of config and data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Market events replayed.
    pub events: u64,
    /// Headlines of the config's news file published (`[news]`).
    pub news: u64,
    /// First and last event time, ns.
    pub from_ns: Nanos,
    /// Last event time, ns.
    pub to_ns: Nanos,
    /// Bar length, ns.
    pub bar_ns: u64,
    /// Orders sent.
    pub orders: u64,
    /// Orders refused (risk agents, limits, venue).
    pub rejects: u64,
    /// Fills.
    pub fills: u64,
    /// Round trips closed.
    pub trades: u64,
    /// Round trips that made money.
    pub wins: u64,
    /// wins / trades (0 without trades).
    pub win_rate: f64,
    /// Equity at the start.
    pub start_equity: f64,
    /// Equity at the end (positions at their last marks).
    pub end_equity: f64,
    /// Realised + unrealised PnL.
    pub pnl: f64,
    /// Realised PnL, fees included.
    pub realized: f64,
    /// Fees paid.
    pub fees: f64,
    /// end / start − 1.
    pub total_return: f64,
    /// Annualised Sharpe ratio of bar returns.
    pub sharpe: f64,
    /// Annualised Sortino ratio of bar returns.
    pub sortino: f64,
    /// Largest fall from a peak, a fraction.
    pub max_drawdown: f64,
    /// Fraction of bars that ended with a position.
    pub exposure: f64,
    /// Traded notional / starting equity.
    pub turnover: f64,
    /// Agent faults (each one dead-lettered).
    pub agent_faults: u64,
    /// (bar end, equity, drawdown) per bar.
    pub equity_curve: Vec<(Nanos, f64, f64)>,
    /// How the events were delivered: (events taken in runs, runs), over
    /// all agents. Not a figure of the report (which does not depend on
    /// it): printed beside the speed.
    #[serde(skip)]
    pub in_runs: (u64, u64),
}

/// Running figures.
pub struct Metrics {
    start_equity: f64,
    bar_ns: u64,
    first: Option<Nanos>,
    bar: u64,
    curve: Vec<(Nanos, f64, f64)>,
    exposed_bars: u64,
    last: (Nanos, f64, f64, bool),
    /// Per symbol: the open trade's side (+1 long, −1 short) and the
    /// symbol's realised PnL when it began.
    open: BTreeMap<String, Option<(f64, f64)>>,
    /// The portfolio's [`Portfolio::moves`] when positions were last read.
    seen_moves: Option<u64>,
    trades: u64,
    wins: u64,
}

impl Metrics {
    /// Figures for an account starting at `start_equity`.
    pub fn new(start_equity: f64, bar_ns: u64, symbols: &[String]) -> Self {
        Self {
            start_equity,
            bar_ns: bar_ns.max(1),
            first: None,
            bar: 0,
            curve: Vec::new(),
            exposed_bars: 0,
            last: (0, start_equity, 0.0, false),
            open: symbols.iter().map(|s| (s.clone(), None)).collect(),
            seen_moves: None,
            trades: 0,
            wins: 0,
        }
    }

    /// After the event at `t`, the next one being at `next` (none: `t`
    /// was the last): close bars that ended, follow round trips. A bar is
    /// sampled at its last event only, so equity is valued once a bar and
    /// not once a tick.
    pub fn after(&mut self, t: Nanos, next: Option<Nanos>, pf: &Portfolio) {
        let first = *self.first.get_or_insert(t);
        let bar = t.saturating_sub(first) / self.bar_ns;
        while self.bar < bar {
            self.close_bar();
        }
        if next.is_none_or(|n| n.saturating_sub(first) / self.bar_ns != bar) {
            let e = pf.equity_now();
            self.last = (t, e.equity, e.drawdown, e.gross_exposure > 0.0);
        }
        // Round trips change only when a position does.
        if self.seen_moves == Some(pf.moves()) {
            return;
        }
        self.seen_moves = Some(pf.moves());
        for (symbol, open) in &mut self.open {
            let (quantity, realized) = pf
                .position_ref(symbol)
                .map_or((0.0, 0.0), |p| (p.quantity, p.realized_pnl));
            // Flat within what float arithmetic leaves of a closed position.
            let side = if quantity.abs() < FLAT {
                0.0
            } else {
                quantity.signum()
            };
            match *open {
                Some((s, _)) if s == side => {}
                Some((_, at)) => {
                    // Flat again, or flipped: that trade is done.
                    self.trades += 1;
                    self.wins += u64::from(realized - at > 0.0);
                    *open = (side != 0.0).then_some((side, realized));
                }
                None if side != 0.0 => *open = Some((side, realized)),
                None => {}
            }
        }
    }

    fn close_bar(&mut self) {
        let (t, equity, drawdown, exposed) = self.last;
        self.curve.push((t, equity, drawdown));
        self.exposed_bars += u64::from(exposed);
        self.bar += 1;
    }

    /// The report, from the figures and the node's summary.
    pub fn report(mut self, s: &Summary, fills: &Fills, events: u64) -> Report {
        if events > 0 {
            self.close_bar();
        }
        let mut prev = self.start_equity;
        let returns: Vec<f64> = self
            .curve
            .iter()
            .map(|&(_, e, _)| {
                let r = if prev > 0.0 { e / prev - 1.0 } else { 0.0 };
                prev = e;
                r
            })
            .collect();
        let per_year = (YEAR_NS / self.bar_ns as f64).sqrt();
        let n = returns.len() as f64;
        let mean = if n > 0.0 {
            returns.iter().sum::<f64>() / n
        } else {
            0.0
        };
        let sd = if n > 1.0 {
            (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        let down = if n > 0.0 {
            (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / n).sqrt()
        } else {
            0.0
        };
        let ratio = |d: f64| if d > 0.0 { mean / d * per_year } else { 0.0 };
        let end = s.equity.equity;
        Report {
            events,
            news: s.news,
            from_ns: self.first.unwrap_or(0),
            to_ns: self.last.0,
            bar_ns: self.bar_ns,
            orders: s.orders,
            rejects: s.rejects,
            fills: fills.count,
            trades: self.trades,
            wins: self.wins,
            win_rate: if self.trades > 0 {
                self.wins as f64 / self.trades as f64
            } else {
                0.0
            },
            start_equity: self.start_equity,
            end_equity: end,
            pnl: s.pnl,
            realized: s.pnl_detail.realized,
            fees: s.pnl_detail.fees,
            total_return: if self.start_equity > 0.0 {
                end / self.start_equity - 1.0
            } else {
                0.0
            },
            sharpe: ratio(sd),
            sortino: ratio(down),
            max_drawdown: s.equity.max_drawdown,
            exposure: if self.curve.is_empty() {
                0.0
            } else {
                self.exposed_bars as f64 / self.curve.len() as f64
            },
            turnover: if self.start_equity > 0.0 {
                fills.notional / self.start_equity
            } else {
                0.0
            },
            agent_faults: s.agent_faults,
            equity_curve: self.curve,
            in_runs: s.agents.iter().fold((0, 0), |(e, r), a| {
                (e + a.market_in_runs, r + a.market_runs)
            }),
        }
    }
}
