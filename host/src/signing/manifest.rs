//! What an agent is and asks for, signed together with its code.
//!
//! People write it as TOML (`manifest.toml` beside the agent's code);
//! `floor sign --manifest` embeds it as JSON in a custom section named
//! `floor-manifest`. Embedded, it travels in the one `.wasm` file the host
//! loads, and the signature — which covers every section — covers it with
//! the code: rights cannot grow without re-signing. A custom section has no
//! meaning to wasmtime, so a signed agent runs unchanged elsewhere.
//!
//! Every field after `name` and `version` may be left out: a field the
//! manifest leaves out is the config's to decide. A field it gives is what
//! the agent asks for, and the host grants exactly that, provided the config
//! allows it all (see [`Manifest::grant`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{AgentConfig, Role};
use crate::model::TopicPattern;

/// The custom section the manifest is embedded in.
pub const SECTION: &str = "floor-manifest";

/// Limits an agent asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestedLimits {
    /// Fuel per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Linear memory, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// Wall-clock deadline per call, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
}

/// An agent's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The agent's name (a config may run it under another).
    pub name: String,
    /// Its version, as its author numbers them.
    pub version: String,
    /// `strategy`, `risk`, `model` or `observer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Topic patterns it reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Vec<String>>,
    /// Topic patterns it publishes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Vec<String>>,
    /// Symbols it sends order intents for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_symbols: Option<Vec<String>>,
    /// Limits it needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<RequestedLimits>,
    /// Read-only directories it reads, by their path inside the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_dirs: Option<Vec<String>>,
}

impl Manifest {
    /// Read a `manifest.toml`.
    ///
    /// # Errors
    /// When the file cannot be read or is not a manifest; the message says
    /// which key is wrong.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the manifest `{}`: {e}", path.display()))?;
        let m: Manifest = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("`{}` is not a manifest: {e}", path.display()))?;
        m.check()
            .map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))?;
        Ok(m)
    }

    /// Check the patterns.
    ///
    /// # Errors
    /// The first pattern that does not parse.
    pub fn check(&self) -> anyhow::Result<()> {
        for list in [&self.subscribe, &self.publish].into_iter().flatten() {
            for p in list {
                TopicPattern::parse(p)?;
            }
        }
        Ok(())
    }

    /// The agent `config` runs, narrowed to what this manifest asks for.
    /// (The role is checked with the signatures: [`TrustStore::verify`].)
    ///
    /// # Errors
    /// Every ask the config does not allow, each saying which key to widen
    /// (or which manifest to re-sign).
    ///
    /// [`TrustStore::verify`]: super::TrustStore::verify
    pub fn grant(&self, config: &AgentConfig) -> Result<AgentConfig, Vec<String>> {
        let mut granted = config.clone();
        let mut problems = Vec::new();
        if let Some(asks) = &self.subscribe {
            granted.subscribe = patterns(asks, &config.subscribe, "subscribe", &mut problems);
        }
        if let Some(asks) = &self.publish {
            granted.publish = patterns(asks, &config.publish, "publish", &mut problems);
        }
        if let Some(asks) = &self.order_symbols {
            for s in asks {
                if !config.order_symbols.contains(s) {
                    problems.push(format!(
                        "to trade `{s}` (the config's order_symbols do not allow it)"
                    ));
                }
            }
            granted.order_symbols = asks.clone();
        }
        if let Some(l) = &self.limits {
            let limits = &mut granted.limits;
            if let Some(fuel) = l.fuel {
                ask_at_most("fuel", fuel, config.limits.fuel, &mut problems);
                limits.fuel = fuel.min(config.limits.fuel);
            }
            if let Some(mb) = l.memory_mb {
                let allowed = (config.limits.memory_bytes >> 20) as u64;
                ask_at_most("memory_mb", mb, allowed, &mut problems);
                limits.memory_bytes = (mb.min(allowed) as usize) << 20;
            }
            if let Some(ms) = l.deadline_ms {
                let allowed = config.limits.deadline.as_millis() as u64;
                ask_at_most("deadline_ms", ms, allowed, &mut problems);
                limits.deadline = std::time::Duration::from_millis(ms.min(allowed));
            }
        }
        if let Some(asks) = &self.read_dirs {
            let by_guest: BTreeMap<&str, _> = config
                .read_dirs
                .iter()
                .map(|(host, guest)| (guest.as_str(), host))
                .collect();
            for g in asks {
                if !by_guest.contains_key(g.as_str()) {
                    problems.push(format!(
                        "to read `{g}` (the config's read_dirs do not map it)"
                    ));
                }
            }
            granted.read_dirs.retain(|(_, guest)| asks.contains(guest));
        }
        if problems.is_empty() {
            Ok(granted)
        } else {
            Err(problems)
        }
    }
}

/// The role as written in TOML.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Strategy => "strategy",
        Role::Risk => "risk",
        Role::Model => "model",
        Role::Observer => "observer",
    }
}

fn ask_at_most(key: &str, asks: u64, allowed: u64, problems: &mut Vec<String>) {
    if asks > allowed {
        problems.push(format!(
            "{key} = {asks} (the config allows {allowed}: raise the agent's limits.{key}, or sign a manifest that asks for less)"
        ));
    }
}

/// The asked patterns, each of which must be covered by an allowed one.
fn patterns(
    asks: &[String],
    allowed: &[TopicPattern],
    key: &str,
    problems: &mut Vec<String>,
) -> Vec<TopicPattern> {
    let mut out = Vec::new();
    for a in asks {
        match TopicPattern::parse(a) {
            Ok(p) if allowed.iter().any(|c| c.covers(&p)) => out.push(p),
            Ok(_) => problems.push(format!(
                "to {key} `{a}` (the config's {key} = [{}] does not allow it)",
                allowed
                    .iter()
                    .map(|p| format!("\"{p}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err(e) => problems.push(format!("a bad pattern: {e}")),
        }
    }
    out
}
