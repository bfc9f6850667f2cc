//! The account audit: the venue's open orders and balances against what
//! the connector tracks, at start, after every reconnect and periodically.
//!
//! The per-order reconciliation (`connector::reconcile`) asks about orders
//! the host knows. This asks the other way round — what does the venue
//! hold that the host does not know? — because that is what bites after a
//! crash, a lost answer or a person trading by hand on the same account:
//!
//! - a *ghost order*: open at the venue, unknown here. One with Floor's
//!   client-id prefix (`fl-`) was sent by a host that no longer tracks it
//!   (a previous run): nobody manages it, so it is cancelled. Anyone
//!   else's is left alone. Either way it is published as a notice
//!   (`venue.reconcile.ghost_order`), so it is on record.
//! - *balances*: sent to the node as a [`VenueEvent::Balances`] snapshot,
//!   which takes them as the truth and records each correction. Only taken
//!   while nothing of ours is open or in flight: otherwise a fill could sit
//!   between the snapshot and its report and be counted twice.

use reqwest::Method;

use super::connector::Inner;
use crate::model::Balance;
use crate::venue::VenueEvent;

/// Client ids Floor sends start with this.
const OURS: &str = "fl-";

/// Run the audit once.
pub(super) async fn audit(inner: &Inner) {
    let rest = inner.exec.rest();
    let quiet_before = inner.tracker(|t| t.to_reconcile().is_empty() && t.in_flight() == 0);
    match rest
        .signed(Method::GET, "/api/v3/openOrders", &[], 80, 0)
        .await
    {
        Ok(list) => {
            for o in list.as_array().into_iter().flatten() {
                let client = o["clientOrderId"].as_str().unwrap_or_default();
                let symbol = o["symbol"].as_str().unwrap_or_default();
                if inner.tracker(|t| t.is_open(client)) {
                    continue;
                }
                let what = format!(
                    "{} {} {} {} @ {} (client id `{client}`, venue id {})",
                    symbol,
                    o["side"].as_str().unwrap_or("?"),
                    o["origQty"].as_str().unwrap_or("?"),
                    o["type"].as_str().unwrap_or("?"),
                    o["price"].as_str().unwrap_or("?"),
                    o["orderId"]
                );
                if !client.starts_with(OURS) {
                    inner.notice(
                        "venue.reconcile.ghost_order",
                        format!(
                            "{}: an order the host did not send is open: {what}; left alone",
                            inner.name
                        ),
                    );
                    continue;
                }
                let q = [
                    ("symbol", symbol.to_string()),
                    ("origClientOrderId", client.to_string()),
                ];
                let outcome = match rest.signed(Method::DELETE, "/api/v3/order", &q, 1, 0).await {
                    Ok(_) => "cancelled".to_string(),
                    Err(e) => format!("cancelling it failed ({e}); cancel it by hand"),
                };
                inner.count(|s| s.ghost_orders += 1);
                inner.notice(
                    "venue.reconcile.ghost_order",
                    format!("{}: an order from an earlier run is open and nobody tracks it: {what}; {outcome}", inner.name),
                );
            }
        }
        Err(e) => tracing::warn!("{}: audit of open orders: {e}", inner.name),
    }
    if !quiet_before {
        return;
    }
    let account = match rest
        .signed(Method::GET, "/api/v3/account", &[], 20, 0)
        .await
    {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("{}: audit of balances: {e}", inner.name);
            return;
        }
    };
    // Something was sent meanwhile: the snapshot may miss its fills.
    if !inner.tracker(|t| t.to_reconcile().is_empty() && t.in_flight() == 0) {
        return;
    }
    let amount = |b: &serde_json::Value, k: &str| {
        b[k].as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let balances: Vec<Balance> = account["balances"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| Balance {
            asset: b["asset"].as_str().unwrap_or_default().into(),
            free: amount(b, "free"),
            locked: amount(b, "locked"),
        })
        .collect();
    inner.emit(VenueEvent::Balances(balances));
}
