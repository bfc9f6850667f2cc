//! `floor backtest [CONFIG] --data FILE.csv`: the config's agents on
//! historical data, as fast as the machine allows; a report in text, JSON
//! and HTML (docs/backtest.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;

use crate::backtest::{self, Report};
use crate::config::NodeConfig;

/// Arguments of `floor backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Config file; without one, the built-in demo.
    config: Option<PathBuf>,
    /// Historical quotes and trades, CSV (docs/backtest.md).
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
}

/// Run `floor backtest`.
///
/// # Errors
/// A config or data file that cannot be read, or agents that do not load.
pub fn backtest(args: BacktestArgs) -> anyhow::Result<ExitCode> {
    let mut cfg = match &args.config {
        Some(p) => NodeConfig::load(p)?,
        None => NodeConfig::demo()?,
    };
    if args.dev {
        cfg.trust.dev = true;
        eprintln!("floor: WARNING: --dev: unsigned agents run");
    }
    let events = backtest::data::read_csv(&args.data)?;
    anyhow::ensure!(
        !events.is_empty(),
        "`{}` holds no events",
        args.data.display()
    );
    let work = tempfile::Builder::new()
        .prefix("floor-backtest-")
        .tempdir()
        .context("cannot make a temporary directory for the backtest")?;
    let started = Instant::now();
    let report = backtest::run(&cfg, &events, args.bar.as_nanos() as u64, work.path())?;
    let secs = started.elapsed().as_secs_f64();
    print(&report);
    eprintln!(
        "floor: {} events in {secs:.2}s ({:.0} events/s)",
        report.events,
        report.events as f64 / secs
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    if let Some(path) = &args.report {
        let config = args
            .config
            .as_ref()
            .map_or("<built-in demo>".to_string(), |p| p.display().to_string());
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
