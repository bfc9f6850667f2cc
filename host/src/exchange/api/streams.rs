//! Market data over WebSocket, as Binance streams it.
//!
//! Raw streams at `/ws/<stream>[/<stream>…]` send each payload as it is;
//! combined streams at `/stream?streams=<a>/<b>` wrap it as
//! `{"stream": name, "data": payload}`. A connection can `SUBSCRIBE`,
//! `UNSUBSCRIBE` and `LIST_SUBSCRIPTIONS` with JSON requests. Streams:
//! `<symbol>@trade`, `<symbol>@bookTicker`, the diff depth
//! `<symbol>@depth@100ms` / `<symbol>@depth` (1 s) with `U`/`u` update ids,
//! and partial depth `<symbol>@depth<5|10|20>[@100ms]`.
//!
//! Every message is serialised once and fanned out on a broadcast channel;
//! a connection that falls too far behind is closed (code 1008) rather than
//! skipped silently, so its client knows to resynchronise.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::super::book::DepthDiff;
use super::super::engine::{Exchange, Level};
use super::super::order::Event;
use super::{Shared, json as shapes, now_ms, socket};

/// Best bid and ask as last published.
type Ticker = (Option<Level>, Option<Level>);

/// One serialised stream message.
#[derive(Debug)]
pub struct StreamMsg {
    /// Stream name, e.g. `btcusdt@trade`.
    pub stream: String,
    /// The payload as JSON text.
    pub data: String,
}

/// The fan-out of market data and what the streams remember between
/// messages.
pub struct Feed {
    tx: broadcast::Sender<Arc<StreamMsg>>,
    tickers: HashMap<String, Ticker>,
    slow_depth: HashMap<String, DepthDiff>,
    ticks: u64,
    /// Streams with at least one subscriber (partial depth is only built
    /// for those).
    interest: HashMap<String, usize>,
}

impl Feed {
    /// An empty feed; every symbol's depth changes are recorded from now.
    pub fn new(ex: &mut Exchange) -> Feed {
        let names: Vec<String> = ex.symbols().map(|s| s.symbol.clone()).collect();
        for n in &names {
            let _ = ex.track_depth(n, true);
        }
        Feed {
            tx: broadcast::channel(16_384).0,
            tickers: HashMap::new(),
            slow_depth: HashMap::new(),
            ticks: 0,
            interest: HashMap::new(),
        }
    }

    fn publish(&self, stream: String, data: Value) {
        // No receiver: nobody is connected, nothing to deliver.
        let _ = self.tx.send(Arc::new(StreamMsg {
            stream,
            data: data.to_string(),
        }));
    }

    /// Trades and book-ticker changes caused by the last request.
    pub fn after_request(&mut self, ex: &Exchange, events: &[Arc<Event>]) {
        let now = now_ms();
        for e in events {
            if let Event::Trade(t) = &**e {
                self.publish(
                    format!("{}@trade", t.symbol.to_lowercase()),
                    json!({"e": "trade", "E": now, "s": &*t.symbol, "t": t.id, "p": t.price.to_string(), "q": t.qty.to_string(), "T": t.time, "m": t.buyer_is_maker, "M": true}),
                );
            }
        }
        for spec in ex.symbols() {
            let Ok(now_ticker) = ex.book_ticker(&spec.symbol) else {
                continue;
            };
            // Compared as numbers: text is made only when it changed.
            if self.tickers.get(&spec.symbol) == Some(&now_ticker) {
                continue;
            }
            let id = ex.update_id(&spec.symbol).unwrap_or_default();
            let ((b, bq), (a, aq)) = (
                now_ticker.0.unwrap_or_default(),
                now_ticker.1.unwrap_or_default(),
            );
            self.publish(
                format!("{}@bookTicker", spec.symbol.to_lowercase()),
                json!({"u": id, "s": spec.symbol, "b": b.to_string(), "B": bq.to_string(), "a": a.to_string(), "A": aq.to_string()}),
            );
            self.tickers.insert(spec.symbol.clone(), now_ticker);
        }
    }

