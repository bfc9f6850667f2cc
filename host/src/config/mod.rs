//! The node's configuration file (TOML).
//!
//! Two steps, as in ripgrep's low/high args: [`RawConfig`] is exactly what
//! the file says (serde, unknown keys refused), and [`RawConfig::resolve`]
//! checks it as a whole — reporting every problem at once, not the first —
//! and produces a [`NodeConfig`] with paths resolved and limits built.
//! Relative paths are relative to the config file's directory.
//! `docs/config.md` documents every key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::TopicPattern;
use crate::risk::LimitsConfig;
use crate::runtime::{Limits, RuntimeConfig};
use crate::venue::sim::SimSymbol;

mod admin;
mod deploy;
mod journal;
mod news;
mod supervisor;
mod trust;
mod venue;
pub use admin::{AdminConfig, AdminSection};
pub use deploy::DeployPolicy;
pub use journal::JournalSection;
pub use news::{NewsConfig, NewsSection};
pub use supervisor::SupervisorPolicy;
pub use trust::{KeySection, TrustSection, reload_trust};
pub use venue::{VenueKind, VenueSection};

/// The demo config, built into the binary: `floor run` with no file runs it.
pub const DEMO_CONFIG: &str = include_str!("../../../examples/demo.toml");

/// A config that could not be used: every problem found, one per line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config `{path}`: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key that does not exist, or a wrong type.
    #[error("config `{path}` is not valid: {message}")]
    Parse {
        /// The path.
        path: String,
        /// toml's message, with line and column.
        message: String,
    },
    /// Semantic problems, all of them.
    #[error("config `{path}` has {} problem(s):\n  - {}", .problems.len(), .problems.join("\n  - "))]
    Invalid {
        /// The path.
        path: String,
        /// One line per problem.
        problems: Vec<String>,
    },
}

/// `[node]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Directory for the compile cache and the dead-letter file; default
    /// `.floor` next to the config.
    pub data_dir: Option<PathBuf>,
    /// Compiled-component cache; default `<data_dir>/cache`. Several nodes
    /// may share one.
    pub cache_dir: Option<PathBuf>,
}

/// `[runtime]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeSection {
    /// Pool size: concurrent agent instances.
    pub pool_instances: u32,
    /// Largest memory any agent may be granted, MiB.
    pub max_memory_mb: u64,
    /// Epoch tick (deadline granularity), ms.
    pub epoch_tick_ms: u64,
}

impl Default for RuntimeSection {
    fn default() -> Self {
        let d = RuntimeConfig::default();
        Self {
            pool_instances: d.pool_instances,
            max_memory_mb: (d.max_memory_bytes >> 20) as u64,
            epoch_tick_ms: d.epoch_tick.as_millis() as u64,
        }
    }
}

/// One `[[symbols]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolSection {
    /// Symbol.
    pub symbol: String,
    /// Base asset.
    pub base: String,
    /// Quote asset.
    pub quote: String,
    /// Starting price.
    pub price: f64,
    /// Per-step volatility, bps.
    #[serde(default)]
    pub volatility_bps: Option<f64>,
    /// Spread, bps.
    #[serde(default)]
    pub spread_bps: Option<f64>,
    /// Size at the touch.
    #[serde(default)]
    pub size: Option<f64>,
    /// Tick size.
    #[serde(default)]
    pub tick_size: Option<f64>,
}

/// `[bus]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusSection {
    /// Topic patterns delivered at least once, retried when the subscriber
    /// faults; other topics are dead-lettered at the first fault.
    pub reliable: Vec<String>,
    /// Retry policy for reliable topics.
    pub retry: crate::bus::RetryPolicy,
}

impl Default for BusSection {
    fn default() -> Self {
        Self {
            reliable: vec!["order.#".into(), "signal.#".into(), "risk.#".into()],
            retry: crate::bus::RetryPolicy::default(),
        }
    }
}

/// `[account]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AccountSection {
    /// Starting balances by asset.
    pub balances: BTreeMap<String, f64>,
}

/// `[agents.limits]`: every key optional; defaults in [`Limits::default`].
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AgentLimitsSection {
    /// Fuel per call.
    pub fuel: Option<u64>,
    /// Deadline per call, ms.
    pub deadline_ms: Option<u64>,
    /// Memory cap, MiB.
    pub memory_mb: Option<u64>,
    /// Outputs per call.
    pub max_outputs: Option<usize>,
    /// Bytes per output.
    pub max_output_bytes: Option<usize>,
}

