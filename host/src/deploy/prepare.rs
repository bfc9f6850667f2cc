//! Loading and starting a candidate version, off the node's thread.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::agent::{AgentInstance, AgentLinker, AgentSpec, Rights, StartError, View};
use crate::config::AgentConfig;
use crate::runtime::{CacheError, ComponentCache, Runtime};
use crate::signing::{Refused, TrustStore};

use super::Version;

/// What a deployer asks for.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    /// The agent to replace.
    pub agent: String,
    /// The new component's bytes.
    pub component: Vec<u8>,
    /// Config keys that differ for this version (merged over the agent's
    /// config from the file).
    pub config: BTreeMap<String, String>,
    /// Run it in the shadow of the live version instead of swapping it in.
    pub shadow: bool,
}

/// A started instance of a new version, ready to be swapped in.
pub struct Candidate {
    /// The instance, `init` done.
    pub instance: AgentInstance,
    /// What it is.
    pub version: Version,
    /// True if the compiled component came from the cache.
    pub from_cache: bool,
    /// Wall clock spent compiling (or loading) and starting it, ns.
    pub prepare_ns: u64,
    /// Start it as a shadow, not swap it in.
    pub shadow: bool,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("agent", &self.instance.name())
            .field("sha256", &self.version.sha256)
            .finish_non_exhaustive()
    }
}

/// Why a deploy or rollback did not happen. The running version is
/// untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// No agent of that name.
    #[error(
        "no agent named `{agent}` in this host (it runs: {known}); deploy replaces an agent the config declares"
    )]
    UnknownAgent {
        /// The name asked for.
        agent: String,
        /// The names there are.
        known: String,
    },
    /// The bytes are not a usable component.
    #[error("{0}")]
    Load(#[from] CacheError),
    /// The component does not fit the world, or faulted or refused in `init`.
    #[error("{0}")]
    Start(#[from] StartError),
    /// The running version faulted in `snapshot()`.
    #[error(
        "agent `{agent}`: the running version faulted in snapshot(): {detail}; nothing was swapped"
    )]
    Snapshot {
        /// Agent.
        agent: String,
        /// The fault.
        detail: String,
    },
    /// The new version faulted in or refused `restore()`.
    #[error(
        "agent `{agent}`: the new version {to} failed restore() with the running version's state: {detail}; rolled back, {from} carries on with its state"
    )]
    Restore {
        /// Agent.
        agent: String,
        /// Running version (short hash).
        from: String,
        /// Refused version (short hash).
        to: String,
        /// The fault or the agent's error.
        detail: String,
    },
    /// No shadow to promote.
    #[error("agent `{agent}` has no shadow to promote; start one with `floor deploy … --shadow`")]
    NoShadow {
        /// Agent.
        agent: String,
    },
    /// Nothing to roll back to.
    #[error(
        "agent `{agent}` has no earlier version to roll back to (it runs the one it started with)"
    )]
    NoPrevious {
        /// Agent.
        agent: String,
    },
    /// The trust store refused the artifact (unsigned, tampered, unknown
    /// or revoked key, or its manifest asks for more than the config allows).
    #[error("{0}")]
    Untrusted(#[from] Refused),
    /// `[trust]` could not be read again for this deploy.
    #[error(
        "refused: the trust store could not be read again for this deploy ({0}); fix [trust] in the config file (the running versions are untouched)"
    )]
    TrustStore(String),
    /// The node is gone or the request was malformed.
    #[error("{0}")]
    Other(String),
}

/// Builds candidate instances: a cheap handle the admin API's threads hold.
#[derive(Clone)]
pub struct Preparer {
    runtime: Arc<Runtime>,
    linker: Arc<AgentLinker>,
    cache: Arc<ComponentCache>,
    view: Arc<dyn View>,
    base: Arc<HashMap<String, AgentSpec>>,
    /// Every version is checked against it; its manifest is granted
    /// against the agent's config as written.
    trust: Arc<Trust>,
    /// Where admitted versions are kept for replays (with a journal).
    artifacts: Option<super::Artifacts>,
}

/// The trust store, and each agent's config as written.
pub struct Trust {
    /// Who may sign, as the host started.
    pub store: TrustStore,
    /// The config file to read `[trust]` from again before each deploy
    /// (none for a config that came from no file).
    pub source: Option<std::path::PathBuf>,
    /// Each agent's config as written, by name.
    pub configs: HashMap<String, AgentConfig>,
}

