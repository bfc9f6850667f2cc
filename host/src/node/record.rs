//! The node's inputs, written to the journal before what they cause.
//!
//! Everything that enters the node from outside is appended in the order
//! the node takes it: what the venue's feed delivers (market data,
//! execution reports, notices, balance snapshots), the venue's immediate
//! answers to our orders and cancels, market data injected from outside,
//! the passing of time when the venue is idle (timers depend on it), and
//! operator commands. That is the journal DESIGN.md calls the truth; crash
//! recovery and replay read it back.
//!
//! Write-ahead: before an order or a cancel leaves for the venue, every
//! input appended so far is committed (handed to the OS, and synced as
//! `[journal] durability` says), so no order ever exists at a venue whose
//! cause is not on record. If the journal cannot be written the order is
//! not sent: the venue call is answered with a rejection
//! (`journal_unavailable`), and the host keeps running.
//!
//! Record kinds (the journal's `kind` byte) and their payloads:
//!
//! | kind | input | payload |
//! |---|---|---|
//! | 1 | market data from the venue's feed | postcard `MarketEvent` |
//! | 2 | the venue's immediate reports to a submit, cancel or observe (journals before kind 14) | JSON `[ExecutionReport]` |
//! | 3 | market data injected from outside the venue | postcard `MarketEvent` |
//! | 4 | the venue was idle until the record's time | empty |
//! | 5 | an operator command | JSON `Operation` |
//! | 6 | any other venue event (execution report, notice, balances) | JSON `VenueEvent` |
//! | 7 | a node started, or a running one took a checkpoint: its config, agent versions and the state it starts from | JSON [`SessionStart`] |
//! | 8 | an order about to leave for the venue (an output; journals before kind 13) | JSON `VenueOrder` |
//! | 9 | a cancel about to leave for the venue (an output) | the order id |
//! | 10 | the venue refused a cancel (no such open order) | the order id |
//! | 11 | the node stopped cleanly, or took a checkpoint (a session without one was cut short: a crash, `kill -9`) | empty |
//! | 12 | an agent's call was cut by its wall-clock deadline (machine load decided it, so a replay must be told) | JSON [`Cut`] |
//! | 13 | an order about to leave for the venue (an output) | postcard `VenueOrder` ([`super::order_records`]) |
//! | 14 | the venue's immediate reports to a submit, cancel or observe | postcard reports ([`super::order_records`]) |
//!
//! Orders and cancels are the node's outputs to the world; they are on
//! record before they leave, so `floor replay` can check that the same
//! inputs through the same agent versions send exactly the same orders.
//! A session record opens every start of a node (a restart appends a new
//! one, and so does every checkpoint of a running node, after an end
//! record): the config text, each agent's artifact hash, whose bytes the
//! node keeps in `<data_dir>/artifacts/`, and after a recovery or at a
//! checkpoint the state the node carried on from.
//!
//! Market data, the bulk of the journal, and orders and the venue's
//! answers to them, which lie on the path from a tick to an order, are
//! postcard (compact, fast; `floor journal --dump` decodes them); the rest
//! is JSON, self-describing and read as it is. Kinds 2 and 8 are the JSON
//! forms of 14 and 13 that older journals hold: every reader takes both.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::journal::{Journal, JournalConfig, JournalError};
use crate::model::{ExecutionReport, MarketEvent, Nanos, OrderStatus};
use crate::venue::{Polled, Venue, VenueError, VenueEvent, VenueOrder};

/// The record kinds (see the module docs).
pub mod kind {
    /// Market data from the feed.
    pub const MARKET: u8 = 1;
    /// The venue's immediate reports.
    pub const REPORTS: u8 = 2;
    /// Injected market data.
    pub const INJECTED: u8 = 3;
    /// Time passed with nothing to report.
    pub const IDLE: u8 = 4;
    /// An operator command.
    pub const OPERATION: u8 = 5;
    /// Any other venue event from the feed.
    pub const VENUE: u8 = 6;
    /// A node started.
    pub const SESSION: u8 = 7;
    /// An order sent.
    pub const SUBMIT: u8 = 8;
    /// A cancel sent.
    pub const CANCEL: u8 = 9;
    /// A cancel the venue refused.
    pub const CANCEL_REFUSED: u8 = 10;
    /// The node stopped cleanly.
    pub const END: u8 = 11;
    /// A call cut by the wall-clock deadline.
    pub const CUT: u8 = 12;
    /// An order sent (postcard).
    pub const ORDER: u8 = 13;
    /// The venue's immediate reports (postcard).
    pub const ANSWER: u8 = 14;

