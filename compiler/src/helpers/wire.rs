//! Values to and from the wire format of [`crate::manifest`], in wasm: how arguments,
//! results, lane values and sends cross between a module and its host, and the exported
//! entry of every agent member.
//!
//! Encoding appends to a string builder (`Sb`, a String object that grows). Decoding reads
//! from the address in the wire-position global, advancing it; the bytes come from the
//! host, which produced them from values it checked, so they are trusted to be well formed.
//!
//! Bytes arrive from the host in two steps (no host code allocates in the module): an
//! import returns a length and keeps the bytes; the module allocates that much and calls
//! `staged_take` to have them copied in.

use super::{drop_fn, is_enum, shapes};
use crate::emit::{mem, FuncBuilder};
use crate::imports;
use crate::layout::{is_heap, vt, width, HDR, LIST_DATA, LIST_LEN, TAG};
use crate::module::{FnKey, Module, R, SCRATCH, WIRE_POS_GLOBAL};
use crate::rt::map::MapOp;
use crate::rt::{fb, Rt};
use crate::CompileError;
use wasm_encoder::ValType::I32;
use weft_lang::source::Span;
use weft_lang::tir::FuncId;
use weft_lang::types::Ty;

/// Appends the wire form of the borrowed value on the stack to the builder below it:
/// `[sb, v] -> [sb]`.
pub fn emit_encode(m: &mut Module, f: &mut FuncBuilder, ty: &Ty) {
    match ty {
        Ty::Int | Ty::Duration | Ty::Float => {
            let t = f.temp(vt(ty));
            f.set(t).i32c(SCRATCH as i32).get(t);
            f.store(vt(ty), 0);
            f.i32c(SCRATCH as i32).i32c(8).call(m.rt(Rt::SbPush));
            f.free_temp(t);
        }
        Ty::Bool => {
            f.call(m.rt(Rt::SbByte));
        }
        Ty::Unit | Ty::Never => {
            f.ins().drop();
        }
        Ty::String | Ty::Bytes | Ty::Agent(_) | Ty::Resource(..) => {
            let t = f.temp(I32);
            f.set(t);
            push_u32(m, f, |f| {
                f.get(t).ld32(8);
            });
            f.get(t).call(m.rt(Rt::SbStr));
            f.free_temp(t);
        }
        Ty::Map(..) => {
            let c = m.func(FnKey::Map(MapOp::Encode, ty.clone()));
            f.call(c);
        }
        Ty::Fn(..) | Ty::Param(_) | Ty::Var(_) => {
            // The checker lets no function cross; nothing sensible to write.
            f.ins().drop();
        }
        _ => {
            let c = m.func(FnKey::Encode(ty.clone()));
            f.call(c);
        }
    }
}

/// `[sb] -> [sb]` with the u32 that `value` pushes appended.
pub fn push_u32(m: &mut Module, f: &mut FuncBuilder, value: impl FnOnce(&mut FuncBuilder)) {
    f.i32c(SCRATCH as i32);
    value(f);
    f.st32(0);
    f.i32c(SCRATCH as i32).i32c(4).call(m.rt(Rt::SbPush));
}

/// `(sb, v) -> sb` for lists, tuples, records and enums.
pub fn gen_encode(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, v) = (0, 1);
    match ty {
        Ty::List(e) => {
            let (i, n) = (f.local(I32), f.local(I32));
            f.get(v).ld32(LIST_LEN).set(n);
            f.get(sb);
            push_u32(m, &mut f, |f| {
                f.get(n);
            });
            f.set(sb);
            let e2 = (**e).clone();
            f.for_i32(i, n, |f, _| {
                f.get(sb)
                    .get(v)
                    .get(i)
                    .i32c(if width(&e2) == 8 { 3 } else { 2 });
                f.ins().i32_shl().i32_add();
                f.load(vt(&e2), LIST_DATA);
                emit_encode(m, f, &e2);
                f.set(sb);
            });
        }
        _ => {
            let ss = shapes(m, ty).unwrap_or_default();
            let enum_ = is_enum(m, ty);
            for (k, s) in ss.iter().enumerate() {
                if enum_ {
                    f.get(v).ld32(TAG).i32c(k as i32);
                    f.ins().i32_eq();
                    f.if_(wasm_encoder::BlockType::Empty);
                    f.get(sb);
                    push_u32(m, &mut f, |f| {
                        f.i32c(k as i32);
                    });
                    f.set(sb);
                }
                for (t, off) in s.tys.iter().zip(&s.offs) {
                    f.get(sb).get(v).load(vt(t), *off);
                    emit_encode(m, &mut f, t);
                    f.set(sb);
                }
                if enum_ {
                    f.end();
                }
            }
        }
    }
    f.get(sb);
    f
}

/// Reads a u32 at the wire position and advances it: `[] -> [i32]`.
fn read_u32(f: &mut FuncBuilder) {
    f.ins().global_get(WIRE_POS_GLOBAL);
    f.ld32(0);
    advance(f, 4);
}

