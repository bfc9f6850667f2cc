//! `floor run`: a node with a status line every second and a summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::config::{NodeConfig, VenueKind};
use crate::node::connect::venue_for;
use crate::node::{Node, RunOptions, Summary};

/// Arguments of `floor run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Config file; without one, the built-in demo (examples/demo.toml).
    config: Option<PathBuf>,
    /// Stop after this long (e.g. `10s`, `2m`); default: until Ctrl-C.
    #[arg(long = "for", value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// Stop after this many market events.
    #[arg(long)]
    events: Option<u64>,
    /// Write the final summary as JSON here.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Run as fast as possible instead of pacing to the wall clock
    /// (the synthetic venue only: a real or simulated exchange runs in
    /// real time).
    #[arg(long)]
    fast: bool,
    /// Trade on this venue instead of the config's: `sim`, `binance` or
    /// `synthetic` (e.g. `--venue synthetic --fast` for a quick what-if).
    #[arg(long, value_parser = VenueKind::parse)]
    venue: Option<VenueKind>,
    /// Keep the journal, the store and the dead letters here instead of
    /// the config's `[node] data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Start from the config's balances with no open orders, instead of
    /// carrying on from the state the last run on this data directory
    /// left (the journal is kept; order ids still continue after it).
    /// Runs on the in-process `sim` and `synthetic` venues always start
    /// fresh: their market and account start empty with the host.
    #[arg(long)]
    fresh: bool,
    /// No status line.
    #[arg(long, short)]
    quiet: bool,
    /// Development mode: deploy an agent's component when its file in this
    /// folder changes (the agent's configured path, or `<agent name>.wasm`).
    #[arg(long, value_name = "DIR")]
    watch: Option<PathBuf>,
    /// Development: run unsigned agents (or ones signed by unknown keys),
    /// with a warning; as `[trust] dev = true`.
    #[arg(long)]
    dev: bool,
}

/// The state the last run on `data_dir` left, said on stderr.
fn recover(
    data_dir: &std::path::Path,
) -> anyhow::Result<Option<crate::replay::recover::Recovered>> {
    let recovered = crate::replay::recover::recover(data_dir).with_context(|| {
        format!(
            "cannot recover the state of the last run on `{}`; `floor run --fresh` starts from the config instead (the journal is kept)",
            data_dir.display()
        )
    })?;
    if let Some(r) = &recovered {
        let open = r.state.oms.open.len();
        eprintln!(
            "floor: carrying on from session {} ({} record(s) replayed in {} ms): {} open order(s) to reconcile with the venue, trading {}{}",
            r.session,
            r.replayed,
            r.took_ms,
            open,
            r.state.trading.mode().name(),
            if r.unsent > 0 {
                format!(
                    "; {} order(s) it decided but never sent are rejected as not_sent",
                    r.unsent
                )
            } else {
                String::new()
            }
        );
        if let Some(d) = &r.divergence {
            eprintln!(
                "floor: WARNING: recovery could not follow the journal past record {} ({}); the state is as of there",
                d.seq, d.replayed
            );
        }
    }
    Ok(recovered)
}

