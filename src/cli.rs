//! The subcommands, one file each under `cli/`, and the steps they share: read a file,
//! check it (printing diagnostics), compile it, start a runtime.
//!
//! Every step prints its own error to `io.err` and returns the [`Exit`] to end with, so a
//! subcommand is a straight line of `?`s.

pub mod build;
pub mod call;
pub mod check;
pub mod client;
pub mod cluster;
pub mod delete;
pub mod deploy;
pub mod describe;
pub mod destroy;
pub mod get;
pub mod link;
pub mod node;
pub mod node_cmd;
pub mod patch;
pub mod repl;
pub mod rollout;
pub mod run;
pub mod secret;
pub mod store_cmd;
pub mod test;

use crate::loader::FsLoader;
use crate::{Exit, Io};
use weft_compiler::Artifact;
use weft_lang::source::SourceMap;
use weft_lang::tir::Program;
use weft_runtime::{RunLimits, Runtime, Settings};

/// A program that passed the front end, and the files it came from.
pub struct Checked {
    pub sources: SourceMap,
    pub program: Program,
}

/// The text of `file`, or "error: cannot read FILE: reason".
pub fn read(file: &str, io: &Io) -> Result<String, Exit> {
    let bytes = std::fs::read(file).map_err(|e| {
        io.error(&format!("error: cannot read {file}: {e}\n"));
        Exit::Error
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let good = &e.as_bytes()[..at];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = good.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        io.error(&format!(
            "error: {file}:{line}:{col}: not UTF-8 text (byte {at} is 0x{:02x})\n",
            e.as_bytes()[at]
        ));
        Exit::Error
    })
}

/// Reads and checks `file` and the files it uses, printing every diagnostic (warnings
/// too); fails when any is an error.
pub fn check(file: &str, io: &Io) -> Result<Checked, Exit> {
    let text = read(file, io)?;
    let front = weft_lang::check_file(file, &text, &FsLoader);
    if !front.diagnostics.is_empty() {
        io.error(&weft_lang::diagnostic::render_all(
            &front.diagnostics,
            &front.sources,
        ));
    }
    if front.has_errors() {
        return Err(Exit::Error);
    }
    match front.program {
        Some(program) => Ok(Checked {
            sources: front.sources,
            program,
        }),
        None => {
            io.error(&format!(
                "error: {file}: the checker reported no error but gave no program\n"
            ));
            Err(Exit::Error)
        }
    }
}

/// Compiles a checked program.
pub fn compile(checked: &Checked, io: &Io) -> Result<Artifact, Exit> {
    weft_compiler::compile(&checked.program, &checked.sources).map_err(|e| {
        io.error(&format!("error: {e}\n"));
        Exit::Error
    })
}

/// A runtime for one command: a small instance pool (runs happen one at a time) and
/// the on-disk code cache when `WEFT_CACHE_DIR` names one. Code carries interruption
/// checks only when there is a time limit to enforce (they cost 10-20% in tight loops).
pub fn runtime(limits: &RunLimits, io: &Io) -> Result<Runtime, Exit> {
    let settings = Settings {
        limits: limits.clone(),
        interruptible: limits.deadline_ms.is_some(),
        instances_max: 4,
        cache_dir: std::env::var_os("WEFT_CACHE_DIR")
            .filter(|d| !d.is_empty())
            .map(Into::into),
        ..Settings::default()
    };
    Runtime::new(settings).map_err(|e| {
        io.error(&format!("error: {e}\n"));
        Exit::Error
    })
}

/// Run limits from the command line's `--time-limit-ms` and `--memory-limit-mib`.
pub fn limits(time_limit_ms: Option<u64>, memory_limit_mib: u64) -> RunLimits {
    let memory_max_bytes =
        usize::try_from(memory_limit_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
    RunLimits {
        memory_max_bytes,
        deadline_ms: time_limit_ms,
        ..RunLimits::default()
    }
}

/// Indents every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let mut out = String::new();
    for line in text.lines() {
        out.push_str(&pad);
        out.push_str(line);
        out.push('\n');
    }
    out
}
