//! Per-agent resource limits and the memory limiter that enforces the cap.
//!
//! The threat is an agent — buggy or hostile — that burns CPU, blocks, eats
//! memory or floods the host with outputs, and so starves every other agent
//! on the host. Each limit aborts only the offending call: the host records
//! the input in the dead-letter queue and gives the agent a fresh instance.
//!
//! The memory cap is a sum over all of an instance's memories. wasmtime's
//! `StoreLimits` caps each memory separately, which a component with several
//! memories could use to get several times its cap; this limiter does not.

use std::time::Duration;

/// Limits for one agent instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Fuel (roughly, wasm instructions) per call.
    pub fuel: u64,
    /// Wall-clock deadline per call.
    pub deadline: Duration,
    /// Sum of all linear memories of the instance, bytes.
    pub memory_bytes: usize,
    /// Table elements across all tables.
    pub table_elements: usize,
    /// Outputs per call.
    pub max_outputs: usize,
    /// Bytes per output (topic and payload).
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 10_000_000,
            deadline: Duration::from_millis(100),
            memory_bytes: 32 << 20,
            table_elements: 20_000,
            max_outputs: 64,
            max_output_bytes: 64 << 10,
        }
    }
}

/// Raised (as a trap) when an instance asks for memory past its cap.
#[derive(Debug, thiserror::Error)]
#[error("memory limit: the instance asked for {requested} bytes in all, its cap is {cap} bytes")]
pub struct MemoryLimitExceeded {
    /// Total bytes the instance would have had.
    pub requested: usize,
    /// The cap.
    pub cap: usize,
}

/// Sums an instance's memories and refuses growth past the cap.
#[derive(Debug)]
pub struct MemoryLimiter {
    cap: usize,
    table_cap: usize,
    used: usize,
    table_used: usize,
}

impl MemoryLimiter {
    /// A limiter for these limits.
    pub fn new(limits: &Limits) -> Self {
        Self {
            cap: limits.memory_bytes,
            table_cap: limits.table_elements,
            used: 0,
            table_used: 0,
        }
    }

    /// Bytes currently held by the instance's memories.
    pub fn used(&self) -> usize {
        self.used
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used - current.min(self.used) + desired;
        if total > self.cap {
            return Err(MemoryLimitExceeded {
                requested: total,
                cap: self.cap,
            }
            .into());
        }
        self.used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.table_used - current.min(self.table_used) + desired;
        if total > self.table_cap {
            return Ok(false);
        }
        self.table_used = total;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn caps_the_sum_of_all_memories() {
        let limits = Limits {
            memory_bytes: 100,
            ..Limits::default()
        };
        let mut l = MemoryLimiter::new(&limits);
        assert!(l.memory_growing(0, 60, None).unwrap());
        // A second memory may not take the instance past the cap...
        let err = l.memory_growing(0, 50, None).unwrap_err();
        assert!(err.downcast_ref::<MemoryLimitExceeded>().is_some());
        // ...but may use what is left.
        assert!(l.memory_growing(0, 40, None).unwrap());
        assert_eq!(l.used(), 100);
    }
}
