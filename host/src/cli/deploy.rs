//! `floor deploy | rollback | promote`: new versions of agents in a
//! running host.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use clap::Args;
use serde_json::{Value, json};

use super::operator::Target;

/// Arguments of `floor deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The new version's component (`.wasm`).
    component: PathBuf,
    /// The agent it replaces, by its name in the config.
    #[arg(long)]
    agent: String,
    /// A config key for this version, over the agent's config from the
    /// file (repeatable): `--set threshold=0.7`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Wait until the version leaves probation: exit 0 when it is
    /// promoted, 1 when it was rolled back.
    #[arg(long, conflicts_with = "shadow")]
    wait: bool,
    /// Run the version beside the live one on a copy of its inputs,
    /// comparing outputs and acting on none; `floor status` shows the
    /// diffs, `floor promote` swaps it in.
    #[arg(long)]
    shadow: bool,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `floor promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The agent whose shadow to swap in.
    #[arg(long)]
    agent: String,
    /// Stop the shadow instead of promoting it.
    #[arg(long)]
    discard: bool,
    #[command(flatten)]
    target: Target,
}

/// Arguments of `floor rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The agent to take back one version.
    #[arg(long)]
    agent: String,
    /// Why, for the record.
    #[arg(long, short)]
    reason: Option<String>,
    #[command(flatten)]
    target: Target,
}

/// How long `--wait` waits at most.
const WAIT_AT_MOST: Duration = Duration::from_secs(600);

pub(super) fn deploy(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.component).with_context(|| {
        format!(
            "cannot read `{}`: pass the new version's .wasm file",
            args.component.display()
        )
    })?;
    let mut config = serde_json::Map::new();
    for pair in &args.set {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--set {pair}: write KEY=VALUE, e.g. --set threshold=0.7"))?;
        config.insert(k.to_string(), Value::String(v.to_string()));
    }
    let client = args.target.client()?;
    let body = json!({
        "agent": args.agent,
        "component": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "config": config,
        "shadow": args.shadow,
    });
    let v = client.call_blocking("/v1/deploy", Some(&body))?;
    let e = &v["event"];
    let version = e["to"].as_str().unwrap_or("?").to_string();
    if args.shadow {
        println!(
            "`{}` version {version} runs in the shadow of {}: `floor status` compares them, `floor promote --agent {}` swaps it in",
            args.agent,
            e["from"].as_str().unwrap_or("?"),
            args.agent
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "deployed {} as `{}` version {version} (was {}): prepared in {:.1} ms{}, inbox paused {:.0} µs; {}",
        args.component.display(),
        args.agent,
        e["from"].as_str().unwrap_or("?"),
        v["prepare_ms"].as_f64().unwrap_or(0.0),
        if v["compiled"].as_bool() == Some(true) {
            " (compiled)"
        } else {
            " (from the cache)"
        },
        e["pause_us"].as_f64().unwrap_or(0.0),
        e["detail"].as_str().unwrap_or_default()
    );
    if !args.wait {
        return Ok(ExitCode::SUCCESS);
    }
    let started = Instant::now();
    while started.elapsed() < WAIT_AT_MOST {
        std::thread::sleep(Duration::from_millis(200));
        let status = client.call_blocking("/v1/status", None)?;
        let Some(agent) = status["deploys"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["agent"] == args.agent.as_str()))
        else {
            anyhow::bail!("the host no longer runs an agent `{}`", args.agent);
        };
        if agent["state"] == "probation" {
            continue;
        }
        // The newest record about this version says how probation ended.
        let ended = agent["records"]
            .as_array()
            .and_then(|r| {
                r.iter().rev().find(|r| {
                    (r["kind"] == "promoted" && r["to"] == version.as_str())
                        || (r["kind"] == "rolled_back" && r["from"] == version.as_str())
                })
            })
            .cloned()
            .unwrap_or(Value::Null);
        return Ok(match ended["kind"].as_str() {
            Some("promoted") => {
                println!("promoted: {}", ended["detail"].as_str().unwrap_or_default());
                ExitCode::SUCCESS
            }
            Some(_) => {
                println!(
                    "rolled back to {}: {}",
                    ended["to"].as_str().unwrap_or("?"),
                    ended["detail"].as_str().unwrap_or_default()
                );
                ExitCode::FAILURE
            }
            None => {
                println!("version {version} left probation (replaced by a later deploy)");
                ExitCode::SUCCESS
            }
        });
    }
    anyhow::bail!(
        "version {version} is still on probation after {} s; `floor status` shows it",
        WAIT_AT_MOST.as_secs()
    )
}

pub(super) fn promote(args: PromoteArgs) -> anyhow::Result<ExitCode> {
    let v = args.target.client()?.call_blocking(
        "/v1/promote",
        Some(&json!({"agent": args.agent, "discard": args.discard})),
    )?;
    let e = &v["event"];
    if args.discard {
        println!(
            "`{}`: shadow {} stopped ({})",
            args.agent,
            e["to"].as_str().unwrap_or("?"),
            e["detail"].as_str().unwrap_or_default()
        );
    } else {
        println!(
            "`{}` promoted {} over {} (inbox paused {:.0} µs): {}",
            args.agent,
            e["to"].as_str().unwrap_or("?"),
            e["from"].as_str().unwrap_or("?"),
            e["pause_us"].as_f64().unwrap_or(0.0),
            e["detail"].as_str().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn rollback(args: RollbackArgs) -> anyhow::Result<ExitCode> {
    let reason = args
        .reason
        .unwrap_or_else(|| "`floor rollback` by an operator".into());
    let v = args.target.client()?.call_blocking(
        "/v1/rollback",
        Some(&json!({"agent": args.agent, "reason": reason})),
    )?;
    let e = &v["event"];
    println!(
        "`{}` rolled back from {} to {} (inbox paused {:.0} µs)",
        args.agent,
        e["from"].as_str().unwrap_or("?"),
        e["to"].as_str().unwrap_or("?"),
        e["pause_us"].as_f64().unwrap_or(0.0)
    );
    Ok(ExitCode::SUCCESS)
}
