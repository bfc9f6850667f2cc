//! Historical market data for backtests: a CSV file of quotes and trades.
//!
//! The format (docs/backtest.md): a header row, then one row per event in
//! time order. Columns, by name, in any order:
//!
//! - `time`: ns since the epoch, or an RFC 3339 time;
//! - `symbol`;
//! - a quote: `bid`, `ask`, and optionally `bid_size`, `ask_size`
//!   (default 1);
//! - or a trade: `price`, `size`, and optionally `side` (`buy` or `sell`,
//!   the aggressor; default buy).
//!
//! A row with `bid` and `ask` is a quote; one with `price` a trade, so one
//! file can hold both. Read with the `csv` crate (quoting, BOMs and line
//! endings are its business); every problem names its row.

use std::path::Path;

use crate::model::{Interner, MarketEvent, Nanos, Quote, Side, Trade};

/// A problem with the data file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file cannot be read, or is not CSV.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: csv::Error,
    },
    /// A required column is missing.
    #[error(
        "`{path}` has no `{column}` column (the header has: {header}); see docs/backtest.md for the format"
    )]
    Column {
        /// The file.
        path: String,
        /// The column.
        column: &'static str,
        /// What the header holds.
        header: String,
    },
    /// A row that does not make an event.
    #[error("`{path}` row {row}: {why}")]
    Row {
        /// The file.
        path: String,
        /// The row (1 is the first after the header).
        row: u64,
        /// What is wrong.
        why: String,
    },
}

struct Columns {
    time: usize,
    symbol: usize,
    bid: Option<usize>,
    ask: Option<usize>,
    bid_size: Option<usize>,
    ask_size: Option<usize>,
    price: Option<usize>,
    size: Option<usize>,
    side: Option<usize>,
}

fn number(rec: &csv::StringRecord, col: Option<usize>, name: &str) -> Result<Option<f64>, String> {
    let Some(text) = col.and_then(|c| rec.get(c)).map(str::trim) else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
        _ => Err(format!("{name} `{text}` is not a positive number")),
    }
}

/// Read every event of `path`, in order.
///
/// # Errors
/// [`DataError`] naming the file, and the row when one is wrong (a bad
/// number, a time that goes back, a row that is neither a quote nor a
/// trade).
pub fn read_csv(path: &Path) -> Result<Vec<(Nanos, MarketEvent)>, DataError> {
    let name = path.display().to_string();
    let read = |source| DataError::Read {
        path: name.clone(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(read)?;
    let header = reader.headers().map_err(read)?.clone();
    let find = |c: &str| header.iter().position(|h| h.eq_ignore_ascii_case(c));
    let need = |c: &'static str| {
        find(c).ok_or_else(|| DataError::Column {
            path: name.clone(),
            column: c,
            header: header.iter().collect::<Vec<_>>().join(", "),
        })
    };
    let cols = Columns {
        time: need("time")?,
        symbol: need("symbol")?,
        bid: find("bid"),
        ask: find("ask"),
        bid_size: find("bid_size"),
        ask_size: find("ask_size"),
        price: find("price"),
        size: find("size"),
        side: find("side"),
    };
    let mut events = Vec::new();
    let mut last = 0;
    // Each symbol's name once, shared by all its rows (found by hash: a
    // file may name thousands of symbols).
    let mut symbols = Interner::default();
    for (i, rec) in reader.records().enumerate() {
        let row = i as u64 + 1;
        let rec = rec.map_err(read)?;
        let event = event(&rec, &cols, last, &mut symbols).map_err(|why| DataError::Row {
            path: name.clone(),
            row,
            why,
        })?;
        last = event.0;
        events.push(event);
    }
    Ok(events)
}

fn event(
    rec: &csv::StringRecord,
    c: &Columns,
    last: Nanos,
    symbols: &mut Interner,
) -> Result<(Nanos, MarketEvent), String> {
    let time = crate::model::clock::parse_time(rec.get(c.time).unwrap_or_default())?;
    if time < last {
        return Err(format!(
            "time {time} goes back (the row before is at {last}): sort the file by time"
        ));
    }
    let symbol = rec.get(c.symbol).unwrap_or_default();
    if symbol.is_empty() {
        return Err("no symbol".into());
    }
    let symbol = symbols.name(symbol);
    let bid = number(rec, c.bid, "bid")?;
    let ask = number(rec, c.ask, "ask")?;
    let event = match (bid, ask, number(rec, c.price, "price")?) {
        (Some(bid), Some(ask), _) => {
            if ask < bid {
                return Err(format!("ask {ask} is below bid {bid}"));
            }
            MarketEvent::Quote(Quote {
                symbol,
                bid,
                bid_size: number(rec, c.bid_size, "bid_size")?.unwrap_or(1.0),
                ask,
                ask_size: number(rec, c.ask_size, "ask_size")?.unwrap_or(1.0),
            })
        }
        (None, None, Some(price)) => {
            let aggressor = match c.side.and_then(|s| rec.get(s)).unwrap_or("buy") {
                s if s.eq_ignore_ascii_case("buy") || s.is_empty() => Side::Buy,
                s if s.eq_ignore_ascii_case("sell") => Side::Sell,
                s => return Err(format!("side `{s}` is neither buy nor sell")),
            };
            MarketEvent::Trade(Trade {
                symbol,
                price,
                size: number(rec, c.size, "size")?.unwrap_or(1.0),
                aggressor,
                trade_id: 0,
            })
        }
        _ => {
            return Err(
                "neither a quote (bid and ask) nor a trade (price): see docs/backtest.md".into(),
            );
        }
    };
    Ok((time, event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<(Nanos, MarketEvent)>, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.csv");
        std::fs::write(&path, text).unwrap();
        read_csv(&path)
    }

    #[test]
    fn quotes_and_trades_read_in_order() {
        let events = read(
            "time,symbol,bid,ask,bid_size,ask_size,price,size,side\n\
             1000,BTCUSDT,99.5,100.5,2,3,,,\n\
             2026-11-22T00:00:00Z,BTCUSDT,,,,,100.25,0.5,sell\n",
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0],
            (
                1000,
                MarketEvent::Quote(Quote {
                    symbol: "BTCUSDT".into(),
                    bid: 99.5,
                    bid_size: 2.0,
                    ask: 100.5,
                    ask_size: 3.0,
                })
            )
        );
        let (t, MarketEvent::Trade(tr)) = &events[1] else {
            panic!("a trade: {:?}", events[1])
        };
        assert_eq!(*t, 1_795_305_600_000_000_000);
        assert_eq!((tr.price, tr.size, tr.aggressor), (100.25, 0.5, Side::Sell));
    }

    #[test]
    fn bad_rows_are_named() {
        let err = |text: &str| read(text).unwrap_err().to_string();
        assert!(err("symbol,bid\nX,1\n").contains("no `time` column"));
        let e = err("time,symbol,bid,ask\n2,X,1,2\n1,X,1,2\n");
        assert!(e.contains("row 2") && e.contains("goes back"), "{e}");
        let e = err("time,symbol,bid,ask\n1,X,2,1\n");
        assert!(e.contains("row 1") && e.contains("below bid"), "{e}");
        let e = err("time,symbol,bid,ask\n1,X,abc,1\n");
        assert!(e.contains("bid `abc`"), "{e}");
        let e = err("time,symbol,price\n1,X,\n");
        assert!(e.contains("neither a quote"), "{e}");
    }
}
