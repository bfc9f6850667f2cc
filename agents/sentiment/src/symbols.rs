//! Which symbols a headline is about: the feed's own tags, the cashtags in
//! the text (`$BTC`), and words the config maps to a symbol
//! (`bitcoin=BTCUSDT`). Keys are matched without case; every symbol found
//! is published once, in the order found.

use std::collections::HashMap;

/// Longest cashtag read (`$` and up to this many letters and digits).
const MAX_CASHTAG: usize = 10;

/// The config's mapping and what to do with unmapped cashtags.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    /// Lower-cased key (`$btc`, `bitcoin`, a feed tag) → symbol.
    map: HashMap<String, String>,
    /// Publish unmapped cashtags as symbols (upper-cased, without `$`).
    pub cashtags: bool,
    /// Where headlines naming nothing go (none: nowhere).
    pub default: Option<String>,
}

/// A symbol as a topic segment allows it.
fn valid_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/'))
}

impl Symbols {
    /// From `KEY=SYMBOL` pairs.
    ///
    /// # Errors
    /// A pair without `=` or with a symbol that cannot be a topic segment.
    pub fn new(pairs: &[String], cashtags: bool, default: Option<String>) -> Result<Self, String> {
        let mut map = HashMap::new();
        for pair in pairs {
            let (key, symbol) = pair.split_once('=').ok_or_else(|| {
                format!("`{pair}` is not KEY=SYMBOL (e.g. `$BTC=BTCUSDT` or `bitcoin=BTCUSDT`)")
            })?;
            let (key, symbol) = (key.trim().to_lowercase(), symbol.trim());
            if key.is_empty() || key == "$" || !valid_symbol(symbol) {
                return Err(format!(
                    "`{pair}`: need a key and a symbol of letters, digits, `-`, `_` or `/`"
                ));
            }
            map.insert(key, symbol.to_string());
        }
        if let Some(d) = &default
            && !valid_symbol(d)
        {
            return Err(format!(
                "default symbol `{d}`: letters, digits, `-`, `_` or `/` only"
            ));
        }
        Ok(Self {
            map,
            cashtags,
            default,
        })
    }

    /// The symbols of a headline with the feed's `tags`.
    pub fn of(&self, headline: &str, tags: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |s: &str| {
            if valid_symbol(s) && !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        };
        for tag in tags {
            add(self
                .map
                .get(&tag.to_lowercase())
                .map_or(tag.as_str(), String::as_str));
        }
        for tag in cashtags(headline) {
            match self.map.get(&format!("${}", tag.to_lowercase())) {
                Some(s) => add(s),
                None if self.cashtags => add(&tag.to_uppercase()),
                None => {}
            }
        }
        for word in headline
            .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .filter(|w| !w.is_empty())
        {
            if let Some(s) = self.map.get(&word.to_lowercase()) {
                add(s);
            }
        }
        if out.is_empty()
            && let Some(d) = &self.default
        {
            out.push(d.clone());
        }
        out
    }
}

/// The cashtags of `text`: `$` then a letter, then letters and digits (so
/// `$5` and `$1.2bn` are amounts, not symbols), not inside a word.
pub fn cashtags(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i] == b'$'
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic);
        if starts {
            let end = (i + 1..b.len())
                .find(|&j| !b[j].is_ascii_alphanumeric())
                .unwrap_or(b.len());
            if end - i - 1 <= MAX_CASHTAG {
                out.push(&text[i + 1..end]);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cashtags_are_letters_first_and_not_amounts() {
        assert_eq!(
            cashtags("$TSLA up, $btc too; $5 and $1.2bn are not, nor US$X"),
            ["TSLA", "btc"]
        );
        assert_eq!(cashtags("$ABCDEFGHIJK is too long"), Vec::<&str>::new());
        assert_eq!(cashtags("ends with $"), Vec::<&str>::new());
    }

    #[test]
    fn tags_cashtags_and_mapped_words_each_once_in_order() {
        let s = Symbols::new(
            &[
                "$BTC=BTCUSDT".into(),
                "bitcoin=BTCUSDT".into(),
                "ether=ETHUSDT".into(),
            ],
            true,
            None,
        )
        .unwrap();
        assert_eq!(
            s.of(
                "Bitcoin and $btc rally; $AAPL flat, Ether too",
                &["SPY".into()]
            ),
            ["SPY", "BTCUSDT", "AAPL", "ETHUSDT"]
        );
        assert_eq!(s.of("nothing here", &[]), Vec::<String>::new());
    }

    #[test]
    fn unmapped_cashtags_can_be_ignored_and_a_default_catches_the_rest() {
        let s = Symbols::new(&["$BTC=BTCUSDT".into()], false, Some("BTCUSDT".into())).unwrap();
        assert_eq!(s.of("$AAPL beats", &[]), ["BTCUSDT"]);
        assert_eq!(s.of("$BTC and $AAPL", &[]), ["BTCUSDT"]);
    }

    #[test]
    fn bad_pairs_are_refused_with_the_form_expected() {
        let e = Symbols::new(&["BTCUSDT".into()], true, None).unwrap_err();
        assert!(e.contains("KEY=SYMBOL"), "{e}");
        let e = Symbols::new(&["$BTC=BTC.USDT".into()], true, None).unwrap_err();
        assert!(e.contains("letters, digits"), "{e}");
        assert!(Symbols::new(&[], true, Some("a b".into())).is_err());
    }
}
