//! The string builder used by `to_string`, interpolation and joins.
//!
//! A builder is an ordinary String object that is uniquely owned while it grows: its
//! capacity is the block size minus the 12-byte header, so a finished builder is already
//! the resulting String.

use super::text::{add, data_at, load8};
use super::{fb, Rt};
use crate::emit::{mem, FuncBuilder};
use crate::imports;
use crate::module::{Module, SCRATCH};
use wasm_encoder::BlockType;
use wasm_encoder::ValType::{I32, I64};

pub fn generate(m: &mut Module, r: Rt) -> FuncBuilder {
    match r {
        Rt::SbNew => sb_new(m),
        Rt::SbReserve => sb_reserve(m),
        Rt::SbPush => sb_push(m),
        Rt::SbByte => sb_byte(m),
        Rt::SbStr => sb_str(m),
        Rt::SbQuoted => sb_quoted(m),
        Rt::SbInt => sb_int(m),
        Rt::SbFloat => sb_float(m),
        Rt::SbDuration => sb_duration(m),
        _ => unreachable!("not a builder routine: {r:?}"),
    }
}

fn sb_new(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[], &[I32]);
    let p = f.local(I32);
    f.i32c(64).call(m.rt(Rt::Alloc)).tee(p).i32c(0).st32(8);
    f.get(p);
    f
}

/// `(sb, extra) -> sb` with room for `extra` more bytes.
fn sb_reserve(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, extra, need, q) = (0, 1, f.local(I32), f.local(I32));
    f.get(sb).ld32(8).get(extra);
    add(&mut f);
    f.i32c(12);
    add(&mut f);
    f.tee(need).get(sb).ld32(4);
    f.ins().i32_le_u();
    f.if_then(|f| {
        f.get(sb);
        f.ins().return_();
    });
    f.get(need).get(sb).ld32(4).i32c(1);
    f.ins().i32_shl();
    f.get(need).get(sb).ld32(4).i32c(1);
    f.ins().i32_shl().i32_gt_u().select();
    f.call(m.rt(Rt::Alloc)).tee(q).i32c(8);
    add(&mut f);
    f.get(sb).i32c(8);
    add(&mut f);
    f.get(sb).ld32(8).i32c(4);
    add(&mut f);
    f.ins().memory_copy(0, 0);
    f.get(sb).call(m.rt(Rt::Free));
    f.get(q);
    f
}

/// `(sb, ptr, len) -> sb`.
fn sb_push(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (sb, ptr, len) = (0, 1, 2);
    f.get(sb)
        .get(len)
        .call(m.rt(Rt::SbReserve))
        .tee(sb)
        .i32c(12);
    add(&mut f);
    f.get(sb).ld32(8);
    add(&mut f);
    f.get(ptr).get(len);
    f.ins().memory_copy(0, 0);
    f.get(sb).get(sb).ld32(8).get(len);
    add(&mut f);
    f.st32(8);
    f.get(sb);
    f
}

/// `(sb, byte) -> sb`.
fn sb_byte(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, b) = (0, 1);
    f.get(sb)
        .i32c(1)
        .call(m.rt(Rt::SbReserve))
        .tee(sb)
        .get(sb)
        .ld32(8);
    add(&mut f);
    f.get(b);
    f.ins().i32_store8(mem(12, 1));
    f.get(sb).get(sb).ld32(8).i32c(1);
    add(&mut f);
    f.st32(8);
    f.get(sb);
    f
}

fn sb_str(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    f.get(0).get(1).i32c(12);
    add(&mut f);
    f.get(1).ld32(8).call(m.rt(Rt::SbPush));
    f
}

/// `(sb, s) -> sb`: s in double quotes with `"`, `\`, newline, tab, CR and `{` (which
/// would open an interpolation) escaped, so it reads back as a Weft string literal.
fn sb_quoted(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, s, n, i, c) = (0, 1, f.local(I32), f.local(I32), f.local(I32));
    let byte = m.rt(Rt::SbByte);
    f.get(sb).i32c(b'"' as i32).call(byte).set(sb);
    f.get(s).ld32(8).set(n);
    f.for_i32(i, n, |f, _| {
        data_at(f, s, i);
        load8(f);
        f.set(c);
        for (raw, esc) in [
            (b'"', b'"'),
            (b'\\', b'\\'),
            (b'\n', b'n'),
            (b'\t', b't'),
            (b'\r', b'r'),
            (b'{', b'{'),
        ] {
            f.get(c).i32c(raw as i32);
            f.ins().i32_eq();
            f.if_then(|f| {
                f.get(sb).i32c(b'\\' as i32).call(byte).set(sb);
                f.i32c(esc as i32).set(c);
            });
        }
        f.get(sb).get(c).call(byte).set(sb);
    });
    f.get(sb).i32c(b'"' as i32).call(byte);
    f
}

/// `(sb, Int) -> sb` in decimal.
fn sb_int(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I64], &[I32]);
    let (sb, v, mag, pos) = (0, 1, f.local(I64), f.local(I32));
    let end = SCRATCH as i32 + 64;
    f.get(v).i64c(0);
    f.ins().i64_lt_s();
    f.if_then(|f| {
        f.get(sb).i32c(b'-' as i32).call(m.rt(Rt::SbByte)).set(sb);
        f.i64c(0).get(v);
        f.ins().i64_sub();
        f.set(v);
    });
    f.get(v).set(mag);
    f.i32c(end).set(pos);
    let top = f.loop_(BlockType::Empty);
    f.get(pos).i32c(1);
    f.ins().i32_sub();
    f.tee(pos).get(mag).i64c(10);
    f.ins().i64_rem_u().i32_wrap_i64();
    f.i32c(b'0' as i32);
    add(&mut f);
    f.ins().i32_store8(mem(0, 1));
    f.get(mag).i64c(10);
    f.ins().i64_div_u();
    f.tee(mag);
    f.ins().i64_eqz().i32_eqz();
    f.br_if(top);
    f.end();
    f.get(sb).get(pos).i32c(end).get(pos);
    f.ins().i32_sub();
    f.call(m.rt(Rt::SbPush));
    f
}

fn sb_float(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, wasm_encoder::ValType::F64], &[I32]);
    let (sb, x) = (0, 1);
    f.get(sb).i32c(32).call(m.rt(Rt::SbReserve)).tee(sb);
    f.get(x).get(sb).i32c(12);
    add(&mut f);
    f.get(sb).ld32(8);
    add(&mut f);
    f.call(imports::index_of("float_to_string"));
    f.get(sb).ld32(8);
    add(&mut f);
    f.st32(8);
    f.get(sb);
    f
}

/// `(sb, nanos) -> sb`: the largest unit that divides the value exactly (`2h`, `90s`,
/// `250ms`, `1500us`, `7ns`; zero is `0s`).
fn sb_duration(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I64], &[I32]);
    let (sb, v) = (0, 1);
    let (int, push_s) = (m.rt(Rt::SbInt), m.rt(Rt::SbStr));
    f.get(v);
    f.ins().i64_eqz();
    f.if_then(|f| {
        let s = m.str_lit(b"0s");
        f.get(sb).i32c(s as i32).call(push_s);
        f.ins().return_();
    });
    let units: [(i64, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    for (u, name) in units {
        f.get(v).i64c(u);
        f.ins().i64_rem_s().i64_eqz();
        f.if_then(|f| {
            let s = m.str_lit(name.as_bytes());
            f.get(sb).get(v).i64c(u);
            f.ins().i64_div_s();
            f.call(int).i32c(s as i32).call(push_s);
            f.ins().return_();
        });
    }
    f.get(sb);
    f
}