    /// Every 100 ms: depth diffs (and every tenth time the 1 s ones),
    /// partial depth for the streams someone follows.
    pub fn tick(&mut self, ex: &mut Exchange) {
        self.ticks += 1;
        let now = now_ms();
        let names: Vec<String> = ex.symbols().map(|s| s.symbol.clone()).collect();
        for name in names {
            let lower = name.to_lowercase();
            if let Ok(Some(diff)) = ex.take_depth_diff(&name) {
                self.publish(
                    format!("{lower}@depth@100ms"),
                    depth_update(&name, &diff, now),
                );
                let slow = self.slow_depth.entry(name.clone()).or_default();
                merge(slow, diff);
            }
            if self.ticks.is_multiple_of(10)
                && let Some(slow) = self.slow_depth.remove(&name)
            {
                self.publish(format!("{lower}@depth"), depth_update(&name, &slow, now));
            }
            for n in [5, 10, 20] {
                for (suffix, every) in [("@100ms", 1), ("", 10)] {
                    let stream = format!("{lower}@depth{n}{suffix}");
                    if self.ticks.is_multiple_of(every)
                        && self.interest.get(&stream).is_some_and(|c| *c > 0)
                    {
                        let (id, bids, asks) = ex.depth(&name, n).unwrap_or_default();
                        self.publish(stream, json!({"lastUpdateId": id, "bids": shapes::levels(&bids), "asks": shapes::levels(&asks)}));
                    }
                }
            }
        }
    }
}

fn depth_update(symbol: &str, d: &DepthDiff, now: u64) -> Value {
    json!({"e": "depthUpdate", "E": now, "s": symbol, "U": d.first_update_id, "u": d.final_update_id, "b": shapes::levels(&d.bids), "a": shapes::levels(&d.asks)})
}

/// Fold `next` into `acc`: the union of changed levels, latest quantity
/// wins, update ids spanning both.
fn merge(acc: &mut DepthDiff, next: DepthDiff) {
    if acc.first_update_id == 0 {
        acc.first_update_id = next.first_update_id;
    }
    acc.final_update_id = next.final_update_id;
    for (levels, new, descending) in [
        (&mut acc.bids, next.bids, true),
        (&mut acc.asks, next.asks, false),
    ] {
        for (p, q) in new {
            match levels.iter_mut().find(|(lp, _)| *lp == p) {
                Some(l) => l.1 = q,
                None => levels.push((p, q)),
            }
        }
        levels.sort_by(|a, b| {
            if descending {
                b.0.cmp(&a.0)
            } else {
                a.0.cmp(&b.0)
            }
        });
    }
}

/// Is `name` a stream this server can serve?
fn valid_stream(symbols: &BTreeSet<String>, name: &str) -> bool {
    let Some((sym, kind)) = name.split_once('@') else {
        return false;
    };
    if !symbols.contains(sym) {
        return false;
    }
    matches!(
        kind,
        "trade"
            | "bookTicker"
            | "depth"
            | "depth@100ms"
            | "depth5"
            | "depth10"
            | "depth20"
            | "depth5@100ms"
            | "depth10@100ms"
            | "depth20@100ms"
    )
}

/// `GET /ws/<streams>`.
pub(super) async fn raw(
    State(s): State<Arc<Shared>>,
    Path(streams): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let names: Vec<String> = streams
        .split('/')
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let listener = Listener::open(s, &names);
    ws.on_upgrade(move |socket| session(socket, listener, false))
}

/// `GET /ws` with no stream (subscribe later).
pub(super) async fn raw_empty(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let listener = Listener::open(s, &[]);
    ws.on_upgrade(move |socket| session(socket, listener, false))
}

