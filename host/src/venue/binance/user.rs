//! User data over the WebSocket API: subscribe with a signature, then
//! read the account's `executionReport` events.
//!
//! Binance switched listen keys off in 2026; this is the path that
//! remains, and the simulator serves the same one.

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::rest::Credentials;
use crate::model::Fixed;

/// A user-data WebSocket after a successful subscription.
pub type UserSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An execution report, as the connector needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Symbol.
    pub symbol: String,
    /// The client order id the order was placed with (`C` on a cancel,
    /// where `c` is the cancel request's own id).
    pub client_order_id: String,
    /// The venue's order id.
    pub order_id: u64,
    /// `NEW`, `TRADE`, `CANCELED`, `EXPIRED`, `REJECTED`, `TRADE_PREVENTION`.
    pub exec: String,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`, …
    pub status: String,
    /// This fill.
    pub last_qty: Fixed,
    /// Its price.
    pub last_price: Fixed,
    /// Filled so far.
    pub cum_qty: Fixed,
    /// This fill's fee.
    pub commission: Fixed,
    /// The asset the fee was charged in (empty without a fill).
    pub commission_asset: String,
    /// Why it was rejected or expired (`NONE` otherwise).
    pub reason: String,
    /// Trade id, -1 without a fill.
    pub trade_id: i64,
    /// Venue time, ms.
    pub time_ms: u64,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct RawReport<'a> {
    #[serde(borrow)]
    s: &'a str,
    #[serde(borrow)]
    c: &'a str,
    /// The original client id on a cancel (`c` is then the cancel's own).
    #[serde(borrow, default)]
    C: &'a str,
    i: u64,
    #[serde(borrow)]
    x: &'a str,
    #[serde(borrow)]
    X: &'a str,
    #[serde(borrow)]
    l: &'a str,
    #[serde(borrow)]
    L: &'a str,
    #[serde(borrow)]
    z: &'a str,
    #[serde(borrow)]
    n: &'a str,
    #[serde(borrow, default)]
    N: Option<&'a str>,
    #[serde(borrow, default)]
    r: &'a str,
    t: i64,
    T: u64,
}

#[derive(Deserialize)]
struct Pushed<'a> {
    #[serde(borrow)]
    event: &'a serde_json::value::RawValue,
}

/// Decode a pushed user-data message; `None` for other events (balances)
/// and for replies.
///
/// # Errors
/// An `executionReport` with a missing or malformed field.
pub fn decode_report(text: &str) -> Result<Option<Report>, String> {
    let Ok(pushed) = serde_json::from_str::<Pushed>(text) else {
        return Ok(None);
    };
    let event = pushed.event.get();
    if !event.contains("\"executionReport\"") {
        return Ok(None);
    }
    let r: RawReport =
        serde_json::from_str(event).map_err(|e| format!("executionReport: {e}: {event}"))?;
    let amount = |v: &str| {
        v.parse::<Fixed>()
            .map_err(|e| format!("executionReport: {e}"))
    };
    Ok(Some(Report {
        symbol: r.s.to_string(),
        client_order_id: if r.C.is_empty() { r.c } else { r.C }.to_string(),
        order_id: r.i,
        exec: r.x.to_string(),
        status: r.X.to_string(),
        last_qty: amount(r.l)?,
        last_price: amount(r.L)?,
        cum_qty: amount(r.z)?,
        commission: amount(r.n)?,
        commission_asset: r.N.unwrap_or_default().to_string(),
        reason: r.r.to_string(),
        trade_id: r.t,
        time_ms: r.T,
    }))
}

/// Connect to `ws_base/ws-api/v3` and subscribe to the account's user data.
///
/// # Errors
/// The connection fails or the venue refuses the subscription (with its
/// code and message).
pub async fn subscribe(
    ws_base: &str,
    key: &str,
    creds: &Credentials,
    timestamp_ms: u64,
) -> Result<UserSocket, String> {
    let url = format!("{}/ws-api/v3", ws_base.trim_end_matches('/'));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(&url, None, true)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    // Params sorted by name, as the WebSocket API signs them.
    let payload = format!("apiKey={key}&timestamp={timestamp_ms}");
    let request = json!({
        "id": "subscribe",
        "method": "userDataStream.subscribe.signature",
        "params": {"apiKey": key, "timestamp": timestamp_ms, "signature": creds.sign_raw(&payload)},
    });
    ws.send(Message::Text(request.to_string().into()))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(msg) = ws.next().await {
        let Message::Text(t) = msg.map_err(|e| e.to_string())? else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&t).map_err(|e| e.to_string())?;
        if v["id"] == "subscribe" {
            if v["status"] == 200 {
                return Ok(ws);
            }
            return Err(format!(
                "the venue refused the user-data subscription: {}",
                v["error"]
            ));
        }
    }
    Err("the connection closed before the subscription was answered".into())
}
