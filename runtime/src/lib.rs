//! The Weft runtime: runs compiled Weft modules in wasmtime.
//!
//! One [`Runtime`] owns one wasmtime `Engine` (Cranelift, pooling allocator, epoch
//! interruption), a cache of compiled modules keyed by their content address, and a
//! linker with every host function (`host`, one namespace per file). `main`, a test or
//! any other run gets a fresh `Store` and instance; an agent's turn runs in a warm
//! instance of its module that the module's `weft.reset` emptied after the previous turn
//! (`warm.rs`), and a turn that trapped drops its instance. Either way **an instance
//! holds nothing between runs**: everything kept lives in the host. A trap comes back as
//! a [`RunError::Trap`] with the stack mapped to Weft functions and source lines.
//!
//! Beside that engine: the node (`agents`), its store (`store`), its API (`api`), host
//! values (`value`), WARP (`warp`) and the WebSocket frames WARP travels in (`ws`). It
//! does not compile Weft (that is `weft-compiler`), read source files, or talk to other
//! nodes (yet).

pub mod agents;
pub mod api;
mod cache;
mod engine;
mod error;
pub mod host;
mod output;
pub mod resources;
mod state;
pub mod store;
pub mod value;
mod warm;
pub mod warp;
pub mod ws;

pub use error::{trap_message, Frame, RunError, RuntimeError};
pub use output::Output;
pub use state::{RunLimits, State, Stop};

use std::path::PathBuf;
use std::time::Duration;
use wasmtime::{Engine, InstancePre, Linker, Store};
use weft_compiler::Artifact;

/// How a [`Runtime`] is set up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The limits of each run unless [`Runtime::run_with`] says otherwise. The memory
    /// limit also sizes the pool's memory slots, so a run cannot be given more.
    pub limits: RunLimits,
    /// How many instances may exist at once (the pool's size).
    pub instances_max: u32,
    /// The most wasm stack a run may use, in bytes (beyond it: "stack overflow").
    pub wasm_stack_max_bytes: usize,
    /// The most frames a trap's stack trace records, innermost first (0 records none).
    pub backtrace_frames_max: usize,
    /// How often the epoch advances; deadlines are counted in these ticks.
    pub epoch_tick_ms: u64,
    /// The most compiled modules kept in memory.
    pub modules_cached_max: usize,
    /// Where to keep compiled native code between processes; `None` keeps none.
    pub cache_dir: Option<PathBuf>,
    /// Compile interruption checks into the code (wasmtime's epoch checks at function
    /// entries and loop headers), so a run can be given a deadline. Without them tight
    /// loops run 10-20% faster, and a run with a deadline is refused.
    pub interruptible: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limits: RunLimits::default(),
            instances_max: 100,
            wasm_stack_max_bytes: 512 << 10,
            backtrace_frames_max: 1000,
            epoch_tick_ms: 10,
            modules_cached_max: 256,
            cache_dir: None,
            interruptible: true,
        }
    }
}

/// A wasm engine, its module cache and its host functions.
pub struct Runtime {
    engine: Engine,
    linker: Linker<State>,
    cache: cache::ModuleCache,
    settings: Settings,
    idle: warm::Idle,
}

