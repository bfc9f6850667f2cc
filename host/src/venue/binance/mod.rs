//! The Binance spot connector (in progress). [`limiter::Budget`] mirrors
//! the venue's rate-limit windows; [`breaker::Breaker`] stops calling an
//! endpoint group that keeps failing; [`rest::RestClient`] makes signed
//! calls within the budget and sorts the answers (refused, rate limited,
//! banned, unknown outcome). The WebSocket clients (depth sync, user data)
//! come next. All of it speaks to Binance and to `floor venue sim` alike.

pub mod breaker;
pub mod decode;
pub mod depth;
pub mod executor;
pub mod feed;
pub mod limiter;
pub mod rest;
pub mod user;
