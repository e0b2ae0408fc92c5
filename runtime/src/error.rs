//! What can go wrong in a run, and how a wasmtime error becomes a Weft stack trace.

use crate::state::Stop;
use std::fmt;
use wasmtime::{FrameInfo, Trap, WasmBacktrace};
use weft_compiler::{DebugInfo, SrcLoc};

/// Why a run did not complete.
///
/// Each variant says whether it is fatal (see [`RunError::is_fatal`]): a fatal error will
/// happen again for the same module whatever is retried; a non-fatal one is about this
/// run only, and the runtime and the module are fine for the next.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program stopped before its export returned: a trap it raised (panic, failed
    /// assertion, overflow), a wasm trap, or a limit (memory, time, stack). Not fatal:
    /// the instance is discarded and the next run starts fresh.
    #[error("error: {message}{}", FramesDisplay(frames))]
    Trap {
        message: String,
        /// Innermost first.
        frames: Vec<Frame>,
    },
    /// The bytes are not a module this engine accepts. Fatal.
    #[error("error: cannot compile the module: {0}")]
    Compile(String),
    /// The module imports something the host does not provide, or with another
    /// signature. Fatal.
    #[error("error: cannot link the module: {0}")]
    Link(String),
    /// The module has no `() -> ()` export of this name. Fatal.
    #[error("error: the module has no export `{name}` of type `() -> ()`")]
    NoExport { name: String },
    /// No instance could be allocated now (the instance pool is full). Not fatal: retry
    /// when other runs have finished.
    #[error("error: cannot allocate an instance: {0}")]
    Resources(String),
    /// The run has a deadline but the runtime was built without interruption checks
    /// (`Settings::interruptible`). Fatal.
    #[error("error: this runtime has no interruption checks, so it cannot enforce a time limit")]
    Unenforceable,
}

impl RunError {
    /// True when retrying the same module cannot succeed.
    pub fn is_fatal(&self) -> bool {
        match self {
            RunError::Trap { .. } | RunError::Resources(_) => false,
            RunError::Compile(_)
            | RunError::Link(_)
            | RunError::NoExport { .. }
            | RunError::Unenforceable => true,
        }
    }

    /// The trap message, if this is a trap.
    pub fn trap_message(&self) -> Option<&str> {
        match self {
            RunError::Trap { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// One frame of a trap's stack, as the program's author knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The Weft function (`fib`, `main::{closure}`), or a wasm name for code that has no
    /// debug information.
    pub function: String,
    pub location: Option<SrcLoc>,
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "at {} ({loc})", self.function),
            None => write!(f, "at {}", self.function),
        }
    }
}

/// A trace longer than this many lines (after collapsing repeats) shows only its first
/// [`FRAMES_HEAD_LINES`] and last [`FRAMES_TAIL_LINES`] lines.
const FRAMES_SHOWN_MAX: usize = 60;
const FRAMES_HEAD_LINES: usize = 40;
const FRAMES_TAIL_LINES: usize = 10;

/// The frames as printed: runs of one frame repeated (recursion) collapse into one line
/// and a count, and a very deep stack keeps only its two ends.
struct FramesDisplay<'a>(&'a [Frame]);

impl fmt::Display for FramesDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<String> = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            let frame = &self.0[i];
            let run = self.0[i..].iter().take_while(|g| *g == frame).count();
            lines.push(format!("{frame}"));
            if run > 1 {
                let s = if run == 2 { "" } else { "s" };
                lines.push(format!("... the frame above, {} more time{s}", run - 1));
            }
            i += run;
        }
        if lines.len() > FRAMES_SHOWN_MAX {
            let omitted = lines.len() - FRAMES_HEAD_LINES - FRAMES_TAIL_LINES;
            let tail = lines.split_off(lines.len() - FRAMES_TAIL_LINES);
            lines.truncate(FRAMES_HEAD_LINES);
            lines.push(format!("... {omitted} more lines of frames"));
            lines.extend(tail);
        }
        for line in lines {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

/// Something that stops the runtime from starting at all.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the configuration, or the host functions could not be defined.
    /// Fatal.
    #[error("cannot start the wasm engine: {0}")]
    Engine(String),
}

/// Turns the error out of an instantiation or a call into a [`RunError::Trap`].
///
/// The message prefers what the host recorded (the `trap` import, a limit), then the wasm
/// trap code, then whatever the error says.
pub(crate) fn explain(err: &wasmtime::Error, stop: Option<&Stop>, debug: &DebugInfo) -> RunError {
    let message = if let Some(stop) = err.downcast_ref::<Stop>().or(stop) {
        stop.to_string()
    } else if let Some(trap) = err.downcast_ref::<Trap>() {
        trap_message(*trap)
    } else {
        format!("{err}")
    };
    let frames = match err.downcast_ref::<WasmBacktrace>() {
        Some(bt) => frames(bt, debug),
        None => Vec::new(),
    };
    RunError::Trap { message, frames }
}