impl Runtime {
    /// Starts an engine and its epoch thread.
    pub fn new(settings: Settings) -> Result<Runtime, RuntimeError> {
        let engine = engine::build(&settings)?;
        let linker = host::linker(&engine).map_err(|e| {
            RuntimeError::Engine(format!(
                "cannot define the host functions: {}",
                engine::chain(&e)
            ))
        })?;
        if settings.interruptible {
            engine::start_ticker(
                &engine,
                Duration::from_millis(settings.epoch_tick_ms.max(1)),
            )?;
        }
        // Code compiled with and without interruption checks must not share cache files.
        let cache_dir = match &settings.cache_dir {
            Some(dir) if !settings.interruptible => Some(dir.join("uninterruptible")),
            other => other.clone(),
        };
        let cache = cache::ModuleCache::new(settings.modules_cached_max, cache_dir);
        // Warm instances may hold a quarter of the pool; the rest is for runs in flight.
        let idle = warm::Idle::new((settings.instances_max / 4).max(1) as usize);
        Ok(Runtime {
            engine,
            linker,
            cache,
            settings,
            idle,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The linker every module is instantiated with (all host namespaces registered).
    pub fn linker(&self) -> &Linker<State> {
        &self.linker
    }

    /// How many compiled modules the in-memory cache holds.
    pub fn modules_cached(&self) -> usize {
        self.cache.len()
    }

    /// The module compiled and linked, ready to instantiate: from the cache when its id
    /// was seen before.
    pub fn load(&self, artifact: &Artifact) -> Result<InstancePre<State>, RunError> {
        debug_assert_eq!(artifact.id, weft_compiler::ModuleId::of(&artifact.wasm));
        if let Some(pre) = self.cache.get(&artifact.id) {
            return Ok(pre);
        }
        let module = self
            .cache
            .compile(&self.engine, &artifact.id, &artifact.wasm)
            .map_err(|e| RunError::Compile(engine::chain(&e)))?;
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| RunError::Link(engine::chain(&e)))?;
        self.cache.insert(artifact.id, pre.clone());
        Ok(pre)
    }

    /// A fresh store for one run, writing to `output`, under `limits`.
    pub fn store(&self, output: &Output, limits: &RunLimits) -> Store<State> {
        let mut store = Store::new(&self.engine, State::new(output.clone(), limits.clone()));
        store.limiter(|state| state);
        self.set_deadline(&mut store, limits);
        store
    }

    /// Counts the run's deadline from now, in epoch ticks.
    fn set_deadline(&self, store: &mut Store<State>, limits: &RunLimits) {
        if self.settings.interruptible {
            let ticks = match limits.deadline_ms {
                Some(ms) => ms.div_ceil(self.settings.epoch_tick_ms.max(1)).max(1),
                // Far enough never to come, and no overflow when added to the current epoch.
                None => u64::MAX / 2,
            };
            store.set_epoch_deadline(ticks);
        }
    }

    /// Runs the `() -> ()` export `export` in a fresh instance under the default limits.
    pub fn run(&self, artifact: &Artifact, export: &str, output: &Output) -> Result<(), RunError> {
        self.run_with(artifact, export, output, &self.settings.limits)
    }

    /// Runs the `() -> ()` export `export` in a fresh instance under `limits`.
    pub fn run_with(
        &self,
        artifact: &Artifact,
        export: &str,
        output: &Output,
        limits: &RunLimits,
    ) -> Result<(), RunError> {
        if limits.deadline_ms.is_some() && !self.settings.interruptible {
            return Err(RunError::Unenforceable);
        }
        let pre = self.load(artifact)?;
        let mut store = self.store(output, limits);
        let instance = match pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(e) if e.is::<wasmtime::PoolConcurrencyLimitError>() => {
                return Err(RunError::Resources(engine::chain(&e)))
            }
            Err(e) => {
                return Err(error::explain(
                    &e,
                    store.data().stop.as_ref(),
                    &artifact.debug,
                ))
            }
        };
        let func = instance
            .get_typed_func::<(), ()>(&mut store, export)
            .map_err(|_| RunError::NoExport {
                name: export.to_string(),
            })?;
        func.call(&mut store, ())
            .map_err(|e| error::explain(&e, store.data().stop.as_ref(), &artifact.debug))
    }

    /// Runs export `export` of `artifact` in a fresh instance as part of `turn`: a `() -> ()`
    /// export when `arg` is `None` (`main`), an agent entry `(len)` given the length of the
    /// staged arguments otherwise. Hands the turn back with what the run left in it.
    pub(crate) fn run_turn(
        &self,
        artifact: &Artifact,
        export: &str,
        output: &Output,
        limits: &RunLimits,
        turn: Box<agents::Turn>,
        arg: Option<i32>,
    ) -> (Result<(), RunError>, Box<agents::Turn>) {
        if limits.deadline_ms.is_some() && !self.settings.interruptible {
            return (Err(RunError::Unenforceable), turn);
        }
        if let Some(len) = arg {
            return self.run_warm(artifact, export, output, limits, turn, len);
        }
        let pre = match self.load(artifact) {
            Ok(pre) => pre,
            Err(e) => return (Err(e), turn),
        };
        let mut store = self.store(output, limits);
        store.data_mut().turn = Some(turn);
        let result = self.call_in(&mut store, &pre, artifact, export, arg);
        (result, take_turn(&mut store))
    }

    /// Runs an agent entry in a warm instance of the module (`warm.rs`), or a new one.
    #[allow(clippy::too_many_arguments)]
    fn run_warm(
        &self,
        artifact: &Artifact,
        export: &str,
        output: &Output,
        limits: &RunLimits,
        turn: Box<agents::Turn>,
        len: i32,
    ) -> (Result<(), RunError>, Box<agents::Turn>) {
        let mut warm = match self.idle.take(&artifact.id) {
            Some(warm) => warm,
            None => match self.new_warm(artifact, output, limits) {
                Ok(warm) => warm,
                Err(e) => return (Err(e), turn),
            },
        };
        warm.store.data_mut().begin(output, limits);
        self.set_deadline(&mut warm.store, limits);
        warm.store.data_mut().turn = Some(turn);
        let result = match warm.entry(export) {
            Some(f) => f
                .call(&mut warm.store, len)
                .map_err(|e| error::explain(&e, warm.store.data().stop.as_ref(), &artifact.debug)),
            None => Err(RunError::NoExport {
                name: export.to_string(),
            }),
        };
        let turn = take_turn(&mut warm.store);
        if result.is_ok() && warm.reset.call(&mut warm.store, ()).is_ok() {
            self.idle.put(warm);
        }
        (result, turn)
    }

    /// A new instance to keep warm; when the pool is full, idle ones make room.
    fn new_warm(
        &self,
        artifact: &Artifact,
        output: &Output,
        limits: &RunLimits,
    ) -> Result<warm::Warm, RunError> {
        let pre = self.load(artifact)?;
        let mut store = self.store(output, limits);
        let instance = match pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(e) if e.is::<wasmtime::PoolConcurrencyLimitError>() => {
                self.idle.clear();
                pre.instantiate(&mut store)
                    .map_err(|e| RunError::Resources(engine::chain(&e)))?
            }
            Err(e) => {
                return Err(error::explain(
                    &e,
                    store.data().stop.as_ref(),
                    &artifact.debug,
                ))
            }
        };
        warm::Warm::new(store, instance, artifact.id).ok_or_else(|| RunError::NoExport {
            name: weft_compiler::RESET_EXPORT.to_string(),
        })
    }

