//! String routines: allocation, concatenation, comparison, hashing, search, slicing and
//! the string methods. Lengths and indices visible to Weft count characters (Unicode
//! scalar values); case mapping (`to_upper`, `to_lower`) covers ASCII only.

use super::{fb, trap, Rt};
use crate::emit::{mem, FuncBuilder};
use crate::imports;
use crate::module::{Module, SCRATCH};
use wasm_encoder::BlockType;
use wasm_encoder::ValType::{F64, I32, I64};

pub(super) fn add(f: &mut FuncBuilder) {
    f.ins().i32_add();
}

/// Pushes `s + 12 + off_local`.
pub(super) fn data_at(f: &mut FuncBuilder, s: u32, off: u32) {
    f.get(s).i32c(12);
    add(f);
    f.get(off);
    add(f);
}

pub(super) fn load8(f: &mut FuncBuilder) {
    f.ins().i32_load8_u(mem(0, 1));
}

pub fn generate(m: &mut Module, r: Rt) -> FuncBuilder {
    match r {
        Rt::StrNew => str_new(m),
        Rt::StrConcat => concat(m),
        Rt::StrEq => str_eq(m),
        Rt::StrCmp => str_cmp(),
        Rt::StrHash => str_hash(),
        Rt::StrLen => str_len(),
        Rt::StrFind => str_find(m),
        Rt::StrStartsWith => starts_ends(m, false),
        Rt::StrEndsWith => starts_ends(m, true),
        Rt::StrSlice => str_slice(m),
        Rt::StrTrim => str_trim(m),
        Rt::StrCase => str_case(m),
        Rt::StrSplit => str_split(m),
        Rt::StrChars => str_chars(m),
        Rt::StrReplace => str_replace(m),
        Rt::StrCharToByte => char_to_byte(),
        Rt::StrByteToChar => byte_to_char(),
        Rt::StrSubstring => substring(m),
        Rt::StrParseInt => parse_int(),
        Rt::StrParseFloat => parse_float(),
        Rt::StrRepeat => repeat(m),
        _ => unreachable!("not a string routine: {r:?}"),
    }
}

/// `(len) -> String` with uninitialised bytes.
fn str_new(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let p = f.local(I32);
    f.get(0).i32c(12);
    add(&mut f);
    f.call(m.rt(Rt::Alloc)).tee(p).get(0).st32(8);
    f.get(p);
    f
}

fn concat(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (a, b, la, lb, p) = (0, 1, f.local(I32), f.local(I32), f.local(I32));
    f.get(a).ld32(8).set(la);
    f.get(b).ld32(8).set(lb);
    f.get(la);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.inc_local(b);
        f.get(b);
        f.ins().return_();
    });
    f.get(lb);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.inc_local(a);
        f.get(a);
        f.ins().return_();
    });
    f.get(la).get(lb);
    add(&mut f);
    f.call(m.rt(Rt::StrNew)).set(p);
    f.get(p).i32c(12);
    add(&mut f);
    f.get(a).i32c(12);
    add(&mut f);
    f.get(la);
    f.ins().memory_copy(0, 0);
    f.get(p).i32c(12);
    add(&mut f);
    f.get(la);
    add(&mut f);
    f.get(b).i32c(12);
    add(&mut f);
    f.get(lb);
    f.ins().memory_copy(0, 0);
    f.get(p);
    f
}

fn str_eq(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    f.get(0).get(1);
    f.ins().i32_eq();
    f.if_then(|f| {
        f.i32c(1);
        f.ins().return_();
    });
    f.get(0).ld32(8).get(1).ld32(8);
    f.ins().i32_ne();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(0).i32c(12);
    add(&mut f);
    f.get(1).i32c(12);
    add(&mut f);
    f.get(0).ld32(8).call(m.rt(Rt::Memeq));
    f
}

