//! Exact decimal amounts with eight places, the way Binance writes them.
//!
//! Binance sends every price and quantity as a decimal string with at most
//! eight fractional digits (`"0.00100000"`). A matching engine that used
//! `f64` would round `0.1 + 0.2` into a lot-size violation, and a local
//! copy of a venue's book keyed by `f64` prices would drift from it, so the
//! simulated exchange and the connector keep amounts as integers of 10⁻⁸
//! ([`Fixed`]) and products in `i128`.
//! A small purpose-built type instead of a general decimal crate: the wire
//! format fixes the scale, and integer arithmetic keeps the book fast.

use std::fmt;
use std::str::FromStr;

/// Units per 1.0.
pub const SCALE: i64 = 100_000_000;

/// An amount in units of 10⁻⁸ (a price, a quantity, a balance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fixed(pub i64);

/// Why a decimal string is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixedError {
    /// Not a plain decimal number.
    #[error("`{0}` is not a decimal number (digits, one optional `.`, no sign or exponent)")]
    Malformed(String),
    /// More than eight fractional digits.
    #[error("`{0}` has more than 8 decimal places")]
    Precision(String),
    /// Does not fit.
    #[error("`{0}` is too large")]
    Overflow(String),
}

impl Fixed {
    /// Zero.
    pub const ZERO: Fixed = Fixed(0);
    /// The largest amount.
    pub const MAX: Fixed = Fixed(i64::MAX);

    /// From whole units.
    pub const fn units(n: i64) -> Fixed {
        Fixed(n * SCALE)
    }

    /// From a float, rounded to eight places (config values, tests).
    pub fn from_f64(x: f64) -> Fixed {
        Fixed((x * SCALE as f64).round() as i64)
    }

    /// As a float (reports to the host's `f64` model).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }

    /// True when zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `price × quantity`, truncated to eight places (a notional).
    pub fn times(self, other: Fixed) -> Fixed {
        Fixed(((self.0 as i128 * other.0 as i128) / SCALE as i128) as i64)
    }

    /// `self × bps / 10,000`, truncated (a fee).
    pub fn bps(self, bps: i64) -> Fixed {
        Fixed(((self.0 as i128 * bps as i128) / 10_000) as i64)
    }

    /// `self / other` in units of `step`, rounded down (how much quantity a
    /// quote amount buys at a price).
    pub fn div_floor(self, other: Fixed, step: Fixed) -> Fixed {
        if other.0 <= 0 {
            return Fixed::ZERO;
        }
        let q = (self.0 as i128 * SCALE as i128) / other.0 as i128;
        let q = q.min(i64::MAX as i128) as i64;
        if step.0 > 0 {
            Fixed(q - q % step.0)
        } else {
            Fixed(q)
        }
    }

    /// True when a whole multiple of `step` (a zero step allows anything).
    pub fn is_multiple_of(self, step: Fixed) -> bool {
        step.0 == 0 || self.0 % step.0 == 0
    }
}

impl std::ops::Add for Fixed {
    type Output = Fixed;
    fn add(self, o: Fixed) -> Fixed {
        Fixed(self.0 + o.0)
    }
}

impl std::ops::Sub for Fixed {
    type Output = Fixed;
    fn sub(self, o: Fixed) -> Fixed {
        Fixed(self.0 - o.0)
    }
}

impl std::ops::AddAssign for Fixed {
    fn add_assign(&mut self, o: Fixed) {
        self.0 += o.0;
    }
}

impl std::ops::SubAssign for Fixed {
    fn sub_assign(&mut self, o: Fixed) {
        self.0 -= o.0;
    }
}

impl FromStr for Fixed {
    type Err = FixedError;

    /// One pass over the bytes: this runs for every price and quantity
    /// of every market-data message.
    fn from_str(s: &str) -> Result<Fixed, FixedError> {
        const POW10: [i64; 9] = [
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        let mut whole: i64 = 0;
        let mut frac: i64 = 0;
        let mut frac_digits = 0usize;
        let mut dot = false;
        let mut digits = 0usize;
        for &b in s.as_bytes() {
            match b {
                b'0'..=b'9' => {
                    digits += 1;
                    let d = i64::from(b - b'0');
                    if !dot {
                        whole = whole
                            .checked_mul(10)
                            .and_then(|w| w.checked_add(d))
                            .ok_or_else(|| FixedError::Overflow(s.to_string()))?;
                    } else if frac_digits < 8 {
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    } else if d != 0 {
                        return Err(FixedError::Precision(s.to_string()));
                    }
                }
                b'.' if !dot => dot = true,
                _ => return Err(FixedError::Malformed(s.to_string())),
            }
        }
        if digits == 0 {
            return Err(FixedError::Malformed(s.to_string()));
        }
        whole
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(frac * POW10[frac_digits]))
            .map(Fixed)
            .ok_or_else(|| FixedError::Overflow(s.to_string()))
    }
}

impl fmt::Display for Fixed {
    /// Binance's form: always eight places (`1.50000000`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:08}", abs / SCALE as u64, abs % SCALE as u64)
    }
}

impl serde::Serialize for Fixed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Fixed {
    /// Accepts Binance's strings and, for config files, plain numbers.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fixed, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(f64),
        }
        match Raw::deserialize(d)? {
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
            Raw::Number(x) if x.is_finite() && x >= 0.0 => Ok(Fixed::from_f64(x)),
            Raw::Number(x) => Err(serde::de::Error::custom(format!(
                "{x} is not a non-negative amount"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_binance_amounts() {
        assert_eq!("0.001".parse::<Fixed>().unwrap(), Fixed(100_000));
        assert_eq!("0.00100000".parse::<Fixed>().unwrap(), Fixed(100_000));
        assert_eq!("42".parse::<Fixed>().unwrap(), Fixed::units(42));
        assert_eq!(".5".parse::<Fixed>().unwrap(), Fixed(50_000_000));
        assert_eq!("1.000000000000".parse::<Fixed>().unwrap(), Fixed::units(1));
        assert_eq!(Fixed(150_000_000).to_string(), "1.50000000");
        assert_eq!(Fixed(-1).to_string(), "-0.00000001");
    }

    #[test]
    fn refuses_what_binance_refuses() {
        for bad in ["", ".", "-1", "1e5", "1.2.3", "abc", " 1", "+1"] {
            assert!(
                matches!(bad.parse::<Fixed>(), Err(FixedError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "0.000000001".parse::<Fixed>(),
            Err(FixedError::Precision(_))
        ));
        assert!(matches!(
            "99999999999999".parse::<Fixed>(),
            Err(FixedError::Overflow(_))
        ));
    }

    #[test]
    fn arithmetic_is_exact() {
        let p: Fixed = "30000.01".parse().unwrap();
        let q: Fixed = "0.003".parse().unwrap();
        assert_eq!(p.times(q).to_string(), "90.00003000");
        assert_eq!(Fixed::units(100).bps(10), "0.1".parse().unwrap());
        let step: Fixed = "0.001".parse().unwrap();
        assert_eq!(
            Fixed::units(100).div_floor(p, step).to_string(),
            "0.00300000"
        );
        assert!(q.is_multiple_of(step));
        assert!(!"0.0035".parse::<Fixed>().unwrap().is_multiple_of(step));
    }
}
