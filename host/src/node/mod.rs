//! The node: wires venue, bus, agents, risk, limits and the order manager
//! into one host, and drives them.
//!
//! The node is one deterministic loop. Each input (a market event or an
//! execution report from the venue, a due timer) is stamped, published, and
//! every delivery it causes is handled before the next input is taken — so
//! a run is a function of its inputs, which is what the journal builds on.
//!
//! The order path: an agent's `order` output goes to every risk agent as a
//! `risk.check.request` (request/reply, under that agent's deadline); any
//! reject, fault or missing answer refuses the order (fail safe); a resize
//! may only shrink it. Then the host's [`HardLimits`] have the last word,
//! and only then the venue sees it. Execution reports update the order
//! manager and go back to the owning agent and to `order.<status>.<symbol>`.
//!
//! - [`connect`]: the configured venue, built.
//! - `delivery`: delivering to agents, at least once for reliable topics.
//! - `risk_stage`: risk agents' votes, required and by consensus.
//! - [`view`]: what agents can read.
//! - [`stats`]: counters and the run summary.
//! - [`run`]: the loop with pacing and shutdown.
//! - `runs`: offline, runs of market events handed to an agent in one call.
//! - [`operator`]: operator commands (status, trading state, DLQ replay,
//!   deploy, rollback).
//! - `deploy`: every agent call through its versions; deploy events.
//! - `supervisor`: quarantine of agents that fault too often; health.
//! - [`snapshot`]: the node's state, taken and put back across a restart.
//! - `checkpoint`: a running node journals its state and carries on from
//!   it as a new session.

mod amend;
pub mod approval;
mod checkpoint;
pub mod connect;
mod delivery;
mod deploy;
pub mod market_records;
mod news;
pub mod operator;
pub mod order_records;
pub mod record;
mod risk_stage;
pub mod run;
mod runs;
pub use runs::Delivery;
pub mod snapshot;
pub mod stats;
mod stops;
mod supervisor;
mod topics;
pub mod view;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Context as _;

use crate::agent::{AgentInstance, AgentLinker, AgentSpec, CallFault, Rights};
use crate::bus::{Bus, InProcessBus, Stamper};
use crate::config::{NodeConfig, Role, assets_by_symbol};
use crate::deploy::{Deployed, Preparer, Reaper, Trust, Version};
use crate::dlq::{DeadLetter, DeadLetterQueue};
use crate::model::{
    Envelope, ExecutionReport, MarketEvent, Nanos, OrderIntent, OrderStatus, Output, Payload,
    ReasonCode,
};
use crate::oms::{Oms, Portfolio};
use crate::risk::{BookView, HardLimits, Refusal, TradingMode, TradingState};
use crate::runtime::{ComponentCache, Runtime};
use crate::store::{Row, Store};
use crate::venue::{Polled, Venue, VenueEvent};

pub use run::{RunOptions, run};
pub use stats::{Stats, Summary};
pub use view::SharedView;

const HOST: &str = "host";
/// Subscriber id of the host's own tap (see [`Node::tap`]).
const TAP: crate::bus::SubscriberId = usize::MAX;

struct Slot {
    agent: Deployed,
    role: Role,
    counts: SlotCounts,
    inbox: delivery::InboxPolicy,
    seen: crate::bus::DedupWindow,
    supervision: supervisor::Supervision,
    /// How many market events the next run to this agent may hold: twice
    /// what the last one took ([`runs`]).
    run_len: usize,
}

impl Default for SlotCounts {
    fn default() -> Self {
        Self {
            handled: 0,
            faults: 0,
            published: 0,
            order_intents: 0,
            conflated: 0,
            deduplicated: 0,
            retried: 0,
            dead_lettered: 0,
            denied: 0,
            latency: crate::bus::Latency::new(2),
            max_queue: 0,
            backpressure_engaged: 0,
            above_high_since: None,
            above_high_ns: 0,
        }
    }
}

struct SlotCounts {
    handled: u64,
    faults: u64,
    published: u64,
    order_intents: u64,
    conflated: u64,
    deduplicated: u64,
    retried: u64,
    dead_lettered: u64,
    denied: u64,
    /// Bus queue → first handler entry.
    latency: crate::bus::Latency,
    max_queue: u64,
    backpressure_engaged: u64,
    above_high_since: Option<Nanos>,
    above_high_ns: u64,
}

/// A running host.
pub struct Node {
    // Field order matters: agents drop before the runtime that runs them.
    agents: Vec<Slot>,
    by_name: HashMap<String, usize>,
    required_risk: Vec<usize>,
    consensus_risk: Vec<usize>,
    risk_policy: crate::config::RiskPolicy,
    bus: Box<dyn Bus>,
    stamper: Stamper,
    /// Market and order topics, each made once.
    topics: topics::Topics,
    venue: Box<dyn Venue>,
    /// The journal of inputs (`[journal]`), shared with the recording
    /// venue wrapped around `venue`.
    recorder: Option<record::Recorder>,
    /// Why the journal cannot be written, once it could not (announced
    /// once, on `host.journal.failed`).
    journal_failure: Option<String>,
    oms: Oms,
    limits: HardLimits,
    trading: TradingState,
    dlq: DeadLetterQueue,
    /// Orders, events, dead letters and the audit trail, for `sqlite3`.
    store: Store,
    dlq_path: std::path::PathBuf,
    started: std::time::Instant,
    view: Arc<SharedView>,
    stats: Arc<Stats>,
    reject_reasons: stats::ReasonCounts,
    tapped: Vec<Arc<Envelope>>,
    parked: std::collections::BTreeMap<usize, delivery::Parked>,
    retry: crate::bus::RetryPolicy,
    now: Nanos,
    preparer: Preparer,
    /// Agents that run only because of `[trust] dev = true`.
    trust_warnings: Vec<String>,
    /// `checked`, or `dev` (unsigned agents run, with a warning).
    trust_mode: &'static str,
    /// Agents whose new version is on probation.
    on_probation: usize,
    /// Intents waiting for a person, by approval id.
    pending_approvals: BTreeMap<u64, approval::PendingApproval>,
    supervisor: crate::config::SupervisorPolicy,
    /// Stopping: new orders are refused (see `Operation::Stopping`).
    stopping: bool,
    /// When the next checkpoint is due, and the session record it copies.
    checkpoints: checkpoint::Checkpoints,
    runtime: Arc<Runtime>,
    /// Offline: quiet runs of market events may go to an agent in one call
    /// ([`Node::inject_run`]).
    market_runs: bool,
    /// What the venue looked ahead at for a run (`runs.rs`), kept between
    /// runs so that looking ahead allocates nothing.
    ahead: Vec<(Nanos, MarketEvent)>,
}

