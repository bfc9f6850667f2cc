//! Binance's JSON shapes for orders, trades, accounts and books, built
//! from the exchange's types (amounts as 8-decimal strings, times in ms).

use serde_json::{Value, json};

use super::super::engine::{AccountTrade, Exchange, Level};
use super::super::order::{Fill, Order};
use crate::model::{Side, TimeInForce};

/// `BUY` / `SELL`.
pub fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// `GTC` / `IOC` / `FOK`.
pub fn tif(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
        TimeInForce::Fok => "FOK",
    }
}

/// The fields every order shape shares.
fn base(o: &Order) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("symbol".into(), json!(&*o.symbol));
    m.insert("orderId".into(), json!(o.order_id));
    m.insert("orderListId".into(), json!(-1));
    m.insert("clientOrderId".into(), json!(&*o.client_order_id));
    m.insert("price".into(), json!(o.price.to_string()));
    m.insert("origQty".into(), json!(o.orig_qty.to_string()));
    m.insert("executedQty".into(), json!(o.executed_qty.to_string()));
    m.insert(
        "origQuoteOrderQty".into(),
        json!(o.orig_quote_qty.to_string()),
    );
    m.insert(
        "cummulativeQuoteQty".into(),
        json!(o.cum_quote_qty.to_string()),
    );
    m.insert("status".into(), json!(o.state.name()));
    m.insert("timeInForce".into(), json!(tif(o.tif)));
    m.insert("type".into(), json!(o.kind.name()));
    m.insert("side".into(), json!(side(o.side)));
    if o.kind.has_stop() {
        m.insert("stopPrice".into(), json!(o.stop_price.to_string()));
    }
    m.insert("selfTradePreventionMode".into(), json!(o.stp.name()));
    m
}

/// `newOrderRespType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespType {
    /// Ids and time only.
    Ack,
    /// The order.
    Result,
    /// The order and its fills.
    Full,
}

/// The answer to `POST /api/v3/order`.
pub fn new_order(o: &Order, fills: &[Fill], resp: RespType, now_ms: u64) -> Value {
    if resp == RespType::Ack {
        return json!({
            "symbol": &*o.symbol,
            "orderId": o.order_id,
            "orderListId": -1,
            "clientOrderId": &*o.client_order_id,
            "transactTime": now_ms,
        });
    }
    let mut m = base(o);
    m.insert("transactTime".into(), json!(now_ms));
    m.insert(
        "workingTime".into(),
        json!(if o.working_time > 0 {
            o.working_time as i64
        } else {
            -1
        }),
    );
    if resp == RespType::Full {
        m.insert("fills".into(), json!(fills));
    }
    Value::Object(m)
}

/// The answer to `GET /api/v3/order` (and each entry of `openOrders`).
pub fn order(o: &Order) -> Value {
    let mut m = base(o);
    m.insert("stopPrice".into(), json!(o.stop_price.to_string()));
    m.insert("icebergQty".into(), json!("0.00000000"));
    m.insert("time".into(), json!(o.time));
    m.insert("updateTime".into(), json!(o.update_time));
    m.insert(
        "isWorking".into(),
        json!(o.is_working || !o.kind.has_stop()),
    );
    m.insert(
        "workingTime".into(),
        json!(if o.working_time > 0 {
            o.working_time as i64
        } else {
            -1
        }),
    );
    Value::Object(m)
}

/// The answer to `DELETE /api/v3/order`.
pub fn cancelled(o: &Order, cancel_client_id: &str, now_ms: u64) -> Value {
    let mut m = base(o);
    m.insert("origClientOrderId".into(), json!(&*o.client_order_id));
    m.insert("clientOrderId".into(), json!(cancel_client_id));
    m.insert("transactTime".into(), json!(now_ms));
    Value::Object(m)
}

/// One entry of `GET /api/v3/myTrades`.
pub fn trade(t: &AccountTrade) -> Value {
    json!({
        "symbol": &*t.symbol,
        "id": t.id,
        "orderId": t.order_id,
        "orderListId": -1,
        "price": t.price.to_string(),
        "qty": t.qty.to_string(),
        "quoteQty": t.quote_qty.to_string(),
        "commission": t.commission.to_string(),
        "commissionAsset": &*t.commission_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": true,
    })
}

/// `GET /api/v3/account`.
pub fn account(ex: &Exchange, account: u32, now_ms: u64) -> Value {
    let a = ex.account(account);
    let rate = |bps: i64| crate::model::Fixed(bps * 10_000).to_string();
    let balances: Vec<Value> = ex
        .balances(account)
        .into_iter()
        .map(|(asset, b)| json!({"asset": asset, "free": b.free.to_string(), "locked": b.locked.to_string()}))
        .collect();
    json!({
        "makerCommission": a.maker_bps,
        "takerCommission": a.taker_bps,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": rate(a.maker_bps),
            "taker": rate(a.taker_bps),
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": true,
        "canWithdraw": false,
        "canDeposit": false,
        "brokered": false,
        "requireSelfTradePrevention": false,
        "preventSor": false,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": account,
    })
}

/// Levels as Binance writes them: `[["price", "qty"], …]`.
pub fn levels(levels: &[Level]) -> Value {
    Value::Array(
        levels
            .iter()
            .map(|(p, q)| json!([p.to_string(), q.to_string()]))
            .collect(),
    )
}
