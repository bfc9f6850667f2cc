//! The node's state, taken and put back: how a restarted host carries on.
//!
//! A [`NodeState`] is what a session starts from when it is not the first
//! on its data directory: each agent's `snapshot()`, the order manager
//! (open orders, id counters, account, stops), the trading state (a halted
//! host stays halted across a restart) and the daily-loss baseline (a
//! restart does not forgive the day's losses). It is journaled in the
//! session record, so a replay starts the session from the same state the
//! live node did.
//!
//! What a restart does not keep, by design: filled and rejected orders
//! (nothing more can happen to them; a report for one after a restart is
//! counted as unknown; cancelled and expired ones are kept for late
//! fills), the order-rate windows (they are a second long), intents
//! waiting for a person (a restart refuses them, as their expiry would),
//! agents' timers (an agent re-arms them in `restore`), the last quotes
//! (stale after a restart).
//!
//! A *checkpoint* is a state taken inside a running host, which carries on
//! from it (see [`Node::checkpoint_if_due`]). It keeps all the rest too
//! ([`Continued`]): a node started from it is the node that took it, so a
//! replay or a recovery can start there instead of at the session's start.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{ExecutionReport, Nanos, Quote};
use crate::oms::OmsState;
use crate::oms::OrderState;
use crate::risk::TradingState;
use crate::venue::{ResumedOrder, VenueOrder};

use super::Node;
use super::supervisor::Supervision;

/// A node's state at an event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    /// Event time it was taken at, ns.
    pub at: Nanos,
    /// Each agent's state, by name, in config order.
    pub agents: Vec<AgentState>,
    /// The order manager.
    pub oms: OmsState,
    /// Active, reducing or halted, and why.
    pub trading: TradingState,
    /// Daily-loss baseline: (day number, PnL at the day's first look).
    pub day: Option<(u64, f64)>,
    /// For a checkpoint, what a node carrying on needs beyond a restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued: Option<Continued>,
}

/// What a checkpoint keeps beyond a restart's state: everything else the
/// node's next step can depend on. Each map is sorted, so the same state
/// encodes to the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Continued {
    /// The last envelope id given.
    pub last_id: u64,
    /// Each source's last sequence number.
    pub sequences: BTreeMap<String, u64>,
    /// The last top of book of every symbol seen.
    pub quotes: Vec<Quote>,
    /// Each agent's pending timers (id → due, event time).
    pub timers: BTreeMap<String, BTreeMap<String, u64>>,
    /// Event times of the orders in the host's one-second rate window.
    pub rate_window: Vec<Nanos>,
    /// The same, per agent.
    pub rate_windows: BTreeMap<String, Vec<Nanos>>,
    /// Each agent's faults, restarts and quarantine.
    pub supervision: BTreeMap<String, Supervision>,
    /// Each agent's window of reliable message ids already handled.
    pub seen: BTreeMap<String, Vec<u64>>,
}

/// One agent's `snapshot()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    /// Agent name.
    pub name: String,
    /// Its bytes, hex in JSON.
    #[serde(with = "hex_bytes")]
    pub state: Vec<u8>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

impl Node {
    /// Take the node's state now. An agent whose `snapshot()` faults is
    /// left out (it will start from `init`) and named in the log.
    pub fn capture(&mut self) -> NodeState {
        let mut agents = Vec::with_capacity(self.agents.len());
        for slot in &mut self.agents {
            let name = slot.agent.name().to_string();
            match slot.agent.snapshot() {
                Ok(state) => agents.push(AgentState { name, state }),
                Err(f) => tracing::warn!(
                    agent = %name,
                    "snapshot() faulted ({}: {}): the agent will start from init",
                    f.reason,
                    f.detail
                ),
            }
        }
        NodeState {
            at: self.now,
            agents,
            oms: self.oms.state(),
            trading: self.trading.clone(),
            day: self.limits.day(),
            continued: None,
        }
    }

