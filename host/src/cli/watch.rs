//! `floor run --watch DIR`: deploy an agent's component when its file in
//! DIR changes (development mode).
//!
//! A file is an agent's when the agent's configured `path` is that file, or
//! else when the file is named after the agent (`DIR/<name>.wasm`). A change
//! is deployed once the file has stopped changing for one poll (a build that
//! is still writing is not picked up half-way), and only when its content
//! differs from what was last seen (a `touch` deploys nothing). The deploy
//! takes the same path as `floor deploy`: prepared on this thread, swapped
//! between two inputs, on probation; a file that does not load is reported
//! and the running version carries on.
//!
//! The watcher polls (every 250 ms) rather than asking the kernel for file
//! events: it sees a file replaced by a rename, as cargo and most editors
//! write them, on every platform and file system alike, and one directory of
//! a few components costs nothing to stat.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use crate::deploy::{DeployRequest, Preparer};
use crate::node::operator::{Call, Operation};

/// How often the directory is looked at.
const POLL: Duration = Duration::from_millis(250);

/// What a file looked like: its modification time and length.
type Stamp = (SystemTime, u64);

struct Seen {
    stamp: Stamp,
    sha256: [u8; 32],
}

/// Watches one directory for agents' components.
pub(super) struct Watcher {
    dir: PathBuf,
    /// Agents by the absolute path of their configured component.
    by_path: HashMap<PathBuf, String>,
    /// All agent names.
    names: Vec<String>,
    seen: HashMap<PathBuf, Seen>,
    /// Files that changed on the last poll, waiting for one quiet poll.
    settling: HashMap<PathBuf, Stamp>,
    preparer: Preparer,
    calls: Sender<Call>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Watcher {
    /// A watcher of `dir` for `agents` (name, configured component path).
    /// What is in `dir` now counts as deployed already.
    ///
    /// # Errors
    /// When `dir` is not a readable directory.
    pub(super) fn new(
        dir: &Path,
        agents: &[(String, PathBuf)],
        preparer: Preparer,
        calls: Sender<Call>,
    ) -> anyhow::Result<Self> {
        if !dir.is_dir() {
            anyhow::bail!(
                "--watch {}: not a directory; give the folder your agents' .wasm files are built into",
                dir.display()
            );
        }
        let mut w = Self {
            dir: absolute(dir),
            by_path: agents
                .iter()
                .map(|(name, path)| (absolute(path), name.clone()))
                .collect(),
            names: agents.iter().map(|(n, _)| n.clone()).collect(),
            seen: HashMap::new(),
            settling: HashMap::new(),
            preparer,
            calls,
        };
        for path in w.components()? {
            if let (Some(stamp), Ok(bytes)) = (stamp(&path), std::fs::read(&path)) {
                let sha256 = Sha256::digest(&bytes).into();
                w.seen.insert(path, Seen { stamp, sha256 });
            }
        }
        Ok(w)
    }

    /// The `.wasm` files in the directory.
    fn components(&self) -> anyhow::Result<Vec<PathBuf>> {
        let entries = std::fs::read_dir(&self.dir)
            .with_context(|| format!("cannot read --watch {}", self.dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wasm") && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    }

    /// The agent `path` belongs to.
    fn agent_for(&self, path: &Path) -> Option<String> {
        if let Some(name) = self.by_path.get(path) {
            return Some(name.clone());
        }
        let stem = path.file_stem()?.to_str()?;
        self.names.iter().find(|n| *n == stem).cloned()
    }

    /// Poll until `stop` is set.
    pub(super) fn run(mut self, stop: &AtomicBool) {
        eprintln!(
            "floor: watching {} for agents' components",
            self.dir.display()
        );
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(POLL);
            match self.components() {
                Ok(files) => {
                    for path in files {
                        self.look_at(path);
                    }
                }
                Err(e) => eprintln!("floor: watch: {e:#}"),
            }
        }
    }

    /// Deploy `path` if it changed and has settled.
    fn look_at(&mut self, path: PathBuf) {
        let Some(now) = stamp(&path) else {
            return;
        };
        if self.seen.get(&path).is_some_and(|s| s.stamp == now) {
            self.settling.remove(&path);
            return;
        }
        if self.settling.insert(path.clone(), now) != Some(now) {
            return; // changed since the last poll: wait for a quiet one
        }
        self.settling.remove(&path);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("floor: watch: cannot read {}: {e}", path.display());
                return;
            }
        };
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let same = self.seen.get(&path).is_some_and(|s| s.sha256 == sha256);
        self.seen.insert(path.clone(), Seen { stamp: now, sha256 });
        if same {
            return;
        }
        let file = path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        let Some(agent) = self.agent_for(&path) else {
            eprintln!(
                "floor: watch: {file} changed, but no agent runs it (name it after an agent: {})",
                self.names.join(", ")
            );
            return;
        };
        match self.deploy(&agent, bytes) {
            Ok(line) => eprintln!("floor: watch: {file} → `{agent}`: {line}"),
            Err(e) => eprintln!(
                "floor: watch: {file} → `{agent}` refused, the running version carries on: {e:#}"
            ),
        }
    }

    fn deploy(&self, agent: &str, component: Vec<u8>) -> anyhow::Result<String> {
        let candidate = self.preparer.prepare(&DeployRequest {
            agent: agent.to_string(),
            component,
            config: Default::default(),
            shadow: false,
        })?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.calls
            .send(Call {
                op: Operation::Deploy(Box::new(candidate)),
                reply,
            })
            .map_err(|_| anyhow::anyhow!("the node has stopped"))?;
        let value = answer
            .blocking_recv()
            .map_err(|_| anyhow::anyhow!("the node has stopped"))??;
        let e = &value["event"];
        Ok(format!(
            "{} → {} ({})",
            e["from"].as_str().unwrap_or("?"),
            e["to"].as_str().unwrap_or("?"),
            e["detail"].as_str().unwrap_or("")
        ))
    }
}

/// Start watching `dir` on a thread of its own.
///
/// # Errors
/// When `dir` is not a readable directory, or no thread can be started.
pub(super) fn spawn(
    dir: &Path,
    agents: &[(String, PathBuf)],
    preparer: Preparer,
    calls: Sender<Call>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let watcher = Watcher::new(dir, agents, preparer, calls)?;
    std::thread::Builder::new()
        .name("floor-watch".into())
        .spawn(move || watcher.run(&stop))
        .context("cannot start the watcher thread")?;
    Ok(())
}