/// An agent's role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads data, sends order intents.
    Strategy,
    /// Answers `risk.check.request` with a verdict for every intent.
    Risk,
    /// Publishes signals.
    Model,
    /// A read-only tap (a compliance shadow, a recorder): sees what it
    /// subscribes to; may raise alerts and log, but not publish or trade.
    Observer,
}

/// How a risk agent votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    /// On every intent; must approve.
    #[default]
    Required,
    /// Only on intents over `[risk] consensus_notional`; k of n must approve.
    Consensus,
}

/// How many consensus agents must approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quorum {
    /// More than half.
    #[default]
    Majority,
    /// All of them.
    Unanimous,
    /// At least k.
    Count(usize),
}

impl<'de> Deserialize<'de> for Quorum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Count(usize),
        }
        match Raw::deserialize(d)? {
            Raw::Name(n) if n == "majority" => Ok(Quorum::Majority),
            Raw::Name(n) if n == "unanimous" => Ok(Quorum::Unanimous),
            Raw::Name(n) => Err(serde::de::Error::custom(format!(
                "quorum `{n}`: use \"majority\", \"unanimous\" or a number of approvals"
            ))),
            Raw::Count(k) => Ok(Quorum::Count(k)),
        }
    }
}

/// `[risk]`: the risk stage's policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskPolicy {
    /// Intents over this notional also need the consensus agents' quorum.
    pub consensus_notional: Option<f64>,
    /// How many consensus agents must approve.
    pub quorum: Quorum,
    /// Intents over this notional wait for a person (`floor approve`).
    pub approval_notional: Option<f64>,
    /// How long one waits before it expires (refused), event-time s.
    pub approval_timeout_secs: u64,
}

impl Default for RiskPolicy {
    fn default() -> Self {
        Self {
            consensus_notional: None,
            quorum: Quorum::default(),
            approval_notional: None,
            approval_timeout_secs: 300,
        }
    }
}

/// One `[[agents]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSection {
    /// Unique name.
    pub name: String,
    /// Component file.
    pub path: PathBuf,
    /// Role.
    pub role: Role,
    /// Subscription patterns.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Publish-rights patterns.
    #[serde(default)]
    pub publish: Vec<String>,
    /// Symbols it may trade (`*` for any).
    #[serde(default)]
    pub order_symbols: Vec<String>,
    /// Limits.
    #[serde(default)]
    pub limits: AgentLimitsSection,
    /// Config handed to the agent (scalars only).
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// Read-only directories: guest path (absolute) → host directory.
    #[serde(default)]
    pub read_dirs: BTreeMap<String, PathBuf>,
    /// For risk agents: `required` (every intent) or `consensus`.
    #[serde(default)]
    pub vote: VoteKind,
    /// Messages that may wait for the agent (behind a retry) before the
    /// node applies backpressure.
    #[serde(default = "default_inbox_capacity")]
    pub inbox_capacity: usize,
    /// Topic patterns whose waiting messages are conflated: only the latest
    /// per topic waits. Never applies to reliable topics.
    #[serde(default)]
    pub conflate: Vec<String>,
}

fn default_inbox_capacity() -> usize {
    10_000
}

/// The file as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[node]`.
    #[serde(default)]
    pub node: NodeSection,
    /// `[runtime]`.
    #[serde(default)]
    pub runtime: RuntimeSection,
    /// `[venue]`.
    #[serde(default)]
    pub venue: VenueSection,
    /// `[bus]`.
    #[serde(default)]
    pub bus: BusSection,
    /// `[[symbols]]`.
    #[serde(default)]
    pub symbols: Vec<SymbolSection>,
    /// `[account]`.
    #[serde(default)]
    pub account: AccountSection,
    /// `[limits]`: the host's hard limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[risk]`: the risk stage's policy.
    #[serde(default)]
    pub risk: RiskPolicy,
    /// `[admin]`: the admin API.
    #[serde(default)]
    pub admin: AdminSection,
    /// `[journal]`: the journal of every input.
    #[serde(default)]
    pub journal: JournalSection,
    /// `[news]`: a file of headlines fed into the run.
    #[serde(default)]
    pub news: Option<NewsSection>,
    /// `[deploy]`: probation and kept versions for hot swaps.
    #[serde(default)]
    pub deploy: DeployPolicy,
    /// `[supervisor]`: when a faulting agent is quarantined.
    #[serde(default)]
    pub supervisor: SupervisorPolicy,
    /// `[trust]`: who may sign agents.
    #[serde(default)]
    pub trust: TrustSection,
    /// `[[agents]]`.
    #[serde(default)]
    pub agents: Vec<AgentSection>,
}

