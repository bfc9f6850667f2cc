//! What went wrong in a call, classified from wasmtime's error.

use std::fmt;

use wasmtime::{Trap, WasmBacktrace};

use super::limits::MemoryLimitExceeded;

/// The kind of fault a call ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Fuel ran out.
    FuelExhausted,
    /// The epoch deadline passed.
    DeadlineExceeded,
    /// The memory cap refused a growth.
    MemoryLimit,
    /// Any other trap or host error.
    Trap,
}

/// A faulted call: its kind and wasmtime's message.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Classification.
    pub kind: FaultKind,
    /// Human-readable detail.
    pub detail: String,
}

impl Fault {
    /// Classify an error returned by a call into the guest.
    pub fn classify(err: &wasmtime::Error) -> Self {
        let kind = if err.chain().any(|e| e.is::<MemoryLimitExceeded>()) {
            FaultKind::MemoryLimit
        } else {
            match err.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => FaultKind::FuelExhausted,
                Some(Trap::Interrupt) => FaultKind::DeadlineExceeded,
                _ => FaultKind::Trap,
            }
        };
        // The root cause says what happened; the innermost wasm function
        // says where. The full backtrace goes to the log, not the DLQ.
        let mut detail = err.root_cause().to_string();
        let frame = err.downcast_ref::<WasmBacktrace>().and_then(|bt| {
            bt.frames()
                .first()
                .and_then(|f| f.func_name().map(str::to_string))
        });
        if let Some(func) = frame {
            detail.push_str(&format!(" (in `{func}`)"));
        }
        tracing::debug!("guest fault: {err:?}");
        Self { kind, detail }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}