impl Node {
    /// Build a node: engine, compiled agents (from the cache when possible),
    /// instances, subscriptions, venue.
    ///
    /// # Errors
    /// When an agent cannot be loaded or started, or the data directory
    /// cannot be written; the message names the agent and what to do.
    pub fn new(cfg: &NodeConfig, venue: Box<dyn Venue>) -> anyhow::Result<Self> {
        Self::start(cfg, venue, None)
    }

    /// As [`Node::new`], carrying on from `from` (a restarted host's
    /// recovered state, or a replayed session's recorded one): agents,
    /// orders, account and trading state are put back, the state is
    /// journaled with the session, and the venue is given the open orders
    /// to reconcile. What could not be put back is logged.
    ///
    /// # Errors
    /// As [`Node::new`].
    pub fn start(
        cfg: &NodeConfig,
        venue: Box<dyn Venue>,
        from: Option<&snapshot::NodeState>,
    ) -> anyhow::Result<Self> {
        let runtime = Arc::new(
            Runtime::new(cfg.runtime.clone())
                .map_err(anyhow::Error::from)
                .context("cannot start the WebAssembly engine")?,
        );
        let cache = Arc::new(ComponentCache::new(
            runtime.engine(),
            Some(cfg.cache_dir.clone()),
        ));
        let linker = Arc::new(
            AgentLinker::new(runtime.engine())
                .map_err(anyhow::Error::from)
                .context("cannot link the host interface")?,
        );
        let view = Arc::new(SharedView::default());
        let mut specs = HashMap::new();
        let reaper = Reaper::start();
        let mut bus: Box<dyn Bus> = Box::new(InProcessBus::with_reliable(cfg.reliable.clone()));
        let mut agents = Vec::new();
        let mut by_name = HashMap::new();
        let mut required_risk = Vec::new();
        let mut consensus_risk = Vec::new();
        let mut trust_warnings = Vec::new();
        // Each agent's name, artifact hash and bytes, for the journal.
        let mut ran = Vec::new();
        for (i, a) in cfg.agents.iter().enumerate() {
            // Read once: the bytes verified are the bytes compiled, so the
            // file cannot change between the check and the load.
            let bytes = std::fs::read(&a.path)
                .map_err(|source| crate::runtime::CacheError::Read {
                    path: a.path.clone(),
                    source,
                })
                .with_context(|| format!("loading agent `{}`", a.name))?;
            let (granted, verified) =
                cfg.trust
                    .admit(a, &format!("`{}`", a.path.display()), &bytes)?;
            if let Some(w) = verified.warning {
                tracing::warn!(agent = %a.name, "{w}");
                trust_warnings.push(format!("agent `{}`: {w}", a.name));
            } else {
                tracing::info!(agent = %a.name, signers = %verified.signers.join(", "), "signature verified");
            }
            let a = &granted;
            let loaded = cache
                .load_bytes(runtime.engine(), &bytes, &a.path)
                .with_context(|| format!("loading agent `{}`", a.name))?;
            tracing::info!(agent = %a.name, sha256 = %loaded.sha256, cached = loaded.from_cache, "loaded");
            ran.push((a.name.clone(), loaded.sha256.clone(), bytes));
            let spec = AgentSpec {
                name: a.name.clone(),
                component: loaded.component,
                limits: a.limits.clone(),
                rights: Rights {
                    publish: a.publish.clone(),
                    order_symbols: a.order_symbols.clone(),
                },
                config: a.config.clone(),
                seed: i as u64 + 1,
                read_dirs: a.read_dirs.clone(),
            };
            specs.insert(a.name.clone(), spec.clone());
            let instance = AgentInstance::start(&runtime, &linker, spec.clone(), view.clone())?;
            let version = Version::new(spec, loaded.sha256, BTreeMap::new());
            for p in &a.subscribe {
                bus.subscribe(i, p.clone());
            }
            match (a.role, a.vote) {
                (Role::Risk, crate::config::VoteKind::Required) => required_risk.push(i),
                (Role::Risk, crate::config::VoteKind::Consensus) => consensus_risk.push(i),
                _ => {}
            }
            by_name.insert(a.name.clone(), i);
            agents.push(Slot {
                agent: Deployed::new(
                    instance,
                    version,
                    cfg.deploy.clone(),
                    cfg.supervisor.checkpoint_every as usize,
                    reaper.clone(),
                ),
                role: a.role,
                counts: SlotCounts::default(),
                inbox: delivery::InboxPolicy::new(a.inbox_capacity, a.conflate.clone()),
                seen: crate::bus::DedupWindow::default(),
                supervision: supervisor::Supervision::default(),
                run_len: runs::MIN_RUN,
            });
        }
        std::fs::create_dir_all(&cfg.data_dir).with_context(|| {
            format!(
                "cannot create the data directory `{}`; check the path and its permissions",
                cfg.data_dir.display()
            )
        })?;
        let store = Store::open(&cfg.data_dir.join("floor.db"))?;
        let recorder =
            match &cfg.journal {
                Some(jc) => {
                    let dir = cfg.data_dir.join("journal");
                    Some(record::Recorder::open(&dir, *jc).with_context(|| {
                        format!("cannot open the journal at `{}`", dir.display())
                    })?)
                }
                None => None,
            };
        let artifacts = recorder
            .as_ref()
            .map(|_| crate::deploy::Artifacts::at(cfg.data_dir.join("artifacts")));
        let order_ids = match &recorder {
            Some(_) => {
                let dir = cfg.data_dir.join("journal");
                record::ids_used(&dir).with_context(|| {
                    format!("cannot read the orders on record in `{}`", dir.display())
                })?
            }
            None => BTreeMap::new(),
        };
        let session = match (&recorder, &artifacts) {
            (Some(rec), Some(store)) => Some(record::open_session(
                rec,
                store,
                cfg,
                venue.name(),
                &ran,
                &order_ids,
                from,
            )?),
            _ => None,
        };
        drop(ran);
        let venue: Box<dyn Venue> = match &recorder {
            Some(r) => Box::new(record::RecordingVenue::new(venue, r.clone())),
            None => venue,
        };
        let dlq_path = cfg.data_dir.join("dlq.jsonl");
        let dlq = DeadLetterQueue::with_file(&dlq_path).with_context(|| {
            format!("cannot open the dead-letter file `{}`", dlq_path.display())
        })?;
        let mut portfolio = Portfolio::new(
            assets_by_symbol(&cfg.symbols),
            cfg.balances.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        );
        for asset in cfg.balances.keys() {
            view.set_balance(portfolio.balance(asset));
        }
        for s in &cfg.symbols {
            portfolio.mark(s.symbol.as_str(), s.price);
        }
        let mut oms = Oms::new(portfolio);
        oms.continue_ids(&order_ids);
        let mut node = Self {
            agents,
            by_name,
            required_risk,
            consensus_risk,
            risk_policy: cfg.risk.clone(),
            bus,
            stamper: Stamper::new(),
            topics: topics::Topics::default(),
            venue,
            recorder,
            journal_failure: None,
            oms,
            limits: HardLimits::new(cfg.limits.clone()),
            trading: TradingState::default(),
            dlq,
            store,
            dlq_path,
            started: std::time::Instant::now(),
            view: view.clone(),
            stats: Arc::new(Stats::default()),
            reject_reasons: stats::ReasonCounts::default(),
            tapped: Vec::new(),
            parked: std::collections::BTreeMap::new(),
            retry: cfg.retry.clone(),
            now: 0,
            preparer: Preparer::new(
                runtime.clone(),
                linker,
                cache,
                view.clone(),
                specs,
                Trust {
                    store: cfg.trust.clone(),
                    source: cfg.source.clone(),
                    configs: cfg
                        .agents
                        .iter()
                        .map(|a| (a.name.clone(), a.clone()))
                        .collect(),
                },
            )
            .keeping_artifacts(artifacts),
            trust_warnings,
            trust_mode: if cfg.trust.dev { "dev" } else { "checked" },
            on_probation: 0,
            pending_approvals: BTreeMap::new(),
            supervisor: cfg.supervisor.clone(),
            stopping: false,
            market_runs: false,
            ahead: Vec::new(),
            checkpoints: checkpoint::Checkpoints::new(
                session,
                cfg.checkpoint_every,
                cfg.keep_checkpoints,
            ),
            runtime,
        };
        if let Some(state) = from {
            node.apply_state(state);
            node.resume_venue();
        }
        Ok(node)
    }

