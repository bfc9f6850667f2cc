//! Signed REST calls to Binance (or `floor venue sim`), within the venue's
//! rate budget.
//!
//! Every call first reserves its weight in the [`Budget`] (waiting when the
//! window is spent), then signs — HMAC-SHA256 hex or Ed25519 base64 over the
//! query string — with a `timestamp` corrected by the measured clock offset,
//! and sends with reqwest (rustls). The answer is sorted into what the
//! caller must do: use it, fix the request (`Api`), wait (`RateLimited`),
//! stop (`Banned`), or — for a 5xx or a lost connection — treat the outcome
//! as unknown and query before retrying (`Unknown`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::Value;
use sha2::Sha256;

use super::limiter::{Budget, Wait};

/// How requests are signed.
#[derive(Clone)]
pub enum Credentials {
    /// HMAC-SHA256 with the API secret.
    Hmac(Vec<u8>),
    /// Ed25519 with the private key registered (by its public half) at the venue.
    Ed25519(ed25519_dalek::SigningKey),
}

impl Credentials {
    /// The signature as the venue expects it inside a query string.
    fn sign(&self, payload: &str) -> String {
        match self {
            Credentials::Hmac(_) => self.sign_raw(payload),
            // Base64 has `+`, `/`, `=`: encode them for the query string.
            Credentials::Ed25519(_) => serde_urlencoded::to_string([("s", self.sign_raw(payload))])
                .expect("a string encodes")[2..]
                .to_string(),
        }
    }

    /// The signature itself: HMAC in hex, Ed25519 in base64 (what the
    /// WebSocket API takes in its JSON params).
    pub fn sign_raw(&self, payload: &str) -> String {
        match self {
            Credentials::Hmac(secret) => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
                mac.update(payload.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Credentials::Ed25519(key) => base64::engine::general_purpose::STANDARD
                .encode(key.sign(payload.as_bytes()).to_bytes()),
        }
    }
}

/// What went wrong with a call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestError {
    /// The venue refused the request; it was not carried out.
    #[error("the venue refused the request: {msg} (code {code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// Binance's error code.
        code: i64,
        /// Binance's message.
        msg: String,
    },
    /// 429: nothing may be sent for this long.
    #[error("rate limited by the venue; nothing is sent for {retry_after_s} s")]
    RateLimited {
        /// Seconds.
        retry_after_s: u64,
    },
    /// 418: banned for ignoring a 429.
    #[error(
        "banned by the venue (HTTP 418) for {retry_after_s} s: trading through it stops; check what ignored the rate limit"
    )]
    Banned {
        /// Seconds.
        retry_after_s: u64,
    },
    /// A 5xx or a broken connection: the request may or may not have been
    /// carried out.
    #[error(
        "the venue's answer was lost ({detail}); the outcome is unknown: query before retrying"
    )]
    Unknown {
        /// What happened.
        detail: String,
    },
}

/// A REST client for one venue and one key.
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    key: String,
    creds: Credentials,
    recv_window_ms: u64,
    offset_ms: AtomicI64,
    budget: Mutex<Budget>,
}

fn now_ms() -> i64 {
    crate::model::clock::wall_ms() as i64
}

impl RestClient {
    /// A client for `base` (e.g. `https://api.binance.com` or the
    /// simulator's `http://127.0.0.1:PORT`) within `budget`.
    pub fn new(base: &str, key: &str, creds: Credentials, budget: Budget) -> RestClient {
        RestClient {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("a default reqwest client builds"),
            base: base.trim_end_matches('/').to_string(),
            key: key.to_string(),
            creds,
            recv_window_ms: 5_000,
            offset_ms: AtomicI64::new(0),
            budget: Mutex::new(budget),
        }
    }

    /// A client for `base` set up as the connector starts one: the rate
    /// budget read from the venue's own `exchangeInfo`, the clock offset
    /// measured.
    ///
    /// # Errors
    /// When the venue cannot be reached or its limits cannot be read.
    pub async fn from_venue(
        base: &str,
        key: &str,
        creds: Credentials,
    ) -> Result<RestClient, RestError> {
        Ok(RestClient::with_exchange_info(base, key, creds).await?.0)
    }

    /// As [`RestClient::from_venue`], also returning the venue's
    /// `exchangeInfo` (symbols, filters, limits).
    ///
    /// # Errors
    /// As [`RestClient::from_venue`].
    pub async fn with_exchange_info(
        base: &str,
        key: &str,
        creds: Credentials,
    ) -> Result<(RestClient, Value), RestError> {
        let probe = RestClient::new(base, key, creds.clone(), Budget::unlimited());
        let info = probe
            .public(Method::GET, "/api/v3/exchangeInfo", &[], 20)
            .await?;
        let budget =
            Budget::from_exchange_info(&info["rateLimits"]).map_err(|e| RestError::Unknown {
                detail: format!("exchangeInfo.rateLimits: {e}"),
            })?;
        // The probe's weight is in the venue's count, which the first
        // response's X-MBX-USED-WEIGHT header brings into this budget.
        let client = RestClient::new(base, key, creds, budget);
        client.sync_time().await?;
        Ok((client, info))
    }

