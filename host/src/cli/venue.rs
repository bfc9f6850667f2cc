//! `floor venue sim`: the simulated exchange, served over Binance's spot
//! protocol until Ctrl-C.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::exchange::api::SimServer;
use crate::exchange::setup::SimSetup;

/// Arguments of `floor venue`.
#[derive(Debug, Args)]
pub struct VenueArgs {
    #[command(subcommand)]
    command: VenueCommand,
}

#[derive(Debug, Subcommand)]
enum VenueCommand {
    /// Serve the simulated exchange over Binance's spot protocol (REST on
    /// loopback); prints the URLs it serves.
    Sim(SimArgs),
}

#[derive(Debug, Args)]
struct SimArgs {
    /// Port (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind; loopback unless you mean to expose it (no TLS).
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// API key of the first account (replaces the config's).
    #[arg(long, requires = "api_secret")]
    api_key: Option<String>,
    /// HMAC secret of the first account.
    #[arg(long, requires = "api_key")]
    api_secret: Option<String>,
    /// Simulator config (symbols, accounts, limits); see docs/venue.md.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub(super) fn venue(args: VenueArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        VenueCommand::Sim(a) => sim(a),
    }
}

fn sim(args: SimArgs) -> anyhow::Result<ExitCode> {
    let mut setup = match &args.config {
        Some(p) => SimSetup::load(p)?,
        None => SimSetup::default(),
    };
    if let (Some(key), Some(secret)) = (args.api_key, args.api_secret) {
        let first = setup.accounts.first_mut().ok_or_else(|| {
            anyhow::anyhow!("--api-key needs an account in the config to attach to")
        })?;
        first.api_key = key;
        first.api_secret = Some(secret);
        first.ed25519_public_key = None;
    }
    let (exchange, api) = setup.build()?;
    if !args.host.is_loopback() {
        eprintln!(
            "warning: serving on {} without TLS; anyone who can reach it can trade on it",
            args.host
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let server = SimServer::start(exchange, api, SocketAddr::new(args.host, args.port)).await?;
        // Whoever started us may stop reading stdout; the server goes on.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "rest {}", server.rest_url());
        let _ = writeln!(out, "ws {}/ws", server.ws_url());
        for a in &setup.accounts {
            let _ = writeln!(out, "account {} key {}", a.name, a.api_key);
        }
        let _ = writeln!(out, "serving until Ctrl-C");
        let _ = out.flush();
        drop(out);
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