    /// Number client order ids after `used` (a replay starts where the
    /// recorded node started; a journaled node does this itself).
    pub fn continue_order_ids(&mut self, used: &BTreeMap<String, u64>) {
        self.oms.continue_ids(used);
    }

    /// Write orders and events to `store` from now on (crash recovery
    /// rewrites the stopped host's last events into its own store).
    pub(crate) fn set_store(&mut self, store: Store) {
        self.store = store;
    }

    /// Orders whose outcome is still on its way: sent and not answered,
    /// or answered but bound to finish at once (market, IOC, FOK) and not
    /// finished yet. A resting limit order is not awaited: it may rest
    /// for days.
    pub fn awaiting_answers(&self) -> usize {
        use crate::model::{OrderType, TimeInForce};
        self.oms
            .open_orders()
            .filter(|o| {
                o.state == crate::oms::OrderState::Submitted
                    || o.intent.order_type == OrderType::Market
                    || matches!(o.intent.time_in_force, TimeInForce::Ioc | TimeInForce::Fok)
            })
            .count()
    }

    /// Counters, for a status printer on another thread.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// The dead-letter queue.
    pub fn dlq(&self) -> &DeadLetterQueue {
        &self.dlq
    }

    /// The order manager.
    pub fn oms(&self) -> &Oms {
        &self.oms
    }

    /// The engine.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Take the venue's next event and handle everything it causes.
    /// Returns false when the venue's feed has ended.
    pub fn step(&mut self) -> bool {
        if self.backpressured() && self.advance_to_next_retry() {
            // Producers wait: no new input until the backlog is below low
            // water; event time moves to the retry instead.
            self.drain();
            return true;
        }
        match self.venue.poll() {
            Polled::Ended => return false,
            Polled::Idle(t) => self.now = self.now.max(t),
            Polled::Event(t, event) => {
                self.now = self.now.max(t);
                match event {
                    VenueEvent::Market(m) => self.on_market(m),
                    VenueEvent::Execution(r) => self.on_execution(&r, 0),
                    VenueEvent::Notice { topic, detail } => self.on_notice(topic, detail),
                    VenueEvent::Balances(b) => self.on_balances(&b),
                }
            }
        }
        self.fire_timers();
        self.expire_approvals();
        self.fire_parked();
        self.check_probations();
        self.drain();
        true
    }

