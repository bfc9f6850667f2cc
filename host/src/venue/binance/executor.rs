//! The one outbound pipe for orders: every order to a venue goes through
//! one [`Executor`], so the rate budget is spent in one place ("ten
//! strategy agents, one outbound pipe"), the order-entry circuit breaker
//! sees every failure, and an answer that was lost is resolved before
//! anything is sent again.
//!
//! Idempotency rests on the client order id: it is derived from the
//! intent ([`client_order_id`]), so a retry or a restart names the same
//! order. When the venue's answer is lost (5xx, timeout), the executor asks
//! the venue about that id — found means it was placed, -2013 means it was
//! not and may be sent once more — and never sends blind.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::breaker::{Breaker, Failure, Transition};
use super::rest::{RestClient, RestError};
use crate::model::clock::wall_ms as now_ms;
use crate::model::{Fixed, OrderType, Side, TimeInForce};
use crate::venue::VenueOrder;

/// The client order id for a host order: `fl-` and 30 hex digits of
/// SHA-256 over the scope (a session name) and the host's order id (itself
/// deterministic: `<agent>-<n>`). The same order always gets the same id;
/// ids fit Binance's 36-character limit and alphabet whatever the agent's
/// name.
pub fn client_order_id(scope: &str, order_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(scope.as_bytes());
    h.update([0]);
    h.update(order_id.as_bytes());
    format!("fl-{}", &hex::encode(h.finalize())[..30])
}

/// What became of an order sent through the executor.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The venue's order id.
    pub venue_order_id: u64,
    /// Its status at the venue when last seen (`NEW`, `FILLED`, …).
    pub status: String,
    /// True when the order was found at the venue after a lost answer
    /// (or a duplicate refusal) rather than acknowledged directly.
    pub recovered: bool,
}

/// Why an order was not placed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// The venue refused it (filters, balance, …); nothing is live.
    #[error("the venue refused the order: {msg} (code {code})")]
    Rejected {
        /// Binance's code.
        code: i64,
        /// Binance's message.
        msg: String,
    },
    /// The order-entry breaker is open: nothing was sent.
    #[error(
        "order entry to the venue is paused (circuit breaker open) for {retry_in_ms} ms after repeated failures"
    )]
    BreakerOpen {
        /// How long until a probe may go.
        retry_in_ms: u64,
    },
    /// The outcome could not be settled within the attempts allowed; the
    /// order may exist. Reconciliation will settle it.
    #[error(
        "the order's fate is unknown after {attempts} queries: {detail}; reconciliation will settle it"
    )]
    Unresolved {
        /// Queries made.
        attempts: u32,
        /// The last error.
        detail: String,
    },
    /// The venue banned this client.
    #[error("{0}")]
    Banned(String),
}

/// The executor for one venue account.
pub struct Executor {
    rest: RestClient,
    breaker: Mutex<Breaker>,
    transitions: Mutex<Vec<Transition>>,
    /// Queries allowed to settle one lost answer.
    pub max_queries: u32,
    /// Wait between those queries.
    pub query_backoff: Duration,
}

fn params(o: &VenueOrder) -> Vec<(&'static str, String)> {
    let side = match o.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    };
    let mut p = vec![
        ("symbol", o.symbol.to_string()),
        ("side", side.to_string()),
        ("quantity", Fixed::from_f64(o.quantity).to_string()),
        ("newClientOrderId", o.order_id.to_string()),
        ("newOrderRespType", "RESULT".to_string()),
    ];
    match (o.order_type, o.limit_price) {
        (OrderType::Limit, Some(price)) => {
            let tif = match o.time_in_force {
                TimeInForce::Gtc => "GTC",
                TimeInForce::Ioc => "IOC",
                TimeInForce::Fok => "FOK",
            };
            p.push(("type", "LIMIT".into()));
            p.push(("timeInForce", tif.into()));
            p.push(("price", Fixed::from_f64(price).to_string()));
        }
        _ => p.push(("type", "MARKET".into())),
    }
    p
}

fn placed(v: &Value, recovered: bool) -> Placed {
    Placed {
        venue_order_id: v["orderId"].as_u64().unwrap_or_default(),
        status: v["status"].as_str().unwrap_or("NEW").to_string(),
        recovered,
    }
}

impl Executor {
    /// An executor sending through `rest`, with the default breaker.
    pub fn new(rest: RestClient) -> Executor {
        Executor {
            rest,
            breaker: Mutex::new(Breaker::default()),
            transitions: Mutex::new(Vec::new()),
            max_queries: 5,
            query_backoff: Duration::from_millis(200),
        }
    }

    /// With this breaker (tests, config).
    pub fn with_breaker(mut self, breaker: Breaker) -> Executor {
        self.breaker = Mutex::new(breaker);
        self
    }

    /// The REST client (queries share its rate budget).
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// Cancel an order by its client id. Cancels do not pass the breaker:
    /// taking risk off is always tried.
    ///
    /// # Errors
    /// As [`RestClient::signed`]; -2011 when it is no longer open.
    pub async fn cancel(&self, symbol: &str, client_id: &str) -> Result<(), RestError> {
        let q = [
            ("symbol", symbol.to_string()),
            ("origClientOrderId", client_id.to_string()),
        ];
        self.rest
            .signed(Method::DELETE, "/api/v3/order", &q, 1, 0)
            .await
            .map(|_| ())
    }

