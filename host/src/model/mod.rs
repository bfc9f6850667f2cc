//! Plain trading types shared by every layer of the host. Nothing here knows
//! about WebAssembly, sockets or files: these are the values the journal,
//! the bus, the venues and the order manager pass around.
//!
//! The JSON forms (serde) are the ones `floor call` reads and writes and the
//! dead-letter queue stores; `docs/json.md` shows them.

mod account;
pub mod clock;
mod envelope;
pub mod fixed;
mod market;
mod name;
mod order;
mod reason;
mod topic;

pub use account::{Balance, Position};
pub use envelope::{Envelope, News, Output, Payload, Signal, Timer};
pub use fixed::Fixed;
pub use market::{Book, Level, MarketEvent, Quote, Trade};
pub use name::{Interner, Key, Name, same};
pub use order::{
    ExecutionReport, OpenOrder, OrderEvent, OrderIntent, OrderStatus, OrderType, RiskVerdict, Side,
    TimeInForce,
};
pub use reason::ReasonCode;
pub use topic::{TopicError, TopicPattern, validate_topic};

/// Event time: nanoseconds since the Unix epoch.
pub type Nanos = u64;
