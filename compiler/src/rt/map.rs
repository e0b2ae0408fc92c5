//! Insertion-ordered hash maps (in the manner of CPython's dict), one set of routines per
//! concrete map type.
//!
//! Map object: `[hdr][len @8][used @12][ecap @16][entries @20][index @24][icap @28]`.
//! `entries` is a block of `ecap` entries of 24 bytes, `[hash i32][live i32][key 8][value 8]`,
//! appended in insertion order; removal clears `live` (a tombstone) and growing compacts.
//! `index` is an open-addressing table of `icap = 2 * ecap` i32 slots holding entry
//! number + 1 (0 = empty), probed linearly. The map object never moves, so a place holding
//! it stays valid while entries are added.

use super::{fb, Rt};
use crate::emit::FuncBuilder;
use crate::helpers::{drop_fn, emit_eq, emit_hash, emit_show};
use crate::layout::{is_heap, vt, width, LIST_DATA, LIST_LEN};
use crate::module::{FnKey, Module};
use wasm_encoder::BlockType;
use wasm_encoder::ValType::I32;
use weft_lang::types::Ty;

pub const M_LEN: u32 = 8;
pub const M_USED: u32 = 12;
pub const M_ECAP: u32 = 16;
pub const M_ENTRIES: u32 = 20;
pub const M_INDEX: u32 = 24;
pub const M_ICAP: u32 = 28;
pub const M_SIZE: u32 = 32;
pub const E_HASH: u32 = 0;
pub const E_LIVE: u32 = 4;
pub const E_KEY: u32 = 8;
pub const E_VAL: u32 = 16;
pub const E_SIZE: i32 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapOp {
    /// `(map, key) -> entry address | 0`
    Find,
    /// `(map, key, value)`: map unique; key and value owned.
    Insert,
    /// `(map, key) -> (found, value)`: map unique; key borrowed; the value is handed out.
    Remove,
    /// `(map) -> map`
    Unique,
    /// `(map)`: releases every entry and frees the buffers (not the map object).
    DropEntries,
    Keys,
    Values,
    /// `(a, b) -> i32`: same keys with equal values, in any order.
    Eq,
    /// `(sb, map) -> sb`
    Show,
    /// `(sb, map) -> sb`: the wire form (see `helpers::wire`).
    Encode,
    /// `(map)`: rebuilds with room to add entries.
    Grow,
}

fn kv(ty: &Ty) -> (Ty, Ty) {
    match ty {
        Ty::Map(k, v) => ((**k).clone(), (**v).clone()),
        _ => (Ty::Unit, Ty::Unit),
    }
}

pub fn generate(m: &mut Module, op: MapOp, ty: &Ty) -> FuncBuilder {
    let (k, v) = kv(ty);
    match op {
        MapOp::Find => find(m, &k),
        MapOp::Insert => insert(m, ty, &k, &v),
        MapOp::Remove => remove(m, ty, &k, &v),
        MapOp::Unique => unique(m, &k, &v),
        MapOp::DropEntries => drop_entries(m, &k, &v),
        MapOp::Keys => project(m, &k, E_KEY),
        MapOp::Values => project(m, &v, E_VAL),
        MapOp::Eq => eq(m, ty, &k, &v),
        MapOp::Show => show(m, &k, &v),
        MapOp::Encode => encode(m, &k, &v),
        MapOp::Grow => grow(m),
    }
}

/// Pushes the address of entry `i` (local) of the map in local `mp`.
fn entry(f: &mut FuncBuilder, mp: u32, i: u32) {
    f.get(mp).ld32(M_ENTRIES).i32c(8);
    f.ins().i32_add();
    f.get(i).i32c(E_SIZE);
    f.ins().i32_mul().i32_add();
}

/// Runs `body` with local `e` set to each live entry of the map in `mp`.
fn for_live(f: &mut FuncBuilder, mp: u32, body: impl FnOnce(&mut FuncBuilder, u32)) {
    let (i, n, e) = (f.local(I32), f.local(I32), f.local(I32));
    f.get(mp).ld32(M_USED).set(n);
    f.for_i32(i, n, |f, _| {
        entry(f, mp, i);
        f.tee(e).ld32(E_LIVE);
        f.if_then(|f| body(f, e));
    });
}

