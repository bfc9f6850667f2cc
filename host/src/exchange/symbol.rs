//! A traded symbol and its exchange filters.
//!
//! Binance refuses an order that breaks a symbol's filters with `-1013
//! Filter failure: <NAME>`; the simulator applies the same three that every
//! spot symbol has — `PRICE_FILTER` (range and tick), `LOT_SIZE` (range and
//! step) and `NOTIONAL` (minimum price × quantity) — and publishes them in
//! `exchangeInfo` so that a client can round before it sends.

use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::model::Fixed;

/// One symbol's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolSpec {
    /// Symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Asset bought and sold, e.g. `BTC`.
    pub base_asset: String,
    /// Asset prices are in, e.g. `USDT`.
    pub quote_asset: String,
    /// Price increment.
    pub tick_size: Fixed,
    /// Lowest price accepted (zero: one tick).
    #[serde(default)]
    pub min_price: Fixed,
    /// Highest price accepted.
    #[serde(default = "max_price")]
    pub max_price: Fixed,
    /// Quantity increment.
    pub step_size: Fixed,
    /// Smallest quantity.
    pub min_qty: Fixed,
    /// Largest quantity.
    #[serde(default = "max_qty")]
    pub max_qty: Fixed,
    /// Smallest price × quantity.
    #[serde(default)]
    pub min_notional: Fixed,
}

fn max_price() -> Fixed {
    Fixed::units(1_000_000)
}
fn max_qty() -> Fixed {
    Fixed::units(9_000)
}

impl SymbolSpec {
    /// A spot symbol with Binance-like BTCUSDT filters scaled to `price`:
    /// tick 0.01, step 0.00001, minimum notional 5 quote units.
    pub fn spot(symbol: &str, base: &str, quote: &str) -> SymbolSpec {
        SymbolSpec {
            symbol: symbol.to_string(),
            base_asset: base.to_string(),
            quote_asset: quote.to_string(),
            tick_size: Fixed(1_000_000),
            min_price: Fixed(1_000_000),
            max_price: max_price(),
            step_size: Fixed(1_000),
            min_qty: Fixed(1_000),
            max_qty: max_qty(),
            min_notional: Fixed::units(5),
        }
    }

    /// `PRICE_FILTER`: within range and on the tick.
    ///
    /// # Errors
    /// -1013 `Filter failure: PRICE_FILTER`.
    pub fn check_price(&self, price: Fixed) -> Result<(), ApiError> {
        if price.0 <= 0
            || price < self.min_price
            || price > self.max_price
            || !(price - self.min_price).is_multiple_of(self.tick_size)
        {
            return Err(ApiError::filter("PRICE_FILTER"));
        }
        Ok(())
    }

    /// `LOT_SIZE`: within range and on the step.
    ///
    /// # Errors
    /// -1013 `Filter failure: LOT_SIZE`.
    pub fn check_qty(&self, qty: Fixed) -> Result<(), ApiError> {
        if qty < self.min_qty
            || qty > self.max_qty
            || !(qty - self.min_qty).is_multiple_of(self.step_size)
        {
            return Err(ApiError::filter("LOT_SIZE"));
        }
        Ok(())
    }

    /// `NOTIONAL`: price × quantity at least the minimum.
    ///
    /// # Errors
    /// -1013 `Filter failure: NOTIONAL`.
    pub fn check_notional(&self, price: Fixed, qty: Fixed) -> Result<(), ApiError> {
        if price.times(qty) < self.min_notional {
            return Err(ApiError::filter("NOTIONAL"));
        }
        Ok(())
    }

    /// Why this definition cannot be traded, if it cannot.
    pub fn problem(&self) -> Option<String> {
        let s = &self.symbol;
        if s.is_empty()
            || !s
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Some(format!(
                "symbol `{s}` must be upper-case letters and digits"
            ));
        }
        if self.tick_size.0 <= 0 || self.step_size.0 <= 0 || self.min_qty.0 <= 0 {
            return Some(format!(
                "{s}: tick_size, step_size and min_qty must be positive"
            ));
        }
        if self.min_price > self.max_price || self.min_qty > self.max_qty {
            return Some(format!("{s}: a minimum is above its maximum"));
        }
        if self.base_asset == self.quote_asset {
            return Some(format!(
                "{s}: base and quote asset are both {}",
                self.base_asset
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: &str) -> Fixed {
        x.parse().unwrap()
    }

    #[test]
    fn filters_refuse_with_binance_codes() {
        let s = SymbolSpec::spot("BTCUSDT", "BTC", "USDT");
        assert!(s.check_price(f("30000.01")).is_ok());
        assert_eq!(
            s.check_price(f("30000.015")).unwrap_err().msg,
            "Filter failure: PRICE_FILTER"
        );
        assert_eq!(s.check_price(f("2000000")).unwrap_err().code, -1013);
        assert!(s.check_qty(f("0.00123")).is_ok());
        assert_eq!(
            s.check_qty(f("0.001234")).unwrap_err().msg,
            "Filter failure: LOT_SIZE"
        );
        assert_eq!(
            s.check_qty(f("0")).unwrap_err().msg,
            "Filter failure: LOT_SIZE"
        );
        assert!(s.check_notional(f("30000"), f("0.001")).is_ok());
        assert_eq!(
            s.check_notional(f("30000"), f("0.0001")).unwrap_err().msg,
            "Filter failure: NOTIONAL"
        );
    }

    #[test]
    fn bad_definitions_are_named() {
        let mut s = SymbolSpec::spot("btc-usdt", "BTC", "USDT");
        assert!(s.problem().unwrap().contains("upper-case"));
        s.symbol = "BTCUSDT".into();
        s.tick_size = Fixed::ZERO;
        assert!(s.problem().unwrap().contains("tick_size"));
    }
}
