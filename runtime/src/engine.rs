//! The one wasmtime `Engine` a runtime shares between all its modules and runs, and the
//! thread that advances its epoch (what deadlines are counted in).

use crate::error::RuntimeError;
use crate::Settings;
use std::num::NonZeroUsize;
use std::time::Duration;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
    Strategy,
};

/// Cranelift at full optimization, epoch interruption, and a pooling allocator sized by
/// the settings. Where the machine refuses the pool's address-space reservation (a
/// `ulimit -v`, say), falls back to allocating instances on demand.
/// How much of a memory or table slot stays mapped between runs (see `build`).
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

pub(crate) fn build(settings: &Settings) -> Result<Engine, RuntimeError> {
    let mut cfg = Config::new();
    cfg.strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .epoch_interruption(settings.interruptible)
        .max_wasm_stack(settings.wasm_stack_max_bytes)
        .wasm_backtrace_max_frames(NonZeroUsize::new(settings.backtrace_frames_max));
    let n = settings.instances_max.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(n)
        .total_memories(n)
        .total_tables(n)
        .total_stacks(n)
        .max_memory_size(settings.limits.memory_max_bytes)
        .table_elements(settings.limits.table_elements_max)
        // Reset a slot's memory by rewriting the pages a run touched (found with
        // PAGEMAP_SCAN where the kernel has it) instead of unmapping them with madvise:
        // madvise's TLB shootdowns, and the page faults after it, cost more than a
        // short turn itself and serialize turns across cores.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .pagemap_scan(Enabled::Auto);
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&cfg) {
        Ok(engine) => Ok(engine),
        Err(pool_err) => {
            cfg.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&cfg).map_err(|e| {
                RuntimeError::Engine(format!("{} (with a pool: {})", chain(&e), chain(&pool_err)))
            })
        }
    }
}

/// Starts a thread that increments the engine's epoch every `tick`, for as long as the
/// engine is alive anywhere (it holds only a weak reference between ticks).
pub(crate) fn start_ticker(engine: &Engine, tick: Duration) -> Result<(), RuntimeError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("weft-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        })
        .map(|_| ())
        .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch thread: {e}")))
}

/// An error and its causes on one line.
pub(crate) fn chain(err: &wasmtime::Error) -> String {
    let parts: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    parts.join(": ")
}
