//! Checkpoints: a running node journals its whole state and carries on
//! from it as a new session; a replay checks each against its own state
//! there, and a recovery replays only the journal since the last.

use std::path::Path;

use floor_host::journal::read_all;
use floor_host::node::Node;
use floor_host::node::operator::Operation;
use floor_host::node::record::{SessionStart, kind};

use crate::journal::quote;

/// The desk (trend, fast 1 / slow 2: it orders on most turns) behind the
/// gate, journaled, a checkpoint every second of event time, and
/// probation ended by messages alone (wall time would not repeat).
fn node(data: &Path) -> Node {
    let cfg = crate::journal::desk_config(
        data,
        "checkpoint_every_s = 1\n\n[deploy]\nprobation_messages = 20\nprobation_secs = 0",
    );
    Node::new(&cfg, Box::new(floor_tests::test_venue(&cfg))).unwrap()
}

/// Ticks `ticks`, 10 ms apart, turning the market, with a checkpoint
/// whenever one is due (as `floor run` does between inputs); the number
/// taken.
fn trade(node: &mut Node, ticks: std::ops::RangeInclusive<u64>) -> usize {
    ticks
        .filter(|&i| {
            node.inject(
                quote(if i % 2 == 0 { 100.0 } else { 101.0 }),
                i * 10_000_000,
            );
            node.checkpoint_if_due()
        })
        .count()
}

