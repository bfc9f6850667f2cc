//! The `floor` command line.
//!
//! - `floor run [CONFIG] [--for DURATION] [--summary-json PATH]`
//! - `floor call AGENT.wasm [--config KEY=VALUE…] [--input FILE]`
//! - `floor bench [--json PATH]`
//! - `floor dlq list [CONFIG] | replay [CONFIG] --id N…|--all`
//! - `floor venue sim [--port P] [--api-key K --api-secret S] [--config FILE]`
//! - `floor status [CONFIG] [--json]`, `floor halt | reduce | resume [CONFIG]
//!   [--reason R]`: a running host, through its admin API

mod backtest;
mod bench;
mod call;
mod deploy;
mod dlq;
mod journal;
mod news_feed;
mod operator;
mod project;
mod replay;
mod run;
mod sign;
mod venue;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Floor: trading agents as sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "floor", version, about, propagate_version = true)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: venue, agents, risk, order manager.
    Run(run::RunArgs),
    /// Run one agent in isolation on envelopes read as JSON lines.
    Call(call::CallArgs),
    /// Measure the hot paths and print (or write) the figures.
    Bench(bench::BenchArgs),
    /// List or replay the dead-letter queue of a data directory.
    Dlq(dlq::DlqArgs),
    /// What a host's journal holds (`--dump`: every input as JSON lines).
    Journal(journal::JournalArgs),
    /// The config's agents on historical data (CSV): trades, PnL, Sharpe,
    /// drawdown; JSON and an HTML report.
    Backtest(backtest::BacktestArgs),
    /// Re-run a host's recorded sessions and check every order against its
    /// journal (exit 1 at the first divergence).
    Replay(replay::ReplayArgs),
    /// Venues: `floor venue sim` serves the simulated exchange.
    Venue(venue::VenueArgs),
    /// A running host's state: trading, figures, agents.
    Status(operator::StatusArgs),
    /// Stop all trading on a running host and cancel its open orders.
    Halt(operator::TradingArgs),
    /// Let a running host send only orders that shrink positions.
    Reduce(operator::TradingArgs),
    /// Back to normal trading on a running host.
    Resume(operator::TradingArgs),
    /// Send an order intent that waits for a person's approval.
    Approve(operator::ApprovalArgs),
    /// Refuse an order intent that waits for a person's approval.
    Reject(operator::ApprovalArgs),
    /// Publish a headline on a running host (`news.headline.<source>`).
    News(operator::NewsArgs),
    /// Compare a running host's orders and balances with its venue now.
    Reconcile(operator::Target),
    /// Replace an agent in a running host with a new version, without a
    /// restart; a fault on probation rolls it back by itself.
    Deploy(deploy::DeployArgs),
    /// Take an agent in a running host back one version.
    Rollback(deploy::RollbackArgs),
    /// Swap in the version running in an agent's shadow (or stop it).
    Promote(deploy::PromoteArgs),
    /// Scaffold a new agent project from a template.
    New(project::NewArgs),
    /// Build an agent project into a signed component, checked against
    /// this host's world.
    Build(project::BuildArgs),
    /// Make an Ed25519 key pair for signing agents.
    Keygen(sign::KeygenArgs),
    /// Embed a manifest in an agent and sign it (signatures add up).
    Sign(sign::SignArgs),
    /// Check an agent's signatures against trusted keys, as a host would.
    Verify(sign::VerifyArgs),
    /// Show an agent's manifest, signers, hashes, imports and exports.
    Inspect(sign::InspectArgs),
}

/// Entry point of the `floor` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Call(a) => call::call(a),
        Command::Bench(a) => bench::bench(a),
        Command::Dlq(a) => dlq::dlq(a),
        Command::Journal(a) => journal::journal(a),
        Command::Replay(a) => replay::replay(a),
        Command::Backtest(a) => backtest::backtest(a),
        Command::Venue(a) => venue::venue(a),
        Command::Status(a) => operator::status(a),
        Command::Halt(a) => operator::trading(crate::risk::TradingMode::Halted, a),
        Command::Reduce(a) => operator::trading(crate::risk::TradingMode::Reducing, a),
        Command::Resume(a) => operator::trading(crate::risk::TradingMode::Active, a),
        Command::Reconcile(a) => operator::reconcile(a),
        Command::News(a) => operator::news(a),
        Command::Approve(a) => operator::approval(true, a),
        Command::Reject(a) => operator::approval(false, a),
        Command::Deploy(a) => deploy::deploy(a),
        Command::Rollback(a) => deploy::rollback(a),
        Command::Promote(a) => deploy::promote(a),
        Command::New(a) => project::new(a),
        Command::Build(a) => project::build(a),
        Command::Keygen(a) => sign::keygen(a),
        Command::Sign(a) => sign::sign(a),
        Command::Verify(a) => sign::verify(a),
        Command::Inspect(a) => sign::inspect(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
