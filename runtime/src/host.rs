//! The host functions a module imports (module `weft`), one namespace per file, each with
//! its own `register`. The list and the signatures come from `weft_compiler::imports`; a
//! test checks that what is linked here matches it exactly.

pub mod agents;
pub mod control;
pub mod io;
pub mod math;
pub mod resources;
pub mod text;
pub mod time;

use crate::state::{State, Stop};
use wasmtime::{Caller, Engine, Extern, Linker, Memory};

/// A linker with every namespace registered.
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    agents::register(&mut linker)?;
    resources::register(&mut linker)?;
    control::register(&mut linker)?;
    io::register(&mut linker)?;
    text::register(&mut linker)?;
    math::register(&mut linker)?;
    time::register(&mut linker)?;
    Ok(linker)
}

/// The caller's exported linear memory (`memory`), looked up once per store.
fn memory(caller: &mut Caller<'_, State>) -> wasmtime::Result<Memory> {
    if let Some(m) = caller.data().memory {
        return Ok(m);
    }
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            caller.data_mut().memory = Some(m);
            Ok(m)
        }
        _ => Err(trap(caller, "the module exports no memory named `memory`")),
    }
}

/// Goes on when the run may use capability `name` (one of `tir::CAPABILITIES`): a run
/// without a node, or on a node not restricted, may use every one.
fn granted(caller: &mut Caller<'_, State>, name: &str) -> wasmtime::Result<()> {
    use weft_lang::tir::CAPABILITIES;
    let mask = caller
        .data()
        .turn
        .as_ref()
        .and_then(|t| t.node.settings().capabilities);
    let bit = CAPABILITIES.iter().position(|c| *c == name).unwrap_or(0);
    match mask {
        Some(m) if m & (1 << bit) == 0 => {
            let have: Vec<String> = CAPABILITIES
                .iter()
                .enumerate()
                .filter(|(i, _)| m & (1 << i) != 0)
                .map(|(_, c)| format!("\"{c}\""))
                .collect();
            Err(trap(
                caller,
                &format!(
                    "this code was not granted the `{name}` capability (it has: [{}])",
                    have.join(", ")
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Stops the run with `message` (a bug in the module or the host, not in the program).
fn trap(caller: &mut Caller<'_, State>, message: &str) -> wasmtime::Error {
    caller.data_mut().stop(Stop::Trap(message.to_string()))
}

/// A copy of `len` bytes at `ptr` of the caller's memory.
fn read_bytes(caller: &mut Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    let mem = memory(caller)?;
    let data = mem.data(&*caller);
    match range(ptr, len, data.len()) {
        Some(r) => Ok(data[r].to_vec()),
        None => Err(trap(caller, "memory access out of bounds")),
    }
}

/// Writes `bytes` at `ptr` of the caller's memory.
fn write_bytes(caller: &mut Caller<'_, State>, ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    let mem = memory(caller)?;
    let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    let data = mem.data_mut(&mut *caller);
    match range(ptr, len, data.len()) {
        Some(r) => {
            data[r].copy_from_slice(bytes);
            Ok(())
        }
        None => Err(trap(caller, "memory access out of bounds")),
    }
}

/// `ptr..ptr+len` as a range within a memory of `size` bytes; pointers are unsigned.
fn range(ptr: i32, len: i32, size: usize) -> Option<std::ops::Range<usize>> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize)?;
    (end <= size).then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges_are_checked() {
        assert_eq!(range(0, 4, 4), Some(0..4));
        assert_eq!(range(1, 4, 4), None);
        assert_eq!(range(-1, 1, 4), None);
        assert_eq!(range(0, -1, 4), None);
        assert_eq!(range(4, 0, 4), Some(4..4));
    }
}
