//! The Binance connector's REST side against the simulator on loopback.

use std::net::SocketAddr;

use floor_host::exchange::api::{Fault, LimitKind, PendingFault, RateLimit, SimServer};
use floor_host::exchange::setup::SimSetup;
use floor_host::venue::binance::limiter::Budget;
use floor_host::venue::binance::rest::{Credentials, RestClient, RestError};
use floor_tests::{runtime, sim_config};
use reqwest::Method;

fn config() -> String {
    sim_config(&[("me", "k", "s")])
}

async fn start(limits: Vec<RateLimit>) -> (SimServer, RestClient) {
    let (exchange, mut api) = SimSetup::parse(&config()).unwrap().build().unwrap();
    if !limits.is_empty() {
        api.limits = limits;
    }
    let server = SimServer::start(exchange, api, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    // The budget comes from the venue itself, as the connector reads it.
    let client = RestClient::from_venue(&server.rest_url(), "k", Credentials::Hmac(b"s".to_vec()))
        .await
        .unwrap();
    (server, client)
}

fn order(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("symbol", "BTCUSDT".into()),
        ("side", "BUY".into()),
        ("type", "LIMIT".into()),
        ("timeInForce", "GTC".into()),
        ("quantity", "0.001".into()),
        ("price", "10000".into()),
        ("newClientOrderId", client_id.into()),
    ]
}

/// The burst: far more requests than the window allows, and the
/// venue never has to say 429, because the connector waits its turn.
#[test]
fn a_burst_never_meets_a_429() {
    runtime().block_on(async {
        let (server, client) = start(vec![
            RateLimit {
                kind: LimitKind::RequestWeight,
                interval_ms: 1_000,
                limit: 40,
            },
            RateLimit {
                kind: LimitKind::Orders,
                interval_ms: 1_000,
                limit: 8,
            },
        ])
        .await;
        let client = std::sync::Arc::new(client);
        let mut tasks = Vec::new();
        for i in 0..24 {
            let c = client.clone();
            tasks.push(tokio::spawn(async move {
                c.signed(
                    Method::POST,
                    "/api/v3/order",
                    &order(&format!("burst-{i}")),
                    1,
                    1,
                )
                .await
            }));
        }
        for t in tasks {
            let placed = t.await.unwrap();
            assert!(placed.is_ok(), "{placed:?}");
        }
        let open = server
            .shared()
            .with_exchange(|ex| ex.open_orders(0, Some("BTCUSDT")).len());
        assert_eq!(open, 24, "every order placed once");
    });
}

#[test]
fn a_lost_answer_is_unknown_and_the_order_is_found_by_its_id() {
    runtime().block_on(async {
        let (server, client) = start(Vec::new()).await;
        server.shared().inject(PendingFault {
            method: "POST".into(),
            path: "/api/v3/order".into(),
            fault: Fault::ServerError {
                status: 502,
                applied: true,
            },
        });
        let err = client
            .signed(Method::POST, "/api/v3/order", &order("intent-9"), 1, 1)
            .await
            .unwrap_err();
        assert!(matches!(err, RestError::Unknown { .. }), "{err}");
        assert!(err.to_string().contains("query before retrying"));
        let found = client
            .signed(
                Method::GET,
                "/api/v3/order",
                &[
                    ("symbol", "BTCUSDT".into()),
                    ("origClientOrderId", "intent-9".into()),
                ],
                4,
                0,
            )
            .await
            .unwrap();
        assert_eq!(found["status"], "NEW");
    });
}

/// A clock that drifted outside `recvWindow` gets -1021; the client
/// measures the offset again and the request goes through.
#[test]
fn a_drifted_clock_is_measured_again_after_a_1021() {
    runtime().block_on(async {
        let (_server, client) = start(Vec::new()).await;
        client.assume_offset_ms(-60_000);
        let account = client
            .signed(Method::GET, "/api/v3/account", &[], 20, 0)
            .await
            .unwrap();
        assert!(account["balances"].is_array());
        assert!(
            client.clock_offset_ms().abs() < 5_000,
            "{}",
            client.clock_offset_ms()
        );
    });
}