    /// Feed a market event from outside the venue (replays, benchmarks):
    /// the venue sees it as its touch, then agents get it. Returns the
    /// number of orders sent to the venue as a consequence.
    pub fn inject(&mut self, event: MarketEvent, at: Nanos) -> u64 {
        let before = self.stats.orders.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(r) = &self.recorder {
            r.append_market(record::kind::INJECTED, at, &event);
        }
        self.now = self.now.max(at);
        for r in self.venue.observe(&event, self.now) {
            self.on_execution(&r, 0);
        }
        self.on_market(event);
        self.fire_timers();
        self.expire_approvals();
        self.fire_parked();
        self.drain();
        self.stats.orders.load(std::sync::atomic::Ordering::Relaxed) - before
    }

    /// Publish an envelope that already carries its id and stamp: one from
    /// another host (over Kafka), or a replay. Reliable subscribers that
    /// already had a message with this id skip it (and count it).
    pub fn publish_envelope(&mut self, envelope: Envelope) {
        self.bus.publish(envelope, None);
        self.drain();
    }

    /// Publish a message from the host (operator commands, tests).
    pub fn publish(&mut self, topic: &str, payload: Payload) {
        let env = self
            .stamper
            .stamp(HOST, topic.to_string(), payload, self.now, 0, None);
        self.bus.publish(env, None);
        self.drain();
    }

    /// Send an order intent on behalf of agent `agent` (operator tools,
    /// tests). It takes exactly the path an agent's intent takes: risk
    /// agents, host limits, venue; its events go to `order.*` and to `agent`.
    ///
    /// # Errors
    /// When no agent has that name.
    pub fn submit(&mut self, agent: &str, intent: OrderIntent) -> anyhow::Result<()> {
        let idx = self.agent_index(agent)?;
        let trace = self.stamper.next_id();
        self.place(idx, intent, trace);
        self.drain();
        Ok(())
    }

    fn agent_index(&self, agent: &str) -> anyhow::Result<usize> {
        self.by_name
            .get(agent)
            .copied()
            .with_context(|| format!("no agent named `{agent}` in this config"))
    }

    /// Cancel order `order_id` on behalf of agent `agent` (operator tools,
    /// tests), as if the agent had asked: only its own orders.
    ///
    /// # Errors
    /// When no agent has that name.
    pub fn cancel_order(&mut self, agent: &str, order_id: &str) -> anyhow::Result<()> {
        let idx = self.agent_index(agent)?;
        let cause = self.stamper.stamp(
            HOST,
            "operator.cancel.request".to_string(),
            Payload::Custom(order_id.as_bytes().to_vec()),
            self.now,
            0,
            None,
        );
        self.cancel(idx, order_id, &cause);
        self.drain();
        Ok(())
    }

    /// Replace order `order_id` of agent `agent` on its behalf (operator
    /// tools, tests): exactly what the agent's own `replace` output does.
    ///
    /// # Errors
    /// When no agent has that name.
    pub fn replace_order(
        &mut self,
        agent: &str,
        order_id: &str,
        quantity: f64,
        limit_price: Option<f64>,
    ) -> anyhow::Result<()> {
        let idx = self.agent_index(agent)?;
        let cause = self.stamper.stamp(
            HOST,
            "operator.replace.request".to_string(),
            Payload::Custom(order_id.as_bytes().to_vec()),
            self.now,
            0,
            None,
        );
        let with = crate::oms::Replacement {
            quantity,
            limit_price,
        };
        self.replace(idx, order_id, with, &cause);
        self.drain();
        Ok(())
    }

    /// The store (orders, events, dead letters, audit) in the data
    /// directory; [`Store::flush`] before reading it.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Deliver `envelope` to agent `agent` again (a dead letter, after a
    /// fix), acting on its outputs as on any delivery. Returns the number of
    /// outputs; a fault is also recorded as a new dead letter.
    ///
    /// # Errors
    /// When no agent has that name, or the call faulted again.
    pub fn redeliver(&mut self, agent: &str, envelope: &Envelope) -> anyhow::Result<usize> {
        let idx = self.agent_index(agent)?;
        self.agents[idx].counts.handled += 1;
        let envelope = Arc::new(envelope.clone());
        let result = match self.call_agent(idx, &envelope, false, None) {
            Ok(outputs) => {
                let n = outputs.len();
                self.act(idx, &envelope, outputs);
                Ok(n)
            }
            Err(fault) => {
                let e = anyhow::anyhow!("{}: {}", fault.reason, fault.detail);
                self.fault(idx, fault, &envelope);
                Err(e)
            }
        };
        self.drain();
        result
    }

    fn on_market(&mut self, event: MarketEvent) {
        self.market_side(&event);
        let env = self.stamp_market(event);
        // Stops fire before any agent sees the quote that reached them.
        if let Payload::Quote(q) = &env.payload {
            self.fire_stops(q, env.trace_id);
        }
        self.bus.publish(env, None);
    }

    /// A market event's mark on the host: counted; a quote moves the view,
    /// the mark of its symbol and equity.
    fn market_side(&mut self, event: &MarketEvent) {
        Stats::bump(&self.stats.events);
        if let MarketEvent::Quote(q) = event {
            self.view.set_quote(q);
            self.oms.portfolio.mark(&q.symbol, q.mid());
            self.oms.portfolio.update_equity();
        }
    }

