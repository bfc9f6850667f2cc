//! Deterministic replay: the recorded inputs through the recorded agent
//! versions, checked against what the node did then.
//!
//! The node is one deterministic loop over its inputs (DESIGN.md,
//! invariant 2), and the journal holds every input in the order the node
//! took it, each agent's artifact by hash, and every order and cancel
//! before it left. Replaying a session builds the same node from the
//! recorded config ([`session`]), gives it the journal as its venue
//! ([`tape`]), and feeds the operator's commands and injected data where
//! they were recorded. Every order and cancel the replay sends must be
//! byte for byte the one on record; the first that is not stops the
//! replay and is reported as the divergence.
//!
//! The digest covers every order and cancel and every message published
//! on the bus (in delivery order), so two replays of the same journal —
//! on this machine or another — can be compared beyond the orders.
//!
//! With candidate versions of agents ([`whatif`]), a replay answers a
//! different question — what would this version have done on that
//! market? — and reports the orders added, removed and changed.
//!
//! A call cut by an agent's wall-clock deadline was decided by machine
//! load, not input: the run journals each cut, and the replay, which runs
//! without a wall clock (no load of its own machine cuts anything), cuts
//! exactly those calls. What a replay cannot repeat, and says so by
//! diverging: a probation that ended on wall-clock time. Everything else an agent
//! can observe is pinned: it reads event time, its random numbers are
//! seeded, floats are NaN-canonicalised and relaxed SIMD is deterministic
//! (see `runtime::engine`).

pub mod digest;
pub mod recover;
pub mod session;
pub mod tape;
pub mod whatif;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use serde::Serialize;

use crate::config::NodeConfig;
use crate::deploy::{Artifacts, DeployRequest};
use crate::node::Node;
use crate::node::operator::Operation;
use crate::node::record::{AgentVersion, decode_market, kind};
pub use session::{Recorded, Session};
pub use tape::{Divergence, Tape, TapeVenue};
pub use whatif::{DecisionDiff, what_if};

/// What replaying one session found.
#[derive(Debug, Clone, Serialize)]
pub struct SessionReport {
    /// Seq of the session's start record.
    pub session: u64,
    /// Wall clock when the recorded node started, ns.
    pub started_wall_ns: u64,
    /// The config it ran.
    pub config: String,
    /// Its agents and their versions.
    pub agents: Vec<AgentVersion>,
    /// Records in the session that the replay takes (all but its cut
    /// records).
    pub records: u64,
    /// Calls the recorded run's wall-clock deadlines cut, cut again here.
    pub cuts: u64,
    /// Records replayed (all of them, unless the replay diverged or
    /// `--to` stopped it).
    pub replayed: u64,
    /// Orders sent (each identical to the recorded one).
    pub orders: u64,
    /// Cancels sent (each identical to the recorded one).
    pub cancels: u64,
    /// Messages published on the bus during the replay.
    pub messages: u64,
    /// SHA-256 over orders, cancels and messages, hex.
    pub digest: String,
    /// The first difference, if any.
    pub divergence: Option<Divergence>,
    /// The session was cut short (no clean stop on record): what its last
    /// input caused past the end of the record is not compared.
    pub cut_short: bool,
    /// Orders the replay decided past the end of a cut-short session:
    /// the recorded node died before sending them.
    pub unsent: u64,
    /// The session ended at a checkpoint, and the replay's whole state
    /// there (agents' snapshots, orders, account, timers, counters) was
    /// found identical to the recorded one.
    pub checkpoint_checked: bool,
    /// Market events agents took in runs (`on-market-run`), and the runs:
    /// how the replay delivered them, which changes nothing else here.
    pub in_runs: (u64, u64),
}

/// Where a replay keeps what it needs besides the journal.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Store, dead letters: written here, never in the recorded directory.
    pub work_dir: PathBuf,
    /// Compiled components (the recorded host's cache serves).
    pub cache_dir: PathBuf,
    /// How market events reach the agents: in runs (the default) or one
    /// call per event, as the recorded host did. Either gives the same
    /// outputs and digest.
    pub delivery: crate::node::Delivery,
}