fn advance(f: &mut FuncBuilder, n: i32) {
    f.ins().global_get(WIRE_POS_GLOBAL);
    f.i32c(n);
    f.ins().i32_add().global_set(WIRE_POS_GLOBAL);
}

/// Reads a value of type `ty` at the wire position (advancing it): `[] -> [v]`, owned.
pub fn emit_decode(m: &mut Module, f: &mut FuncBuilder, ty: &Ty) {
    match ty {
        Ty::Int | Ty::Duration | Ty::Float => {
            f.ins().global_get(WIRE_POS_GLOBAL);
            f.load(vt(ty), 0);
            advance(f, 8);
        }
        Ty::Bool => {
            f.ins().global_get(WIRE_POS_GLOBAL);
            f.ins().i32_load8_u(mem(0, 1));
            advance(f, 1);
        }
        Ty::Unit | Ty::Never | Ty::Fn(..) | Ty::Param(_) | Ty::Var(_) => {
            f.i32c(0);
        }
        _ => {
            let c = m.func(FnKey::Decode(ty.clone()));
            f.call(c);
        }
    }
}

/// `() -> v` for strings, lists, maps, tuples, records and enums.
pub fn gen_decode(m: &mut Module, ty: &Ty) -> FuncBuilder {
    let mut f = fb(&[], &[I32]);
    let (p, n, i) = (f.local(I32), f.local(I32), f.local(I32));
    match ty {
        Ty::String | Ty::Bytes | Ty::Agent(_) | Ty::Resource(..) => {
            read_u32(&mut f);
            f.tee(n).call(m.rt(Rt::StrNew)).tee(p).i32c(12);
            f.ins().i32_add().global_get(WIRE_POS_GLOBAL);
            f.get(n);
            f.ins().memory_copy(0, 0);
            f.ins().global_get(WIRE_POS_GLOBAL);
            f.get(n);
            f.ins().i32_add().global_set(WIRE_POS_GLOBAL);
        }
        Ty::List(e) => {
            let e = (**e).clone();
            read_u32(&mut f);
            f.set(n);
            f.get(n)
                .i32c(width(&e) as i32)
                .call(m.rt(Rt::ListNew))
                .set(p);
            f.get(p).get(n).st32(LIST_LEN);
            f.for_i32(i, n, |f, _| {
                f.get(p).get(i).i32c(if width(&e) == 8 { 3 } else { 2 });
                f.ins().i32_shl().i32_add();
                emit_decode(m, f, &e);
                f.store(vt(&e), LIST_DATA);
            });
        }
        Ty::Map(k, v) => {
            let (k, v) = ((**k).clone(), (**v).clone());
            let empty = m.static_named("map{}".into(), |_| vec![0; 24]);
            let unique = m.func(FnKey::Map(MapOp::Unique, ty.clone()));
            let insert = m.func(FnKey::Map(MapOp::Insert, ty.clone()));
            f.i32c(empty as i32).call(unique).set(p);
            read_u32(&mut f);
            f.set(n);
            let (kl, vl) = (f.local(vt(&k)), f.local(vt(&v)));
            f.for_i32(i, n, |f, _| {
                emit_decode(m, f, &k);
                f.set(kl);
                emit_decode(m, f, &v);
                f.set(vl);
                f.get(p).get(kl).get(vl).call(insert);
            });
        }
        _ => {
            let ss = shapes(m, ty).unwrap_or_default();
            if is_enum(m, ty) {
                read_u32(&mut f);
                f.set(n);
                // A variant without fields is the shared static tag object.
                for (k, s) in ss.iter().enumerate() {
                    f.get(n).i32c(k as i32);
                    f.ins().i32_eq();
                    f.if_then(|f| {
                        if s.tys.is_empty() {
                            let t = m.static_tag(k as u32);
                            f.i32c(t as i32).set(p);
                        } else {
                            aggregate(m, f, p, s, Some(k as u32));
                        }
                    });
                }
            } else if let Some(s) = ss.first() {
                if s.tys.is_empty() {
                    let e = m.empty_record();
                    f.i32c(e as i32).set(p);
                } else {
                    aggregate(m, &mut f, p, s, None);
                }
            }
        }
    }
    f.get(p);
    f
}

/// Allocates a record/variant object of shape `s` into local `p` and decodes its fields.
fn aggregate(
    m: &mut Module,
    f: &mut FuncBuilder,
    p: u32,
    s: &crate::layout::Shape,
    tag: Option<u32>,
) {
    f.i32c(s.size.max(HDR) as i32).call(m.rt(Rt::Alloc)).set(p);
    if let Some(t) = tag {
        f.get(p).i32c(t as i32).st32(TAG);
    }
    for (t, off) in s.tys.iter().zip(&s.offs) {
        f.get(p);
        emit_decode(m, f, t);
        f.store(vt(t), *off);
    }
}

