//! `floor backtest [CONFIG] --data FILE.csv|DATA_DIR [--sweep …]`: the
//! config's agents on historical data, as fast as the machine allows; a
//! report in text, JSON and HTML, or a table of a parameter grid
//! (docs/backtest.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;

use crate::backtest::sweep::{Axis, Point};
use crate::backtest::{self, Report};
use crate::config::NodeConfig;
use crate::model::{MarketEvent, Nanos};

/// Arguments of `floor backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Config file; without one, the built-in demo.
    config: Option<PathBuf>,
    /// The config file, as a flag (`floor backtest --config C --data D`).
    #[arg(long = "config", value_name = "CONFIG", conflicts_with = "config")]
    config_flag: Option<PathBuf>,
    /// Historical quotes and trades: a CSV file (docs/backtest.md), or a
    /// host's data directory (the market its journal recorded).
    #[arg(long)]
    data: PathBuf,
    /// Equity is sampled at the end of each bar of this much event time.
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    bar: Duration,
    /// Write the report as JSON here.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Write the report as an HTML page here (equity and drawdown charts).
    #[arg(long, value_name = "OUT.html")]
    report: Option<PathBuf>,
    /// Development: run unsigned agents, with a warning.
    #[arg(long)]
    dev: bool,
    /// A parameter grid: one backtest per combination of every
    /// `--sweep AGENT.KEY=V1,V2,…` given (repeatable), run in parallel.
    #[arg(long, value_name = "AGENT.KEY=V1,V2,…", value_parser = Axis::parse)]
    sweep: Vec<Axis>,
    /// Threads for `--sweep` (default: one per core). Reports do not
    /// depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Hand agents market events one call at a time, as a live host does,
    /// instead of in quiet runs (`on-market-run`): slower, the same report.
    #[arg(long, conflicts_with = "sweep")]
    one_at_a_time: bool,
}

/// Run `floor backtest`.
///
/// # Errors
/// A config or data file that cannot be read, or agents that do not load.
pub fn backtest(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.as_ref().or(args.config_flag.as_ref());
    let mut cfg = match config {
        Some(p) => NodeConfig::load(p)?,
        None => NodeConfig::demo()?,
    };
    if args.dev {
        cfg.trust.dev = true;
        eprintln!("floor: WARNING: --dev: unsigned agents run");
    }
    let events = if backtest::recorded::is_data_dir(&args.data) {
        backtest::recorded::read(&args.data)?
    } else {
        backtest::data::read_csv(&args.data)?
    };
    anyhow::ensure!(
        !events.is_empty(),
        "`{}` holds no events",
        args.data.display()
    );
    if !args.sweep.is_empty() {
        return sweep(&args, &cfg, &events);
    }
    let work = tempfile::Builder::new()
        .prefix("floor-backtest-")
        .tempdir()
        .context("cannot make a temporary directory for the backtest")?;
    let started = Instant::now();
    let delivery = if args.one_at_a_time {
        backtest::Delivery::OneAtATime
    } else {
        backtest::Delivery::Runs
    };
    let bar = args.bar.as_nanos() as u64;
    let report = backtest::run_with(&cfg, &events, bar, work.path(), delivery)?;
    let secs = started.elapsed().as_secs_f64();
    print(&report);
    let (in_runs, runs) = report.in_runs;
    eprintln!(
        "floor: {} events in {secs:.2}s ({:.0} events/s; {in_runs} of them taken in {runs} runs)",
        report.events,
        report.events as f64 / secs
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if let Some(path) = &args.report {
        let config = config.map_or("<built-in demo>".to_string(), |p| p.display().to_string());
        let page = backtest::html::page(&report, &config, &args.data.display().to_string());
        std::fs::write(path, page).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &Report) {
    println!(
        "events {} | orders {} | rejects {} | fills {} | trades {} (win rate {:.1}%)",
        r.events,
        r.orders,
        r.rejects,
        r.fills,
        r.trades,
        r.win_rate * 100.0
    );
    println!(
        "pnl {:+.2} (realised {:+.2}, fees {:.2}) | return {:+.3}% | equity {:.2} → {:.2}",
        r.pnl,
        r.realized,
        r.fees,
        r.total_return * 100.0,
        r.start_equity,
        r.end_equity
    );
    println!(
        "sharpe {:.3} | sortino {:.3} | max drawdown {:.3}% | exposure {:.1}% | turnover {:.2}×",
        r.sharpe,
        r.sortino,
        r.max_drawdown * 100.0,
        r.exposure * 100.0,
        r.turnover
    );
}

fn sweep(
    args: &BacktestArgs,
    cfg: &NodeConfig,
    events: &[(Nanos, MarketEvent)],
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.report.is_none(),
        "--report draws one backtest; with --sweep, write every point with --json and run the one you want to see without --sweep"
    );
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let started = Instant::now();
    let points = backtest::sweep::run(
        cfg,
        &args.sweep,
        events,
        args.bar.as_nanos() as u64,
        threads,
    )?;
    let secs = started.elapsed().as_secs_f64();
    print_points(&points);
    eprintln!(
        "floor: {} backtests of {} events on {threads} thread(s) in {secs:.2}s",
        points.len(),
        events.len()
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&points)?)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_points(points: &[Point]) {
    let Some(first) = points.first() else { return };
    let names: Vec<&String> = first.params.keys().collect();
    let mut header: Vec<String> = names.iter().map(|n| (*n).clone()).collect();
    header.extend(
        ["pnl", "return %", "sharpe", "max dd %", "trades", "win %"]
            .iter()
            .map(|s| (*s).to_string()),
    );
    println!("{}", header.join("\t"));
    for p in points {
        let r = &p.report;
        let mut row: Vec<String> = names.iter().map(|n| p.params[*n].clone()).collect();
        row.extend([
            format!("{:+.2}", r.pnl),
            format!("{:+.3}", r.total_return * 100.0),
            format!("{:.3}", r.sharpe),
            format!("{:.3}", r.max_drawdown * 100.0),
            r.trades.to_string(),
            format!("{:.1}", r.win_rate * 100.0),
        ]);
        println!("{}", row.join("\t"));
    }
}
