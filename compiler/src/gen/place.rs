//! Assignment to places and calls that change their receiver (`MutCall`).
//!
//! A place is walked from its root local, making each container on the way uniquely
//! owned (copying it if shared and storing the copy back), so the final write happens in
//! place and no other value that shares the old containers can observe it.

use super::cache::{index_step, place_step, reads_in_order, traps_only_in_reads, Kind, Step};
use super::Cx;
use crate::helpers;
use crate::layout::{self, is_heap, vt, width, LIST_DATA, LIST_LEN};
use crate::module::{FnKey, R};
use crate::rt::map::MapOp;
use crate::rt::Rt;
use wasm_encoder::{BlockType, ValType};
use weft_lang::tir::{Expr, ExprKind, Intrinsic, LocalId, MutCallee, Place, PlaceElem, Stmt};
use weft_lang::types::Ty;

/// The end of a walk: the slot, its type, the cache key of the whole path (when every step
/// is cacheable) and of its longest cacheable prefix.
struct Walked {
    slot: Slot,
    ty: Ty,
    key: Option<Vec<Step>>,
    known: Vec<Step>,
}

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

    /// Makes the heap value in local `w` uniquely owned (copying it if shared).
    pub fn unique_local(&mut self, w: u32, t: &Ty) {
        let c = self.unique_slot(Slot::Local(w), t);
        self.f.free_temp(c);
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
    /// In a run of simple statements it starts from what the place cache knows.
    fn walk(&mut self, place: &Place, n: usize) -> R<Walked> {
        let root = place.root;
        let mut slot = Slot::Local(self.locals[root.0 as usize]);
        let mut t = self.local_ty(root);
        let mut key: Option<Vec<Step>> = self.pc.active.then(Vec::new);
        let mut known = vec![];
        for elem in &place.path[..n] {
            let c = self.unique_container(root, key.as_deref(), &known, slot, &t);
            let next = key
                .as_ref()
                .zip(place_step(elem))
                .map(|(p, s)| [p.as_slice(), &[s]].concat());
            let (s, nt) = match (elem, &t, &key) {
                (PlaceElem::Index(ix), Ty::List(et), Some(p)) => {
                    let a =
                        self.slot_addr(root, Some(p), next.as_deref(), c, et, ix, place.span)?;
                    (Slot::Mem(a, LIST_DATA), (**et).clone())
                }
                _ => self.step(c, &t, elem, place.span)?,
            };
            if let Some(p) = &next {
                known.clone_from(p);
            }
            (slot, t, key) = (s, nt, next);
        }
        Ok(Walked {
            slot,
            ty: t,
            key,
            known,
        })
    }

    /// Makes the container in `slot` (at `key` below `root`, when cacheable) unique, unless
    /// the cache knows it is; returns the local holding it.
    fn unique_container(
        &mut self,
        root: LocalId,
        key: Option<&[Step]>,
        known: &[Step],
        slot: Slot,
        t: &Ty,
    ) -> u32 {
        if let Some(l) = key.and_then(|p| self.pc.unique_ptr(root, p)) {
            return l;
        }
        let c = self.unique_slot(slot, t);
        match key {
            Some(p) => {
                // A copy may have replaced the container: what was known below it is stale.
                self.pc.copied(root, p);
                let l = match slot {
                    Slot::Local(w) => w,
                    Slot::Mem(..) => c,
                };
                self.pc.set(root, p, Kind::Ptr, l, true);
            }
            None => self.pc.replaced_under(root, known),
        }
        c
    }

    /// The address of the list slot `ix` of the list in local `c` (at `key` below `root`):
    /// from the cache, or bounds-checked (against a cached length when there is one).
    #[allow(clippy::too_many_arguments)]
    pub fn slot_addr(
        &mut self,
        root: LocalId,
        key: Option<&[Step]>,
        next: Option<&[Step]>,
        c: u32,
        et: &Ty,
        ix: &Expr,
        span: weft_lang::source::Span,
    ) -> R<u32> {
        if let Some(f) = next.and_then(|p| self.pc.get(root, p, Kind::Addr)) {
            return Ok(f.local);
        }
        let len = key.map(|p| self.list_len(root, p, c));
        self.checked_addr_len(c, et, ix, span, len)?;
        let a = self.f.local(ValType::I32);
        self.f.set(a);
        if let Some(p) = next {
            self.pc.set(root, p, Kind::Addr, a, false);
        }
        Ok(a)
    }

    /// An i64 local holding the length of the list in local `c` (at `key` below `root`).
    fn list_len(&mut self, root: LocalId, key: &[Step], c: u32) -> u32 {
        if let Some(f) = self.pc.get(root, key, Kind::Len) {
            return f.local;
        }
        let l = self.f.local(ValType::I64);
        self.f.get(c).ld32(LIST_LEN);
        self.f.ins().i64_extend_i32_u();
        self.f.set(l);
        self.pc.set(root, key, Kind::Len, l, false);
        l
    }

    /// Reads `root.a[i].b` (borrowed) in a run of simple statements, using and recording
    /// what the place cache knows. `nodes` are the Field/Index reads from the root out. A
    /// container the run writes through is made unique on the way. Without `value`, only
    /// walks: every node is a container, left in the cache.
    pub fn read_path(&mut self, root: LocalId, nodes: &[&Expr], value: bool) -> R<()> {
        let rw = self.locals[root.0 as usize];
        let (mut slot, mut c, mut t) = (Slot::Local(rw), rw, self.local_ty(root));
        let mut key = Some(vec![]);
        let last = if value {
            nodes.len().saturating_sub(1)
        } else {
            usize::MAX
        };
        for (k, node) in nodes.iter().enumerate() {
            if let Some(p) = key.as_deref().filter(|p| self.pc.wanted(root, p)) {
                c = self.unique_container(root, Some(p), &[], slot, &t);
            }
            let nt = self.ty(&node.ty);
            let step = match &node.kind {
                ExprKind::Field { index, .. } => Some(Step::Field(*index)),
                ExprKind::Index { index, .. } => index_step(index),
                _ => return Err(self.err("not a field or element read", node.span)),
            };
            let next = key
                .as_ref()
                .zip(step)
                .map(|(p, s): (&Vec<Step>, Step)| [p.as_slice(), &[s]].concat());
            let wanted = next.as_deref().is_some_and(|p| self.pc.wanted(root, p));
            let cached = next.as_ref().and_then(|p| self.pc.get(root, p, Kind::Ptr));
            if let (true, Some(f)) = (k < last, cached) {
                if f.unique || !wanted {
                    (c, t, key) = (f.local, nt, next);
                    continue;
                }
            }
            slot = match (&node.kind, &t) {
                (ExprKind::Field { index, .. }, _) => {
                    self.step(c, &t, &PlaceElem::Field(*index, t.clone()), node.span)?
                        .0
                }
                (ExprKind::Index { index, .. }, Ty::List(et)) => {
                    let et = (**et).clone();
                    let (kp, np) = (key.as_deref(), next.as_deref());
                    let a = self.slot_addr(root, kp, np, c, &et, index, node.span)?;
                    Slot::Mem(a, LIST_DATA)
                }
                _ => return Err(self.err("index into a non-list", node.span)),
            };
            if k == last || !wanted {
                self.load_slot(slot, &nt);
            }
            if k < last && !wanted {
                c = self.f.local(ValType::I32);
                self.f.set(c);
                if let Some(p) = &next {
                    self.pc.set(root, p, Kind::Ptr, c, false);
                }
            }
            (t, key) = (nt, next);
        }
        if let (false, Some(p)) = (value, key.as_deref()) {
            if self.pc.wanted(root, p) {
                self.unique_container(root, Some(p), &[], slot, &t);
            }
        }
        Ok(())
    }

    /// Walks, ahead of a simple statement, the containers its reads and its place go
    /// through, when nothing else in it can trap: the uniqueness checks (calls, on their
    /// slow path) then come before the values the statement computes, which would
    /// otherwise have to be saved across them.
    pub fn prewalk(&mut self, s: &Stmt) -> R<()> {
        if !self.pc.active || self.pc.wants.is_empty() {
            return Ok(());
        }
        let (value, place) = match s {
            Stmt::Let { value, .. } | Stmt::Expr(value) => (value, None),
            Stmt::Assign { place, value } => (value, Some(place)),
        };
        if !traps_only_in_reads(value) {
            return Ok(());
        }
        let mut reads = vec![];
        reads_in_order(value, &mut reads);
        for (root, nodes) in reads {
            self.read_path(root, &nodes[..nodes.len() - 1], false)?;
        }
        if let Some(p) = place.filter(|p| p.path.iter().all(|e| place_step(e).is_some())) {
            self.walk(p, p.path.len())?;
        }
        Ok(())
    }

    pub fn assign(&mut self, place: &Place, value: &Expr) -> R<()> {
        let vty = self.ty(&value.ty);
        self.expr(value)?;
        let v = self.f.temp(vt(&vty));
        self.f.set(v);
        let n = place.path.len();
        if n > 0 {
            if let PlaceElem::MapKey(k) = &place.path[n - 1] {
                let w = self.walk(place, n - 1)?;
                let c = self.unique_slot(w.slot, &w.ty);
                let ins = self.m.func(FnKey::Map(MapOp::Insert, w.ty));
                self.f.get(c);
                self.expr(k)?;
                self.f.get(v);
                self.call_at(ins, place.span);
                self.f.free_temp(v);
                return Ok(());
            }
        }
        let w = self.walk(place, n)?;
        if is_heap(&w.ty) {
            self.load_slot(w.slot, &w.ty);
            self.drop_top(&w.ty);
        }
        self.store_slot(w.slot, &w.ty, v);
        self.f.free_temp(v);
        if n == 0 {
            self.pc.local_assigned(place.root);
        } else if is_heap(&w.ty) {
            match &w.key {
                Some(p) => self.pc.replaced(place.root, p),
                None => self.pc.replaced_under(place.root, &w.known),
            }
        }
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
                let Walked { slot, ty: t, .. } = self.walk(place, place.path.len())?;
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
        let Walked { slot, ty: t, .. } = self.walk(place, place.path.len())?;
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
