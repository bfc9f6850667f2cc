//! What each agent's store holds, and the host imports it answers.
//!
//! An agent has no ambient authority. Its WASI context is empty: no
//! environment, no arguments, no sockets, no inherited stdio, and no
//! directories except the read-only ones its config grants (model weights,
//! say). Its clocks read the event time of the message being
//! handled, and its random numbers come from a generator seeded by the host,
//! so the same journal replays to the same decisions.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{
    FsPerms, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

use super::bindings::floor::agent::{host as wh, types as wt};
use super::bindings::market::floor::agent::streams as ws;
use super::numbers::{OrderNumbers, TagNumbers};
use super::output::GuestOutput;
use super::streams::Streams;
use crate::model::{Balance, OpenOrder, Position, Quote};
use crate::runtime::MemoryLimiter;

/// Timers one agent may have set at once.
pub const MAX_TIMERS: usize = 64;
/// Log lines one call may write; the rest are counted, not written.
pub const MAX_LOG_LINES_PER_CALL: u32 = 32;

/// The host's read-only view of the account and the market, as agents see
/// it through `position-of`, `balance-of`, `quote-of` and `open-orders`.
pub trait View: Send + Sync {
    /// Position in `symbol` (flat if none).
    fn position(&self, symbol: &str) -> Position;
    /// [`View::position`]'s quantity, average price and realised PnL,
    /// without copying the symbol (asked for every market call).
    fn position_numbers(&self, symbol: &str) -> (f64, f64, f64) {
        let p = self.position(symbol);
        (p.quantity, p.average_price, p.realized_pnl)
    }
    /// Balance of `asset` (zero if none).
    fn balance(&self, asset: &str) -> Balance;
    /// Latest quote for `symbol`.
    fn quote(&self, symbol: &str) -> Option<Quote>;
    /// The account's working orders in `symbol`, oldest first.
    fn open_orders(&self, symbol: &str) -> Vec<OpenOrder>;
}

/// A view of an empty account and no market (for `floor call` and tests).
#[derive(Debug, Default)]
pub struct EmptyView;

impl View for EmptyView {
    fn position(&self, symbol: &str) -> Position {
        Position {
            symbol: symbol.into(),
            ..Position::default()
        }
    }
    fn balance(&self, asset: &str) -> Balance {
        Balance {
            asset: asset.into(),
            ..Balance::default()
        }
    }
    fn quote(&self, _symbol: &str) -> Option<Quote> {
        None
    }
    fn open_orders(&self, _symbol: &str) -> Vec<OpenOrder> {
        Vec::new()
    }
}

/// Event time shared between the store and the WASI clocks.
#[derive(Clone, Default)]
struct EventClock(Arc<AtomicU64>);

impl HostWallClock for EventClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

impl HostMonotonicClock for EventClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The data of one agent instance's store.
pub struct AgentState {
    pub(crate) name: Arc<str>,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    view: Arc<dyn View>,
    /// The agent's stream numbers (shared with its instance, which gives
    /// them), for `streams.stream-of`.
    pub(crate) streams: Arc<Mutex<Streams>>,
    config: Arc<Vec<(String, String)>>,
    clock: EventClock,
    pub(crate) timers: BTreeMap<String, u64>,
    log_lines: u32,
    pub(crate) logs_suppressed: u64,
    pub(crate) output: GuestOutput,
    /// The run of market events being handled (`on-market-run`), if any.
    pub(crate) run: Option<Run>,
    /// This instance's order numbers, for `streams.order-of`.
    pub(crate) orders: OrderNumbers,
    /// This instance's tag numbers, for `streams.tag-of`.
    pub(crate) tags: TagNumbers,
}