/// The user-facing text for a wasm trap.
pub fn trap_message(trap: Trap) -> String {
    let text = match trap {
        Trap::StackOverflow => "stack overflow",
        Trap::Interrupt => "time limit exceeded",
        Trap::UnreachableCodeReached => "unreachable code reached",
        Trap::IntegerOverflow => "integer overflow",
        Trap::IntegerDivisionByZero => "division by zero",
        Trap::MemoryOutOfBounds => "memory access out of bounds",
        Trap::TableOutOfBounds => "table access out of bounds",
        Trap::IndirectCallToNull => "call through a null function reference",
        Trap::BadSignature => "indirect call type mismatch",
        Trap::BadConversionToInteger => "invalid conversion to integer",
        Trap::AllocationTooLarge => "memory limit exceeded",
        other => return other.to_string(),
    };
    text.to_string()
}

/// The backtrace's frames mapped to Weft functions, innermost first.
///
/// A wasm frame stands for one Weft frame per call the compiler inlined around the
/// instruction, then its own function's (see `DebugInfo::frames`). Frames of functions
/// without any source position in the debug info (the compiler's runtime helpers and
/// export wrappers) are left out, unless nothing else is left, and then they keep their
/// wasm names.
fn frames(bt: &WasmBacktrace, debug: &DebugInfo) -> Vec<Frame> {
    let wasm = bt.frames();
    let all: Vec<(bool, Vec<Frame>)> = wasm.iter().map(|f| map_frame(f, debug)).collect();
    let mut out: Vec<Frame> = if all.iter().all(|(helper, _)| *helper) {
        all.into_iter().flat_map(|(_, frames)| frames).collect()
    } else {
        all.into_iter()
            .filter(|(helper, _)| !helper)
            .flat_map(|(_, frames)| frames)
            .collect()
    };
    if wasm.last().is_some_and(|f| is_weft(f, debug)) {
        // The backtrace was cut off (by `Settings::backtrace_frames_max`): a whole one
        // ends in the wrapper the host called. Keep as many frames as it recorded, so the
        // limit means the same whatever the compiler inlined.
        out.truncate(wasm.len());
    }
    out
}

/// Whether a wasm frame is in a Weft function (one with source positions).
fn is_weft(frame: &FrameInfo, debug: &DebugInfo) -> bool {
    debug
        .funcs
        .get(&frame.func_index())
        .is_some_and(|f| !f.locs.is_empty())
}

/// The Weft frames of one wasm frame, and whether it is in a helper without source
/// positions.
fn map_frame(frame: &FrameInfo, debug: &DebugInfo) -> (bool, Vec<Frame>) {
    let index = frame.func_index();
    let offset = frame.func_offset().and_then(|o| u32::try_from(o).ok());
    let frames = match debug.frames(index, offset) {
        Some(frames) => frames
            .into_iter()
            .map(|(name, loc)| Frame {
                function: name.to_string(),
                location: loc.cloned(),
            })
            .collect(),
        None => vec![Frame {
            function: match frame.func_name() {
                Some(name) => name.to_string(),
                None => format!("<wasm function {index}>"),
            },
            location: None,
        }],
    };
    (!is_weft(frame, debug), frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_display() {
        let loc = |line, col| {
            Some(SrcLoc {
                file: "examples/fib.weft".into(),
                line,
                col,
            })
        };
        let err = RunError::Trap {
            message: "integer overflow".into(),
            frames: vec![
                Frame {
                    function: "fib".into(),
                    location: loc(4, 12),
                },
                Frame {
                    function: "main".into(),
                    location: loc(9, 3),
                },
                Frame {
                    function: "rt::start".into(),
                    location: None,
                },
            ],
        };
        assert_eq!(
            err.to_string(),
            "error: integer overflow\n  at fib (examples/fib.weft:4:12)\n  \
             at main (examples/fib.weft:9:3)\n  at rt::start"
        );
        assert!(!err.is_fatal());
        assert!(RunError::NoExport {
            name: "main".into()
        }
        .is_fatal());
    }

    #[test]
    fn recursion_collapses_and_deep_stacks_keep_their_ends() {
        let at = |function: &str, line| Frame {
            function: function.into(),
            location: Some(SrcLoc {
                file: "a.weft".into(),
                line,
                col: 1,
            }),
        };
        let mut frames = vec![at("down", 2); 5000];
        frames.push(at("main", 9));
        let err = RunError::Trap {
            message: "stack overflow".into(),
            frames,
        };
        assert_eq!(
            err.to_string(),
            "error: stack overflow\n  at down (a.weft:2:1)\n  ... the frame above, 4999 more times\n  \
             at main (a.weft:9:1)"
        );
        let frames: Vec<Frame> = (0..100)
            .map(|i| at(if i % 2 == 0 { "a" } else { "b" }, i))
            .collect();
        let text = RunError::Trap {
            message: "m".into(),
            frames,
        }
        .to_string();
        assert_eq!(text.lines().count(), 1 + 40 + 1 + 10);
        assert!(text.contains("\n  ... 50 more lines of frames\n  at a (a.weft:90:1)"));
        assert!(text.ends_with("at b (a.weft:99:1)"));
    }
}
