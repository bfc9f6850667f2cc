//! Sessions read back from a journal, and the node each one ran.
//!
//! Every start of a node opens a session with a [`SessionStart`] record:
//! the config text, the directory its paths resolved against, the venue's
//! name, each agent's artifact hash and, after a recovery, the
//! [`NodeState`] the node carried on from. Everything up to the next session
//! record is that node's inputs and outputs. Rebuilding the node means
//! parsing the same text against the same directory, pointing each agent
//! at its artifact as kept in `<data_dir>/artifacts/` (by hash, checked),
//! and writing what the replay produces somewhere that is not the
//! recorded data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::config::NodeConfig;
use crate::deploy::Artifacts;
use crate::journal::{Entry, reader};
use crate::node::record::{SessionStart, kind};
use crate::node::snapshot::NodeState;

/// One start of a node and what followed it.
#[derive(Debug)]
pub struct Session {
    /// Seq of its session record.
    pub seq: u64,
    /// What the node started with.
    pub start: SessionStart,
    /// The state it carried on from (a restart), if any.
    pub state: Option<NodeState>,
    /// Every record after the session record, up to the next one (and
    /// before its end record). Shared: a replay's tape reads them where
    /// they are, not from a copy.
    pub records: Arc<[Entry]>,
    /// Whether the node stopped cleanly (an end record closes the
    /// session); otherwise it was cut short — a crash, `kill -9` — and the
    /// record may end in the middle of what its last input caused.
    pub closed: bool,
}

impl Session {
    /// True for a session a running host started at a checkpoint: its
    /// state is the whole node's, and it runs on from it.
    pub fn is_checkpoint(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.continued.is_some())
    }
}

/// What a data directory's journal holds, split into sessions.
#[derive(Debug)]
pub struct Recorded {
    /// The journal directory.
    pub journal: PathBuf,
    /// The artifacts the node kept.
    pub artifacts: Artifacts,
    /// Sessions in order.
    pub sessions: Vec<Session>,
    /// Records before the first session record (a journal written before
    /// hosts recorded sessions): they cannot be replayed.
    pub orphans: u64,
}

/// Read `data_dir`'s journal (a torn tail is cut, as the host would).
///
/// # Errors
/// When there is no journal, it is damaged, or a session record is not
/// readable.
pub fn read(data_dir: &Path) -> anyhow::Result<Recorded> {
    let journal = data_dir.join("journal");
    anyhow::ensure!(
        journal.is_dir() && !reader::segments(&journal)?.is_empty(),
        "no journal in `{}`: give the data directory of a host that ran with `[journal]` enabled (the default)",
        data_dir.display()
    );
    let scan = reader::read_all(&journal, 1)?;
    if let Some(t) = &scan.torn {
        tracing::warn!(
            "the journal's last {} bytes are torn ({}): replaying what precedes them",
            t.torn_bytes,
            t.damage
        );
    }
    let mut sessions: Vec<Session> = Vec::new();
    // The records of the last session read so far.
    let mut records: Vec<Entry> = Vec::new();
    let mut orphans = 0;
    for e in scan.entries {
        if e.kind == kind::SESSION {
            let mut start: SessionStart =
                serde_json::from_slice(&e.payload).with_context(|| {
                    format!("journal record {} (a session start) is not readable", e.seq)
                })?;
            if let Some(s) = sessions.last_mut() {
                s.records = std::mem::take(&mut records).into();
            }
            sessions.push(Session {
                seq: e.seq,
                state: start.state.take(),
                start,
                records: Arc::new([]),
                closed: false,
            });
        } else if let Some(s) = sessions.last_mut() {
            if e.kind == kind::END {
                s.closed = true;
            } else if !s.closed {
                records.push(e);
            }
        } else {
            orphans += 1;
        }
    }
    if let Some(s) = sessions.last_mut() {
        s.records = records.into();
    }
    Ok(Recorded {
        journal,
        artifacts: Artifacts::at(data_dir.join("artifacts")),
        sessions,
        orphans,
    })
}

/// The config `start` ran with, rebuilt: agents from `artifacts` (each
/// checked against its hash) unless `candidates` names another file for
/// it, no journal, no admin API, results written under `work_dir`, and
/// compiled components cached under `cache_dir` (none: where the recorded
/// config cached them).
///
/// # Errors
/// When the config no longer parses where it was read (a key file of
/// `[trust]` gone, say), an artifact is missing or altered, or the config
/// and the session disagree about the agents.
pub fn config_for(
    start: &SessionStart,
    artifacts: &Artifacts,
    work_dir: &Path,
    cache_dir: Option<&Path>,
    candidates: &[(String, PathBuf)],
) -> anyhow::Result<NodeConfig> {
    let origin = &start.config;
    let mut cfg =
        NodeConfig::parse(&origin.text, &origin.name, &origin.base).with_context(|| {
            format!(
                "the recorded config (`{}`) no longer resolves against `{}`",
                origin.name,
                origin.base.display()
            )
        })?;
    let names: Vec<String> = cfg.agents.iter().map(|a| a.name.clone()).collect();
    let recorded: Vec<String> = start.agents.iter().map(|a| a.name.clone()).collect();
    anyhow::ensure!(
        names == recorded,
        "the recorded config's agents [{}] are not the session's [{}]: the journal is inconsistent",
        names.join(", "),
        recorded.join(", ")
    );
    for (a, v) in cfg.agents.iter_mut().zip(&start.agents) {
        if let Some((_, path)) = candidates.iter().find(|(n, _)| *n == a.name) {
            a.path.clone_from(path);
        } else {
            artifacts
                .read(&v.sha256)
                .with_context(|| format!("agent `{}`'s recorded version", a.name))?;
            a.path = artifacts.path(&v.sha256);
        }
    }
    for (name, _) in candidates {
        anyhow::ensure!(
            names.contains(name),
            "--agent {name}=…: the session has no agent `{name}` (it ran: {})",
            names.join(", ")
        );
    }
    cfg.data_dir = work_dir.to_path_buf();
    if let Some(dir) = cache_dir {
        cfg.cache_dir = dir.to_path_buf();
    }
    cfg.journal = None;
    cfg.admin.enabled = false;
    // No wall clock: the calls the run's deadlines cut are cut again on
    // purpose (Node::repeat_cuts), and this machine's load cuts none.
    cfg.runtime.wall_clock = false;
    cfg.source = None;
    Ok(cfg)
}