/// Stores entry number + 1 (local `slotv`) into the first free index slot for hash `h`.
fn index_put(f: &mut FuncBuilder, mp: u32, h: u32, slotv: u32) {
    let (s, mask) = (f.local(I32), f.local(I32));
    f.get(mp).ld32(M_ICAP).i32c(1);
    f.ins().i32_sub();
    f.tee(mask).get(h);
    f.ins().i32_and();
    f.set(s);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(mp).ld32(M_INDEX).get(s).i32c(2);
    f.ins().i32_shl().i32_add();
    f.ld32(8);
    f.ins().i32_eqz();
    f.br_if(brk);
    f.get(s).i32c(1);
    f.ins().i32_add();
    f.get(mask);
    f.ins().i32_and();
    f.set(s);
    f.br(top);
    f.end();
    f.end();
    f.get(mp).ld32(M_INDEX).get(s).i32c(2);
    f.ins().i32_shl().i32_add();
    f.get(slotv).st32(8);
}

fn find(m: &mut Module, k: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, vt(k)], &[I32]);
    let (mp, key, h, mask, s, slot, e) = (
        0,
        1,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
    );
    f.get(mp).ld32(M_ICAP);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(key);
    emit_hash(m, &mut f, k);
    f.set(h);
    f.get(mp).ld32(M_ICAP).i32c(1);
    f.ins().i32_sub();
    f.tee(mask).get(h);
    f.ins().i32_and();
    f.set(s);
    let top = f.loop_(BlockType::Empty);
    f.get(mp).ld32(M_INDEX).get(s).i32c(2);
    f.ins().i32_shl().i32_add();
    f.ld32(8).tee(slot);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    f.get(slot).i32c(1);
    f.ins().i32_sub();
    f.set(slot);
    entry(&mut f, mp, slot);
    f.tee(e).ld32(E_LIVE).get(e).ld32(E_HASH).get(h);
    f.ins().i32_eq().i32_and();
    f.if_(BlockType::Empty);
    f.get(e).load(vt(k), E_KEY).get(key);
    emit_eq(m, &mut f, k);
    f.if_then(|f| {
        f.get(e);
        f.ins().return_();
    });
    f.end();
    f.get(s).i32c(1);
    f.ins().i32_add();
    f.get(mask);
    f.ins().i32_and();
    f.set(s);
    f.br(top);
    f.end();
    f.ins().unreachable();
    f
}

fn insert(m: &mut Module, ty: &Ty, k: &Ty, v: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, vt(k), vt(v)], &[]);
    let (mp, key, val, e, h, idx) = (0, 1, 2, f.local(I32), f.local(I32), f.local(I32));
    let find = m.func(FnKey::Map(MapOp::Find, ty.clone()));
    f.get(mp).get(key).call(find).tee(e);
    f.if_(BlockType::Empty);
    if is_heap(v) {
        let d = drop_fn(m, v);
        f.get(e).ld32(E_VAL).call(d);
    }
    f.get(e).get(val).store(vt(v), E_VAL);
    if is_heap(k) {
        let d = drop_fn(m, k);
        f.get(key).call(d);
    }
    f.ins().return_();
    f.end();
    f.get(mp).ld32(M_USED).get(mp).ld32(M_ECAP);
    f.ins().i32_ge_u();
    let grow = m.func(FnKey::Map(MapOp::Grow, ty.clone()));
    f.if_then(|f| {
        f.get(mp).call(grow);
    });
    f.get(key);
    emit_hash(m, &mut f, k);
    f.set(h);
    f.get(mp).ld32(M_USED).set(idx);
    entry(&mut f, mp, idx);
    f.tee(e).get(h).st32(E_HASH);
    f.get(e).i32c(1).st32(E_LIVE);
    f.get(e).get(key).store(vt(k), E_KEY);
    f.get(e).get(val).store(vt(v), E_VAL);
    for off in [M_USED, M_LEN] {
        f.get(mp).get(mp).ld32(off).i32c(1);
        f.ins().i32_add();
        f.st32(off);
    }
    f.get(idx).i32c(1);
    f.ins().i32_add();
    f.set(idx);
    index_put(&mut f, mp, h, idx);
    f
}