/// Takes the bytes the host staged (`len` on the stack) into a new Bytes object and points
/// the wire position at them: `[len] -> [buf]` (owned; release it after decoding).
pub fn emit_take_staged(m: &mut Module, f: &mut FuncBuilder) {
    let b = f.temp(I32);
    f.call(m.rt(Rt::StrNew)).tee(b).i32c(12);
    f.ins().i32_add();
    let t = f.temp(I32);
    f.tee(t).call(imports::index_of("staged_take"));
    f.get(t);
    f.ins().global_set(WIRE_POS_GLOBAL);
    f.get(b);
    f.free_temp(t);
    f.free_temp(b);
}

/// `(sb)`: pushes `ptr, len` of the builder's bytes: `[sb] -> [ptr, len]`, leaving the
/// builder in local `keep` to release afterwards.
pub fn emit_bytes_of(f: &mut FuncBuilder, keep: u32) {
    f.tee(keep).i32c(12);
    f.ins().i32_add();
    f.get(keep).ld32(8);
}

/// The exported entry of `func` at type arguments `targs`: `(args_len)`. It takes the
/// staged arguments and decodes them (the tuple of the parameters, after `self` for an
/// agent member), asks the host for `self` when the function has one, calls it, and hands
/// the encoded result to the `result` import.
///
/// Agent members, migrations (one parameter, no `self`) and record field defaults (none)
/// all enter this way. A method parameter with a default is decoded only while argument
/// bytes remain: a caller built before the parameter existed sends fewer, and the entry
/// computes the default instead.
pub fn gen_entry(m: &mut Module, func: FuncId, targs: &[Ty]) -> R<FuncBuilder> {
    let def = m
        .prog
        .funcs
        .get(func.0 as usize)
        .ok_or_else(|| CompileError::Unsupported {
            what: format!("entry for a missing function {}", func.0),
            location: String::new(),
        })?;
    let takes_self = def.agent.is_some();
    let param_tys: Vec<Ty> = def
        .params
        .iter()
        .skip(usize::from(takes_self))
        .map(|l| def.locals[l.0 as usize].ty.subst(targs))
        .collect();
    let ret = def.ret.subst(targs);
    let span = def.span;
    let defaults = param_defaults(m, func);
    let callee = m.user(func, targs.to_vec(), Span::default())?;
    let mut f = fb(&[I32], &[]);
    let (buf, end) = (f.local(I32), f.local(I32));
    f.get(0);
    emit_take_staged(m, &mut f);
    f.set(buf);
    f.get(buf).i32c(12).get(0);
    f.ins().i32_add().i32_add();
    f.set(end);
    let mut args = vec![];
    for (i, t) in param_tys.iter().enumerate() {
        let l = f.local(vt(t));
        match defaults.get(i).copied().flatten() {
            Some(d) => {
                let d = m.user(d, vec![], span)?;
                f.ins().global_get(WIRE_POS_GLOBAL);
                f.get(end);
                f.ins().i32_lt_u();
                f.if_(wasm_encoder::BlockType::Result(vt(t)));
                emit_decode(m, &mut f, t);
                f.else_();
                // What the default does may move the wire position (a call to an agent
                // reads its reply there); the parameters after it are left out too.
                f.call(d);
                f.i32c(0).set(end);
                f.end();
            }
            None => emit_decode(m, &mut f, t),
        }
        f.set(l);
        args.push((l, t.clone()));
    }
    let mut me = None;
    if takes_self {
        let (l, sbuf) = (f.local(I32), f.local(I32));
        f.call(imports::index_of("agent_self"));
        emit_take_staged(m, &mut f);
        f.set(sbuf);
        emit_decode(m, &mut f, &Ty::String);
        f.set(l);
        f.get(l);
        me = Some((l, sbuf));
    }
    for (l, _) in &args {
        f.get(*l);
    }
    f.call(callee);
    let r = f.local(vt(&ret));
    f.set(r);
    let sb = f.local(I32);
    f.call(m.rt(Rt::SbNew)).get(r);
    emit_encode(m, &mut f, &ret);
    emit_bytes_of(&mut f, sb);
    f.call(imports::index_of("result"));
    f.get(sb).call(m.rt(Rt::DecFree));
    release(m, &mut f, r, &ret);
    for (l, t) in &args {
        release(m, &mut f, *l, t);
    }
    let owned = me.map(|(l, sbuf)| [l, sbuf]);
    for l in owned.iter().flatten().chain([&buf]) {
        f.get(*l).call(m.rt(Rt::DecFree));
    }
    Ok(f)
}

/// The default functions of an agent method's parameters (after `self`), if `func` is
/// a method.
fn param_defaults(m: &Module, func: FuncId) -> Vec<Option<FuncId>> {
    m.prog
        .agents
        .iter()
        .flat_map(|a| &a.methods)
        .find(|x| x.func == func)
        .map(|x| x.defaults.clone())
        .unwrap_or_default()
}

fn release(m: &mut Module, f: &mut FuncBuilder, l: u32, t: &Ty) {
    if is_heap(t) {
        let d = drop_fn(m, t);
        f.get(l).call(d);
    }
}
