//! The WebAssembly runtime: wasmtime configured for many small, untrusted,
//! metered components. It knows nothing of trading; `agent` builds the
//! `floor:agent` world on top of it.
//!
//! - [`engine`]: one [`Runtime`] per host — engine, pooling allocator,
//!   fuel, and the epoch ticker that enforces wall-clock deadlines.
//! - [`cache`]: compiled components on disk, keyed by content hash.
//! - [`limits`]: per-call and per-instance limits and the memory limiter.
//! - [`fault`]: what went wrong in a call, in the host's reason codes.

pub mod cache;
pub mod engine;
pub mod fault;
pub mod limits;

pub use cache::{CacheError, ComponentCache, Loaded};
pub use engine::{Runtime, RuntimeConfig};
pub use fault::{Fault, FaultKind};
pub use limits::{Limits, MemoryLimiter};
