//! `weft run FILE`: checks, compiles and runs `fn main()`; a trap prints its stack trace
//! and exits 1.

use crate::{Exit, Io};
use weft_runtime::{RunError, RunLimits, Runtime};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program to run.
    pub file: String,
    /// Stop `main` after this many milliseconds (default: no limit).
    #[arg(long, value_name = "MS")]
    pub time_limit_ms: Option<u64>,
    /// The most memory the program may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory_limit_mib: u64,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let limits = super::limits(args.time_limit_ms, args.memory_limit_mib);
    match super::runtime(&limits, io) {
        Ok(rt) => run(&args.file, &rt, &limits, io),
        Err(exit) => exit,
    }
}

/// Runs `file`'s `main` on `rt`, its prints going to `io.out`.
pub fn run(file: &str, rt: &Runtime, limits: &RunLimits, io: &Io) -> Exit {
    let checked = match super::check(file, io) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    if checked.program.main.is_none() {
        io.error(&format!("error: {file} has no `fn main()`\n"));
        return Exit::Error;
    }
    let artifact = match super::compile(&checked, io) {
        Ok(artifact) => artifact,
        Err(exit) => return exit,
    };
    let Some(main) = &artifact.main_export else {
        io.error(&format!("error: {file} has no `fn main()`\n"));
        return Exit::Error;
    };
    match rt.run_with(&artifact, main, &io.out, limits) {
        Ok(()) => Exit::Success,
        Err(e) => {
            io.error(&format!("{e}\n"));
            exit_for(&e)
        }
    }
}

/// A trap is the program failing (1); anything else means it could not run (2).
pub fn exit_for(e: &RunError) -> Exit {
    match e {
        RunError::Trap { .. } => Exit::Failure,
        _ => Exit::Error,
    }
}
