//! The store: orders, order events, fills, dead letters and the audit
//! trail in SQLite, so people can ask questions with `sqlite3`.
//!
//! SQLite (through `rusqlite`, with SQLite bundled so no system library is
//! needed) because the question after a trading day is ad hoc — "every
//! fill of agent X between 14:00 and 14:05", "which limit refused most" —
//! and SQL answers it with tools everyone has. The journal stays the
//! truth (it has every input, in order); the store is a query view of
//! what the host decided, written as it happens.
//!
//! Writes never sit on the trading path: the node hands rows to a channel
//! and a thread of the store's own writes them in batches, one transaction
//! per batch (WAL mode). The channel is unbounded so the node never waits;
//! a row that cannot be written is logged and counted
//! ([`Store::errors`]), never allowed to stop trading. Dropping the
//! [`Store`] writes what is queued and waits for the thread.
//!
//! The writer runs at a lower priority than the node (nice +[`NICE`]): on
//! a machine with few cores, SQLite's work (a fifth of the node's CPU time
//! when every tick trades) competes with the trading thread for a core,
//! and it is the one that can wait — its rows queue, and are all written.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use rusqlite::{Connection, params};

use crate::model::{OrderEvent, OrderIntent, OrderStatus, OrderType};

/// The schema, applied (idempotently) when the store opens.
pub const SCHEMA: &str = include_str!("schema.sql");

/// One thing to record.
#[derive(Debug, Clone)]
pub enum Row {
    /// An order event, with what the order asked for.
    OrderEvent {
        /// The event as published.
        event: OrderEvent,
        /// The order's intent (after any resize).
        intent: OrderIntent,
        /// Event time.
        at: u64,
        /// Trace id.
        trace: u64,
    },
    /// A dead letter.
    DeadLetter {
        /// Event time.
        at: u64,
        /// Agent.
        agent: String,
        /// Reason code.
        reason: String,
        /// Attempts made.
        attempts: u32,
        /// The envelope's topic.
        topic: String,
        /// What happened.
        detail: String,
    },
    /// An audit line.
    Audit {
        /// Event time.
        at: u64,
        /// Who.
        actor: String,
        /// What.
        action: String,
        /// Details.
        detail: String,
    },
    /// A checkpoint: every row queued before it is written (see
    /// [`Store::last_checkpoint`]).
    Checkpoint {
        /// Seq of its session record in the journal.
        seq: u64,
        /// Event time.
        at: u64,
    },
    /// Answer on the channel once everything before it is written.
    Flush(Sender<()>),
}

/// The store of a running host.
#[derive(Debug)]
pub struct Store {
    tx: Option<Sender<Row>>,
    thread: Option<JoinHandle<()>>,
    errors: Arc<AtomicU64>,
    path: PathBuf,
    /// Write order rows only (see [`Store::orders_only`]).
    orders_only: bool,
}

/// Why the store could not open.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the store at {path}: {source}; {}", hint(source))]
pub struct StoreError {
    path: PathBuf,
    source: rusqlite::Error,
}

/// What to do about an error opening the store.
fn hint(e: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode::{CannotOpen, PermissionDenied, ReadOnly};
    match e.sqlite_error_code() {
        Some(CannotOpen | PermissionDenied | ReadOnly) => {
            "check that the data directory is writable"
        }
        _ => {
            "the file is damaged or from a Floor this one cannot upgrade: move it aside and start again (the journal beside it stays the truth; the store is rebuilt as the host runs)"
        }
    }
}

/// The schema version `open` leaves a store at (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Bring a store written by an older Floor up to [`SCHEMA_VERSION`] before
/// the schema is applied. Version 0 did not make order events unique, and
/// a data directory run twice on a venue that starts empty each time holds
/// the same (order, status, filled) more than once: keep the first of
/// each, so that the unique index can be made.
fn upgrade(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let has_events: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'order_events'",
        [],
        |r| r.get(0),
    )?;
    if has_events > 0 {
        let removed = conn.execute(
            "DELETE FROM order_events WHERE id NOT IN \
             (SELECT min(id) FROM order_events GROUP BY order_id, status, cumulative_quantity)",
            [],
        )?;
        if removed > 0 {
            tracing::info!(removed, "store upgraded: repeated order events removed");
        }
    }
    Ok(())
}

