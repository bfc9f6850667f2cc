//! The node's journal: every input on record, in order, before what it
//! causes leaves the host.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use floor_host::config::NodeConfig;
use floor_host::journal::read_all;
use floor_host::model::{ExecutionReport, MarketEvent, Nanos, Payload, Quote, TopicPattern};
use floor_host::node::Node;
use floor_host::node::record::kind;
use floor_host::node::snapshot::NodeState;
use floor_host::risk::TradingMode;
use floor_host::venue::sim::SimVenue;
use floor_host::venue::{Polled, Venue, VenueError, VenueOrder};

/// The last journal record on disk at each order: (kind, time).
type Seen = Arc<Mutex<Vec<(u8, u64)>>>;

/// A simulated venue that, at each order, reads the journal from disk and
/// notes its last record.
struct Witness {
    inner: SimVenue,
    journal: PathBuf,
    seen: Seen,
}

impl Venue for Witness {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn poll(&mut self) -> Polled {
        self.inner.poll()
    }
    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport> {
        let scan = read_all(&self.journal, 1).unwrap();
        // The order itself is on record, and before it what caused it.
        let [.., cause, last] = &scan.entries[..] else {
            panic!("an order with fewer than two records before it")
        };
        assert_eq!(last.kind, kind::ORDER);
        assert_eq!(
            floor_host::node::order_records::decode_order(&last.payload).unwrap(),
            order
        );
        self.seen.lock().unwrap().push((cause.kind, cause.time));
        self.inner.submit(order, now)
    }
    fn cancel(&mut self, id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        self.inner.cancel(id, now)
    }
    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport> {
        self.inner.observe(event, now)
    }
}

/// A node whose trend agent (fast 1, slow 2) orders on every turn of the
/// market, over a [`Witness`].
pub(crate) fn witnessed_node(data: &Path) -> (Node, Seen) {
    witnessed_node_from(data, None)
}

/// The config of a node whose trend agent `desk` (fast 1, slow 2) orders on
/// every turn of the market, behind the gate, journaled without syncs;
/// `more` is added to `[journal]` (and may open further sections).
pub(crate) fn desk_config(data: &Path, more: &str) -> NodeConfig {
    let text = format!(
        r#"{header}
[account]
balances = {{ USDT = 1000000.0 }}

[journal]
durability = "never"
{more}
{trend}{gate}"#,
        header = floor_tests::node_header(data, 100.0),
        trend = floor_tests::fast_trend_agent("desk"),
        gate = floor_tests::gate_agent(),
    );
    NodeConfig::parse(&text, "<test>", Path::new(".")).unwrap()
}

/// [`witnessed_node`], carrying on from `from`.
pub(crate) fn witnessed_node_from(data: &Path, from: Option<&NodeState>) -> (Node, Seen) {
    let cfg = desk_config(data, "");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let venue = Witness {
        inner: floor_tests::test_venue(&cfg),
        journal: data.join("journal"),
        seen: seen.clone(),
    };
    (Node::start(&cfg, Box::new(venue), from).unwrap(), seen)
}

pub(crate) fn quote(mid: f64) -> MarketEvent {
    MarketEvent::Quote(Quote {
        symbol: "BTCUSDT".into(),
        bid: mid - 0.5,
        bid_size: 10.0,
        ask: mid + 0.5,
        ask_size: 10.0,
    })
}

#[test]
fn every_input_is_on_disk_before_the_order_it_causes_goes_out() {
    let data = tempfile::tempdir().unwrap();
    let (mut node, seen) = witnessed_node(data.path());
    let mut sent = 0;
    for i in 1..=20u64 {
        let mid = if i % 2 == 0 { 100.0 } else { 101.0 };
        sent += node.inject(quote(mid), i * 1_000_000);
    }
    assert!(sent >= 15, "the desk turned with the market: {sent} orders");
    // At each order, the tick that caused it was already in the file.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len() as u64, sent);
    for (k, t) in &seen {
        assert_eq!(
            *k,
            kind::INJECTED,
            "the last record before an order is its tick"
        );
        assert_eq!(t % 1_000_000, 0);
    }
    node.set_trading(TradingMode::Halted, "operator", "end");
    node.operate(floor_host::node::operator::Operation::Status)
        .unwrap();
    let summary = node.summary(0.0);
    drop(node);
    let scan = read_all(&data.path().join("journal"), 1).unwrap();
    assert!(scan.torn.is_none());
    assert_eq!(Some(scan.entries.len() as u64), summary.journal_records);
    let kinds = |k: u8| scan.entries.iter().filter(|e| e.kind == k).count();
    assert_eq!(kinds(kind::INJECTED), 20, "every tick");
    assert_eq!(kinds(kind::SESSION), 1, "the node's start");
    assert_eq!(kinds(kind::ORDER) as u64, sent, "every order sent");
    assert_eq!(
        kinds(kind::ANSWER) as u64,
        sent,
        "the sim's answer to each order"
    );
    // Ticks and answers interleave in the order the node took them, and
    // every record decodes.
    for e in &scan.entries {
        match e.kind {
            kind::INJECTED => {
                let m: MarketEvent = postcard::from_bytes(&e.payload).unwrap();
                assert!(matches!(m, MarketEvent::Quote(_)));
            }
            kind::ANSWER => {
                let r = floor_host::node::order_records::decode_reports(&e.payload).unwrap();
                assert!(!r.is_empty());
            }
            kind::ORDER => {
                floor_host::node::order_records::decode_order(&e.payload).unwrap();
            }
            kind::SESSION => {}
            other => panic!("unexpected record kind {other}"),
        }
    }
    let seqs: Vec<u64> = scan.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=scan.entries.len() as u64).collect::<Vec<_>>());
}

