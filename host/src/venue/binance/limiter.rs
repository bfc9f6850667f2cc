//! The connector's side of Binance's rate limits: a budget that mirrors
//! the venue's own counting, so that requests wait here instead of being
//! refused there.
//!
//! Binance counts request weight and orders in fixed windows aligned to
//! their length and reports what it has counted in `X-MBX-USED-WEIGHT-*`
//! and `X-MBX-ORDER-COUNT-*`. The budget uses the same windows (read from
//! `exchangeInfo.rateLimits`), reserves a request's weight before it is
//! sent, and takes the venue's figure whenever it is higher (other clients
//! on the same IP spend the same budget). After a 429 it sends nothing until
//! `Retry-After` has passed; after a 418 it stops until told otherwise.
//! A rolling-window limiter (GCRA, as the `governor` crate implements) would
//! drift from the venue's aligned windows and cannot take the venue's
//! corrections, so this mirror is purpose-built; it is the same small
//! arithmetic the simulator's server uses.
//!
//! Near a window's edge the two clocks can disagree: the offset to the
//! venue is measured to a few ms, and a request is in flight for a while.
//! A request within [`GUARD_MS`] of a boundary may be counted by the venue
//! on either side of it, so it counts on both here: at a window's start it
//! also needs room in the window before, at its end it is carried into the
//! next. Only requests that meet a full window near its edge wait longer.

use serde_json::Value;

/// How close to a window boundary a request may be counted on either side.
pub const GUARD_MS: u64 = 50;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Request weight.
    Weight,
    /// New orders.
    Orders,
    /// Raw requests.
    Requests,
}

#[derive(Debug, Clone, PartialEq)]
struct Limit {
    counted: Counted,
    interval_ms: u64,
    limit: u64,
    start: u64,
    used: u64,
    /// What the window before this one ended with.
    prev: u64,
    /// Sent near this window's end: counted in the next one too.
    carry: u64,
    /// Header suffix, e.g. `1m`.
    suffix: String,
}

/// Why a request may not go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait this long (ms), then ask again.
    For(u64),
    /// The venue banned this client (418): stop and alert.
    Banned {
        /// Until then (ms), if the venue said.
        until_ms: u64,
    },
}

/// The budget.
#[derive(Debug, Clone)]
pub struct Budget {
    limits: Vec<Limit>,
    blocked_until: u64,
    banned_until: u64,
}

fn unit_ms(interval: &str) -> Option<u64> {
    Some(match interval {
        "SECOND" => 1_000,
        "MINUTE" => 60_000,
        "HOUR" => 3_600_000,
        "DAY" => 86_400_000,
        _ => return None,
    })
}

impl Budget {
    /// From `exchangeInfo.rateLimits`.
    ///
    /// # Errors
    /// An entry that is not Binance's shape.
    pub fn from_exchange_info(rate_limits: &Value) -> Result<Budget, String> {
        let entries = rate_limits.as_array().ok_or("rateLimits is not a list")?;
        let mut limits = Vec::new();
        for e in entries {
            let kind = e["rateLimitType"].as_str().ok_or("rateLimitType missing")?;
            let counted = match kind {
                "REQUEST_WEIGHT" => Counted::Weight,
                "ORDERS" => Counted::Orders,
                "RAW_REQUESTS" => Counted::Requests,
                other => return Err(format!("unknown rateLimitType {other}")),
            };
            let interval = e["interval"].as_str().ok_or("interval missing")?;
            let n = e["intervalNum"].as_u64().ok_or("intervalNum missing")?;
            let limit = e["limit"].as_u64().ok_or("limit missing")?;
            let unit = unit_ms(interval).ok_or_else(|| format!("unknown interval {interval}"))?;
            limits.push(Limit {
                counted,
                interval_ms: unit * n,
                limit,
                start: 0,
                used: 0,
                prev: 0,
                carry: 0,
                suffix: format!("{n}{}", interval[..1].to_lowercase()),
            });
        }
        Ok(Budget {
            limits,
            blocked_until: 0,
            banned_until: 0,
        })
    }

    /// No limits (only until the venue's own are known).
    pub fn unlimited() -> Budget {
        Budget {
            limits: Vec::new(),
            blocked_until: 0,
            banned_until: 0,
        }
    }

    fn roll(l: &mut Limit, now_ms: u64) {
        let start = now_ms - now_ms % l.interval_ms.max(1);
        if l.start != start {
            let adjacent = start == l.start + l.interval_ms;
            (l.prev, l.used) = if adjacent { (l.used, l.carry) } else { (0, 0) };
            l.start = start;
            l.carry = 0;
        }
    }

    /// Reserve a request of `weight` (and `orders` new orders), or say how
    /// long to wait first.
    ///
    /// # Errors
    /// [`Wait`] when the budget or a `Retry-After` does not allow it now.
    pub fn reserve(&mut self, weight: u64, orders: u64, now_ms: u64) -> Result<(), Wait> {
        if now_ms < self.banned_until {
            return Err(Wait::Banned {
                until_ms: self.banned_until,
            });
        }
        if now_ms < self.blocked_until {
            return Err(Wait::For(self.blocked_until - now_ms));
        }
        let mut wait = 0;
        for l in &mut self.limits {
            Self::roll(l, now_ms);
            let add = match l.counted {
                Counted::Weight => weight,
                Counted::Orders => orders,
                Counted::Requests => 1,
            };
            if add == 0 {
                continue;
            }
            if l.used + add > l.limit {
                wait = wait.max(l.start + l.interval_ms - now_ms);
            } else if now_ms - l.start < GUARD_MS && l.prev + add > l.limit {
                wait = wait.max(l.start + GUARD_MS - now_ms);
            }
        }
        if wait > 0 {
            return Err(Wait::For(wait));
        }
        for l in &mut self.limits {
            let add = match l.counted {
                Counted::Weight => weight,
                Counted::Orders => orders,
                Counted::Requests => 1,
            };
            l.used += add;
            if now_ms - l.start < GUARD_MS {
                l.prev += add;
            }
            if l.start + l.interval_ms - now_ms <= GUARD_MS {
                l.carry += add;
            }
        }
        Ok(())
    }