impl Store {
    /// Open (or create) the store at `path` and start its writer.
    ///
    /// # Errors
    /// When the file cannot be opened or the schema applied.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        upgrade(&conn).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(err)?;
        let (tx, rx) = channel();
        let errors = Arc::new(AtomicU64::new(0));
        let counted = errors.clone();
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("floor-store".into())
            .spawn(move || {
                lower_priority();
                write_loop(conn, &rx, &counted, &shown);
            })
            .expect("spawning the store's thread");
        Ok(Store {
            tx: Some(tx),
            thread: Some(thread),
            errors,
            path: path.to_path_buf(),
            orders_only: false,
        })
    }

    /// A store that keeps nothing: for a run whose own report is the
    /// record (a backtest), where writing SQLite rows nobody reads costs
    /// a core.
    pub fn none(path: &Path) -> Store {
        Store {
            tx: None,
            thread: None,
            errors: Arc::new(AtomicU64::new(0)),
            path: path.to_path_buf(),
            orders_only: false,
        }
    }

    /// Keep only order rows (orders and their events, which are written
    /// once however often they come): crash recovery rewrites a stopped
    /// host's last events, and its dead letters and audit lines, which
    /// have no such identity, are not written twice.
    #[must_use]
    pub fn orders_only(mut self) -> Store {
        self.orders_only = true;
        self
    }

    /// Whether rows are written at all ([`Store::none`] writes none): a
    /// caller can skip building a row nobody keeps.
    pub fn records(&self) -> bool {
        self.tx.is_some()
    }

    /// Queue a row; never blocks.
    pub fn record(&self, row: Row) {
        if self.orders_only && matches!(row, Row::DeadLetter { .. } | Row::Audit { .. }) {
            return;
        }
        if let Some(tx) = &self.tx
            && tx.send(row).is_err()
        {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Wait until every row queued so far is written.
    pub fn flush(&self) {
        let (tx, rx) = channel();
        self.record(Row::Flush(tx));
        let _ = rx.recv();
    }

    /// The newest checkpoint the store at `path` has every earlier row
    /// of (the seq of its session record); none when it has none, or
    /// there is no store.
    pub fn last_checkpoint(path: &Path) -> Option<u64> {
        let conn =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        conn.query_row("SELECT max(seq) FROM checkpoints", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .ok()
        .flatten()
        .map(|s| s as u64)
    }

    /// Rows that could not be written.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How much nicer than the node the store's writer is (a nice value 10
/// above gets about a tenth of the CPU time when the two share a core).
pub const NICE: i32 = 10;

/// Make the calling thread [`NICE`] nicer than it is. Where that cannot be
/// done (not Linux, or refused), the writer runs as it is.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        let now = getpriority_process(me).unwrap_or(0);
        if let Err(e) = setpriority_process(me, now.saturating_add(NICE).min(19)) {
            tracing::debug!("the store's writer keeps its priority: {e}");
        }
    }
}

/// Rows per transaction at most.
const BATCH: usize = 4096;

/// How long the writer lets rows gather after the first one wakes it.
///
/// While the writer sleeps here the node's sends only queue: waking a
/// thread blocked in `recv` is a system call on the sender's side, and a
/// transaction per row would keep the second core busy with SQLite while
/// the node trades. Measured with `floor bench --only tick`: without the
/// wait, `tick_to_order_ns_p99` read 76–98 µs; with it, 51–58 µs (about
/// half of what the p99 had above the p50). A flush skips the wait, and
/// so does a writer that is behind (its last batch was full).
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

fn write_loop(mut conn: Connection, rx: &Receiver<Row>, errors: &AtomicU64, path: &str) {
    // A lost batch leaves a gap no later checkpoint row may claim is not
    // there: from the first failure on, checkpoints are not written, and
    // a recovery starts from the last one before it.
    let mut lost_a_batch = false;
    let mut behind = false;
    while let Ok(first) = rx.recv() {
        if !behind && !matches!(first, Row::Flush(_)) {
            std::thread::sleep(LINGER);
        }
        let mut batch = vec![first];
        while batch.len() < BATCH
            && let Ok(r) = rx.try_recv()
        {
            batch.push(r);
        }
        behind = batch.len() == BATCH;
        let mut flushes = Vec::new();
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            for row in batch {
                match row {
                    Row::Flush(done) => flushes.push(done),
                    Row::Checkpoint { .. } if lost_a_batch => {}
                    row => write(&tx, &row)?,
                }
            }
            tx.commit()
        })();
        if let Err(e) = result {
            errors.fetch_add(1, Ordering::Relaxed);
            lost_a_batch = true;
            tracing::error!("store {path}: a batch was not written: {e}");
        }
        for f in flushes {
            let _ = f.send(());
        }
    }
}

