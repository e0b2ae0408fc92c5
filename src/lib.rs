//! The `weft` command's logic as a library: each subcommand is a function that writes to
//! an [`Io`] and returns an [`Exit`], so the binary (`main.rs`) and the test harness
//! (`tests/all`) run exactly the same code, the harness without spawning processes.
//!
//! It does not parse, check or compile Weft itself (that is `weft-lang` and
//! `weft-compiler`) nor run wasm (`weft-runtime`); it reads files, wires those crates
//! together and decides what the user sees and the exit code.

pub mod cli;
pub mod loader;

use weft_runtime::Output;

/// Where a command's output goes: `out` gets the program's `print`s and the command's
/// results, `err` gets diagnostics, traps and failures.
#[derive(Clone, Debug)]
pub struct Io {
    pub out: Output,
    pub err: Output,
}

impl Io {
    /// The process's stdout and stderr.
    pub fn std() -> Io {
        Io {
            out: Output::stdout(),
            err: Output::stderr(),
        }
    }

    /// Two in-memory buffers (read them with [`Output::take`]).
    pub fn buffers() -> Io {
        Io {
            out: Output::buffer(),
            err: Output::buffer(),
        }
    }

    /// Writes text to `err`. A failure to write an error message has nowhere to be
    /// reported, so it is dropped.
    pub fn error(&self, text: &str) {
        let _ = self.err.write_str(text);
    }

    /// Writes a line to `out`, dropping write failures like [`Io::error`].
    pub fn say(&self, line: &str) {
        let _ = self.out.line(line);
    }
}

/// How a command ended; the process exit code is the discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything worked (and every test passed).
    Success = 0,
    /// The program ran and failed: it trapped, or a test failed.
    Failure = 1,
    /// The program could not be run: unreadable file, diagnostics, compile error.
    Error = 2,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}