/// One agent, resolved.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Name.
    pub name: String,
    /// Absolute component path.
    pub path: PathBuf,
    /// Role.
    pub role: Role,
    /// Subscriptions.
    pub subscribe: Vec<TopicPattern>,
    /// Publish rights.
    pub publish: Vec<TopicPattern>,
    /// Order rights.
    pub order_symbols: Vec<String>,
    /// Limits.
    pub limits: Limits,
    /// Config pairs.
    pub config: Vec<(String, String)>,
    /// Read-only directories: (host directory, guest path).
    pub read_dirs: Vec<(PathBuf, String)>,
    /// How it votes, if it is a risk agent.
    pub vote: VoteKind,
    /// Inbox capacity (backlog behind a retry).
    pub inbox_capacity: usize,
    /// Conflated topic patterns.
    pub conflate: Vec<TopicPattern>,
}

/// Where a config came from: its name (a file or `<built-in demo>`), its
/// text, and the directory its relative paths resolve against.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConfigOrigin {
    /// The file, or what stood for one.
    pub name: String,
    /// The TOML text as read.
    pub text: String,
    /// The directory relative paths resolve against (absolute).
    pub base: PathBuf,
}

/// The whole config, resolved and checked.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Compiled-component cache directory.
    pub cache_dir: PathBuf,
    /// Engine settings.
    pub runtime: RuntimeConfig,
    /// Venue settings.
    pub venue: VenueSection,
    /// Reliable topic patterns.
    pub reliable: Vec<TopicPattern>,
    /// Retry policy for reliable topics.
    pub retry: crate::bus::RetryPolicy,
    /// Symbols.
    pub symbols: Vec<SymbolSection>,
    /// Starting balances.
    pub balances: BTreeMap<String, f64>,
    /// Hard limits.
    pub limits: LimitsConfig,
    /// Risk-stage policy.
    pub risk: RiskPolicy,
    /// Admin API.
    pub admin: AdminConfig,
    /// The journal's settings; none when `[journal] enabled = false`.
    pub journal: Option<crate::journal::JournalConfig>,
    /// How often to take a checkpoint (`[journal] checkpoint_every_s`);
    /// none for never.
    pub checkpoint_every: Option<std::time::Duration>,
    /// Journal segments wholly before the last this many checkpoints are
    /// deleted (`[journal] keep_checkpoints`; 0: none).
    pub keep_checkpoints: usize,
    /// The news file fed into the run, read and checked.
    pub news: Option<NewsConfig>,
    /// Hot-swap probation and kept versions.
    pub deploy: DeployPolicy,
    /// Quarantine policy.
    pub supervisor: SupervisorPolicy,
    /// Who may sign agents. Always checked: with no `[trust]` section the
    /// store trusts no key, so only `dev` mode runs anything (see
    /// docs/signing.md).
    pub trust: crate::signing::TrustStore,
    /// The file this config was read from, if any: a deploy reads its
    /// `[trust]` again, so a revocation takes effect without a restart.
    pub source: Option<PathBuf>,
    /// The text this config was parsed from and the directory its relative
    /// paths resolve against: the journal keeps both, so a replay builds
    /// the very same node (`floor replay`).
    pub origin: ConfigOrigin,
    /// Agents.
    pub agents: Vec<AgentConfig>,
}

impl NodeConfig {
    /// Read and resolve a config file.
    ///
    /// # Errors
    /// [`ConfigError`] with every problem found.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut cfg = Self::parse(&text, &path.display().to_string(), base)?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// The built-in demo, resolved as if it were `examples/demo.toml`
    /// under the current directory.
    ///
    /// # Errors
    /// [`ConfigError`] (e.g. when the agents have not been built).
    pub fn demo() -> Result<Self, ConfigError> {
        Self::parse(DEMO_CONFIG, "<built-in demo>", Path::new("examples"))
    }

