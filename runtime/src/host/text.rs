//! Float formatting and parsing, done by the host so every module prints floats the same
//! way without carrying a float printer of its own.

use super::{read_bytes, write_bytes};
use crate::state::State;
use wasmtime::{Caller, Linker};
use weft_compiler::imports::MODULE;

/// The most bytes [`float_to_string`] can produce ("-2.2250738585072014e-308" is 24).
pub const FLOAT_TEXT_MAX: usize = 32;

pub fn register(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.func_wrap(MODULE, "float_to_string", float_to_string_import)?;
    linker.func_wrap(MODULE, "float_to_fixed", float_to_fixed_import)?;
    linker.func_wrap(MODULE, "parse_float", parse_float_import)?;
    Ok(())
}

/// The shortest text that reads back as `x`, with `.0` on integral values in plain
/// notation: `2.0`, `0.1`, `1e21`, `1e-7`, `NaN`, `inf`, `-inf`, `-0.0`.
pub fn float_to_string(x: f64) -> String {
    // Rust's Debug output is exactly this: shortest round-trip digits, plain notation
    // for 1e-5 <= |x| < 1e16, scientific otherwise.
    let text = format!("{x:?}");
    debug_assert!(text.len() <= FLOAT_TEXT_MAX);
    text
}

/// `x` with `digits` decimals (a negative count is taken as 0), rounded as Rust rounds.
pub fn float_to_fixed(x: f64, digits: usize) -> String {
    format!("{x:.digits$}")
}

/// A Float from text as Rust reads it (`1.5`, `-2`, `1e9`, `inf`, `NaN`), or `None`.
pub fn parse_float(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

/// (x, out): writes the text to out (at least 32 bytes free); returns its length.
fn float_to_string_import(
    mut caller: Caller<'_, State>,
    x: f64,
    out: i32,
) -> wasmtime::Result<i32> {
    let text = float_to_string(x);
    write_bytes(&mut caller, out, text.as_bytes())?;
    Ok(text.len() as i32)
}

/// (x, digits, out, cap): returns the length, or -1 when it needs more than cap bytes.
fn float_to_fixed_import(
    mut caller: Caller<'_, State>,
    x: f64,
    digits: i32,
    out: i32,
    cap: i32,
) -> wasmtime::Result<i32> {
    let digits = usize::try_from(digits).unwrap_or(0);
    let cap = usize::try_from(cap).unwrap_or(0);
    // A finite number's text is longer than its decimals: refuse before formatting a
    // huge string (NaN and inf ignore the digits).
    if x.is_finite() && digits >= cap {
        return Ok(-1);
    }
    let text = float_to_fixed(x, digits);
    if text.len() > cap {
        return Ok(-1);
    }
    write_bytes(&mut caller, out, text.as_bytes())?;
    Ok(text.len() as i32)
}

/// (ptr, len, out): writes the Float to out (8 bytes, little-endian) and returns 1, or 0.
fn parse_float_import(
    mut caller: Caller<'_, State>,
    ptr: i32,
    len: i32,
    out: i32,
) -> wasmtime::Result<i32> {
    let bytes = read_bytes(&mut caller, ptr, len)?;
    match parse_float(&bytes) {
        Some(x) => {
            write_bytes(&mut caller, out, &x.to_le_bytes())?;
            Ok(1)
        }
        None => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_round_trip() {
        let cases = [
            (2.0, "2.0"),
            (0.1, "0.1"),
            (1e21, "1e21"),
            (1e300, "1e300"),
            (1e-7, "1e-7"),
            (-0.0, "-0.0"),
            (0.30000000000000004, "0.30000000000000004"),
            (123.456, "123.456"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        ];
        for (x, text) in cases {
            assert_eq!(float_to_string(x), text);
        }
        assert!(float_to_string(-f64::MIN_POSITIVE).len() <= FLOAT_TEXT_MAX);
        assert!(float_to_string(f64::MAX).len() <= FLOAT_TEXT_MAX);
    }

    #[test]
    fn fixed() {
        assert_eq!(float_to_fixed(1.23456, 2), "1.23");
        assert_eq!(float_to_fixed(2.5, 0), "2");
        assert_eq!(float_to_fixed(1.0, 3), "1.000");
        assert_eq!(float_to_fixed(-0.004, 2), "-0.00");
    }

    #[test]
    fn parse() {
        assert_eq!(parse_float(b"1.5"), Some(1.5));
        assert_eq!(parse_float(b"-2"), Some(-2.0));
        assert_eq!(parse_float(b"1e3"), Some(1000.0));
        assert_eq!(parse_float(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_float(b""), None);
        assert_eq!(parse_float(b" 1"), None);
        assert_eq!(parse_float(b"abc"), None);
        assert_eq!(parse_float(&[0xff]), None);
    }
}
