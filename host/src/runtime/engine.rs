//! The engine every agent runs on.
//!
//! Fuel is on (a budget of instructions per call) and so is epoch
//! interruption (a wall-clock deadline per call): fuel alone cannot stop a
//! guest that blocks in a host call, and a deadline alone makes results
//! depend on machine load. Instances come from the pooling allocator, which
//! makes instantiation a few microseconds — cheap enough to throw away a
//! faulted instance and start a fresh one for the next message.
//!
//! Nothing an agent computes may depend on the machine: NaNs are
//! canonicalised and relaxed SIMD uses its deterministic lowering, so a
//! journal replays to the same decisions on any host (`floor replay`).
//! Clocks and randomness are pinned in `agent::state` (event time, seeded
//! generators).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How the engine is sized. Defaults suit a host with up to a few hundred
/// agent instances; `floor run` takes them from the `[runtime]` config.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Concurrent component instances the pool holds.
    pub pool_instances: u32,
    /// Largest linear memory any agent may be granted, bytes.
    pub max_memory_bytes: usize,
    /// Epoch tick: the granularity of wall-clock deadlines.
    pub epoch_tick: Duration,
    /// Whether wall-clock deadlines cut calls (an epoch ticker runs).
    /// Replays turn it off: machine load must not decide an outcome there,
    /// and the calls the recorded run cut are cut again on purpose, with a
    /// zero deadline, which needs no ticker.
    pub wall_clock: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            pool_instances: 256,
            max_memory_bytes: 256 << 20,
            epoch_tick: Duration::from_millis(1),
            wall_clock: true,
        }
    }
}

/// The host's wasmtime engine and its epoch ticker.
pub struct Runtime {
    engine: Engine,
    config: RuntimeConfig,
    ticker: Option<EpochTicker>,
}

impl Runtime {
    /// Build the engine.
    ///
    /// # Errors
    /// When wasmtime refuses the configuration (e.g. the pool cannot be
    /// reserved: lower `pool_instances` or `max_memory_bytes`).
    pub fn new(config: RuntimeConfig) -> wasmtime::Result<Self> {
        let mut cfg = Config::new();
        cfg.wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            // Determinism (a replay must reproduce every decision): NaN
            // bit patterns differ between CPUs unless canonicalised, and
            // relaxed SIMD may give platform-dependent results unless
            // pinned to its deterministic lowering.
            .cranelift_nan_canonicalization(true)
            .relaxed_simd_deterministic(true);
        let n = config.pool_instances.max(1);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 2)
            .total_tables(n * 4)
            .total_stacks(n)
            .max_core_instances_per_component(16)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_memory_size(config.max_memory_bytes)
            .table_elements(20_000)
            // Recycling a slot is most of an instantiation's cost. Measured
            // here (`floor bench --only instantiate`): batching the madvise
            // calls and resetting tables with memset took it from 15 to
            // 10 µs; also memsetting the first 64 KiB of memory made it
            // slower (10.3) than letting the kernel drop the pages (8.4).
            // PAGEMAP_SCAN (Linux ≥ 6.7) resets only the touched pages.
            .decommit_batch_size(32)
            .table_keep_resident(64 << 10)
            .linear_memory_keep_resident(0)
            .pagemap_scan(Enabled::Auto);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&cfg)?;
        let ticker = config
            .wall_clock
            .then(|| EpochTicker::start(&engine, config.epoch_tick));
        Ok(Self {
            engine,
            config,
            ticker,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Wall-clock deadline expressed in epoch ticks (at least one).
    pub fn deadline_ticks(&self, deadline: Duration) -> u64 {
        let tick = self.config.epoch_tick.as_nanos().max(1);
        (deadline.as_nanos().div_ceil(tick) as u64).max(1)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.stop();
        }
    }
}

/// A thread that advances the engine's epoch every tick. It holds only a
/// weak reference, so it never keeps an engine alive.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl EpochTicker {
    fn start(engine: &Engine, tick: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("floor-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch thread");
        Self { stop, handle }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}
