//! `weft test FILE`: runs every `test` block in a fresh instance of its own and reports
//! each as cargo does, then `N passed, M failed`. A passing test's output is hidden; a
//! failing one's is shown under it with the trap.

use super::node::{self, DataDir};
use crate::{Exit, Io};
use weft_runtime::{Output, RunLimits, Runtime};

/// A test that runs longer than this fails, unless `--time-limit-ms` says otherwise.
pub const TEST_TIME_LIMIT_MS: u64 = 10_000;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program whose tests to run.
    pub file: String,
    /// Fail a test that runs longer than this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = TEST_TIME_LIMIT_MS)]
    pub time_limit_ms: u64,
    /// The most memory each test may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory_limit_mib: u64,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let limits = super::limits(Some(args.time_limit_ms), args.memory_limit_mib);
    match super::runtime(&limits, io) {
        Ok(rt) => test(&args.file, &rt, &limits, io),
        Err(exit) => exit,
    }
}

/// Runs every test of `file` on `rt`, reporting to `io.out`.
pub fn test(file: &str, rt: &Runtime, limits: &RunLimits, io: &Io) -> Exit {
    let artifact = match super::check(file, io).and_then(|c| super::compile(&c, io)) {
        Ok(artifact) => artifact,
        Err(exit) => return exit,
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    for t in &artifact.tests {
        let output = Output::buffer();
        let r = if artifact.manifest.agents.is_empty() {
            rt.run_with(&artifact, &t.export, &output, limits)
        } else {
            run_on_node(&artifact, &t.export, &output, limits)
        };
        match r {
            Ok(()) => {
                passed += 1;
                io.say(&format!("test {} ... ok", t.name));
            }
            Err(e) => {
                failed += 1;
                io.say(&format!("test {} ... FAILED", t.name));
                let printed = output.take();
                let mut details = String::new();
                if !printed.is_empty() {
                    details.push_str("  output:\n");
                    details.push_str(&super::indent(&printed, 4));
                }
                details.push_str(&super::indent(&e.to_string(), 2));
                let _ = io.out.write_str(&details);
            }
        }
    }
    io.say(&format!("{passed} passed, {failed} failed"));
    if failed > 0 {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// Runs one test of a program with agents on a node of its own, with fresh lanes in a
/// temporary directory; what its agents report goes to the test's output.
fn run_on_node(
    artifact: &weft_compiler::Artifact,
    export: &str,
    output: &Output,
    limits: &RunLimits,
) -> Result<(), weft_runtime::RunError> {
    let data = DataDir::given_or_temporary(None);
    let io = Io {
        out: output.clone(),
        err: output.clone(),
    };
    let turn_limits = node::turn_limits(1000, limits);
    let Ok(node) = node::start(artifact, &data, turn_limits, limits, "test", &io, |_| {}) else {
        return Err(weft_runtime::RunError::Resources(output.take()));
    };
    let r = node.run_main(export, limits);
    node.stop(std::time::Duration::from_secs(10));
    r
}
