//! `floor status | halt | reduce | resume | approve | reject | news`: commands to
//! a running host, through its admin API.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Value, json};

use crate::admin::Client;
use crate::config::NodeConfig;
use crate::risk::TradingMode;

/// How to reach the host.
#[derive(Debug, Args)]
pub struct Target {
    /// The running host's config (default: the built-in demo's); its
    /// data directory holds `admin.json` and the token.
    config: Option<PathBuf>,
    /// Look in this data directory instead.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The admin API's URL (e.g. `http://127.0.0.1:7070`), instead of the
    /// data directory's `admin.json`.
    #[arg(long)]
    host: Option<String>,
    /// The token file, instead of the one `admin.json` names.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

impl Target {
    /// The client for the host this names.
    pub(super) fn client(&self) -> anyhow::Result<Client> {
        let data_dir = match &self.data_dir {
            Some(d) => d.clone(),
            None if self.host.is_some() && self.token_file.is_some() => PathBuf::new(),
            None => match &self.config {
                Some(p) => NodeConfig::load(p)?.data_dir,
                None => NodeConfig::demo()?.data_dir,
            },
        };
        Client::locate(&data_dir, self.host.clone(), self.token_file.clone())
    }
}

/// Arguments of `floor status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    target: Target,
    /// Print the whole answer as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `floor halt | reduce | resume`.
#[derive(Debug, Args)]
pub struct TradingArgs {
    #[command(flatten)]
    target: Target,
    /// Why, for the record (published with the change and kept in the
    /// summary).
    #[arg(long, short)]
    reason: Option<String>,
}

/// Arguments of `floor approve | reject`.
#[derive(Debug, Args)]
pub struct ApprovalArgs {
    /// The intent's approval id (`floor status` lists those waiting).
    id: u64,
    #[command(flatten)]
    target: Target,
    /// Who approves, or why it is rejected (for the record; a rejection's
    /// reason reaches the agent).
    #[arg(long, short)]
    reason: Option<String>,
}

pub(super) fn approval(approve: bool, args: ApprovalArgs) -> anyhow::Result<ExitCode> {
    let note = args.reason.unwrap_or_else(|| {
        if approve {
            whoami()
        } else {
            format!("rejected by {}", whoami())
        }
    });
    let path = if approve { "/v1/approve" } else { "/v1/reject" };
    let v = args
        .target
        .client()?
        .call_blocking(path, Some(&json!({"id": args.id, "note": note})))?;
    if approve {
        let sent = v["sent"].as_bool().unwrap_or(false);
        println!(
            "intent {} approved by {note}: {}",
            args.id,
            if sent {
                "sent"
            } else {
                "refused on its second check (the market or the limits moved; see `floor status` and the dead-letter queue)"
            }
        );
    } else {
        println!("intent {} rejected: {note}", args.id);
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `floor news`.
#[derive(Debug, Args)]
pub struct NewsArgs {
    /// The headline.
    headline: String,
    #[command(flatten)]
    target: Target,
    /// Where it came from: the topic is `news.headline.<source>`.
    #[arg(long, default_value = "operator")]
    source: String,
    /// A symbol it is about (repeatable); agents may also find cashtags
    /// in the text.
    #[arg(long = "symbol")]
    symbols: Vec<String>,
}

pub(super) fn news(args: NewsArgs) -> anyhow::Result<ExitCode> {
    let body = json!({"headline": args.headline, "source": args.source, "symbols": args.symbols});
    let v = args
        .target
        .client()?
        .call_blocking("/v1/news", Some(&body))?;
    println!(
        "published on {} at event time {}",
        v["topic"].as_str().unwrap_or("?"),
        v["event_time_ns"]
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let v = args.target.client()?.call_blocking("/v1/status", None)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_status(&v);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn trading(to: TradingMode, args: TradingArgs) -> anyhow::Result<ExitCode> {
    let reason = args
        .reason
        .unwrap_or_else(|| format!("`floor {}` by {}", verb(to), whoami()));
    let body = json!({"state": to, "reason": reason});
    let v = args
        .target
        .client()?
        .call_blocking("/v1/trading", Some(&body))?;
    println!(
        "trading: {} → {} ({})",
        v["from"].as_str().unwrap_or("?"),
        v["to"].as_str().unwrap_or("?"),
        v["reason"].as_str().unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn reconcile(target: Target) -> anyhow::Result<ExitCode> {
    target
        .client()?
        .call_blocking("/v1/reconcile", Some(&json!({})))?;
    println!(
        "reconciliation requested: findings arrive as venue.reconcile.* alerts; `floor status` counts corrections"
    );
    Ok(ExitCode::SUCCESS)
}

fn verb(to: TradingMode) -> &'static str {
    match to {
        TradingMode::Active => "resume",
        TradingMode::Reducing => "reduce",
        TradingMode::Halted => "halt",
    }
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "an operator".into())
}

fn print_shadows(v: &Value) {
    for d in v["deploys"].as_array().into_iter().flatten() {
        let s = &d["shadow"];
        if s.is_null() {
            continue;
        }
        let version = s["version"].as_str().unwrap_or("?");
        println!(
            "shadow of {}: {} — {} match(es), {} diff(s), {} fault(s)",
            d["agent"].as_str().unwrap_or("?"),
            &version[..version.len().min(12)],
            s["matches"].as_u64().unwrap_or(0),
            s["diffs"].as_u64().unwrap_or(0),
            s["faults"].as_u64().unwrap_or(0)
        );
        let f = &s["first_diff"];
        if !f.is_null() {
            println!(
                "  first diff, message {} on {}:\n    live:   {}\n    shadow: {}",
                f["message_id"],
                f["topic"].as_str().unwrap_or("?"),
                f["live"],
                f["shadow"]
            );
        }
    }
}

fn print_status(v: &Value) {
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let trading = v["trading"].as_str().unwrap_or("?");
    match v["trading_change"].as_object() {
        Some(c) => println!(
            "trading {trading} (by {}: {})",
            c.get("by").and_then(Value::as_str).unwrap_or("?"),
            c.get("reason").and_then(Value::as_str).unwrap_or("")
        ),
        None => println!("trading {trading}"),
    }
    println!(
        "events {} | orders {} | fills {} | rejects {} | dead letters {} | alerts {} | open orders {}",
        n("events"),
        n("orders"),
        n("fills"),
        n("rejects"),
        n("dlq"),
        n("alerts"),
        v["open_orders"].as_array().map_or(0, Vec::len)
    );
    for p in v["pending_approvals"].as_array().into_iter().flatten() {
        let i = &p["intent"];
        println!(
            "waiting for approval: {} — {} {} {} {} (notional {:.2}) from `{}`; `floor approve {}` or `floor reject {}`",
            p["id"],
            i["side"].as_str().unwrap_or("?"),
            i["quantity"],
            i["symbol"].as_str().unwrap_or("?"),
            i["order_type"].as_str().unwrap_or("?"),
            p["notional"].as_f64().unwrap_or(0.0),
            p["agent"].as_str().unwrap_or("?"),
            p["id"],
            p["id"],
        );
    }
    let eq = &v["equity"];
    println!(
        "pnl {:+.2} | equity {:.2} | drawdown {:.2}% (max {:.2}%) | gross exposure {:.2}",
        f("pnl"),
        eq["equity"].as_f64().unwrap_or(0.0),
        eq["drawdown"].as_f64().unwrap_or(0.0) * 100.0,
        eq["max_drawdown"].as_f64().unwrap_or(0.0) * 100.0,
        eq["gross_exposure"].as_f64().unwrap_or(0.0)
    );
    println!(
        "{:<16} {:<12} {:<11} {:>6} {:>10} {:>6} {:>10} {:>7} {:>10} {:>8} {:>12} {:>9}",
        "agent",
        "version",
        "state",
        "health",
        "handled",
        "inbox",
        "wait p99",
        "faults",
        "published",
        "intents",
        "fuel used",
        "memory"
    );
    let mut errors = Vec::new();
    for a in v["agents"].as_array().into_iter().flatten() {
        let g = |k: &str| a[k].as_u64().unwrap_or(0);
        let version = a["version"].as_str().unwrap_or("?");
        let name = a["name"].as_str().unwrap_or("?");
        println!(
            "{:<16} {:<12} {:<11} {:>6} {:>10} {:>6} {:>8}µs {:>7} {:>10} {:>8} {:>12} {:>8}K",
            name,
            &version[..version.len().min(12)],
            a["state"].as_str().unwrap_or("?"),
            g("health"),
            g("handled"),
            g("inbox"),
            a["delivery_latency"]["p99_ns"].as_u64().unwrap_or(0) / 1000,
            g("faults"),
            g("published"),
            g("order_intents"),
            g("fuel_used"),
            g("memory_bytes") / 1024
        );
        if let Some(e) = a["last_error"].as_object() {
            errors.push(format!(
                "  {name}: {} ({})",
                e.get("reason").and_then(Value::as_str).unwrap_or("?"),
                e.get("detail").and_then(Value::as_str).unwrap_or("")
            ));
        }
    }
    if !errors.is_empty() {
        println!("last errors:");
        for e in errors {
            println!("{e}");
        }
    }
    print_shadows(v);
}