    /// Take the node's state now, with everything a node carrying on from
    /// it needs ([`Continued`]).
    pub(crate) fn capture_all(&mut self) -> NodeState {
        let mut state = self.capture();
        let (last_id, sequences) = self.stamper.state();
        let (rate_window, rate_windows) = self.limits.rates();
        let mut c = Continued {
            last_id,
            sequences,
            quotes: self.view.quotes(),
            rate_window,
            rate_windows,
            ..Continued::default()
        };
        for slot in &self.agents {
            let name = slot.agent.name().to_string();
            let timers = slot.agent.timers();
            if !timers.is_empty() {
                c.timers.insert(name.clone(), timers);
            }
            if slot.supervision != Supervision::default() {
                c.supervision.insert(name.clone(), slot.supervision.clone());
            }
            if !slot.seen.is_empty() {
                c.seen.insert(name, slot.seen.ids());
            }
        }
        state.continued = Some(c);
        state
    }

    /// Become the node `state` (a checkpoint) describes. The node that
    /// took it calls this on itself (`took_it`: its agents keep running,
    /// and their snapshot becomes their last good state), and a replay or
    /// recovery starting at the checkpoint calls it on a freshly built
    /// node (whose agents are restored from their snapshots), so both go
    /// on from the same state. What the state does not hold is reset in
    /// both: the view is rebuilt from it, finished orders past those kept
    /// are forgotten, and each agent numbers its calls from 1.
    ///
    /// # Errors
    /// When an agent is not in the state, or not here, or refuses its
    /// state: the two nodes would not be the same.
    pub(crate) fn continue_from(&mut self, state: &NodeState, took_it: bool) -> anyhow::Result<()> {
        let empty = Continued::default();
        let c = state.continued.as_ref().unwrap_or(&empty);
        let names: Vec<&str> = self.agents.iter().map(|s| s.agent.name()).collect();
        let kept: Vec<&str> = state.agents.iter().map(|a| a.name.as_str()).collect();
        anyhow::ensure!(
            names == kept,
            "the checkpoint holds the states of [{}], not of this node's agents [{}]",
            kept.join(", "),
            names.join(", ")
        );
        if took_it {
            for (slot, a) in self.agents.iter_mut().zip(&state.agents) {
                slot.agent.checkpointed(a.state.clone());
            }
        } else {
            let lost = self.restore_agents(state);
            anyhow::ensure!(
                lost.is_empty(),
                "the checkpoint cannot be carried on from: {}",
                lost.join("; ")
            );
        }
        self.apply_host_state(state);
        self.stamper.set_state(c.last_id, &c.sequences);
        self.limits.set_rates(&c.rate_window, &c.rate_windows);
        self.view.set_quotes(&c.quotes);
        for slot in &mut self.agents {
            let name = slot.agent.name().to_string();
            let name = name.as_str();
            slot.agent
                .set_timers(c.timers.get(name).cloned().unwrap_or_default());
            slot.supervision = c.supervision.get(name).cloned().unwrap_or_default();
            slot.seen
                .set_ids(c.seen.get(name).map_or(&[], Vec::as_slice));
            slot.agent.start_session();
        }
        Ok(())
    }

    /// Start from `state`: agents restored by name, order manager, trading
    /// state, daily baseline, event time. Returns what could not be put
    /// back, for people (an agent no longer configured, a `restore` that
    /// refused its state).
    pub(super) fn apply_state(&mut self, state: &NodeState) -> Vec<String> {
        let lost = self.restore_agents(state);
        self.apply_host_state(state);
        for line in &lost {
            tracing::warn!("{line}");
        }
        lost
    }

    /// Restore each agent named in `state`; what could not be, for people.
    fn restore_agents(&mut self, state: &NodeState) -> Vec<String> {
        let mut lost = Vec::new();
        for a in &state.agents {
            let Some(&i) = self.by_name.get(&a.name) else {
                lost.push(format!(
                    "agent `{}` is no longer configured: its state was not restored",
                    a.name
                ));
                continue;
            };
            if let Err(f) = self.agents[i].agent.restore(&a.state) {
                lost.push(format!(
                    "agent `{}` refused its state ({}: {}): it starts from init",
                    a.name, f.reason, f.detail
                ));
            }
        }
        lost
    }

