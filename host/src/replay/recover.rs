//! Crash recovery: the state a host had when it stopped, rebuilt from its
//! journal.
//!
//! The journal holds every input of the last session in the order the
//! node took it, the state the session started from, and every order
//! before it left. Replaying that session through the versions it ran
//! (by hash, from the kept artifacts) brings a node to exactly the state
//! the stopped one had after its last journaled input — agents, orders,
//! account, trading state — however it stopped (`kill -9` included). That
//! state is what the next session starts from ([`Node::start`]); the venue
//! is then asked about the orders still open, which settles what happened
//! while the host was down.
//!
//! The one place the record can end mid-thought: the stopped node may
//! have decided an order and died before journaling it. Orders are
//! journaled before they leave, so such an order never reached the venue:
//! the replay answers it as rejected (`not_sent`) and the agent that
//! wanted it hears so. A cancel decided but never journaled likewise never
//! left; the order it meant is reconciled as the venue holds it.
//!
//! Why replay rather than a snapshot per input: the journal already is the
//! truth, and a replay cannot disagree with it. The cost is proportional
//! to the last session's length, which checkpoints bound: a running host
//! starts a new session from its own whole state every
//! `[journal] checkpoint_every_s` (see `node::checkpoint`), and recovery
//! starts from the last one.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use crate::node::snapshot::NodeState;

use super::{Divergence, Session, Tape, drive, rebuild, session};
use crate::store::Store;

/// What recovery found.
#[derive(Debug)]
pub struct Recovered {
    /// The state to carry on from.
    pub state: NodeState,
    /// Seq of the session it came from.
    pub session: u64,
    /// Records replayed: that session's, and those of the sessions before
    /// it back to the newest checkpoint the store had.
    pub replayed: u64,
    /// Orders the stopped host decided but never sent.
    pub unsent: u64,
    /// Where the replay could not follow the record (a call cut by its
    /// wall-clock deadline, say): the state is as of that point.
    pub divergence: Option<Divergence>,
    /// How long it took, ms.
    pub took_ms: u64,
}

/// Rebuild the state of the host that last ran on `data_dir`; none when
/// its journal holds no session (a first start).
///
/// # Errors
/// When the journal or a kept artifact cannot be read, or the recorded
/// node cannot be built again; the message says which.
pub fn recover(data_dir: &Path) -> anyhow::Result<Option<Recovered>> {
    let journal = data_dir.join("journal");
    if !journal.is_dir() || crate::journal::reader::segments(&journal)?.is_empty() {
        return Ok(None);
    }
    let started = Instant::now();
    let recorded = session::read(data_dir)?;
    let Some(last) = recorded.sessions.last() else {
        return Ok(None);
    };
    let store_path = data_dir.join("floor.db");
    let first = first_to_replay(&recorded.sessions, Store::last_checkpoint(&store_path));
    let work = tempfile::Builder::new()
        .prefix("floor-recover-")
        .tempdir()
        .context("cannot make a temporary directory for recovery")?;
    let mut replayed = 0u64;
    let mut end = None;
    for s in &recorded.sessions[first..] {
        let context = || format!("recovering session {} of `{}`", s.seq, data_dir.display());
        let cfg = session::config_for(&s.start, &recorded.artifacts, work.path(), None, &[])
            .with_context(context)?;
        let tape = Tape::recovering(&s.records);
        let mut node = rebuild(s, cfg, &tape, &recorded.artifacts).with_context(context)?;
        // What the stopped host decided but had not yet written to its
        // store (its writes are batched) is written now; the rest is there
        // already, and written once however often it comes.
        node.set_store(Store::open(&store_path)?.orders_only());
        drive(&mut node, &tape, &recorded.artifacts, None).with_context(context)?;
        let t = tape.lock().expect("recovery tape lock poisoned");
        replayed += t.position() as u64;
        if let Some(d) = t.divergence() {
            tracing::warn!(
                "recovery could not follow the journal past record {} (it had: {}; the replay: {}): carrying on from the state there, and reconciling with the venue",
                d.seq,
                d.recorded,
                d.replayed
            );
        }
        drop(t);
        end = Some((node, tape));
    }
    let (mut node, tape) = end.expect("the last session is replayed");
    let state = node.capture();
    drop(node);
    let t = tape.lock().expect("recovery tape lock poisoned");
    Ok(Some(Recovered {
        state,
        session: last.seq,
        replayed,
        unsent: t.unsent,
        divergence: t.divergence().cloned(),
        took_ms: started.elapsed().as_millis() as u64,
    }))
}

/// The first session to replay: the last, unless it starts at a
/// checkpoint the store does not have yet (the host died before its
/// store caught up): then the one before too, and so on back to a
/// checkpoint the store has (`stored`, the newest), or to a start that is
/// not a checkpoint. Replaying from there rewrites every row the store
/// may lack.
fn first_to_replay(sessions: &[Session], stored: Option<u64>) -> usize {
    let mut first = sessions.len().saturating_sub(1);
    while first > 0
        && sessions[first].is_checkpoint()
        && stored.is_none_or(|seq| seq < sessions[first].seq)
    {
        first -= 1;
    }
    first
}