#[test]
fn refusals_carry_binances_code() {
    runtime().block_on(async {
        let (server, _) = start(Vec::new()).await;
        let budget = Budget::unlimited();
        let wrong = RestClient::new(
            &server.rest_url(),
            "k",
            Credentials::Hmac(b"not-s".to_vec()),
            budget,
        );
        let err = wrong
            .signed(Method::GET, "/api/v3/account", &[], 20, 0)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            RestError::Api {
                status: 400,
                code: -1022,
                msg: "Signature for this request is not valid.".into()
            }
        );
    });
}

#[test]
fn ed25519_keys_sign_too() {
    runtime().block_on(async {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        let signing = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let pem = signing
            .verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.pem"), pem).unwrap();
        let config = config().replace("api_secret = \"s\"", "ed25519_public_key = \"key.pem\"");
        std::fs::write(dir.path().join("sim.toml"), config).unwrap();
        let (exchange, api) = SimSetup::load(&dir.path().join("sim.toml"))
            .unwrap()
            .build()
            .unwrap();
        let server = SimServer::start(exchange, api, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let budget = Budget::unlimited();
        let client = RestClient::new(
            &server.rest_url(),
            "k",
            Credentials::Ed25519(signing),
            budget,
        );
        let placed = client
            .signed(Method::POST, "/api/v3/order", &order("ed-1"), 1, 1)
            .await
            .unwrap();
        assert_eq!(placed["clientOrderId"], "ed-1");
    });
}

/// The depth test: a local book fed by the diff stream equals the
/// simulator's book after 100,000 book updates, with the connection
/// dropped twice on the way (each drop costs a resync, not a wrong book).
#[test]
fn the_local_book_equals_the_venues_through_100k_updates_and_drops() {
    use floor_host::exchange::{Fixed, NewOrder, OrderRef};
    use floor_host::model::Side;
    use floor_host::venue::binance::depth::LocalBook;
    use floor_host::venue::binance::feed::{FeedStats, run_depth};
    use std::sync::{Arc, Mutex};

    runtime().block_on(async {
        let (server, client) = start(Vec::new()).await;
        let second = server.shared().with_exchange(|ex| {
            let b = ex.open_account("other", 0, 0);
            ex.deposit(b, "BTC", Fixed::units(1_000_000));
            ex.deposit(b, "USDT", Fixed::units(1_000_000_000));
            ex.deposit(0, "BTC", Fixed::units(1_000_000));
            ex.deposit(0, "USDT", Fixed::units(1_000_000_000));
            b
        });
        let book = Arc::new(Mutex::new(LocalBook::new()));
        let stats = Arc::new(Mutex::new(FeedStats::default()));
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let client = Arc::new(client);
        let feed = {
            let (ws, client, book, stats) =
                (server.ws_url(), client.clone(), book.clone(), stats.clone());
            tokio::spawn(async move { run_depth(&ws, &client, "BTCUSDT", book, stats, stop).await })
        };
        // Wait for the feed to be live before trading.
        while book.lock().unwrap().last_update_id().is_none() {
            server.shared().with_exchange(|ex| {
                let _ = ex.new_order(
                    0,
                    NewOrder::limit("BTCUSDT", Side::Buy, Fixed::units(1), Fixed::units(100)),
                    0,
                );
            });
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // A seeded flow of limits, crossings and cancels from two accounts.
        let mut seed: u64 = 42;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let start_id = server
            .shared()
            .with_exchange(|ex| ex.update_id("BTCUSDT").unwrap());
        let mut open: Vec<(u32, u64)> = Vec::new();
        let mut chunk = 0;
        while server
            .shared()
            .with_exchange(|ex| ex.update_id("BTCUSDT").unwrap())
            < start_id + 100_000
        {
            server.shared().with_exchange(|ex| {
                for _ in 0..500 {
                    let account = if rand(2) == 0 { 0 } else { second };
                    if rand(3) == 0 && !open.is_empty() {
                        let (a, id) = open.swap_remove(rand(open.len() as u64) as usize);
                        let _ = ex.cancel(a, "BTCUSDT", &OrderRef::Id(id), 0);
                        continue;
                    }
                    let side = if rand(2) == 0 { Side::Buy } else { Side::Sell };
                    let price =
                        Fixed((10_000 + rand(400) as i64) * 1_000_000 + 9_900 * 100_000_000);
                    let qty = Fixed((1 + rand(50) as i64) * 100_000);
                    if let Ok(ack) =
                        ex.new_order(account, NewOrder::limit("BTCUSDT", side, qty, price), 0)
                        && !ack.order.state.is_final()
                    {
                        open.push((account, ack.order.order_id));
                    }
                }
            });
            chunk += 1;
            if chunk == 60 || chunk == 140 {
                server.shared().drop_streams();
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let (target, bids, asks) = server
            .shared()
            .with_exchange(|ex| ex.depth("BTCUSDT", 5_000).unwrap());
        // The last diffs leave within 100 ms; wait (generously) for them.
        for _ in 0..600 {
            if book.lock().unwrap().last_update_id() == Some(target) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let local = book.lock().unwrap().clone();
        assert_eq!(
            local.last_update_id(),
            Some(target),
            "the feed caught up with the venue"
        );
        assert_eq!(local.levels(Side::Buy), bids, "bids identical");
        assert_eq!(local.levels(Side::Sell), asks, "asks identical");
        assert!(
            bids.len() > 20 && asks.len() > 20,
            "a deep book: {} bids, {} asks",
            bids.len(),
            asks.len()
        );
        let s = stats.lock().unwrap().clone();
        assert!(s.connects >= 3, "reconnected after each drop: {s:?}");
        assert!(s.snapshots >= 3, "resynchronised after each drop: {s:?}");
        assert_eq!(s.undecodable, 0);
        stop_tx.send(true).unwrap();
        feed.await.unwrap().unwrap();
    });
}

#[test]
fn execution_reports_reach_the_connector_over_the_websocket_api() {
    use floor_host::exchange::{Fixed, NewOrder};
    use floor_host::model::Side;
    use floor_host::venue::binance::user::{decode_report, subscribe};
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    runtime().block_on(async {
        let (server, client) = start(Vec::new()).await;
        server.shared().with_exchange(|ex| {
            let other = ex.open_account("other", 0, 0);
            ex.deposit(other, "BTC", Fixed::units(1));
            ex.new_order(
                other,
                NewOrder::limit(
                    "BTCUSDT",
                    Side::Sell,
                    "0.5".parse().unwrap(),
                    Fixed::units(30_000),
                ),
                0,
            )
            .unwrap();
        });
        let ts = (floor_host::exchange::api::now_ms() as i64 + client.clock_offset_ms()) as u64;
        let wrong = subscribe(
            &server.ws_url(),
            "k",
            &Credentials::Hmac(b"nope".to_vec()),
            ts,
        )
        .await
        .err()
        .unwrap();
        assert!(wrong.contains("-1022"), "{wrong}");
        let mut ws = subscribe(&server.ws_url(), "k", &Credentials::Hmac(b"s".to_vec()), ts)
            .await
            .unwrap();
        let mut params = order("take-1");
        params[2].1 = "MARKET".into();
        params.retain(|(k, _)| *k != "timeInForce" && *k != "price");
        client
            .signed(Method::POST, "/api/v3/order", &params, 1, 1)
            .await
            .unwrap();
        let mut reports = Vec::new();
        while reports.len() < 2 {
            let Some(Ok(Message::Text(t))) = ws.next().await else {
                panic!("the stream ended")
            };
            if let Some(r) = decode_report(&t).unwrap() {
                reports.push(r);
            }
        }
        assert_eq!(
            (reports[0].exec.as_str(), reports[0].status.as_str()),
            ("NEW", "NEW")
        );
        let fill = &reports[1];
        assert_eq!(
            (
                fill.exec.as_str(),
                fill.status.as_str(),
                fill.client_order_id.as_str()
            ),
            ("TRADE", "FILLED", "take-1")
        );
        assert_eq!(
            (fill.last_qty, fill.last_price),
            ("0.001".parse().unwrap(), Fixed::units(30_000))
        );
        assert!(fill.trade_id > 0);
    });
}

mod executor {
    use super::*;
    use floor_host::model::{OrderType, Side, TimeInForce};
    use floor_host::venue::VenueOrder;
    use floor_host::venue::binance::breaker::{Breaker, BreakerState};
    use floor_host::venue::binance::executor::{ExecError, Executor, client_order_id};

    fn intent(n: u64) -> VenueOrder {
        VenueOrder {
            order_id: client_order_id("test-node", &format!("trend-{n}")).into(),
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            quantity: 0.001,
            limit_price: Some(10_000.0),
            time_in_force: TimeInForce::Gtc,
        }
    }

    fn fault(server: &SimServer, status: u16, applied: bool) {
        server.shared().inject(PendingFault {
            method: "POST".into(),
            path: "/api/v3/order".into(),
            fault: Fault::ServerError { status, applied },
        });
    }

    fn orders_named(server: &SimServer, id: &str) -> usize {
        server.shared().with_exchange(|ex| {
            ex.all_orders(0, "BTCUSDT")
                .iter()
                .filter(|o| &*o.client_order_id == id)
                .count()
        })
    }

    #[test]
    fn a_5xx_on_order_entry_never_makes_a_second_order() {
        runtime().block_on(async {
            let (server, client) = start(Vec::new()).await;
            let mut exec = Executor::new(client);
            exec.query_backoff = std::time::Duration::from_millis(10);
            // Carried out, answer lost: found by its id, not sent again.
            fault(&server, 503, true);
            let o = intent(1);
            let placed = exec.place(&o).await.unwrap();
            assert!(placed.recovered);
            assert_eq!(placed.status, "NEW");
            assert_eq!(orders_named(&server, &o.order_id), 1);
            // Not carried out: the venue says so, and it is sent once more.
            fault(&server, 500, false);
            let o = intent(2);
            assert!(exec.place(&o).await.unwrap().recovered);
            assert_eq!(orders_named(&server, &o.order_id), 1);
            // The same intent again (a restart, a retry) is the same order.
            let again = exec.place(&intent(2)).await.unwrap();
            assert!(
                again.recovered,
                "the venue's duplicate refusal leads to the live order"
            );
            assert_eq!(orders_named(&server, &intent(2).order_id), 1);
        });
    }

    /// A 429 on order entry: the executor waits its `Retry-After` and
    /// then places the order once. Sending earlier would have been a 418.
    #[test]
    fn a_429_is_waited_out_and_the_order_placed_once() {
        runtime().block_on(async {
            let (server, client) = start(Vec::new()).await;
            server.shared().inject(PendingFault {
                method: "POST".into(),
                path: "/api/v3/order".into(),
                fault: Fault::TooManyRequests { retry_after_s: 1 },
            });
            let exec = Executor::new(client);
            // The injected 429 binds like a counted one: a send before its
            // Retry-After would be a 418 ban (counted, and fatal to place).
            let placed = exec.place(&intent(20)).await.unwrap();
            assert!(!placed.recovered);
            assert_eq!(server.shared().refusals(), 0, "no 418, no further 429");
            assert_eq!(orders_named(&server, &intent(20).order_id), 1);
        });
    }

    #[test]
    fn the_breaker_opens_half_opens_and_closes_on_the_wire() {
        runtime().block_on(async {
            let (server, client) = start(Vec::new()).await;
            let mut exec = Executor::new(client).with_breaker(Breaker::new(3, 300));
            exec.query_backoff = std::time::Duration::from_millis(10);
            for _ in 0..3 {
                fault(&server, 500, false);
            }
            let first = exec.place(&intent(10)).await.unwrap_err();
            assert!(matches!(first, ExecError::Unresolved { .. }), "{first}");
            // The third failure opens the breaker: the order, known not to
            // be at the venue, is not sent again.
            let second = exec.place(&intent(11)).await.unwrap_err();
            assert!(matches!(second, ExecError::BreakerOpen { .. }), "{second}");
            assert_eq!(orders_named(&server, &intent(11).order_id), 0);
            let refused = exec.place(&intent(12)).await.unwrap_err();
            assert!(
                matches!(refused, ExecError::BreakerOpen { .. }),
                "{refused}"
            );
            assert!(refused.to_string().contains("circuit breaker open"));
            assert_eq!(
                orders_named(&server, &intent(12).order_id),
                0,
                "nothing was sent while open"
            );
            tokio::time::sleep(std::time::Duration::from_millis(350)).await;
            exec.place(&intent(12)).await.unwrap();
            let states: Vec<BreakerState> = exec.take_transitions().iter().map(|t| t.to).collect();
            assert!(matches!(states[0], BreakerState::Open { .. }), "{states:?}");
            assert_eq!(
                &states[1..],
                &[
                    BreakerState::HalfOpen { probing: true },
                    BreakerState::Closed
                ]
            );
        });
    }
}
