//! Binance's spot protocol on the simulated exchange, on loopback.
//!
//! [`SimServer`] serves the REST API (`/api/v3/...`) with Binance's
//! signing, error bodies, weights and rate-limit headers, so that a client
//! written for Binance — Floor's connector, or a library such as
//! python-binance — works against it with only the base URL changed. The
//! HTTP layer is axum (hyper underneath; its WebSocket support is
//! tokio-tungstenite), chosen because it is the maintained, widely used
//! server on the tokio stack the host already runs on.
//!
//! One `std::sync::Mutex` guards the [`Exchange`]: a request holds it for
//! the microseconds the matching engine needs and never across an await, so
//! requests are applied in one total order, as at a real matching engine.

pub mod auth;
pub mod json;
pub mod limits;
pub mod params;
mod rest;
mod socket;
pub mod streams;
pub mod user;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

pub use auth::{ApiKey, Secret};
pub use limits::{LimitKind, RateLimit};

use super::engine::Exchange;
use super::market::{Market, MarketConfig};
use super::order::Event;
use super::replay::{Recording, Replay};
use limits::Usage;

/// A fault the server injects into the next matching request (tests,
/// `floor venue sim --config`).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this 5xx status. With `applied`, the request is carried
    /// out first — the client cannot know whether its order exists, as
    /// with a real gateway timeout.
    ServerError {
        /// HTTP status (500–599).
        status: u16,
        /// Carry the request out before failing.
        applied: bool,
    },
    /// Answer 429 with this `Retry-After` without counting weight.
    TooManyRequests {
        /// Seconds.
        retry_after_s: u64,
    },
}

/// A fault waiting for a request: method and path it applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingFault {
    /// `GET`, `POST`, `DELETE`.
    pub method: String,
    /// Path, e.g. `/api/v3/order`.
    pub path: String,
    /// What to do.
    pub fault: Fault,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Keys and the accounts they trade for.
    pub keys: Vec<ApiKey>,
    /// Rate limits (Binance's by default).
    pub limits: Vec<RateLimit>,
    /// How long a client that ignored a 429 is banned, ms.
    pub ban_ms: u64,
    /// Round trip of each request: half before it is handled, half
    /// before its answer leaves.
    pub latency: Duration,
    /// The market generator to run, if any.
    pub market: Option<MarketConfig>,
    /// A recording to replay, if any.
    pub replay: Option<Recording>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            keys: Vec::new(),
            limits: RateLimit::binance_defaults(),
            ban_ms: 120_000,
            latency: Duration::ZERO,
            market: None,
            replay: None,
        }
    }
}

/// State shared by the server's tasks.
pub struct Shared {
    /// The exchange.
    pub exchange: Mutex<Exchange>,
    keys: HashMap<String, ApiKey>,
    usage: Mutex<Usage>,
    faults: Mutex<VecDeque<PendingFault>>,
    latency: Duration,
    cancel_ids: AtomicU64,
    events: broadcast::Sender<Arc<user::UserEvent>>,
    feed: Mutex<streams::Feed>,
    drops: broadcast::Sender<()>,
    report_faults: Mutex<user::ReportFaults>,
}

/// Milliseconds since the Unix epoch (the server's clock).
pub use crate::model::clock::wall_ms as now_ms;

impl Shared {
    /// Run `f` on the exchange, then publish what it reported.
    pub fn with_exchange<T>(&self, f: impl FnOnce(&mut Exchange) -> T) -> T {
        let mut ex = self.exchange.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut ex);
        let events: Vec<Arc<Event>> = ex.drain_events().map(Arc::new).collect();
        if self.events.receiver_count() > 0 {
            // Serialised now, under the lock, so balances are those of
            // this moment.
            for e in &events {
                if let Some(u) = user::user_event(&ex, e) {
                    let _ = self.events.send(Arc::new(u));
                }
            }
        }
        self.feed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .after_request(&ex, &events);
        out
    }

    /// Delay or duplicate the user-data events from now on.
    pub fn set_report_faults(&self, faults: user::ReportFaults) {
        *self.report_faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// Drop every WebSocket connection at once (a network fault for
    /// tests: clients must reconnect and resynchronise).
    pub fn drop_streams(&self) {
        let _ = self.drops.send(());
    }

    /// Requests refused so far for rate limits (429) or a ban (418).
    pub fn refusals(&self) -> u64 {
        self.usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .refused()
    }

    /// User-data events as they happen (execution reports, balances).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<user::UserEvent>> {
        self.events.subscribe()
    }

    /// Queue a fault for the next request to `method path`.
    pub fn inject(&self, fault: PendingFault) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(fault);
    }

    /// The first queued fault for `method path` that `pred` accepts.
    fn take_fault_if(
        &self,
        method: &str,
        path: &str,
        pred: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        let mut q = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let i = q
            .iter()
            .position(|f| f.method == method && f.path == path && pred(&f.fault))?;
        q.remove(i).map(|f| f.fault)
    }
}

/// A running simulator server.
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SimServer {
    /// Serve `exchange` on `addr` (port 0 picks a free one). Must be called
    /// inside a tokio runtime.
    ///
    /// # Errors
    /// When the address cannot be bound.
    ///
    /// With a market configured, its generator steps every `step_ms` on
    /// the server's clock.
    pub async fn start(
        mut exchange: Exchange,
        config: ApiConfig,
        addr: SocketAddr,
    ) -> std::io::Result<SimServer> {
        let market = match config.market {
            Some(cfg) => Some(Market::new(&mut exchange, cfg).map_err(std::io::Error::other)?),
            None => None,
        };
        let replay = config.replay.map(|rec| Replay::new(&mut exchange, rec));
        let (events, _) = broadcast::channel(65_536);
        let feed = Mutex::new(streams::Feed::new(&mut exchange));
        let shared = Arc::new(Shared {
            feed,
            drops: broadcast::channel(4).0,
            report_faults: Mutex::new(user::ReportFaults::default()),
            exchange: Mutex::new(exchange),
            keys: config
                .keys
                .into_iter()
                .map(|k| (k.key.clone(), k))
                .collect(),
            usage: Mutex::new(Usage::new(config.limits, config.ban_ms)),
            faults: Mutex::new(VecDeque::new()),
            latency: config.latency,
            cancel_ids: AtomicU64::new(1),
            events,
        });
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = rest::router(shared.clone());
        let mut tasks = vec![tokio::spawn(async move {
            // Small answers go out at once (no Nagle delay on loopback).
            use axum::serve::ListenerExt as _;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("simulator server stopped: {e}");
            }
        })];
        let depth = shared.clone();
        tasks.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(100));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                let mut ex = depth.exchange.lock().unwrap_or_else(|p| p.into_inner());
                depth
                    .feed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .tick(&mut ex);
            }
        }));
        if let Some(mut market) = market {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_millis(market.step_ms()));
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    every.tick().await;
                    let now = now_ms();
                    shared.with_exchange(|ex| market.step(ex, now));
                }
            }));
        }
        if let Some(mut replay) = replay {
            let shared = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_millis(5));
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                while !replay.finished() {
                    every.tick().await;
                    let now = now_ms();
                    shared.with_exchange(|ex| replay.step(ex, now));
                }
                tracing::info!(
                    rows = replay.played,
                    refused = replay.refused,
                    "replay finished"
                );
            }));
        }
        Ok(SimServer {
            addr,
            shared,
            tasks,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the REST API (`http://127.0.0.1:PORT`).
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Base URL of the market streams (`ws://127.0.0.1:PORT`; raw streams
    /// under `/ws/`, combined under `/stream`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The shared state (inject faults, look at the exchange).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
