//! [`Config`]: the agent's configuration, as the host config gave it.

use crate::{Error, types::error};
use std::str::FromStr;

/// Key/value configuration handed to `init`.
#[derive(Debug, Clone, Default)]
pub struct Config(Vec<(String, String)>);

impl Config {
    /// Wrap the pairs the host passed.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// Every key and value, in the order the host passed them (for keys
    /// that name things, such as `weight.<source>`).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The raw value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` parsed as `T`, or `default` when unset.
    ///
    /// # Errors
    /// `bad_config` naming the key and the value when it does not parse.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, Error> {
        match self.get(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|_| {
                error(
                    "bad_config",
                    format!(
                        "config key `{key}` = `{raw}` is not a valid {}",
                        std::any::type_name::<T>()
                    ),
                )
            }),
        }
    }

    /// `key` as a comma-separated list (items trimmed, empty ones skipped);
    /// empty when unset.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `key` as a percentage in `[0, 100)`, or `default` when unset.
    ///
    /// # Errors
    /// `bad_config` naming the key when it does not parse or is out of range.
    pub fn percent_or(&self, key: &str, default: f64) -> Result<f64, Error> {
        let pct: f64 = self.parse_or(key, default)?;
        if (0.0..100.0).contains(&pct) {
            Ok(pct)
        } else {
            Err(error(
                "bad_config",
                format!("config key `{key}` = {pct}: need a percentage in [0, 100)"),
            ))
        }
    }

    /// `key` as a string, or an error naming the missing key.
    ///
    /// # Errors
    /// `bad_config` when the key is unset.
    pub fn require(&self, key: &str) -> Result<&str, Error> {
        self.get(key).ok_or_else(|| {
            error(
                "bad_config",
                format!("config key `{key}` is required; set it under the agent's [config]"),
            )
        })
    }
}
