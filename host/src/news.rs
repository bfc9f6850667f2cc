//! Headlines: what a good one is, and the news file (`[news] file`) that
//! feeds a run or a backtest.
//!
//! A news file is JSON lines or CSV (by extension, `.csv`), one headline
//! per line, in time order:
//!
//! ```text
//! {"time": "2026-11-20T14:30:00Z", "headline": "$BTC breaks 100k", "source": "wire", "symbols": ["BTCUSDT"]}
//! time,headline,source,symbols
//! 2026-11-20T14:30:00Z,"$BTC breaks 100k",wire,BTCUSDT
//! ```
//!
//! `time` is RFC 3339 or nanoseconds since the epoch; `source` defaults to
//! `file`; `symbols` is optional (CSV: separated by spaces). A file with a
//! bad line is refused whole, naming the line: a feed that silently skipped
//! a headline would trade on less than it claims.

use std::path::Path;

use serde::Deserialize;

use crate::model::{Nanos, News, clock::parse_time};

/// The longest headline, bytes (a tweet is 280 characters; a wire
/// headline with its lead fits).
pub const MAX_HEADLINE_BYTES: usize = 2_000;
/// The most symbols one headline may tag.
pub const MAX_SYMBOLS: usize = 16;

/// Whether `news` can be published; what to change if not.
///
/// # Errors
/// An empty or over-long headline, a source that cannot be a topic
/// segment, too many symbols or a malformed one.
pub fn check(news: &News) -> Result<(), String> {
    if news.headline.trim().is_empty() {
        return Err("the headline is empty".into());
    }
    if news.headline.len() > MAX_HEADLINE_BYTES {
        return Err(format!(
            "the headline is {} bytes; at most {MAX_HEADLINE_BYTES}",
            news.headline.len()
        ));
    }
    let segment = |s: &str| {
        (1..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    if !segment(&news.source) {
        return Err(format!(
            "source `{}` cannot name a topic segment: use 1 to 32 lower-case letters, digits, `-` or `_` (e.g. `wire`, `twitter`)",
            news.source
        ));
    }
    if news.symbols.len() > MAX_SYMBOLS {
        return Err(format!(
            "{} symbols; at most {MAX_SYMBOLS} per headline",
            news.symbols.len()
        ));
    }
    if let Some(bad) = news.symbols.iter().find(|s| {
        !(1..=20).contains(&s.len())
            || !s
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    }) {
        return Err(format!(
            "symbol `{bad}` is not a symbol: 1 to 20 upper-case letters and digits (`BTCUSDT`, `AAPL`)"
        ));
    }
    Ok(())
}

/// One headline of a news file, with its time.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    /// When it was published, ns since the epoch.
    pub time: Nanos,
    /// The headline.
    pub news: News,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    time: serde_json::Value,
    headline: String,
    #[serde(default = "file_source")]
    source: String,
    #[serde(default)]
    symbols: Vec<String>,
}

fn file_source() -> String {
    "file".into()
}

fn time_of(v: &serde_json::Value) -> Result<Nanos, String> {
    match v {
        serde_json::Value::String(s) => parse_time(s),
        serde_json::Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| format!("time {n} is not whole nanoseconds since the epoch")),
        other => Err(format!(
            "time {other} is neither RFC 3339 text nor nanoseconds"
        )),
    }
}

/// Read a news file: every headline, checked, in time order.
///
/// # Errors
/// The file, and the line, of the first thing wrong: unreadable, not JSON
/// or CSV of the documented columns, a bad time, a headline [`check`]
/// refuses, or a time before the line above.
pub fn read_file(path: &Path) -> Result<Vec<Timed>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the news file `{}`: {e}", path.display()))?;
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let rows = if csv {
        from_csv(&text)
    } else {
        from_jsonl(&text)
    };
    let rows =
        rows.map_err(|(line, why)| format!("news file `{}`, line {line}: {why}", path.display()))?;
    Ok(rows)
}

fn checked(
    line: usize,
    time: Nanos,
    news: News,
    last: &mut Nanos,
) -> Result<Timed, (usize, String)> {
    check(&news).map_err(|why| (line, why))?;
    if time < *last {
        return Err((
            line,
            "its time is before the line above's: sort the file by time".into(),
        ));
    }
    *last = time;
    Ok(Timed { time, news })
}