fn grow(m: &mut Module) -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    let (mp, ecap, ne, ni, i, j, n, e, h) = (
        0,
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
        f.local(I32),
    );
    let (alloc, free) = (m.rt(Rt::Alloc), m.rt(Rt::Free));
    f.i32c(8).set(ecap);
    let brk = f.block(BlockType::Empty);
    let top = f.loop_(BlockType::Empty);
    f.get(ecap).get(mp).ld32(M_LEN).i32c(1);
    f.ins().i32_shl().i32_ge_u();
    f.br_if(brk);
    f.get(ecap).i32c(1);
    f.ins().i32_shl();
    f.set(ecap);
    f.br(top);
    f.end();
    f.end();
    f.get(ecap).i32c(E_SIZE);
    f.ins().i32_mul();
    f.i32c(8);
    f.ins().i32_add();
    f.call(alloc).set(ne);
    f.get(ecap).i32c(3);
    f.ins().i32_shl();
    f.i32c(8);
    f.ins().i32_add();
    f.call(alloc).tee(ni).i32c(8);
    f.ins().i32_add();
    f.i32c(0).get(ecap).i32c(3);
    f.ins().i32_shl().memory_fill(0);
    // Copy live entries in order into the new buffer.
    let (old, oldi) = (f.local(I32), f.local(I32));
    f.get(mp).ld32(M_ENTRIES).set(old);
    f.get(mp).ld32(M_INDEX).set(oldi);
    f.get(mp).ld32(M_USED).set(n);
    f.get(mp).get(ne).st32(M_ENTRIES);
    f.get(mp).get(ni).st32(M_INDEX);
    f.get(mp).get(ecap).st32(M_ECAP);
    f.get(mp).get(ecap).i32c(1);
    f.ins().i32_shl();
    f.st32(M_ICAP);
    f.i32c(0).set(j);
    f.for_i32(i, n, |f, _| {
        f.get(old).i32c(8);
        f.ins().i32_add();
        f.get(i).i32c(E_SIZE);
        f.ins().i32_mul().i32_add();
        f.tee(e).ld32(E_LIVE);
        f.if_then(|f| {
            f.get(ne).i32c(8);
            f.ins().i32_add();
            f.get(j).i32c(E_SIZE);
            f.ins().i32_mul().i32_add();
            f.get(e).i32c(E_SIZE);
            f.ins().memory_copy(0, 0);
            f.get(e).ld32(E_HASH).set(h);
            f.get(j).i32c(1);
            f.ins().i32_add();
            f.set(j);
            index_put(f, mp, h, j);
        });
    });
    f.get(mp).get(j).st32(M_USED);
    for b in [old, oldi] {
        f.get(b);
        f.if_then(|f| {
            f.get(b).call(free);
        });
    }
    f
}

fn remove(m: &mut Module, ty: &Ty, k: &Ty, v: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, vt(k)], &[I32, vt(v)]);
    let (mp, key, e) = (0, 1, f.local(I32));
    let find = m.func(FnKey::Map(MapOp::Find, ty.clone()));
    f.get(mp).get(key).call(find).tee(e);
    f.ins().i32_eqz();
    f.if_then(|f| {
        f.i32c(0).zero(vt(v));
        f.ins().return_();
    });
    f.get(e).i32c(0).st32(E_LIVE);
    f.get(mp).get(mp).ld32(M_LEN).i32c(1);
    f.ins().i32_sub();
    f.st32(M_LEN);
    if is_heap(k) {
        let d = drop_fn(m, k);
        f.get(e).ld32(E_KEY).call(d);
    }
    f.i32c(1).get(e).load(vt(v), E_VAL);
    f
}

/// Increments the key and value of entry `e` where they are heap values.
fn inc_entry(f: &mut FuncBuilder, e: u32, k: &Ty, v: &Ty) {
    let t = f.local(I32);
    for (ty, off) in [(k, E_KEY), (v, E_VAL)] {
        if is_heap(ty) {
            f.get(e).ld32(off).set(t);
            f.inc_local(t);
        }
    }
}

fn unique(m: &mut Module, k: &Ty, v: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (mp, q, b) = (0, f.local(I32), f.local(I32));
    let alloc = m.rt(Rt::Alloc);
    f.get(mp).ld32(0).i32c(1);
    f.ins().i32_eq();
    f.if_then(|f| {
        f.get(mp);
        f.ins().return_();
    });
    f.i32c(M_SIZE as i32).call(alloc).tee(q).i32c(8);
    f.ins().i32_add();
    f.get(mp).i32c(8);
    f.ins().i32_add();
    f.i32c(M_SIZE as i32 - 8);
    f.ins().memory_copy(0, 0);
    f.get(mp).get(mp).ld32(0).i32c(1);
    f.ins().i32_sub();
    f.st32(0);
    f.get(q).ld32(M_ECAP);
    f.if_then(|f| {
        for off in [M_ENTRIES, M_INDEX] {
            // The same block size as the original; copy everything after the header.
            f.get(mp).ld32(off).ld32(4).call(alloc).tee(b).i32c(8);
            f.ins().i32_add();
            f.get(mp).ld32(off).i32c(8);
            f.ins().i32_add();
            f.get(mp).ld32(off).ld32(4).i32c(8);
            f.ins().i32_sub().memory_copy(0, 0);
            f.get(q).get(b).st32(off);
        }
        for_live(f, q, |f, e| inc_entry(f, e, k, v));
    });
    f.get(q);
    f
}

