//! `floor call`: one agent, in isolation, under the same sandbox and limits
//! as in a node. Envelopes come in as JSON lines; outputs and faults go out
//! as JSON lines. Exit status 0 if every input was handled, 3 if any
//! faulted or could not be decoded.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;

use crate::agent::{AgentInstance, AgentLinker, AgentSpec, Rights};
use crate::model::{Envelope, Payload, TopicPattern};
use crate::node::SharedView;
use crate::runtime::{ComponentCache, Limits, Runtime, RuntimeConfig};

/// Arguments of `floor call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The agent component.
    agent: PathBuf,
    /// Agent config, repeatable: `--config symbol=BTCUSDT`.
    #[arg(long = "config", value_parser = parse_kv)]
    config: Vec<(String, String)>,
    /// Envelopes as JSON lines; default stdin.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Where compiled components are kept, so the second call of the same
    /// component loads in milliseconds (a Python agent compiles for
    /// seconds); default `$XDG_CACHE_HOME/floor/components`, else
    /// `~/.cache/floor/components`.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Compile the component every time; keep nothing on disk.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
    /// Agent name (the envelope source of its outputs).
    #[arg(long, default_value = "agent")]
    name: String,
    /// Fuel per call.
    #[arg(long)]
    fuel: Option<u64>,
    /// Deadline per call, ms.
    #[arg(long)]
    deadline_ms: Option<u64>,
    /// Memory cap, MiB.
    #[arg(long)]
    memory_mb: Option<u64>,
    /// Outputs per call.
    #[arg(long)]
    max_outputs: Option<usize>,
    /// Bytes per output.
    #[arg(long)]
    max_output_bytes: Option<usize>,
    /// Publish rights (repeatable); default `#` (everything).
    #[arg(long)]
    publish: Vec<String>,
    /// Order rights (repeatable); default `*` (every symbol).
    #[arg(long)]
    order_symbol: Vec<String>,
    /// Grant a read-only directory, `GUEST=HOST` (repeatable): `--dir /model=./weights`.
    #[arg(long = "dir", value_parser = parse_kv)]
    dirs: Vec<(String, String)>,
    /// After this many inputs, move the agent's state to a fresh instance
    /// (`snapshot` → `restore`), as a hot swap or a restart does: the
    /// outputs must be those of a run without it, or the snapshot misses
    /// some state.
    #[arg(long, value_name = "N")]
    swap_after: Option<u64>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

pub(super) fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let d = Limits::default();
    let limits = Limits {
        fuel: args.fuel.unwrap_or(d.fuel),
        deadline: args.deadline_ms.map_or(d.deadline, Duration::from_millis),
        memory_bytes: args
            .memory_mb
            .map_or(d.memory_bytes, |m| (m as usize) << 20),
        max_outputs: args.max_outputs.unwrap_or(d.max_outputs),
        max_output_bytes: args.max_output_bytes.unwrap_or(d.max_output_bytes),
        ..d
    };
    let mut rights = Rights::all();
    if !args.publish.is_empty() {
        rights.publish = args
            .publish
            .iter()
            .map(|p| TopicPattern::parse(p))
            .collect::<Result<_, _>>()
            .context("--publish")?;
    }
    if !args.order_symbol.is_empty() {
        rights.order_symbols = args.order_symbol.clone();
    }
    let runtime = Runtime::new(RuntimeConfig {
        pool_instances: 4,
        max_memory_bytes: limits.memory_bytes.max(1 << 20),
        ..RuntimeConfig::default()
    })?;
    let cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or_else(user_cache_dir)
    };
    let loaded =
        ComponentCache::new(runtime.engine(), cache_dir).load(runtime.engine(), &args.agent)?;
    let linker = AgentLinker::new(runtime.engine())?;
    let view = Arc::new(SharedView::default());
    let spec = AgentSpec {
        name: args.name.clone(),
        component: loaded.component,
        limits,
        rights,
        config: args.config.clone(),
        seed: 1,
        read_dirs: args
            .dirs
            .iter()
            .map(|(g, h)| (PathBuf::from(h), g.clone()))
            .collect(),
    };
    let mut agent = AgentInstance::start(&runtime, &linker, spec.clone(), view.clone())?;
    let mut handled = 0u64;
    let reader: Box<dyn BufRead> = match &args.input {
        Some(p) => Box::new(BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot open `{}`", p.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut faults = 0u64;
    for (n, line) in reader.lines().enumerate() {
        let line = line.context("reading input")?;
        if line.trim().is_empty() {
            continue;
        }
        let n = n as u64 + 1;
        let mut env: Envelope = match serde_json::from_str(&line) {
            Ok(e) => e,
            Err(e) => {
                faults += 1;
                let msg = json!({"line": n, "fault": {"reason": "decode_error", "detail": e.to_string()}});
                writeln!(out, "{msg}")?;
                continue;
            }
        };
        if env.id == 0 {
            env.id = n;
        }
        if env.sequence == 0 {
            env.sequence = n;
        }
        if env.trace_id == 0 {
            env.trace_id = env.id;
        }
        if env.source.is_empty() {
            env.source = "cli".into();
        }
        if let Payload::Quote(q) = &env.payload {
            view.set_quote(q);
        }
        if args.swap_after == Some(handled) && handled > 0 {
            let state = agent
                .snapshot()
                .map_err(|f| anyhow::anyhow!("snapshot() faulted: {}: {}", f.reason, f.detail))?;
            let mut fresh = AgentInstance::start(&runtime, &linker, spec.clone(), view.clone())?;
            fresh.restore(&state).map_err(|f| {
                anyhow::anyhow!(
                    "restore() refused its own snapshot: {}: {}",
                    f.reason,
                    f.detail
                )
            })?;
            agent = fresh;
            eprintln!(
                "floor: after {handled} input(s), the state ({} bytes) moved to a fresh instance",
                state.len()
            );
        }
        handled += 1;
        let msg = match agent.handle(&env, env.correlation_id.is_some()) {
            Ok(outputs) => json!({"id": env.id, "outputs": outputs}),
            Err(f) => {
                faults += 1;
                json!({"id": env.id, "fault": {"reason": f.reason, "detail": f.detail}})
            }
        };
        writeln!(out, "{msg}")?;
    }
    Ok(if faults == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// The user's cache for compiled components, when a home is known.
fn user_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("floor").join("components"))
}
