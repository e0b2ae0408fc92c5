//! Per-type helper functions, generated on demand: drop, clone-for-write (`Unique`),
//! structural equality, hashing and `to_string` in Weft syntax (`Show`).
//!
//! Scalar cases are emitted inline by the `emit_*` functions; heap types get one function
//! per concrete type. Objects without heap children share the runtime's `DecFree`.

mod show;
pub mod wire;

use crate::emit::FuncBuilder;
use crate::layout::{self, is_heap, vt, width, Shape, LIST_DATA, LIST_LEN, TAG};
use crate::module::{FnKey, Module, R};
use crate::rt::map::MapOp;
use crate::rt::{fb, Rt};
use crate::CompileError;
use wasm_encoder::BlockType;
use wasm_encoder::ValType::I32;
use weft_lang::types::Ty;

pub use show::emit_show;

/// The heap-typed children of a value: `Some(shapes)` for records/tuples (one shape) and
/// enums (one per variant), `None` for other types.
fn shapes(m: &Module, ty: &Ty) -> Option<Vec<Shape>> {
    if let Some(s) = layout::record_shape(m.prog, ty) {
        return Some(vec![s]);
    }
    layout::enum_shapes(m.prog, ty)
}

fn has_heap_children(m: &Module, ty: &Ty) -> bool {
    match ty {
        Ty::String | Ty::Bytes | Ty::Agent(_) | Ty::Resource(..) => false,
        Ty::List(e) => is_heap(e),
        Ty::Map(..) | Ty::Fn(..) => true,
        _ => shapes(m, ty).is_some_and(|ss| ss.iter().any(|s| s.heap_fields().next().is_some())),
    }
}

/// The function that releases one reference to a value of heap type `ty`.
pub fn drop_fn(m: &mut Module, ty: &Ty) -> u32 {
    match ty {
        Ty::Fn(..) => m.func(FnKey::Drop(Ty::Fn(vec![], Box::new(Ty::Unit)))),
        t if !has_heap_children(m, t) => m.rt(Rt::DecFree),
        t => m.func(FnKey::Drop(t.clone())),
    }
}

/// Replaces the shared pointer on the stack by a unique copy (the caller checked rc != 1).
pub fn emit_unique(m: &mut Module, f: &mut FuncBuilder, ty: &Ty) {
    match ty {
        Ty::List(e) => {
            let u = m.rt(Rt::ListUnique);
            f.i32c(width(e) as i32).i32c(is_heap(e) as i32).call(u);
        }
        Ty::Map(..) => {
            let u = m.func(FnKey::Map(MapOp::Unique, ty.clone()));
            f.call(u);
        }
        _ => {
            let u = m.func(FnKey::Unique(ty.clone()));
            f.call(u);
        }
    }
}

/// Compares the two values on the stack; leaves an i32 flag.
pub fn emit_eq(m: &mut Module, f: &mut FuncBuilder, ty: &Ty) {
    match ty {
        Ty::Int | Ty::Duration => {
            f.ins().i64_eq();
        }
        Ty::Float => {
            f.ins().f64_eq();
        }
        Ty::Bool => {
            f.ins().i32_eq();
        }
        Ty::Unit | Ty::Never => {
            f.ins().drop().drop().i32_const(1);
        }
        Ty::String | Ty::Bytes | Ty::Agent(_) | Ty::Resource(..) => {
            let e = m.rt(Rt::StrEq);
            f.call(e);
        }
        Ty::Fn(..) => {
            f.ins().i32_eq();
        }
        Ty::Map(..) => {
            let e = m.func(FnKey::Map(MapOp::Eq, ty.clone()));
            f.call(e);
        }
        _ => {
            let e = m.func(FnKey::Eq(ty.clone()));
            f.call(e);
        }
    }
}