fn drop_entries(m: &mut Module, k: &Ty, v: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32], &[]);
    let mp = 0;
    let free = m.rt(Rt::Free);
    let dk = is_heap(k).then(|| drop_fn(m, k));
    let dv = is_heap(v).then(|| drop_fn(m, v));
    if dk.is_some() || dv.is_some() {
        for_live(&mut f, mp, |f, e| {
            if let Some(d) = dk {
                f.get(e).ld32(E_KEY).call(d);
            }
            if let Some(d) = dv {
                f.get(e).ld32(E_VAL).call(d);
            }
        });
    }
    for off in [M_ENTRIES, M_INDEX] {
        f.get(mp).ld32(off);
        f.if_then(|f| {
            f.get(mp).ld32(off).call(free);
        });
    }
    f
}

/// `(map) -> List`: the keys or values in insertion order.
fn project(m: &mut Module, t: &Ty, off: u32) -> FuncBuilder {
    let mut f = fb(&[I32], &[I32]);
    let (mp, l, j, x) = (0, f.local(I32), f.local(I32), f.local(vt(t)));
    let new = m.rt(Rt::ListNew);
    let w = width(t);
    f.get(mp).ld32(M_LEN).i32c(w as i32).call(new).set(l);
    let heap = is_heap(t);
    for_live(&mut f, mp, |f, e| {
        f.get(e).load(vt(t), off).set(x);
        if heap {
            f.inc_local(x);
        }
        f.get(l).get(j).i32c(if w == 8 { 3 } else { 2 });
        f.ins().i32_shl().i32_add();
        f.get(x).store(vt(t), LIST_DATA);
        f.get(j).i32c(1);
        f.ins().i32_add();
        f.set(j);
    });
    f.get(l).get(j).st32(LIST_LEN);
    f.get(l);
    f
}

fn eq(m: &mut Module, ty: &Ty, k: &Ty, v: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (a, b, e2) = (0, 1, f.local(I32));
    let find = m.func(FnKey::Map(MapOp::Find, ty.clone()));
    f.get(a).ld32(M_LEN).get(b).ld32(M_LEN);
    f.ins().i32_ne();
    f.if_then(|f| {
        f.i32c(0);
        f.ins().return_();
    });
    for_live(&mut f, a, |f, e| {
        f.get(b).get(e).load(vt(k), E_KEY).call(find).tee(e2);
        f.ins().i32_eqz();
        f.if_then(|f| {
            f.i32c(0);
            f.ins().return_();
        });
        f.get(e).load(vt(v), E_VAL).get(e2).load(vt(v), E_VAL);
        emit_eq(m, f, v);
        f.ins().i32_eqz();
        f.if_then(|f| {
            f.i32c(0);
            f.ins().return_();
        });
    });
    f.i32c(1);
    f
}

fn show(m: &mut Module, k: &Ty, v: &Ty) -> FuncBuilder {
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, mp, first) = (0, 1, f.local(I32));
    let push = m.rt(Rt::SbStr);
    let (open, sep, colon, close) = (
        m.str_lit(b"{"),
        m.str_lit(b", "),
        m.str_lit(b": "),
        m.str_lit(b"}"),
    );
    f.get(sb).i32c(open as i32).call(push).set(sb);
    f.i32c(1).set(first);
    for_live(&mut f, mp, |f, e| {
        f.get(first);
        f.ins().i32_eqz();
        f.if_then(|f| {
            f.get(sb).i32c(sep as i32).call(push).set(sb);
        });
        f.i32c(0).set(first);
        f.get(sb).get(e).load(vt(k), E_KEY);
        emit_show(m, f, k);
        f.i32c(colon as i32).call(push);
        f.get(e).load(vt(v), E_VAL);
        emit_show(m, f, v);
        f.set(sb);
    });
    f.get(sb).i32c(close as i32).call(push);
    f
}

fn encode(m: &mut Module, k: &Ty, v: &Ty) -> FuncBuilder {
    use crate::helpers::wire::{emit_encode, push_u32};
    let mut f = fb(&[I32, I32], &[I32]);
    let (sb, mp) = (0, 1);
    f.get(sb);
    push_u32(m, &mut f, |f| {
        f.get(mp).ld32(M_LEN);
    });
    f.set(sb);
    for_live(&mut f, mp, |f, e| {
        f.get(sb).get(e).load(vt(k), E_KEY);
        emit_encode(m, f, k);
        f.get(e).load(vt(v), E_VAL);
        emit_encode(m, f, v);
        f.set(sb);
    });
    f.get(sb);
    f
}
