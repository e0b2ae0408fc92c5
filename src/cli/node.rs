//! What `weft run` and `weft test` share for programs with agents: an interruptible
//! runtime (turns have a time limit), a data directory (the one given, or a temporary one
//! removed afterwards) and the node hosting the agents.

use crate::{Exit, Io};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use weft_compiler::Artifact;
use weft_runtime::agents::{Node, NodeSettings};
use weft_runtime::{RunLimits, Runtime, Settings};

/// How many instances may run at once on a node: a chain of synchronous calls holds one
/// per agent in it.
const NODE_INSTANCES_MAX: u32 = 256;

/// A directory that is removed when dropped (unless it was given by the user).
pub struct DataDir {
    pub path: PathBuf,
    temporary: bool,
}

impl DataDir {
    pub fn given_or_temporary(given: Option<&Path>) -> DataDir {
        match given {
            Some(p) => DataDir {
                path: p.to_path_buf(),
                temporary: false,
            },
            None => {
                static N: AtomicU64 = AtomicU64::new(0);
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                let name = format!(
                    "weft-data-{}-{}-{nanos}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                );
                DataDir {
                    path: std::env::temp_dir().join(name),
                    temporary: true,
                }
            }
        }
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The per-turn limits from the command line.
pub fn turn_limits(turn_time_limit_ms: u64, memory: &RunLimits) -> RunLimits {
    RunLimits {
        deadline_ms: Some(turn_time_limit_ms.max(1)),
        ..memory.clone()
    }
}

/// The program's name: its file's stem (`examples/chat.weft` is `chat`).
pub fn program_name(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "main".into())
}

/// The runtime of a node: interruptible (turns have a time limit), with room for
/// [`NODE_INSTANCES_MAX`] instances, each with at most `turn_limits`' memory.
pub fn runtime(turn_limits: &RunLimits) -> Result<Runtime, weft_runtime::RuntimeError> {
    Runtime::new(Settings {
        limits: turn_limits.clone(),
        interruptible: true,
        instances_max: NODE_INSTANCES_MAX,
        cache_dir: std::env::var_os("WEFT_CACHE_DIR")
            .filter(|d| !d.is_empty())
            .map(Into::into),
        ..Settings::default()
    })
}

/// A node for `artifact` (program `program`) with its own interruptible runtime; `main`
/// runs under `main_limits` when a patch runs it again, and `tune` changes the node's
/// other settings (its bounds) first.
pub fn start(
    artifact: &Artifact,
    data: &DataDir,
    turn_limits: RunLimits,
    main_limits: &RunLimits,
    program: &str,
    io: &Io,
    tune: impl FnOnce(&mut NodeSettings),
) -> Result<Node, Exit> {
    let rt = runtime(&turn_limits).map_err(|e| {
        io.error(&format!("error: {e}\n"));
        Exit::Error
    })?;
    let mut ns = NodeSettings::new(data.path.clone());
    ns.turn_limits = turn_limits;
    ns.main_limits = main_limits.clone();
    ns.program = program.to_string();
    tune(&mut ns);
    Ok(Node::new(
        Arc::new(rt),
        Arc::new(artifact.clone()),
        io.out.clone(),
        io.err.clone(),
        ns,
    ))
}