/// A run of market events in one call (`wit/market.wit`): which one the
/// guest is handling, and the limits each gets afresh.
#[derive(Debug)]
pub(crate) struct Run {
    /// The run, as the guest got it (packed, [`super::run::WORDS`] a piece).
    pub(crate) words: Vec<u64>,
    /// The event being handled.
    pub(crate) cursor: usize,
    /// Fuel and epoch ticks each event gets.
    pub(crate) fuel: u64,
    pub(crate) ticks: u64,
    /// Fuel burnt by the events before the one being handled.
    pub(crate) fuel_used: u64,
    /// The guest set or cancelled a timer: the run ends with this event.
    pub(crate) stop: bool,
}

impl Run {
    /// Whether `run.next` may move on (and then does).
    fn step(&mut self) -> bool {
        if self.stop || (self.cursor + 2) * super::run::WORDS > self.words.len() {
            return false;
        }
        self.cursor += 1;
        true
    }
}

/// `run.next`, with the store: the next event of the run gets its own
/// fuel, deadline and event time, as a call of its own would.
pub(crate) fn next_in_run(
    mut store: wasmtime::StoreContextMut<'_, AgentState>,
) -> wasmtime::Result<bool> {
    let Some(run) = store.data_mut().run.as_mut() else {
        return Ok(false);
    };
    if !run.step() {
        return Ok(false);
    }
    let time = super::run::event_time(&run.words, run.cursor);
    let (fuel, ticks) = (run.fuel, run.ticks);
    let left = store.get_fuel()?;
    let data = store.data_mut();
    if let Some(run) = data.run.as_mut() {
        run.fuel_used += fuel.saturating_sub(left);
    }
    data.begin_call(time);
    store.set_fuel(fuel)?;
    store.set_epoch_deadline(ticks);
    Ok(true)
}

impl AgentState {
    pub(crate) fn new(
        name: Arc<str>,
        limiter: MemoryLimiter,
        view: Arc<dyn View>,
        streams: Arc<Mutex<Streams>>,
        config: Arc<Vec<(String, String)>>,
        seed: u64,
        read_dirs: &[(PathBuf, String)],
    ) -> wasmtime::Result<Self> {
        let clock = EventClock::default();
        let mut builder = WasiCtxBuilder::new();
        builder
            .wall_clock(clock.clone())
            .monotonic_clock(clock.clone())
            .secure_random(StdRng::seed_from_u64(seed))
            .insecure_random(StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15))
            .insecure_random_seed(u128::from(seed));
        let output = GuestOutput::new(name.clone());
        builder.stdout(output.clone()).stderr(output.clone());
        for (host, guest) in read_dirs {
            builder.preopened_dir(host, guest, FsPerms::ReadOnly)?;
        }
        let wasi = builder.build();
        Ok(Self {
            name,
            wasi,
            table: ResourceTable::new(),
            limiter,
            view,
            streams,
            config,
            clock,
            timers: BTreeMap::new(),
            log_lines: 0,
            logs_suppressed: 0,
            output,
            run: None,
            orders: OrderNumbers::default(),
            tags: TagNumbers::default(),
        })
    }

    /// Set the event time for the next call and reset per-call counters.
    pub(crate) fn begin_call(&mut self, event_time: u64) {
        self.clock.0.store(event_time, Ordering::Relaxed);
        self.log_lines = 0;
    }

    fn now(&self) -> u64 {
        self.clock.0.load(Ordering::Relaxed)
    }

    /// A timer changed: it may fall due before the run's later events,
    /// so the host takes them back after this one.
    fn end_run_here(&mut self) {
        if let Some(r) = self.run.as_mut() {
            r.stop = true;
        }
    }

    /// The newest quote in `symbol` among the run's events up to the one
    /// being handled.
    fn run_quote(&self, run: &Run, symbol: &str) -> Option<wt::Quote> {
        let streams = self.streams.lock().expect("stream table lock poisoned");
        (0..=run.cursor).rev().find_map(|i| {
            let (stream, Some(mut q)) = super::run::quote(&run.words, i) else {
                return None;
            };
            let names = streams.names(stream)?;
            (names.symbol == symbol).then(|| {
                q.symbol.clone_from(&names.symbol);
                q
            })
        })
    }
}