impl Trust {
    /// The store as the config file says now (revocations added since the
    /// start count), or as the host started when there is no file.
    ///
    /// # Errors
    /// [`DeployError::TrustStore`] when the file no longer reads: the
    /// deploy fails closed.
    pub fn current(&self) -> Result<std::borrow::Cow<'_, TrustStore>, DeployError> {
        match &self.source {
            None => Ok(std::borrow::Cow::Borrowed(&self.store)),
            Some(path) => crate::config::reload_trust(path, self.store.dev)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| DeployError::TrustStore(format!("{e}"))),
        }
    }
}

impl Preparer {
    /// A preparer for agents whose configured specs are `base`, admitting
    /// only versions that `trust` lets run.
    pub fn new(
        runtime: Arc<Runtime>,
        linker: Arc<AgentLinker>,
        cache: Arc<ComponentCache>,
        view: Arc<dyn View>,
        base: HashMap<String, AgentSpec>,
        trust: Trust,
    ) -> Self {
        Self {
            runtime,
            linker,
            cache,
            view,
            base: Arc::new(base),
            trust: Arc::new(trust),
            artifacts: None,
        }
    }

    /// Keep a copy of every version admitted in `artifacts` (a journaled
    /// host: the journal names versions by hash, a replay reads them here).
    #[must_use]
    pub fn keeping_artifacts(mut self, artifacts: Option<super::Artifacts>) -> Self {
        self.artifacts = artifacts;
        self
    }

    /// Instantiate `spec` and run its `init`.
    ///
    /// # Errors
    /// [`StartError`] as from [`AgentInstance::start`].
    pub fn start(&self, spec: AgentSpec) -> Result<AgentInstance, StartError> {
        AgentInstance::start(&self.runtime, &self.linker, spec, self.view.clone())
    }

    /// Compile and start the version `req` describes. Slow (a compile on a
    /// cache miss): call it off the node's thread.
    ///
    /// # Errors
    /// [`DeployError`] when the agent is unknown or the component does not
    /// load or start.
    pub fn prepare(&self, req: &DeployRequest) -> Result<Candidate, DeployError> {
        let started = std::time::Instant::now();
        let Some(base) = self.base.get(&req.agent) else {
            let mut known: Vec<&str> = self.base.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(DeployError::UnknownAgent {
                agent: req.agent.clone(),
                known: known.join(", "),
            });
        };
        let origin = format!("<deploy of {}>", req.agent);
        let mut spec = base.clone();
        let config = self.trust.configs.get(&req.agent).ok_or_else(|| {
            DeployError::Other(format!(
                "agent `{}` has no config to grant its manifest against",
                req.agent
            ))
        })?;
        // Subscriptions are the bus's and stay as they are; rights, limits
        // and directories follow the new version's manifest.
        let (granted, verified) =
            self.trust
                .current()?
                .admit(config, "the deployed file", &req.component)?;
        if let Some(w) = &verified.warning {
            tracing::warn!(agent = %req.agent, "{w}");
        }
        if let Some(a) = &self.artifacts {
            // A version the journal could not name is a deploy no replay
            // could repeat: refused.
            a.keep(&req.component)
                .map_err(|e| DeployError::Other(e.to_string()))?;
        }
        spec.rights = Rights {
            publish: granted.publish,
            order_symbols: granted.order_symbols,
        };
        spec.limits = granted.limits;
        spec.read_dirs = granted.read_dirs;
        let loaded =
            self.cache
                .load_bytes(self.runtime.engine(), &req.component, Path::new(&origin))?;
        spec.component = loaded.component;
        for (k, v) in &req.config {
            match spec.config.iter_mut().find(|(key, _)| key == k) {
                Some(pair) => pair.1.clone_from(v),
                None => spec.config.push((k.clone(), v.clone())),
            }
        }
        let instance = self.start(spec.clone())?;
        Ok(Candidate {
            instance,
            version: Version::new(spec, loaded.sha256, req.config.clone()),
            from_cache: loaded.from_cache,
            prepare_ns: started.elapsed().as_nanos() as u64,
            shadow: req.shadow,
        })
    }
}