fn replay(dir: &Path) -> serde_json::Value {
    let out = floor_tests::floor(&["replay", dir.to_str().unwrap(), "--json"], None);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A recorded run: 1.5 s of market, a deploy (the same component with a
/// larger quantity) whose probation ends, then 2.5 s more; dropped
/// without a clean stop, as a crash would leave it.
fn recorded_run(data: &Path) -> usize {
    let mut node = node(data);
    let mut taken = trade(&mut node, 1..=150);
    let candidate = node
        .preparer()
        .prepare(&crate::replay::larger_desk())
        .unwrap();
    node.operate(Operation::Deploy(Box::new(candidate)))
        .unwrap();
    taken += trade(&mut node, 151..=400);
    assert_eq!(node.summary(0.0).checkpoints, taken as u64);
    let status = node.status();
    let c = &status["checkpoint"];
    assert_eq!(
        (c["every_s"].as_u64(), c["taken"].as_u64()),
        (Some(1), Some(taken as u64)),
        "{c}"
    );
    assert!(c["last_ns"].as_u64().unwrap() > 1_000_000_000, "{c}");
    assert!(c["not_now"].is_null(), "settled between inputs: {c}");
    taken
}

#[test]
fn a_running_node_checkpoints_into_sessions_that_replay_checks_and_recovery_starts_from() {
    let data = tempfile::tempdir().unwrap();
    let taken = recorded_run(data.path());
    // One a second of event time (4 s), but not while the deploy was on
    // probation.
    assert!((3..=4).contains(&taken), "{taken} checkpoints");

    let scan = read_all(&data.path().join("journal"), 1).unwrap();
    let starts: Vec<SessionStart> = scan
        .entries
        .iter()
        .filter(|e| e.kind == kind::SESSION)
        .map(|e| serde_json::from_slice(&e.payload).unwrap())
        .collect();
    assert_eq!(starts.len(), taken + 1);
    assert!(starts[0].state.is_none(), "the first start is fresh");
    for s in &starts[1..] {
        assert!(s.is_checkpoint(), "a checkpoint holds the whole state");
    }
    // After the deploy, a checkpoint names the version running and the
    // one it can roll back to.
    let last = starts.last().unwrap();
    assert_eq!(last.deployed.len(), 1, "{:?}", last.deployed);
    let desk = &last.deployed[0];
    assert_eq!(desk.name, "desk");
    assert_eq!(desk.live.overrides["quantity"], "0.02");
    assert_eq!(desk.earlier.len(), 1);
    assert!(desk.earlier[0].overrides.is_empty());
    let ends = scan.entries.iter().filter(|e| e.kind == kind::END).count();
    assert_eq!(ends, taken, "each checkpoint closes the session before it");

    // Every session replays as recorded, and each one's end state is the
    // state the next one starts from.
    let report = replay(data.path());
    assert_eq!(report["identical"], true, "{report:#}");
    let sessions = report["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), taken + 1);
    for s in &sessions[..taken] {
        assert_eq!(s["checkpoint_checked"], true, "{s:#}");
        assert_eq!(s["cut_short"], false);
    }
    let tail = &sessions[taken];
    assert_eq!(tail["cut_short"], true, "the run was not stopped cleanly");
    assert!(tail["orders"].as_u64().unwrap() > 0, "{tail:#}");

    // A restart replays only the session since the last checkpoint.
    let recovered = floor_host::replay::recover::recover(data.path())
        .unwrap()
        .expect("a session to recover");
    assert_eq!(
        recovered.session,
        sessions[taken]["session"].as_u64().unwrap()
    );
    assert_eq!(recovered.replayed, tail["records"].as_u64().unwrap());
    assert!(recovered.divergence.is_none());
    let total: u64 = sessions
        .iter()
        .map(|s| s["records"].as_u64().unwrap())
        .sum();
    assert!(
        recovered.replayed * 2 < total,
        "{} of {total}",
        recovered.replayed
    );

    // A host that died before its store caught up: the store lacks the
    // last checkpoint and the order rows since the one before. Recovery
    // replays from the checkpoint the store has, and rewrites them.
    let db = rusqlite::Connection::open(data.path().join("floor.db")).unwrap();
    let count = |db: &rusqlite::Connection, table: &str| -> i64 {
        db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let (orders, events) = (count(&db, "orders"), count(&db, "order_events"));
    let checkpoints: Vec<i64> = db
        .prepare("SELECT seq FROM checkpoints ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        checkpoints.len(),
        taken,
        "every checkpoint reached the store"
    );
    let kept = checkpoints[taken - 2];
    let since: i64 = db
        .query_row(
            "SELECT event_ns FROM checkpoints WHERE seq = ?1",
            [kept],
            |r| r.get(0),
        )
        .unwrap();
    db.execute("DELETE FROM checkpoints WHERE seq > ?1", [kept])
        .unwrap();
    db.execute(
        "DELETE FROM order_events WHERE order_id IN (SELECT order_id FROM orders WHERE created_ns > ?1)",
        [since],
    )
    .unwrap();
    let lost = db
        .execute("DELETE FROM orders WHERE created_ns > ?1", [since])
        .unwrap();
    assert!(lost > 0, "orders since the checkpoint before the last");
    let again = floor_host::replay::recover::recover(data.path())
        .unwrap()
        .unwrap();
    let two: u64 = sessions[taken - 1..]
        .iter()
        .map(|s| s["records"].as_u64().unwrap())
        .sum();
    assert_eq!(again.replayed, two, "the last two sessions replayed");
    assert_eq!(again.state, recovered.state, "to the same state");
    assert_eq!(
        (count(&db, "orders"), count(&db, "order_events")),
        (orders, events),
        "every row rewritten"
    );
}

#[test]
fn a_checkpoint_whose_state_was_altered_is_the_divergence() {
    let data = tempfile::tempdir().unwrap();
    recorded_run(data.path());
    let altered = tempfile::tempdir().unwrap();
    // The first checkpoint says the desk held a different state.
    let first = std::sync::atomic::AtomicBool::new(true);
    crate::replay::rewrite(data.path(), altered.path(), |k, payload| {
        if *k != kind::SESSION {
            return;
        }
        let mut s: SessionStart = serde_json::from_slice(payload).unwrap();
        let Some(state) = s.state.as_mut() else {
            return;
        };
        if first.swap(false, std::sync::atomic::Ordering::Relaxed) {
            state.agents[0].state.push(0);
            *payload = serde_json::to_vec(&s).unwrap();
        }
    });
    let out = floor_tests::floor(&["replay", altered.path().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "a divergence exits 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("checkpoint: agent `desk`'s snapshot as recorded")
            && text.contains("agent `desk`'s snapshot differs"),
        "{text}"
    );
}

/// The simulated venue, noting the highest order number it was sent.
struct Counting {
    inner: floor_host::venue::sim::SimVenue,
    highest: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl floor_host::venue::Venue for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn poll(&mut self) -> floor_host::venue::Polled {
        self.inner.poll()
    }
    fn submit(
        &mut self,
        order: floor_host::venue::VenueOrder,
        now: u64,
    ) -> Vec<floor_host::model::ExecutionReport> {
        let n: u64 = order.order_id.rsplit_once('-').unwrap().1.parse().unwrap();
        self.highest
            .fetch_max(n, std::sync::atomic::Ordering::Relaxed);
        self.inner.submit(order, now)
    }
    fn cancel(
        &mut self,
        id: &str,
        now: u64,
    ) -> Result<Vec<floor_host::model::ExecutionReport>, floor_host::venue::VenueError> {
        self.inner.cancel(id, now)
    }
    fn observe(
        &mut self,
        event: &floor_host::model::MarketEvent,
        now: u64,
    ) -> Vec<floor_host::model::ExecutionReport> {
        self.inner.observe(event, now)
    }
}

#[test]
fn keep_checkpoints_deletes_the_segments_before_them_and_order_ids_go_on() {
    let data = tempfile::tempdir().unwrap();
    let cfg = crate::journal::desk_config(
        data.path(),
        "segment_mb = 1\ncheckpoint_every_s = 1\nkeep_checkpoints = 2",
    );
    let highest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let venue = Counting {
        inner: floor_tests::test_venue(&cfg),
        highest: highest.clone(),
    };
    let mut node = Node::new(&cfg, Box::new(venue)).unwrap();
    // The desk trades for 20 s, then the market stands still for 280 s:
    // about 40 bytes of journal a tick, so 1 MB segments roll a few
    // times, and the segments left hold no order.
    let mut taken = trade(&mut node, 1..=2_000);
    for i in 2_001..=30_000 {
        node.inject(quote(100.0), i * 10_000_000);
        taken += usize::from(node.checkpoint_if_due());
    }
    drop(node);
    assert!(taken >= 290, "{taken} checkpoints");
    let journal = data.path().join("journal");
    let scan = read_all(&journal, 1).unwrap();
    assert!(scan.entries[0].seq > 1, "the first segments were deleted");
    assert!(
        !scan.entries.iter().any(|e| kind::is_order(e.kind)),
        "no order left on record: the ids must come from the checkpoints"
    );
    let sessions = scan
        .entries
        .iter()
        .filter(|e| e.kind == kind::SESSION)
        .count();
    assert!(
        (2..300).contains(&sessions),
        "the last two checkpoints kept, the oldest gone: {sessions}"
    );

    // What is left replays, and a restart numbers its orders after every
    // order ever sent, deleted segments included.
    let out = floor_tests::floor(&["replay", data.path().to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let used = floor_host::node::record::ids_used(&journal).unwrap();
    let sent = highest.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent > 100, "the desk traded: {sent}");
    assert!(used["desk"] >= sent, "{used:?}, sent up to {sent}");
}
