//! The admin API: how people and tools reach a running host.
//!
//! HTTP with JSON bodies on loopback, every request authenticated with a
//! bearer token. It is the one door for operator commands — `floor
//! status`, `floor halt | reduce | resume`, `floor dlq replay --host` —
//! and hands each to the node's thread as an
//! [`Operation`](crate::node::operator::Operation), so commands are
//! ordered with market data and fills instead of racing them.
//!
//! Why loopback only: the API can halt trading and re-deliver messages,
//! and it has no TLS, so a token on the wire to another machine could be
//! read. Remote operators use an SSH tunnel. The config refuses any other
//! address.
//!
//! - [`token`]: the bearer token (a file with mode 0600).
//! - [`server`]: the axum routes, started by `floor run`.
//! - [`client`]: what the CLI uses; finds a host through the data
//!   directory's `admin.json`.
//!
//! Endpoints (all need `Authorization: Bearer <token>`):
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | GET | `/v1/status` | – | the run summary so far, `open_orders`, `event_time_ns` |
//! | POST | `/v1/trading` | `{"state": "halted"\|"reducing"\|"active", "reason": "…"}` | `{"from", "to", "reason"}` |
//! | POST | `/v1/reconcile` | – | `{"requested": true}`; findings arrive as `venue.reconcile.*` notices |
//! | POST | `/v1/news` | `{"headline": "…", "source": "wire", "symbols": ["BTCUSDT"]}` (`symbols` optional) | `{"topic": "news.headline.wire", "event_time_ns"}` |
//! | POST | `/v1/dlq/replay` | `{"ids": [1, 2]}` or `{"all": true, "agent": "trend"}` | one outcome per entry |
//!
//! Errors are `{"error": "…"}` with 400 (a bad request: the message says
//! what to change), 401 (token), 503 (the node has stopped) or 504 (the
//! node did not answer within 10 s).

pub mod client;
pub mod server;
pub mod token;

pub use client::Client;
pub use server::{Discovery, serve};
pub use token::Token;