    fn call_in(
        &self,
        store: &mut Store<State>,
        pre: &InstancePre<State>,
        artifact: &Artifact,
        export: &str,
        arg: Option<i32>,
    ) -> Result<(), RunError> {
        let instance = match pre.instantiate(&mut *store) {
            Ok(instance) => instance,
            Err(e) if e.is::<wasmtime::PoolConcurrencyLimitError>() => {
                return Err(RunError::Resources(engine::chain(&e)))
            }
            Err(e) => {
                return Err(error::explain(
                    &e,
                    store.data().stop.as_ref(),
                    &artifact.debug,
                ))
            }
        };
        let no_export = || RunError::NoExport {
            name: export.to_string(),
        };
        let called = match arg {
            None => instance
                .get_typed_func::<(), ()>(&mut *store, export)
                .map_err(|_| no_export())?
                .call(&mut *store, ()),
            Some(len) => instance
                .get_typed_func::<i32, ()>(&mut *store, export)
                .map_err(|_| no_export())?
                .call(&mut *store, len),
        };
        called.map_err(|e| error::explain(&e, store.data().stop.as_ref(), &artifact.debug))
    }
}

/// The turn a run was given back from its store (where it rode during the run).
fn take_turn(store: &mut Store<State>) -> Box<agents::Turn> {
    store
        .data_mut()
        .turn
        .take()
        .expect("the turn stays in its store")
}