    /// Whether `kind` is an order sent, in either form.
    pub fn is_order(kind: u8) -> bool {
        kind == ORDER || kind == SUBMIT
    }

    /// A name for people (`floor journal`).
    pub fn name(kind: u8) -> &'static str {
        match kind {
            MARKET => "market",
            REPORTS | ANSWER => "reports",
            INJECTED => "injected",
            IDLE => "idle",
            OPERATION => "operation",
            VENUE => "venue",
            SESSION => "session",
            SUBMIT | ORDER => "submit",
            CANCEL => "cancel",
            CANCEL_REFUSED => "cancel_refused",
            END => "end",
            CUT => "cut",
            _ => "unknown",
        }
    }
}

/// A call the wall-clock deadline cut: the agent's `call`-th call (counted
/// per agent from the start of the session, across its versions). Input
/// did not decide it, so a replay cuts the same call on purpose rather
/// than let its own machine's load decide.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cut {
    /// The agent.
    pub agent: String,
    /// Its call number.
    pub call: u64,
}

/// What a node started with: enough to build the same node again.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionStart {
    /// The host's version (`floor --version`).
    pub floor_version: String,
    /// The config as read.
    pub config: crate::config::ConfigOrigin,
    /// The data directory the node wrote to.
    pub data_dir: std::path::PathBuf,
    /// The venue's name (the source of its market data on the bus).
    pub venue: String,
    /// Each agent's artifact, in config order.
    pub agents: Vec<AgentVersion>,
    /// Wall clock at start, ns since the epoch (for people; the node itself
    /// runs on event time).
    pub wall_ns: u64,
    /// Client order ids already used, per agent (the highest number): the
    /// node numbers its orders after them.
    #[serde(default)]
    pub order_ids: std::collections::BTreeMap<String, u64>,
    /// The state the node carried on from (a restart that recovered the
    /// last one's); none for a fresh start. In the session record itself,
    /// so no torn tail can separate the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<super::snapshot::NodeState>,
    /// At a checkpoint, the agents running another version than `agents`
    /// names (hot deploys), and the versions each can roll back to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployed: Vec<DeployedVersions>,
}

impl SessionStart {
    /// True for a session a running host started at a checkpoint (its
    /// state is the whole node's, [`super::snapshot::Continued`]).
    pub fn is_checkpoint(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.continued.is_some())
    }

    /// The version each agent runs when the session starts: `agents`,
    /// with what was deployed since in its place.
    pub fn running(&self) -> Vec<AgentVersion> {
        self.agents
            .iter()
            .map(|a| match self.deployed.iter().find(|d| d.name == a.name) {
                Some(d) => AgentVersion {
                    name: a.name.clone(),
                    sha256: d.live.sha256.clone(),
                },
                None => a.clone(),
            })
            .collect()
    }
}

/// An agent's versions at a checkpoint, when a deploy changed them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeployedVersions {
    /// The agent.
    pub name: String,
    /// The version it runs.
    pub live: VersionRef,
    /// The versions it can roll back to, newest first.
    pub earlier: Vec<VersionRef>,
}

/// A version: its artifact and the config keys it overrides.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VersionRef {
    /// Hex SHA-256 of its artifact.
    pub sha256: String,
    /// Config keys it overrides.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub overrides: std::collections::BTreeMap<String, String>,
}

impl VersionRef {
    /// The reference to `v`.
    pub fn of(v: &crate::deploy::Version) -> Self {
        Self {
            sha256: v.sha256.clone(),
            overrides: v.overrides.clone(),
        }
    }
}