/// `GET /stream?streams=a/b`.
pub(super) async fn combined(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let names: Vec<String> = q
        .get("streams")
        .map(|v| {
            v.split('/')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let listener = Listener::open(s, &names);
    ws.on_upgrade(move |socket| session(socket, listener, true))
}

/// One connection's place in the feed, taken while the handshake is
/// answered — before the client can send an order that moves the market —
/// so nothing that happens after the connection opens is missed. Dropping
/// it (the session ends, or the upgrade never completes) gives its
/// streams' interest back.
struct Listener {
    s: Arc<Shared>,
    symbols: BTreeSet<String>,
    rx: broadcast::Receiver<Arc<StreamMsg>>,
    drops: broadcast::Receiver<()>,
    subs: BTreeSet<String>,
}

impl Listener {
    fn open(s: Arc<Shared>, initial: &[String]) -> Listener {
        let symbols: BTreeSet<String> = {
            let ex = s.exchange.lock().unwrap_or_else(|p| p.into_inner());
            ex.symbols().map(|x| x.symbol.to_lowercase()).collect()
        };
        let rx = s
            .feed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .tx
            .subscribe();
        let drops = s.drops.subscribe();
        let mut subs = BTreeSet::new();
        for name in initial {
            if valid_stream(&symbols, name) {
                set_interest(&s, &mut subs, name, true);
            }
        }
        Listener {
            s,
            symbols,
            rx,
            drops,
            subs,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut feed = self.s.feed.lock().unwrap_or_else(|p| p.into_inner());
        for name in &self.subs {
            if let Some(count) = feed.interest.get_mut(name) {
                *count = count.saturating_sub(1);
            }
        }
    }
}

/// Count `name` in or out of the feed's interest for this connection.
fn set_interest(s: &Shared, subs: &mut BTreeSet<String>, name: &str, on: bool) {
    let mut feed = s.feed.lock().unwrap_or_else(|p| p.into_inner());
    let count = feed.interest.entry(name.to_string()).or_default();
    if on && subs.insert(name.to_string()) {
        *count += 1;
    } else if !on && subs.remove(name) {
        *count = count.saturating_sub(1);
    }
}

async fn session(socket: WebSocket, mut l: Listener, combined: bool) {
    let (mut out, mut inbox) = socket.split();
    let s = l.s.clone();
    let mut change = |subs: &mut BTreeSet<String>, name: &str, on: bool| {
        set_interest(&s, subs, name, on);
    };
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    loop {
        tokio::select! {
            incoming = socket::next_text(&mut inbox) => {
                let Some(text) = incoming else { break };
                let reply = request(&text, &l.symbols, &mut l.subs, &mut change);
                if out.send(Message::Text(reply.to_string().into())).await.is_err() {
                    break;
                }
            }
            msg = l.rx.recv() => match msg {
                Ok(m) if l.subs.contains(&m.stream) => {
                    let text = if combined {
                        format!("{{\"stream\":\"{}\",\"data\":{}}}", m.stream, m.data)
                    } else {
                        m.data.clone()
                    };
                    if out.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    socket::close_slow(&mut out, n, "reconnect and resynchronise").await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = ping.tick() => {
                if out.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            _ = l.drops.recv() => break,
        }
    }
}

/// Answer one JSON request on a stream connection.
fn request(
    text: &str,
    symbols: &BTreeSet<String>,
    subs: &mut BTreeSet<String>,
    change: &mut impl FnMut(&mut BTreeSet<String>, &str, bool),
) -> Value {
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return json!({"error": {"code": 3, "msg": "Invalid JSON: the request is not JSON"}, "id": null});
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let params: Vec<String> = req
        .get("params")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match req.get("method").and_then(Value::as_str) {
        Some(m @ ("SUBSCRIBE" | "UNSUBSCRIBE")) => {
            if let Some(bad) = params.iter().find(|p| !valid_stream(symbols, p)) {
                return json!({"error": {"code": 2, "msg": format!("Invalid request: unknown stream '{bad}'")}, "id": id});
            }
            for p in &params {
                change(subs, p, m == "SUBSCRIBE");
            }
            json!({"result": null, "id": id})
        }
        Some("LIST_SUBSCRIPTIONS") => json!({"result": subs.iter().collect::<Vec<_>>(), "id": id}),
        _ => {
            json!({"error": {"code": 2, "msg": "Invalid request: method must be SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS"}, "id": id})
        }
    }
}
