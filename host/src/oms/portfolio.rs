//! Positions, cash and PnL.
//!
//! Average-price accounting: adding to a position moves the average entry;
//! reducing it realises `(price − average) × closed × direction`; crossing
//! zero closes the old side and opens the new one at the fill price. Fees
//! are charged in the quote asset and reduce realised PnL.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::model::{Balance, Key, Name, Position, Side};

/// Base and quote asset of a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    /// Traded asset (BTC in BTCUSDT).
    pub base: String,
    /// Pricing asset (USDT in BTCUSDT).
    pub quote: String,
}

/// The account.
#[derive(Debug, Default)]
pub struct Portfolio {
    assets: HashMap<String, Assets>,
    // Ordered maps: equity, exposure and PnL are float sums over them, and
    // a sum's last bits depend on its order. A HashMap's order changes
    // from process to process, and with it limit checks at the margin and
    // every figure a backtest or replay reports.
    positions: BTreeMap<String, Position>,
    balances: BTreeMap<String, f64>,
    // Looked up on every quote, never iterated into a figure: Fx
    // hashing, not SipHash, which a host's own symbols need no protection
    // from. Each symbol's mark lives in a slot of `mark_values`, so that
    // equity, computed after every quote, looks nothing up.
    marks: FxHashMap<Name, usize>,
    mark_values: Vec<f64>,
    fees: f64,
    /// Symbol whose mark values each base asset.
    valued_by: FxHashMap<String, String>,
    /// Equity's terms, in the order of `balances`: each balance and how it
    /// is valued. Remade when a balance changes or a symbol gets its
    /// first mark ([`Portfolio::revalue`]).
    terms: Vec<(f64, Term)>,
    /// Bumped whenever a position may have changed (a fill, a restore).
    moves: u64,
    peak_equity: f64,
    max_drawdown: f64,
}

/// How a balance counts in equity.
#[derive(Debug, Clone, Copy)]
enum Term {
    /// As it is (no symbol values the asset: the quote asset).
    Cash,
    /// At the mark in this slot.
    Mark(usize),
    /// At zero: its symbol has no mark yet.
    Unmarked,
}

/// Drawdown from `peak` to `equity`, a fraction; none without a positive peak.
fn drawdown(peak: f64, equity: f64) -> f64 {
    if peak > 0.0 {
        (peak - equity) / peak
    } else {
        0.0
    }
}

/// Equity and its drawdown from the peak, in the quote asset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Equity {
    /// Quote-asset balances plus base-asset balances at their marks.
    pub equity: f64,
    /// Highest equity seen.
    pub peak: f64,
    /// Current drawdown from the peak, a fraction (0.1 = 10%).
    pub drawdown: f64,
    /// Largest drawdown seen, a fraction.
    pub max_drawdown: f64,
    /// Sum over symbols of |position| × mark.
    pub gross_exposure: f64,
}

/// Totals for status lines and summaries.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PnlSummary {
    /// Realised PnL after fees.
    pub realized: f64,
    /// Unrealised PnL at the latest marks.
    pub unrealized: f64,
    /// Realised + unrealised.
    pub total: f64,
    /// Fees paid.
    pub fees: f64,
}

impl Portfolio {
    /// An account with these symbols and starting balances.
    pub fn new(assets: HashMap<String, Assets>, balances: HashMap<String, f64>) -> Self {
        let valued_by = assets
            .iter()
            .map(|(symbol, a)| (a.base.clone(), symbol.clone()))
            .collect();
        let mut p = Self {
            assets,
            balances: balances.into_iter().collect(),
            valued_by,
            ..Self::default()
        };
        p.revalue();
        p
    }

    /// Remake equity's terms from the balances and the marks.
    fn revalue(&mut self) {
        self.terms = self
            .balances
            .iter()
            .map(|(asset, amount)| {
                let term = match self.valued_by.get(asset) {
                    None => Term::Cash,
                    Some(symbol) => self
                        .marks
                        .get(symbol.as_str())
                        .map_or(Term::Unmarked, |&i| Term::Mark(i)),
                };
                (*amount, term)
            })
            .collect();
    }

