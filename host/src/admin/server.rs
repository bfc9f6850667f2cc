//! The admin API's routes (axum), served by `floor run`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use std::sync::mpsc::Sender;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Token;
use crate::deploy::{DeployRequest, Preparer};
use crate::node::operator::{Call, Operation, ReplaySelection};
use crate::risk::TradingMode;

/// How long a request waits for the node's thread.
const NODE_ANSWER: Duration = Duration::from_secs(10);

#[derive(Clone)]
struct AppState {
    token: Token,
    calls: Sender<Call>,
    preparer: Option<Preparer>,
}

/// The largest component a deploy may send (base64 inside JSON).
const MAX_DEPLOY_BODY: usize = 96 << 20;

/// Serve the API on `listener` until the task is dropped; operations go to
/// the node's thread over `calls`; `preparer` (if any) compiles and starts
/// deployed versions on the API's worker threads.
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    token: Token,
    calls: Sender<Call>,
    preparer: Option<Preparer>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/trading", post(trading))
        .route("/v1/dlq/replay", post(replay))
        .route("/v1/reconcile", post(reconcile))
        .route("/v1/news", post(news))
        .route(
            "/v1/deploy",
            post(deploy).layer(DefaultBodyLimit::max(MAX_DEPLOY_BODY)),
        )
        .route("/v1/rollback", post(rollback))
        .route("/v1/approve", post(approve))
        .route("/v1/reject", post(reject))
        .route("/v1/promote", post(promote))
        .fallback(not_found)
        .with_state(AppState {
            token,
            calls,
            preparer,
        });
    axum::serve(listener, app).await
}

fn error(code: StatusCode, message: impl Into<String>) -> Response {
    (code, axum::Json(json!({"error": message.into()}))).into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint: the admin API has GET /v1/status, POST /v1/trading, POST /v1/dlq/replay, POST /v1/reconcile, POST /v1/deploy, POST /v1/rollback and POST /v1/promote",
    )
}

/// Whether the request carries the bearer token.
fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| state.token.accepts(t))
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token: send `Authorization: Bearer <token>` with the token from the host's admin.token file",
    )
}

/// Check the token, hand `op` to the node, and answer with its result.
async fn call(state: &AppState, headers: &HeaderMap, op: Result<Operation, String>) -> Response {
    if !authorized(state, headers) {
        return unauthorized();
    }
    match op {
        Ok(op) => ask(state, op).await,
        Err(why) => error(StatusCode::BAD_REQUEST, why),
    }
}

/// Hand `op` to the node and answer with its result.
async fn ask(state: &AppState, op: Operation) -> Response {
    let (reply, answer) = tokio::sync::oneshot::channel();
    if state.calls.send(Call { op, reply }).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "the node has stopped");
    }
    match tokio::time::timeout(NODE_ANSWER, answer).await {
        Ok(Ok(Ok(v))) => axum::Json(v).into_response(),
        Ok(Ok(Err(e))) => error(StatusCode::BAD_REQUEST, e.0),
        Ok(Err(_)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the node stopped before answering",
        ),
        Err(_) => error(
            StatusCode::GATEWAY_TIMEOUT,
            "the node did not answer within 10 s (it is busy or stuck; `floor status` again shortly)",
        ),
    }
}

async fn status(State(s): State<AppState>, headers: HeaderMap) -> Response {
    call(&s, &headers, Ok(Operation::Status)).await
}

async fn reconcile(State(s): State<AppState>, headers: HeaderMap) -> Response {
    call(&s, &headers, Ok(Operation::Reconcile)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TradingBody {
    state: TradingMode,
    #[serde(default)]
    reason: String,
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes, what: &str) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("the body is not a valid {what}: {e}"))
}

async fn trading(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op = parse::<TradingBody>(
        &body,
        "trading command (`{\"state\": \"halted\", \"reason\": \"…\"}`)",
    )
    .map(|b| Operation::Trading {
        state: b.state,
        reason: if b.reason.is_empty() {
            "no reason given".into()
        } else {
            b.reason
        },
    });
    call(&s, &headers, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployBody {
    agent: String,
    /// The component's bytes, base64 (standard alphabet, padded).
    component: String,
    #[serde(default)]
    config: BTreeMap<String, String>,
    /// Run beside the live version instead of replacing it.
    #[serde(default)]
    shadow: bool,
}

/// Prepare the version on a worker thread (compile, instantiate, `init`),
/// then have the node swap it in between two inputs.
async fn deploy(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&s, &headers) {
        return unauthorized();
    }
    let Some(preparer) = s.preparer.clone() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this host does not take deploys",
        );
    };
    let b = match parse::<DeployBody>(
        &body,
        "deploy request (`{\"agent\": \"…\", \"component\": \"<base64>\", \"config\": {}}`)",
    ) {
        Ok(b) => b,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let component = match base64::engine::general_purpose::STANDARD.decode(&b.component) {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("`component` is not base64: {e}"),
            );
        }
    };
    let req = DeployRequest {
        agent: b.agent,
        component,
        config: b.config,
        shadow: b.shadow,
    };
    match tokio::task::spawn_blocking(move || preparer.prepare(&req)).await {
        Ok(Ok(candidate)) => ask(&s, Operation::Deploy(Box::new(candidate))).await,
        Ok(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("preparing the version failed: {e}"),
        ),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    agent: String,
    #[serde(default)]
    reason: String,
}

