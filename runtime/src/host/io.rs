//! `print` and `trap`: the program's output and its way to stop with a message.

use super::{read_bytes, trap};
use crate::state::{State, Stop};
use wasmtime::{Caller, Linker};
use weft_compiler::imports::MODULE;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "print", print)?;
    linker.func_wrap(MODULE, "trap", trap_import)?;
    Ok(())
}

/// (ptr, len): writes the UTF-8 bytes and a newline to the run's output.
fn print(mut caller: Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    super::granted(&mut caller, "print")?;
    let mut bytes = read_bytes(&mut caller, ptr, len)?;
    bytes.push(b'\n');
    if let Err(e) = caller.data().output.write_bytes(&bytes) {
        return Err(trap(&mut caller, &format!("cannot write output: {e}")));
    }
    Ok(())
}

/// (ptr, len): stops the run with this message; never returns.
fn trap_import(mut caller: Caller<'_, State>, ptr: i32, len: i32) -> wasmtime::Result<()> {
    let message = match read_bytes(&mut caller, ptr, len) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return Err(e),
    };
    Err(caller.data_mut().stop(Stop::Trap(message)))
}