/// Replay `session` of `recorded`, up to event time `to` if given.
///
/// # Errors
/// When the node cannot be rebuilt (see [`session::config_for`]) or an
/// operator's deploy cannot be prepared again.
pub fn replay_session(
    recorded: &Recorded,
    session: &Session,
    ws: &Workspace,
    to: Option<u64>,
) -> anyhow::Result<SessionReport> {
    let start = &session.start;
    let dir = ws.work_dir.join(format!("session-{}", session.seq));
    let cfg = session::config_for(start, &recorded.artifacts, &dir, Some(&ws.cache_dir), &[])?;
    // A session cut short may end mid-input: orders past its end never
    // left, so they are counted, not a divergence.
    let tape = if session.closed {
        Tape::new(&session.records)
    } else {
        Tape::recovering(&session.records)
    };
    let mut node = rebuild(session, cfg, &tape, &recorded.artifacts)?;
    let running: Vec<AgentVersion> = node
        .summary(0.0)
        .agents
        .into_iter()
        .map(|a| AgentVersion {
            name: a.name,
            sha256: a.version,
        })
        .collect();
    anyhow::ensure!(
        running == start.running(),
        "the rebuilt node runs {running:?}, not the recorded {:?}",
        start.running()
    );
    node.tap(crate::model::TopicPattern::parse("#").expect("`#` is a valid pattern"));
    node.set_delivery(ws.delivery);
    let messages = drive(&mut node, &tape, &recorded.artifacts, to)?;
    let checked = check_checkpoint(&mut node, &tape, recorded, session);
    let in_runs = node.summary(0.0).agents.iter().fold((0, 0), |(e, r), a| {
        (e + a.market_in_runs, r + a.market_runs)
    });
    node.flush();
    let mut t = lock(&tape);
    Ok(SessionReport {
        session: session.seq,
        started_wall_ns: start.wall_ns,
        config: start.config.name.clone(),
        agents: start.agents.clone(),
        records: t.len() as u64,
        cuts: tape::cuts(&session.records)?.len() as u64,
        replayed: t.position() as u64,
        orders: t.orders,
        cancels: t.cancels,
        messages,
        digest: t.digest_hex(),
        divergence: t.divergence().cloned(),
        cut_short: !session.closed,
        unsent: t.unsent,
        checkpoint_checked: checked,
        in_runs,
    })
}

/// When the session ended at a checkpoint (the next session starts from
/// the state the recorded node had then) and the replay got to its end:
/// compare the replay's whole state with the recorded one. A difference
/// is the divergence (the replay would carry on from another state).
/// True when a checkpoint was compared and found identical.
fn check_checkpoint(
    node: &mut Node,
    tape: &Arc<Mutex<Tape>>,
    recorded: &Recorded,
    session: &Session,
) -> bool {
    let Some(next) = recorded
        .sessions
        .iter()
        .find(|n| n.seq > session.seq)
        .filter(|n| n.is_checkpoint())
    else {
        return false;
    };
    {
        let t = lock(tape);
        if t.divergence().is_some() || t.position() < t.len() {
            return false;
        }
    }
    let want = next.state.as_ref().expect("a checkpoint has a state");
    let got = node.capture_all();
    match crate::node::snapshot::first_difference(want, &got) {
        None => true,
        Some(what) => {
            lock(tape).diverge_at(
                next.seq,
                want.at,
                format!("checkpoint: {what} as recorded"),
                format!("{what} differs"),
            );
            false
        }
    }
}

/// The node `session` ran, built from `cfg` on `tape`, from the state the
/// session started from: a restart's, or a checkpoint's (with the
/// versions deployed by then, from `artifacts`).
fn rebuild(
    session: &Session,
    cfg: NodeConfig,
    tape: &Arc<Mutex<Tape>>,
    artifacts: &Artifacts,
) -> anyhow::Result<Node> {
    let venue = Box::new(TapeVenue::new(&session.start.venue, tape.clone()));
    let mut node = start_node(session, &cfg, venue, artifacts, &[])
        .context("cannot rebuild the recorded node")?;
    node.continue_order_ids(&session.start.order_ids);
    node.repeat_cuts(&tape::cuts(&session.records)?);
    Ok(node)
}

/// Build `session`'s node from `cfg` on `venue`, from the state it
/// started from: a restart's (put back as a restart does), or a
/// checkpoint's (the versions deployed by then started from `artifacts`,
/// except for the agents in `keep`, which run what `cfg` names; then the
/// whole state).
///
/// The node writes no store: a replay's or a what-if's rows would go to a
/// workspace thrown away after it (SQLite's writer took a third of a core
/// beside a replay); recovery gives the node the data directory's store.
///
/// # Errors
/// When the node or a deployed version cannot be started, or the state
/// does not fit the node.
pub(crate) fn start_node(
    session: &Session,
    cfg: &NodeConfig,
    venue: Box<dyn crate::venue::Venue>,
    artifacts: &Artifacts,
    keep: &[String],
) -> anyhow::Result<Node> {
    let mut node = if session.is_checkpoint() {
        Node::start(cfg, venue, None)?
    } else {
        Node::start(cfg, venue, session.state.as_ref())?
    };
    node.set_store(crate::store::Store::none(&cfg.data_dir.join("floor.db")));
    if !session.is_checkpoint() {
        return Ok(node);
    }
    let deployed: Vec<_> = session
        .start
        .deployed
        .iter()
        .filter(|d| !keep.contains(&d.name))
        .cloned()
        .collect();
    node.install_versions(&deployed, artifacts)
        .context("cannot start the versions the checkpoint ran")?;
    let state = session.state.as_ref().expect("a checkpoint has a state");
    node.continue_from(state, false).with_context(|| {
        format!(
            "cannot carry on from the checkpoint in record {}",
            session.seq
        )
    })?;
    Ok(node)
}

