//! List routines, generic over the element width (4 or 8 bytes) and over whether elements
//! are heap pointers (whose refcounts a copy must increment): only dropping needs the
//! element type, and that lives in the per-type helpers.
//!
//! A list's capacity is whatever its block holds (`(block size - 16) / width`), so the
//! size-class rounding of the allocator is never wasted.

use super::text::add;
use super::{fb, Rt};
use crate::emit::FuncBuilder;
use crate::layout::LIST_DATA;
use crate::module::Module;
use wasm_encoder::BlockType;
use wasm_encoder::ValType::{I32, I64};

/// Pushes `l + 16 + i * w` from locals.
fn elem_addr(f: &mut FuncBuilder, l: u32, i: u32, w: u32) {
    f.get(l).i32c(LIST_DATA as i32);
    add(f);
    f.get(i).get(w);
    f.ins().i32_mul();
    add(f);
}

pub fn generate(m: &mut Module, r: Rt) -> FuncBuilder {
    match r {
        Rt::ListNew => list_new(m),
        Rt::ListReserve => reserve(m, false),
        Rt::ListUnique => reserve(m, true),
        Rt::ListPush32 => push32(m),
        Rt::ListConcat => concat(m),
        Rt::ListSlice => slice(m),
        Rt::ListReverse => reverse(m),
        Rt::ListJoin => join(m),
        Rt::Sort(k) => sort(m, k),
        Rt::Sift(k) => sift(m, k),
        _ => unreachable!("not a list routine: {r:?}"),
    }
}

/// `(n, width) -> List` with length 0 and room for at least n elements.
fn list_new(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (n, w, p) = (0, 1, f.local(I32));
    f.get(n).i32c(0x1000_0000);
    f.ins().i32_gt_u();
    f.if_then(|f| super::trap(m, f, "out of memory"));
    f.get(n).get(w);
    f.ins().i32_mul();
    f.i32c(LIST_DATA as i32);
    add(&mut f);
    f.call(m.rt(Rt::Alloc)).tee(p).i32c(0).st32(8);
    f.get(p).get(p).ld32(4).i32c(LIST_DATA as i32);
    f.ins().i32_sub();
    f.get(w);
    f.ins().i32_div_u();
    f.st32(12);
    f.get(p);
    f
}

/// `(list, width, heap) -> list`: uniquely owned, and (unless `unique_only`) with room for
/// one more element. Consumes the reference passed in.
fn reserve(m: &mut Module, unique_only: bool) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (l, w, heap, len, q, rc) = (0, 1, 2, f.local(I32), f.local(I32), f.local(I32));
    f.get(l).ld32(8).set(len);
    f.get(l).ld32(0).tee(rc).i32c(1);
    f.ins().i32_eq();
    if !unique_only {
        f.get(len).get(l).ld32(12);
        f.ins().i32_lt_u().i32_and();
    }
    f.if_then(|f| {
        f.get(l);
        f.ins().return_();
    });
    // New capacity: double when growing, the same length when only copying.
    f.get(len);
    if !unique_only {
        f.i32c(1);
        f.ins().i32_shl();
        f.i32c(4);
        f.get(len).i32c(1);
        f.ins().i32_shl();
        f.i32c(4);
        f.ins().i32_gt_u().select();
    }
    f.get(w).call(m.rt(Rt::ListNew)).set(q);
    f.get(q).i32c(LIST_DATA as i32);
    add(&mut f);
    f.get(l).i32c(LIST_DATA as i32);
    add(&mut f);
    f.get(len).get(w);
    f.ins().i32_mul().memory_copy(0, 0);
    f.get(q).get(len).st32(8);
    f.get(rc).i32c(1);
    f.ins().i32_eq();
    f.if_(BlockType::Empty);
    f.get(l).call(m.rt(Rt::Free));
    f.else_();
    f.get(l).get(rc).i32c(1);
    f.ins().i32_sub();
    f.st32(0);
    f.get(heap);
    f.if_then(|f| {
        f.get(q).i32c(LIST_DATA as i32);
        add(f);
        f.get(len).call(m.rt(Rt::IncElems));
    });
    f.end();
    f.get(q);
    f
}

/// `(list, v) -> list`: appends a 4-byte value to a uniquely owned list.
fn push32(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (l, v) = (0, 1);
    f.get(l).i32c(4).i32c(0).call(m.rt(Rt::ListReserve)).set(l);
    f.get(l).get(l).ld32(8).i32c(2);
    f.ins().i32_shl();
    add(&mut f);
    f.get(v).st32(LIST_DATA);
    f.get(l).get(l).ld32(8).i32c(1);
    add(&mut f);
    f.st32(8);
    f.get(l);
    f
}

