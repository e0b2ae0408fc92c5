//! Every program under `examples/` passes its own `test` blocks, and those with a
//! `fn main()` run to completion.

use crate::data::{cases, limits, runtime};
use weft::{cli, Exit, Io};

#[test]
fn examples_pass_their_tests_and_run() {
    let mut failures = Vec::new();
    for path in cases("examples") {
        let file = path.to_string_lossy().replace('\\', "/");
        let io = Io::buffers();
        if cli::test::test(&file, runtime(), &limits(), &io) != Exit::Success {
            failures.push(format!(
                "--- weft test {file}\n{}{}",
                io.out.take(),
                io.err.take()
            ));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("fn main()") {
            let io = Io::buffers();
            if cli::run::run(&file, runtime(), &limits(), &io) != Exit::Success {
                failures.push(format!("--- weft run {file}\n{}", io.err.take()));
            }
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} example(s) failed", failures.len());
}
