//! The modules this process's instances run, kept once read: a module's id names its
//! bytes (`/modules/ID` is content-addressed), so a copy kept is never stale, and an
//! instance starting reads the store only for a module no instance here ran yet.

use crate::cli::node_cmd::programs;
use std::sync::{Arc, Mutex, PoisonError};
use weft_compiler::Artifact;
use weft_resources::kinds::Kv;

/// The most modules kept (the least recently used go first).
const MODULES_MAX: usize = 16;

/// Kept modules, the most recently used last.
static KEPT: Mutex<Vec<(String, Arc<Artifact>)>> = Mutex::new(Vec::new());

/// Module `id`, kept or read from the store.
pub fn load(kv: &dyn Kv, id: &str) -> Result<Arc<Artifact>, String> {
    if let Some(found) = take_kept(id) {
        keep(id, found.clone());
        return Ok(found);
    }
    let artifact = Arc::new(programs::load_module(kv, id)?);
    keep(id, artifact.clone());
    Ok(artifact)
}

fn take_kept(id: &str) -> Option<Arc<Artifact>> {
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let at = kept.iter().position(|(k, _)| k == id)?;
    Some(kept.remove(at).1)
}

fn keep(id: &str, artifact: Arc<Artifact>) {
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    kept.retain(|(k, _)| k != id);
    if kept.len() >= MODULES_MAX {
        kept.remove(0);
    }
    kept.push((id.to_string(), artifact));
}
