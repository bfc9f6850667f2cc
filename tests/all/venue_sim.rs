//! The simulated exchange over Binance's protocol, on loopback: a real
//! Binance client library (python-binance, from PyPI) against `floor venue
//! sim`, and raw signed requests against an in-process server for what a
//! library hides (signatures, limits, injected faults).

use std::net::SocketAddr;
use std::process::Command;

use floor_host::exchange::api::auth::hmac_hex;
use floor_host::exchange::api::{ApiConfig, Fault, LimitKind, PendingFault, RateLimit, SimServer};
use floor_host::exchange::setup::SimSetup;
use floor_tests::{SimProcess, runtime, sim_config, workspace};
use serde_json::Value;

fn two_accounts() -> String {
    sim_config(&[
        ("maker", "maker-key", "maker-secret"),
        ("taker", "taker-key", "taker-secret"),
    ])
}

#[test]
fn python_binance_trades_on_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sim.toml");
    std::fs::write(&config, two_accounts()).unwrap();
    let sim = SimProcess::start(Some(&config));
    let out = Command::new("python3")
        .arg(workspace().join("tests/python/binance_client.py"))
        .args([
            &sim.url,
            "maker-key",
            "maker-secret",
            "taker-key",
            "taker-secret",
        ])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-binance against the simulator failed:\n{stderr}\n\
         (it needs `pip install -r tests/python/requirements.txt`, which `cargo xtask test` runs)"
    );
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let summary: Value = serde_json::from_str(&last).expect("a JSON summary line");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["trades"], 1);
}

/// A signed-request client as a Binance connector builds one.
struct Signed {
    http: reqwest::Client,
    base: String,
    key: &'static str,
    secret: &'static [u8],
}