/// `(a, b, width, heap) -> List`: a new list with the elements of both.
fn concat(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32, I32], &[I32]);
    let (a, b, w, heap, la, lb, q) = (0, 1, 2, 3, f.local(I32), f.local(I32), f.local(I32));
    f.get(a).ld32(8).tee(la).get(b).ld32(8).tee(lb);
    add(&mut f);
    f.get(w).call(m.rt(Rt::ListNew)).set(q);
    f.get(q).i32c(LIST_DATA as i32);
    add(&mut f);
    f.get(a).i32c(LIST_DATA as i32);
    add(&mut f);
    f.get(la).get(w);
    f.ins().i32_mul().memory_copy(0, 0);
    elem_addr(&mut f, q, la, w);
    f.get(b).i32c(LIST_DATA as i32);
    add(&mut f);
    f.get(lb).get(w);
    f.ins().i32_mul().memory_copy(0, 0);
    f.get(q).get(la).get(lb);
    add(&mut f);
    f.st32(8);
    f.get(heap);
    f.if_then(|f| {
        f.get(q).i32c(LIST_DATA as i32);
        add(f);
        f.get(q).ld32(8).call(m.rt(Rt::IncElems));
    });
    f.get(q);
    f
}

/// Clamps the i64 local `x` into `0..=len` and leaves it as i32 on the stack.
fn clamp(f: &mut FuncBuilder, x: u32, len: u32) {
    f.get(x).i64c(0);
    f.ins().i64_lt_s();
    f.if_then(|f| {
        f.i64c(0).set(x);
    });
    f.get(x).get(len);
    f.ins().i64_extend_i32_u().i64_gt_s();
    f.if_then(|f| {
        f.get(len);
        f.ins().i64_extend_i32_u();
        f.set(x);
    });
    f.get(x);
    f.ins().i32_wrap_i64();
}

/// `(list, start, end, width, heap) -> List`: elements `start..end`, clamped.
fn slice(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I64, I64, I32, I32], &[I32]);
    let (l, s, e, w, heap, len, a, n, q) = (
        0,
        1,
        2,
        3,
        4,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
    );
    f.get(l).ld32(8).set(len);
    clamp(&mut f, s, len);
    f.set(a);
    clamp(&mut f, e, len);
    f.get(a);
    f.ins().i32_sub();
    f.tee(n).i32c(0);
    f.ins().i32_lt_s();
    f.if_then(|f| {
        f.i32c(0).set(n);
    });
    f.get(n).get(w).call(m.rt(Rt::ListNew)).set(q);
    f.get(q).i32c(LIST_DATA as i32);
    add(&mut f);
    elem_addr(&mut f, l, a, w);
    f.get(n).get(w);
    f.ins().i32_mul().memory_copy(0, 0);
    f.get(q).get(n).st32(8);
    f.get(heap);
    f.if_then(|f| {
        f.get(q).i32c(LIST_DATA as i32);
        add(f);
        f.get(n).call(m.rt(Rt::IncElems));
    });
    f.get(q);
    f
}

/// `(list, width, heap) -> List` reversed.
fn reverse(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[I32]);
    let (l, w, heap, len, q, i, j) = (
        0,
        1,
        2,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
    );
    f.get(l)
        .ld32(8)
        .tee(len)
        .get(w)
        .call(m.rt(Rt::ListNew))
        .set(q);
    f.get(q).get(len).st32(8);
    f.for_i32(i, len, |f, _| {
        f.get(len).get(i);
        f.ins().i32_sub();
        f.i32c(1);
        f.ins().i32_sub();
        f.set(j);
        elem_addr(f, q, j, w);
        elem_addr(f, l, i, w);
        f.get(w);
        f.ins().memory_copy(0, 0);
    });
    f.get(heap);
    f.if_then(|f| {
        f.get(q).i32c(LIST_DATA as i32);
        add(f);
        f.get(len).call(m.rt(Rt::IncElems));
    });
    f.get(q);
    f
}

/// `(List<String>, sep) -> String`.
fn join(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (l, sep, sb, i, n) = (0, 1, f.local(I32), f.local(I32), f.local(I32));
    let push_s = m.rt(Rt::SbStr);
    f.call(m.rt(Rt::SbNew)).set(sb);
    f.get(l).ld32(8).set(n);
    f.for_i32(i, n, |f, _| {
        f.get(i);
        f.if_then(|f| {
            f.get(sb).get(sep).call(push_s).set(sb);
        });
        f.get(sb).get(l).get(i).i32c(2);
        f.ins().i32_shl();
        add(f);
        f.ld32(LIST_DATA).call(push_s).set(sb);
    });
    f.get(sb);
    f
}

