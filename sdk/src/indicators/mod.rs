//! Technical indicators with O(1) updates and serialisable state, so an
//! agent can snapshot them for hot swap.

mod ema;
mod rsi;
mod sma;

pub use ema::Ema;
pub use rsi::Rsi;
pub use sma::Sma;