    /// Server time minus local time, ms, as last measured.
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Measure the clock offset with `GET /api/v3/time` (half the round
    /// trip is assumed each way).
    ///
    /// # Errors
    /// As [`RestClient::public`].
    pub async fn sync_time(&self) -> Result<i64, RestError> {
        let before = now_ms();
        let v = self.public(Method::GET, "/api/v3/time", &[], 1).await?;
        let after = now_ms();
        let server = v["serverTime"].as_i64().ok_or_else(|| RestError::Unknown {
            detail: format!("no serverTime in {v}"),
        })?;
        let offset = server - (before + after) / 2;
        self.offset_ms.store(offset, Ordering::Relaxed);
        Ok(offset)
    }

    /// An unsigned call.
    ///
    /// # Errors
    /// See [`RestError`].
    pub async fn public(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        weight: u64,
    ) -> Result<Value, RestError> {
        let query = serde_urlencoded::to_string(params).expect("string pairs encode");
        self.send(method, path, query, weight, 0, false).await
    }

    /// A signed call; `orders` is how many new orders it places.
    ///
    /// # Errors
    /// See [`RestError`].
    pub async fn signed(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        weight: u64,
        orders: u64,
    ) -> Result<Value, RestError> {
        let first = self
            .send_signed(method.clone(), path, params, weight, orders)
            .await;
        match first {
            // Outside recvWindow: refused, not carried out. Our clock has
            // drifted from the venue's; measure again and send once more.
            Err(RestError::Api { code: -1021, .. }) => {
                let offset = self.sync_time().await?;
                tracing::warn!("clock offset to the venue re-measured: {offset} ms");
                self.send_signed(method, path, params, weight, orders).await
            }
            other => other,
        }
    }

    async fn send_signed(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        weight: u64,
        orders: u64,
    ) -> Result<Value, RestError> {
        let mut query = serde_urlencoded::to_string(params).expect("string pairs encode");
        if !query.is_empty() {
            query.push('&');
        }
        let ts = now_ms() + self.clock_offset_ms();
        query.push_str(&format!(
            "recvWindow={}&timestamp={ts}",
            self.recv_window_ms
        ));
        let sig = self.creds.sign(&query);
        query.push_str(&format!("&signature={sig}"));
        self.send(method, path, query, weight, orders, true).await
    }

    /// Take `ms` as the clock offset until the next measurement (an
    /// operator's correction; tests simulate a drifted clock with it).
    pub fn assume_offset_ms(&self, ms: i64) {
        self.offset_ms.store(ms, Ordering::Relaxed);
    }

    /// Now on the venue's clock: its windows turn on its time, not ours.
    fn venue_now(&self) -> u64 {
        (now_ms() + self.clock_offset_ms()).max(0) as u64
    }

    async fn reserve(&self, weight: u64, orders: u64) -> Result<(), RestError> {
        loop {
            let wait = self
                .budget
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .reserve(weight, orders, self.venue_now());
            match wait {
                Ok(()) => return Ok(()),
                Err(Wait::For(ms)) => tokio::time::sleep(Duration::from_millis(ms)).await,
                Err(Wait::Banned { until_ms }) => {
                    return Err(RestError::Banned {
                        retry_after_s: (until_ms.saturating_sub(self.venue_now())).div_ceil(1_000),
                    });
                }
            }
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: String,
        weight: u64,
        orders: u64,
        signed: bool,
    ) -> Result<Value, RestError> {
        self.reserve(weight, orders).await?;
        let url = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        let mut req = self.http.request(method, url);
        if signed {
            req = req.header("X-MBX-APIKEY", &self.key);
        }
        let resp = req.send().await.map_err(|e| RestError::Unknown {
            detail: format!("transport: {e}"),
        })?;
        let status = resp.status().as_u16();
        let now = self.venue_now();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        {
            let mut budget = self.budget.lock().unwrap_or_else(|p| p.into_inner());
            for (name, value) in resp.headers() {
                if let Ok(v) = value.to_str() {
                    budget.observe(name.as_str(), v, now);
                }
            }
            match status {
                429 => budget.too_many(retry_after, now),
                418 => budget.banned(retry_after, now),
                _ => {}
            }
        }
        let body = resp.text().await.map_err(|e| RestError::Unknown {
            detail: format!("reading the body: {e}"),
        })?;
        match status {
            200..=299 => serde_json::from_str(&body).map_err(|e| RestError::Unknown {
                detail: format!("not JSON ({e}): {body}"),
            }),
            429 => Err(RestError::RateLimited {
                retry_after_s: retry_after,
            }),
            418 => Err(RestError::Banned {
                retry_after_s: retry_after,
            }),
            500..=599 => Err(RestError::Unknown {
                detail: format!("HTTP {status}: {body}"),
            }),
            _ => {
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                Err(RestError::Api {
                    status,
                    code: v["code"].as_i64().unwrap_or(0),
                    msg: v["msg"]
                        .as_str()
                        .map_or_else(|| body.clone(), str::to_string),
                })
            }
        }
    }
}
