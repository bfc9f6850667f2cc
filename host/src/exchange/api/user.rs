//! The WebSocket API at `/ws-api/v3`, for user data.
//!
//! Binance switched its listen-key endpoints off in 2026; user data now
//! comes over the WebSocket API: `userDataStream.subscribe.signature`
//! (params `apiKey`, `timestamp`, `signature`, signed over the params
//! sorted by name) answers `{"subscriptionId": N}` and from then on the
//! account's `executionReport` and `outboundAccountPosition` events arrive
//! as `{"subscriptionId": N, "event": {…}}`. `ping`, `time` and
//! `userDataStream.unsubscribe` are also served. For tests, reports can be
//! delayed, sent twice or lost ([`ReportFaults`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::super::engine::Exchange;
use super::super::error::ApiError;
use super::super::order::{Event, Execution};
use super::json::{side, tif};
use super::params::Params;
use super::{Shared, auth, now_ms, socket};

/// Faults in the user-data stream.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReportFaults {
    /// Send every event twice.
    pub duplicate: bool,
    /// Hold every event this long before sending it.
    pub delay: Duration,
    /// Send nothing (a connection that silently loses reports); clients
    /// learn what they missed only by asking over REST.
    pub lose: bool,
}

/// A user-data event for one account, in Binance's JSON.
#[derive(Debug, Clone)]
pub struct UserEvent {
    /// The account.
    pub account: u32,
    /// `executionReport` or `outboundAccountPosition`.
    pub payload: Value,
}

/// `executionReport`, field for field.
pub fn execution_report(x: &Execution) -> Value {
    let o = &x.order;
    let canceled = matches!(x.exec, super::super::order::ExecKind::Canceled);
    json!({
        "e": "executionReport",
        "E": x.time,
        "s": &*o.symbol,
        "c": &*o.client_order_id,
        "S": side(o.side),
        "o": o.kind.name(),
        "f": tif(o.tif),
        "q": o.orig_qty.to_string(),
        "p": o.price.to_string(),
        "P": o.stop_price.to_string(),
        "F": "0.00000000",
        "g": -1,
        "C": if canceled { o.client_order_id.to_string() } else { String::new() },
        "x": x.exec,
        "X": o.state.name(),
        "r": x.reason,
        "i": o.order_id,
        "l": x.last_qty.to_string(),
        "z": o.executed_qty.to_string(),
        "L": x.last_price.to_string(),
        "n": x.commission.to_string(),
        "N": x.commission_asset.as_deref(),
        "T": x.time,
        "t": x.trade_id,
        "w": o.is_working,
        "m": x.is_maker,
        "M": false,
        "O": o.time,
        "Z": o.cum_quote_qty.to_string(),
        "Y": x.last_price.times(x.last_qty).to_string(),
        "Q": o.orig_quote_qty.to_string(),
        "W": o.working_time,
        "V": o.stp.name(),
    })
}

/// `GET /ws-api/v3`.
pub(super) async fn ws_api(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(socket, s))
}

fn error(id: &Value, status: u16, e: &ApiError) -> Value {
    json!({"id": id, "status": status, "error": {"code": e.code, "msg": e.msg}})
}

/// The signed payload of a WebSocket API request: its params but
/// `signature`, sorted by name, as `k=v&…`.
pub fn ws_payload(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| *k != "signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

async fn session(socket: WebSocket, s: Arc<Shared>) {
    let (mut out, mut inbox) = socket.split();
    let mut events = s.subscribe();
    let mut drops = s.drops.subscribe();
    // Subscriptions on this connection: id → account.
    let mut subs: Vec<(u64, u32)> = Vec::new();
    let mut next_sub = 0u64;
    loop {
        tokio::select! {
            incoming = socket::next_text(&mut inbox) => {
                let Some(text) = incoming else { break };
                let reply = request(&s, &text, &mut subs, &mut next_sub);
                if out.send(Message::Text(reply.to_string().into())).await.is_err() {
                    break;
                }
            }
            ev = events.recv() => match ev {
                Ok(e) => {
                    let (account, event) = (e.account, &e.payload);
                    let faults = *s.report_faults.lock().unwrap_or_else(|p| p.into_inner());
                    if faults.lose {
                        continue;
                    }
                    for (sub, _) in subs.iter().filter(|(_, a)| *a == account) {
                        if !faults.delay.is_zero() {
                            tokio::time::sleep(faults.delay).await;
                        }
                        let text = json!({"subscriptionId": sub, "event": event}).to_string();
                        let copies = if faults.duplicate { 2 } else { 1 };
                        for _ in 0..copies {
                            if out.send(Message::Text(text.clone().into())).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    socket::close_slow(&mut out, n, "reconnect and reconcile over REST").await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = drops.recv() => break,
        }
    }
}

/// The user-data form of an exchange event (none for public trades).
pub fn user_event(ex: &Exchange, e: &Event) -> Option<UserEvent> {
    let (account, payload) = match e {
        Event::Execution(x) => (x.order.account, execution_report(x)),
        Event::Balances { account, time } => {
            let balances: Vec<Value> = ex
                .balances(*account)
                .into_iter()
                .map(|(a, b)| json!({"a": a, "f": b.free.to_string(), "l": b.locked.to_string()}))
                .collect();
            (
                *account,
                json!({"e": "outboundAccountPosition", "E": time, "u": time, "B": balances}),
            )
        }
        Event::Trade(_) => return None,
    };
    Some(UserEvent { account, payload })
}

fn request(s: &Shared, text: &str, subs: &mut Vec<(u64, u32)>, next_sub: &mut u64) -> Value {
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        return error(
            &Value::Null,
            400,
            &ApiError::new(-1100, "The request is not JSON."),
        );
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let params: BTreeMap<String, String> = req
        .get("params")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let now = now_ms();
    match req.get("method").and_then(Value::as_str) {
        Some("ping") => json!({"id": id, "status": 200, "result": {}}),
        Some("time") => json!({"id": id, "status": 200, "result": {"serverTime": now}}),
        Some("userDataStream.subscribe.signature") => {
            let Some(key) = params.get("apiKey").and_then(|k| s.keys.get(k)) else {
                return error(&id, 401, &ApiError::rejected_api_key());
            };
            let p = Params::from_pairs(params.clone().into_iter().collect());
            if let Err(e) = auth::check(key, &p, &ws_payload(&params), now) {
                return error(&id, 400, &e);
            }
            let sub = *next_sub;
            *next_sub += 1;
            subs.push((sub, key.account));
            json!({"id": id, "status": 200, "result": {"subscriptionId": sub}})
        }
        Some("userDataStream.unsubscribe") => {
            match params
                .get("subscriptionId")
                .and_then(|v| v.parse::<u64>().ok())
            {
                Some(sub) => subs.retain(|(x, _)| *x != sub),
                None => subs.clear(),
            }
            json!({"id": id, "status": 200, "result": {}})
        }
        Some(other) => error(
            &id,
            400,
            &ApiError::new(
                -1020,
                format!("Unsupported operation: '{other}' is not served by this simulator."),
            ),
        ),
        None => error(&id, 400, &ApiError::missing("method")),
    }
}
