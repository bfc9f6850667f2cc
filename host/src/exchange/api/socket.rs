//! What both WebSocket services (market streams, user data) do with a
//! connection: read the client's next text request, and close a consumer
//! that fell behind with a reason instead of skipping messages.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

/// The client's next text frame; `None` when the connection is over.
/// Other frames (pongs, binary) are skipped.
pub(super) async fn next_text(inbox: &mut SplitStream<WebSocket>) -> Option<Utf8Bytes> {
    loop {
        match inbox.next().await {
            Some(Ok(Message::Text(t))) => return Some(t),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Close with 1008 because the client is `behind` messages late; `then`
/// says what it should do.
pub(super) async fn close_slow(out: &mut SplitSink<WebSocket, Message>, behind: u64, then: &str) {
    let reason = format!("slow consumer: {behind} messages behind; {then}");
    let _ = out
        .send(Message::Close(Some(CloseFrame {
            code: 1008,
            reason: Utf8Bytes::from(reason),
        })))
        .await;
}
