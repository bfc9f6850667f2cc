//! [`BinanceVenue`]: the connector as the node sees it — a [`Venue`].
//!
//! The node is one synchronous, deterministic loop; the connector is
//! network I/O. They meet at two queues. Three tasks on the connector's own
//! tokio runtime feed one event queue that [`Venue::poll`] reads:
//!
//! - **market data**: one combined stream (`<s>@bookTicker/<s>@trade` for
//!   every symbol), decoded into quotes and trades, reconnected with
//!   backoff;
//! - **user data**: the WebSocket API subscription; its execution reports
//!   pass the [`Tracker`], which makes them exactly-once; after every
//!   reconnect, and every `reconcile_every`, open orders are reconciled
//!   over REST (`GET /order`, `GET /myTrades`) so a fill reported while the
//!   stream was down still reaches the host, once;
//! - **order entry**: the [`Executor`], fed by a command queue in the order
//!   the node submits — one outbound pipe, one rate budget. A refusal comes
//!   back as a rejection; breaker changes come back as notices.
//!
//! The same code trades on Binance and on `floor venue sim`; the node's
//! config picks the URLs.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use tokio::sync::{Notify, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::breaker::{Breaker, BreakerState, Transition};
use super::decode::{MarketMessage, decode};
use super::executor::{ExecError, Executor, client_order_id};
use super::rest::{Credentials, RestClient, RestError};
use super::tracker::{Sent, Tracker, TrackerStats, VenueFill, status_of};
use super::user::{UserSocket, decode_report, subscribe};
use crate::model::clock::{wall_ms, wall_ns};
use crate::model::{ExecutionReport, Fixed, MarketEvent, Nanos, OrderStatus};
use crate::venue::{Polled, ResumedOrder, Venue, VenueError, VenueEvent, VenueOrder};

/// Where and how to connect.
#[derive(Clone)]
pub struct ConnectorConfig {
    /// Name in logs, topics and status (`sim`, `binance`).
    pub name: String,
    /// REST base URL (`https://…` or `http://127.0.0.1:PORT`).
    pub rest_url: String,
    /// Market-stream base URL (`/stream?streams=` is appended).
    pub stream_url: String,
    /// WebSocket API base URL (`/ws-api/v3` is appended).
    pub ws_api_url: String,
    /// API key.
    pub api_key: String,
    /// How requests are signed.
    pub credentials: Credentials,
    /// Symbols to stream and trade.
    pub symbols: Vec<String>,
    /// Makes client order ids unique to a session (see
    /// [`client_order_id`]).
    pub scope: String,
    /// Reconcile open orders this often even when nothing dropped.
    pub reconcile_every: Duration,
    /// Consecutive order-entry failures that open the breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open, ms.
    pub breaker_open_ms: u64,
    /// How long [`Venue::poll`] waits for an event before saying idle.
    pub poll_wait: Duration,
    /// How long it polls for the next event before it sleeps (see
    /// [`recv_spinning`](crate::bus::inbound::recv_spinning)).
    pub spin: Duration,
}

/// Why the connector could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The venue could not be reached or refused us.
    #[error("cannot connect to the venue at {url}: {detail}")]
    Venue {
        /// The URL tried.
        url: String,
        /// What happened, and what to do.
        detail: String,
    },
    /// A configured symbol is not listed at the venue.
    #[error(
        "symbol `{0}` is not traded at the venue (not in its exchangeInfo): check [[symbols]] against the venue's listings"
    )]
    UnknownSymbol(String),
    /// The async runtime did not start.
    #[error("cannot start the connector's runtime: {0}")]
    Runtime(std::io::Error),
}

/// Counters a running connector keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorStats {
    /// Market-stream connections opened.
    pub market_connects: u64,
    /// User-data subscriptions made.
    pub user_connects: u64,
    /// Reconciliations run.
    pub reconciliations: u64,
    /// Orders from an earlier run found open at the venue and cancelled.
    pub ghost_orders: u64,
    /// Stream messages that did not decode (logged).
    pub undecodable: u64,
    /// The tracker's counters.
    pub tracker: TrackerStats,
}

enum Command {
    Place(VenueOrder),
    Cancel { symbol: String, client_id: String },
}

