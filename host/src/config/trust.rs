//! `[trust]`: the keys that may sign agents, revocations, signatures per
//! role, and development mode. See docs/signing.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, Role};
use crate::signing::TrustStore;
use crate::signing::trust::trusted;

/// One `[[trust.keys]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySection {
    /// How messages name it.
    pub name: String,
    /// Its `.pub` file (relative to the config).
    pub public_key: PathBuf,
    /// Roles it may sign for (default: all).
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
}

/// `[trust]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSection {
    /// Run unsigned artifacts (with a warning).
    #[serde(default)]
    pub dev: bool,
    /// Trusted keys.
    #[serde(default)]
    pub keys: Vec<KeySection>,
    /// Revoked keys, by name or fingerprint.
    #[serde(default)]
    pub revoked_keys: Vec<String>,
    /// Revoked artifacts, by content hash.
    #[serde(default)]
    pub revoked_artifacts: Vec<String>,
    /// Signatures needed per role (default 1 each).
    #[serde(default)]
    pub required: BTreeMap<Role, u32>,
}

/// Only `[trust]` of a config file; the rest is not read again.
#[derive(Deserialize)]
struct TrustOnly {
    #[serde(default)]
    trust: TrustSection,
}

/// Read `[trust]` from the config file at `path` again (a deploy does, so
/// a revoked key or artifact is refused without a restart). Development
/// mode stays as the host started (`dev`): a file edit cannot switch a
/// checking host to running unsigned code.
///
/// # Errors
/// [`ConfigError`] when the file cannot be read or its `[trust]` is wrong.
pub fn reload_trust(path: &Path, dev: bool) -> Result<TrustStore, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let t: TrustOnly = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: name.clone(),
        message: e.to_string(),
    })?;
    let mut problems = Vec::new();
    let mut store = t
        .trust
        .resolve(path.parent().unwrap_or(Path::new(".")), &mut problems);
    if !problems.is_empty() {
        return Err(ConfigError::Invalid {
            path: name,
            problems,
        });
    }
    store.dev = dev;
    Ok(store)
}

impl TrustSection {
    /// Load the keys (paths relative to `base`); problems go to `problems`.
    pub fn resolve(self, base: &Path, problems: &mut Vec<String>) -> TrustStore {
        let mut keys = Vec::new();
        let mut names = BTreeSet::new();
        for k in self.keys {
            if !names.insert(k.name.clone()) {
                problems.push(format!("trust.keys: `{}` is named twice", k.name));
            }
            let path = base.join(&k.public_key);
            match crate::signing::keys::load_public(&path) {
                Ok(pk) => keys.push(trusted(&k.name, pk, k.roles)),
                Err(e) => problems.push(format!("trust.keys `{}`: {e:#}", k.name)),
            }
        }
        for (role, n) in &self.required {
            if *n == 0 {
                problems.push(format!(
                    "trust.required.{} = 0: every role needs at least one signature (use dev = true to run unsigned agents in development)",
                    crate::signing::manifest::role_name(*role)
                ));
            }
        }
        for h in &self.revoked_artifacts {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                problems.push(format!(
                    "trust.revoked_artifacts: `{h}` is not a SHA-256 in hex (`floor inspect` prints an artifact's)"
                ));
            }
        }
        TrustStore {
            keys,
            revoked_keys: self.revoked_keys.into_iter().collect(),
            revoked_artifacts: self
                .revoked_artifacts
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            required: self.required,
            dev: self.dev,
        }
    }
}
