//! The simulator's rate limits, counted the way Binance counts them.
//!
//! Binance publishes its limits in `exchangeInfo.rateLimits`: request
//! weight per minute (per IP), orders per 10 s and per day (per account),
//! raw requests per 5 min. Every response carries the weight used so far in
//! `X-MBX-USED-WEIGHT-<n><unit>`, and order responses the order counts in
//! `X-MBX-ORDER-COUNT-<n><unit>`. Over a limit the answer is 429 with
//! `Retry-After` (seconds until the window turns); a client that keeps
//! sending during that time is banned with 418. Windows are aligned to
//! their length (a minute window turns on the minute). Tests use short
//! windows and small budgets so that pacing is visible in seconds.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::error::ApiError;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LimitKind {
    /// Summed request weight (per IP; all of loopback is one IP).
    RequestWeight,
    /// New orders (per account).
    Orders,
    /// Requests, whatever their weight.
    RawRequests,
}

/// One limit: at most `limit` per window of `interval_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// What it counts.
    pub kind: LimitKind,
    /// Window length, ms (a whole number of seconds).
    pub interval_ms: u64,
    /// Budget per window.
    pub limit: u64,
}

impl RateLimit {
    /// Binance's current spot limits.
    pub fn binance_defaults() -> Vec<RateLimit> {
        vec![
            RateLimit {
                kind: LimitKind::RequestWeight,
                interval_ms: 60_000,
                limit: 6_000,
            },
            RateLimit {
                kind: LimitKind::Orders,
                interval_ms: 10_000,
                limit: 100,
            },
            RateLimit {
                kind: LimitKind::Orders,
                interval_ms: 86_400_000,
                limit: 200_000,
            },
            RateLimit {
                kind: LimitKind::RawRequests,
                interval_ms: 300_000,
                limit: 61_000,
            },
        ]
    }

    /// `(interval, intervalNum)` in Binance's words, e.g. `("MINUTE", 1)`.
    pub fn interval(&self) -> (&'static str, u64) {
        let s = self.interval_ms / 1_000;
        if s.is_multiple_of(86_400) {
            ("DAY", s / 86_400)
        } else if s.is_multiple_of(3_600) {
            ("HOUR", s / 3_600)
        } else if s.is_multiple_of(60) {
            ("MINUTE", s / 60)
        } else {
            ("SECOND", s.max(1))
        }
    }

    /// The header suffix, e.g. `1M`, `10S`, `1D`.
    pub fn suffix(&self) -> String {
        let (unit, n) = self.interval();
        format!("{n}{}", &unit[..1])
    }

    /// The `exchangeInfo.rateLimits` entry.
    pub fn info(&self) -> Value {
        let (interval, n) = self.interval();
        json!({"rateLimitType": self.kind, "interval": interval, "intervalNum": n, "limit": self.limit})
    }
}

/// Why a request was refused before it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// 429 or 418.
    pub status: u16,
    /// Seconds to wait.
    pub retry_after_s: u64,
    /// The body.
    pub error: ApiError,
}

#[derive(Debug, Clone, Default)]
struct Window {
    start: u64,
    used: u64,
}

/// Counters for all limits; one per server (weight) with per-account order
/// counts.
#[derive(Debug)]
pub struct Usage {
    limits: Vec<RateLimit>,
    shared: Vec<Window>,
    per_account: std::collections::HashMap<u32, Vec<Window>>,
    backoff_until: u64,
    banned_until: u64,
    ban_ms: u64,
    refused: u64,
}

impl Usage {
    /// Counters for `limits`; a client that ignores a 429 is banned for
    /// `ban_ms`.
    pub fn new(limits: Vec<RateLimit>, ban_ms: u64) -> Usage {
        Usage {
            shared: vec![Window::default(); limits.len()],
            limits,
            per_account: Default::default(),
            backoff_until: 0,
            banned_until: 0,
            ban_ms,
            refused: 0,
        }
    }

    /// The limits, for `exchangeInfo`.
    pub fn limits(&self) -> &[RateLimit] {
        &self.limits
    }

    fn roll(w: &mut Window, l: &RateLimit, now_ms: u64) {
        let start = now_ms - now_ms % l.interval_ms.max(1);
        if w.start != start {
            *w = Window { start, used: 0 };
        }
    }

    fn retry_after(l: &RateLimit, now_ms: u64) -> u64 {
        let end = now_ms - now_ms % l.interval_ms.max(1) + l.interval_ms;
        (end - now_ms).div_ceil(1_000).max(1)
    }

    /// Count a request of `weight` (and one order when `order_of` names the
    /// account placing it) or refuse it. Returns the headers to send.
    ///
    /// # Errors
    /// 429 (-1003 weight, -1015 orders) over a limit; 418 when the client
    /// sent again before the `Retry-After` of an earlier 429 had passed.
    pub fn admit(
        &mut self,
        weight: u64,
        order_of: Option<u32>,
        now_ms: u64,
    ) -> Result<Vec<(String, String)>, Refusal> {
        let admitted = self.count(weight, order_of, now_ms);
        if admitted.is_err() {
            self.refused += 1;
        }
        admitted
    }

    /// A 429 was given (an injected one): requests before `until_ms`
    /// get the client banned, as after a counted one.
    pub fn back_off(&mut self, until_ms: u64) {
        self.backoff_until = self.backoff_until.max(until_ms);
    }

    /// Requests refused so far with 429 or 418 (tests check a client
    /// never meets one).
    pub fn refused(&self) -> u64 {
        self.refused
    }