#[test]
fn operator_commands_are_journaled_and_a_restart_appends_after_the_last_record() {
    let data = tempfile::tempdir().unwrap();
    let (mut node, _) = witnessed_node(data.path());
    node.inject(quote(100.0), 1_000_000);
    node.operate(floor_host::node::operator::Operation::Trading {
        state: TradingMode::Halted,
        reason: "lunch".into(),
    })
    .unwrap();
    let first = node.summary(0.0).journal_records.unwrap();
    drop(node);
    let (mut node, _) = witnessed_node(data.path());
    node.inject(quote(100.5), 2_000_000);
    // A session record for the restart, then the tick.
    assert_eq!(node.summary(0.0).journal_records, Some(first + 2));
    drop(node);
    let scan = read_all(&data.path().join("journal"), 1).unwrap();
    let op = scan
        .entries
        .iter()
        .find(|e| e.kind == kind::OPERATION)
        .expect("the halt is on record");
    let text = String::from_utf8(op.payload.clone()).unwrap();
    assert!(
        text.contains("\"halted\"") && text.contains("lunch"),
        "{text}"
    );
    assert_eq!(scan.entries.last().unwrap().seq, first + 2);
    assert_eq!(scan.entries[first as usize].kind, kind::SESSION);

    // `floor journal` reads the same, as a summary and record by record.
    let dir = data.path().to_str().unwrap();
    let summary = journal_summary(dir);
    assert_eq!(summary["records"], scan.entries.len());
    assert_eq!(summary["by_kind"]["operation"], 1);
    assert!(summary["torn_tail"].is_null());
    let out = floor_tests::floor(&["journal", dir, "--dump"], None);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), scan.entries.len());
    assert_eq!(lines[0]["kind"], "session");
    assert_eq!(lines[0]["input"]["agents"][0]["name"], "desk");
    assert_eq!(lines[1]["kind"], "injected");
    assert_eq!(lines[1]["input"]["Quote"]["bid"], 99.5);
    let halt = lines.iter().find(|l| l["kind"] == "operation").unwrap();
    assert_eq!(halt["input"]["command"], "trading");
    // Not a journal: a clear error.
    let out = floor_tests::floor(&["journal", "/nonexistent-floor-dir"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read the journal"), "{err}");
}

/// Ticks `ticks` (1 ms apart) that turn the market up and down, so the
/// desk orders on most of them; the number of orders sent.
pub(crate) fn turn(node: &mut Node, ticks: std::ops::RangeInclusive<u64>) -> u64 {
    ticks
        .map(|i| node.inject(quote(if i % 2 == 0 { 100.0 } else { 101.0 }), i * 1_000_000))
        .sum()
}

#[test]
fn a_restarted_node_numbers_its_orders_after_those_on_record() {
    let data = tempfile::tempdir().unwrap();
    let (mut node, _) = witnessed_node(data.path());
    let first = turn(&mut node, 1..=8);
    drop(node);
    let (mut node, _) = witnessed_node(data.path());
    let second = turn(&mut node, 9..=16);
    drop(node);
    assert!(
        first >= 4 && second >= 4,
        "both runs traded: {first}, {second}"
    );
    let scan = read_all(&data.path().join("journal"), 1).unwrap();
    let ids: Vec<u64> = scan
        .entries
        .iter()
        .filter(|e| e.kind == kind::ORDER)
        .map(|e| {
            let o = floor_host::node::order_records::decode_order(&e.payload).unwrap();
            let (agent, n) = o.order_id.rsplit_once('-').unwrap();
            assert_eq!(agent, "desk");
            n.parse().unwrap()
        })
        .collect();
    assert_eq!(ids.len() as u64, first + second);
    // No client order id twice: the restart numbered after the record.
    let (before, after) = ids.split_at(first as usize);
    assert!(
        after.iter().min() > before.iter().max(),
        "ids before the restart {before:?}, after {after:?}"
    );
}

#[test]
fn floor_run_keeps_its_journal_and_store_in_the_data_dir_it_is_given() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    floor_tests::run_synthetic_demo(dir, 3000);
    let summary = journal_summary(dir);
    let market = summary["by_kind"]["market"].as_u64().unwrap();
    assert!(market >= 3000, "every market event of the run: {summary}");
    assert!(
        summary["torn_tail"].is_null(),
        "a clean stop leaves no torn tail"
    );
    let db = rusqlite::Connection::open(data.path().join("floor.db")).unwrap();
    let orders: i64 = db
        .query_row("SELECT count(*) FROM orders", [], |r| r.get(0))
        .unwrap();
    assert!(orders > 0, "the demo traded, and the store has its orders");
}

