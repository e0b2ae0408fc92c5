//! Assignment to places and calls that change their receiver (`MutCall`).
//!
//! A place is walked from its root local, making each container on the way uniquely
//! owned (copying it if shared and storing the copy back), so the final write happens in
//! place and no other value that shares the old containers can observe it.

use super::Cx;
use crate::helpers;
use crate::layout::{self, is_heap, vt, width, LIST_DATA, LIST_LEN};
use crate::module::{FnKey, R};
use crate::rt::map::MapOp;
use crate::rt::Rt;
use wasm_encoder::{BlockType, ValType};
use weft_lang::tir::{Expr, Intrinsic, MutCallee, Place, PlaceElem};
use weft_lang::types::Ty;

/// Where a place's value lives once its path has been walked.
#[derive(Clone, Copy)]
enum Slot {
    Local(u32),
    /// `[addr local + offset]`
    Mem(u32, u32),
}

impl Cx<'_, '_> {
    fn load_slot(&mut self, s: Slot, t: &Ty) {
        match s {
            Slot::Local(l) => {
                self.f.get(l);
            }
            Slot::Mem(a, off) => {
                self.f.get(a).load(vt(t), off);
            }
        }
    }

    /// Stores the value in local `v` into the slot.
    fn store_slot(&mut self, s: Slot, t: &Ty, v: u32) {
        match s {
            Slot::Local(l) => {
                self.f.get(v).set(l);
            }
            Slot::Mem(a, off) => {
                self.f.get(a).get(v).store(vt(t), off);
            }
        }
    }

    /// Makes the heap value in the slot uniquely owned; leaves it in the returned local.
    fn unique_slot(&mut self, s: Slot, t: &Ty) -> u32 {
        let c = self.f.temp(ValType::I32);
        self.load_slot(s, t);
        self.f.tee(c).ld32(0).i32c(1);
        self.f.ins().i32_ne();
        self.f.if_(BlockType::Empty);
        self.f.get(c);
        helpers::emit_unique(self.m, &mut self.f, t);
        self.f.set(c);
        self.store_slot(s, t, c);
        self.f.end();
        c
    }

    /// The slot one step below the (unique) container in local `c` of type `t`.
    fn step(
        &mut self,
        c: u32,
        t: &Ty,
        elem: &PlaceElem,
        span: weft_lang::source::Span,
    ) -> R<(Slot, Ty)> {
        match elem {
            PlaceElem::Field(i, _) => {
                let shape = layout::record_shape(self.m.prog, t)
                    .ok_or_else(|| self.err("field of a non-record", span))?;
                let i = *i as usize;
                let (Some(ft), Some(&off)) = (shape.tys.get(i), shape.offs.get(i)) else {
                    return Err(self.err("field index out of range", span));
                };
                Ok((Slot::Mem(c, off), ft.clone()))
            }
            PlaceElem::Index(ix) => {
                let Ty::List(et) = t else {
                    return Err(self.err("index into a non-list", span));
                };
                self.checked_addr(c, et, ix, span)?;
                let a = self.f.temp(ValType::I32);
                self.f.set(a);
                Ok((Slot::Mem(a, LIST_DATA), (**et).clone()))
            }
            PlaceElem::MapKey(k) => {
                let Ty::Map(_, vty) = t else {
                    return Err(self.err("key of a non-map", span));
                };
                let find = self.m.func(FnKey::Map(MapOp::Find, t.clone()));
                self.f.get(c);
                let kt = self.expr_b(k)?;
                self.call_at(find, span);
                self.release(kt);
                let a = self.f.temp(ValType::I32);
                self.f.tee(a);
                self.f.ins().i32_eqz();
                self.f.if_(BlockType::Empty);
                self.trap("key not found in map", span);
                self.f.end();
                Ok((Slot::Mem(a, crate::rt::map::E_VAL), (**vty).clone()))
            }
        }
    }

    /// Walks `place.path[..n]` making each container unique; returns the slot reached.
    fn walk(&mut self, place: &Place, n: usize) -> R<(Slot, Ty)> {
        let mut slot = Slot::Local(self.locals[place.root.0 as usize]);
        let mut t = self.local_ty(place.root);
        for elem in &place.path[..n] {
            let c = self.unique_slot(slot, &t);
            let (s, nt) = self.step(c, &t, elem, place.span)?;
            slot = s;
            t = nt;
        }
        Ok((slot, t))
    }

    pub fn assign(&mut self, place: &Place, value: &Expr) -> R<()> {
        let vty = self.ty(&value.ty);
        self.expr(value)?;
        let v = self.f.temp(vt(&vty));
        self.f.set(v);
        let n = place.path.len();
        if n > 0 {
            if let PlaceElem::MapKey(k) = &place.path[n - 1] {
                let (slot, mt) = self.walk(place, n - 1)?;
                let c = self.unique_slot(slot, &mt);
                let ins = self.m.func(FnKey::Map(MapOp::Insert, mt));
                self.f.get(c);
                self.expr(k)?;
                self.f.get(v);
                self.call_at(ins, place.span);
                self.f.free_temp(v);
                return Ok(());
            }
        }
        let (slot, t) = self.walk(place, n)?;
        if is_heap(&t) {
            self.load_slot(slot, &t);
            self.drop_top(&t);
        }
        self.store_slot(slot, &t, v);
        self.f.free_temp(v);
        Ok(())
    }

