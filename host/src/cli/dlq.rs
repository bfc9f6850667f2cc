//! `floor dlq list | replay`: the dead-letter file of a data directory.
//!
//! `list` shows what was dead-lettered and why. `replay` re-delivers chosen
//! entries to their agents as the config defines them *now* — after the
//! agent or its rights were fixed — and says, entry by entry, whether they
//! went through; what fails again is dead-lettered again, with a new id.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::config::NodeConfig;
use crate::dlq::{DeadLetter, read_file};
use crate::node::Node;

/// Arguments of `floor dlq`.
#[derive(Debug, Args)]
pub struct DlqArgs {
    #[command(subcommand)]
    command: DlqCommand,
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// List the dead letters in a data directory.
    List {
        /// Config whose `data_dir` to read (default: the built-in demo's).
        config: Option<PathBuf>,
        /// Read this data directory instead.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// One JSON object per line (the file's own form).
        #[arg(long)]
        json: bool,
        /// Only this agent's.
        #[arg(long)]
        agent: Option<String>,
        /// Only this reason code (e.g. `publish_denied`).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Re-deliver dead letters to their agents as CONFIG defines them now.
    Replay {
        /// The config (default: the built-in demo).
        config: Option<PathBuf>,
        /// Entries to replay (repeatable).
        #[arg(long = "id", required_unless_present = "all")]
        ids: Vec<u64>,
        /// Replay every entry (of `--agent`, if given).
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// Only this agent's.
        #[arg(long)]
        agent: Option<String>,
        /// Replay into the host that is running on this config (through
        /// its admin API; outputs act on its venue), instead of into a
        /// fresh node on the synthetic market.
        #[arg(long)]
        live: bool,
        /// With `--live`: the admin API's URL, instead of `admin.json`.
        #[arg(long, requires = "live")]
        host: Option<String>,
        /// With `--live`: the token file, instead of the one `admin.json` names.
        #[arg(long, requires = "live")]
        token_file: Option<PathBuf>,
    },
}

fn load(config: Option<&PathBuf>) -> anyhow::Result<NodeConfig> {
    Ok(match config {
        Some(p) => NodeConfig::load(p)?,
        None => NodeConfig::demo()?,
    })
}

fn read(dir: &std::path::Path) -> anyhow::Result<Vec<DeadLetter>> {
    let path = dir.join("dlq.jsonl");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file = read_file(&path)?;
    for (line, why) in file.bad_lines {
        eprintln!(
            "floor: {}:{line} is not a dead letter ({why}); left as it is",
            path.display()
        );
    }
    Ok(file.letters)
}

pub(super) fn dlq(args: DlqArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DlqCommand::List {
            config,
            data_dir,
            json,
            agent,
            reason,
        } => {
            let dir = match data_dir {
                Some(d) => d,
                None => load(config.as_ref())?.data_dir,
            };
            let letters = read(&dir)?;
            let shown = letters.iter().filter(|l| {
                agent.as_ref().is_none_or(|a| &l.agent == a)
                    && reason.as_ref().is_none_or(|r| l.reason.as_str() == r)
            });
            for l in shown {
                if json {
                    println!("{}", serde_json::to_string(l)?);
                } else {
                    println!(
                        "{:>6}  {:<12} {:<20} {:>2}×  {:<24} {}",
                        l.id, l.agent, l.reason, l.attempts, l.envelope.topic, l.detail
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Replay {
            config,
            ids,
            all,
            agent,
            live,
            host,
            token_file,
        } => {
            let cfg = load(config.as_ref())?;
            if live {
                let client = crate::admin::Client::locate(&cfg.data_dir, host, token_file)?;
                let body = serde_json::json!({"ids": ids, "all": all, "agent": agent});
                let v = client.call_blocking("/v1/dlq/replay", Some(&body))?;
                let mut failed = 0;
                for line in v.as_array().into_iter().flatten() {
                    failed += usize::from(line["outcome"] == "fault");
                    println!("{line}");
                }
                return Ok(if failed == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(3)
                });
            }
            if crate::admin::Discovery::read(&cfg.data_dir).is_ok_and(|d| d.is_live()) {
                anyhow::bail!(
                    "a host is running on `{}`: replay into it with `--live`, or stop it first (two writers would share its dead-letter file)",
                    cfg.data_dir.display()
                );
            }
            let letters = read(&cfg.data_dir)?;
            let chosen: Vec<DeadLetter> = letters
                .into_iter()
                .filter(|l| all || ids.contains(&l.id))
                .filter(|l| agent.as_ref().is_none_or(|a| &l.agent == a))
                .collect();
            for id in &ids {
                if !chosen.iter().any(|l| l.id == *id) {
                    anyhow::bail!(
                        "no dead letter with id {id} in `{}`; `floor dlq list` shows them",
                        cfg.data_dir.join("dlq.jsonl").display()
                    );
                }
            }
            // Replayed messages act on the synthetic market, never on a
            // real venue: replay is for seeing that a fix works.
            let venue = crate::node::connect::synthetic(&cfg, 0);
            let mut node =
                Node::new(&cfg, Box::new(venue)).context("starting the node to replay into")?;
            let mut failed = 0;
            for l in &chosen {
                let line = node.replay_letter(l);
                if line["outcome"] == "fault" {
                    failed += 1;
                }
                println!("{line}");
            }
            node.flush();
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
    }
}
