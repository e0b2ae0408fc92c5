//! Warm instances for agent turns. A fresh instance per turn costs more than a short turn
//! itself (instantiation, then resetting the memory slot), so an instance whose turn
//! ended normally is put back by calling the module's `weft.reset` export, which forgets
//! every allocation, and runs the next turn of the same module. A turn that trapped
//! drops its instance: its memory may be in any state.
//!
//! What a warm instance keeps: its memory's size and old bytes (dead blocks; generated
//! code never reads a block before writing it) and the static objects' reference counts,
//! which never reach a value that matters. Turns hand every value they keep to the host,
//! so no state of one turn is seen by the next. Instances are kept per module, at most
//! `max` of them (each holds a slot of the engine's pool).

use crate::state::State;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use wasmtime::{Instance, Store, TypedFunc};
use weft_compiler::ModuleId;

/// An instance between turns, with the entries it has been asked for.
pub(crate) struct Warm {
    pub store: Store<State>,
    pub instance: Instance,
    pub module: ModuleId,
    entries: HashMap<String, TypedFunc<i32, ()>>,
    pub reset: TypedFunc<(), ()>,
}

impl Warm {
    pub fn new(store: Store<State>, instance: Instance, module: ModuleId) -> Option<Warm> {
        let mut store = store;
        let reset = instance
            .get_typed_func::<(), ()>(&mut store, weft_compiler::RESET_EXPORT)
            .ok()?;
        Some(Warm {
            store,
            instance,
            module,
            entries: HashMap::new(),
            reset,
        })
    }

    /// The agent entry `export` (`(args_len) -> ()`), looked up once.
    pub fn entry(&mut self, export: &str) -> Option<TypedFunc<i32, ()>> {
        if let Some(f) = self.entries.get(export) {
            return Some(f.clone());
        }
        let f = self
            .instance
            .get_typed_func::<i32, ()>(&mut self.store, export)
            .ok()?;
        self.entries.insert(export.to_string(), f.clone());
        Some(f)
    }
}

/// The idle warm instances of a runtime.
pub(crate) struct Idle {
    list: Mutex<Vec<Warm>>,
    max: usize,
}

impl Idle {
    pub fn new(max: usize) -> Idle {
        Idle {
            list: Mutex::new(Vec::new()),
            max,
        }
    }

    /// An idle instance of `module`, if one is kept.
    pub fn take(&self, module: &ModuleId) -> Option<Warm> {
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        let at = list.iter().rposition(|w| &w.module == module)?;
        Some(list.swap_remove(at))
    }

    /// Keeps `warm` for a later turn, unless enough are kept already.
    pub fn put(&self, warm: Warm) {
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        if list.len() < self.max {
            list.push(warm);
        }
    }

    /// Drops every idle instance (their pool slots are wanted).
    pub fn clear(&self) {
        let drained: Vec<Warm> =
            std::mem::take(&mut *self.list.lock().unwrap_or_else(PoisonError::into_inner));
        drop(drained);
    }
}