/// `floor journal DIR --json`, which must succeed.
fn journal_summary(dir: &str) -> serde_json::Value {
    let out = floor_tests::floor(&["journal", dir, "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A simulated venue that counts the orders that reach it.
struct Counting {
    inner: SimVenue,
    submits: Arc<AtomicU64>,
}

impl Venue for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn poll(&mut self) -> Polled {
        self.inner.poll()
    }
    fn submit(&mut self, order: VenueOrder, now: Nanos) -> Vec<ExecutionReport> {
        self.submits.fetch_add(1, Ordering::Relaxed);
        self.inner.submit(order, now)
    }
    fn cancel(&mut self, id: &str, now: Nanos) -> Result<Vec<ExecutionReport>, VenueError> {
        self.inner.cancel(id, now)
    }
    fn observe(&mut self, event: &MarketEvent, now: Nanos) -> Vec<ExecutionReport> {
        self.inner.observe(event, now)
    }
}

/// Orders refused because the journal broke, so far.
fn refused_unjournaled(node: &Node) -> u64 {
    node.summary(0.0)
        .reject_reasons
        .iter()
        .filter(|(k, _)| k.starts_with("venue: journal_unavailable: the journal cannot be written"))
        .map(|(_, n)| *n)
        .sum()
}

#[test]
fn a_journal_that_cannot_be_written_refuses_every_order_and_the_host_runs_on() {
    let data = tempfile::tempdir().unwrap();
    let cfg = desk_config(data.path(), "segment_mb = 1");
    let submits = Arc::new(AtomicU64::new(0));
    let venue = Counting {
        inner: floor_tests::test_venue(&cfg),
        submits: submits.clone(),
    };
    let mut node = Node::new(&cfg, Box::new(venue)).unwrap();
    node.tap(TopicPattern::parse("host.#").unwrap());
    assert!(turn(&mut node, 1..=10) > 0, "the desk trades");
    // The journal's directory is taken away (root may write anywhere, so
    // not by permissions): the open segment still takes appends; the next
    // segment, due after 1 MiB, cannot be made.
    let dir = data.path().join("journal");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    let mut next = 11;
    while refused_unjournaled(&node) == 0 {
        assert!(next < 100_000, "the journal never reported the failure");
        turn(&mut node, next..=next + 499);
        next += 500;
    }
    // From then on no order reaches the venue: each is refused with the
    // reason, and the host goes on taking the market.
    let (sent, refused) = (submits.load(Ordering::Relaxed), refused_unjournaled(&node));
    let events = node.summary(0.0).events;
    turn(&mut node, next..=next + 99);
    // And an order sent for the desk now, whatever its strategy wants.
    node.submit("desk", floor_tests::market_buy(0.01)).unwrap();
    assert_eq!(
        submits.load(Ordering::Relaxed),
        sent,
        "nothing left unjournaled"
    );
    assert!(
        refused_unjournaled(&node) > refused,
        "the desk's orders were refused"
    );
    let s = node.summary(0.0);
    assert_eq!(s.events, events + 100, "the host runs on");
    // Said once, as an alert and on `host.journal.failed`, with the cause.
    let why = s.journal_failure.expect("the summary says why");
    assert!(why.contains("Not a directory"), "{why}");
    let said: Vec<_> = node
        .tapped()
        .iter()
        .filter(|e| e.topic == "host.journal.failed")
        .collect();
    assert_eq!(said.len(), 1, "announced once");
    let Payload::Custom(body) = &said[0].payload else {
        panic!("a JSON body")
    };
    let body: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["reason"], why.as_str());
    assert!(s.alerts >= 1);
}
