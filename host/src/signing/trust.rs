//! The trust store: which keys may sign agents for which roles, what is
//! revoked, and how many signatures each role needs. The host asks it
//! before it runs or deploys any component.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use wasmsign2::PublicKey;

use super::artifact;
use super::keys::fingerprint;
use super::manifest::{Manifest, role_name};
use crate::config::{AgentConfig, Role};

/// A key the host trusts.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// How the config names it.
    pub name: String,
    /// The key, with its key id.
    pub key: PublicKey,
    /// Its fingerprint (hex key id).
    pub fingerprint: String,
    /// Roles it may sign for; `None`: every role.
    pub roles: Option<Vec<Role>>,
}

/// `[trust]`, resolved.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    /// Trusted keys.
    pub keys: Vec<TrustedKey>,
    /// Revoked keys, by name or fingerprint.
    pub revoked_keys: BTreeSet<String>,
    /// Revoked artifacts, by content hash (hex SHA-256, as `floor inspect`
    /// prints it).
    pub revoked_artifacts: BTreeSet<String>,
    /// Signatures needed per role (by allowed, unrevoked keys).
    pub required: BTreeMap<Role, u32>,
    /// Development: unsigned artifacts (or ones signed by unknown keys) run,
    /// with a warning.
    pub dev: bool,
}

/// An artifact the host may run.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its manifest, if it has one.
    pub manifest: Option<Manifest>,
    /// Names of the trusted keys that signed it.
    pub signers: Vec<String>,
    /// Hex SHA-256 of what the signatures cover.
    pub content_sha256: String,
    /// Set when it runs only because of development mode.
    pub warning: Option<String>,
}

/// Why an artifact is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused to run agent `{agent}` from {file}: {reason}")]
pub struct Refused {
    /// The agent.
    pub agent: String,
    /// The file (or what was deployed).
    pub file: String,
    /// Why, and what to do.
    pub reason: String,
}

impl TrustStore {
    /// Signatures a role needs (1 unless `[trust] required` says otherwise).
    pub fn required_for(&self, role: Role) -> u32 {
        self.required.get(&role).copied().unwrap_or(1)
    }