    /// The mark of `symbol`, if it has one.
    fn mark_of(&self, symbol: &str) -> Option<f64> {
        self.marks.get(symbol).map(|&i| self.mark_values[i])
    }

    /// Positions, balances, marks and the equity record (see
    /// [`super::snapshot`]).
    pub fn state(&self) -> super::PortfolioState {
        super::PortfolioState {
            positions: self.positions.clone(),
            balances: self.balances.clone(),
            marks: self
                .marks
                .iter()
                .map(|(k, &i)| (k.to_string(), self.mark_values[i]))
                .collect(),
            fees: self.fees,
            peak_equity: self.peak_equity,
            max_drawdown: self.max_drawdown,
        }
    }

    /// Put back `state`; the symbols' assets stay as configured.
    pub fn restore(&mut self, state: &super::PortfolioState) {
        self.moves += 1;
        self.positions.clone_from(&state.positions);
        self.balances.clone_from(&state.balances);
        self.marks.clear();
        self.mark_values.clear();
        for (symbol, mark) in &state.marks {
            self.marks
                .insert(Name::from(symbol), self.mark_values.len());
            self.mark_values.push(*mark);
        }
        self.fees = state.fees;
        self.peak_equity = state.peak_equity;
        self.max_drawdown = state.max_drawdown;
        self.revalue();
    }

    /// Equity: quote-asset balances as they are, base-asset balances at the
    /// mark of their symbol (one quote currency is assumed: a book across
    /// several quote assets adds them up unconverted). Assets without a mark
    /// count at zero.
    pub fn equity(&self) -> f64 {
        // The same products, summed in the same order, as valuing each
        // balance by name: `Unmarked` is `amount × 0`, as it was.
        self.terms
            .iter()
            .map(|&(amount, term)| match term {
                Term::Cash => amount,
                Term::Mark(i) => amount * self.mark_values[i],
                Term::Unmarked => amount * 0.0,
            })
            .sum()
    }

    /// Sum over symbols of |position| × mark: what the book has at stake.
    pub fn gross_exposure(&self) -> f64 {
        self.positions
            .values()
            .map(|p| p.quantity.abs() * self.mark_of(&p.symbol).unwrap_or(0.0))
            .sum()
    }

    /// Equity, drawdown and gross exposure now (the peak as tracked by
    /// [`Portfolio::update_equity`], or now if higher).
    pub fn equity_now(&self) -> Equity {
        let equity = self.equity();
        let peak = self.peak_equity.max(equity);
        let drawdown = drawdown(peak, equity);
        Equity {
            equity,
            peak,
            drawdown,
            max_drawdown: self.max_drawdown.max(drawdown),
            gross_exposure: self.gross_exposure(),
        }
    }

    /// Track the equity peak and the largest drawdown; called after every
    /// mark and fill, so it computes nothing else.
    pub fn update_equity(&mut self) {
        let equity = self.equity();
        self.peak_equity = self.peak_equity.max(equity);
        self.max_drawdown = self.max_drawdown.max(drawdown(self.peak_equity, equity));
    }

    /// Position in `symbol` (flat if none).
    pub fn position(&self, symbol: &str) -> Position {
        self.positions
            .get(symbol)
            .cloned()
            .unwrap_or_else(|| Position {
                symbol: symbol.into(),
                ..Position::default()
            })
    }

    /// A number that changes whenever a position may have (a fill, a
    /// restore): what reads positions after every event reads them again
    /// only then.
    pub fn moves(&self) -> u64 {
        self.moves
    }

    /// Position in `symbol`, if one was ever opened (no copy).
    pub fn position_ref(&self, symbol: &str) -> Option<&Position> {
        self.positions.get(symbol)
    }

