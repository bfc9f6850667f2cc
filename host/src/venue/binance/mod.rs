//! The Binance spot connector. It speaks to Binance and to `floor venue
//! sim` alike; [`BinanceVenue`] is what the node drives.
//!
//! - [`rest::RestClient`]: signed calls within [`limiter::Budget`], the
//!   venue's rate-limit windows, with answers sorted (refused, rate
//!   limited, banned, unknown outcome);
//! - [`executor::Executor`]: the one outbound order pipe, with the
//!   order-entry [`breaker::Breaker`] and lost answers settled by query;
//! - [`user`]: user data over the WebSocket API; [`tracker::Tracker`]
//!   makes stream and REST reconciliation exactly-once;
//! - [`decode`], [`depth`], [`feed`]: market data and the depth-sync
//!   procedure;
//! - [`connector`]: all of it behind the node's `Venue` trait; `audit`
//!   looks for ghost orders and sends balance snapshots.

mod audit;
pub mod breaker;
pub mod connector;
pub mod decode;
pub mod depth;
pub mod executor;
pub mod feed;
pub mod limiter;
pub mod rest;
pub mod tracker;
pub mod user;

pub use connector::{BinanceVenue, ConnectError, ConnectorConfig, ConnectorStats};