/// `(a, b) -> -1 | 0 | 1` by bytes (which is code point order for UTF-8).
fn str_cmp() -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (a, b, n, i, ca, cb) = (0, 1, f.local(I32), f.local(I32), f.local(I32), f.local(I32));
    f.get(a)
        .ld32(8)
        .get(b)
        .ld32(8)
        .get(a)
        .ld32(8)
        .get(b)
        .ld32(8);
    f.ins().i32_lt_u().select();
    f.set(n);
    f.for_i32(i, n, |f, _| {
        data_at(f, a, i);
        load8(f);
        f.tee(ca);
        data_at(f, b, i);
        load8(f);
        f.tee(cb);
        f.ins().i32_ne();
        f.if_then(|f| {
            f.i32c(-1).i32c(1).get(ca).get(cb);
            f.ins().i32_lt_u().select().return_();
        });
    });
    f.get(a).ld32(8).get(b).ld32(8);
    f.ins().i32_gt_u();
    f.get(a).ld32(8).get(b).ld32(8);
    f.ins().i32_lt_u().i32_sub();
    f
}

/// FNV-1a over the bytes.
fn str_hash() -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (s, n, i, h) = (0, f.local(I32), f.local(I32), f.local(I32));
    f.i32c(0x811c9dc5u32 as i32).set(h);
    f.get(s).ld32(8).set(n);
    f.for_i32(i, n, |f, _| {
        f.get(h);
        data_at(f, s, i);
        load8(f);
        f.ins().i32_xor();
        f.i32c(16777619);
        f.ins().i32_mul();
        f.set(h);
    });
    f.get(h);
    f
}

/// Pushes whether the byte on the stack starts a character (is not `10xxxxxx`).
fn is_char_start(f: &mut FuncBuilder) {
    f.i32c(0xC0);
    f.ins().i32_and();
    f.i32c(0x80);
    f.ins().i32_ne();
}

/// `(s) -> Int`: characters.
fn str_len() -> FuncBuilder {
    let mut f = fb(&[I32], &[I64]);
    let (s, n) = (0, f.local(I32));
    f.get(s).ld32(8).set(n);
    count_chars(&mut f, s, n);
    f
}

/// Pushes, as an i64, how many characters start in the first `end` bytes of string `s`.
fn count_chars(f: &mut FuncBuilder, s: u32, end: u32) {
    let (i, c) = (f.local(I32), f.local(I32));
    f.for_i32(i, end, |f, _| {
        data_at(f, s, i);
        load8(f);
        is_char_start(f);
        f.get(c);
        add(f);
        f.set(c);
    });
    f.get(c);
    f.ins().i64_extend_i32_u();
}

/// `(hay, needle, from) -> byte index | -1`.
fn str_find(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (h, nd, from, last, i) = (0, 1, 2, f.local(I32), f.local(I32));
    let memeq = m.rt(Rt::Memeq);
    f.get(h).ld32(8).get(nd).ld32(8);
    f.ins().i32_sub();
    f.set(last);
    f.get(last).i32c(0);
    f.ins().i32_lt_s();
    f.if_then(|f| {
        f.i32c(-1);
        f.ins().return_();
    });
    f.get(from).set(i);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(i).get(last);
    f.ins().i32_gt_s();
    f.br_if(brk);
    data_at(&mut f, h, i);
    f.get(nd).i32c(12);
    add(&mut f);
    f.get(nd).ld32(8).call(memeq);
    f.if_then(|f| {
        f.get(i);
        f.ins().return_();
    });
    f.get(i).i32c(1);
    add(&mut f);
    f.set(i);
    f.br(top);
    f.end();
    f.end();
    f.i32c(-1);
    f
}

fn starts_ends(m: &mut Module, ends: bool) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (s, p) = (0, 1);
    f.get(p).ld32(8).get(s).ld32(8);
    f.ins().i32_gt_u();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(s).i32c(12);
    add(&mut f);
    if ends {
        f.get(s).ld32(8);
        add(&mut f);
        f.get(p).ld32(8);
        f.ins().i32_sub();
    }
    f.get(p).i32c(12);
    add(&mut f);
    f.get(p).ld32(8).call(m.rt(Rt::Memeq));
    f
}