/// Hashes the value on the stack; leaves an i32.
pub fn emit_hash(m: &mut Module, f: &mut FuncBuilder, ty: &Ty) {
    match ty {
        Ty::Int | Ty::Duration | Ty::Float => {
            if *ty == Ty::Float {
                f.ins().i64_reinterpret_f64();
            }
            // A 64-bit mix folded to 32 bits.
            f.i64c(0x9E37_79B9_7F4A_7C15u64 as i64);
            f.ins().i64_mul();
            let t = f.temp(wasm_encoder::ValType::I64);
            f.tee(t).get(t).i64c(32);
            f.ins().i64_shr_u().i64_xor().i32_wrap_i64();
            f.free_temp(t);
        }
        Ty::Bool | Ty::Unit | Ty::Never | Ty::Fn(..) => {}
        Ty::String | Ty::Bytes | Ty::Agent(_) | Ty::Resource(..) => {
            let h = m.rt(Rt::StrHash);
            f.call(h);
        }
        Ty::Map(..) => {
            f.ld32(LIST_LEN);
        }
        _ => {
            let h = m.func(FnKey::Hash(ty.clone()));
            f.call(h);
        }
    }
}

/// Generates a per-type helper's body; returns it with its name and `false` (no debug info).
pub fn generate(m: &mut Module, key: &FnKey) -> R<(FuncBuilder, String, bool)> {
    let (f, what, ty) = match key {
        FnKey::Drop(t) => (gen_drop(m, t), "drop", t),
        FnKey::Unique(t) => (gen_unique(m, t), "unique", t),
        FnKey::Eq(t) => (gen_eq(m, t), "eq", t),
        FnKey::Hash(t) => (gen_hash(m, t), "hash", t),
        FnKey::Show(t) => (show::gen_show(m, t), "show", t),
        FnKey::Encode(t) => (wire::gen_encode(m, t), "encode", t),
        FnKey::Decode(t) => (wire::gen_decode(m, t), "decode", t),
        other => {
            return Err(CompileError::Unsupported {
                what: format!("helper {other:?}"),
                location: String::new(),
            });
        }
    };
    Ok((f, format!("{what}<{}>", m.show_ty(ty)), false))
}

/// Emits `if tag == v { body }` for each enum variant (or the body once for a record).
fn per_variant(
    f: &mut FuncBuilder,
    p: u32,
    ss: &[Shape],
    is_enum: bool,
    mut body: impl FnMut(&mut FuncBuilder, &Shape),
) {
    for (v, s) in ss.iter().enumerate() {
        if is_enum {
            f.get(p).ld32(TAG).i32c(v as i32);
            f.ins().i32_eq();
            f.if_(BlockType::Empty);
            body(f, s);
            f.end();
        } else {
            body(f, s);
        }
    }
}

fn is_enum(m: &Module, ty: &Ty) -> bool {
    layout::enum_shapes(m.prog, ty).is_some()
}

fn gen_drop(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    let (p, rc) = (0, f.local(I32));
    f.get(p);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.ins().return_();
    });
    f.get(p).ld32(0).tee(rc).i32c(1);
    f.ins().i32_gt_s();
    f.if_then(|f| {
        f.get(p).get(rc).i32c(1);
        f.ins().i32_sub();
        f.st32(0);
        f.ins().return_();
    });
    match ty {
        Ty::Fn(..) => {
            let t = m.type_idx(vec![I32], vec![]);
            f.get(p).get(p).ld32(layout::CLO_DROP);
            f.ins().call_indirect(0, t);
            return f;
        }
        Ty::List(e) => {
            let d = drop_fn(m, e);
            let (i, n) = (f.local(I32), f.local(I32));
            f.get(p).ld32(LIST_LEN).set(n);
            f.for_i32(i, n, |f, _| {
                f.get(p).get(i).i32c(2);
                f.ins().i32_shl().i32_add();
                f.ld32(LIST_DATA).call(d);
            });
        }
        Ty::Map(..) => {
            let d = m.func(FnKey::Map(MapOp::DropEntries, ty.clone()));
            f.get(p).call(d);
        }
        _ => {
            let ss = shapes(m, ty).unwrap_or_default();
            let drops: Vec<Vec<(u32, u32)>> = ss
                .iter()
                .map(|s| {
                    s.heap_fields()
                        .map(|(off, t)| (off, drop_fn(m, t)))
                        .collect()
                })
                .collect();
            let en = is_enum(m, ty);
            let mut k = 0;
            per_variant(&mut f, p, &ss, en, |f, _| {
                for (off, d) in &drops[k] {
                    f.get(p).ld32(*off).call(*d);
                }
                k += 1;
            });
        }
    }
    let free = m.rt(Rt::Free);
    f.get(p).call(free);
    f
}