impl Signed {
    fn query(&self, params: &str) -> String {
        let ts = floor_host::exchange::api::now_ms();
        let payload = if params.is_empty() {
            format!("timestamp={ts}")
        } else {
            format!("{params}&timestamp={ts}")
        };
        let sig = hmac_hex(self.secret, &payload);
        format!("{payload}&signature={sig}")
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let url = format!("{}{path}?{}", self.base, self.query(params));
        let r = self
            .http
            .request(method, url)
            .header("X-MBX-APIKEY", self.key)
            .send()
            .await
            .expect("the server answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.json().await.expect("a JSON body"))
    }
}

async fn server(limits: Vec<RateLimit>) -> SimServer {
    let setup: SimSetup = SimSetup::parse(&two_accounts()).unwrap();
    let (exchange, mut api): (_, ApiConfig) = setup.build().unwrap();
    if !limits.is_empty() {
        api.limits = limits;
    }
    SimServer::start(exchange, api, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

fn maker(server: &SimServer) -> Signed {
    Signed {
        http: reqwest::Client::new(),
        base: server.rest_url(),
        key: "maker-key",
        secret: b"maker-secret",
    }
}

#[test]
fn the_default_simulator_has_a_live_market() {
    runtime().block_on(async {
        let (exchange, api) = SimSetup::default().build().unwrap();
        let server = SimServer::start(exchange, api, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let get = |path: &str| http.get(format!("{}{path}", server.rest_url())).send();
        // The generator steps every 100 ms; wait (generously) for trades.
        let mut price = 0.0;
        for _ in 0..300 {
            let t: Value = get("/api/v3/ticker/price?symbol=BTCUSDT")
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            price = t["price"].as_str().unwrap().parse().unwrap();
            if price > 0.0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!((25_000.0..35_000.0).contains(&price), "last price {price}");
        let depth: Value = get("/api/v3/depth?symbol=ETHUSDT&limit=5")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(depth["bids"].as_array().unwrap().len(), 5, "{depth}");
        assert_eq!(depth["asks"].as_array().unwrap().len(), 5, "{depth}");
    });
}

#[test]
fn signed_requests_are_checked_as_binance_checks_them() {
    runtime().block_on(async {
        let server = server(Vec::new()).await;
        let c = maker(&server);
        let (status, headers, body) = c.send(reqwest::Method::GET, "/api/v3/account", "").await;
        assert_eq!(status, 200, "{body}");
        assert!(headers.contains_key("x-mbx-used-weight-1m"));
        assert_eq!(body["balances"].as_array().unwrap().len(), 2);

        let http = reqwest::Client::new();
        let url = format!("{}/api/v3/account?{}", server.rest_url(), c.query(""));
        let no_key = http.get(&url).send().await.unwrap();
        assert_eq!(no_key.status().as_u16(), 401);
        assert_eq!(no_key.json::<Value>().await.unwrap()["code"], -2014);
        let bad_key = http
            .get(&url)
            .header("X-MBX-APIKEY", "nobody")
            .send()
            .await
            .unwrap();
        assert_eq!(bad_key.json::<Value>().await.unwrap()["code"], -2015);
        let forged = url.replace("timestamp=", "recvWindow=6000&timestamp=");
        let r = http
            .get(&forged)
            .header("X-MBX-APIKEY", "maker-key")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        assert_eq!(
            r.json::<Value>().await.unwrap()["code"],
            -1022,
            "a changed query breaks the signature"
        );
        let old = format!("timestamp={}", floor_host::exchange::api::now_ms() - 10_000);
        let stale = format!(
            "{}/api/v3/account?{old}&signature={}",
            server.rest_url(),
            hmac_hex(b"maker-secret", &old)
        );
        let r = http
            .get(&stale)
            .header("X-MBX-APIKEY", "maker-key")
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["code"], -1021);
    });
}

#[test]
fn over_the_limits_the_answer_is_429_then_418() {
    runtime().block_on(async {
        // An hour-long window: it will not turn during the test.
        let server = server(vec![
            RateLimit {
                kind: LimitKind::RequestWeight,
                interval_ms: 3_600_000,
                limit: 30,
            },
            RateLimit {
                kind: LimitKind::Orders,
                interval_ms: 3_600_000,
                limit: 2,
            },
        ])
        .await;
        let c = maker(&server);
        for n in 1..=2 {
            let (status, headers, body) = c
                .send(
                    reqwest::Method::POST,
                    "/api/v3/order",
                    "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000",
                )
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(headers["x-mbx-order-count-1h"], n.to_string().as_str());
        }
        let (status, _, body) = c
            .send(
                reqwest::Method::POST,
                "/api/v3/order",
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000",
            )
            .await;
        assert_eq!(
            (status, body["code"].as_i64()),
            (429, Some(-1015)),
            "{body}"
        );
        // Weight: the account query weighs 20, so the second one is over 30.
        let (status, headers, _) = c.send(reqwest::Method::GET, "/api/v3/account", "").await;
        assert_eq!(status, 200);
        // Two orders at 1 each (the refused one is not counted) + 20.
        assert_eq!(headers["x-mbx-used-weight-1h"], "22");
        let (status, headers, body) = c.send(reqwest::Method::GET, "/api/v3/account", "").await;
        assert_eq!(
            (status, body["code"].as_i64()),
            (429, Some(-1003)),
            "{body}"
        );
        let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3_600).contains(&retry), "{retry}");
        // Ignoring Retry-After gets the client banned.
        let (status, headers, _) = c.send(reqwest::Method::GET, "/api/v3/ping", "").await;
        assert_eq!(status, 418);
        assert_eq!(headers["retry-after"], "120");
    });
}

#[test]
fn an_order_whose_answer_is_lost_still_exists() {
    runtime().block_on(async {
        let server = server(Vec::new()).await;
        server.shared().inject(PendingFault {
            method: "POST".into(),
            path: "/api/v3/order".into(),
            fault: Fault::ServerError { status: 503, applied: true },
        });
        let c = maker(&server);
        let order = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000&newClientOrderId=intent-1";
        let (status, _, body) = c.send(reqwest::Method::POST, "/api/v3/order", order).await;
        assert_eq!((status, body["code"].as_i64()), (503, Some(-1000)));
        // Unknown status: the order must be looked up, not sent again.
        let (status, _, body) = c.send(reqwest::Method::GET, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=intent-1").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "NEW");
        // And sending it again with the same client id is refused.
        let (status, _, body) = c.send(reqwest::Method::POST, "/api/v3/order", order).await;
        assert_eq!((status, body["code"].as_i64()), (400, Some(-2010)), "{body}");
        assert_eq!(body["msg"], "Duplicate order sent.");
    });
}

#[test]
fn cancel_replace_reports_both_halves() {
    runtime().block_on(async {
        let server = server(Vec::new()).await;
        let c = maker(&server);
        let (_, _, placed) = c.send(reqwest::Method::POST, "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=10000").await;
        let id = placed["orderId"].as_u64().unwrap();
        let replace = format!("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.002&price=10001&cancelReplaceMode=STOP_ON_FAILURE&cancelOrderId={id}");
        let (status, _, body) = c.send(reqwest::Method::POST, "/api/v3/order/cancelReplace", &replace).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["cancelResult"], "SUCCESS");
        assert_eq!(body["cancelResponse"]["status"], "CANCELED");
        assert_eq!(body["newOrderResponse"]["price"], "10001.00000000");
        // The same cancel again fails, and STOP_ON_FAILURE does not place.
        let (status, _, body) = c.send(reqwest::Method::POST, "/api/v3/order/cancelReplace", &replace).await;
        assert_eq!((status, body["code"].as_i64()), (400, Some(-2022)), "{body}");
        assert_eq!(body["data"]["cancelResponse"]["code"], -2011);
        assert_eq!(body["data"]["newOrderResult"], "NOT_ATTEMPTED");
        let (_, _, open) = c.send(reqwest::Method::GET, "/api/v3/openOrders", "symbol=BTCUSDT").await;
        assert_eq!(open.as_array().unwrap().len(), 1);
    });
}

mod streams {
    use super::*;
    use floor_host::exchange::{Fixed, NewOrder};
    use floor_host::model::Side;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    /// The next text message whose stream (combined form) is `stream`.
    async fn next_of(ws: &mut Ws, stream: &str) -> Value {
        for _ in 0..1_000 {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
                .await
                .expect("a message within 30 s")
                .expect("the stream is open")
                .expect("a good frame");
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["stream"] == stream {
                    return v["data"].clone();
                }
            }
        }
        panic!("no message on {stream}");
    }

    #[test]
    fn trades_tickers_and_depth_diffs_stream_as_binance_sends_them() {
        runtime().block_on(async {
            let server = server(Vec::new()).await;
            let url = format!(
                "{}/stream?streams=btcusdt@trade/btcusdt@bookTicker/btcusdt@depth@100ms",
                server.ws_url()
            );
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let (before, _, _) = server
                .shared()
                .with_exchange(|ex| ex.depth("BTCUSDT", 5))
                .unwrap();
            let f = |x: &str| x.parse::<Fixed>().unwrap();
            server.shared().with_exchange(|ex| {
                ex.new_order(
                    0,
                    NewOrder::limit("BTCUSDT", Side::Sell, f("0.5"), f("30000")),
                    1,
                )
                .unwrap();
                ex.new_order(
                    1,
                    NewOrder::limit("BTCUSDT", Side::Buy, f("0.2"), f("30000")),
                    2,
                )
                .unwrap();
            });
            let trade = next_of(&mut ws, "btcusdt@trade").await;
            assert_eq!(trade["e"], "trade");
            assert_eq!(trade["s"], "BTCUSDT");
            assert_eq!(
                (trade["p"].as_str(), trade["q"].as_str()),
                (Some("30000.00000000"), Some("0.20000000"))
            );
            assert_eq!(trade["m"], false, "the buyer took");
            let ticker = next_of(&mut ws, "btcusdt@bookTicker").await;
            assert_eq!(ticker["a"], "30000.00000000");
            let depth = next_of(&mut ws, "btcusdt@depth@100ms").await;
            assert_eq!(depth["e"], "depthUpdate");
            assert_eq!(
                depth["U"].as_u64(),
                Some(before + 1),
                "diffs start right after the snapshot"
            );
            assert_eq!(
                depth["a"],
                serde_json::json!([["30000.00000000", "0.30000000"]])
            );

            // Subscribe and list over the same connection.
            ws.send(Message::Text(
                r#"{"method":"SUBSCRIBE","params":["btcusdt@depth5@100ms"],"id":7}"#.into(),
            ))
            .await
            .unwrap();
            ws.send(Message::Text(
                r#"{"method":"LIST_SUBSCRIPTIONS","id":8}"#.into(),
            ))
            .await
            .unwrap();
            ws.send(Message::Text(
                r#"{"method":"SUBSCRIBE","params":["nosuch@trade"],"id":9}"#.into(),
            ))
            .await
            .unwrap();
            let mut replies = Vec::new();
            while replies.len() < 3 {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        if v.get("id").is_some() {
                            replies.push(v);
                        }
                    }
                    Some(Ok(_)) => {}
                    other => panic!("the stream ended before the replies: {other:?}"),
                }
            }
            assert_eq!(replies[0], serde_json::json!({"result": null, "id": 7}));
            assert_eq!(replies[1]["result"].as_array().unwrap().len(), 4);
            assert_eq!(replies[2]["error"]["code"], 2);
            let partial = next_of(&mut ws, "btcusdt@depth5@100ms").await;
            assert_eq!(
                partial["asks"],
                serde_json::json!([["30000.00000000", "0.30000000"]])
            );

            // A dropped connection is closed, not left hanging.
            server.shared().drop_streams();
            let end = tokio::time::timeout(std::time::Duration::from_secs(30), async {
                loop {
                    match ws.next().await {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                        _ => {}
                    }
                }
            })
            .await;
            assert!(end.is_ok(), "the connection ended");
        });
    }
}