    /// A market event as the venue's envelope, stamped at event time `now`.
    fn stamp_market(&mut self, event: MarketEvent) -> Envelope {
        let topic = self.topics.market(&event);
        self.stamper
            .stamp(self.venue.name(), topic, event.into(), self.now, 0, None)
    }

    /// A venue notice: an alert for people, a message for agents that
    /// subscribe to `venue.#` (the text as bytes).
    fn on_notice(&mut self, topic: String, detail: String) {
        Stats::bump(&self.stats.alerts);
        tracing::warn!(venue = %self.venue.name(), %topic, "{detail}");
        let env = self.stamper.stamp(
            self.venue.name(),
            topic,
            Payload::Custom(detail.into_bytes()),
            self.now,
            0,
            None,
        );
        self.bus.publish(env, None);
    }

    /// The venue's balances, taken as the truth: each asset of our symbols
    /// that differs (by more than 1e-8) is corrected, published on
    /// `venue.reconcile.balance` and counted as an alert and a correction.
    fn on_balances(&mut self, venue: &[crate::model::Balance]) {
        for asset in self.oms.portfolio.known_assets() {
            let theirs = venue
                .iter()
                .find(|b| b.asset == asset)
                .map_or(0.0, |b| b.free + b.locked);
            let ours = self.oms.portfolio.balance(&asset).free;
            if (theirs - ours).abs() <= 1e-8 {
                continue;
            }
            self.oms.portfolio.set_balance(&asset, theirs);
            self.view.set_balance(self.oms.portfolio.balance(&asset));
            Stats::bump(&self.stats.corrections);
            self.on_notice(
                "venue.reconcile.balance".into(),
                format!(
                    "{asset}: the host had {ours}, the venue has {theirs} (difference {:+}); the venue's figure is taken",
                    theirs - ours
                ),
            );
        }
        self.oms.portfolio.update_equity();
    }

    /// Ask the venue to reconcile now; discrepancies arrive as events.
    pub fn reconcile_venue(&mut self) {
        self.venue.reconcile();
    }

    fn fire_timers(&mut self) {
        for i in 0..self.agents.len() {
            for t in self.agents[i].agent.take_due_timers(self.now) {
                let topic = format!("timer.fired.{}", self.agents[i].agent.name());
                let env = self
                    .stamper
                    .stamp(HOST, topic, Payload::Timer(t), self.now, 0, None);
                self.bus.send_to(i, env);
            }
        }
    }

    fn drain(&mut self) {
        loop {
            while let Some(d) = self.bus.next() {
                self.deliver(d);
            }
            if !self.announce_journal_failure() {
                break;
            }
        }
    }

    /// The first time the journal cannot be written: an alert, and the
    /// reason on `host.journal.failed` (JSON) for agents and people. From
    /// then on every order is refused (`journal_unavailable`): nothing
    /// leaves without its cause on record. True when it announced (the
    /// bus has a message to deliver).
    fn announce_journal_failure(&mut self) -> bool {
        if self.journal_failure.is_some() {
            return false;
        }
        let Some(why) = self.recorder.as_ref().and_then(record::Recorder::failure) else {
            return false;
        };
        Stats::bump(&self.stats.alerts);
        self.journal_failure = Some(why.clone());
        self.announce(
            "host.journal.failed".to_string(),
            &serde_json::json!({
                "reason": why,
                "orders": "refused until the host is restarted with a journal it can write",
            }),
        );
        true
    }

    fn dead_letter(
        &mut self,
        agent: &str,
        reason: ReasonCode,
        detail: String,
        envelope: Envelope,
        attempts: u32,
    ) {
        Stats::bump(&self.stats.dlq);
        self.bus
            .note(&envelope.topic, crate::bus::TopicEvent::DeadLettered);
        let denied = matches!(reason, ReasonCode::PublishDenied | ReasonCode::OrderDenied);
        if denied {
            self.bus
                .note(&envelope.topic, crate::bus::TopicEvent::Denied);
        }
        if let Some(&i) = self.by_name.get(agent) {
            let c = &mut self.agents[i].counts;
            c.dead_lettered += 1;
            c.denied += u64::from(denied);
        }
        self.store.record(Row::DeadLetter {
            at: self.now,
            agent: agent.to_string(),
            reason: reason.as_str().to_string(),
            attempts,
            topic: envelope.topic.to_string(),
            detail: detail.clone(),
        });
        self.dlq.push(DeadLetter {
            id: 0,
            attempts,
            agent: agent.to_string(),
            reason,
            detail,
            envelope,
        });
    }

    fn fault(&mut self, idx: usize, fault: CallFault, envelope: &Envelope) {
        if !matches!(
            fault.reason,
            ReasonCode::AgentError | ReasonCode::Quarantined | ReasonCode::Restarting
        ) {
            Stats::bump(&self.stats.agent_faults);
            self.agents[idx].counts.faults += 1;
            self.supervise(idx);
        }
        let name = self.agents[idx].agent.name().to_string();
        self.dead_letter(
            &name,
            fault.reason,
            fault.detail,
            envelope.clone(),
            envelope.attempt,
        );
    }

    /// Publish `body` as JSON on `topic`, from the host: what it did, for
    /// agents and people that listen.
    fn announce(&mut self, topic: String, body: &impl serde::Serialize) {
        let value = serde_json::to_value(body).unwrap_or_default();
        self.store.record(Row::Audit {
            at: self.now,
            actor: value
                .get("by")
                .and_then(|b| b.as_str())
                .unwrap_or(HOST)
                .to_string(),
            action: topic.clone(),
            detail: value.to_string(),
        });
        let body = serde_json::to_vec(&value).unwrap_or_default();
        let env = self
            .stamper
            .stamp(HOST, topic, Payload::Custom(body), self.now, 0, None);
        self.bus.publish(env, None);
    }