    /// Breaker state changes since the last call (to publish as events).
    pub fn take_transitions(&self) -> Vec<Transition> {
        std::mem::take(&mut *self.transitions.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn note(&self, t: Option<Transition>) {
        if let Some(t) = t {
            tracing::warn!("order entry breaker: {:?} → {:?}", t.from, t.to);
            self.transitions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(t);
        }
    }

    fn breaker<T>(&self, f: impl FnOnce(&mut Breaker) -> T) -> T {
        f(&mut self.breaker.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Send one order, settling a lost answer before returning.
    ///
    /// # Errors
    /// See [`ExecError`].
    pub async fn place(&self, o: &VenueOrder) -> Result<Placed, ExecError> {
        let allowed = self.breaker(|b| b.allow(now_ms()));
        match allowed {
            Ok(t) => self.note(t),
            Err(retry_in_ms) => return Err(ExecError::BreakerOpen { retry_in_ms }),
        }
        let mut sent_twice = false;
        loop {
            match self
                .rest
                .signed(Method::POST, "/api/v3/order", &params(o), 1, 1)
                .await
            {
                Ok(v) => {
                    self.note(self.breaker(Breaker::success));
                    return Ok(placed(&v, sent_twice));
                }
                Err(RestError::Api {
                    code: -2010, msg, ..
                }) if msg.contains("Duplicate order") => {
                    // Already live under this id: an earlier send got through.
                    self.note(self.breaker(Breaker::success));
                    return self.query(o).await.and_then(|v| {
                        v.map(|v| placed(&v, true))
                            .ok_or_else(|| ExecError::Unresolved {
                                attempts: 1,
                                detail: "the venue says duplicate but cannot find it".into(),
                            })
                    });
                }
                Err(RestError::Api { code, msg, .. }) if matches!(code, -2014 | -2015 | -1022) => {
                    self.note(self.breaker(|b| b.failure(Failure::Auth, now_ms())));
                    return Err(ExecError::Rejected { code, msg });
                }
                Err(RestError::Api { code, msg, .. }) => {
                    // The venue works; the order was wrong.
                    self.note(self.breaker(Breaker::success));
                    return Err(ExecError::Rejected { code, msg });
                }
                Err(RestError::RateLimited { retry_after_s }) => {
                    // The budget now holds everything back until then.
                    tracing::warn!("order entry rate limited for {retry_after_s} s; waiting");
                    continue;
                }
                Err(e @ RestError::Banned { .. }) => return Err(ExecError::Banned(e.to_string())),
                Err(RestError::Unknown { detail }) => {
                    self.note(self.breaker(|b| b.failure(Failure::Transient, now_ms())));
                    tracing::warn!(
                        "order {}: answer lost ({detail}); asking the venue",
                        o.order_id
                    );
                    match self.query(o).await? {
                        Some(v) => return Ok(placed(&v, true)),
                        None if !sent_twice => {
                            // Definitely not there: one more send, same id —
                            // unless the failures have opened the breaker.
                            if let Err(retry_in_ms) = self.breaker(|b| b.allow(now_ms())) {
                                return Err(ExecError::BreakerOpen { retry_in_ms });
                            }
                            sent_twice = true;
                            continue;
                        }
                        None => {
                            return Err(ExecError::Unresolved {
                                attempts: self.max_queries,
                                detail,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Ask the venue about the order's client id: `Some` when it exists,
    /// `None` when the venue says it does not (-2013).
    async fn query(&self, o: &VenueOrder) -> Result<Option<Value>, ExecError> {
        let q = [
            ("symbol", o.symbol.to_string()),
            ("origClientOrderId", o.order_id.to_string()),
        ];
        let mut last = String::new();
        for attempt in 0..self.max_queries {
            if attempt > 0 {
                tokio::time::sleep(self.query_backoff).await;
            }
            match self
                .rest
                .signed(Method::GET, "/api/v3/order", &q, 4, 0)
                .await
            {
                Ok(v) => return Ok(Some(v)),
                Err(RestError::Api { code: -2013, .. }) => return Ok(None),
                Err(e @ RestError::Banned { .. }) => return Err(ExecError::Banned(e.to_string())),
                Err(e) => last = e.to_string(),
            }
        }
        Err(ExecError::Unresolved {
            attempts: self.max_queries,
            detail: last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_deterministic_and_binance_shaped() {
        let a = client_order_id("node-1", "trend-7");
        assert_eq!(a, client_order_id("node-1", "trend-7"));
        assert_ne!(a, client_order_id("node-1", "trend-8"));
        assert_ne!(a, client_order_id("node-2", "trend-7"));
        assert_ne!(
            client_order_id("ab", "c-1"),
            client_order_id("a", "bc-1"),
            "fields are separated"
        );
        assert!(a.len() <= 36 && a.starts_with("fl-"));
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}
