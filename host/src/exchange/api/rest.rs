//! The REST endpoints: one dispatcher that does what every endpoint shares
//! (latency, weight and rate limits, API key and signature, injected
//! faults, Binance's error bodies) and one function per endpoint.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::engine::{Exchange, OrderRef};
use super::super::error::ApiError;
use super::super::order::{NewOrder, OrderKind, StpMode};
use super::json::{self, RespType};
use super::params::Params;
use super::{Fault, Shared, auth, now_ms};
use crate::model::{Side, TimeInForce};

/// The router: every path goes through [`dispatch`].
pub(super) fn router(shared: Arc<Shared>) -> Router {
    use axum::routing::get;
    Router::new()
        .route("/ws", get(super::streams::raw_empty))
        .route("/ws/{*streams}", get(super::streams::raw))
        .route("/stream", get(super::streams::combined))
        .route("/ws-api/v3", get(super::user::ws_api))
        .fallback(dispatch)
        .with_state(shared)
}

/// What an endpoint needs from the dispatcher.
#[derive(Clone, Copy, PartialEq)]
enum Security {
    /// Anyone.
    Public,
    /// API key and signature.
    Signed,
}

type Handler = fn(&Shared, &Ctx) -> Result<Value, ApiError>;

struct Endpoint {
    security: Security,
    /// Counts against the account's order limits.
    places_order: bool,
    weight: fn(&Params) -> u64,
    run: Handler,
}

struct Ctx {
    params: Params,
    account: u32,
    now: u64,
}

fn endpoint(method: &Method, path: &str) -> Option<Endpoint> {
    use Security::*;
    let e = |security, places_order, weight: fn(&Params) -> u64, run: Handler| Endpoint {
        security,
        places_order,
        weight,
        run,
    };
    Some(match (method.as_str(), path) {
        ("GET", "/api/v3/ping") => e(Public, false, |_| 1, |_, _| Ok(json!({}))),
        ("GET", "/api/v3/time") => e(
            Public,
            false,
            |_| 1,
            |_, c| Ok(json!({"serverTime": c.now})),
        ),
        ("GET", "/api/v3/exchangeInfo") => e(Public, false, |_| 20, exchange_info),
        ("GET", "/api/v3/depth") => e(Public, false, depth_weight, depth),
        ("GET", "/api/v3/ticker/bookTicker") => e(
            Public,
            false,
            |p| if p.get("symbol").is_some() { 2 } else { 4 },
            book_ticker,
        ),
        ("GET", "/api/v3/ticker/price") => e(
            Public,
            false,
            |p| if p.get("symbol").is_some() { 2 } else { 4 },
            ticker_price,
        ),
        ("POST", "/api/v3/order") => e(Signed, true, |_| 1, new_order),
        ("POST", "/api/v3/order/test") => e(Signed, false, |_| 1, test_order),
        ("GET", "/api/v3/order") => e(Signed, false, |_| 4, query_order),
        ("DELETE", "/api/v3/order") => e(Signed, false, |_| 1, cancel_order),
        ("POST", "/api/v3/order/cancelReplace") => e(Signed, true, |_| 1, cancel_replace),
        ("GET", "/api/v3/openOrders") => e(
            Signed,
            false,
            |p| if p.get("symbol").is_some() { 6 } else { 80 },
            open_orders,
        ),
        ("DELETE", "/api/v3/openOrders") => e(Signed, false, |_| 1, cancel_open_orders),
        ("GET", "/api/v3/allOrders") => e(Signed, false, |_| 20, all_orders),
        ("GET", "/api/v3/account") => e(Signed, false, |_| 20, account),
        ("GET", "/api/v3/myTrades") => e(Signed, false, |_| 20, my_trades),
        _ => return None,
    })
}

fn error(status: StatusCode, e: &ApiError) -> Response {
    (status, axum::Json(e)).into_response()
}