async fn rollback(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op = parse::<RollbackBody>(&body, "rollback request (`{\"agent\": \"…\"}`)").map(|b| {
        Operation::Rollback {
            agent: b.agent,
            reason: if b.reason.is_empty() {
                "rolled back by an operator".into()
            } else {
                b.reason
            },
        }
    });
    call(&s, &headers, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromoteBody {
    agent: String,
    #[serde(default)]
    discard: bool,
}

async fn promote(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op = parse::<PromoteBody>(
        &body,
        "promote request (`{\"agent\": \"…\", \"discard\": false}`)",
    )
    .map(|b| Operation::Promote {
        agent: b.agent,
        discard: b.discard,
    });
    call(&s, &headers, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApprovalBody {
    id: u64,
    /// Who approves, or why it is rejected.
    #[serde(default)]
    note: String,
}

async fn approve(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op =
        parse::<ApprovalBody>(&body, "approval (`{\"id\": 42, \"note\": \"who\"}`)").map(|b| {
            Operation::Approve {
                id: b.id,
                by: if b.note.is_empty() {
                    "an operator".into()
                } else {
                    b.note
                },
            }
        });
    call(&s, &headers, op).await
}

async fn reject(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op =
        parse::<ApprovalBody>(&body, "rejection (`{\"id\": 42, \"note\": \"why\"}`)").map(|b| {
            Operation::Reject {
                id: b.id,
                reason: if b.note.is_empty() {
                    "rejected by an operator".into()
                } else {
                    b.note
                },
            }
        });
    call(&s, &headers, op).await
}

async fn replay(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op = parse::<ReplaySelection>(
        &body,
        "replay request (`{\"ids\": [1]}` or `{\"all\": true}`)",
    )
    .and_then(|b| {
        if b.ids.is_empty() && !b.all {
            Err("name the entries to replay: `ids` or `all: true`".into())
        } else {
            Ok(Operation::DlqReplay(b))
        }
    });
    call(&s, &headers, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewsBody {
    headline: String,
    #[serde(default = "webhook")]
    source: String,
    #[serde(default)]
    symbols: Vec<String>,
}

fn webhook() -> String {
    "webhook".into()
}

/// A headline (the webhook): checked here, so a bad one is a 400 that
/// never reaches the node or its journal.
async fn news(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let op = parse::<NewsBody>(
        &body,
        "headline (`{\"headline\": \"…\", \"source\": \"wire\", \"symbols\": [\"BTCUSDT\"]}`)",
    )
    .and_then(|b| {
        let n = crate::model::News {
            headline: b.headline,
            source: b.source,
            symbols: b.symbols,
        };
        crate::news::check(&n).map_err(|why| format!("the headline was refused: {why}"))?;
        Ok(Operation::News(n))
    });
    call(&s, &headers, op).await
}

/// Where a running host's admin API is: `<data_dir>/admin.json`, written
/// by `floor run` once it listens and removed when it stops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovery {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The token file.
    pub token_file: PathBuf,
    /// The host's process id.
    pub pid: u32,
}

impl Discovery {
    /// The file's path in `data_dir`.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("admin.json")
    }

    /// Write it.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&self, data_dir: &Path) -> anyhow::Result<()> {
        let p = Self::path(data_dir);
        std::fs::write(&p, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("cannot write `{}`", p.display()))
    }

    /// Read it.
    ///
    /// # Errors
    /// When no host has written one, with what to do.
    pub fn read(data_dir: &Path) -> anyhow::Result<Self> {
        let p = Self::path(data_dir);
        let text = std::fs::read_to_string(&p).with_context(|| {
            format!(
                "no running host found: `{}` does not exist (start one with `floor run` on this config, or pass --host URL --token-file FILE)",
                p.display()
            )
        })?;
        serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not a host's admin file", p.display()))
    }

    /// Whether something listens at its URL (a host killed without
    /// cleaning up leaves a file that points nowhere).
    pub fn is_live(&self) -> bool {
        self.url
            .strip_prefix("http://")
            .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            .is_some_and(|a| {
                std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok()
            })
    }

    /// Remove it (on a clean stop), if it is still this process's.
    pub fn remove(data_dir: &Path) {
        if Self::read(data_dir).is_ok_and(|d| d.pid == std::process::id()) {
            let _ = std::fs::remove_file(Self::path(data_dir));
        }
    }
}

/// What every answer looks like, for the client.
pub(super) fn error_of(v: &Value) -> Option<&str> {
    v.get("error").and_then(Value::as_str)
}
