//! Hot swaps under load: the pause an agent's inbox sees, and proof that
//! no message was lost or handled twice.
//!
//! One node runs the counter fixture (`target/fixtures/counter.wasm`: it
//! publishes its running count and each message's own number). The node's
//! thread offers it messages at a steady rate (100,000/s by default) and,
//! every `swap_every` messages, swaps in a version that another thread has
//! prepared meanwhile (compile cached, instantiate, `init`) — as the admin
//! API does. The pause is the wall clock of the node's `deploy` call: the
//! time the inbox is not served. After the run, every message must have
//! been answered exactly once, with count == message number.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hdrhistogram::Histogram;

use super::{NodeConfig, Payload};
use crate::deploy::DeployRequest;
use crate::model::TopicPattern;
use crate::node::Node;

/// What a run measured.
pub struct SwapRun {
    /// Pause per swap, ns.
    pub pauses: Histogram<u64>,
    /// The swap itself (snapshot → restore → switch) per swap, ns.
    pub core: Histogram<u64>,
    /// Messages offered.
    pub messages: u64,
    /// Messages never answered.
    pub lost: u64,
    /// Answers beyond one per message, or with a count that skipped or
    /// repeated (state lost in a swap).
    pub duplicates: u64,
    /// Wall clock of the run.
    pub wall: Duration,
}

fn counter_config(component: &Path, data: &Path) -> anyhow::Result<NodeConfig> {
    let text = format!(
        r#"
[node]
data_dir = "{data}"

[venue]
realtime = false

[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 100.0

[deploy]
probation_messages = 100
probation_secs = 0

{trust}
[[agents]]
name = "counter"
path = "{path}"
role = "model"
subscribe = ["bench.count.*"]
publish = ["swap.#"]
inbox_capacity = 1000000
"#,
        data = data.display(),
        path = component.display(),
        trust = super::dev_trust(component.parent().unwrap_or(Path::new(".")))?,
    );
    Ok(NodeConfig::parse(&text, "<swap bench>", Path::new("."))?)
}

/// Offer `messages` messages at `per_second` (0: as fast as the node takes
/// them) and swap every `swap_every`.
///
/// # Errors
/// When the counter fixture is missing or a version does not prepare or swap.
pub fn swap_under_load(
    fixtures_dir: &Path,
    messages: u64,
    per_second: u64,
    swap_every: u64,
) -> anyhow::Result<SwapRun> {
    let path = super::agent_path(fixtures_dir, "counter")?;
    let bytes = std::fs::read(&path)?;
    let data = tempfile::tempdir()?;
    let cfg = counter_config(&path, data.path())?;
    let mut node =
        Node::new(&cfg, Box::new(super::sim(&cfg))).context("starting the swap bench node")?;
    node.tap(TopicPattern::parse("swap.count.out")?);
    let preparer = node.preparer();
    let (tx, rx) = sync_channel(1);
    let maker = std::thread::spawn(move || {
        // Two builds, alternately: the same code with a different label
        // config, which is what an operator's redeploy looks like.
        for i in 0u64.. {
            let label = if i % 2 == 0 { "b" } else { "a" };
            let req = DeployRequest {
                agent: "counter".into(),
                component: bytes.clone(),
                config: BTreeMap::from([("version".to_string(), label.to_string())]),
                shadow: false,
            };
            let prepared = preparer.prepare(&req);
            let failed = prepared.is_err();
            if tx.send(prepared).is_err() || failed {
                return;
            }
        }
    });
    let mut pauses = Histogram::new(3)?;
    let mut core = Histogram::new(3)?;
    // Answers per message number; a count that differs from the number
    // means the state was not carried (counted as a duplicate: some
    // message counted twice or not at all in the agent's state).
    let mut answers = vec![0u8; messages as usize + 1];
    let mut wrong_count = 0u64;
    let mut check = |node: &mut Node| {
        for e in node.take_tapped() {
            let Payload::Custom(b) = &e.payload else {
                continue;
            };
            let count = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
            let number = u64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
            if let Some(a) = answers.get_mut(number as usize) {
                *a = a.saturating_add(1);
            }
            if count != number {
                wrong_count += 1;
            }
        }
    };
    // The first version compiles (a cache miss): wait for it before the
    // clock starts, so every run swaps at least once.
    let mut ready = Some(rx.recv().context("the preparing thread ended")??);
    let interval_ns = 1_000_000_000 / per_second.max(1);
    let start = Instant::now();
    for i in 1..=messages {
        if per_second > 0 {
            let due = Duration::from_nanos(interval_ns * i);
            while start.elapsed() < due {
                std::hint::spin_loop();
            }
        }
        node.publish("bench.count.in", Payload::Custom(i.to_le_bytes().to_vec()));
        if i % swap_every == 0 {
            // The next version is usually ready; if not, this round goes
            // without a swap rather than waiting on the preparing thread.
            let next = match ready.take() {
                Some(c) => Some(c),
                None => rx.try_recv().ok().transpose()?,
            };
            if let Some(c) = next {
                let t = Instant::now();
                let ev = node.deploy(c)?;
                let _ = pauses.record((t.elapsed().as_nanos() as u64).max(1));
                let _ = core.record(((ev.pause_us * 1e3) as u64).max(1));
            }
        }
        if i % 4096 == 0 {
            check(&mut node);
        }
    }
    check(&mut node);
    let wall = start.elapsed();
    drop(rx);
    let _ = maker.join();
    let lost = answers[1..].iter().filter(|a| **a == 0).count() as u64;
    let repeated: u64 = answers[1..]
        .iter()
        .map(|a| u64::from(a.saturating_sub(1)))
        .sum();
    Ok(SwapRun {
        pauses,
        core,
        messages,
        lost,
        duplicates: repeated + wrong_count,
        wall,
    })
}