/// `(p) -> q`: a copy with refcount 1 whose heap fields are incremented; the original
/// loses one reference (it was shared, so it stays alive).
fn gen_unique(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (p, q, c) = (0, f.local(I32), f.local(I32));
    let alloc = m.rt(Rt::Alloc);
    f.get(p).ld32(0).i32c(1);
    f.ins().i32_eq();
    f.if_then(|f| {
        f.get(p);
        f.ins().return_();
    });
    f.get(p).ld32(4).call(alloc).set(q);
    f.get(q).i32c(8);
    f.ins().i32_add();
    f.get(p).i32c(8);
    f.ins().i32_add();
    f.get(p).ld32(4).i32c(8);
    f.ins().i32_sub().memory_copy(0, 0);
    f.get(p).get(p).ld32(0).i32c(1);
    f.ins().i32_sub();
    f.st32(0);
    let ss = shapes(m, ty).unwrap_or_default();
    let en = is_enum(m, ty);
    per_variant(&mut f, q, &ss, en, |f, s| {
        for (off, _) in s.heap_fields() {
            f.get(q).ld32(off).set(c);
            f.inc_local(c);
        }
    });
    f.get(q);
    f
}

fn gen_eq(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (a, b) = (0, 1);
    if let Ty::List(e) = ty {
        let (i, n) = (f.local(I32), f.local(I32));
        f.get(a).ld32(LIST_LEN).tee(n).get(b).ld32(LIST_LEN);
        f.ins().i32_ne();
        f.if_then(|f| {
            f.i32c(0);
            f.ins().return_();
        });
        let sh = if width(e) == 8 { 3 } else { 2 };
        let e2 = (**e).clone();
        let mut body = |f: &mut FuncBuilder| {
            for x in [a, b] {
                f.get(x).get(i).i32c(sh);
                f.ins().i32_shl().i32_add();
                f.load(vt(&e2), LIST_DATA);
            }
            emit_eq(m, f, &e2);
            f.ins().i32_eqz();
            f.if_then(|f| {
                f.i32c(0);
                f.ins().return_();
            });
        };
        f.for_i32(i, n, |f, _| body(f));
        f.i32c(1);
        return f;
    }
    let ss = shapes(m, ty).unwrap_or_default();
    let en = is_enum(m, ty);
    if en {
        f.get(a).ld32(TAG).get(b).ld32(TAG);
        f.ins().i32_ne();
        f.if_then(|f| {
            f.i32c(0);
            f.ins().return_();
        });
    }
    per_variant(&mut f, a, &ss, en, |f, s| {
        for (t, off) in s.tys.iter().zip(&s.offs) {
            f.get(a).load(vt(t), *off).get(b).load(vt(t), *off);
            emit_eq(m, f, t);
            f.ins().i32_eqz();
            f.if_then(|f| {
                f.i32c(0);
                f.ins().return_();
            });
        }
    });
    f.i32c(1);
    f
}

fn gen_hash(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (p, h) = (0, f.local(I32));
    let mix = |f: &mut FuncBuilder| {
        // h = h * 31 + x (x on the stack)
        f.get(h).i32c(31);
        f.ins().i32_mul().i32_add();
        f.set(h);
    };
    if let Ty::List(e) = ty {
        let (i, n) = (f.local(I32), f.local(I32));
        f.get(p).ld32(LIST_LEN).set(n);
        let e2 = (**e).clone();
        f.for_i32(i, n, |f, _| {
            f.get(p).get(i).i32c(if width(&e2) == 8 { 3 } else { 2 });
            f.ins().i32_shl().i32_add();
            f.load(vt(&e2), LIST_DATA);
            emit_hash(m, f, &e2);
            mix(f);
        });
        f.get(h);
        return f;
    }
    let ss = shapes(m, ty).unwrap_or_default();
    let en = is_enum(m, ty);
    if en {
        f.get(p).ld32(TAG).set(h);
    }
    per_variant(&mut f, p, &ss, en, |f, s| {
        for (t, off) in s.tys.iter().zip(&s.offs) {
            f.get(p).load(vt(t), *off);
            emit_hash(m, f, t);
            mix(f);
        }
    });
    f.get(h);
    f
}