    pub fn mut_call(
        &mut self,
        place: &Place,
        callee: &MutCallee,
        args: &[Expr],
        e: &Expr,
    ) -> R<()> {
        match callee {
            MutCallee::Func { func, type_args } => {
                let targs: Vec<Ty> = type_args.iter().map(|t| self.ty(t)).collect();
                let idx = self.m.user(*func, targs, e.span)?;
                // Arguments are owned, not borrowed: one could alias the receiver
                // (`c.merge(c)`), which must then look shared to the callee.
                let mut locs = vec![];
                for a in args {
                    let t = self.ty(&a.ty);
                    self.expr(a)?;
                    if is_heap(&t) {
                        let tmp = self.hold(&t);
                        self.f.ins().drop();
                        locs.push((tmp.0, Some(tmp), false));
                    } else {
                        let l = self.f.temp(vt(&t));
                        self.f.set(l);
                        locs.push((l, None, true));
                    }
                }
                let (slot, t) = self.walk(place, place.path.len())?;
                self.load_slot(slot, &t);
                for (l, _, _) in &locs {
                    self.f.get(*l);
                }
                self.call_at(idx, e.span);
                let s = self.f.temp(vt(&t));
                self.f.set(s);
                self.store_slot(slot, &t, s);
                self.f.free_temp(s);
                for (l, tmp, scratch) in locs.into_iter().rev() {
                    if scratch {
                        self.f.free_temp(l);
                    }
                    self.release(tmp);
                }
                Ok(())
            }
            MutCallee::Intrinsic(op) => self.mut_intrinsic(*op, place, args, e),
        }
    }

    fn mut_intrinsic(&mut self, op: Intrinsic, place: &Place, args: &[Expr], e: &Expr) -> R<()> {
        let mut vals = vec![];
        for a in args {
            let t = self.ty(&a.ty);
            self.expr(a)?;
            let l = self.f.temp(vt(&t));
            self.f.set(l);
            vals.push(l);
        }
        let (slot, t) = self.walk(place, place.path.len())?;
        match (op, &t) {
            (Intrinsic::ListPush, Ty::List(et)) => {
                let w = width(et);
                let res = self.m.rt(Rt::ListReserve);
                let c = self.f.temp(ValType::I32);
                self.load_slot(slot, &t);
                self.f.i32c(w as i32).i32c(is_heap(et) as i32);
                self.call_at(res, e.span);
                self.f
                    .tee(c)
                    .get(c)
                    .ld32(LIST_LEN)
                    .i32c(if w == 8 { 3 } else { 2 });
                self.f.ins().i32_shl().i32_add();
                self.f.get(vals[0]).store(vt(et), LIST_DATA);
                self.f.get(c).get(c).ld32(LIST_LEN).i32c(1);
                self.f.ins().i32_add();
                self.f.st32(LIST_LEN);
                self.store_slot(slot, &t, c);
                self.f.free_temp(c);
                self.f.i32c(0);
            }
            (Intrinsic::ListPop, Ty::List(et)) => {
                let c = self.unique_slot(slot, &t);
                let rty = self.ty(&e.ty);
                let none = self.m.static_tag(1);
                self.f.get(c).ld32(LIST_LEN);
                self.f.ins().i32_eqz();
                self.f.if_(BlockType::Result(ValType::I32));
                self.f.i32c(none as i32);
                self.f.else_();
                self.f.get(c).get(c).ld32(LIST_LEN).i32c(1);
                self.f.ins().i32_sub();
                self.f.st32(LIST_LEN);
                let x = self.f.temp(vt(et));
                self.f
                    .get(c)
                    .get(c)
                    .ld32(LIST_LEN)
                    .i32c(if width(et) == 8 { 3 } else { 2 });
                self.f.ins().i32_shl().i32_add();
                self.f.load(vt(et), LIST_DATA).set(x);
                self.make_some(&rty, x)?;
                self.f.free_temp(x);
                self.f.end();
            }
            (Intrinsic::MapInsert, Ty::Map(..)) => {
                let c = self.unique_slot(slot, &t);
                let ins = self.m.func(FnKey::Map(MapOp::Insert, t.clone()));
                self.f.get(c).get(vals[0]).get(vals[1]);
                self.call_at(ins, e.span);
                self.f.i32c(0);
            }
            (Intrinsic::MapRemove, Ty::Map(_, vty)) => {
                let c = self.unique_slot(slot, &t);
                let rem = self.m.func(FnKey::Map(MapOp::Remove, t.clone()));
                let rty = self.ty(&e.ty);
                let x = self.f.temp(vt(vty));
                self.f.get(c).get(vals[0]);
                self.call_at(rem, e.span);
                self.f.set(x);
                self.f.if_(BlockType::Result(ValType::I32));
                self.make_some(&rty, x)?;
                self.f.else_();
                let none = self.m.static_tag(1);
                self.f.i32c(none as i32);
                self.f.end();
                self.f.free_temp(x);
                let kt = self.ty(&args[0].ty);
                self.release_local(vals[0], &kt);
            }
            _ => return Err(self.err(format!("{op:?} as a mutating call"), e.span)),
        }
        for l in vals {
            self.f.free_temp(l);
        }
        Ok(())
    }

    /// Wraps the owned value in local `x` into `Some` of the option type `opt`.
    pub fn make_some(&mut self, opt: &Ty, x: u32) -> R<()> {
        let shape = layout::variant_shape(self.m.prog, opt, 0)
            .ok_or_else(|| self.err("Option layout", weft_lang::source::Span::default()))?;
        let p = self.f.temp(ValType::I32);
        self.alloc(shape.size);
        self.f.tee(p).i32c(0).st32(crate::layout::TAG);
        let ft = shape.tys[0].clone();
        self.f.get(p).get(x).store(vt(&ft), shape.offs[0]);
        self.f.get(p);
        self.f.free_temp(p);
        Ok(())
    }
}
