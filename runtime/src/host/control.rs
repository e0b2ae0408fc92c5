//! `try_call`, `caught_len` and `caught_message`: how `try e` turns a trap inside `e` into
//! a value. The closure is called back through the instance's exported table; a trap
//! unwinds to this host frame, which keeps its message and reports failure. Limits (time,
//! memory) and failures of the host itself are not caught: the run stops as it would have.

use super::{memory, trap, write_bytes};
use crate::error::trap_message;
use crate::state::{State, Stop};
use wasmtime::{Caller, Extern, Linker, Trap, Val, ValType};
use weft_compiler::imports::MODULE;

/// The export the compiler gives its function table.
const TABLE_EXPORT: &str = "table";
/// Where a closure object keeps its function's table slot.
const CLOSURE_CODE_OFFSET: usize = 8;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "try_call", try_call)?;
    linker.func_wrap(MODULE, "caught_len", caught_len)?;
    linker.func_wrap(MODULE, "caught_message", caught_message)?;
    Ok(())
}

/// (closure, out) -> 1 when the closure returned (its result written at out), 0 when it
/// trapped (its message kept).
fn try_call(mut caller: Caller<'_, State>, closure: i32, out: i32) -> wasmtime::Result<i32> {
    let func = closure_func(&mut caller, closure)?;
    let mut results = vec![Val::I32(0); func.ty(&caller).results().len()];
    match func.call(&mut caller, &[Val::I32(closure)], &mut results) {
        Ok(()) => {
            let bytes = match results.first() {
                Some(Val::I32(v)) => v.to_le_bytes().to_vec(),
                Some(Val::I64(v)) => v.to_le_bytes().to_vec(),
                Some(Val::F64(bits)) => bits.to_le_bytes().to_vec(),
                _ => {
                    return Err(trap(
                        &mut caller,
                        "try: the closure returned an unexpected value",
                    ))
                }
            };
            write_bytes(&mut caller, out, &bytes)?;
            Ok(1)
        }
        Err(err) => {
            let message = catchable(&err, caller.data().stop.as_ref()).ok_or(err)?;
            let state = caller.data_mut();
            state.stop = None;
            state.caught = message;
            Ok(0)
        }
    }
}

/// The message of a trap `try` may catch, or `None` for one that must stop the run.
fn catchable(err: &wasmtime::Error, stop: Option<&Stop>) -> Option<String> {
    match err.downcast_ref::<Stop>().or(stop) {
        Some(Stop::Trap(message)) => return Some(message.clone()),
        Some(Stop::MemoryLimit | Stop::TimeLimit) => return None,
        None => {}
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt | Trap::OutOfFuel) | None => None,
        Some(t) => Some(trap_message(*t)),
    }
}

/// The function a closure object calls, from the slot stored in it.
fn closure_func(caller: &mut Caller<'_, State>, closure: i32) -> wasmtime::Result<wasmtime::Func> {
    let mem = memory(caller)?;
    let at = (closure as u32 as usize).saturating_add(CLOSURE_CODE_OFFSET);
    let mut slot = [0u8; 4];
    if mem.read(&*caller, at, &mut slot).is_err() {
        return Err(trap(caller, "try: closure out of bounds"));
    }
    let Some(Extern::Table(table)) = caller.get_export(TABLE_EXPORT) else {
        return Err(trap(caller, "try: the module exports no function table"));
    };
    let func = table
        .get(&mut *caller, u64::from(u32::from_le_bytes(slot)))
        .and_then(|r| r.as_func().flatten().copied());
    match func {
        Some(f) if one_i32_param(&f.ty(&*caller)) => Ok(f),
        _ => Err(trap(caller, "try: not a closure of no arguments")),
    }
}

fn one_i32_param(ty: &wasmtime::FuncType) -> bool {
    let params: Vec<ValType> = ty.params().collect();
    params.len() == 1 && params[0].is_i32()
}

/// () -> the byte length of the last caught message.
fn caught_len(caller: Caller<'_, State>) -> i32 {
    i32::try_from(caller.data().caught.len()).unwrap_or(i32::MAX)
}

/// (ptr): writes the last caught message at ptr.
fn caught_message(mut caller: Caller<'_, State>, ptr: i32) -> wasmtime::Result<()> {
    let message = std::mem::take(&mut caller.data_mut().caught);
    write_bytes(&mut caller, ptr, message.as_bytes())
}
