//! `fmath` and `random`: the float functions wasm has no instruction for.

use super::trap;
use crate::state::State;
use wasmtime::{Caller, Linker};
use weft_compiler::imports::MODULE;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "fmath", fmath)?;
    linker.func_wrap(MODULE, "random", random)?;
    Ok(())
}

/// (op, a, b): 0 pow, 1 sin, 2 cos, 3 tan, 4 atan2, 5 exp, 6 ln (b unused for unary ops).
fn fmath(mut caller: Caller<'_, State>, op: i32, a: f64, b: f64) -> wasmtime::Result<f64> {
    match apply(op, a, b) {
        Some(x) => Ok(x),
        None => Err(trap(&mut caller, &format!("unknown float operation {op}"))),
    }
}

/// The operation `op` of `fmath`, or `None` for an unknown op.
pub fn apply(op: i32, a: f64, b: f64) -> Option<f64> {
    Some(match op {
        0 => a.powf(b),
        1 => a.sin(),
        2 => a.cos(),
        3 => a.tan(),
        4 => a.atan2(b),
        5 => a.exp(),
        6 => a.ln(),
        _ => return None,
    })
}

/// (): a uniform Float in [0, 1).
fn random(mut caller: Caller<'_, State>) -> f64 {
    unit_float(caller.data_mut().next_u64())
}

/// The top 53 bits of `bits` as a Float in [0, 1).
pub fn unit_float(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops() {
        assert_eq!(apply(0, 2.0, 10.0), Some(1024.0));
        assert_eq!(apply(4, 1.0, 1.0), Some(std::f64::consts::FRAC_PI_4));
        assert_eq!(apply(6, 1.0, 0.0), Some(0.0));
        assert_eq!(apply(7, 1.0, 0.0), None);
        assert_eq!(apply(-1, 1.0, 0.0), None);
    }

    #[test]
    fn unit_floats_stay_below_one() {
        assert_eq!(unit_float(0), 0.0);
        assert!(unit_float(u64::MAX) < 1.0);
    }
}