/// `(s, start, len) -> String`: a copy of bytes `start..start+len`.
fn str_slice(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (s, start, len, p) = (0, 1, 2, f.local(I32));
    f.get(len).call(m.rt(Rt::StrNew)).tee(p).i32c(12);
    add(&mut f);
    data_at(&mut f, s, start);
    f.get(len);
    f.ins().memory_copy(0, 0);
    f.get(p);
    f
}

/// Pushes whether the byte on the stack is ASCII whitespace (uses local `t`).
fn is_space(f: &mut FuncBuilder, t: u32) {
    f.tee(t).i32c(32);
    f.ins().i32_eq();
    f.get(t).i32c(9);
    f.ins().i32_sub();
    f.i32c(5);
    f.ins().i32_lt_u().i32_or();
}

fn str_trim(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (s, a, b, t) = (0, f.local(I32), f.local(I32), f.local(I32));
    f.get(s).ld32(8).set(b);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(a).get(b);
    f.ins().i32_ge_u();
    f.br_if(brk);
    data_at(&mut f, s, a);
    load8(&mut f);
    is_space(&mut f, t);
    f.ins().i32_eqz();
    f.br_if(brk);
    f.get(a).i32c(1);
    add(&mut f);
    f.set(a);
    f.br(top);
    f.end();
    f.end();
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(b).get(a);
    f.ins().i32_le_u();
    f.br_if(brk);
    f.get(s).i32c(11);
    add(&mut f);
    f.get(b);
    add(&mut f);
    load8(&mut f);
    is_space(&mut f, t);
    f.ins().i32_eqz();
    f.br_if(brk);
    f.get(b).i32c(1);
    f.ins().i32_sub();
    f.set(b);
    f.br(top);
    f.end();
    f.end();
    f.get(s).get(a).get(b).get(a);
    f.ins().i32_sub();
    f.call(m.rt(Rt::StrSlice));
    f
}

/// `(s, upper) -> String` with ASCII letters mapped.
fn str_case(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (s, up, p, n, i, c, lo) = (
        0,
        1,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
    );
    f.get(s).ld32(8).tee(n).call(m.rt(Rt::StrNew)).set(p);
    // lo = first letter of the case to change: 'a' when upper, 'A' when lower.
    f.i32c(b'a' as i32).i32c(b'A' as i32).get(up);
    f.ins().select();
    f.set(lo);
    f.for_i32(i, n, |f, _| {
        data_at(f, s, i);
        load8(f);
        f.tee(c).get(lo);
        f.ins().i32_sub();
        f.i32c(26);
        f.ins().i32_lt_u();
        f.if_then(|f| {
            f.get(c).i32c(32);
            f.ins().i32_xor();
            f.set(c);
        });
        data_at(f, p, i);
        f.get(c);
        f.ins().i32_store8(mem(0, 1));
    });
    f.get(p);
    f
}

/// `(s, sep) -> List<String>`; an empty separator splits into characters.
fn str_split(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (s, sep, l, start, i) = (0, 1, f.local(I32), f.local(I32), f.local(I32));
    let (find, slice, push) = (m.rt(Rt::StrFind), m.rt(Rt::StrSlice), m.rt(Rt::ListPush32));
    f.get(sep).ld32(8);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.get(s).call(m.rt(Rt::StrChars));
        f.ins().return_();
    });
    f.i32c(4).i32c(4).call(m.rt(Rt::ListNew)).set(l);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(s).get(sep).get(start).call(find).tee(i).i32c(0);
    f.ins().i32_lt_s();
    f.br_if(brk);
    f.get(l).get(s).get(start).get(i).get(start);
    f.ins().i32_sub();
    f.call(slice).call(push).set(l);
    f.get(i).get(sep).ld32(8);
    add(&mut f);
    f.set(start);
    f.br(top);
    f.end();
    f.end();
    f.get(l).get(s).get(start).get(s).ld32(8).get(start);
    f.ins().i32_sub();
    f.call(slice).call(push);
    f
}

