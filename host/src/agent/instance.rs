//! One agent's instance and its lifecycle.
//!
//! [`AgentInstance::handle`] is the whole contract with the rest of the
//! host: it sets the per-call limits (fuel, epoch deadline), calls
//! `on-message`, checks the outputs (count, size, rights), and on any fault
//! throws the instance away and starts a fresh one — after a trap wasmtime
//! refuses to enter an instance again, and after a rights violation the
//! agent's state may reflect outputs that never happened. The caller gets a
//! [`CallFault`] with the reason code to put in the dead-letter queue.

use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

use super::bindings::market::exports::floor::agent::intents as wi;
use super::bindings::market::exports::floor::agent::market as wm;
use super::bindings::market::exports::floor::agent::orders as wo;
use super::bindings::market::exports::floor::agent::signals as wsg;
use super::bindings::{self, AgentWorld, AgentWorldPre, market};
use super::rights::Rights;
use super::run::{self, RunEvent};
use super::state::{AgentState, Run, View, next_in_run};
use super::streams::Streams;
use super::values::{Exports, Values, values};
use crate::model::{Envelope, Output, ReasonCode, Timer};
use crate::runtime::{Fault, FaultKind, Limits, MemoryLimiter, Runtime};

/// A linker with WASI (empty context) and the `floor:agent` host interface.
/// Build it once per runtime and share it.
pub struct AgentLinker(Linker<AgentState>);

impl AgentLinker {
    /// Link WASI and the host imports.
    ///
    /// # Errors
    /// Only if wasmtime cannot define the imports (a bug).
    pub fn new(engine: &Engine) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        AgentWorld::add_to_linker::<_, HasSelf<AgentState>>(&mut linker, |s| s)?;
        market::floor::agent::streams::add_to_linker::<_, HasSelf<AgentState>>(&mut linker, |s| s)?;
        // `run.next` sets the next event's fuel and deadline, so it takes
        // the store, not just its data (as generated imports do).
        linker
            .instance("floor:agent/run@0.2.0")?
            .func_wrap("next", |store, (): ()| Ok((next_in_run(store)?,)))?;
        Ok(Self(linker))
    }

    /// Whether `component` is an agent of this host's world: every import
    /// is one the host provides, every export the world asks for is there
    /// with its type. Nothing runs.
    ///
    /// # Errors
    /// What does not fit, as wasmtime says it.
    pub fn check(&self, component: &Component) -> Result<(), String> {
        let pre = self
            .0
            .instantiate_pre(component)
            .map_err(|e| format!("{e:#}"))?;
        AgentWorldPre::new(pre).map_err(|e| format!("{e:#}"))?;
        Ok(())
    }
}

/// Everything needed to start an agent.
#[derive(Clone)]
pub struct AgentSpec {
    /// Unique name in the host.
    pub name: String,
    /// The compiled component.
    pub component: Component,
    /// Resource limits.
    pub limits: Limits,
    /// Publish and order rights.
    pub rights: Rights,
    /// Configuration pairs handed to `init` and `host.config`.
    pub config: Vec<(String, String)>,
    /// Seed of the agent's random numbers.
    pub seed: u64,
    /// Read-only directories the config grants: (host directory, guest path).
    pub read_dirs: Vec<(std::path::PathBuf, String)>,
}

/// Why an agent could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The component does not fit the `floor:agent` world.
    #[error(
        "agent `{agent}` does not implement the floor:agent world: {detail}; build it against wit/ (package floor:agent@0.2.0)"
    )]
    Link {
        /// Agent.
        agent: String,
        /// wasmtime's message.
        detail: String,
    },
    /// Instantiation or `init` trapped.
    #[error("agent `{agent}` faulted while starting ({}): {}", .fault.kind_name(), .fault.detail)]
    Fault {
        /// Agent.
        agent: String,
        /// The fault.
        fault: CallFault,
    },
    /// `init` returned an error.
    #[error("agent `{agent}` refused its configuration: {code}: {message}")]
    Init {
        /// Agent.
        agent: String,
        /// The agent's code.
        code: String,
        /// The agent's message.
        message: String,
    },
}