impl WasiView for AgentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wt::Host for AgentState {}

impl wh::Host for AgentState {
    fn log(&mut self, level: wt::LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES_PER_CALL {
            self.logs_suppressed += 1;
            return;
        }
        let agent = &*self.name;
        match level {
            wt::LogLevel::Trace => tracing::trace!(agent, "{message}"),
            wt::LogLevel::Debug => tracing::debug!(agent, "{message}"),
            wt::LogLevel::Info => tracing::info!(agent, "{message}"),
            wt::LogLevel::Warn => tracing::warn!(agent, "{message}"),
            wt::LogLevel::Error => tracing::error!(agent, "{message}"),
        }
    }

    fn now(&mut self) -> u64 {
        AgentState::now(self)
    }

    fn config(&mut self, key: String) -> Option<String> {
        self.config
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }

    fn position_of(&mut self, symbol: String) -> wh::Position {
        let p = self.view.position(&symbol);
        wh::Position {
            symbol: p.symbol.into(),
            quantity: p.quantity,
            average_price: p.average_price,
            realized_pnl: p.realized_pnl,
        }
    }

    fn balance_of(&mut self, asset: String) -> wh::Balance {
        let b = self.view.balance(&asset);
        wh::Balance {
            asset: b.asset.into(),
            free: b.free,
            locked: b.locked,
        }
    }

    fn quote_of(&mut self, symbol: String) -> Option<wt::Quote> {
        // In a run, the view has not seen the run's quotes yet: the latest
        // of them in `symbol` up to the event being handled is the answer.
        if let Some(q) = self.run.as_ref().and_then(|r| self.run_quote(r, &symbol)) {
            return Some(q);
        }
        self.view.quote(&symbol).as_ref().map(Into::into)
    }

    fn open_orders(&mut self, symbol: String) -> Vec<wh::OpenOrder> {
        self.view
            .open_orders(&symbol)
            .into_iter()
            .map(|o| {
                let intent = wt::OrderIntent::from(&o.intent);
                wh::OpenOrder {
                    order_id: o.order_id.into(),
                    agent: o.agent.into(),
                    tag: intent.tag,
                    side: intent.side,
                    order_type: intent.order_type,
                    quantity: intent.quantity,
                    limit_price: intent.limit_price,
                    filled: o.filled,
                }
            })
            .collect()
    }

    fn set_timer(&mut self, id: String, due: u64) -> bool {
        self.end_run_here();
        if self.timers.len() >= MAX_TIMERS && !self.timers.contains_key(&id) {
            return false;
        }
        self.timers.insert(id, due);
        true
    }

    fn cancel_timer(&mut self, id: String) -> bool {
        self.end_run_here();
        self.timers.remove(&id).is_some()
    }
}

impl ws::Host for AgentState {
    fn stream_of(&mut self, number: u32) -> ws::StreamNames {
        let streams = self.streams.lock().expect("stream table lock poisoned");
        streams.names(number).map_or_else(
            || ws::StreamNames {
                topic: String::new(),
                source: String::new(),
                symbol: String::new(),
            },
            |n| ws::StreamNames {
                topic: n.topic.clone(),
                source: n.source.clone(),
                symbol: n.symbol.clone(),
            },
        )
    }

    fn order_of(&mut self, number: u64) -> ws::OrderNames {
        match self.orders.names(number) {
            Some((id, (agent, tag))) => ws::OrderNames {
                order_id: id.to_string(),
                agent: agent.to_string(),
                tag: tag.to_string(),
            },
            None => ws::OrderNames {
                order_id: String::new(),
                agent: String::new(),
                tag: String::new(),
            },
        }
    }

    fn tag_of(&mut self, number: u64) -> String {
        self.tags
            .names(number)
            .map_or_else(String::new, |(tag, ())| tag.to_string())
    }
}
