//! Recorded market data driving the book: a CSV of quotes and trades,
//! re-enacted by house accounts through the matching engine.
//!
//! ```text
//! time_ms,symbol,kind,price,qty,side
//! 1700000000000,BTCUSDT,bid,29999.50,1.2,
//! 1700000000000,BTCUSDT,ask,30000.50,0.8,
//! 1700000000040,BTCUSDT,trade,30000.50,0.1,buy
//! ```
//!
//! - `bid` / `ask`: the house's quote on that side becomes `qty` at
//!   `price` (the previous one is cancelled; `qty` 0 leaves the side
//!   empty). A quote that crosses a user's resting order trades with it,
//!   as the recorded market would have.
//! - `trade`: the house sends an IOC limit order of `qty` at `price` on
//!   the aggressor `side` (`buy` lifts asks): it prints at the book's
//!   prices up to the recorded one, filling user orders at the front.
//!
//! Rows are replayed at their recorded spacing divided by `speed`; times
//! must not go backwards. The file is read and checked whole when the
//! simulator starts, and every bad line is reported by number. The `csv`
//! crate does the parsing (quoting, headers, line numbers); amounts are
//! parsed exactly into [`Fixed`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::engine::{Exchange, OrderRef};
use super::market::house_account;
use super::order::NewOrder;
use crate::model::{Fixed, Side, TimeInForce};

/// `[replay]` in the simulator config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// The CSV file (relative to the simulator config).
    pub file: PathBuf,
    /// Replay speed: 1 is as recorded, 10 ten times faster.
    #[serde(default = "one")]
    pub speed: f64,
    /// Start again from the top at the end.
    #[serde(default)]
    pub repeat: bool,
}

fn one() -> f64 {
    1.0
}

/// What a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    /// The best bid.
    Bid,
    /// The best ask.
    Ask,
    /// A print.
    Trade,
}

/// One checked row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Recorded time, ms.
    pub time_ms: u64,
    /// Symbol.
    pub symbol: String,
    /// What it is.
    pub kind: RowKind,
    /// Price.
    pub price: Fixed,
    /// Quantity.
    pub qty: Fixed,
    /// Aggressor side (trades).
    pub side: Option<Side>,
}

#[derive(Deserialize)]
struct RawRow {
    time_ms: u64,
    symbol: String,
    kind: RowKind,
    price: String,
    qty: String,
    #[serde(default)]
    side: Option<String>,
}

/// A recording, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Rows in time order.
    pub rows: Vec<Row>,
    /// Speed.
    pub speed: f64,
    /// Loop at the end.
    pub repeat: bool,
}

impl Recording {
    /// Read `cfg.file` and check every row against `symbols`.
    ///
    /// # Errors
    /// Every bad line, by number, or an unreadable file.
    pub fn load(cfg: &ReplayConfig, symbols: &[String]) -> Result<Recording, String> {
        let file = std::fs::File::open(&cfg.file)
            .map_err(|e| format!("cannot read the replay file {}: {e}", cfg.file.display()))?;
        Recording::read(file, &cfg.file, cfg.speed, cfg.repeat, symbols)
    }

    /// Read a recording from `input` (`name` for messages).
    ///
    /// # Errors
    /// As [`Recording::load`].
    pub fn read(
        input: impl std::io::Read,
        name: &Path,
        speed: f64,
        repeat: bool,
        symbols: &[String],
    ) -> Result<Recording, String> {
        let mut problems = Vec::new();
        if !(speed.is_finite() && speed > 0.0) {
            problems.push(format!("speed must be a positive number, got {speed}"));
        }
        let mut rows = Vec::new();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(input);
        let mut last = 0u64;
        for (i, record) in reader.deserialize::<RawRow>().enumerate() {
            let line = i + 2;
            let raw = match record {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("line {line}: {e}"));
                    continue;
                }
            };
            match check(raw, symbols, last) {
                Ok(row) => {
                    last = row.time_ms;
                    rows.push(row);
                }
                Err(e) => problems.push(format!("line {line}: {e}")),
            }
            if problems.len() >= 20 {
                problems.push("… (stopped after 20 problems)".into());
                break;
            }
        }
        if rows.is_empty() && problems.is_empty() {
            problems.push("no rows: the header is `time_ms,symbol,kind,price,qty,side`".into());
        }
        if !problems.is_empty() {
            return Err(format!(
                "replay file {}:\n  {}",
                name.display(),
                problems.join("\n  ")
            ));
        }
        Ok(Recording {
            rows,
            speed,
            repeat,
        })
    }
}

