//! Floor's integration tests, one module per topic (run with `cargo xtask test`).

mod admin;
mod agents;
mod approval;
mod backpressure;
mod backtest;
mod call;
mod config;
mod connector;
mod demo;
mod dlq;
mod hostile;
mod journal;
mod paper;
mod recovery;
mod reference;
mod reliable;
mod replay;
mod request;
mod risk;
mod sandbox;
mod signing;
mod supervisor;
mod swap;
mod templates;
mod trading;
mod venue_sim;