/// HTTP status Binance uses for an error code.
fn status_of(e: &ApiError) -> StatusCode {
    match e.code {
        -2014 | -2015 => StatusCode::UNAUTHORIZED,
        -1003 | -1015 => StatusCode::TOO_MANY_REQUESTS,
        -1000 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Every request, after half the configured latency (the way in); its
/// answer leaves after the other half (the way out). A client that dies
/// on the way out has an order it never heard of, as on a real network.
async fn dispatch(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let half = s.latency / 2;
    if !half.is_zero() {
        tokio::time::sleep(half).await;
    }
    let response = handle(&s, &method, &uri, &headers, &body);
    if !half.is_zero() {
        tokio::time::sleep(s.latency - half).await;
    }
    response
}

fn handle(
    s: &Arc<Shared>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let path = uri.path();
    let Some(ep) = endpoint(method, path) else {
        return error(
            StatusCode::NOT_FOUND,
            &ApiError::new(
                -1000,
                format!("No endpoint {method} {path} on this simulator."),
            ),
        );
    };
    let query = uri.query().unwrap_or("");
    let Ok(body) = std::str::from_utf8(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            &ApiError::new(-1100, "The body is not UTF-8."),
        );
    };
    let params = match Params::parse(query, body) {
        Ok(p) => p,
        Err(e) => return error(status_of(&e), &e),
    };
    let now = now_ms();
    // The key is looked up before counting, so order limits are per account.
    let key = match ep.security {
        Security::Public => None,
        Security::Signed => {
            let Some(name) = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok()) else {
                return error(StatusCode::UNAUTHORIZED, &ApiError::bad_api_key_format());
            };
            match s.keys.get(name) {
                Some(k) => Some(k.clone()),
                None => return error(StatusCode::UNAUTHORIZED, &ApiError::rejected_api_key()),
            }
        }
    };
    if let Some(Fault::TooManyRequests { retry_after_s }) =
        s.take_fault_if(method.as_str(), path, |f| {
            matches!(f, Fault::TooManyRequests { .. })
        })
    {
        // Binding as a real 429: sending again before it passes is a ban.
        s.usage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .back_off(now + retry_after_s * 1_000);
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            &ApiError::too_many_requests("(injected)"),
        );
        r.headers_mut()
            .insert("retry-after", HeaderValue::from(retry_after_s));
        return r;
    }
    let order_of = if ep.places_order {
        key.as_ref().map(|k| k.account)
    } else {
        None
    };
    let counted = s.usage.lock().unwrap_or_else(|p| p.into_inner()).admit(
        (ep.weight)(&params),
        order_of,
        now,
    );
    let limit_headers = match counted {
        Ok(h) => h,
        Err(refusal) => {
            let status =
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
            let mut r = error(status, &refusal.error);
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(refusal.retry_after_s));
            return r;
        }
    };
    if let Some(k) = &key
        && let Err(e) = auth::check(k, &params, &auth::signed_payload(query, body), now)
    {
        return with_headers(error(status_of(&e), &e), &limit_headers);
    }
    let fault = s.take_fault_if(method.as_str(), path, |f| {
        matches!(f, Fault::ServerError { .. })
    });
    if let Some(Fault::ServerError {
        status,
        applied: false,
    }) = fault
    {
        return server_error(status);
    }
    let ctx = Ctx {
        params,
        account: key.map_or(0, |k| k.account),
        now,
    };
    let result = (ep.run)(s, &ctx);
    if let Some(Fault::ServerError {
        status,
        applied: true,
    }) = fault
    {
        return server_error(status);
    }
    let response = match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(status_of(&e), &e),
    };
    with_headers(response, &limit_headers)
}

fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    error(
        status,
        &ApiError::unknown("An unknown error occurred while processing the request. (injected)"),
    )
}

fn with_headers(mut r: Response, headers: &[(String, String)]) -> Response {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(k.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            r.headers_mut().insert(name, value);
        }
    }
    r
}

fn symbol<'a>(ex: &Exchange, p: &'a Params) -> Result<&'a str, ApiError> {
    let s = p.required("symbol")?;
    ex.check_symbol(s)?;
    Ok(s)
}