fn write(tx: &rusqlite::Transaction<'_>, row: &Row) -> rusqlite::Result<()> {
    match row {
        Row::OrderEvent {
            event: e,
            intent: i,
            at,
            trace,
        } => {
            let reason = match &e.status {
                OrderStatus::Rejected { reason } => Some(reason.as_str()),
                _ => None,
            };
            let order_type = match i.order_type {
                OrderType::Market => "market",
                OrderType::Limit => "limit",
            };
            let at = *at as i64;
            tx.prepare_cached(
                "INSERT INTO orders (order_id, agent, tag, symbol, side, order_type, quantity,
                     limit_price, stop_price, status, reason, filled, created_ns, updated_ns)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
                 ON CONFLICT (order_id) DO UPDATE SET status = ?10, reason = ?11,
                     filled = ?12, updated_ns = ?13",
            )?
            .execute(params![
                e.order_id.as_str(),
                e.agent.as_str(),
                e.tag.as_str(),
                e.symbol.as_str(),
                e.side.name(),
                order_type,
                i.quantity,
                i.limit_price,
                i.stop_price,
                e.status.name(),
                reason,
                e.cumulative_quantity,
                at,
            ])?;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO order_events (order_id, event_ns, trace_id, status, reason,
                     last_quantity, last_price, cumulative_quantity, leaves_quantity, fee)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                e.order_id.as_str(),
                at,
                *trace as i64,
                e.status.name(),
                reason,
                e.last_quantity,
                e.last_price,
                e.cumulative_quantity,
                e.leaves_quantity,
                e.fee,
            ])?;
        }
        Row::DeadLetter {
            at,
            agent,
            reason,
            attempts,
            topic,
            detail,
        } => {
            tx.prepare_cached(
                "INSERT INTO dead_letters (event_ns, agent, reason, attempts, topic, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![*at as i64, agent, reason, attempts, topic, detail])?;
        }
        Row::Audit {
            at,
            actor,
            action,
            detail,
        } => {
            tx.prepare_cached(
                "INSERT INTO audit (event_ns, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![*at as i64, actor, action, detail])?;
        }
        Row::Checkpoint { seq, at } => {
            tx.prepare_cached("INSERT OR IGNORE INTO checkpoints (seq, event_ns) VALUES (?1, ?2)")?
                .execute(params![*seq as i64, *at as i64])?;
        }
        Row::Flush(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's nice value, as the kernel has it.
    #[cfg(target_os = "linux")]
    fn nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // After the command's closing parenthesis: state is field 3, nice 19.
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        rest.split_whitespace().nth(16).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn lowering_the_priority_makes_the_thread_nice_more_nice() {
        let (before, after) = std::thread::spawn(|| {
            let before = nice();
            lower_priority();
            (before, nice())
        })
        .join()
        .unwrap();
        assert_eq!(after, (before + NICE).min(19), "from {before}");
        assert!(after > before || before == 19);
    }

    /// The schema before order events were unique.
    fn version_0(path: &Path) {
        let unique = "CREATE UNIQUE INDEX IF NOT EXISTS order_events_once\n    ON order_events (order_id, status, cumulative_quantity);";
        assert!(SCHEMA.contains(unique));
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(&SCHEMA.replace(unique, "")).unwrap();
        conn.execute(
            "INSERT INTO orders (order_id, agent, tag, symbol, side, order_type, quantity, status, filled, created_ns, updated_ns)
             VALUES ('t-1', 't', '', 'BTCUSDT', 'buy', 'market', 2, 'filled', 2, 1, 1)",
            [],
        )
        .unwrap();
        for (order, status, filled) in [("t-1", "accepted", 0.0), ("t-1", "filled", 2.0)] {
            for _ in 0..3 {
                conn.execute(
                    "INSERT INTO order_events (order_id, event_ns, trace_id, status, last_quantity, last_price, cumulative_quantity, leaves_quantity, fee)
                     VALUES (?1, 1, 1, ?2, 0, 0, ?3, 0, 0)",
                    params![order, status, filled],
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn a_store_from_before_unique_events_is_upgraded_keeping_the_first_of_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.db");
        version_0(&path);
        drop(Store::open(&path).expect("the old store opens"));
        let conn = Connection::open(&path).unwrap();
        let ids: Vec<i64> = conn
            .prepare("SELECT id FROM order_events ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ids, [1, 4]);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(conn);
        drop(Store::open(&path).expect("and opens again"));
    }

    #[test]
    fn a_file_that_is_not_a_store_says_to_move_it_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("floor.db");
        std::fs::write(&path, vec![7u8; 4096]).unwrap();
        let e = Store::open(&path).unwrap_err().to_string();
        assert!(e.contains("move it aside"), "{e}");
        assert!(!e.contains("writable"), "{e}");
    }
}
