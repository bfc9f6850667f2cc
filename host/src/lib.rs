//! Floor's host: runs trading agents as sandboxed WebAssembly components.
//!
//! The host owns everything with side effects — exchange I/O, the bus,
//! time, limits — and agents only decide. See `../shared/DESIGN.md` in the
//! project for the invariants; this crate is their implementation.
//!
//! # Layout
//!
//! Dependencies point inward: `cli` → `node` → {`venue`, `oms`, `risk`,
//! `agent`} → {`bus`, `runtime`, `journal`} → `model`.
//!
//! - [`model`]: plain trading types (no wasmtime).
//! - [`runtime`]: wasmtime engine, compile cache, limits, fault
//!   classification (no trading).
//! - [`agent`]: the `floor:agent` world on the runtime: imports, rights,
//!   instance lifecycle.
//! - [`bus`]: topic routing between agents and the host.
//! - [`venue`]: the venue interface and the simulated venue (no WASM).
//! - [`oms`]: orders and the portfolio.
//! - [`risk`]: the host's hard limits, applied after the risk agents.
//! - [`journal`]: the append-only, checksummed log of every input (the
//!   host's single truth; its reader survives torn tails).
//! - [`dlq`]: the dead-letter queue.
//! - [`store`]: orders, fills, dead letters and the audit trail in SQLite.
//! - [`exchange`]: the simulated exchange (matching engine, accounts,
//!   Binance's order types and error codes; no WASM, no agents).
//! - [`news`]: headlines — what a valid one is, and the news file that
//!   feeds a run or a backtest.
//! - [`config`]: the TOML config, validated as a whole.
//! - [`signing`]: signed artifacts — manifests, keys, the trust store.
//! - [`node`]: wires it all into a running host.
//! - [`replay`]: a recorded session re-run and checked against its journal.
//! - [`backtest`]: the same agents and host on historical data.
//! - [`scaffold`]: agent projects — `floor new` and `floor build`.
//! - [`admin`]: the admin API of a running host (loopback, token).
//! - [`cli`]: the `floor` command line.
//! - [`bench`]: the measurement harness behind `floor bench` and `benches/`.

pub mod admin;
pub mod agent;
pub mod backtest;
pub mod bench;
pub mod bus;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod dlq;
pub mod exchange;
pub mod journal;
pub mod model;
pub mod news;
pub mod node;
pub mod oms;
pub mod replay;
pub mod risk;
pub mod runtime;
pub mod scaffold;
pub mod signing;
pub mod store;
pub mod venue;