/// An agent and the hash of the artifact it runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AgentVersion {
    /// The agent's name.
    pub name: String,
    /// Hex SHA-256 of its artifact.
    pub sha256: String,
}

/// Commit at least this often while inputs arrive, even with no order
/// going out, so a crash loses at most this much of the feed.
const COMMIT_EVERY: Duration = Duration::from_millis(1);

struct Recording {
    journal: Journal,
    last_commit: Instant,
    /// The first failure, once the journal cannot be written.
    broken: Option<String>,
    /// Raised with `broken`, read without the lock.
    failed: Arc<AtomicBool>,
}

/// The journal, shared by the node and its recording venue.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Mutex<Recording>>,
    /// Whether the journal has failed: the node looks after every input,
    /// so one atomic load, not the journal's lock.
    failed: Arc<AtomicBool>,
}

impl Recorder {
    /// Open the journal in `dir`.
    ///
    /// # Errors
    /// When the journal cannot be opened (unwritable, or corrupt before
    /// its tail).
    pub fn open(dir: &std::path::Path, cfg: JournalConfig) -> Result<Recorder, JournalError> {
        let journal = Journal::open(dir, cfg)?;
        let failed = Arc::new(AtomicBool::new(false));
        Ok(Recorder {
            shared: Arc::new(Mutex::new(Recording {
                journal,
                last_commit: Instant::now(),
                broken: None,
                failed: failed.clone(),
            })),
            failed,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Recording) -> T) -> T {
        f(&mut self.shared.lock().expect("journal lock poisoned"))
    }

    /// Why the journal cannot be written, once it cannot.
    pub fn failure(&self) -> Option<String> {
        if !self.failed.load(Ordering::Relaxed) {
            return None;
        }
        self.with(|r| r.broken.clone())
    }

    /// Append one record; a failure breaks the journal (see
    /// [`Recorder::commit`]).
    pub fn append(&self, kind: u8, at: Nanos, payload: &[u8]) {
        self.with(|r| {
            if r.broken.is_none()
                && let Err(e) = r.journal.append(kind, at, payload)
            {
                r.fail(e);
            }
        });
    }

    /// Append market data, postcard-encoded.
    pub fn append_market(&self, kind: u8, at: Nanos, event: &MarketEvent) {
        self.append_encoded(kind, at, postcard::to_stdvec(event));
    }

    /// Append a payload encoded with postcard.
    pub fn append_encoded(&self, kind: u8, at: Nanos, encoded: Result<Vec<u8>, postcard::Error>) {
        match encoded {
            Ok(bytes) => self.append(kind, at, &bytes),
            Err(e) => self.with(|r| r.fail(format!("cannot encode an input: {e}"))),
        }
    }

    /// Append a serde value as JSON.
    pub fn append_json(&self, kind: u8, at: Nanos, value: &impl serde::Serialize) {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.append(kind, at, &bytes),
            Err(e) => self.with(|r| r.fail(format!("cannot encode an input: {e}"))),
        }
    }

    /// Commit what is appended. `Err` with the reason once the journal
    /// cannot be written (and from then on).
    ///
    /// # Errors
    /// The first failure, which stays.
    pub fn commit(&self) -> Result<(), String> {
        self.with(|r| {
            if r.broken.is_none() {
                if let Err(e) = r.journal.commit() {
                    r.fail(e);
                }
                r.last_commit = Instant::now();
            }
            r.broken.clone().map_or(Ok(()), Err)
        })
    }

    /// Commit if the last commit is older than [`COMMIT_EVERY`].
    pub fn commit_if_due(&self) {
        let due = self.with(|r| r.last_commit.elapsed() >= COMMIT_EVERY);
        if due {
            let _ = self.commit();
        }
    }

    /// The seq the next record gets (records so far + 1).
    pub fn next_seq(&self) -> u64 {
        self.with(|r| r.journal.next_seq())
    }

    /// Delete the journal's segments whose records all come before `seq`
    /// (a checkpoint covers them). Returns how many went.
    ///
    /// # Errors
    /// When a segment cannot be deleted (the journal itself stays whole).
    pub fn retain_from(&self, seq: u64) -> Result<usize, String> {
        self.with(|r| r.journal.retain_from(seq).map_err(|e| e.to_string()))
    }

