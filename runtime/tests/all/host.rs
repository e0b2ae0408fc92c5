//! The host functions seen from wasm: float text, parsing, math, the clock, randomness.

use crate::runtime;
use crate::wasm::{import, Builder};
use wasm_encoder::{BlockType, Ieee64};
use weft_runtime::Output;

/// Runs main and returns what it printed, or panics with the error.
fn output_of(b: Builder) -> String {
    let out = Output::buffer();
    if let Err(e) = runtime().run(&b.artifact(), "main", &out) {
        panic!("{e}");
    }
    out.take()
}

/// main prints `float_to_string(x)`.
fn float_text(x: f64) -> String {
    let b = Builder::new().export("main", move |f| {
        f.i32_const(0); // print's ptr
        f.f64_const(Ieee64::from(x))
            .i32_const(0)
            .call(import("float_to_string"));
        f.call(import("print"));
    });
    output_of(b)
}

#[test]
fn float_to_string_is_shortest_round_trip() {
    for (x, text) in [
        (2.0, "2.0"),
        (0.1, "0.1"),
        (1e21, "1e21"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
        (-1.5e-300, "-1.5e-300"),
    ] {
        assert_eq!(float_text(x), format!("{text}\n"));
    }
}

#[test]
fn float_to_fixed_respects_the_capacity() {
    // len = float_to_fixed(1.23456, 2, 0, 16); print(0, len); float_to_fixed(.., cap 3) == -1
    let b = Builder::new().data(100, b"too long").export("main", |f| {
        f.i32_const(0);
        f.f64_const(Ieee64::from(1.23456))
            .i32_const(2)
            .i32_const(0)
            .i32_const(16);
        f.call(import("float_to_fixed")).call(import("print"));
        f.f64_const(Ieee64::from(1.23456))
            .i32_const(2)
            .i32_const(0)
            .i32_const(3);
        f.call(import("float_to_fixed"))
            .i32_const(-1)
            .i32_ne()
            .if_(BlockType::Empty);
        f.i32_const(100).i32_const(8).call(import("trap"));
        f.end();
    });
    assert_eq!(output_of(b), "1.23\n");
}

#[test]
fn parse_float_writes_the_value() {
    // if parse_float("2.5", out 8) { print(float_to_string(load(8))) }; parse_float("x") == 0
    let b = Builder::new().data(0, b"2.5x").export("main", |f| {
        f.i32_const(0)
            .i32_const(3)
            .i32_const(8)
            .call(import("parse_float"))
            .drop();
        f.i32_const(32);
        f.i32_const(8).f64_load(wasm_encoder::MemArg {
            offset: 0,
            align: 3,
            memory_index: 0,
        });
        f.i32_const(32)
            .call(import("float_to_string"))
            .call(import("print"));
        f.i32_const(3)
            .i32_const(1)
            .i32_const(8)
            .call(import("parse_float"))
            .i32_const(0)
            .i32_ne();
        f.if_(BlockType::Empty).unreachable().end();
    });
    assert_eq!(output_of(b), "2.5\n");
}

#[test]
fn fmath_pow_and_random_range() {
    // print(float_to_string(fmath(0, 2, 10)))
    let b = Builder::new().export("main", |f| {
        f.i32_const(0);
        f.i32_const(0)
            .f64_const(Ieee64::from(2.0))
            .f64_const(Ieee64::from(10.0))
            .call(import("fmath"));
        f.i32_const(0)
            .call(import("float_to_string"))
            .call(import("print"));
        // random() >= 1.0 or < 0.0 traps
        f.call(import("random"))
            .f64_const(Ieee64::from(1.0))
            .f64_ge()
            .if_(BlockType::Empty)
            .unreachable()
            .end();
        f.call(import("random"))
            .f64_const(Ieee64::from(0.0))
            .f64_lt()
            .if_(BlockType::Empty)
            .unreachable()
            .end();
        // now_ms() is after 2020
        f.call(import("now_ms"))
            .i64_const(1_577_836_800_000)
            .i64_lt_s();
        f.if_(BlockType::Empty).unreachable().end();
    });
    assert_eq!(output_of(b), "1024.0\n");
}

#[test]
fn an_unknown_fmath_op_traps() {
    let b = Builder::new().export("main", |f| {
        f.i32_const(99)
            .f64_const(Ieee64::from(0.0))
            .f64_const(Ieee64::from(0.0))
            .call(import("fmath"))
            .drop();
    });
    let err = runtime().run(&b.artifact(), "main", &Output::buffer());
    assert_eq!(
        err.err()
            .and_then(|e| e.trap_message().map(String::from))
            .as_deref(),
        Some("unknown float operation 99")
    );
}

#[test]
fn out_of_bounds_pointers_trap() {
    let b = Builder::new().export("main", |f| {
        f.i32_const(65_530).i32_const(100).call(import("print"));
    });
    let err = runtime().run(&b.artifact(), "main", &Output::buffer());
    assert_eq!(
        err.err()
            .and_then(|e| e.trap_message().map(String::from))
            .as_deref(),
        Some("memory access out of bounds")
    );
}
