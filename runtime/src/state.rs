//! The host state of one run (`Store<State>`): its output, its limits and why it stopped.
//! It lives as long as the run's store; a warm instance's state is made new for each
//! turn (`begin`), so nothing but the random generator's position carries over.

use crate::output::Output;
use std::fmt;
use std::time::Instant;
use wasmtime::ResourceLimiter;

/// Limits applied to one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// The most linear memory the instance may have, in bytes.
    pub memory_max_bytes: usize,
    /// The most elements any table may have.
    pub table_elements_max: usize,
    /// Wall-clock time the call may take, in milliseconds; `None` runs until done.
    pub deadline_ms: Option<u64>,
}

impl Default for RunLimits {
    fn default() -> RunLimits {
        RunLimits {
            memory_max_bytes: 256 << 20,
            table_elements_max: 100_000,
            deadline_ms: None,
        }
    }
}

/// Why the host stopped a run: carried as the error out of a host function or the
/// limiter, and found again by downcasting when the run's error is explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The program called the `trap` import (a panic, a failed assertion, an overflow...).
    Trap(String),
    /// A memory or table wanted to grow past its limit.
    MemoryLimit,
    /// The deadline passed while the host was waiting (in `sleep`).
    TimeLimit,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Trap(message) => f.write_str(message),
            Stop::MemoryLimit => f.write_str("memory limit exceeded"),
            Stop::TimeLimit => f.write_str("time limit exceeded"),
        }
    }
}

impl std::error::Error for Stop {}

/// A run's store data. Opaque outside the crate; made by [`crate::Runtime::store`].
pub struct State {
    pub(crate) output: Output,
    pub(crate) limits: RunLimits,
    /// When the run must end, for host functions that wait.
    pub(crate) deadline: Option<Instant>,
    /// The first reason the host gave for stopping, in case wasmtime wraps the error.
    pub(crate) stop: Option<Stop>,
    /// The message of the last trap `try` caught, until the program reads it.
    pub(crate) caught: String,
    /// The agent turn (or `main`) this run belongs to, when it runs on a node.
    pub(crate) turn: Option<Box<crate::agents::Turn>>,
    /// The instance's memory, once a host function has looked it up.
    pub(crate) memory: Option<wasmtime::Memory>,
    rng: u64,
}

impl State {
    pub(crate) fn new(output: Output, limits: RunLimits) -> State {
        let deadline = deadline(&limits);
        State {
            output,
            limits,
            deadline,
            stop: None,
            caught: String::new(),
            turn: None,
            memory: None,
            rng: seed(),
        }
    }

    /// Records why the run stops and returns the error to hand back to wasmtime.
    /// Makes a kept state (a warm instance's) new for another run: its output, limits and
    /// deadline, nothing stopped or caught.
    pub(crate) fn begin(&mut self, output: &Output, limits: &RunLimits) {
        self.output = output.clone();
        self.limits = limits.clone();
        self.deadline = deadline(limits);
        self.stop = None;
        self.caught.clear();
    }

    pub(crate) fn stop(&mut self, stop: Stop) -> wasmtime::Error {
        if self.stop.is_none() {
            self.stop = Some(stop.clone());
        }
        wasmtime::Error::new(stop)
    }

    /// The next number of a splitmix64 sequence.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// When a run under `limits` started now must stop.
fn deadline(limits: &RunLimits) -> Option<Instant> {
    limits
        .deadline_ms
        .and_then(|ms| Instant::now().checked_add(std::time::Duration::from_millis(ms)))
}

/// A seed that differs between runs: std's per-process random hasher keys plus the clock.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(nanos);
    h.finish()
}

impl ResourceLimiter for State {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.memory_max_bytes {
            return Err(self.stop(Stop::MemoryLimit));
        }
        Ok(true)
    }

    /// A growth the pooling allocator refused (its slots are smaller than this run's
    /// limit) is the same failure as one the limit refused: a trap, not a `-1`.
    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(self.stop(Stop::MemoryLimit))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.table_elements_max {
            return Err(self.stop(Stop::MemoryLimit));
        }
        Ok(true)
    }
}
