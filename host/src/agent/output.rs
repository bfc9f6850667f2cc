//! What an agent writes to stdout and stderr.
//!
//! Agents should log through `host.log`, but a Rust panic, an `eprintln!`
//! or a C `printf` still writes to stdio. The host keeps the last
//! [`TAIL_BYTES`] of it per instance — enough to hold a panic message — so
//! a trap's dead letter can say *why* the agent trapped, and forwards each
//! complete line to the log at debug level. Writes never fail and never
//! block: a chatty agent cannot fill a buffer and turn its own logging into
//! a crash, nor make the host hold more than the tail.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes of output kept per instance.
pub const TAIL_BYTES: usize = 2048;

#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    line: Vec<u8>,
}

/// A stdio sink that keeps the tail of what was written.
#[derive(Debug, Clone)]
pub struct GuestOutput {
    agent: Arc<str>,
    tail: Arc<Mutex<Tail>>,
}

impl GuestOutput {
    /// A sink for `agent`'s output.
    pub fn new(agent: Arc<str>) -> Self {
        Self {
            agent,
            tail: Arc::default(),
        }
    }

    fn push(&self, buf: &[u8]) {
        let mut t = self.tail.lock().expect("output lock poisoned");
        t.bytes.extend_from_slice(buf);
        if t.bytes.len() > TAIL_BYTES {
            let cut = t.bytes.len() - TAIL_BYTES;
            t.bytes.drain(..cut);
        }
        for &b in buf {
            if b == b'\n' {
                let line = std::mem::take(&mut t.line);
                tracing::debug!(agent = %self.agent, "stdio: {}", String::from_utf8_lossy(&line));
            } else if t.line.len() < TAIL_BYTES {
                t.line.push(b);
            }
        }
    }

    /// The last non-empty lines written, joined by ` | `, at most `max` lines.
    pub fn last_lines(&self, max: usize) -> Option<String> {
        let t = self.tail.lock().expect("output lock poisoned");
        let text = String::from_utf8_lossy(&t.bytes);
        // Rust's advice about RUST_BACKTRACE says nothing about this fault.
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        if lines.is_empty() {
            return None;
        }
        Some(lines[lines.len().saturating_sub(max)..].join(" | "))
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

impl Pollable for GuestOutput {
    fn ready<'a, 'b>(&'a mut self) -> Pin<Box<dyn Future<Output = ()> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(std::future::ready(()))
    }
}

impl tokio::io::AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_tail_and_reports_the_last_lines() {
        let out = GuestOutput::new("a".into());
        out.push(&vec![b'x'; 10_000]);
        out.push(b"\nthread panicked at src/lib.rs:3:5:\nboom\n");
        out.push(
            b"note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
        );
        assert_eq!(
            out.last_lines(2).as_deref(),
            Some("thread panicked at src/lib.rs:3:5: | boom")
        );
        assert!(out.tail.lock().unwrap().bytes.len() <= TAIL_BYTES);
    }
}