mod user_data {
    use super::*;
    use floor_host::exchange::api::user::{ReportFaults, ws_payload};
    use floor_host::exchange::{Fixed, NewOrder};
    use floor_host::model::Side;
    use futures_util::{SinkExt, StreamExt};
    use std::collections::BTreeMap;
    use tokio_tungstenite::tungstenite::Message;

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn next_json(ws: &mut Ws) -> Value {
        loop {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
                .await
                .expect("a message within 30 s")
                .expect("open")
                .expect("a good frame");
            if let Message::Text(t) = msg {
                return serde_json::from_str(&t).unwrap();
            }
        }
    }

    fn subscribe_request(secret: &[u8], tamper: bool) -> String {
        let mut p = BTreeMap::new();
        p.insert("apiKey".to_string(), "maker-key".to_string());
        p.insert(
            "timestamp".to_string(),
            floor_host::exchange::api::now_ms().to_string(),
        );
        let sig = hmac_hex(secret, &ws_payload(&p));
        p.insert(
            "signature".to_string(),
            // Flip the first hex digit: always a different signature (a
            // `replace('a', …)` does nothing to the 1 in 60 without an `a`).
            if tamper {
                let first = if sig.starts_with('0') { '1' } else { '0' };
                format!("{first}{}", &sig[1..])
            } else {
                sig
            },
        );
        serde_json::json!({"id": "s1", "method": "userDataStream.subscribe.signature", "params": p})
            .to_string()
    }