fn exchange_info(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let wanted: Option<Vec<String>> = match (c.params.get("symbol"), c.params.get("symbols")) {
        (Some(one), _) => Some(vec![one.to_string()]),
        (None, Some(list)) => {
            Some(serde_json::from_str(list).map_err(|_| ApiError::illegal_chars("symbols"))?)
        }
        (None, None) => None,
    };
    let limits: Vec<Value> = s
        .usage
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .limits()
        .iter()
        .map(|l| l.info())
        .collect();
    s.with_exchange(|ex| {
        if let Some(w) = &wanted {
            for name in w {
                ex.check_symbol(name)?;
            }
        }
        let symbols: Vec<Value> = ex
            .symbols()
            .filter(|spec| wanted.as_ref().is_none_or(|w| w.contains(&spec.symbol)))
            .map(|spec| {
                json!({
                    "symbol": spec.symbol,
                    "status": "TRADING",
                    "baseAsset": spec.base_asset,
                    "baseAssetPrecision": 8,
                    "quoteAsset": spec.quote_asset,
                    "quotePrecision": 8,
                    "quoteAssetPrecision": 8,
                    "baseCommissionPrecision": 8,
                    "quoteCommissionPrecision": 8,
                    "orderTypes": OrderKind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>(),
                    "icebergAllowed": false,
                    "ocoAllowed": false,
                    "otoAllowed": false,
                    "quoteOrderQtyMarketAllowed": true,
                    "allowTrailingStop": false,
                    "cancelReplaceAllowed": true,
                    "isSpotTradingAllowed": true,
                    "isMarginTradingAllowed": false,
                    "filters": [
                        {"filterType": "PRICE_FILTER", "minPrice": spec.min_price.to_string(), "maxPrice": spec.max_price.to_string(), "tickSize": spec.tick_size.to_string()},
                        {"filterType": "LOT_SIZE", "minQty": spec.min_qty.to_string(), "maxQty": spec.max_qty.to_string(), "stepSize": spec.step_size.to_string()},
                        {"filterType": "NOTIONAL", "minNotional": spec.min_notional.to_string(), "applyMinToMarket": true, "maxNotional": "9000000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
                    ],
                    "permissions": [],
                    "permissionSets": [["SPOT"]],
                    "defaultSelfTradePreventionMode": StpMode::default().name(),
                    "allowedSelfTradePreventionModes": StpMode::ALL.iter().map(|m| m.name()).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(json!({
            "timezone": "UTC",
            "serverTime": c.now,
            "rateLimits": limits,
            "exchangeFilters": [],
            "symbols": symbols,
        }))
    })
}

fn depth_weight(p: &Params) -> u64 {
    match p.int::<u64>("limit").ok().flatten().unwrap_or(100) {
        0..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}

fn depth(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let limit: usize = c.params.int("limit")?.unwrap_or(100);
    if limit == 0 || limit > 5_000 {
        return Err(ApiError::new(
            -1100,
            "Illegal characters found in parameter 'limit'; legal range is '1' to '5000'.",
        ));
    }
    let symbol = c.params.required("symbol")?;
    let (id, bids, asks) = s.with_exchange(|ex| ex.depth(symbol, limit))?;
    Ok(json!({"lastUpdateId": id, "bids": json::levels(&bids), "asks": json::levels(&asks)}))
}

fn book_ticker(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    s.with_exchange(|ex| {
        let one = |ex: &Exchange, symbol: &str| -> Result<Value, ApiError> {
            let (bid, ask) = ex.book_ticker(symbol)?;
            let (bp, bq) = bid.unwrap_or_default();
            let (ap, aq) = ask.unwrap_or_default();
            Ok(json!({"symbol": symbol, "bidPrice": bp.to_string(), "bidQty": bq.to_string(), "askPrice": ap.to_string(), "askQty": aq.to_string()}))
        };
        match c.params.get("symbol") {
            Some(sym) => one(ex, sym),
            None => {
                let names: Vec<String> = ex.symbols().map(|s| s.symbol.clone()).collect();
                names.iter().map(|n| one(ex, n)).collect::<Result<Vec<_>, _>>().map(Value::Array)
            }
        }
    })
}

fn ticker_price(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    s.with_exchange(|ex| {
        let one = |ex: &Exchange, symbol: &str| -> Result<Value, ApiError> {
            let last = ex.last_price(symbol)?.unwrap_or_default();
            Ok(json!({"symbol": symbol, "price": last.to_string()}))
        };
        match c.params.get("symbol") {
            Some(sym) => one(ex, sym),
            None => {
                let names: Vec<String> = ex.symbols().map(|s| s.symbol.clone()).collect();
                names
                    .iter()
                    .map(|n| one(ex, n))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)
            }
        }
    })
}

/// A new order from Binance's parameters.
pub(super) fn parse_new_order(p: &Params) -> Result<(NewOrder, Option<RespType>), ApiError> {
    let side = match p.required("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(ApiError::bad_side()),
    };
    let kind = p.required("type")?;
    let kind = *OrderKind::ALL
        .iter()
        .find(|k| k.name() == kind)
        .ok_or_else(ApiError::bad_order_type)?;
    let tif = p.choice(
        "timeInForce",
        |v| match v {
            "GTC" => Some(TimeInForce::Gtc),
            "IOC" => Some(TimeInForce::Ioc),
            "FOK" => Some(TimeInForce::Fok),
            _ => None,
        },
        ApiError::bad_tif,
    )?;
    let stp = p.choice(
        "selfTradePreventionMode",
        |v| StpMode::ALL.iter().find(|m| m.name() == v).copied(),
        || ApiError::illegal_chars("selfTradePreventionMode"),
    )?;
    let resp = p.choice(
        "newOrderRespType",
        |v| match v {
            "ACK" => Some(RespType::Ack),
            "RESULT" => Some(RespType::Result),
            "FULL" => Some(RespType::Full),
            _ => None,
        },
        || ApiError::illegal_chars("newOrderRespType"),
    )?;
    for unsupported in ["icebergQty", "trailingDelta", "strategyId", "pegPriceType"] {
        if p.get(unsupported).is_some() {
            return Err(ApiError::new(
                -1106,
                format!(
                    "Parameter '{unsupported}' sent when not required. (The simulator does not support it.)"
                ),
            ));
        }
    }
    let order = NewOrder {
        symbol: p.required("symbol")?.to_string(),
        side,
        kind,
        tif,
        quantity: p.fixed("quantity")?,
        quote_qty: p.fixed("quoteOrderQty")?,
        price: p.fixed("price")?,
        stop_price: p.fixed("stopPrice")?,
        client_order_id: p.get("newClientOrderId").map(str::to_string),
        stp,
    };
    Ok((order, resp))
}

fn default_resp(kind: OrderKind) -> RespType {
    // Binance: MARKET and LIMIT default to FULL, the others to ACK.
    if matches!(kind, OrderKind::Market | OrderKind::Limit) {
        RespType::Full
    } else {
        RespType::Ack
    }
}

fn new_order(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let (order, resp) = parse_new_order(&c.params)?;
    let resp = resp.unwrap_or(default_resp(order.kind));
    let ack = s.with_exchange(|ex| ex.new_order(c.account, order, c.now))?;
    Ok(json::new_order(&ack.order, &ack.fills, resp, c.now))
}

fn test_order(_s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    parse_new_order(&c.params)?;
    Ok(json!({}))
}

fn order_ref(p: &Params) -> Result<OrderRef, ApiError> {
    match (p.int::<u64>("orderId")?, p.get("origClientOrderId")) {
        (Some(id), _) => Ok(OrderRef::Id(id)),
        (None, Some(c)) => Ok(OrderRef::Client(c.to_string())),
        (None, None) => Err(ApiError::new(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )),
    }
}

fn query_order(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let which = order_ref(&c.params)?;
    let symbol = c.params.required("symbol")?;
    s.with_exchange(|ex| ex.order(c.account, symbol, &which).map(json::order))
}

fn cancel_client_id(s: &Shared, p: &Params) -> String {
    p.get("newClientOrderId")
        .map(str::to_string)
        .unwrap_or_else(|| format!("cancel-{}", s.cancel_ids.fetch_add(1, Ordering::Relaxed)))
}

fn cancel_order(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let which = order_ref(&c.params)?;
    let symbol = c.params.required("symbol")?;
    let cancel_id = cancel_client_id(s, &c.params);
    let o = s.with_exchange(|ex| ex.cancel(c.account, symbol, &which, c.now))?;
    Ok(json::cancelled(&o, &cancel_id, c.now))
}

fn cancel_open_orders(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let symbol = c.params.required("symbol")?;
    let cancelled = s.with_exchange(|ex| ex.cancel_all(c.account, symbol, c.now))?;
    Ok(Value::Array(
        cancelled
            .iter()
            .map(|o| json::cancelled(o, &cancel_client_id(s, &c.params), c.now))
            .collect(),
    ))
}

fn cancel_replace(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let p = &c.params;
    let mode = p.required("cancelReplaceMode")?;
    let allow_failure = match mode {
        "STOP_ON_FAILURE" => false,
        "ALLOW_FAILURE" => true,
        _ => return Err(ApiError::illegal_chars("cancelReplaceMode")),
    };
    let which = match (
        p.int::<u64>("cancelOrderId")?,
        p.get("cancelOrigClientOrderId"),
    ) {
        (Some(id), _) => OrderRef::Id(id),
        (None, Some(cid)) => OrderRef::Client(cid.to_string()),
        (None, None) => {
            return Err(ApiError::new(
                -1102,
                "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!",
            ));
        }
    };
    let (order, resp) = parse_new_order(p)?;
    let resp = resp.unwrap_or(default_resp(order.kind));
    let symbol = order.symbol.clone();
    let cancel_id = p
        .get("cancelNewClientOrderId")
        .map(str::to_string)
        .unwrap_or_else(|| cancel_client_id(s, &Params::default()));
    let (cancel, placed) = s.with_exchange(|ex| {
        let cancel = ex.cancel(c.account, &symbol, &which, c.now);
        let placed = if cancel.is_ok() || allow_failure {
            Some(ex.new_order(c.account, order, c.now))
        } else {
            None
        };
        (cancel, placed)
    });
    let cancel_json = match &cancel {
        Ok(o) => json::cancelled(o, &cancel_id, c.now),
        Err(e) => json!({"code": e.code, "msg": e.msg}),
    };
    let new_json = match &placed {
        Some(Ok(ack)) => json::new_order(&ack.order, &ack.fills, resp, c.now),
        Some(Err(e)) => json!({"code": e.code, "msg": e.msg}),
        None => Value::Null,
    };
    let outcome = |r: bool| if r { "SUCCESS" } else { "FAILURE" };
    let new_result = match &placed {
        Some(Ok(_)) => "SUCCESS",
        Some(Err(_)) => "FAILURE",
        None => "NOT_ATTEMPTED",
    };
    let body = json!({
        "cancelResult": outcome(cancel.is_ok()),
        "newOrderResult": new_result,
        "cancelResponse": cancel_json,
        "newOrderResponse": new_json,
    });
    match (&cancel, &placed) {
        (Ok(_), Some(Ok(_))) => Ok(body),
        (Ok(_), _) | (Err(_), Some(Ok(_))) => Err(ApiError {
            data: Some(body),
            ..ApiError::cancel_replace_partial()
        }),
        _ => Err(ApiError {
            data: Some(body),
            ..ApiError::cancel_replace_failed()
        }),
    }
}

fn open_orders(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let symbol = c.params.get("symbol");
    s.with_exchange(|ex| {
        if let Some(sym) = symbol {
            ex.check_symbol(sym)?;
        }
        Ok(Value::Array(
            ex.open_orders(c.account, symbol)
                .into_iter()
                .map(json::order)
                .collect(),
        ))
    })
}

fn all_orders(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let from: u64 = c.params.int("orderId")?.unwrap_or(0);
    let limit: usize = c.params.int("limit")?.unwrap_or(500).min(1_000);
    s.with_exchange(|ex| {
        let symbol = symbol(ex, &c.params)?;
        let orders: Vec<Value> = ex
            .all_orders(c.account, symbol)
            .into_iter()
            .filter(|o| o.order_id >= from)
            .take(limit)
            .map(json::order)
            .collect();
        Ok(Value::Array(orders))
    })
}

fn account(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    Ok(s.with_exchange(|ex| json::account(ex, c.account, c.now)))
}

fn my_trades(s: &Shared, c: &Ctx) -> Result<Value, ApiError> {
    let order_id: Option<u64> = c.params.int("orderId")?;
    let from: u64 = c.params.int("fromId")?.unwrap_or(0);
    let limit: usize = c.params.int("limit")?.unwrap_or(500).min(1_000);
    s.with_exchange(|ex| {
        let symbol = symbol(ex, &c.params)?;
        let trades: Vec<Value> = ex
            .my_trades(c.account, symbol)
            .into_iter()
            .filter(|t| order_id.is_none_or(|id| t.order_id == id) && t.id >= from)
            .take(limit)
            .map(json::trade)
            .collect();
        Ok(Value::Array(trades))
    })
}