    /// Parse and resolve config text; relative paths resolve against `base`.
    ///
    /// # Errors
    /// [`ConfigError`] with every problem found.
    pub fn parse(text: &str, name: &str, base: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: name.to_string(),
            message: e.to_string(),
        })?;
        let mut cfg = raw.resolve(base).map_err(|problems| ConfigError::Invalid {
            path: name.to_string(),
            problems,
        })?;
        cfg.origin = ConfigOrigin {
            name: name.to_string(),
            text: text.to_string(),
            base: std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf()),
        };
        Ok(cfg)
    }

    /// Sim symbols.
    pub fn sim_symbols(&self) -> Vec<SimSymbol> {
        self.symbols
            .iter()
            .map(|s| SimSymbol {
                symbol: s.symbol.as_str().into(),
                price: s.price,
                volatility_bps: s.volatility_bps.unwrap_or(2.0),
                spread_bps: s.spread_bps.unwrap_or(1.0),
                size: s.size.unwrap_or(5.0),
                tick_size: s.tick_size.unwrap_or(0.01),
            })
            .collect()
    }
}

fn positive(problems: &mut Vec<String>, what: &str, v: f64) {
    if !(v.is_finite() && v > 0.0) {
        problems.push(format!("{what} must be a positive number, got {v}"));
    }
}