    /// Take the venue's count from a response's headers
    /// (`x-mbx-used-weight-1m`, `x-mbx-order-count-10s`, …).
    pub fn observe(&mut self, header: &str, value: &str, now_ms: u64) {
        let header = header.to_ascii_lowercase();
        let (counted, suffix) = if let Some(s) = header.strip_prefix("x-mbx-used-weight-") {
            (Counted::Weight, s)
        } else if let Some(s) = header.strip_prefix("x-mbx-order-count-") {
            (Counted::Orders, s)
        } else {
            return;
        };
        let Ok(used) = value.trim().parse::<u64>() else {
            return;
        };
        for l in &mut self.limits {
            if l.counted == counted && l.suffix == suffix {
                Self::roll(l, now_ms);
                l.used = l.used.max(used);
            }
        }
    }

    /// The venue answered 429: nothing goes until `retry_after_s` passed.
    pub fn too_many(&mut self, retry_after_s: u64, now_ms: u64) {
        self.blocked_until = self
            .blocked_until
            .max(now_ms + retry_after_s.max(1) * 1_000);
    }

    /// The venue answered 418: banned.
    pub fn banned(&mut self, retry_after_s: u64, now_ms: u64) {
        self.banned_until = now_ms + retry_after_s.max(1) * 1_000;
    }

    /// Weight used in the current window of the first weight limit.
    pub fn used_weight(&self) -> u64 {
        self.limits
            .iter()
            .find(|l| l.counted == Counted::Weight)
            .map_or(0, |l| l.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn budget() -> Budget {
        Budget::from_exchange_info(&json!([
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "SECOND", "intervalNum": 1, "limit": 10},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 3},
        ]))
        .unwrap()
    }

    #[test]
    fn waits_for_the_window_to_turn() {
        let mut b = budget();
        for _ in 0..10 {
            b.reserve(1, 0, 5_200).unwrap();
        }
        assert_eq!(b.reserve(1, 0, 5_700), Err(Wait::For(300)));
        assert_eq!(
            b.reserve(1, 0, 6_000),
            Err(Wait::For(GUARD_MS)),
            "right after the turn the venue may still count the full window"
        );
        assert_eq!(b.reserve(1, 0, 6_000 + GUARD_MS), Ok(()));
        for _ in 0..2 {
            b.reserve(1, 1, 6_100).unwrap();
        }
        b.reserve(1, 1, 7_500).unwrap();
        assert_eq!(
            b.reserve(1, 1, 7_600),
            Err(Wait::For(2_400)),
            "the order window is 10 s"
        );
    }

    #[test]
    fn requests_near_a_boundary_count_on_both_sides() {
        let mut b = budget();
        for _ in 0..4 {
            b.reserve(1, 0, 1_990).unwrap();
        }
        for _ in 0..6 {
            b.reserve(1, 0, 2_100).unwrap();
        }
        assert_eq!(
            b.reserve(1, 0, 2_100),
            Err(Wait::For(900)),
            "the 4 sent just before the turn may have landed in this window"
        );
        // Room before and after the turn: nothing waits.
        let mut b = budget();
        b.reserve(1, 0, 2_999).unwrap();
        assert_eq!(b.reserve(1, 0, 3_001), Ok(()));
    }

    #[test]
    fn the_venues_count_wins_when_higher() {
        let mut b = budget();
        b.reserve(1, 0, 1_000).unwrap();
        b.observe("X-MBX-USED-WEIGHT-1S", "9", 1_001);
        assert_eq!(b.used_weight(), 9);
        assert!(b.reserve(2, 0, 1_002).is_err());
        b.observe("x-mbx-used-weight-1s", "3", 1_003);
        assert_eq!(
            b.used_weight(),
            9,
            "a lower figure (an older response) does not lower it"
        );
    }

    #[test]
    fn retry_after_and_bans_stop_everything() {
        let mut b = budget();
        b.too_many(2, 10_000);
        assert_eq!(b.reserve(1, 0, 11_000), Err(Wait::For(1_000)));
        assert_eq!(b.reserve(1, 0, 12_000), Ok(()));
        b.banned(120, 13_000);
        assert_eq!(
            b.reserve(1, 0, 14_000),
            Err(Wait::Banned { until_ms: 133_000 })
        );
    }

    #[test]
    fn reads_what_the_simulator_publishes() {
        let limits: Vec<Value> = crate::exchange::api::RateLimit::binance_defaults()
            .iter()
            .map(|l| l.info())
            .collect();
        let b = Budget::from_exchange_info(&Value::Array(limits)).unwrap();
        assert_eq!(b.limits.len(), 4);
        assert_eq!(b.limits[0].suffix, "1m");
        assert_eq!(b.limits[1].suffix, "10s");
        assert!(Budget::from_exchange_info(&json!([{"rateLimitType": "X"}])).is_err());
    }
}
