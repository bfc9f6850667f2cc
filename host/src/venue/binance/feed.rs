//! The market-data task: one WebSocket connection to a symbol's diff-depth
//! stream, a [`LocalBook`] kept in step with REST snapshots, and
//! reconnection with backoff when the connection drops — after which the
//! book is rebuilt from a fresh snapshot, since diffs may have been missed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::decode::{MarketMessage, decode};
use super::depth::{LocalBook, SyncAction};
use super::rest::{RestClient, RestError};

/// Counters a running feed keeps (for `floor status` and tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedStats {
    /// Connections opened.
    pub connects: u64,
    /// Snapshots fetched.
    pub snapshots: u64,
    /// Diffs applied.
    pub diffs: u64,
    /// Messages that did not decode (logged, skipped).
    pub undecodable: u64,
}

/// Keep `book` in step with `symbol`'s book at the venue until `stop`
/// turns true.
///
/// # Errors
/// Only when the venue bans this client (418): everything else is retried.
pub async fn run_depth(
    ws_base: &str,
    rest: &RestClient,
    symbol: &str,
    book: Arc<Mutex<LocalBook>>,
    stats: Arc<Mutex<FeedStats>>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), RestError> {
    let url = format!(
        "{}/ws/{}@depth@100ms",
        ws_base.trim_end_matches('/'),
        symbol.to_lowercase()
    );
    let mut backoff = Duration::from_millis(50);
    while !*stop.borrow() {
        let ws = match tokio_tungstenite::connect_async_with_config(&url, None, true).await {
            Ok((ws, _)) => ws,
            Err(e) => {
                tracing::warn!("depth stream {url}: {e}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        stats.lock().unwrap_or_else(|p| p.into_inner()).connects += 1;
        // Whatever we had may have missed diffs while disconnected.
        *book.lock().unwrap_or_else(|p| p.into_inner()) = LocalBook::new();
        let (_, mut inbox) = ws.split();
        loop {
            let msg = tokio::select! {
                m = inbox.next() => m,
                _ = stop.changed() => return Ok(()),
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            };
            let diff = match decode(&text) {
                Ok(MarketMessage::Depth(d)) => d,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!("{e}");
                    stats.lock().unwrap_or_else(|p| p.into_inner()).undecodable += 1;
                    continue;
                }
            };
            let mut action = book.lock().unwrap_or_else(|p| p.into_inner()).on_diff(diff);
            if action == SyncAction::Live {
                stats.lock().unwrap_or_else(|p| p.into_inner()).diffs += 1;
            }
            while matches!(action, SyncAction::NeedSnapshot | SyncAction::Resync { .. }) {
                if let SyncAction::Resync { reason } = &action {
                    tracing::warn!("{symbol} depth: {reason}; resynchronising");
                }
                let snapshot = rest
                    .public(
                        Method::GET,
                        "/api/v3/depth",
                        &[("symbol", symbol.to_string()), ("limit", "5000".into())],
                        250,
                    )
                    .await;
                let snapshot = match snapshot {
                    Ok(v) => v,
                    Err(e @ RestError::Banned { .. }) => return Err(e),
                    Err(e) => {
                        tracing::warn!("{symbol} depth snapshot: {e}; retrying");
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                };
                stats.lock().unwrap_or_else(|p| p.into_inner()).snapshots += 1;
                let Ok(MarketMessage::Snapshot(s)) = decode(&snapshot.to_string()) else {
                    tracing::warn!("{symbol} depth snapshot is not a book: {snapshot}");
                    tokio::time::sleep(backoff).await;
                    continue;
                };
                action = book
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .on_snapshot(s);
            }
        }
    }
    Ok(())
}
