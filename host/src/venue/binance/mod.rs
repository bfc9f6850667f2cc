//! The Binance spot connector (in progress): the pieces that decide when a
//! request may go. [`limiter::Budget`] mirrors the venue's rate-limit
//! windows; [`breaker::Breaker`] stops calling an endpoint group that keeps
//! failing. The REST and WebSocket clients that use them come next; they
//! speak to Binance and to `floor venue sim` alike.

pub mod breaker;
pub mod limiter;