pub(super) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = match &args.config {
        Some(p) => NodeConfig::load(p)?,
        None => NodeConfig::demo()?,
    };
    if args.dev {
        cfg.trust.dev = true;
    }
    if let Some(dir) = &args.data_dir {
        cfg.data_dir.clone_from(dir);
    }
    if cfg.trust.dev {
        eprintln!(
            "floor: WARNING: development mode ([trust] dev = true or --dev): unsigned agents run; never trade real money like this"
        );
    }
    let kind = args.venue.unwrap_or(cfg.venue.kind);
    if args.fast && kind != VenueKind::Synthetic {
        anyhow::bail!(
            "--fast needs the synthetic venue (`--venue synthetic`): the `{}` venue runs in real time",
            kind.name()
        );
    }
    let recovered = if cfg.journal.is_some() && !args.fresh && kind.outlives_host() {
        recover(&cfg.data_dir)?
    } else {
        None
    };
    let venue = venue_for(&cfg, kind)
        .with_context(|| format!("cannot start the `{}` venue", kind.name()))?;
    let mut node = Node::start(&cfg, venue, recovered.as_ref().map(|r| &r.state))?;
    let opts = RunOptions {
        duration: args.duration,
        max_events: args.events,
        events_per_second: if kind != VenueKind::Synthetic || args.fast || !cfg.venue.realtime {
            0
        } else {
            cfg.venue.events_per_second
        },
    };
    let stats = node.stats();
    let stop = Arc::new(AtomicBool::new(false));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Listen for Ctrl-C and SIGTERM before anything announces the host
    // (admin.json): a signal that arrives early still stops it cleanly.
    let (mut sigint, mut sigterm) = {
        use tokio::signal::unix::{SignalKind, signal};
        let _guard = rt.enter();
        (
            signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?,
            signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
        )
    };
    let (calls_tx, calls_rx) = std::sync::mpsc::channel();
    if let Some(dir) = &args.watch {
        let agents: Vec<(String, PathBuf)> = cfg
            .agents
            .iter()
            .map(|a| (a.name.clone(), a.path.clone()))
            .collect();
        super::watch::spawn(
            dir,
            &agents,
            node.preparer(),
            calls_tx.clone(),
            stop.clone(),
        )?;
    }
    if let Some(news) = &cfg.news {
        super::news_feed::spawn(news, calls_tx.clone(), stop.clone())?;
    }
    let admin = if cfg.admin.enabled {
        Some(start_admin(&rt, &cfg, calls_tx, node.preparer())?)
    } else {
        None
    };
    let (tx, mut rx) = tokio::sync::oneshot::channel::<Summary>();
    let worker = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("floor-node".into())
            .spawn(move || {
                let summary = crate::node::run(&mut node, &opts, &stop, Some(&calls_rx));
                let _ = tx.send(summary);
            })
            .context("cannot start the node thread")?
    };
    let names: Vec<String> = cfg.agents.iter().map(|a| a.name.clone()).collect();
    eprintln!(
        "floor: {} agent(s) [{}] on venue `{}` with {} symbol(s); Ctrl-C stops",
        names.len(),
        names.join(", "),
        kind.name(),
        cfg.symbols.len()
    );
    if let Some(url) = &admin {
        eprintln!("floor: admin API on {url} (`floor status`, `floor halt` find it)");
    }
    let summary = rt.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        let mut last = 0u64;
        let mut interrupted = false;
        loop {
            tokio::select! {
                s = &mut rx => return s.ok(),
                _ = sigint.recv(), if !interrupted => {
                    eprintln!("\nfloor: stopping (Ctrl-C)");
                    interrupted = true;
                    stop.store(true, Ordering::Relaxed);
                }
                _ = sigterm.recv(), if !interrupted => {
                    eprintln!("floor: stopping (SIGTERM)");
                    interrupted = true;
                    stop.store(true, Ordering::Relaxed);
                }
                _ = tick.tick() => {
                    let events = stats.events.load(Ordering::Relaxed);
                    if !args.quiet {
                        eprintln!("{}", stats.line((events - last) as f64));
                    }
                    last = events;
                }
            }
        }
    });
    let _ = worker.join();
    if admin.is_some() {
        crate::admin::Discovery::remove(&cfg.data_dir);
    }
    let summary = summary
        .context("the node thread ended without a summary (it panicked; see the log above)")?;
    print_summary(&summary);
    if let Some(path) = &args.summary_json {
        let json = serde_json::to_string_pretty(&summary)?;
        std::fs::write(path, json).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Listen on the configured loopback address, write the token and
/// `admin.json` into the data directory, and serve on `rt`. Returns the URL.
fn start_admin(
    rt: &tokio::runtime::Runtime,
    cfg: &NodeConfig,
    calls: std::sync::mpsc::Sender<crate::node::operator::Call>,
    preparer: crate::deploy::Preparer,
) -> anyhow::Result<String> {
    use crate::admin::{Discovery, Token};
    std::fs::create_dir_all(&cfg.data_dir).with_context(|| {
        format!(
            "cannot create the data directory `{}`",
            cfg.data_dir.display()
        )
    })?;
    let (token, token_file) = Token::for_host(cfg.admin.token_file.as_deref(), &cfg.data_dir)?;
    let listener = std::net::TcpListener::bind(cfg.admin.listen).with_context(|| {
        format!(
            "cannot listen on admin.listen = {} (another host on this port? use port 0 for any free one)",
            cfg.admin.listen
        )
    })?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    Discovery {
        url: url.clone(),
        token_file: std::path::absolute(&token_file).unwrap_or(token_file),
        pid: std::process::id(),
    }
    .write(&cfg.data_dir)?;
    let listener = {
        let _guard = rt.enter();
        tokio::net::TcpListener::from_std(listener)?
    };
    rt.spawn(async move {
        if let Err(e) = crate::admin::serve(listener, token, calls, Some(preparer)).await {
            tracing::error!("the admin API stopped: {e}");
        }
    });
    Ok(url)
}

fn print_summary(s: &Summary) {
    println!("--- summary ---");
    println!(
        "events {} in {:.1}s ({:.0}/s) | orders {} | fills {} | rejects {} | pnl {:+.2} (realised {:+.2}, fees {:.2})",
        s.events,
        s.wall_seconds,
        s.events_per_second,
        s.orders,
        s.fills,
        s.rejects,
        s.pnl,
        s.pnl_detail.realized,
        s.pnl_detail.fees
    );
    println!(
        "agent faults {} | dead letters {} | alerts {} | refused order reports {} | late fills {}",
        s.agent_faults, s.dlq, s.alerts, s.oms_errors, s.late_fills
    );
    println!(
        "equity {:.2} | max drawdown {:.2}% | gross exposure {:.2} | trading {}{}",
        s.equity.equity,
        s.equity.max_drawdown * 100.0,
        s.equity.gross_exposure,
        s.trading.name(),
        s.trading_change
            .as_ref()
            .map(|c| format!(" (by {}: {})", c.by, c.reason))
            .unwrap_or_default()
    );
    if let Some(records) = s.journal_records {
        println!(
            "journal records {records} | checkpoints {} (a restart replays from the last)",
            s.checkpoints
        );
    }
    if let Some(why) = &s.journal_failure {
        println!(
            "JOURNAL FAILED: {why}; every order since was refused. Free the disk (or fix the data directory) and restart: the host carries on from what the journal holds"
        );
    }
    for (reason, n) in &s.reject_reasons {
        println!("  rejected {n:>5} × {reason}");
    }
    for (reason, n) in &s.dlq_by_reason {
        println!("  dead letter {n:>5} × {reason}");
    }
    for p in &s.positions {
        println!(
            "  position {:<10} {:>+12.6} @ {:>12.4}  realised {:+.2}",
            p.symbol, p.quantity, p.average_price, p.realized_pnl
        );
    }
}
