//! The CLI's side of the admin API.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use super::{Discovery, Token};

/// A running host, found and authenticated.
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    token: Token,
}

impl Client {
    /// Find the host: `url` and `token_file` when given, else the
    /// `admin.json` that a running host wrote in `data_dir`.
    ///
    /// # Errors
    /// When no host is found or the token cannot be read.
    pub fn locate(
        data_dir: &Path,
        url: Option<String>,
        token_file: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        let (url, token_file) = match (url, token_file) {
            (Some(u), Some(t)) => (u, t),
            (u, t) => {
                let d = Discovery::read(data_dir)?;
                (u.unwrap_or(d.url), t.unwrap_or(d.token_file))
            }
        };
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            token: Token::read(&token_file)?,
        })
    }

    /// A client for `url` with `token`.
    pub fn new(url: &str, token: Token) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            token,
        }
    }

    /// `GET path` or `POST path` with `body`; the JSON answer, or the
    /// API's error message.
    ///
    /// # Errors
    /// When the host cannot be reached or answers with an error.
    pub async fn call(&self, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let http = reqwest::Client::new();
        let url = format!("{}{path}", self.url);
        let req = match body {
            Some(b) => http.post(&url).json(b),
            None => http.get(&url),
        };
        let resp = req
            .bearer_auth(self.token.as_str())
            .send()
            .await
            .with_context(|| {
                format!(
                    "no host answers at {}: is `floor run` still running? (an admin.json left by a killed host points nowhere)",
                    self.url
                )
            })?;
        let status = resp.status();
        let v: Value = resp
            .json()
            .await
            .with_context(|| format!("{url} answered {status} without JSON"))?;
        if let Some(e) = super::server::error_of(&v) {
            anyhow::bail!("the host refused ({status}): {e}");
        }
        Ok(v)
    }

    /// [`Client::call`] on a throwaway current-thread runtime, for the CLI.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub fn call_blocking(&self, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?
            .block_on(self.call(path, body))
    }
}