    /// All positions ever opened.
    pub fn positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }

    /// Balance of `asset` (free; nothing is locked by market orders).
    pub fn balance(&self, asset: &str) -> Balance {
        Balance {
            asset: asset.into(),
            free: self.balances.get(asset).copied().unwrap_or(0.0),
            locked: 0.0,
        }
    }

    /// The assets a fill in `symbol` moves (base and quote).
    pub fn balance_assets(&self, symbol: &str) -> Vec<String> {
        self.assets
            .get(symbol)
            .map(|a| vec![a.base.clone(), a.quote.clone()])
            .unwrap_or_default()
    }

    /// The assets of the configured symbols (base and quote), sorted.
    pub fn known_assets(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .assets
            .values()
            .flat_map(|a| [a.base.clone(), a.quote.clone()])
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Set the balance of `asset` (a reconciliation taking the venue's
    /// figure as the truth); returns the old one.
    pub fn set_balance(&mut self, asset: &str, amount: f64) -> f64 {
        let old = self
            .balances
            .insert(asset.to_string(), amount)
            .unwrap_or(0.0);
        self.revalue();
        old
    }

    /// Set the mark price of `symbol` (the mid of the latest quote).
    ///
    /// With the quote's own [`Name`], the symbol is found without
    /// comparing text (its first mark keeps that name).
    pub fn mark<Q: Key + ?Sized>(&mut self, symbol: &Q, price: f64)
    where
        Name: std::borrow::Borrow<Q>,
    {
        match self.marks.get(symbol) {
            Some(&i) => self.mark_values[i] = price,
            None => {
                self.marks.insert(symbol.to_name(), self.mark_values.len());
                self.mark_values.push(price);
                self.revalue();
            }
        }
    }

    /// Apply a fill of `qty` at `price`, with `fee` (valued in the quote
    /// asset) of which `fee_base` base units were taken from the base
    /// asset: the position and the base balance grow by that much less,
    /// and only the rest of the fee is paid in the quote asset.
    pub fn apply_fill(
        &mut self,
        symbol: &str,
        side: Side,
        qty: f64,
        price: f64,
        fee: f64,
        fee_base: f64,
    ) {
        self.moves += 1;
        let pos = self
            .positions
            .entry(symbol.to_string())
            .or_insert_with(|| Position {
                symbol: symbol.into(),
                ..Position::default()
            });
        let signed = side.sign() * qty;
        let old = pos.quantity;
        if old == 0.0 || old.signum() == signed.signum() {
            let new = old + signed;
            pos.average_price = (pos.average_price * old.abs() + price * qty) / new.abs();
            pos.quantity = new;
        } else {
            let closed = qty.min(old.abs());
            pos.realized_pnl += (price - pos.average_price) * closed * old.signum();
            let new = old + signed;
            pos.quantity = if new.abs() < 1e-12 { 0.0 } else { new };
            if pos.quantity == 0.0 {
                pos.average_price = 0.0;
            } else if pos.quantity.signum() != old.signum() {
                pos.average_price = price;
            }
        }
        if fee_base > 0.0 {
            // Those coins never arrived (or left on top of the sale).
            pos.quantity -= fee_base;
            if pos.quantity.abs() < 1e-12 {
                pos.quantity = 0.0;
                pos.average_price = 0.0;
            }
        }
        pos.realized_pnl -= fee;
        self.fees += fee;
        if let Some(a) = self.assets.get(symbol) {
            let fee_in_quote = fee - fee_base * price;
            *self.balances.entry(a.base.clone()).or_default() += signed - fee_base;
            *self.balances.entry(a.quote.clone()).or_default() -= signed * price + fee_in_quote;
            self.revalue();
        }
    }

    /// Realised, unrealised and total PnL.
    pub fn pnl(&self) -> PnlSummary {
        let realized: f64 = self.positions.values().map(|p| p.realized_pnl).sum();
        let unrealized: f64 = self
            .positions
            .values()
            .map(|p| {
                self.mark_of(&p.symbol)
                    .map_or(0.0, |m| p.quantity * (m - p.average_price))
            })
            .sum();
        PnlSummary {
            realized,
            unrealized,
            total: realized + unrealized,
            fees: self.fees,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pf() -> Portfolio {
        let assets = HashMap::from([(
            "BTCUSDT".to_string(),
            Assets {
                base: "BTC".into(),
                quote: "USDT".into(),
            },
        )]);
        Portfolio::new(assets, HashMap::from([("USDT".to_string(), 1000.0)]))
    }

    #[test]
    fn long_round_trip_realises_pnl_net_of_fees() {
        let mut p = pf();
        p.apply_fill("BTCUSDT", Side::Buy, 1.0, 100.0, 0.1, 0.0);
        p.apply_fill("BTCUSDT", Side::Buy, 1.0, 110.0, 0.1, 0.0);
        assert_eq!(p.position("BTCUSDT").average_price, 105.0);
        p.apply_fill("BTCUSDT", Side::Sell, 2.0, 120.0, 0.2, 0.0);
        let pos = p.position("BTCUSDT");
        assert_eq!(pos.quantity, 0.0);
        assert!((pos.realized_pnl - (30.0 - 0.4)).abs() < 1e-9);
        assert!((p.balance("USDT").free - (1000.0 + 30.0 - 0.4)).abs() < 1e-9);
        assert_eq!(p.balance("BTC").free, 0.0);
    }

    #[test]
    fn a_fee_taken_in_the_base_asset_shrinks_the_position_so_it_can_be_sold_whole() {
        // Binance spot takes a buy's commission from the coins bought: 1 BTC
        // bought at 100 with a 0.1% fee leaves 0.999 BTC, and the full
        // 100 USDT paid.
        let mut p = pf();
        p.apply_fill("BTCUSDT", Side::Buy, 1.0, 100.0, 0.1, 0.001);
        let pos = p.position("BTCUSDT");
        assert!((pos.quantity - 0.999).abs() < 1e-12);
        assert!((p.balance("BTC").free - 0.999).abs() < 1e-12);
        assert!((p.balance("USDT").free - 900.0).abs() < 1e-9);
        // Selling what is held closes it; the fee counted once.
        p.apply_fill("BTCUSDT", Side::Sell, 0.999, 100.0, 0.0999, 0.0);
        let pos = p.position("BTCUSDT");
        assert_eq!(pos.quantity, 0.0);
        assert!((pos.realized_pnl + 0.1 + 0.0999).abs() < 1e-9);
        assert!((p.balance("USDT").free - (900.0 + 99.9 - 0.0999)).abs() < 1e-9);
    }

    #[test]
    fn equity_values_base_at_the_mark_and_tracks_the_drawdown_from_the_peak() {
        let mut p = pf();
        p.mark("BTCUSDT", 100.0);
        p.update_equity();
        assert_eq!(p.equity_now().equity, 1000.0);
        p.apply_fill("BTCUSDT", Side::Buy, 5.0, 100.0, 0.0, 0.0);
        p.mark("BTCUSDT", 120.0);
        p.update_equity();
        let up = p.equity_now();
        assert_eq!((up.equity, up.peak, up.drawdown), (1100.0, 1100.0, 0.0));
        assert_eq!(up.gross_exposure, 600.0);
        p.mark("BTCUSDT", 78.0);
        p.update_equity();
        let down = p.equity_now();
        assert_eq!(down.equity, 890.0);
        assert!((down.drawdown - 210.0 / 1100.0).abs() < 1e-12);
        p.mark("BTCUSDT", 100.0);
        p.update_equity();
        let back = p.equity_now();
        assert!((back.max_drawdown - 210.0 / 1100.0).abs() < 1e-12);
        assert!((back.drawdown - 100.0 / 1100.0).abs() < 1e-12);
    }

    #[test]
    fn short_gains_when_price_falls_and_flip_reopens_at_fill_price() {
        let mut p = pf();
        p.apply_fill("BTCUSDT", Side::Sell, 1.0, 100.0, 0.0, 0.0);
        p.mark("BTCUSDT", 90.0);
        assert_eq!(p.pnl().unrealized, 10.0);
        // Buy 3: closes the short at 95 (+5) and opens a long of 2 at 95.
        p.apply_fill("BTCUSDT", Side::Buy, 3.0, 95.0, 0.0, 0.0);
        let pos = p.position("BTCUSDT");
        assert_eq!(
            (pos.quantity, pos.average_price, pos.realized_pnl),
            (2.0, 95.0, 5.0)
        );
    }
}