    /// Keep a copy of every message on topics matching `pattern` (for tests
    /// and tools that watch what agents publish); read them with [`Node::tapped`].
    pub fn tap(&mut self, pattern: crate::model::TopicPattern) {
        self.bus.subscribe(TAP, pattern);
    }

    /// Messages the tap has seen, in delivery order.
    pub fn tapped(&self) -> &[Arc<Envelope>] {
        &self.tapped
    }

    /// Take what the tap has seen so far, leaving it empty (a long-running
    /// watcher that must not hold every message).
    pub fn take_tapped(&mut self) -> Vec<Arc<Envelope>> {
        std::mem::take(&mut self.tapped)
    }

    /// Hand what the tap has seen so far to `each`, in delivery order,
    /// leaving it empty (and keeping its room, for a watcher that takes
    /// after every input).
    pub fn drain_tapped(&mut self, each: impl FnMut(Arc<Envelope>)) {
        self.tapped.drain(..).for_each(each);
    }

    fn act(&mut self, idx: usize, cause: &Envelope, outputs: Vec<Output>) {
        if outputs.is_empty() {
            return;
        }
        let name = self.agents[idx].agent.name().to_string();
        for o in outputs {
            match o {
                Output::Publish { topic, payload } => {
                    self.agents[idx].counts.published += 1;
                    let env =
                        self.stamper
                            .stamp(&name, topic, payload, self.now, cause.trace_id, None);
                    self.bus.publish(env, Some(idx));
                }
                Output::Order { intent } => {
                    self.agents[idx].counts.order_intents += 1;
                    self.place(idx, intent, cause.trace_id);
                }
                Output::Cancel { order_id } => self.cancel(idx, &order_id, cause),
                Output::Replace {
                    order_id,
                    quantity,
                    limit_price,
                } => self.replace(
                    idx,
                    &order_id,
                    crate::oms::Replacement {
                        quantity,
                        limit_price,
                    },
                    cause,
                ),
                Output::Alert { message } => {
                    Stats::bump(&self.stats.alerts);
                    tracing::warn!(agent = %name, "alert: {message}");
                }
                Output::Request {
                    reference,
                    topic,
                    payload,
                    timeout_ns,
                } => self.request(idx, reference, topic, payload, timeout_ns, cause),
                // Replies are taken by whoever sent the request; `handle` has
                // already refused replies outside a request.
                Output::Reply { .. } => {}
            }
        }
    }

    /// Serve agent `idx`'s request: the first other subscriber of `topic`
    /// answers within `timeout_ns`; the requester gets exactly one message
    /// back on `topic` with correlation id `reference`: the reply, or
    /// `no-reply` with the reason.
    fn request(
        &mut self,
        idx: usize,
        reference: u64,
        topic: String,
        payload: Payload,
        timeout_ns: u64,
        cause: &Envelope,
    ) {
        let name = self.agents[idx].agent.name().to_string();
        let mut req = self.stamper.stamp(
            &name,
            topic.clone(),
            payload,
            self.now,
            cause.trace_id,
            None,
        );
        req.correlation_id = Some(req.id);
        let req = Arc::new(req);
        let responder = self
            .bus
            .subscribers(&topic)
            .iter()
            .copied()
            .find(|&s| s != idx && s != TAP);
        let (source, answer) = match responder {
            None => (
                HOST.to_string(),
                Payload::NoReply(format!("no agent subscribes to `{topic}`")),
            ),
            Some(r) => {
                let who = self.agents[r].agent.name().to_string();
                self.agents[r].counts.handled += 1;
                let timeout = std::time::Duration::from_nanos(timeout_ns);
                match self.call_agent(r, &req, true, Some(timeout)) {
                    Ok(outputs) => {
                        let mut reply = None;
                        let mut rest = Vec::new();
                        for o in outputs {
                            match o {
                                Output::Reply { payload } if reply.is_none() => {
                                    reply = Some(payload)
                                }
                                other => rest.push(other),
                            }
                        }
                        self.act(r, &req, rest);
                        let answer = reply.unwrap_or_else(|| {
                            Payload::NoReply(format!(
                                "`{who}` handled the request without replying"
                            ))
                        });
                        (who, answer)
                    }
                    Err(fault) => {
                        let why = format!("`{who}` faulted ({}): {}", fault.reason, fault.detail);
                        self.fault(r, fault, &req);
                        (who, Payload::NoReply(why))
                    }
                }
            }
        };
        let back = self.stamper.stamp(
            &source,
            topic,
            answer,
            self.now,
            cause.trace_id,
            Some(reference),
        );
        self.bus.send_to(idx, back);
    }

    /// Ask the risk stage about `intent` without sending anything: the
    /// intent as the risk agents leave it (perhaps resized), or the refusal.
    /// A would-this-pass check for tools, and the `risk_stage_ns` probe.
    ///
    /// # Errors
    /// The refusal, as an order would get it.
    pub fn ask_risk(&mut self, mut intent: OrderIntent) -> Result<OrderIntent, Refusal> {
        let trace = self.stamper.next_id();
        let verdict = self.risk_stage(&mut intent, trace);
        self.drain();
        verdict.map(|()| intent)
    }

    /// The trading state now.
    pub fn trading(&self) -> &TradingState {
        &self.trading
    }