fn check(raw: RawRow, symbols: &[String], last: u64) -> Result<Row, String> {
    if raw.time_ms < last {
        return Err(format!(
            "time {} is before the previous row's {last}: rows must be in time order",
            raw.time_ms
        ));
    }
    if !symbols.contains(&raw.symbol) {
        return Err(format!(
            "symbol `{}` is not one the simulator trades",
            raw.symbol
        ));
    }
    let amount = |what: &str, v: &str| v.parse::<Fixed>().map_err(|e| format!("{what} `{v}`: {e}"));
    let price = amount("price", &raw.price)?;
    let qty = amount("qty", &raw.qty)?;
    let side = match raw.side.as_deref().unwrap_or("") {
        "" => None,
        "buy" | "BUY" => Some(Side::Buy),
        "sell" | "SELL" => Some(Side::Sell),
        other => return Err(format!("side `{other}`: use buy or sell")),
    };
    match raw.kind {
        RowKind::Trade if side.is_none() => {
            return Err("a trade needs its aggressor side (buy or sell)".into());
        }
        RowKind::Trade if qty.is_zero() || price.is_zero() => {
            return Err("a trade needs a positive price and qty".into());
        }
        RowKind::Bid | RowKind::Ask if price.is_zero() && !qty.is_zero() => {
            return Err("a quote needs a positive price".into());
        }
        _ => {}
    }
    Ok(Row {
        time_ms: raw.time_ms,
        symbol: raw.symbol,
        kind: raw.kind,
        price,
        qty,
        side,
    })
}

/// A recording being replayed into one exchange.
pub struct Replay {
    rec: Recording,
    next: usize,
    maker: u32,
    taker: u32,
    quotes: HashMap<(String, bool), u64>,
    origin: Option<(u64, u64)>,
    /// Rows applied so far.
    pub played: u64,
    /// Rows the exchange refused (a filter broken by the recording), logged.
    pub refused: u64,
}

impl Replay {
    /// Open the house accounts on `ex`.
    pub fn new(ex: &mut Exchange, rec: Recording) -> Replay {
        let maker = house_account(ex, "house-replay-maker");
        let taker = house_account(ex, "house-replay-taker");
        Replay {
            rec,
            next: 0,
            maker,
            taker,
            quotes: HashMap::new(),
            origin: None,
            played: 0,
            refused: 0,
        }
    }

    /// True when every row has been played and the recording does not
    /// repeat.
    pub fn finished(&self) -> bool {
        !self.rec.repeat && self.next >= self.rec.rows.len()
    }

    /// Apply every row due at `now_ms` (the first call sets the clock:
    /// the first row is due then). Returns the rows applied.
    pub fn step(&mut self, ex: &mut Exchange, now_ms: u64) -> usize {
        let mut applied = 0;
        loop {
            if self.next >= self.rec.rows.len() {
                if !self.rec.repeat || self.rec.rows.is_empty() {
                    return applied;
                }
                self.next = 0;
                self.origin = None;
            }
            let row_ms = self.rec.rows[self.next].time_ms;
            let (wall0, rec0) = *self.origin.get_or_insert((now_ms, row_ms));
            let due = wall0 as f64 + (row_ms - rec0) as f64 / self.rec.speed;
            if due > now_ms as f64 {
                return applied;
            }
            let row = self.rec.rows[self.next].clone();
            self.next += 1;
            self.apply(ex, &row, now_ms);
            applied += 1;
            if applied >= 100_000 {
                // Leave the lock to the clients now and then.
                return applied;
            }
        }
    }