    /// Sync everything to the disk now (a clean stop).
    pub fn sync(&self) {
        self.with(|r| {
            if r.broken.is_none()
                && let Err(e) = r.journal.sync()
            {
                r.fail(e);
            }
        });
    }
}

impl Recording {
    /// The journal cannot take `why`'s record: it stays broken (every
    /// later order is refused) until the host is restarted.
    fn fail(&mut self, why: impl std::fmt::Display) {
        if self.broken.is_some() {
            return;
        }
        let why = format!("the journal cannot be written: {why}");
        tracing::error!("{why}; no order will be sent until the host is restarted");
        self.broken = Some(why);
        self.failed.store(true, Ordering::Relaxed);
    }
}

/// A venue whose every answer is journaled before the node sees it, and
/// which commits the journal before anything leaves for the real venue.
pub struct RecordingVenue {
    inner: Box<dyn Venue>,
    rec: Recorder,
    idle_at: Nanos,
}

impl RecordingVenue {
    /// Record `inner`'s traffic in `rec`.
    pub fn new(inner: Box<dyn Venue>, rec: Recorder) -> Self {
        Self {
            inner,
            rec,
            idle_at: 0,
        }
    }

    fn reports(&self, now: Nanos, reports: &[ExecutionReport]) {
        if !reports.is_empty() {
            self.rec.append_encoded(
                kind::ANSWER,
                now,
                super::order_records::encode_reports(reports),
            );
        }
    }
}

impl Venue for RecordingVenue {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn poll(&mut self) -> Polled {
        let polled = self.inner.poll();
        match &polled {
            Polled::Event(t, VenueEvent::Market(m)) => self.rec.append_market(kind::MARKET, *t, m),
            Polled::Event(t, e) => self.rec.append_json(kind::VENUE, *t, e),
            Polled::Idle(t) if *t > self.idle_at => {
                self.idle_at = *t;
                self.rec.append(kind::IDLE, *t, &[]);
            }
            Polled::Idle(_) => {}
            Polled::Ended => {
                let _ = self.rec.commit();
            }
        }
        self.rec.commit_if_due();
        polled
    }

    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport> {
        self.rec
            .append_encoded(kind::ORDER, now, super::order_records::encode_order(&order));
        if let Err(why) = self.rec.commit() {
            // Fail safe: nothing goes out without its cause on record.
            let refused = vec![ExecutionReport {
                order_id: order.order_id,
                status: OrderStatus::Rejected {
                    reason: format!("journal_unavailable: {why}"),
                },
                last_quantity: 0.0,
                last_price: 0.0,
                fee: 0.0,
                fee_base: 0.0,
            }];
            return refused;
        }
        let reports = self.inner.submit(order, now);
        self.reports(now, &reports);
        reports
    }

    fn cancel(&mut self, order_id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        // A cancel only ever reduces risk: it goes out even if the journal
        // is broken (its answer is recorded if the journal can take it).
        self.rec.append(kind::CANCEL, now, order_id.as_bytes());
        let _ = self.rec.commit();
        let result = self.inner.cancel(order_id, now);
        match &result {
            Ok(reports) => self.reports(now, reports),
            Err(VenueError::UnknownOrder(id)) => {
                self.rec.append(kind::CANCEL_REFUSED, now, id.as_bytes());
            }
        }
        result
    }

    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport> {
        let reports = self.inner.observe(event, now);
        self.reports(now, &reports);
        reports
    }

    fn resume(&mut self, open: &[crate::venue::ResumedOrder], now: Nanos) -> Vec<ExecutionReport> {
        let reports = self.inner.resume(open, now);
        self.reports(now, &reports);
        reports
    }

    fn reconcile(&mut self) {
        self.inner.reconcile();
    }
}