/// Feed `tape`'s inputs to `node` (up to event time `to`) until the tape
/// ends or diverges; the messages the node published (when tapped) are
/// folded into the tape's digest. Returns how many there were.
fn drive(
    node: &mut Node,
    tape: &Arc<Mutex<Tape>>,
    artifacts: &Artifacts,
    to: Option<u64>,
) -> anyhow::Result<u64> {
    let mut messages = 0u64;
    // What the node published, folded into the digest after each input —
    // each event of a run included, so an order sent on the run's last
    // event folds after the messages of those before it, as one input at
    // a time would have. The digest encodes them on its own thread.
    let mut fold = |node: &mut Node| {
        if node.tapped().is_empty() {
            return;
        }
        let mut t = lock(tape);
        node.drain_tapped(|env| {
            messages += 1;
            t.fold_message(env);
        });
    };
    loop {
        let next = {
            let t = lock(tape);
            t.peek().map(|e| (e.kind, e.time, e.seq))
        };
        let Some((k, time, seq)) = next else { break };
        if to.is_some_and(|to| time > to) {
            break;
        }
        match k {
            kind::MARKET => {
                node.step_run(to, &mut fold);
                continue;
            }
            kind::VENUE | kind::IDLE => {
                node.step();
            }
            kind::INJECTED => {
                let event = {
                    let mut t = lock(tape);
                    let e = t.peek().expect("peeked");
                    let m = decode_market(&e.payload)
                        .with_context(|| format!("journal record {seq} is not market data"))?;
                    t.advance();
                    m
                };
                node.inject(event, time);
            }
            kind::OPERATION => {
                let payload = {
                    let mut t = lock(tape);
                    let p = t.peek().expect("peeked").payload.clone();
                    t.advance();
                    p
                };
                operate(node, artifacts, &payload)
                    .with_context(|| format!("replaying the operator command in record {seq}"))?;
            }
            _ => lock(tape).diverge("nothing: it did not send this".into()),
        }
        fold(node);
    }
    Ok(messages)
}

fn lock(tape: &Arc<Mutex<Tape>>) -> std::sync::MutexGuard<'_, Tape> {
    tape.lock().expect("replay tape lock poisoned")
}

/// Apply a recorded operator command; a deploy is prepared again from
/// the artifact it recorded.
fn operate(node: &mut Node, artifacts: &Artifacts, payload: &[u8]) -> anyhow::Result<()> {
    let value: serde_json::Value = serde_json::from_slice(payload)?;
    let op = if value["command"] == "deploy" {
        let field = |k: &str| {
            value[k]
                .as_str()
                .map(str::to_string)
                .with_context(|| format!("the recorded deploy has no `{k}`"))
        };
        let sha256 = field("sha256")?;
        let req = DeployRequest {
            agent: field("agent")?,
            component: artifacts.read(&sha256)?,
            config: serde_json::from_value(value["overrides"].clone()).unwrap_or_default(),
            shadow: value["shadow"].as_bool().unwrap_or(false),
        };
        let candidate = node.preparer().prepare(&req)?;
        Operation::Deploy(Box::new(candidate))
    } else {
        serde_json::from_value(value)?
    };
    // Refused then, refused now: the outcome is the node's to repeat.
    let _ = node.operate(op);
    Ok(())
}

/// The default workspace for replaying `data_dir`: a fresh temporary
/// directory, and the recorded host's own compile cache.
///
/// # Errors
/// When no temporary directory can be made.
pub fn workspace(data_dir: &Path) -> anyhow::Result<(tempfile::TempDir, Workspace)> {
    let tmp = tempfile::Builder::new()
        .prefix("floor-replay-")
        .tempdir()
        .context("cannot make a temporary directory for the replay")?;
    let ws = Workspace {
        work_dir: tmp.path().to_path_buf(),
        cache_dir: data_dir.join("cache"),
        delivery: crate::node::Delivery::default(),
    };
    Ok((tmp, ws))
}