impl RawConfig {
    /// Check everything and resolve paths against `base`.
    ///
    /// # Errors
    /// Every problem found, one message each.
    pub fn resolve(self, base: &Path) -> Result<NodeConfig, Vec<String>> {
        let mut p = Vec::new();
        let mut venue = self.venue;
        venue.check(base, &mut p);
        let admin = self.admin.resolve(base, &mut p);
        let journal = self.journal.resolve(&mut p);
        let checkpoint_every = self.journal.checkpoint_every();
        let keep_checkpoints = self.journal.keep_checkpoints as usize;
        let news = self.news.and_then(|n| n.resolve(base, &mut p));
        self.deploy.check(&mut p);
        self.supervisor.check(&mut p);
        let trust = self.trust.resolve(base, &mut p);
        if self.runtime.pool_instances == 0 || self.runtime.epoch_tick_ms == 0 {
            p.push("runtime.pool_instances and runtime.epoch_tick_ms must be at least 1".into());
        }
        let mut reliable = Vec::new();
        for r in &self.bus.reliable {
            match TopicPattern::parse(r) {
                Ok(t) => reliable.push(t),
                Err(e) => p.push(format!("bus.reliable: {e}")),
            }
        }
        if self.bus.retry.max_attempts == 0 {
            p.push("bus.retry.max_attempts must be at least 1".into());
        }
        if self.symbols.is_empty() {
            p.push("no [[symbols]]: configure at least one symbol to trade".into());
        }
        let mut symbols = HashSet::new();
        for s in &self.symbols {
            if !symbols.insert(s.symbol.as_str()) {
                p.push(format!("symbol `{}` is configured twice", s.symbol));
            }
            positive(&mut p, &format!("symbols `{}` price", s.symbol), s.price);
            for (what, v) in [
                ("volatility_bps", s.volatility_bps),
                ("spread_bps", s.spread_bps),
                ("size", s.size),
                ("tick_size", s.tick_size),
            ] {
                if let Some(v) = v {
                    positive(&mut p, &format!("symbols `{}` {what}", s.symbol), v);
                }
            }
        }
        let l = &self.limits;
        positive(&mut p, "limits.max_order_notional", l.max_order_notional);
        positive(&mut p, "limits.max_position", l.max_position);
        positive(&mut p, "limits.price_band_pct", l.price_band_pct);
        positive(&mut p, "limits.max_gross_exposure", l.max_gross_exposure);
        if let Some(v) = l.max_daily_loss {
            positive(&mut p, "limits.max_daily_loss", v);
        }
        for (what, v) in [
            ("limits.max_orders_per_second", l.max_orders_per_second),
            (
                "limits.max_orders_per_second_per_agent",
                l.max_orders_per_second_per_agent,
            ),
        ] {
            if v == 0 {
                p.push(format!(
                    "{what} = 0 refuses every order; use limits.kill_switch = true for that"
                ));
            }
        }
        let max_memory = self.runtime.max_memory_mb;
        let mut names = HashSet::new();
        let mut agents = Vec::new();
        for a in self.agents {
            let who = format!("agent `{}`", a.name);
            if a.name.is_empty()
                || !a
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                p.push(format!(
                    "{who}: names use only letters, digits, `-` and `_`"
                ));
            }
            if !names.insert(a.name.clone()) {
                p.push(format!(
                    "{who} is configured twice; agent names must be unique"
                ));
            }
            let path = if a.path.is_absolute() {
                a.path.clone()
            } else {
                base.join(&a.path)
            };
            if !path.is_file() {
                p.push(format!(
                    "{who}: component `{}` does not exist; build the agents with `cargo xtask build`",
                    path.display()
                ));
            }
            let mut patterns = |list: &[String], key: &str| -> Vec<TopicPattern> {
                list.iter()
                    .filter_map(|s| match TopicPattern::parse(s) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            p.push(format!("{who}: {key}: {e}"));
                            None
                        }
                    })
                    .collect()
            };
            let subscribe = patterns(&a.subscribe, "subscribe");
            let conflate = patterns(&a.conflate, "conflate");
            let publish = patterns(&a.publish, "publish");
            for s in &a.order_symbols {
                if s != "*" && !symbols.contains(s.as_str()) {
                    p.push(format!(
                        "{who}: order_symbols names `{s}`, which is not a configured symbol"
                    ));
                }
            }
            if a.role == Role::Observer && (!a.publish.is_empty() || !a.order_symbols.is_empty()) {
                p.push(format!(
                    "{who}: observers are read-only taps; remove its publish and order_symbols (or give it another role)"
                ));
            }
            if a.role == Role::Risk && !a.order_symbols.is_empty() {
                p.push(format!(
                    "{who}: a risk agent may not send orders; remove its order_symbols"
                ));
            }
            let d = Limits::default();
            let lim = &a.limits;
            let limits = Limits {
                fuel: lim.fuel.unwrap_or(d.fuel),
                deadline: lim.deadline_ms.map_or(d.deadline, Duration::from_millis),
                memory_bytes: lim.memory_mb.map_or(d.memory_bytes, |m| (m as usize) << 20),
                table_elements: d.table_elements,
                max_outputs: lim.max_outputs.unwrap_or(d.max_outputs),
                max_output_bytes: lim.max_output_bytes.unwrap_or(d.max_output_bytes),
            };
            if limits.fuel == 0 || limits.deadline.is_zero() || limits.max_outputs == 0 {
                p.push(format!(
                    "{who}: limits.fuel, deadline_ms and max_outputs must be at least 1"
                ));
            }
            if (limits.memory_bytes >> 20) as u64 > max_memory {
                p.push(format!(
                    "{who}: limits.memory_mb = {} is over runtime.max_memory_mb = {max_memory}",
                    limits.memory_bytes >> 20
                ));
            }
            let mut config = Vec::new();
            for (k, v) in a.config {
                let s = match v {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => {
                        p.push(format!(
                            "{who}: config.{k} is a {}; agent config values must be strings, numbers or booleans",
                            other.type_str()
                        ));
                        continue;
                    }
                };
                config.push((k, s));
            }
            let mut read_dirs = Vec::new();
            for (guest, host) in a.read_dirs {
                let host = if host.is_absolute() {
                    host
                } else {
                    base.join(host)
                };
                if !guest.starts_with('/') {
                    p.push(format!("{who}: read_dirs key `{guest}` must be an absolute guest path like `/model`"));
                }
                if !host.is_dir() {
                    p.push(format!(
                        "{who}: read_dirs `{guest}` = `{}` is not a directory",
                        host.display()
                    ));
                }
                read_dirs.push((host, guest));
            }
            if a.vote == VoteKind::Consensus && a.role != Role::Risk {
                p.push(format!(
                    "{who}: vote = \"consensus\" is only for risk agents"
                ));
            }
            if a.inbox_capacity < 4 {
                p.push(format!(
                    "{who}: inbox_capacity must be at least 4, got {}",
                    a.inbox_capacity
                ));
            }
            agents.push(AgentConfig {
                vote: a.vote,
                inbox_capacity: a.inbox_capacity,
                conflate,
                read_dirs,
                name: a.name,
                path,
                role: a.role,
                subscribe,
                publish,
                order_symbols: a.order_symbols,
                limits,
                config,
            });
        }
        let voters = agents
            .iter()
            .filter(|a| a.role == Role::Risk && a.vote == VoteKind::Consensus)
            .count();
        match (self.risk.consensus_notional, voters) {
            (Some(n), _) if !(n.is_finite() && n >= 0.0) => {
                p.push(format!(
                    "risk.consensus_notional must be a non-negative number, got {n}"
                ));
            }
            (Some(_), 0) => p.push(
                "risk.consensus_notional is set but no risk agent has vote = \"consensus\"".into(),
            ),
            (None, v) if v > 0 => p.push(format!(
                "{v} risk agent(s) have vote = \"consensus\" but risk.consensus_notional is not set"
            )),
            _ => {}
        }
        if let Some(n) = self.risk.approval_notional
            && !(n.is_finite() && n >= 0.0)
        {
            p.push(format!(
                "risk.approval_notional must be a non-negative number, got {n}"
            ));
        }
        if self.risk.approval_timeout_secs == 0 {
            p.push("risk.approval_timeout_secs must be at least 1 (an unanswered intent expires, refused)".into());
        }
        if let Quorum::Count(k) = self.risk.quorum
            && (k == 0 || k > voters)
        {
            p.push(format!(
                "risk.quorum = {k} needs between 1 and the {voters} consensus agent(s)"
            ));
        }
        let traders = agents.iter().any(|a| !a.order_symbols.is_empty());
        if traders && !agents.iter().any(|a| a.role == Role::Risk) {
            p.push("agents may send orders but no agent has role = \"risk\"; add a risk agent (orders never skip the risk stage)".into());
        }
        if !p.is_empty() {
            return Err(p);
        }
        let data_dir = self
            .node
            .data_dir
            .unwrap_or_else(|| PathBuf::from(".floor"));
        let data_dir = if data_dir.is_absolute() {
            data_dir
        } else {
            base.join(data_dir)
        };
        let cache_dir = match self.node.cache_dir {
            Some(c) if c.is_absolute() => c,
            Some(c) => base.join(c),
            None => data_dir.join("cache"),
        };
        Ok(NodeConfig {
            data_dir,
            cache_dir,
            runtime: RuntimeConfig {
                pool_instances: self.runtime.pool_instances,
                max_memory_bytes: (self.runtime.max_memory_mb as usize) << 20,
                epoch_tick: Duration::from_millis(self.runtime.epoch_tick_ms),
                wall_clock: true,
            },
            venue,
            reliable,
            retry: self.bus.retry,
            symbols: self.symbols,
            balances: self.account.balances,
            limits: self.limits,
            risk: self.risk,
            admin,
            journal,
            checkpoint_every,
            keep_checkpoints,
            news,
            deploy: self.deploy,
            supervisor: self.supervisor,
            trust,
            source: None,
            origin: ConfigOrigin::default(),
            agents,
        })
    }
}