/// Keep every agent's artifact and journal the start of a session (its
/// config and the versions, and the state it starts from after a
/// restart), committed before any input. Returns the record, the pattern
/// of the node's checkpoints.
///
/// # Errors
/// When an artifact cannot be kept or the journal cannot be written: a
/// node whose run no replay could repeat does not start.
pub fn open_session(
    rec: &Recorder,
    artifacts: &crate::deploy::Artifacts,
    cfg: &crate::config::NodeConfig,
    venue: &str,
    ran: &[(String, String, Vec<u8>)],
    order_ids: &std::collections::BTreeMap<String, u64>,
    from: Option<&super::snapshot::NodeState>,
) -> anyhow::Result<SessionStart> {
    let mut agents = Vec::with_capacity(ran.len());
    for (name, sha256, bytes) in ran {
        artifacts.keep(bytes)?;
        agents.push(AgentVersion {
            name: name.clone(),
            sha256: sha256.clone(),
        });
    }
    let wall_ns = crate::model::clock::wall_ns();
    let start = SessionStart {
        floor_version: env!("CARGO_PKG_VERSION").to_string(),
        config: cfg.origin.clone(),
        data_dir: std::path::absolute(&cfg.data_dir).unwrap_or_else(|_| cfg.data_dir.clone()),
        venue: venue.to_string(),
        agents,
        wall_ns,
        order_ids: order_ids.clone(),
        state: from.cloned(),
        deployed: Vec::new(),
    };
    rec.append_json(kind::SESSION, wall_ns, &start);
    rec.commit()
        .map_err(|why| anyhow::anyhow!("cannot journal the session's start: {why}"))?;
    Ok(SessionStart {
        state: None,
        ..start
    })
}

/// The order-id numbers a session record carries: those used before it,
/// and its state's counters (a checkpoint's, when the segments before it
/// were deleted).
#[derive(serde::Deserialize)]
struct SessionIds {
    #[serde(default)]
    order_ids: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    state: Option<StateIds>,
}

#[derive(serde::Deserialize)]
struct StateIds {
    oms: OmsIds,
}

#[derive(serde::Deserialize)]
struct OmsIds {
    #[serde(default)]
    counters: std::collections::BTreeMap<String, u64>,
}

/// The highest client order id number each agent has sent, from the
/// orders on record in the journal at `dir` (ids are `<agent>-<n>`) and
/// the numbers its session records carry (which cover segments that
/// `[journal] keep_checkpoints` deleted).
///
/// # Errors
/// When the journal cannot be read.
pub fn ids_used(
    dir: &std::path::Path,
) -> Result<std::collections::BTreeMap<String, u64>, crate::journal::ReadError> {
    let mut used = std::collections::BTreeMap::new();
    let mut note = |agent: &str, n: u64| {
        let e = used.entry(agent.to_string()).or_insert(0);
        *e = (*e).max(n);
    };
    crate::journal::reader::for_each(dir, |r| {
        if r.kind == kind::SESSION {
            if let Ok(s) = serde_json::from_slice::<SessionIds>(r.payload) {
                let counters = s.state.map(|st| st.oms.counters).unwrap_or_default();
                for (agent, n) in s.order_ids.iter().chain(&counters) {
                    note(agent, *n);
                }
            }
            return;
        }
        let order = match r.kind {
            kind::SUBMIT => serde_json::from_slice::<VenueOrder>(r.payload).ok(),
            kind::ORDER => super::order_records::decode_order(r.payload).ok(),
            _ => return,
        };
        let Some(order) = order else {
            return;
        };
        if let Some((agent, n)) = order.order_id.rsplit_once('-')
            && let Ok(n) = n.parse::<u64>()
        {
            note(agent, n);
        }
    })?;
    Ok(used)
}

/// Decode a market-data record's payload (kinds 1 and 3).
///
/// # Errors
/// When the payload is not a postcard `MarketEvent`.
pub fn decode_market(payload: &[u8]) -> Result<MarketEvent, postcard::Error> {
    postcard::from_bytes(payload)
}

/// [`decode_market`], its symbol the one `names` shares: read in place
/// from the payload, so a record costs no allocation for it (and read
/// directly, `market_records`).
///
/// # Errors
/// As [`decode_market`].
pub fn decode_market_named(
    payload: &[u8],
    names: &mut crate::model::Interner,
) -> Result<MarketEvent, postcard::Error> {
    super::market_records::decode(payload, names)
}