    /// Said with a refusal when no key is trusted at all: most likely a
    /// config without `[trust]`.
    fn no_keys_hint(&self) -> &'static str {
        if self.keys.is_empty() {
            " (this host trusts no key yet: list the keys that may sign agents under [[trust.keys]]; `cargo xtask build` makes a development key, target/keys/dev.pub, and signs the agents it builds with it)"
        } else {
            ""
        }
    }

    fn revoked(&self, k: &TrustedKey) -> bool {
        self.revoked_keys.contains(&k.name) || self.revoked_keys.contains(&k.fingerprint)
    }

    /// Check `bytes`, to run as agent `agent` in `role`: signed, untampered,
    /// by enough trusted, unrevoked keys allowed for the role; not revoked;
    /// its manifest's role matching.
    ///
    /// # Errors
    /// [`Refused`] with the precise reason.
    pub fn verify(
        &self,
        agent: &str,
        file: &str,
        bytes: &[u8],
        role: Role,
    ) -> Result<Verified, Refused> {
        let refuse = |reason: String| Refused {
            agent: agent.to_string(),
            file: file.to_string(),
            reason,
        };
        let content = artifact::content_hash(bytes).map_err(|e| refuse(e.to_string()))?;
        let content_sha256 = hex::encode(content);
        if self.revoked_artifacts.contains(&content_sha256) {
            return Err(refuse(format!(
                "the artifact {content_sha256} is revoked ([trust] revoked_artifacts)"
            )));
        }
        let data = artifact::signatures(bytes).map_err(|e| refuse(e.to_string()))?;
        if let Some(data) = &data {
            let signed_content = data
                .signed_hashes_set
                .iter()
                .any(|s| s.hashes.iter().any(|h| h.as_slice() == content.as_slice()));
            if !signed_content {
                return Err(refuse(
                    "it was changed after it was signed (its content does not match any signature): rebuild and sign it again".into(),
                ));
            }
        }
        let manifest = artifact::manifest(bytes).map_err(|e| refuse(e.to_string()))?;
        if let Some(m) = &manifest
            && let Some(r) = m.role
            && r != role
        {
            return Err(refuse(format!(
                "its manifest says role `{}`, the config runs it as `{}`",
                role_name(r),
                role_name(role)
            )));
        }
        let dev_ok = |why: String| {
            Ok(Verified {
                manifest: manifest.clone(),
                signers: Vec::new(),
                content_sha256: content_sha256.clone(),
                warning: Some(format!("{why}; it runs only because [trust] dev = true")),
            })
        };
        let Some(data) = data else {
            if self.dev {
                return dev_ok("unsigned".into());
            }
            return Err(refuse(format!(
                "it is unsigned; sign it with `floor sign FILE --key KEY.key --manifest manifest.toml` and trust the key in [trust]{}",
                self.no_keys_hint()
            )));
        };
        let signers: Vec<&TrustedKey> = self
            .keys
            .iter()
            .filter(|k| k.key.verify(&mut Cursor::new(bytes), None).is_ok())
            .collect();
        if signers.is_empty() {
            let ids: Vec<String> = data
                .signed_hashes_set
                .iter()
                .flat_map(|s| s.signatures.iter())
                .map(|s| {
                    s.key_id
                        .as_deref()
                        .map_or("(no key id)".into(), hex::encode)
                })
                .collect();
            if self.dev {
                return dev_ok(format!("signed by unknown key(s) {}", ids.join(", ")));
            }
            return Err(refuse(format!(
                "it is signed only by key(s) the host does not trust: {}; add the signer's public key to [trust] keys{}",
                ids.join(", "),
                self.no_keys_hint()
            )));
        }
        if let Some(k) = signers.iter().find(|k| self.revoked(k)) {
            return Err(refuse(format!(
                "it is signed by the revoked key `{}` ({}); have it signed again by a current key",
                k.name, k.fingerprint
            )));
        }
        if manifest.is_none() {
            return Err(refuse(
                "it is signed but has no manifest, so nothing bounds what it may do; sign it with `--manifest manifest.toml`".into(),
            ));
        }
        let allowed: Vec<&str> = signers
            .iter()
            .filter(|k| k.roles.as_ref().is_none_or(|r| r.contains(&role)))
            .map(|k| k.name.as_str())
            .collect();
        let need = self.required_for(role) as usize;
        if allowed.len() < need {
            let others: Vec<String> = signers
                .iter()
                .filter(|k| !allowed.contains(&k.name.as_str()))
                .map(|k| {
                    let roles = k.roles.as_deref().unwrap_or_default();
                    format!(
                        "`{}` may sign only for [{}]",
                        k.name,
                        roles
                            .iter()
                            .map(|r| role_name(*r))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            let mut reason = format!(
                "a `{}` agent needs {need} signature(s) by keys allowed for that role, it has {}",
                role_name(role),
                allowed.len()
            );
            if !others.is_empty() {
                reason.push_str(&format!(" ({})", others.join("; ")));
            }
            return Err(refuse(reason));
        }
        Ok(Verified {
            manifest,
            signers: signers.iter().map(|k| k.name.clone()).collect(),
            content_sha256,
            warning: None,
        })
    }
}

impl TrustStore {
    /// Verify `bytes` as agent `config` runs it, and narrow the config to
    /// what its manifest asks for (an unsigned artifact in development
    /// mode, or one without a manifest, gets the config as it is).
    ///
    /// # Errors
    /// [`Refused`]: the verdict of [`TrustStore::verify`], or every ask of
    /// the manifest the config does not allow.
    pub fn admit(
        &self,
        config: &AgentConfig,
        file: &str,
        bytes: &[u8],
    ) -> Result<(AgentConfig, Verified), Refused> {
        let verified = self.verify(&config.name, file, bytes, config.role)?;
        let granted = match &verified.manifest {
            Some(m) => m.grant(config).map_err(|problems| Refused {
                agent: config.name.clone(),
                file: file.to_string(),
                reason: format!(
                    "its manifest asks for more than the config allows: {}",
                    problems.join("; ")
                ),
            })?,
            None => config.clone(),
        };
        Ok((granted, verified))
    }
}

/// A trusted key named `name` from `pk`.
pub fn trusted(name: &str, pk: PublicKey, roles: Option<Vec<Role>>) -> TrustedKey {
    TrustedKey {
        name: name.to_string(),
        fingerprint: fingerprint(&pk),
        key: pk,
        roles,
    }
}
