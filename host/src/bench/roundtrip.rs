//! An order's round trip over loopback through the real protocol: the
//! connector signs and sends `POST /api/v3/order` to an in-process
//! simulator, which matches it and pushes the `executionReport` over the
//! WebSocket API; the clock stops when the connector has decoded the
//! FILLED report. Behind `order_roundtrip_us_p50`.

use std::net::SocketAddr;
use std::time::Instant;

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use reqwest::Method;
use tokio_tungstenite::tungstenite::Message;

use crate::exchange::api::{LimitKind, RateLimit, SimServer};
use crate::exchange::setup::{AccountSetup, SimSetup};
use crate::exchange::{Fixed, NewOrder, SymbolSpec};
use crate::model::Side;
use crate::venue::binance::rest::{Credentials, RestClient};
use crate::venue::binance::user::{decode_report, subscribe};

fn account(name: &str, key: &str) -> AccountSetup {
    AccountSetup {
        name: name.into(),
        api_key: key.into(),
        api_secret: Some("bench-secret".into()),
        ed25519_public_key: None,
        maker_bps: 0,
        taker_bps: 0,
        balances: [
            ("BTC".to_string(), Fixed::units(10_000)),
            ("USDT".to_string(), Fixed::units(100_000_000)),
        ]
        .into_iter()
        .collect(),
    }
}

/// Time `orders` market orders from intent to their FILLED report, µs.
///
/// # Errors
/// When the simulator cannot start or the connector fails.
pub fn order_roundtrip(orders: u64) -> anyhow::Result<Histogram<u64>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let setup = SimSetup {
            symbols: vec![SymbolSpec::spot("BTCUSDT", "BTC", "USDT")],
            accounts: vec![
                account("bench", "bench-key"),
                account("liquidity", "liquidity-key"),
            ],
            // Limits far above the bench's rate: it measures latency, not pacing.
            rate_limits: vec![
                RateLimit {
                    kind: LimitKind::RequestWeight,
                    interval_ms: 60_000,
                    limit: 100_000_000,
                },
                RateLimit {
                    kind: LimitKind::Orders,
                    interval_ms: 10_000,
                    limit: 100_000_000,
                },
            ],
            market: None,
            ..SimSetup::default()
        };
        let (exchange, api) = setup.build()?;
        let server = SimServer::start(exchange, api, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        server.shared().with_exchange(|ex| {
            let big = Fixed::units(1_000);
            ex.new_order(
                1,
                NewOrder::limit("BTCUSDT", Side::Sell, big, Fixed::units(30_000)),
                0,
            )
            .map(|_| ())?;
            ex.new_order(
                1,
                NewOrder::limit("BTCUSDT", Side::Buy, big, Fixed::units(29_999)),
                0,
            )
            .map(|_| ())
        })?;
        let creds = Credentials::Hmac(b"bench-secret".to_vec());
        let rest = RestClient::from_venue(&server.rest_url(), "bench-key", creds.clone()).await?;
        let now = rest.clock_offset_ms() + crate::exchange::api::now_ms() as i64;
        let mut ws = subscribe(&server.ws_url(), "bench-key", &creds, now.max(0) as u64)
            .await
            .map_err(anyhow::Error::msg)?;
        let mut h = Histogram::<u64>::new(3)?;
        for i in 0..orders {
            let cid = format!("rt-{i}");
            let side = if i % 2 == 0 { "BUY" } else { "SELL" };
            let params = [
                ("symbol", "BTCUSDT".to_string()),
                ("side", side.to_string()),
                ("type", "MARKET".to_string()),
                ("quantity", "0.001".to_string()),
                ("newClientOrderId", cid.clone()),
                ("newOrderRespType", "ACK".to_string()),
            ];
            let start = Instant::now();
            rest.signed(Method::POST, "/api/v3/order", &params, 1, 1)
                .await?;
            loop {
                let msg = ws
                    .next()
                    .await
                    .ok_or_else(|| anyhow::anyhow!("the user-data stream closed"))??;
                let Message::Text(text) = msg else { continue };
                if let Some(r) = decode_report(&text).map_err(anyhow::Error::msg)?
                    && r.client_order_id == cid
                    && r.status == "FILLED"
                {
                    break;
                }
            }
            let _ = h.record((start.elapsed().as_micros() as u64).max(1));
        }
        Ok(h)
    })
}
