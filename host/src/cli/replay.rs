//! `floor replay DATA_DIR`: re-run a host's recorded sessions through the
//! recorded agent versions and check every order against the journal.
//! Exit status 0 when every session replays identically, 1 at the first
//! divergence (printed: the record, what was recorded, what the replay
//! did).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::replay::{self, SessionReport};

/// Arguments of `floor replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The host's data directory (`journal/` and `artifacts/` are read;
    /// nothing in it is written).
    data_dir: PathBuf,
    /// Only sessions still running at or after this event time (ns since
    /// the epoch, or RFC 3339 like 2026-11-22T20:00:00Z). A session is
    /// replayed from its start: that is where its state is known.
    #[arg(long, value_parser = crate::model::clock::parse_time)]
    from: Option<u64>,
    /// Stop at this event time (same forms as `--from`).
    #[arg(long, value_parser = crate::model::clock::parse_time)]
    to: Option<u64>,
    /// What-if: replay the recorded market with this file as agent NAME
    /// (repeatable) and report the orders added, removed and changed,
    /// instead of checking against the record.
    #[arg(long = "agent", value_name = "NAME=FILE", value_parser = parse_candidate)]
    agents: Vec<(String, PathBuf)>,
    /// With `--agent`: run a candidate that is unsigned (or signed by a key
    /// the recorded `[trust]` does not know), with a warning.
    #[arg(long)]
    dev: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Hand agents market events one call at a time, as the recorded host
    /// did, instead of in quiet runs (`on-market-run`): slower, the same
    /// outputs and digest.
    #[arg(long)]
    one_at_a_time: bool,
}

fn parse_candidate(s: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAME=FILE, e.g. trend=build/trend.wasm"))?;
    if name.is_empty() || file.is_empty() {
        return Err(format!(
            "`{s}`: expected NAME=FILE, e.g. trend=build/trend.wasm"
        ));
    }
    Ok((name.to_string(), PathBuf::from(file)))
}

/// Run `floor replay`.
///
/// # Errors
/// When the journal cannot be read or a session's node cannot be rebuilt.
pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let recorded = replay::session::read(&args.data_dir)?;
    if recorded.orphans > 0 {
        eprintln!(
            "floor: {} record(s) precede the first session record (its start was deleted by [journal] keep_checkpoints, or an older host wrote them) and are skipped",
            recorded.orphans
        );
    }
    let (_tmp, mut ws) = replay::workspace(&args.data_dir)?;
    if args.one_at_a_time {
        ws.delivery = crate::node::Delivery::OneAtATime;
    }
    let selected: Vec<&replay::Session> = recorded
        .sessions
        .iter()
        .filter(|s| {
            let last = s.records.last().map_or(s.start.wall_ns, |e| e.time);
            args.from.is_none_or(|from| last >= from)
                && args.to.is_none_or(|to| s.start.wall_ns <= to)
        })
        .collect();
    anyhow::ensure!(
        !selected.is_empty(),
        "no session of `{}` falls in the times given",
        args.data_dir.display()
    );
    if !args.agents.is_empty() {
        if args.dev {
            eprintln!(
                "floor: WARNING: --dev: the candidate runs even if it is not signed by a trusted key"
            );
        }
        let mut diffs = Vec::new();
        for s in selected {
            diffs.push(replay::what_if(&recorded, s, &ws, &args.agents, args.dev)?);
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&diffs)?);
        } else {
            diffs.iter().for_each(print_diff);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut reports = Vec::new();
    for s in selected {
        let report = replay::replay_session(&recorded, s, &ws, args.to)?;
        let diverged = report.divergence.is_some();
        reports.push(report);
        if diverged {
            break;
        }
    }
    let ok = reports.iter().all(|r| r.divergence.is_none());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "identical": ok,
                "sessions": reports,
            }))?
        );
    } else {
        for r in &reports {
            print(r);
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print(r: &SessionReport) {
    println!(
        "session {} ({}; {} agent(s))",
        r.session,
        r.config,
        r.agents.len()
    );
    println!(
        "  events {} of {} | orders {} | cancels {} | messages {} | {} taken in {} runs",
        r.replayed, r.records, r.orders, r.cancels, r.messages, r.in_runs.0, r.in_runs.1
    );
    println!("  digest {}", r.digest);
    if r.cut_short {
        println!(
            "  cut short: the host stopped without closing the session (a crash, kill -9){}",
            if r.unsent > 0 {
                format!(
                    "; {} order(s) decided after its last record were never sent",
                    r.unsent
                )
            } else {
                String::new()
            }
        );
    }
    if r.checkpoint_checked {
        println!(
            "  checkpoint: the replay's whole state at the end (agents, orders, account, timers) is the one the next session starts from"
        );
    }
    match &r.divergence {
        None => println!("  identical: every order and cancel as recorded"),
        Some(d) => {
            println!(
                "  DIVERGED at record {} (event time {} ns)",
                d.seq, d.time_ns
            );
            println!("    recorded: {}", d.recorded);
            println!("    replayed: {}", d.replayed);
        }
    }
}

fn print_diff(d: &replay::DecisionDiff) {
    let who: Vec<String> = d
        .candidates
        .iter()
        .map(|(n, f)| format!("{n}={}", f.display()))
        .collect();
    println!(
        "session {}: {} market inputs on the paper venue, with {}",
        d.session,
        d.inputs,
        who.join(", ")
    );
    for (label, o) in [
        ("recorded versions", &d.baseline),
        ("candidate", &d.candidate),
    ] {
        println!(
            "  {label:<17} orders {:>6} | fills {:>6} | pnl {:+.2}",
            o.orders, o.fills, o.pnl
        );
    }
    println!(
        "  unchanged {} | added {} | removed {} | changed {}",
        d.unchanged,
        d.added.len(),
        d.removed.len(),
        d.changed.len()
    );
    let say = |p: &replay::whatif::Placed| {
        let o = &p.order;
        format!(
            "input {} @ {} ns: {} {:?} {} {} {:?}{}",
            p.input,
            p.time_ns,
            p.agent,
            o.side,
            o.quantity,
            o.symbol,
            o.order_type,
            o.limit_price.map(|l| format!(" @ {l}")).unwrap_or_default()
        )
    };
    for p in d.added.iter().take(20) {
        println!("  + {}", say(p));
    }
    for p in d.removed.iter().take(20) {
        println!("  - {}", say(p));
    }
    for c in d.changed.iter().take(20) {
        println!("  ~ {}\n    → {}", say(&c.baseline), say(&c.candidate));
    }
    let shown = d.added.len().min(20) + d.removed.len().min(20) + d.changed.len().min(20);
    let total = d.added.len() + d.removed.len() + d.changed.len();
    if total > shown {
        println!("  … {} more (--json lists them all)", total - shown);
    }
}
