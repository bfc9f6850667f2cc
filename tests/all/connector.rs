//! The Binance connector's REST side against the simulator on loopback.

use std::net::SocketAddr;

use floor_host::exchange::api::{Fault, LimitKind, PendingFault, RateLimit, SimServer};
use floor_host::exchange::setup::SimSetup;
use floor_host::venue::binance::limiter::Budget;
use floor_host::venue::binance::rest::{Credentials, RestClient, RestError};
use floor_tests::{runtime, sim_config};
use reqwest::Method;
use serde_json::Value;

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
    let probe = RestClient::new(
        &server.rest_url(),
        "k",
        Credentials::Hmac(b"s".to_vec()),
        Budget::from_exchange_info(&Value::Array(Vec::new())).unwrap(),
    );
    let info = probe
        .public(Method::GET, "/api/v3/exchangeInfo", &[], 20)
        .await
        .unwrap();
    let budget = Budget::from_exchange_info(&info["rateLimits"]).unwrap();
    let client = RestClient::new(
        &server.rest_url(),
        "k",
        Credentials::Hmac(b"s".to_vec()),
        budget,
    );
    client.sync_time().await.unwrap();
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

#[test]
fn refusals_carry_binances_code() {
    runtime().block_on(async {
        let (server, _) = start(Vec::new()).await;
        let budget = Budget::from_exchange_info(&Value::Array(Vec::new())).unwrap();
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
        let budget = Budget::from_exchange_info(&Value::Array(Vec::new())).unwrap();
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