    fn count(
        &mut self,
        weight: u64,
        order_of: Option<u32>,
        now_ms: u64,
    ) -> Result<Vec<(String, String)>, Refusal> {
        if now_ms < self.banned_until {
            return Err(Refusal {
                status: 418,
                retry_after_s: (self.banned_until - now_ms).div_ceil(1_000),
                error: ApiError::new(
                    -1003,
                    format!(
                        "Way too much request weight used; IP banned until {}. Please use WebSocket Streams for live updates to avoid bans.",
                        self.banned_until
                    ),
                ),
            });
        }
        if now_ms < self.backoff_until {
            self.banned_until = now_ms + self.ban_ms;
            return Err(Refusal {
                status: 418,
                retry_after_s: self.ban_ms.div_ceil(1_000),
                error: ApiError::new(
                    -1003,
                    format!(
                        "Way too much request weight used; IP banned until {}. Please use WebSocket Streams for live updates to avoid bans.",
                        self.banned_until
                    ),
                ),
            });
        }
        for (w, l) in self.shared.iter_mut().zip(&self.limits) {
            Self::roll(w, l, now_ms);
            let add = match l.kind {
                LimitKind::RequestWeight => weight,
                LimitKind::RawRequests => 1,
                LimitKind::Orders => 0,
            };
            if add > 0 && w.used + add > l.limit {
                let retry = Self::retry_after(l, now_ms);
                // Sending again before the window turns is what gets a ban.
                self.backoff_until = now_ms - now_ms % l.interval_ms.max(1) + l.interval_ms;
                let (unit, n) = l.interval();
                return Err(Refusal {
                    status: 429,
                    retry_after_s: retry,
                    error: ApiError::too_many_requests(&format!(
                        "{} request weight per {n} {}",
                        l.limit,
                        unit.to_lowercase()
                    )),
                });
            }
        }
        if let Some(account) = order_of {
            let windows = self
                .per_account
                .entry(account)
                .or_insert_with(|| vec![Window::default(); self.limits.len()]);
            for (w, l) in windows.iter_mut().zip(&self.limits) {
                if l.kind != LimitKind::Orders {
                    continue;
                }
                Self::roll(w, l, now_ms);
                if w.used + 1 > l.limit {
                    let (unit, n) = l.interval();
                    return Err(Refusal {
                        status: 429,
                        retry_after_s: Self::retry_after(l, now_ms),
                        error: ApiError::too_many_orders(&format!(
                            "{} orders per {n} {}",
                            l.limit,
                            unit.to_lowercase()
                        )),
                    });
                }
            }
            for (w, l) in windows.iter_mut().zip(&self.limits) {
                if l.kind == LimitKind::Orders {
                    w.used += 1;
                }
            }
        }
        let mut headers = Vec::new();
        for (w, l) in self.shared.iter_mut().zip(&self.limits) {
            match l.kind {
                LimitKind::RequestWeight => {
                    w.used += weight;
                    headers.push((
                        format!("x-mbx-used-weight-{}", l.suffix().to_lowercase()),
                        w.used.to_string(),
                    ));
                }
                LimitKind::RawRequests => w.used += 1,
                LimitKind::Orders => {}
            }
        }
        if let Some(account) = order_of {
            let windows = &self.per_account[&account];
            for (w, l) in windows.iter().zip(&self.limits) {
                if l.kind == LimitKind::Orders {
                    headers.push((
                        format!("x-mbx-order-count-{}", l.suffix().to_lowercase()),
                        w.used.to_string(),
                    ));
                }
            }
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Usage {
        Usage::new(
            vec![
                RateLimit {
                    kind: LimitKind::RequestWeight,
                    interval_ms: 1_000,
                    limit: 10,
                },
                RateLimit {
                    kind: LimitKind::Orders,
                    interval_ms: 10_000,
                    limit: 3,
                },
            ],
            5_000,
        )
    }

    #[test]
    fn weight_is_counted_per_window_and_reported() {
        let mut u = small();
        let h = u.admit(4, None, 10_000).unwrap();
        assert_eq!(
            h,
            vec![("x-mbx-used-weight-1s".to_string(), "4".to_string())]
        );
        u.admit(6, None, 10_500).unwrap();
        let r = u.admit(1, None, 10_900).unwrap_err();
        assert_eq!((r.status, r.retry_after_s, r.error.code), (429, 1, -1003));
        // Waiting out Retry-After is fine, and the window has turned.
        let h = u.admit(1, None, 11_000).unwrap();
        assert_eq!(h[0].1, "1");
    }

    #[test]
    fn ignoring_retry_after_gets_a_ban() {
        let mut u = small();
        u.admit(10, None, 20_000).unwrap();
        assert_eq!(u.admit(1, None, 20_100).unwrap_err().status, 429);
        let ban = u.admit(1, None, 20_200).unwrap_err();
        assert_eq!((ban.status, ban.retry_after_s), (418, 5));
        assert_eq!(
            u.admit(1, None, 24_000).unwrap_err().status,
            418,
            "still banned"
        );
        assert!(u.admit(1, None, 25_300).is_ok());
    }

    #[test]
    fn orders_are_counted_per_account() {
        let mut u = small();
        for _ in 0..3 {
            u.admit(1, Some(7), 30_000).unwrap();
        }
        let h = u.admit(0, Some(8), 30_000).unwrap();
        assert!(h.contains(&("x-mbx-order-count-10s".to_string(), "1".to_string())));
        let r = u.admit(1, Some(7), 30_001).unwrap_err();
        assert_eq!((r.status, r.error.code), (429, -1015));
    }

    #[test]
    fn binance_defaults_read_like_exchange_info() {
        let d = RateLimit::binance_defaults();
        assert_eq!(
            d[0].info(),
            json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000})
        );
        assert_eq!(d[1].suffix(), "10S");
        assert_eq!(d[2].suffix(), "1D");
    }
}
