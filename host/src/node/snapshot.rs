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
//! What is not kept, by design: finished orders (nothing more can happen
//! to them; a report for one after a restart is counted as unknown), the
//! order-rate windows (they are a second long), intents waiting for a
//! person (a restart refuses them, as their expiry would), agents' timers
//! (an agent re-arms them in `restore`).

use serde::{Deserialize, Serialize};

use crate::model::{ExecutionReport, Nanos};
use crate::oms::OmsState;
use crate::oms::OrderState;
use crate::risk::TradingState;
use crate::venue::{ResumedOrder, VenueOrder};

use super::Node;

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
        }
    }

    /// Start from `state`: agents restored by name, order manager, trading
    /// state, daily baseline, event time. Returns what could not be put
    /// back, for people (an agent no longer configured, a `restore` that
    /// refused its state).
    pub(super) fn apply_state(&mut self, state: &NodeState) -> Vec<String> {
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
        self.now = self.now.max(state.at);
        self.oms.restore(&state.oms);
        self.trading = state.trading.clone();
        self.limits.set_day(state.day);
        for p in self.oms.portfolio.positions().cloned().collect::<Vec<_>>() {
            self.view.set_position(p);
        }
        for asset in self.oms.portfolio.known_assets() {
            self.view.set_balance(self.oms.portfolio.balance(&asset));
        }
        let open: Vec<String> = state.oms.open.iter().map(|o| o.id.clone()).collect();
        for id in &open {
            self.track_order(id);
        }
        for line in &lost {
            tracing::warn!("{line}");
        }
        lost
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
