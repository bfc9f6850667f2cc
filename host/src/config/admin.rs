//! `[admin]`: the admin API of a running host.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// `[admin]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    /// Serve the admin API at all.
    pub enabled: bool,
    /// Address to listen on; port 0 picks a free one (written to
    /// `<data_dir>/admin.json` for the CLI to find).
    pub listen: String,
    /// File holding the bearer token (mode 0600); unset: a fresh token per
    /// run, written to `<data_dir>/admin.token`.
    pub token_file: Option<PathBuf>,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:0".into(),
            token_file: None,
        }
    }
}

/// `[admin]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminConfig {
    /// Serve the admin API at all.
    pub enabled: bool,
    /// Loopback address to listen on.
    pub listen: SocketAddr,
    /// Token file (absolute), if configured.
    pub token_file: Option<PathBuf>,
}

impl AdminSection {
    /// Check and resolve against the config's directory.
    pub fn resolve(self, base: &Path, problems: &mut Vec<String>) -> AdminConfig {
        let listen = match self.listen.parse::<SocketAddr>() {
            Ok(a) if a.ip().is_loopback() => a,
            Ok(a) => {
                problems.push(format!(
                    "admin.listen = \"{a}\" is not a loopback address: the admin API has no TLS, so it serves 127.0.0.1 or ::1 only (reach it remotely through an SSH tunnel)"
                ));
                a
            }
            Err(e) => {
                problems.push(format!(
                    "admin.listen = \"{}\": {e} (write an address and port, e.g. \"127.0.0.1:7070\")",
                    self.listen
                ));
                SocketAddr::from(([127, 0, 0, 1], 0))
            }
        };
        AdminConfig {
            enabled: self.enabled,
            listen,
            token_file: self.token_file.map(|p| base.join(p)),
        }
    }
}
