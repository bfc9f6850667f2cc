//! What went wrong in a call, classified from wasmtime's error.

use std::fmt;

use wasmtime::Trap;

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
        // The first line names the cause; the backtrace that follows is for
        // debugging and goes to the log, not the DLQ.
        let detail = format!("{err:#}")
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        Self { kind, detail }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}