pub(super) struct Inner {
    pub(super) name: String,
    pub(super) exec: Executor,
    tracker: Mutex<Tracker>,
    events: Sender<(Nanos, VenueEvent)>,
    stats: Mutex<ConnectorStats>,
    reconcile_now: Notify,
}

impl Inner {
    pub(super) fn emit(&self, event: VenueEvent) {
        // The receiver lives as long as the venue; after that, nobody asks.
        let _ = self.events.send((wall_ns(), event));
    }

    fn report(&self, r: Option<ExecutionReport>) {
        if let Some(r) = r {
            self.emit(VenueEvent::Execution(r));
        }
    }

    pub(super) fn notice(&self, topic: &str, detail: String) {
        self.emit(VenueEvent::Notice {
            topic: topic.to_string(),
            detail,
        });
    }

    pub(super) fn tracker<T>(&self, f: impl FnOnce(&mut Tracker) -> T) -> T {
        f(&mut self.tracker.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(super) fn count(&self, f: impl FnOnce(&mut ConnectorStats)) {
        f(&mut self.stats.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn breaker_notices(&self) {
        for Transition { from, to } in self.exec.take_transitions() {
            let state = match to {
                BreakerState::Closed => "closed",
                BreakerState::Open { .. } => "open",
                BreakerState::HalfOpen { .. } => "half_open",
            };
            self.notice(
                &format!("venue.breaker.{state}"),
                format!(
                    "{}: order-entry circuit breaker {from:?} → {to:?}",
                    self.name
                ),
            );
        }
    }
}

/// The Binance connector as a [`Venue`].
pub struct BinanceVenue {
    inner: Arc<Inner>,
    events: Receiver<(Nanos, VenueEvent)>,
    commands: mpsc::UnboundedSender<Command>,
    scope: String,
    poll_wait: Duration,
    spin: Duration,
    stop: watch::Sender<bool>,
    /// Things that must live as long as the connector (an in-process
    /// simulator), dropped before the runtime.
    keep: Vec<Box<dyn std::any::Any + Send>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl BinanceVenue {
    /// Connect: read the venue's limits and symbols, check the key,
    /// subscribe to user data (before any order can be sent, so no report
    /// is missed), then start the tasks. Call from outside any async
    /// runtime: the connector brings its own.
    ///
    /// # Errors
    /// [`ConnectError`], saying what to check.
    pub fn connect(cfg: ConnectorConfig) -> Result<BinanceVenue, ConnectError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("floor-venue")
            .enable_all()
            .build()
            .map_err(ConnectError::Runtime)?;
        BinanceVenue::connect_on(cfg, rt, Vec::new())
    }

    /// As [`BinanceVenue::connect`], on `rt`, keeping `keep` alive (an
    /// in-process simulator serving on `rt`) until the connector drops.
    ///
    /// # Errors
    /// As [`BinanceVenue::connect`].
    pub fn connect_on(
        cfg: ConnectorConfig,
        rt: tokio::runtime::Runtime,
        keep: Vec<Box<dyn std::any::Any + Send>>,
    ) -> Result<BinanceVenue, ConnectError> {
        let venue_err = |url: &str, e: &dyn std::fmt::Display| ConnectError::Venue {
            url: url.to_string(),
            detail: e.to_string(),
        };
        let (rest, base_assets, socket) = rt.block_on(async {
            let (rest, info) = RestClient::with_exchange_info(
                &cfg.rest_url,
                &cfg.api_key,
                cfg.credentials.clone(),
            )
            .await
            .map_err(|e| venue_err(&cfg.rest_url, &e))?;
            let mut base_assets = HashMap::new();
            for s in info["symbols"].as_array().into_iter().flatten() {
                if let (Some(sym), Some(base)) = (s["symbol"].as_str(), s["baseAsset"].as_str()) {
                    base_assets.insert(sym.to_string(), base.to_string());
                }
            }
            if let Some(missing) = cfg.symbols.iter().find(|s| !base_assets.contains_key(*s)) {
                return Err(ConnectError::UnknownSymbol(missing.clone()));
            }
            rest.signed(Method::GET, "/api/v3/account", &[], 20, 0)
                .await
                .map_err(|e| ConnectError::Venue {
                    url: cfg.rest_url.clone(),
                    detail: format!("{e}; check api_key and the secret or key file"),
                })?;
            let socket = subscribe_user(&cfg, &rest)
                .await
                .map_err(|e| venue_err(&cfg.ws_api_url, &e))?;
            Ok((rest, base_assets, socket))
        })?;
        let (events_tx, events) = std::sync::mpsc::channel();
        let inner = Arc::new(Inner {
            name: cfg.name.clone(),
            exec: Executor::new(rest)
                .with_breaker(Breaker::new(cfg.breaker_failures, cfg.breaker_open_ms)),
            tracker: Mutex::new(Tracker::new(base_assets)),
            events: events_tx,
            stats: Mutex::new(ConnectorStats {
                user_connects: 1,
                ..ConnectorStats::default()
            }),
            reconcile_now: Notify::new(),
        });
        let (stop, stopped) = watch::channel(false);
        let (commands, queue) = mpsc::unbounded_channel();
        rt.spawn(market_task(cfg.clone(), inner.clone(), stopped.clone()));
        rt.spawn(user_task(cfg.clone(), inner.clone(), socket, stopped));
        rt.spawn(order_task(inner.clone(), queue));
        Ok(BinanceVenue {
            inner,
            events,
            commands,
            scope: cfg.scope,
            poll_wait: cfg.poll_wait,
            spin: cfg.spin,
            stop,
            keep,
            rt: Some(rt),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> ConnectorStats {
        let mut s = self
            .inner
            .stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        s.tracker = self.inner.tracker(|t| t.stats().clone());
        s
    }

    /// Reconcile open orders now (after an operator's doubt, in tests).
    pub fn reconcile(&self) {
        self.inner.reconcile_now.notify_one();
    }

    /// The client order id a host order is sent under.
    pub fn client_id(&self, order_id: &str) -> String {
        client_order_id(&self.scope, order_id)
    }
}

impl Drop for BinanceVenue {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.keep.clear();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Venue for BinanceVenue {
    fn name(&self) -> &str {
        &self.inner.name
    }

    fn poll(&mut self) -> Polled {
        match crate::bus::inbound::recv_spinning(&self.events, self.spin, self.poll_wait) {
            Ok((t, e)) => Polled::Event(t, e),
            Err(RecvTimeoutError::Timeout) => Polled::Idle(wall_ns()),
            Err(RecvTimeoutError::Disconnected) => Polled::Ended,
        }
    }

    fn submit(&mut self, order: VenueOrder, _now: Nanos) -> Vec<ExecutionReport> {
        let client_id = self.client_id(&order.order_id);
        self.inner.tracker(|t| t.track(&client_id, &order));
        let order = VenueOrder {
            order_id: client_id.into(),
            ..order
        };
        if self.commands.send(Command::Place(order)).is_err() {
            tracing::error!("the connector's order task has stopped");
        }
        Vec::new()
    }

    fn cancel(&mut self, order_id: &str, _now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        let (client_id, symbol) = self
            .inner
            .tracker(|t| {
                t.open_order(order_id)
                    .map(|(c, s)| (c.to_string(), s.to_string()))
            })
            .ok_or_else(|| VenueError::UnknownOrder(order_id.to_string()))?;
        let _ = self.commands.send(Command::Cancel { symbol, client_id });
        Ok(Vec::new())
    }

    fn observe(&mut self, _event: &MarketEvent, _now: Nanos) -> Vec<ExecutionReport> {
        Vec::new()
    }

    fn resume(&mut self, open: &[ResumedOrder], _now: Nanos) -> Vec<ExecutionReport> {
        for o in open {
            let client_id = self.client_id(&o.order.order_id);
            self.inner.tracker(|t| t.resume(&client_id, o));
        }
        // What happened to them while the host was down: asked now.
        self.inner.reconcile_now.notify_one();
        Vec::new()
    }

    fn reconcile(&mut self) {
        self.inner.reconcile_now.notify_one();
    }
}

async fn subscribe_user(cfg: &ConnectorConfig, rest: &RestClient) -> Result<UserSocket, String> {
    let ts = (wall_ms() as i64 + rest.clock_offset_ms()).max(0) as u64;
    subscribe(&cfg.ws_api_url, &cfg.api_key, &cfg.credentials, ts).await
}

/// Order entry: one command at a time, in the node's order.
async fn order_task(inner: Arc<Inner>, mut queue: mpsc::UnboundedReceiver<Command>) {
    while let Some(cmd) = queue.recv().await {
        match cmd {
            Command::Place(o) => {
                let result = inner.exec.place(&o).await;
                let mut banned = None;
                let report = inner.tracker(|t| match result {
                    Ok(p) => {
                        t.sent(&o.order_id, Sent::Placed, Some(p.venue_order_id));
                        None
                    }
                    Err(ExecError::Unresolved { .. }) => {
                        t.sent(&o.order_id, Sent::Unresolved, None);
                        None
                    }
                    Err(ExecError::Banned(why)) => {
                        t.sent(&o.order_id, Sent::Placed, None);
                        banned = Some(why.clone());
                        t.on_status(&o.order_id, OrderStatus::Rejected { reason: why }, false)
                    }
                    Err(e) => {
                        t.sent(&o.order_id, Sent::Placed, None);
                        let reason = match e {
                            ExecError::Rejected { code, msg } => format!("{msg} (code {code})"),
                            other => other.to_string(),
                        };
                        t.on_status(&o.order_id, OrderStatus::Rejected { reason }, false)
                    }
                });
                inner.report(report);
                if let Some(why) = banned {
                    inner.notice("venue.ban.active", format!("{}: {why}", inner.name));
                }
                inner.breaker_notices();
            }
            Command::Cancel { symbol, client_id } => {
                match inner.exec.cancel(&symbol, &client_id).await {
                    Ok(()) => {}
                    // Done meanwhile: its final report is on the way.
                    Err(RestError::Api { code: -2011, .. }) => {}
                    Err(e) => inner.notice(
                        "venue.cancel.failed",
                        format!("cancel of {client_id} on {symbol} failed: {e}"),
                    ),
                }
            }
        }
    }
}

/// User data, with reconnects and reconciliation.
async fn user_task(
    cfg: ConnectorConfig,
    inner: Arc<Inner>,
    first: UserSocket,
    mut stop: watch::Receiver<bool>,
) {
    // At start: orders left open by an earlier run, balances as they are.
    super::audit::audit(&inner).await;
    let mut socket = Some(first);
    let mut backoff = Duration::from_millis(50);
    let mut every = tokio::time::interval(cfg.reconcile_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        let ws = match socket.take() {
            Some(ws) => ws,
            None => match subscribe_user(&cfg, inner.exec.rest()).await {
                Ok(ws) => {
                    backoff = Duration::from_millis(50);
                    inner.count(|s| s.user_connects += 1);
                    inner.notice(
                        "venue.userdata.restored",
                        format!(
                            "{}: user data stream back; reconciling open orders",
                            cfg.name
                        ),
                    );
                    reconcile(&inner).await;
                    super::audit::audit(&inner).await;
                    ws
                }
                Err(e) => {
                    tracing::warn!("{}: user data: {e}; retrying in {backoff:?}", cfg.name);
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        let (_, mut incoming) = ws.split();
        loop {
            let msg = tokio::select! {
                m = incoming.next() => m,
                _ = every.tick() => { reconcile(&inner).await; super::audit::audit(&inner).await; continue; }
                _ = inner.reconcile_now.notified() => { reconcile(&inner).await; super::audit::audit(&inner).await; continue; }
                _ = stop.changed() => return,
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            };
            match decode_report(&text) {
                Ok(Some(r)) => inner.report(inner.tracker(|t| t.on_stream(&r))),
                Ok(None) => {}
                Err(e) => {
                    inner.count(|s| s.undecodable += 1);
                    tracing::warn!("{}: user data: {e}", cfg.name);
                }
            }
        }
        inner.notice(
            "venue.userdata.lost",
            format!(
                "{}: user data stream lost; reconnecting (open orders are reconciled once it is back)",
                cfg.name
            ),
        );
    }
}

/// Ask the venue about every order not yet final, and report what the
/// stream did not: fills (by trade id, once) and final statuses.
async fn reconcile(inner: &Inner) {
    inner.count(|s| s.reconciliations += 1);
    let rest = inner.exec.rest();
    for (client_id, symbol, sent, _) in inner.tracker(|t| t.to_reconcile()) {
        let q = [
            ("symbol", symbol.clone()),
            ("origClientOrderId", client_id.clone()),
        ];
        let order = match rest.signed(Method::GET, "/api/v3/order", &q, 4, 0).await {
            Ok(v) => v,
            Err(RestError::Api { code: -2013, .. }) if sent == Sent::Unresolved => {
                let why = "the venue has no such order after its answer was lost: not placed";
                inner.report(inner.tracker(|t| {
                    t.on_status(
                        &client_id,
                        OrderStatus::Rejected { reason: why.into() },
                        true,
                    )
                }));
                continue;
            }
            Err(e) => {
                tracing::warn!("{}: reconciling {client_id}: {e}", inner.name);
                continue;
            }
        };
        let venue_id = order["orderId"].as_u64();
        let executed: Fixed = order["executedQty"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(Fixed::ZERO);
        inner.tracker(|t| t.sent(&client_id, Sent::Placed, venue_id));
        let known = inner
            .tracker(|t| t.filled(&client_id))
            .unwrap_or(Fixed::ZERO);
        if executed > known
            && let Some(id) = venue_id
        {
            let trades = rest
                .signed(
                    Method::GET,
                    "/api/v3/myTrades",
                    &[("symbol", symbol.clone()), ("orderId", id.to_string())],
                    20,
                    0,
                )
                .await;
            match trades {
                Ok(list) => {
                    let mut cum = Fixed::ZERO;
                    for t in list.as_array().into_iter().flatten() {
                        let amount = |k: &str| t[k].as_str().and_then(|s| s.parse().ok());
                        let (Some(qty), Some(price), Some(commission)) =
                            (amount("qty"), amount("price"), amount("commission"))
                        else {
                            tracing::warn!("{}: a trade without amounts: {t}", inner.name);
                            continue;
                        };
                        let fill = VenueFill {
                            trade_id: t["id"].as_i64().unwrap_or(-1),
                            qty,
                            price,
                            commission,
                            commission_asset: t["commissionAsset"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        };
                        cum += fill.qty;
                        inner.report(inner.tracker(|tr| tr.on_listed_fill(&client_id, &fill, cum)));
                    }
                }
                Err(e) => {
                    tracing::warn!("{}: trades of {client_id}: {e}", inner.name);
                    continue;
                }
            }
        }
        let status = order["status"].as_str().unwrap_or_default();
        if let Some(s) = status_of(status, "") {
            inner.report(inner.tracker(|t| t.on_status(&client_id, s, true)));
        }
    }
    inner.tracker(Tracker::prune);
}

/// Market data: quotes and trades for every symbol on one stream.
async fn market_task(cfg: ConnectorConfig, inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let streams: Vec<String> = cfg
        .symbols
        .iter()
        .flat_map(|s| {
            let s = s.to_lowercase();
            [format!("{s}@bookTicker"), format!("{s}@trade")]
        })
        .collect();
    let url = format!(
        "{}/stream?streams={}",
        cfg.stream_url.trim_end_matches('/'),
        streams.join("/")
    );
    let mut backoff = Duration::from_millis(50);
    while !*stop.borrow() {
        let ws = match tokio_tungstenite::connect_async_with_config(&url, None, true).await {
            Ok((ws, _)) => ws,
            Err(e) => {
                tracing::warn!(
                    "{}: market data {url}: {e}; retrying in {backoff:?}",
                    cfg.name
                );
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        inner.count(|s| s.market_connects += 1);
        let (_, mut incoming) = ws.split();
        loop {
            let msg = tokio::select! {
                m = incoming.next() => m,
                _ = stop.changed() => return,
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            };
            match decode(&text) {
                Ok(MarketMessage::BookTicker { quote, .. }) => {
                    inner.emit(VenueEvent::Market(MarketEvent::Quote(quote)));
                }
                Ok(MarketMessage::Trade { trade, .. }) => {
                    inner.emit(VenueEvent::Market(MarketEvent::Trade(trade)));
                }
                Ok(_) => {}
                Err(e) => {
                    inner.count(|s| s.undecodable += 1);
                    tracing::warn!("{}: {e}", cfg.name);
                }
            }
        }
        tracing::warn!("{}: market data stream lost; reconnecting", cfg.name);
    }
}
