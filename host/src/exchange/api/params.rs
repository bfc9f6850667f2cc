//! Request parameters as Binance reads them: the query string followed by
//! the form body, every value a string, refused with Binance's codes when
//! missing or malformed.

use std::str::FromStr;

use super::super::error::ApiError;
use crate::model::fixed::{Fixed, FixedError};

/// The parameters of one request, in the order they were sent.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parse `query` and `body` (both `application/x-www-form-urlencoded`).
    ///
    /// # Errors
    /// -1100 when either is not valid form encoding.
    pub fn parse(query: &str, body: &str) -> Result<Params, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in [query, body] {
            if part.is_empty() {
                continue;
            }
            let more: Vec<(String, String)> = serde_urlencoded::from_str(part)
                .map_err(|_| ApiError::new(-1100, "Illegal characters found in a parameter."))?;
            pairs.extend(more);
        }
        Ok(Params { pairs })
    }

    /// From pairs (tests, the WebSocket API's JSON params).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// The raw value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A mandatory value.
    ///
    /// # Errors
    /// -1102 when missing or empty.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::missing(name))
    }

    /// An optional decimal amount.
    ///
    /// # Errors
    /// -1100 when not a decimal, -1111 when over eight places.
    pub fn fixed(&self, name: &str) -> Result<Option<Fixed>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse::<Fixed>().map(Some).map_err(|e| match e {
                FixedError::Precision(_) => ApiError::bad_precision(),
                _ => ApiError::new(
                    -1100,
                    format!("Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."),
                ),
            }),
        }
    }

    /// An optional integer (ids, limits, times).
    ///
    /// # Errors
    /// -1100 when not an integer.
    pub fn int<T: FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::new(
                    -1100,
                    format!("Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."),
                )
            }),
        }
    }

    /// An optional enum value, parsed by `parse`.
    ///
    /// # Errors
    /// `bad` when the value is not one `parse` knows.
    pub fn choice<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        bad: impl Fn() -> ApiError,
    ) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).ok_or_else(bad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_then_body_and_binance_errors() {
        let p = Params::parse(
            "symbol=BTCUSDT&quantity=0.5",
            "price=100.25&timestamp=17&x=",
        )
        .unwrap();
        assert_eq!(p.required("symbol").unwrap(), "BTCUSDT");
        assert_eq!(p.fixed("price").unwrap(), Some("100.25".parse().unwrap()));
        assert_eq!(p.int::<u64>("timestamp").unwrap(), Some(17));
        assert_eq!(p.get("x"), None, "empty counts as not sent");
        assert_eq!(p.required("side").unwrap_err().code, -1102);
        let bad = Params::parse("quantity=1e5&price=0.000000001&limit=ten", "").unwrap();
        assert_eq!(bad.fixed("quantity").unwrap_err().code, -1100);
        assert_eq!(bad.fixed("price").unwrap_err().code, -1111);
        assert_eq!(bad.int::<u32>("limit").unwrap_err().code, -1100);
    }
}