/// A call that did not complete normally.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFault {
    /// Reason code for the dead-letter queue.
    pub reason: ReasonCode,
    /// What happened, for people.
    pub detail: String,
}

impl CallFault {
    fn new(reason: ReasonCode, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    fn kind_name(&self) -> &'static str {
        self.reason.as_str()
    }
}

impl From<Fault> for CallFault {
    fn from(f: Fault) -> Self {
        let reason = match f.kind {
            FaultKind::FuelExhausted => ReasonCode::FuelExhausted,
            FaultKind::DeadlineExceeded => ReasonCode::DeadlineExceeded,
            FaultKind::MemoryLimit => ReasonCode::MemoryLimit,
            FaultKind::Trap => ReasonCode::Trap,
        };
        Self::new(reason, f.detail)
    }
}

/// The least wall clock an instance gets to instantiate and run `init`.
pub const START_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// Reset the per-call limits: fuel, epoch deadline, event time.
fn arm(
    store: &mut Store<AgentState>,
    fuel: u64,
    deadline_ticks: u64,
    event_time: u64,
) -> wasmtime::Result<()> {
    store.data_mut().begin_call(event_time);
    store.set_fuel(fuel)?;
    store.set_epoch_deadline(deadline_ticks);
    Ok(())
}

fn fault_of(e: wasmtime::Error) -> CallFault {
    Fault::classify(&e).into()
}

struct Live {
    store: Store<AgentState>,
    bindings: AgentWorld,
    /// The `market` export, if the component has one.
    market: Option<wm::Guest>,
    /// The `orders` export, if the component has one.
    orders: Option<wo::Guest>,
    /// The `intents` export, if the component has one.
    intents: Option<wi::Guest>,
    /// The `signals` export, if the component has one.
    signals: Option<wsg::Guest>,
}

/// A running agent: its spec, its pre-linked component, and its current
/// instance (absent only between a fault and a successful restart).
pub struct AgentInstance {
    spec: AgentSpec,
    name: Arc<str>,
    config: Arc<Vec<(String, String)>>,
    engine: Engine,
    pre: AgentWorldPre<AgentState>,
    /// Where the `market` export is, if the component has one: quotes and
    /// trades then go through it as numbers (`wit/market.wit`).
    market: Option<wm::GuestIndices>,
    /// Where the `orders` export is, if the component has one: order
    /// events then go through it as numbers.
    orders: Option<wo::GuestIndices>,
    /// Where the `intents` export is, if the component has one: order
    /// intents then go through it as numbers.
    intents: Option<wi::GuestIndices>,
    /// Where the `signals` export is, if the component has one: signals
    /// then go through it as numbers.
    signals: Option<wsg::GuestIndices>,
    /// The agent's stream numbers, shared with each instance's store.
    streams: Arc<Mutex<Streams>>,
    deadline_ticks: u64,
    /// Epoch ticks allowed for instantiation and `init`.
    start_ticks: u64,
    tick: std::time::Duration,
    view: Arc<dyn View>,
    live: Option<Live>,
    starts: u64,
    /// Fuel burnt by `on-message` calls, all instances together.
    fuel_used: u64,
    /// Quotes and trades that went through `on-market` or in runs.
    market_calls: u64,
    /// Of those, the ones taken in runs, and the runs.
    market_runs: (u64, u64),
    /// Order events that went through `on-order-event`.
    order_calls: u64,
    /// Order intents that went through `on-intent`.
    intent_calls: u64,
    /// Signals that went through `on-signal`.
    signal_calls: u64,
    /// Timers of an instance that faulted while no new one could start.
    stashed_timers: std::collections::BTreeMap<String, u64>,
    /// The last input in guest form, reused so converting a tick allocates nothing.
    scratch: Option<bindings::floor::agent::types::Envelope>,
}