    /// Everything of `state` that is the host's: event time, orders,
    /// account, trading state, daily baseline, and the view rebuilt.
    fn apply_host_state(&mut self, state: &NodeState) {
        self.now = self.now.max(state.at);
        self.oms.restore(&state.oms);
        self.trading = state.trading.clone();
        self.limits.set_day(state.day);
        self.view.clear();
        for p in self.oms.portfolio.positions().cloned().collect::<Vec<_>>() {
            self.view.set_position(p);
        }
        for asset in self.oms.portfolio.known_assets() {
            self.view.set_balance(self.oms.portfolio.balance(&asset));
        }
        let open: Vec<String> = state.oms.open.iter().map(|o| o.id.to_string()).collect();
        for id in &open {
            self.track_order(id);
        }
    }

    /// Give the venue the orders the restored state holds open; what it
    /// reports about them right away is handled now, the rest (fills and
    /// final states while the host was down) arrives through `poll`.
    pub(super) fn resume_venue(&mut self) {
        // In id order, so the venue (and the journal) see them the same way
        // every time.
        let mut open: Vec<ResumedOrder> = self
            .oms
            .open_orders()
            .map(|o| ResumedOrder {
                order: VenueOrder::from_intent(o.id.clone(), &o.intent),
                filled: o.filled,
                accepted: o.state != OrderState::Submitted,
            })
            .collect();
        open.sort_by(|a, b| a.order.order_id.cmp(&b.order.order_id));
        if open.is_empty() {
            return;
        }
        let reports: Vec<ExecutionReport> = self.venue.resume(&open, self.now);
        for r in &reports {
            self.on_execution(r, 0);
        }
        self.drain();
    }
}

/// The first part in which two states differ, named for people; none when
/// they are the same.
pub fn first_difference(a: &NodeState, b: &NodeState) -> Option<String> {
    for (x, y) in a.agents.iter().zip(&b.agents) {
        if x != y {
            return Some(format!("agent `{}`'s snapshot", x.name));
        }
    }
    if a.agents.len() != b.agents.len() {
        return Some("the agents whose state was taken".into());
    }
    let (ca, cb) = (a.continued.as_ref(), b.continued.as_ref());
    let checks: [(&str, bool); 14] = [
        ("the event time", a.at == b.at),
        ("the open orders", a.oms.open == b.oms.open),
        ("the finished orders kept", a.oms.finished == b.oms.finished),
        ("the order-id counters", a.oms.counters == b.oms.counters),
        (
            "the account",
            a.oms.portfolio == b.oms.portfolio && a.oms.late_fills == b.oms.late_fills,
        ),
        ("the protective stops", a.oms.stops == b.oms.stops),
        ("the trading state", a.trading == b.trading),
        ("the daily-loss baseline", a.day == b.day),
        (
            "the envelope counters",
            ca.map(|c| (c.last_id, &c.sequences)) == cb.map(|c| (c.last_id, &c.sequences)),
        ),
        ("the quotes", ca.map(|c| &c.quotes) == cb.map(|c| &c.quotes)),
        (
            "the agents' timers",
            ca.map(|c| &c.timers) == cb.map(|c| &c.timers),
        ),
        (
            "the order-rate windows",
            ca.map(|c| (&c.rate_window, &c.rate_windows))
                == cb.map(|c| (&c.rate_window, &c.rate_windows)),
        ),
        (
            "the agents' supervision",
            ca.map(|c| &c.supervision) == cb.map(|c| &c.supervision),
        ),
        (
            "the reliable ids seen",
            ca.map(|c| &c.seen) == cb.map(|c| &c.seen),
        ),
    ];
    checks
        .iter()
        .find(|(_, same)| !same)
        .map(|(what, _)| (*what).to_string())
}
