//! `[news] file` in `floor run`: a thread that hands each headline to the
//! node at its time — the file's spacing divided by `speed`, the first at
//! the start — as the webhook would. The node journals each one, so a
//! replay sees the headlines where the run saw them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::config::NewsConfig;
use crate::node::operator::{Call, Operation};

/// Start feeding `news` to the node through `calls`; the thread ends with
/// the file or when `stop` is set.
pub(super) fn spawn(
    news: &NewsConfig,
    calls: Sender<Call>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let headlines = news.headlines.clone();
    let speed = news.speed;
    let file = news.file.display().to_string();
    std::thread::Builder::new()
        .name("floor-news".into())
        .spawn(move || {
            let start = Instant::now();
            let first = headlines.first().map_or(0, |h| h.time);
            for h in headlines {
                let due = Duration::from_secs_f64((h.time - first) as f64 / 1e9 / speed);
                while start.elapsed() < due {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep((due - start.elapsed()).min(Duration::from_millis(50)));
                }
                let (reply, answer) = tokio::sync::oneshot::channel();
                if calls
                    .send(Call {
                        op: Operation::News(h.news),
                        reply,
                    })
                    .is_err()
                {
                    return; // the node has stopped
                }
                if let Ok(Err(e)) = answer.blocking_recv() {
                    tracing::warn!("news file `{file}`: {e}");
                }
            }
            tracing::info!("news file `{file}`: every headline published");
        })
        .context("cannot start the news thread")?;
    Ok(())
}