    /// Set the trading state (an operator's `floor halt|reduce|resume`).
    /// Takes effect for the next order intent; see [`Node::tighten_trading`]
    /// for what a change does.
    pub fn set_trading(&mut self, to: TradingMode, by: &str, reason: &str) {
        if let Some(change) = self.trading.set(to, by, reason, self.now) {
            self.trading_changed(change);
        }
        self.drain();
    }

    /// Make trading more restrictive on the host's own account (never
    /// looser). Entering HALTED cancels every open order.
    fn tighten_trading(&mut self, to: TradingMode, reason: &str) {
        if let Some(change) = self.trading.tighten(to, reason, self.now) {
            self.trading_changed(change);
        }
    }

    /// Publish a change on `risk.trading.<state>` (JSON, for agents that
    /// throttle themselves and for people), raise an alert, and on HALTED
    /// cancel what is open.
    fn trading_changed(&mut self, change: crate::risk::TradingChange) {
        Stats::bump(&self.stats.alerts);
        tracing::warn!(from = change.from.name(), to = change.to.name(), by = %change.by, "trading {}: {}", change.to.name(), change.reason);
        self.announce(format!("risk.trading.{}", change.to.name()), &change);
        if change.to == TradingMode::Halted {
            let open: Vec<(String, String)> = self
                .oms
                .open_orders()
                .map(|o| (o.agent.to_string(), o.id.to_string()))
                .collect();
            let cause = self.stamper.stamp(
                HOST,
                "risk.trading.halted".to_string(),
                Payload::Custom(Vec::new()),
                self.now,
                0,
                None,
            );
            for (agent, id) in open {
                if let Some(&idx) = self.by_name.get(&agent) {
                    self.cancel(idx, &id, &cause);
                }
            }
        }
    }

    /// The trading state, the risk stage and the hard limits, in that order.
    fn check_order(
        &mut self,
        agent: &str,
        intent: &mut OrderIntent,
        trace: u64,
    ) -> Result<(), Refusal> {
        if self.stopping {
            return Err(Refusal::host(
                ReasonCode::HostStopping,
                "the host is stopping: only the answers to orders already sent are awaited",
            ));
        }
        let position = self.oms.portfolio.position(&intent.symbol).quantity;
        self.trading
            .admits(intent.side, intent.quantity, position)?;
        self.risk_stage(intent, trace)?;
        // A required risk agent that failed during this very stage halts.
        self.trading
            .admits(intent.side, intent.quantity, position)?;
        let quote = crate::agent::View::quote(&*self.view, &intent.symbol);
        let book = BookView {
            quote: quote.as_ref(),
            position,
            gross_exposure: self.oms.portfolio.gross_exposure(),
            pnl: self.oms.portfolio.pnl().total,
        };
        self.limits.check(agent, intent, &book, self.now)
    }

    /// A refused intent: counted by reason, published as `order.rejected.*`
    /// to the agent and on the bus, and filed in the dead-letter queue.
    fn refuse(&mut self, agent: &str, intent: OrderIntent, refusal: Refusal, trace: u64) {
        self.reject_reasons.count(refusal.key());
        Stats::bump(&self.stats.rejects);
        if refusal.code == crate::model::ReasonCode::LimitDailyLoss {
            self.tighten_trading(TradingMode::Reducing, &refusal.detail);
        }
        // A record, never published: it takes an id but no place in the
        // agent's per-source sequence (subscribers would see a gap).
        let record = Envelope {
            id: self.stamper.next_id(),
            topic: self.topics.get("order.refused.", &intent.symbol),
            source: agent.into(),
            sequence: 0,
            event_time: self.now,
            trace_id: trace,
            correlation_id: None,
            attempt: 1,
            payload: Payload::OrderIntent(Box::new(intent.clone())),
        };
        self.dead_letter(agent, refusal.code, refusal.to_string(), record, 1);
        let event = self.oms.reject(agent, intent, refusal.to_string());
        self.publish_order_event(event, trace);
    }

    fn place(&mut self, idx: usize, intent: OrderIntent, trace: u64) {
        self.send_checked(idx, intent, trace, false);
    }

    /// Check `intent` (trading state, risk agents, hard limits) and send
    /// it, or hold it for a person (unless a person `approved` it already),
    /// or refuse it. True if it was sent.
    fn send_checked(
        &mut self,
        idx: usize,
        mut intent: OrderIntent,
        trace: u64,
        approved: bool,
    ) -> bool {
        let name = self.agents[idx].agent.name().to_string();
        if let Err(refusal) = self.check_order(&name, &mut intent, trace) {
            self.refuse(&name, intent, refusal, trace);
            return false;
        }
        if !approved && let Some(notional) = self.needs_approval(&intent) {
            self.hold_for_approval(&name, intent, notional, trace);
            return false;
        }
        self.send_to_venue(&name, intent, trace);
        true
    }

    fn on_execution(&mut self, report: &ExecutionReport, trace: u64) {
        let event = match self.oms.apply(report) {
            Ok(e) => {
                self.track_order(&report.order_id);
                e
            }
            Err(e) => {
                Stats::bump(&self.stats.oms_errors);
                tracing::warn!("execution report not applied: {e}");
                return;
            }
        };
        if report.last_quantity > 0.0 {
            Stats::bump(&self.stats.fills);
            let pf = &self.oms.portfolio;
            self.view.set_position(pf.position(&event.symbol));
            for a in pf.balance_assets(&event.symbol) {
                self.view.set_balance(pf.balance(&a));
            }
            let pnl = pf.pnl().total;
            self.stats.set_pnl(pnl);
            self.oms.portfolio.update_equity();
            if let Some(breach) = self.limits.daily_loss_breach(pnl, self.now) {
                self.tighten_trading(TradingMode::Reducing, &breach);
            }
        }
        if let OrderStatus::Rejected { reason } = &report.status {
            Stats::bump(&self.stats.rejects);
            self.reject_reasons.count(format!("venue: {reason}"));
        }
        let done = event.leaves_quantity == 0.0;
        self.publish_order_event(event, trace);
        if done {
            self.follow_replacement(&report.order_id, trace);
        }
    }