fn from_jsonl(text: &str) -> Result<Vec<Timed>, (usize, String)> {
    let mut out = Vec::new();
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(raw).map_err(|e| {
            (
                line,
                format!("not a headline ({e}); write {{\"time\": \"2026-11-20T14:30:00Z\", \"headline\": \"…\"}}"),
            )
        })?;
        let time = time_of(&l.time).map_err(|why| (line, why))?;
        let news = News {
            headline: l.headline,
            source: l.source,
            symbols: l.symbols,
        };
        out.push(checked(line, time, news, &mut last)?);
    }
    Ok(out)
}

fn from_csv(text: &str) -> Result<Vec<Timed>, (usize, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| (1, format!("no header row ({e})")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(time_col), Some(headline_col)) = (col("time"), col("headline")) else {
        return Err((
            1,
            "the header needs `time` and `headline` (and may have `source`, `symbols`)".into(),
        ));
    };
    let (source_col, symbols_col) = (col("source"), col("symbols"));
    let mut out = Vec::new();
    let mut last = 0;
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| (line, format!("not CSV ({e})")))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or_default();
        let time = parse_time(get(Some(time_col))).map_err(|why| (line, why))?;
        let source = match get(source_col) {
            "" => file_source(),
            s => s.to_string(),
        };
        let news = News {
            headline: get(Some(headline_col)).to_string(),
            source,
            symbols: get(symbols_col)
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        };
        out.push(checked(line, time, news, &mut last)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn news(headline: &str, source: &str, symbols: &[&str]) -> News {
        News {
            headline: headline.into(),
            source: source.into(),
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_plain_headline_passes() {
        check(&news("$AAPL beats estimates", "wire", &["AAPL"])).unwrap();
        check(&news("Fed holds rates", "twitter_fin", &[])).unwrap();
    }

    #[test]
    fn what_cannot_be_published_says_why() {
        for (n, says) in [
            (news("  ", "wire", &[]), "empty"),
            (news(&"x".repeat(2_001), "wire", &[]), "at most 2000"),
            (news("h", "Wire", &[]), "cannot name a topic segment"),
            (news("h", "a.b", &[]), "cannot name a topic segment"),
            (news("h", "", &[]), "cannot name a topic segment"),
            (news("h", "wire", &["btc"]), "is not a symbol"),
            (news("h", "wire", &["BTC-USD"]), "is not a symbol"),
            (news("h", "wire", &["A"; 17]), "at most 16"),
        ] {
            let e = check(&n).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
    }

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn json_lines_and_csv_read_the_same() {
        let (_d, jsonl) = write(
            "n.jsonl",
            "{\"time\": \"2026-11-20T14:30:00Z\", \"headline\": \"$BTC breaks 100k\", \"source\": \"wire\", \"symbols\": [\"BTCUSDT\"]}\n\n{\"time\": 1795185001000000000, \"headline\": \"Fed holds\"}\n",
        );
        let (_e, csv) = write(
            "n.csv",
            "time,headline,source,symbols\n2026-11-20T14:30:00Z,\"$BTC breaks 100k\",wire,BTCUSDT\n1795185001000000000,Fed holds,,\n",
        );
        let a = read_file(&jsonl).unwrap();
        assert_eq!(a, read_file(&csv).unwrap());
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].time, 1_795_185_000_000_000_000);
        assert_eq!(a[0].news, news("$BTC breaks 100k", "wire", &["BTCUSDT"]));
        assert_eq!(a[1].news, news("Fed holds", "file", &[]));
    }

    #[test]
    fn a_bad_line_refuses_the_file_and_names_the_line() {
        for (text, says) in [
            (
                "{\"time\": 1, \"headline\": \"a\"}\n{\"headline\": \"b\"}\n",
                "line 2: not a headline",
            ),
            (
                "{\"time\": \"yesterday\", \"headline\": \"a\"}\n",
                "line 1: time `yesterday`",
            ),
            (
                "{\"time\": 5, \"headline\": \"a\"}\n{\"time\": 4, \"headline\": \"b\"}\n",
                "line 2: its time is before",
            ),
            (
                "{\"time\": 5, \"headline\": \"\"}\n",
                "line 1: the headline is empty",
            ),
            (
                "{\"time\": 5, \"headline\": \"a\", \"extra\": 1}\n",
                "line 1: not a headline",
            ),
        ] {
            let (_d, p) = write("n.jsonl", text);
            let e = read_file(&p).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        let (_d, p) = write("n.csv", "when,what\n1,a\n");
        assert!(
            read_file(&p)
                .unwrap_err()
                .contains("needs `time` and `headline`")
        );
        assert!(
            read_file(Path::new("/nonexistent/n.jsonl"))
                .unwrap_err()
                .contains("cannot read the news file")
        );
    }
}