/// Element width and compare for a sort kind.
fn kind_width(k: u8) -> i32 {
    match k {
        0 | 1 => 8,
        _ => 4,
    }
}

/// Pushes whether element at address local `x` is less than element at `y`.
fn less(m: &mut Module, f: &mut FuncBuilder, k: u8, x: u32, y: u32) {
    match k {
        0 => {
            f.get(x).ld64(0).get(y).ld64(0);
            f.ins().i64_lt_s();
        }
        1 => {
            f.get(x);
            f.ins().f64_load(crate::emit::mem(0, 8));
            f.get(y);
            f.ins().f64_load(crate::emit::mem(0, 8)).f64_lt();
        }
        2 => {
            f.get(x).ld32(0).get(y).ld32(0);
            f.ins().i32_lt_u();
        }
        _ => {
            f.get(x)
                .ld32(0)
                .get(y)
                .ld32(0)
                .call(m.rt(Rt::StrCmp))
                .i32c(0);
            f.ins().i32_lt_s();
        }
    }
}

/// Pushes the address of element local `i` in the data at local `base`.
fn addr(f: &mut FuncBuilder, k: u8, base: u32, i: u32) {
    f.get(base).get(i).i32c(kind_width(k));
    f.ins().i32_mul();
    add(f);
}

fn swap(f: &mut FuncBuilder, k: u8, x: u32, y: u32, t: u32) {
    if kind_width(k) == 8 {
        f.get(x).ld64(0).set(t);
        f.get(x).get(y).ld64(0).st64(0);
        f.get(y).get(t).st64(0);
    } else {
        f.get(x).get(y).ld32(0);
        f.get(y).get(x).ld32(0);
        f.st32(0).st32(0);
    }
}

/// `(data, root, end)`: restores the max-heap property below `root`.
fn sift(m: &mut Module, k: u8) -> FuncBuilder {
    let mut f = fb(&[I32, I32, I32], &[]);
    let (base, root, end, child, x, y, t) = (
        0,
        1,
        2,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I64),
    );
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(root).i32c(1);
    f.ins().i32_shl();
    f.i32c(1);
    add(&mut f);
    f.tee(child).get(end);
    f.ins().i32_ge_u();
    f.br_if(brk);
    f.get(child).i32c(1);
    add(&mut f);
    f.get(end);
    f.ins().i32_lt_u();
    f.if_then(|f| {
        addr(f, k, base, child);
        f.set(x);
        f.get(child).i32c(1);
        add(f);
        f.set(y);
        addr(f, k, base, y);
        f.set(y);
        less(m, f, k, x, y);
        f.if_then(|f| {
            f.get(child).i32c(1);
            add(f);
            f.set(child);
        });
    });
    addr(&mut f, k, base, root);
    f.set(x);
    addr(&mut f, k, base, child);
    f.set(y);
    less(m, &mut f, k, x, y);
    f.ins().i32_eqz();
    f.br_if(brk);
    if kind_width(k) == 8 {
        swap(&mut f, k, x, y, t);
    } else {
        swap(&mut f, k, x, y, 0);
    }
    f.get(child).set(root);
    f.br(top);
    f.end();
    f.end();
    f
}

/// `(list)`: heapsort of a uniquely owned list, ascending.
fn sort(m: &mut Module, k: u8) -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    let (l, base, n, i, x, y, t) = (
        0,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I64),
    );
    let sift = m.rt(Rt::Sift(k));
    f.get(l).i32c(LIST_DATA as i32);
    add(&mut f);
    f.set(base);
    f.get(l).ld32(8).tee(n).i32c(2);
    f.ins().i32_lt_u();
    f.if_then(|f| {
        f.ins().return_();
    });
    f.get(n).i32c(1);
    f.ins().i32_shr_u();
    f.set(i);
    let top = f.loop_(BlockType::Empty);
    f.get(i).i32c(1);
    f.ins().i32_sub();
    f.set(i);
    f.get(base).get(i).get(n).call(sift);
    f.get(i);
    f.br_if(top);
    f.end();
    f.get(n).set(i);
    let top = f.loop_(BlockType::Empty);
    f.get(i).i32c(1);
    f.ins().i32_sub();
    f.set(i);
    f.get(base).set(x);
    addr(&mut f, k, base, i);
    f.set(y);
    if kind_width(k) == 8 {
        swap(&mut f, k, x, y, t);
    } else {
        swap(&mut f, k, x, y, 0);
    }
    f.get(base).i32c(0).get(i).call(sift);
    f.get(i).i32c(1);
    f.ins().i32_gt_u();
    f.br_if(top);
    f.end();
    f
}