/// `(s) -> List<String>`: one string per character.
fn str_chars(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (s, l, n, i, j) = (0, f.local(I32), f.local(I32), f.local(I32), f.local(I32));
    let (slice, push) = (m.rt(Rt::StrSlice), m.rt(Rt::ListPush32));
    f.get(s)
        .ld32(8)
        .tee(n)
        .i32c(4)
        .call(m.rt(Rt::ListNew))
        .set(l);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(i).get(n);
    f.ins().i32_ge_u();
    f.br_if(brk);
    f.get(i).i32c(1);
    add(&mut f);
    f.set(j);
    let b2 = f.block(BlockType::Empty);
    let t2 = f.loop_(BlockType::Empty);
    f.get(j).get(n);
    f.ins().i32_ge_u();
    f.br_if(b2);
    data_at(&mut f, s, j);
    load8(&mut f);
    is_char_start(&mut f);
    f.br_if(b2);
    f.get(j).i32c(1);
    add(&mut f);
    f.set(j);
    f.br(t2);
    f.end();
    f.end();
    f.get(l).get(s).get(i).get(j).get(i);
    f.ins().i32_sub();
    f.call(slice).call(push).set(l);
    f.get(j).set(i);
    f.br(top);
    f.end();
    f.end();
    f.get(l);
    f
}

/// `(s, from, to) -> String`.
fn str_replace(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (s, from, to, sb, start, i) = (0, 1, 2, f.local(I32), f.local(I32), f.local(I32));
    let (find, push, push_s) = (m.rt(Rt::StrFind), m.rt(Rt::SbPush), m.rt(Rt::SbStr));
    f.get(from).ld32(8);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.inc_local(s);
        f.get(s);
        f.ins().return_();
    });
    f.call(m.rt(Rt::SbNew)).set(sb);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(s).get(from).get(start).call(find).tee(i).i32c(0);
    f.ins().i32_lt_s();
    f.br_if(brk);
    f.get(sb);
    data_at(&mut f, s, start);
    f.get(i).get(start);
    f.ins().i32_sub();
    f.call(push).get(to).call(push_s).set(sb);
    f.get(i).get(from).ld32(8);
    add(&mut f);
    f.set(start);
    f.br(top);
    f.end();
    f.end();
    f.get(sb);
    data_at(&mut f, s, start);
    f.get(s).ld32(8).get(start);
    f.ins().i32_sub();
    f.call(push);
    f
}

/// `(s, char index i64) -> byte offset`, clamped to `0..=len`.
fn char_to_byte() -> FuncBuilder {
    let mut f = fb(&[I32, I64], &[I32]);
    let (s, ci, n, i, c) = (0, 1, f.local(I32), f.local(I32), f.local(I64));
    f.get(ci).i64c(0);
    f.ins().i64_le_s();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(s).ld32(8).set(n);
    f.for_i32(i, n, |f, _| {
        data_at(f, s, i);
        load8(f);
        is_char_start(f);
        f.if_then(|f| {
            f.get(c).get(ci);
            f.ins().i64_eq();
            f.if_then(|f| {
                f.get(i);
                f.ins().return_();
            });
            f.get(c).i64c(1);
            f.ins().i64_add();
            f.set(c);
        });
    });
    f.get(n);
    f
}

/// `(s, byte offset) -> char index`.
fn byte_to_char() -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I64]);
    count_chars(&mut f, 0, 1);
    f
}

/// `(s, start, end) -> String` by characters, clamped.
fn substring(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I64, I64], &[I32]);
    let (s, a, b) = (0, f.local(I32), f.local(I32));
    let c2b = m.rt(Rt::StrCharToByte);
    f.get(s).get(1).call(c2b).set(a);
    f.get(s).get(2).call(c2b).set(b);
    f.get(b).get(a).get(b).get(a);
    f.ins().i32_gt_u().select();
    f.set(b);
    f.get(s).get(a).get(b).get(a);
    f.ins().i32_sub();
    f.call(m.rt(Rt::StrSlice));
    f
}