impl AgentInstance {
    /// Link, instantiate and `init` an agent.
    ///
    /// # Errors
    /// [`StartError`] when the component does not fit the world, or
    /// instantiation or `init` fails.
    pub fn start(
        runtime: &Runtime,
        linker: &AgentLinker,
        spec: AgentSpec,
        view: Arc<dyn View>,
    ) -> Result<Self, StartError> {
        let link_err = |e: wasmtime::Error| StartError::Link {
            agent: spec.name.clone(),
            detail: format!("{e:#}"),
        };
        let pre = linker
            .0
            .instantiate_pre(&spec.component)
            .map_err(link_err)?;
        let market = wm::GuestIndices::new(&pre).ok();
        let orders = wo::GuestIndices::new(&pre).ok();
        let intents = wi::GuestIndices::new(&pre).ok();
        let signals = wsg::GuestIndices::new(&pre).ok();
        let pre = AgentWorldPre::new(pre).map_err(link_err)?;
        let mut me = Self {
            name: Arc::from(spec.name.as_str()),
            config: Arc::new(spec.config.clone()),
            deadline_ticks: runtime.deadline_ticks(spec.limits.deadline),
            start_ticks: runtime.deadline_ticks(START_DEADLINE),
            tick: runtime.config().epoch_tick,
            engine: runtime.engine().clone(),
            spec,
            pre,
            market,
            orders,
            intents,
            signals,
            streams: Arc::new(Mutex::new(Streams::default())),
            view,
            live: None,
            starts: 0,
            fuel_used: 0,
            market_calls: 0,
            market_runs: (0, 0),
            order_calls: 0,
            intent_calls: 0,
            signal_calls: 0,
            stashed_timers: std::collections::BTreeMap::new(),
            scratch: None,
        };
        me.restart()?;
        Ok(me)
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its spec.
    pub fn spec(&self) -> &AgentSpec {
        &self.spec
    }

    /// How many instances were started (1 + restarts after faults).
    pub fn starts(&self) -> u64 {
        self.starts
    }

    /// Fuel burnt by `on-message` calls since the agent started, over all
    /// its instances.
    pub fn fuel_used(&self) -> u64 {
        self.fuel_used
    }

    /// Quotes and trades that went through the `market` export.
    pub fn market_calls(&self) -> u64 {
        self.market_calls
    }

    /// Order events that went through the `orders` export.
    pub fn order_calls(&self) -> u64 {
        self.order_calls
    }

    /// Order intents that went through the `intents` export.
    pub fn intent_calls(&self) -> u64 {
        self.intent_calls
    }

    /// Signals that went through the `signals` export.
    pub fn signal_calls(&self) -> u64 {
        self.signal_calls
    }

    /// Of [`AgentInstance::market_calls`], the events taken in runs, and
    /// the runs (`on-market-run` calls).
    pub fn market_runs(&self) -> (u64, u64) {
        self.market_runs
    }

    /// Whether the component exports `market` and so takes runs of
    /// market events ([`AgentInstance::handle_run`]).
    pub fn takes_runs(&self) -> bool {
        self.market.is_some()
    }

    /// Bytes of linear memory the current instance holds.
    pub fn memory_bytes(&self) -> usize {
        self.live
            .as_ref()
            .map_or(0, |l| l.store.data().limiter.used())
    }

    /// Log lines the agent wrote past the per-call cap, since it started.
    pub fn logs_suppressed(&self) -> u64 {
        self.live
            .as_ref()
            .map_or(0, |l| l.store.data().logs_suppressed)
    }

    /// A fresh store with the agent's limiter, armed for one call.
    fn new_store(&self) -> wasmtime::Result<Store<AgentState>> {
        let mut store = Store::new(&self.engine, self.new_state()?);
        store.limiter(|s| &mut s.limiter);
        arm(&mut store, self.spec.limits.fuel, self.deadline_ticks, 0)?;
        Ok(store)
    }

    fn new_state(&self) -> wasmtime::Result<AgentState> {
        AgentState::new(
            self.name.clone(),
            MemoryLimiter::new(&self.spec.limits),
            self.view.clone(),
            self.streams.clone(),
            self.config.clone(),
            self.spec.seed,
            &self.spec.read_dirs,
        )
    }

    /// Throw the current instance away and start a fresh one. Its pending
    /// timers are the host's and carry over.
    ///
    /// # Errors
    /// [`StartError`] when instantiation or `init` fails.
    pub fn restart(&mut self) -> Result<(), StartError> {
        let mut timers = self.take_timers();
        timers.append(&mut self.stashed_timers);
        self.live = None;
        match self.fresh() {
            Ok(mut live) => {
                self.starts += 1;
                live.store.data_mut().timers = timers;
                self.live = Some(live);
                Ok(())
            }
            Err(e) => {
                // Kept for the next start that succeeds.
                self.stashed_timers = timers;
                Err(e)
            }
        }
    }

    /// Instantiate the component and run `init`.
    fn fresh(&self) -> Result<Live, StartError> {
        let fault = |e: wasmtime::Error| StartError::Fault {
            agent: self.spec.name.clone(),
            fault: Fault::classify(&e).into(),
        };
        // Starting is off the hot path (at load, after a fault): it gets at
        // least START_DEADLINE of wall clock, so a busy machine's scheduler
        // cannot fail a host's start. Fuel still bounds a runaway `init`.
        let start_ticks = self.deadline_ticks.max(self.start_ticks);
        let mut store = self.new_store().map_err(fault)?;
        store.set_epoch_deadline(start_ticks);
        let instance = self
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(fault)?;
        let bindings = AgentWorld::new(&mut store, &instance).map_err(fault)?;
        let market = match &self.market {
            Some(m) => Some(m.load(&mut store, &instance).map_err(fault)?),
            None => None,
        };
        let orders = match &self.orders {
            Some(o) => Some(o.load(&mut store, &instance).map_err(fault)?),
            None => None,
        };
        let intents = match &self.intents {
            Some(i) => Some(i.load(&mut store, &instance).map_err(fault)?),
            None => None,
        };
        let signals = match &self.signals {
            Some(i) => Some(i.load(&mut store, &instance).map_err(fault)?),
            None => None,
        };
        arm(&mut store, self.spec.limits.fuel, start_ticks, 0).map_err(fault)?;
        let init = bindings
            .floor_agent_agent()
            .call_init(&mut store, &self.config)
            .map_err(fault)?;
        if let Err(e) = init {
            return Err(StartError::Init {
                agent: self.spec.name.clone(),
                code: e.code,
                message: e.message,
            });
        }
        Ok(Live {
            store,
            bindings,
            market,
            orders,
            intents,
            signals,
        })
    }

    /// Handle one message. `in_request` says whether the message is a
    /// request the agent may reply to.
    ///
    /// # Errors
    /// [`CallFault`] when the call broke a limit, trapped, returned an
    /// error, or produced an output it had no right to. Except after an
    /// error the agent returned itself (`agent_error`), the agent has then
    /// already been given a fresh instance (if it could be started).
    pub fn handle(&mut self, msg: &Envelope, in_request: bool) -> Result<Vec<Output>, CallFault> {
        self.handle_within(msg, in_request, None)
    }

    /// [`AgentInstance::handle`] with a shorter wall-clock deadline for this
    /// one call (a request's timeout); the agent's own deadline still caps it.
    /// A zero deadline cuts the call as it starts, as an expired deadline
    /// would (a replay repeating a cut the recorded run suffered).
    ///
    /// # Errors
    /// As [`AgentInstance::handle`].
    pub fn handle_within(
        &mut self,
        msg: &Envelope,
        in_request: bool,
        deadline: Option<std::time::Duration>,
    ) -> Result<Vec<Output>, CallFault> {
        let ticks = deadline.map_or(self.deadline_ticks, |d| {
            let tick = self.tick.as_nanos().max(1);
            if d.is_zero() {
                0
            } else {
                (d.as_nanos().div_ceil(tick) as u64).clamp(1, self.deadline_ticks)
            }
        });
        if self.live.is_none() {
            // The last restart failed: try again, so a transient fault in
            // `init` does not take the agent down for good.
            self.restart()
                .map_err(|e| CallFault::new(ReasonCode::Trap, e.to_string()))?;
        }
        let result = self.call(msg, in_request, ticks);
        if let Some(Ok(left)) = self.live.as_ref().map(|l| l.store.get_fuel()) {
            self.fuel_used += self.spec.limits.fuel.saturating_sub(left);
        }
        self.settle(result)
    }

    /// Handle a run of quotes and trades from `source` in one call
    /// (`on-market-run`, `wit/market.wit`) exactly as
    /// [`AgentInstance::handle`] would one by one, up to the first that has
    /// outputs, an error or a fault. Returns how many the agent took — the
    /// result is the last one's; those before it had no outputs — or none
    /// when the agent takes no runs or the first event cannot go as
    /// numbers: deliver it alone then.
    pub fn handle_run(
        &mut self,
        source: &str,
        events: &[RunEvent<'_>],
    ) -> Option<(usize, Result<Vec<Output>, CallFault>)> {
        let live = self.live.as_mut()?;
        let market = live.market.as_ref()?;
        let mut words = Vec::with_capacity(events.len() * run::WORDS);
        {
            let mut streams = self.streams.lock().expect("stream table lock poisoned");
            // Runs are mostly of one stream: look it and its symbol's
            // position up once (nothing changes a position during a run).
            let mut last: Option<(&str, u32, (f64, f64, f64))> = None;
            for e in events {
                let (stream, position) = match last {
                    Some((topic, n, p)) if crate::model::same(topic, e.topic) => (n, p),
                    _ => {
                        let symbol = e.event.symbol();
                        match streams.number(e.topic, source, symbol) {
                            Some(n) => (n, self.view.position_numbers(symbol)),
                            None => break,
                        }
                    }
                };
                last = Some((e.topic, stream, position));
                run::pack(&mut words, e, stream, position);
            }
        }
        let first = events.first().filter(|_| !words.is_empty())?.event_time;
        let fuel = self.spec.limits.fuel;
        if let Err(e) = arm(&mut live.store, fuel, self.deadline_ticks, first) {
            return Some((1, self.settle(Err(fault_of(e)))));
        }
        live.store.data_mut().run = Some(Run {
            words: words.clone(),
            cursor: 0,
            fuel,
            ticks: self.deadline_ticks,
            fuel_used: 0,
            stop: false,
        });
        let raw = market.call_on_market_run(&mut live.store, &words);
        let run = live.store.data_mut().run.take();
        let taken = run.as_ref().map_or(1, |r| r.cursor + 1);
        let left = live.store.get_fuel().unwrap_or(fuel);
        self.fuel_used += run.map_or(0, |r| r.fuel_used) + fuel.saturating_sub(left);
        self.market_calls += taken as u64;
        self.market_runs.0 += taken as u64;
        self.market_runs.1 += 1;
        let result = raw.map_err(fault_of).and_then(|r| self.check(r, false));
        Some((taken, self.settle(result)))
    }

    /// After a call: a trap's printed cause kept, and a fresh instance
    /// after any fault (not after the agent's own error).
    fn settle(
        &mut self,
        mut result: Result<Vec<Output>, CallFault>,
    ) -> Result<Vec<Output>, CallFault> {
        if let Err(fault) = result.as_mut() {
            // A trap's cause is often only in what the agent printed (a
            // Rust panic message): keep it before the instance is dropped.
            let printed = self
                .live
                .as_ref()
                .and_then(|l| l.store.data().output.last_lines(2));
            if let (Some(text), true) = (printed, matches!(fault.reason, ReasonCode::Trap)) {
                fault
                    .detail
                    .push_str(&format!("; the agent printed: {text}"));
            }
        }
        // An error the agent returned itself is a business refusal: its
        // instance is healthy and keeps its state. Anything else restarts it.
        if result
            .as_ref()
            .is_err_and(|f| f.reason != ReasonCode::AgentError)
            && let Err(e) = self.restart()
        {
            tracing::error!(agent = %self.name, "cannot restart after a fault: {e}");
        }
        result
    }

    fn call(
        &mut self,
        msg: &Envelope,
        in_request: bool,
        ticks: u64,
    ) -> Result<Vec<Output>, CallFault> {
        let limits = &self.spec.limits;
        let live = self.live.as_mut().expect("checked by handle");
        let exports = Exports {
            market: live.market.is_some(),
            orders: live.orders.is_some(),
            intents: live.intents.is_some(),
            signals: live.signals.is_some(),
        };
        let state = live.store.data_mut();
        let values = values(
            exports,
            &self.streams,
            &mut state.orders,
            &mut state.tags,
            self.view.as_ref(),
            msg,
        );
        arm(&mut live.store, limits.fuel, ticks, msg.event_time).map_err(fault_of)?;
        // Each is only made when its export exists.
        let made = "made only when the component has the export";
        let raw = match values {
            Some(Values::Market(event)) => {
                self.market_calls += 1;
                let m = live.market.as_ref().expect(made);
                m.call_on_market(&mut live.store, event)
            }
            Some(Values::Order(order)) => {
                self.order_calls += 1;
                let o = live.orders.as_ref().expect(made);
                o.call_on_order_event(&mut live.store, &order)
            }
            Some(Values::Intent(intent)) => {
                self.intent_calls += 1;
                let i = live.intents.as_ref().expect(made);
                i.call_on_intent(&mut live.store, intent)
            }
            Some(Values::Signal(signal)) => {
                self.signal_calls += 1;
                let g = live.signals.as_ref().expect(made);
                g.call_on_signal(&mut live.store, signal)
            }
            None => {
                let input = match self.scratch.as_mut() {
                    Some(s) => {
                        bindings::fill_envelope(s, msg);
                        s
                    }
                    None => self.scratch.insert(bindings::envelope_to_wit(msg)),
                };
                live.bindings
                    .floor_agent_agent()
                    .call_on_message(&mut live.store, input)
            }
        }
        .map_err(fault_of)?;
        self.check(raw, in_request)
    }

    /// The agent's outputs if it had the right to each and kept within its
    /// caps; its own error as `agent_error`.
    fn check(
        &self,
        raw: Result<
            Vec<bindings::floor::agent::types::Output>,
            bindings::floor::agent::types::Error,
        >,
        in_request: bool,
    ) -> Result<Vec<Output>, CallFault> {
        let limits = &self.spec.limits;
        let raw = raw.map_err(|e| {
            CallFault::new(ReasonCode::AgentError, format!("{}: {}", e.code, e.message))
        })?;
        if raw.len() > limits.max_outputs {
            return Err(CallFault::new(
                ReasonCode::TooManyOutputs,
                format!(
                    "agent `{}` returned {} outputs, its cap is {} per call",
                    self.name,
                    raw.len(),
                    limits.max_outputs
                ),
            ));
        }
        let mut outputs = Vec::with_capacity(raw.len());
        for o in raw {
            let size = bindings::wit_output_size(&o);
            if size > limits.max_output_bytes {
                return Err(CallFault::new(
                    ReasonCode::OutputTooLarge,
                    format!(
                        "agent `{}` returned an output of about {size} bytes, its cap is {} bytes",
                        self.name, limits.max_output_bytes
                    ),
                ));
            }
            let o = bindings::output_from_wit(o);
            if let Output::Reply { .. } = o
                && !in_request
            {
                return Err(CallFault::new(
                    ReasonCode::ReplyWithoutRequest,
                    format!(
                        "agent `{}` replied to a message that was not a request",
                        self.name
                    ),
                ));
            }
            self.spec
                .rights
                .check(&self.name, &o)
                .map_err(|(reason, detail)| CallFault::new(reason, detail))?;
            outputs.push(o);
        }
        Ok(outputs)
    }

    fn live_armed(&mut self) -> Result<&mut Live, CallFault> {
        let live = self
            .live
            .as_mut()
            .ok_or_else(|| CallFault::new(ReasonCode::Trap, "agent has no running instance"))?;
        arm(
            &mut live.store,
            self.spec.limits.fuel,
            self.deadline_ticks,
            0,
        )
        .map_err(fault_of)?;
        Ok(live)
    }

    /// The agent's state, from `snapshot`.
    ///
    /// # Errors
    /// [`CallFault`] when `snapshot` faults.
    pub fn snapshot(&mut self) -> Result<Vec<u8>, CallFault> {
        let live = self.live_armed()?;
        live.bindings
            .floor_agent_agent()
            .call_snapshot(&mut live.store)
            .map_err(fault_of)
    }

    /// Load state from `snapshot` (of this or another version) into the
    /// current instance.
    ///
    /// # Errors
    /// [`CallFault`] when `restore` faults (the instance is then restarted)
    /// or refuses the state (`agent_error`; the instance keeps its state).
    pub fn restore(&mut self, state: &[u8]) -> Result<(), CallFault> {
        let live = self.live_armed()?;
        let result = live
            .bindings
            .floor_agent_agent()
            .call_restore(&mut live.store, state)
            .map_err(fault_of);
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(CallFault::new(
                ReasonCode::AgentError,
                format!("{}: {}", e.code, e.message),
            )),
            Err(fault) => {
                if let Err(e) = self.restart() {
                    tracing::error!(agent = %self.name, "cannot restart after a fault: {e}");
                }
                Err(fault)
            }
        }
    }

    /// Instantiate a throwaway instance (no `init`), to measure or warm the
    /// pooling allocator.
    ///
    /// # Errors
    /// The instantiation fault.
    pub fn instantiate_throwaway(&self) -> Result<(), CallFault> {
        let mut store = self.new_store().map_err(fault_of)?;
        let instance = self.pre.instantiate(&mut store).map_err(fault_of)?;
        std::hint::black_box(instance);
        Ok(())
    }

    /// The agent's pending timers (id → due), taken out of the instance: a
    /// hot swap hands them to the next version with [`AgentInstance::put_timers`].
    pub fn take_timers(&mut self) -> std::collections::BTreeMap<String, u64> {
        self.live
            .as_mut()
            .map(|l| std::mem::take(&mut l.store.data_mut().timers))
            .unwrap_or_default()
    }

    /// The agent's pending timers (id → due), left in place (for a
    /// checkpoint).
    pub fn timers(&self) -> std::collections::BTreeMap<String, u64> {
        let mut all = self.stashed_timers.clone();
        if let Some(l) = self.live.as_ref() {
            all.extend(l.store.data().timers.iter().map(|(k, v)| (k.clone(), *v)));
        }
        all
    }

    /// When the agent's earliest pending timer is due, if it has any.
    pub fn next_timer_due(&self) -> Option<u64> {
        let live = self.live.as_ref().map(|l| &l.store.data().timers);
        self.stashed_timers
            .values()
            .chain(live.into_iter().flat_map(|t| t.values()))
            .copied()
            .min()
    }

    /// Make `timers` the agent's pending timers, dropping any it had (a
    /// node carrying on from a checkpoint).
    pub fn set_timers(&mut self, timers: std::collections::BTreeMap<String, u64>) {
        self.stashed_timers.clear();
        drop(self.take_timers());
        match self.live.as_mut() {
            Some(l) => l.store.data_mut().timers = timers,
            None => self.stashed_timers = timers,
        }
    }

    /// Add timers taken from another instance of this agent.
    pub fn put_timers(&mut self, timers: std::collections::BTreeMap<String, u64>) {
        if let Some(l) = self.live.as_mut() {
            l.store.data_mut().timers.extend(timers);
        }
    }

    /// Timers that are due at `now`, removed from the agent's set, in due order.
    pub fn take_due_timers(&mut self, now: u64) -> Vec<Timer> {
        let Some(live) = self.live.as_mut() else {
            return Vec::new();
        };
        let timers = &mut live.store.data_mut().timers;
        if timers.is_empty() {
            // Asked after every input, for every agent: most have none.
            return Vec::new();
        }
        let mut due: Vec<Timer> = timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, at)| Timer {
                id: id.clone(),
                due: *at,
            })
            .collect();
        for t in &due {
            timers.remove(&t.id);
        }
        due.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.id.cmp(&b.id)));
        due
    }
}
