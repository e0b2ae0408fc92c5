//! Compiled modules by content address: in memory (bounded, oldest evicted first) and,
//! when a cache directory is set, as serialized native code on disk.

use crate::state::State;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use wasmtime::{Engine, InstancePre, Module};
use weft_compiler::ModuleId;

pub(crate) struct ModuleCache {
    entries: Mutex<Entries>,
    /// The most modules kept in memory.
    modules_max: usize,
    dir: Option<PathBuf>,
}

#[derive(Default)]
struct Entries {
    by_id: HashMap<ModuleId, InstancePre<State>>,
    /// Insertion order, for eviction.
    order: VecDeque<ModuleId>,
}

impl ModuleCache {
    pub(crate) fn new(modules_max: usize, dir: Option<PathBuf>) -> ModuleCache {
        ModuleCache {
            entries: Mutex::default(),
            modules_max: modules_max.max(1),
            dir,
        }
    }

    pub(crate) fn get(&self, id: &ModuleId) -> Option<InstancePre<State>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.by_id.get(id).cloned()
    }

    pub(crate) fn insert(&self, id: ModuleId, pre: InstancePre<State>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.by_id.contains_key(&id) {
            return;
        }
        while entries.by_id.len() >= self.modules_max {
            let Some(old) = entries.order.pop_front() else {
                break;
            };
            entries.by_id.remove(&old);
        }
        entries.by_id.insert(id, pre);
        entries.order.push_back(id);
        debug_assert_eq!(entries.by_id.len(), entries.order.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .len()
    }

    /// The module from the disk cache, or compiled from `wasm` (and then stored there).
    /// The disk cache is best effort: any failure to read or write it falls back to
    /// compiling.
    pub(crate) fn compile(
        &self,
        engine: &Engine,
        id: &ModuleId,
        wasm: &[u8],
    ) -> wasmtime::Result<Module> {
        let Some(dir) = &self.dir else {
            return Module::new(engine, wasm);
        };
        let path = dir.join(format!("{id}.cwasm"));
        if path.is_file() {
            // SAFETY: files named `<id>.cwasm` in this directory are written only by
            // `store` below, from `Module::serialize`, and renamed into place whole;
            // wasmtime itself rejects one made by another version or configuration.
            if let Ok(module) = unsafe { Module::deserialize_file(engine, &path) } {
                return Ok(module);
            }
        }
        let module = Module::new(engine, wasm)?;
        store(&module, dir, &path);
        Ok(module)
    }
}

fn store(module: &Module, dir: &Path, path: &Path) {
    let Ok(bytes) = module.serialize() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