/// `(s) -> (ok, value)`: an optional sign and decimal digits, nothing else.
fn parse_int() -> FuncBuilder {
    let mut f = fb(&[I32], &[I32, I64]);
    let (s, n, i, neg, acc, d) = (
        0,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I64),
        f.local(I64),
    );
    let fail = |f: &mut FuncBuilder| {
        f.i32c(0).i64c(0);
        f.ins().return_();
    };
    f.get(s).ld32(8).set(n);
    f.get(n);
    f.ins().i32_eqz();
    f.if_then(fail);
    f.get(s);
    f.ins().i32_load8_u(mem(12, 1));
    f.i32c(b'-' as i32);
    f.ins().i32_eq();
    f.tee(neg);
    f.get(s);
    f.ins().i32_load8_u(mem(12, 1));
    f.i32c(b'+' as i32);
    f.ins().i32_eq().i32_or();
    f.set(i);
    f.get(i).get(n);
    f.ins().i32_ge_u();
    f.if_then(fail);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(i).get(n);
    f.ins().i32_ge_u();
    f.br_if(brk);
    data_at(&mut f, s, i);
    load8(&mut f);
    f.i32c(b'0' as i32);
    f.ins().i32_sub().i64_extend_i32_u();
    f.tee(d).i64c(9);
    f.ins().i64_gt_u();
    f.if_then(fail);
    // acc accumulates the negated value so i64::MIN parses.
    f.get(acc).i64c(-922337203685477580);
    f.ins().i64_lt_s();
    f.get(acc).i64c(-922337203685477580);
    f.ins().i64_eq();
    f.get(d).i64c(8);
    f.ins().i64_gt_u().i32_and().i32_or();
    f.if_then(fail);
    f.get(acc).i64c(10);
    f.ins().i64_mul();
    f.get(d);
    f.ins().i64_sub();
    f.set(acc);
    f.get(i).i32c(1);
    add(&mut f);
    f.set(i);
    f.br(top);
    f.end();
    f.end();
    f.get(neg);
    f.if_(BlockType::Empty);
    f.i32c(1).get(acc);
    f.ins().return_();
    f.end();
    f.get(acc).i64c(i64::MIN);
    f.ins().i64_eq();
    f.if_then(fail);
    f.i32c(1).i64c(0).get(acc);
    f.ins().i64_sub();
    f
}

fn parse_float() -> FuncBuilder {
    let mut f = fb(&[I32], &[I32, F64]);
    let ok = f.local(I32);
    f.get(0).i32c(12);
    add(&mut f);
    f.get(0)
        .ld32(8)
        .i32c(SCRATCH as i32)
        .call(imports::index_of("parse_float"))
        .set(ok);
    f.get(ok).i32c(SCRATCH as i32);
    f.ins().f64_load(mem(0, 8));
    f
}

/// `(s, n) -> String`: s repeated n times (n <= 0 gives "").
fn repeat(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I64], &[I32]);
    let (s, n, total, p, i, len, k) = (
        0,
        1,
        f.local(I64),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
    );
    f.get(n).i64c(0);
    f.ins().i64_lt_s();
    f.if_then(|f| {
        f.i64c(0).set(n);
    });
    f.get(s).ld32(8).tee(len);
    f.ins().i64_extend_i32_u();
    f.get(n);
    f.ins().i64_mul();
    f.tee(total).i64c(0x4000_0000);
    f.ins().i64_gt_u();
    f.get(n).i64c(0x4000_0000);
    f.ins().i64_gt_u().i32_or();
    f.if_then(|f| trap(m, f, "out of memory"));
    f.get(total);
    f.ins().i32_wrap_i64();
    f.call(m.rt(Rt::StrNew)).set(p);
    f.get(n);
    f.ins().i32_wrap_i64();
    f.set(k);
    f.for_i32(i, k, |f, _| {
        f.get(p).i32c(12);
        add(f);
        f.get(i).get(len);
        f.ins().i32_mul();
        add(f);
        f.get(s).i32c(12);
        add(f);
        f.get(len);
        f.ins().memory_copy(0, 0);
    });
    f.get(p);
    f
}