/// Base/quote assets by symbol, for the portfolio.
pub fn assets_by_symbol(
    symbols: &[SymbolSection],
) -> HashMap<String, crate::oms::portfolio::Assets> {
    symbols
        .iter()
        .map(|s| {
            (
                s.symbol.clone(),
                crate::oms::portfolio::Assets {
                    base: s.base.clone(),
                    quote: s.quote.clone(),
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = NodeConfig::parse(
            "[venue]\nkind = \"synthetic\"\nspeed = 3\n",
            "t",
            Path::new("."),
        )
        .unwrap_err();
        assert!(err.to_string().contains("speed"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
[limits]
max_position = -1.0

[[symbols]]
symbol = "BTCUSDT"
base = "BTC"
quote = "USDT"
price = 0.0

[[agents]]
name = "s"
path = "nope.wasm"
role = "strategy"
subscribe = ["md..tick"]
order_symbols = ["ETHUSDT"]
"#;
        let ConfigError::Invalid { problems, .. } =
            NodeConfig::parse(text, "t", Path::new("/nonexistent")).unwrap_err()
        else {
            panic!("expected Invalid");
        };
        let all = problems.join("\n");
        for needle in [
            "limits.max_position",
            "symbols `BTCUSDT` price",
            "nope.wasm",
            "md..tick",
            "`ETHUSDT`, which is not a configured symbol",
            "no agent has role = \"risk\"",
        ] {
            assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
        }
        assert_eq!(problems.len(), 6, "{all}");
    }
}
