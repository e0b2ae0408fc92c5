//! `now_ms` and `sleep`: the clock, and waiting within the run's deadline.

use crate::state::{State, Stop};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime::{Caller, Linker};
use weft_compiler::imports::MODULE;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "now_ms", now_ms)?;
    linker.func_wrap(MODULE, "sleep", sleep)?;
    Ok(())
}

/// (): milliseconds since the Unix epoch (negative before it).
fn now_ms(mut caller: Caller<'_, State>) -> wasmtime::Result<i64> {
    super::granted(&mut caller, "clock")?;
    Ok(match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    })
}

/// (nanos): waits; a wait past the run's deadline waits until the deadline, then stops
/// the run with "time limit exceeded" (epoch interruption cannot reach host code).
fn sleep(mut caller: Caller<'_, State>, nanos: i64) -> wasmtime::Result<()> {
    super::granted(&mut caller, "sleep")?;
    let wanted = Duration::from_nanos(u64::try_from(nanos).unwrap_or(0));
    let Some(deadline) = caller.data().deadline else {
        std::thread::sleep(wanted);
        return Ok(());
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if wanted < left {
        std::thread::sleep(wanted);
        return Ok(());
    }
    std::thread::sleep(left);
    Err(caller.data_mut().stop(Stop::TimeLimit))
}