    fn publish_order_event(&mut self, event: crate::model::OrderEvent, trace: u64) {
        if let Some(o) = self
            .store
            .records()
            .then(|| self.oms.get(&event.order_id))
            .flatten()
        {
            self.store.record(Row::OrderEvent {
                event: event.clone(),
                intent: o.intent.clone(),
                at: self.now,
                trace,
            });
        }
        let topic = self.topics.get(event.status.topic_prefix(), &event.symbol);
        let owner = self.by_name.get(event.agent.as_str()).copied();
        let env = self.stamper.stamp(
            "oms",
            topic,
            Payload::OrderEvent(Box::new(event)),
            self.now,
            trace,
            None,
        );
        let env = Arc::new(env);
        if let Some(o) = owner {
            self.bus.send_to_shared(o, Arc::clone(&env));
        }
        self.bus.publish_shared(env, owner);
    }

    /// Summary of the run so far.
    pub fn summary(&self, wall_seconds: f64) -> Summary {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.stats;
        let events = s.events.load(Relaxed);
        let pnl = self.oms.portfolio.pnl();
        let mut positions: Vec<_> = self.oms.portfolio.positions().cloned().collect();
        positions.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        Summary {
            events,
            orders: s.orders.load(Relaxed),
            fills: s.fills.load(Relaxed),
            rejects: s.rejects.load(Relaxed),
            pnl: pnl.total,
            pnl_detail: pnl,
            agent_faults: s.agent_faults.load(Relaxed),
            dlq: self.dlq.total(),
            dlq_by_reason: self
                .dlq
                .by_reason()
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            alerts: s.alerts.load(Relaxed),
            oms_errors: s.oms_errors.load(Relaxed),
            late_fills: self.oms.late_fills(),
            corrections: s.corrections.load(Relaxed),
            stops_triggered: s.stops_triggered.load(Relaxed),
            news: s.news.load(Relaxed),
            journal_records: self.recorder.as_ref().map(|r| r.next_seq() - 1),
            journal_failure: self.journal_failure.clone(),
            checkpoints: s.checkpoints.load(Relaxed),
            stops: {
                let mut stops: Vec<_> = self.oms.stops.all().cloned().collect();
                stops.sort_by(|a, b| (&a.symbol, &a.origin).cmp(&(&b.symbol, &b.origin)));
                stops
            },
            retried: s.retried.load(Relaxed),
            awaiting_retry: self.parked_messages(),
            reject_reasons: self.reject_reasons.counts().clone(),
            trading: self.trading.mode(),
            trading_change: self.trading.last_change().cloned(),
            equity: self.oms.portfolio.equity_now(),
            positions,
            health: self.host_health(),
            agents: self
                .agents
                .iter()
                .enumerate()
                .map(|(i, a)| stats::AgentSummary {
                    conflated: a.counts.conflated,
                    deduplicated: a.counts.deduplicated,
                    retried: a.counts.retried,
                    dead_lettered: a.counts.dead_lettered,
                    denied: a.counts.denied,
                    delivery_latency: a.counts.latency.summary(),
                    max_queue: a.counts.max_queue,
                    backpressure_engaged: a.counts.backpressure_engaged,
                    above_high_water_ns: a.counts.above_high_ns,
                    name: a.agent.name().to_string(),
                    version: a.agent.version().sha256.clone(),
                    state: if a.supervision.quarantined() {
                        "quarantined".to_string()
                    } else if self.restarting(i).is_some() {
                        "restarting".to_string()
                    } else {
                        a.agent.state().to_string()
                    },
                    health: self.health(i),
                    quarantine: a.supervision.quarantine().cloned(),
                    memory_bytes: a.agent.memory_bytes() as u64,
                    fuel_used: a.agent.fuel_used(),
                    market_calls: a.agent.market_calls(),
                    market_in_runs: a.agent.market_runs().0,
                    market_runs: a.agent.market_runs().1,
                    order_calls: a.agent.order_calls(),
                    intent_calls: a.agent.intent_calls(),
                    signal_calls: a.agent.signal_calls(),
                    inbox: self.inbox_depth(i) as u64,
                    last_error: a.supervision.last_error().cloned(),
                    last_restart: a.supervision.last_restart().cloned(),
                    handled: a.counts.handled,
                    faults: a.counts.faults,
                    published: a.counts.published,
                    order_intents: a.counts.order_intents,
                    starts: a.agent.starts(),
                    logs_suppressed: a.agent.logs_suppressed(),
                })
                .collect(),
            topics: self.bus.topic_stats(),
            wall_seconds,
            events_per_second: if wall_seconds > 0.0 {
                events as f64 / wall_seconds
            } else {
                0.0
            },
        }
    }

    /// Stop cleanly: the journal records that the session ended here (a
    /// session without that record was cut short), and everything is
    /// written and synced.
    pub fn close(&mut self) {
        if let Some(r) = &self.recorder {
            r.append(record::kind::END, self.now, &[]);
        }
        self.flush();
    }

    /// Flush files before exit: dead letters, and the journal synced to
    /// the disk.
    pub fn flush(&mut self) {
        self.dlq.flush();
        if let Some(r) = &self.recorder {
            r.sync();
        }
    }

    /// Roles by agent, in config order.
    pub fn roles(&self) -> Vec<(String, Role)> {
        self.agents
            .iter()
            .map(|a| (a.agent.name().to_string(), a.role))
            .collect()
    }
}