    fn apply(&mut self, ex: &mut Exchange, row: &Row, now_ms: u64) {
        self.played += 1;
        let result = match row.kind {
            RowKind::Bid | RowKind::Ask => {
                let buy = row.kind == RowKind::Bid;
                if let Some(id) = self.quotes.remove(&(row.symbol.clone(), buy)) {
                    let _ = ex.cancel(self.maker, &row.symbol, &OrderRef::Id(id), now_ms);
                }
                if row.qty.is_zero() {
                    return;
                }
                let side = if buy { Side::Buy } else { Side::Sell };
                ex.new_order(
                    self.maker,
                    NewOrder::limit(&row.symbol, side, row.qty, row.price),
                    now_ms,
                )
                .map(|ack| {
                    if !ack.order.state.is_final() {
                        self.quotes
                            .insert((row.symbol.clone(), buy), ack.order.order_id);
                    }
                })
            }
            RowKind::Trade => ex
                .new_order(
                    self.taker,
                    NewOrder::limit(
                        &row.symbol,
                        row.side.unwrap_or(Side::Buy),
                        row.qty,
                        row.price,
                    )
                    .tif(TimeInForce::Ioc),
                    now_ms,
                )
                .map(|_| ()),
        };
        if let Err(e) = result {
            self.refused += 1;
            tracing::warn!(
                "replay: {} {:?} {} @ {} refused: {}",
                row.symbol,
                row.kind,
                row.qty,
                row.price,
                e.msg
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::{OrderState, SymbolSpec};

    const CSV: &str = "time_ms,symbol,kind,price,qty,side
1000,BTCUSDT,bid,29999.50,1.2,
1000,BTCUSDT,ask,30000.50,0.8,
1040,BTCUSDT,trade,30000.50,0.1,buy
1100,BTCUSDT,ask,30001.00,0.5,
1100,BTCUSDT,bid,29995.00,1.0,
";

    fn rec(text: &str, speed: f64) -> Result<Recording, String> {
        Recording::read(
            text.as_bytes(),
            Path::new("t.csv"),
            speed,
            false,
            &["BTCUSDT".to_string()],
        )
    }

    fn exchange() -> (Exchange, u32) {
        let mut ex = Exchange::new(vec![SymbolSpec::spot("BTCUSDT", "BTC", "USDT")]).unwrap();
        let user = ex.open_account("user", 0, 0);
        ex.deposit(user, "BTC", Fixed::units(1));
        (ex, user)
    }

    fn px(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    #[test]
    fn rows_drive_the_book_at_their_recorded_pace() {
        let (mut ex, _) = exchange();
        let mut r = Replay::new(&mut ex, rec(CSV, 2.0).unwrap());
        assert_eq!(r.step(&mut ex, 50_000), 2, "the first instant: both quotes");
        assert_eq!(
            ex.book_ticker("BTCUSDT").unwrap(),
            (
                Some((px("29999.5"), px("1.2"))),
                Some((px("30000.5"), px("0.8")))
            )
        );
        assert_eq!(r.step(&mut ex, 50_019), 0, "40 ms recorded is 20 ms at 2×");
        assert_eq!(r.step(&mut ex, 50_020), 1);
        assert_eq!(ex.last_price("BTCUSDT").unwrap(), Some(px("30000.5")));
        assert_eq!(r.step(&mut ex, 50_050), 2);
        assert_eq!(
            ex.book_ticker("BTCUSDT").unwrap(),
            (Some((px("29995"), px("1"))), Some((px("30001"), px("0.5")))),
            "each quote replaces the last on its side"
        );
        assert!(r.finished());
        assert_eq!((r.played, r.refused), (5, 0));
    }

    #[test]
    fn a_recorded_trade_fills_a_user_order_at_the_front() {
        let (mut ex, user) = exchange();
        let ask = ex
            .new_order(
                user,
                NewOrder::limit("BTCUSDT", Side::Sell, px("0.05"), px("30000.00")),
                0,
            )
            .unwrap()
            .order
            .order_id;
        let mut r = Replay::new(&mut ex, rec(CSV, 1.0).unwrap());
        r.step(&mut ex, 10_000);
        r.step(&mut ex, 10_040);
        let o = ex.order(user, "BTCUSDT", &OrderRef::Id(ask)).unwrap();
        assert_eq!(
            o.state,
            OrderState::Filled,
            "the user's better ask went first"
        );
    }

    #[test]
    fn bad_lines_are_reported_by_number() {
        let text = "time_ms,symbol,kind,price,qty,side
1000,BTCUSDT,bid,1,1,
900,BTCUSDT,ask,1,1,
1000,ETHUSDT,ask,1,1,
1000,BTCUSDT,trade,1,1,
1000,BTCUSDT,quote,1,1,
1000,BTCUSDT,bid,abc,1,
";
        let err = rec(text, 0.0).unwrap_err();
        for want in [
            "speed must be a positive number",
            "line 3: time 900 is before",
            "line 4: symbol `ETHUSDT`",
            "line 5: a trade needs its aggressor side",
            "line 6: CSV deserialize error",
            "line 7: price `abc`",
        ] {
            assert!(err.contains(want), "missing `{want}` in:\n{err}");
        }
        assert!(
            rec("time_ms,symbol,kind,price,qty,side\n", 1.0)
                .unwrap_err()
                .contains("no rows")
        );
    }
}