    #[test]
    fn execution_reports_arrive_over_the_websocket_api() {
        runtime().block_on(async {
            let server = server(Vec::new()).await;
            let (mut ws, _) =
                tokio_tungstenite::connect_async(format!("{}/ws-api/v3", server.ws_url()))
                    .await
                    .unwrap();
            ws.send(Message::Text(
                subscribe_request(b"maker-secret", true).into(),
            ))
            .await
            .unwrap();
            let refused = next_json(&mut ws).await;
            assert_eq!(
                (
                    refused["status"].as_u64(),
                    refused["error"]["code"].as_i64()
                ),
                (Some(400), Some(-1022)),
                "{refused}"
            );
            ws.send(Message::Text(
                subscribe_request(b"maker-secret", false).into(),
            ))
            .await
            .unwrap();
            let ok = next_json(&mut ws).await;
            assert_eq!(ok["result"]["subscriptionId"], 0, "{ok}");

            let f = |x: &str| x.parse::<Fixed>().unwrap();
            server.shared().with_exchange(|ex| {
                ex.new_order(
                    0,
                    NewOrder::limit("BTCUSDT", Side::Sell, f("0.5"), f("30000")).client_id("ask-1"),
                    1,
                )
                .unwrap();
                // The taker's events are not the maker's business.
                ex.new_order(
                    1,
                    NewOrder::limit("BTCUSDT", Side::Buy, f("0.2"), f("30000")),
                    2,
                )
                .unwrap();
            });
            let new = next_json(&mut ws).await;
            assert_eq!(new["subscriptionId"], 0);
            let e = &new["event"];
            assert_eq!(
                (
                    e["e"].as_str(),
                    e["x"].as_str(),
                    e["X"].as_str(),
                    e["c"].as_str()
                ),
                (
                    Some("executionReport"),
                    Some("NEW"),
                    Some("NEW"),
                    Some("ask-1")
                )
            );
            let balances = next_json(&mut ws).await;
            assert_eq!(balances["event"]["e"], "outboundAccountPosition");
            let trade = next_json(&mut ws).await;
            let e = &trade["event"];
            assert_eq!(
                (e["x"].as_str(), e["X"].as_str()),
                (Some("TRADE"), Some("PARTIALLY_FILLED"))
            );
            assert_eq!(
                (e["l"].as_str(), e["L"].as_str(), e["z"].as_str()),
                (
                    Some("0.20000000"),
                    Some("30000.00000000"),
                    Some("0.20000000")
                )
            );
            assert_eq!(
                (e["m"].as_bool(), e["N"].as_str(), e["n"].as_str()),
                (Some(true), Some("USDT"), Some("6.00000000"))
            );
            let after = next_json(&mut ws).await;
            assert_eq!(after["event"]["e"], "outboundAccountPosition");
            let btc = after["event"]["B"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["a"] == "BTC")
                .unwrap()
                .clone();
            assert_eq!(
                (btc["f"].as_str(), btc["l"].as_str()),
                (Some("9.50000000"), Some("0.30000000"))
            );

            // A duplicating stream sends each report twice; the ids say so.
            server.shared().set_report_faults(ReportFaults {
                duplicate: true,
                ..ReportFaults::default()
            });
            server.shared().with_exchange(|ex| {
                ex.cancel(
                    0,
                    "BTCUSDT",
                    &floor_host::exchange::OrderRef::Client("ask-1".into()),
                    3,
                )
                .unwrap()
            });
            let a = next_json(&mut ws).await;
            let b = next_json(&mut ws).await;
            assert_eq!(a, b);
            assert_eq!(a["event"]["X"], "CANCELED");
        });
    }
}
