//! Floor's integration tests, one module per topic (run with `cargo xtask test`).

mod call;
mod config;
mod demo;
mod hostile;
mod sandbox;
