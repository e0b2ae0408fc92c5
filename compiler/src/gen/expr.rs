//! Expressions: the owned and borrowed compilation modes, literals, locals, calls,
//! closures, aggregates, field and element reads, interpolation.

use super::cache::{read_chain, run_wants, simple_expr, simple_stmt};
use super::{Cx, Tmp};
use crate::helpers;
use crate::layout::{
    self, is_heap, vt, width, Shape, CLO_CAPS, CLO_CODE, CLO_DROP, LIST_DATA, LIST_LEN, TAG,
};
use crate::module::{FnKey, R};
use crate::rt::Rt;
use wasm_encoder::{BlockType, ValType};
use weft_lang::tir::{Expr, ExprKind, Stmt};
use weft_lang::types::Ty;

impl Cx<'_, '_> {
    /// Compiles `e` leaving an owned value on the stack.
    pub fn expr(&mut self, e: &Expr) -> R<()> {
        if let Some(site) = self.def.site_of(e) {
            return self.inlined_body(e, site);
        }
        self.expr_here(e)
    }

    /// The body of an inlined call: its positions are recorded as in that call, and the
    /// caller's code after it starts with the call's position again.
    fn inlined_body(&mut self, e: &Expr, site: u32) -> R<()> {
        let outer = self.f.site.replace(site);
        let call = self.f.cur;
        self.f.mark(e.span);
        let r = self.expr_here(e);
        self.f.site = outer;
        if let Some(span) = call {
            self.f.mark(span);
        }
        r
    }

    /// [`Cx::expr`] within the current inlined call.
    fn expr_here(&mut self, e: &Expr) -> R<()> {
        let outer = self.f.cur.replace(e.span);
        self.expr_inner(e)?;
        self.f.cur = outer;
        if e.ty == Ty::Never {
            self.f.ins().unreachable();
        }
        Ok(())
    }

    /// Compiles `e` as a value of type `target` (a Unit target discards other values).
    pub fn expr_as(&mut self, e: &Expr, target: &Ty) -> R<()> {
        self.expr(e)?;
        let ety = self.ty(&e.ty);
        if ety != Ty::Never && *target == Ty::Unit && ety != Ty::Unit {
            self.drop_top(&ety);
            self.f.i32c(0);
        }
        Ok(())
    }

    /// Compiles `e` leaving a borrowed value; returns the temporary to release after use.
    pub fn expr_b(&mut self, e: &Expr) -> R<Tmp> {
        if self.pc.active {
            if let Some((root, nodes)) = read_chain(e).filter(|(_, n)| !n.is_empty()) {
                self.read_path(root, &nodes, true)?;
                return Ok(None);
            }
        }
        match &e.kind {
            ExprKind::Local(l) => {
                let w = self.locals[l.0 as usize];
                self.f.get(w);
                Ok(None)
            }
            ExprKind::Field { base, index } => {
                let tmp = self.expr_b(base)?;
                self.load_field(&self.ty(&base.ty), *index, e)?;
                Ok(tmp)
            }
            ExprKind::Index { base, index } => {
                let (b, tmp, scratch) = self.operand_local(base)?;
                self.load_elem(b, &self.ty(&base.ty), index, e)?;
                if scratch {
                    self.f.free_temp(b);
                }
                Ok(tmp)
            }
            _ => {
                self.expr(e)?;
                let t = self.ty(&e.ty);
                if is_heap(&t) {
                    Ok(Some(self.hold(&t)))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Puts a borrowed operand in a local: `(local, temporary to release, local is scratch)`.
    pub fn operand_local(&mut self, e: &Expr) -> R<(u32, Tmp, bool)> {
        if let ExprKind::Local(l) = &e.kind {
            return Ok((self.locals[l.0 as usize], None, false));
        }
        let tmp = self.expr_b(e)?;
        if let Some((l, _)) = &tmp {
            if matches!(e.kind, ExprKind::Field { .. } | ExprKind::Index { .. }) {
                let s = self.f.temp(vt(&self.ty(&e.ty)));
                self.f.set(s);
                return Ok((s, tmp, true));
            }
            let l = *l;
            self.f.ins().drop();
            return Ok((l, tmp, false));
        }
        let s = self.f.temp(vt(&self.ty(&e.ty)));
        self.f.set(s);
        Ok((s, None, true))
    }

    fn expr_inner(&mut self, e: &Expr) -> R<()> {
        let ty = self.ty(&e.ty);
        match &e.kind {
            ExprKind::Int(n) => {
                self.f.i64c(*n);
            }
            ExprKind::Float(x) => {
                self.f.ins().f64_const((*x).into());
            }
            ExprKind::Bool(b) => {
                self.f.i32c(*b as i32);
            }
            ExprKind::Str(s) => {
                let p = self.m.str_lit(s.as_bytes());
                self.f.i32c(p as i32);
            }
            ExprKind::Unit => {
                self.f.i32c(0);
            }
            ExprKind::Local(l) => {
                let w = self.locals[l.0 as usize];
                self.f.get(w);
                if is_heap(&ty) {
                    self.f.inc_local(w);
                    self.pc.taint();
                }
            }
            ExprKind::Call {
                func,
                type_args,
                args,
            } => {
                let targs: Vec<Ty> = type_args.iter().map(|t| self.ty(t)).collect();
                let idx = self.m.user(*func, targs, e.span)?;
                let mut temps = vec![];
                for a in args {
                    temps.push(self.expr_b(a)?);
                }
                self.call_at(idx, e.span);
                for t in temps.into_iter().rev() {
                    self.release(t);
                }
            }
            ExprKind::CallClosure { callee, args } => self.call_closure(callee, args, e)?,
            ExprKind::FuncValue { func, type_args } => {
                let targs: Vec<Ty> = type_args.iter().map(|t| self.ty(t)).collect();
                let entry = self.m.func(FnKey::FuncValueEntry(*func, targs));
                let slot = self.m.slot(entry);
                let p = self.m.static_named(format!("fv{entry}"), |_| {
                    let mut b = slot.to_le_bytes().to_vec();
                    b.extend_from_slice(&0u32.to_le_bytes());
                    b
                });
                self.f.i32c(p as i32);
            }
            ExprKind::Closure {
                func,
                type_args,
                captures,
            } => self.closure(*func, type_args, captures)?,
            ExprKind::Intrinsic { op, args } => self.intrinsic(*op, args, e)?,
            ExprKind::MutCall {
                place,
                callee,
                args,
            } => self.mut_call(place, callee, args, e)?,
            ExprKind::Record { fields, .. } | ExprKind::Tuple(fields) => {
                let shape = layout::record_shape(self.m.prog, &ty)
                    .ok_or_else(|| self.err("record layout", e.span))?;
                self.aggregate(&shape, fields, None)?;
            }
            ExprKind::Variant {
                variant, fields, ..
            } => {
                if fields.is_empty() {
                    let p = self.m.static_tag(*variant);
                    self.f.i32c(p as i32);
                } else {
                    let shape = layout::variant_shape(self.m.prog, &ty, *variant)
                        .ok_or_else(|| self.err("variant layout", e.span))?;
                    self.aggregate(&shape, fields, Some(*variant))?;
                }
            }
            ExprKind::RecordUpdate { base, updates } => {
                self.record_update(&ty, base, updates, e)?
            }
            ExprKind::List(elems) => self.list_lit(&ty, elems)?,
            ExprKind::Field { .. } | ExprKind::Index { .. } => {
                let tmp = self.expr_b(e)?;
                if is_heap(&ty) {
                    self.inc_top();
                    self.pc.taint();
                }
                self.release(tmp);
            }
            ExprKind::Unary { op, operand } => self.unary(*op, operand, e)?,
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e)?,
            ExprKind::If { cond, then, else_ } => {
                self.expr(cond)?;
                self.f.if_(BlockType::Result(vt(&ty)));
                self.expr_as(then, &ty)?;
                self.f.else_();
                self.expr_as(else_, &ty)?;
                self.f.end();
            }
            ExprKind::Match { scrutinee, arms } => self.match_(scrutinee, arms, &ty, e.span)?,
            ExprKind::Block { stmts, tail } => self.block(stmts, tail, &ty)?,
            ExprKind::While { cond, body } => self.while_(cond, body)?,
            ExprKind::ForRange { var, lo, hi, body } => self.for_range(*var, lo, hi, body)?,
            ExprKind::ForList { var, list, body } => self.for_list(*var, list, body)?,
            ExprKind::Break => self.break_(false, e.span)?,
            ExprKind::Continue => self.break_(true, e.span)?,
            ExprKind::Return(v) => self.return_(v)?,
            ExprKind::Interp(parts) => self.interp(parts)?,
        }
        Ok(())
    }

    /// A block: runs of simple statements share the place cache; any other statement
    /// starts afresh after it.
    fn block(&mut self, stmts: &[Stmt], tail: &Expr, ty: &Ty) -> R<()> {
        self.push_scope();
        let was_active = self.pc.enter_block();
        let mut run_start = true;
        for (k, s) in stmts.iter().enumerate() {
            let simple = simple_stmt(s);
            if simple && run_start {
                self.pc.wants = run_wants(&stmts[k..]);
            }
            run_start = !simple;
            self.in_run(simple, |cx| {
                cx.prewalk(s)?;
                cx.stmt(s)
            })?;
        }
        self.in_run(simple_expr(tail), |cx| cx.expr_as(tail, ty))?;
        self.pop_scope();
        self.pc.leave_block(was_active);
        Ok(())
    }

    /// Compiles with the place cache when `simple`, else with it emptied and off.
    fn in_run(&mut self, simple: bool, f: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        if simple {
            return f(self);
        }
        self.pc.clear();
        self.pc.active = false;
        f(self)?;
        self.pc.clear();
        self.pc.active = true;
        Ok(())
    }

    pub fn stmt(&mut self, s: &Stmt) -> R<()> {
        match s {
            Stmt::Let { pat, value } => self.let_(pat, value),
            Stmt::Assign { place, value } => {
                let outer = self.f.cur.replace(place.span);
                let r = self.assign(place, value);
                self.f.cur = outer;
                r
            }
            Stmt::Expr(e) => {
                self.expr(e)?;
                let t = self.ty(&e.ty);
                self.drop_top(&t);
                Ok(())
            }
        }
    }

    /// Loads field `index` of the record/tuple whose pointer is on the stack (borrowed).
    pub fn load_field(&mut self, base_ty: &Ty, index: u32, e: &Expr) -> R<()> {
        let shape = layout::record_shape(self.m.prog, base_ty)
            .ok_or_else(|| self.err("field of a non-record", e.span))?;
        let i = index as usize;
        let (Some(t), Some(off)) = (shape.tys.get(i), shape.offs.get(i)) else {
            return Err(self.err("field index out of range", e.span));
        };
        self.f.load(vt(t), *off);
        Ok(())
    }

    /// Loads element `index` of the list in local `b` (borrowed).
    pub fn load_elem(&mut self, b: u32, list_ty: &Ty, index: &Expr, e: &Expr) -> R<()> {
        let Ty::List(elem) = list_ty else {
            return Err(self.err("index into a non-list", e.span));
        };
        self.checked_addr(b, elem, index, e.span)?;
        self.f.load(vt(elem), LIST_DATA);
        Ok(())
    }

    /// Bounds-checks `index` against the list in local `b`; leaves `b + i * width`.
    pub fn checked_addr(
        &mut self,
        b: u32,
        elem: &Ty,
        index: &Expr,
        span: weft_lang::source::Span,
    ) -> R<()> {
        self.checked_addr_len(b, elem, index, span, None)
    }

    /// [`Cx::checked_addr`], comparing with the list's length already in i64 local `len`.
    pub fn checked_addr_len(
        &mut self,
        b: u32,
        elem: &Ty,
        index: &Expr,
        span: weft_lang::source::Span,
        len: Option<u32>,
    ) -> R<()> {
        self.expr(index)?;
        let i = self.f.temp(ValType::I64);
        self.f.tee(i);
        match len {
            Some(l) => {
                self.f.get(l);
            }
            None => {
                self.f.get(b).ld32(LIST_LEN);
                self.f.ins().i64_extend_i32_u();
            }
        }
        self.f.ins().i64_ge_u();
        let tr = self.m.rt(Rt::TrapIndex);
        self.f.if_(BlockType::Empty);
        // With the length cached, the trap path reads it from there: keeping the list's
        // base alive only for its error message costs a register in tight loops.
        self.f.get(i);
        match len {
            Some(l) => {
                self.f.get(l);
                self.f.ins().i32_wrap_i64();
            }
            None => {
                self.f.get(b).ld32(LIST_LEN);
            }
        }
        self.f.mark(span);
        self.f.call(tr);
        self.f.ins().unreachable();
        self.f.end();
        self.f.get(b).get(i);
        self.f.ins().i32_wrap_i64();
        self.f.i32c(if width(elem) == 8 { 3 } else { 2 });
        self.f.ins().i32_shl().i32_add();
        self.f.free_temp(i);
        Ok(())
    }

    fn call_closure(&mut self, callee: &Expr, args: &[Expr], e: &Expr) -> R<()> {
        let cty = self.ty(&callee.ty);
        let Ty::Fn(ps, r) = &cty else {
            return Err(self.err("call of a non-function", e.span));
        };
        let (c, ctmp, scratch) = self.operand_local(callee)?;
        let mut params = vec![ValType::I32];
        params.extend(ps.iter().map(vt));
        let tidx = self.m.type_idx(params, vec![vt(r)]);
        self.f.get(c);
        let mut temps = vec![];
        for a in args {
            temps.push(self.expr_b(a)?);
        }
        self.f.get(c).ld32(CLO_CODE);
        self.f.mark(e.span);
        self.f.ins().call_indirect(0, tidx);
        for t in temps.into_iter().rev() {
            self.release(t);
        }
        if scratch {
            self.f.free_temp(c);
        }
        self.release(ctmp);
        Ok(())
    }

    fn closure(
        &mut self,
        func: weft_lang::tir::FuncId,
        type_args: &[Ty],
        captures: &[Expr],
    ) -> R<()> {
        let targs: Vec<Ty> = type_args.iter().map(|t| self.ty(t)).collect();
        let entry = self.m.func(FnKey::ClosureEntry(func, targs.clone()));
        let drop = self.m.func(FnKey::ClosureDrop(func, targs));
        let (es, ds) = (self.m.slot(entry), self.m.slot(drop));
        let tys: Vec<Ty> = captures.iter().map(|c| self.ty(&c.ty)).collect();
        let shape = Shape::new(CLO_CAPS, tys);
        self.alloc(shape.size);
        let p = self.f.temp(ValType::I32);
        self.f.tee(p).i32c(es as i32).st32(CLO_CODE);
        self.f.get(p).i32c(ds as i32).st32(CLO_DROP);
        for (c, (t, off)) in captures.iter().zip(shape.tys.iter().zip(&shape.offs)) {
            self.f.get(p);
            self.expr(c)?;
            self.f.store(vt(t), *off);
        }
        self.f.get(p);
        self.f.free_temp(p);
        Ok(())
    }

    /// Allocates a record, tuple or variant and fills it from `fields` (owned).
    fn aggregate(&mut self, shape: &Shape, fields: &[Expr], tag: Option<u32>) -> R<()> {
        if fields.is_empty() && tag.is_none() {
            let p = self.m.empty_record();
            self.f.i32c(p as i32);
            return Ok(());
        }
        self.alloc(shape.size);
        let p = self.f.temp(ValType::I32);
        self.f.set(p);
        if let Some(t) = tag {
            self.f.get(p).i32c(t as i32).st32(TAG);
        }
        for (x, (t, off)) in fields.iter().zip(shape.tys.iter().zip(&shape.offs)) {
            self.f.get(p);
            self.expr(x)?;
            self.f.store(vt(t), *off);
        }
        self.f.get(p);
        self.f.free_temp(p);
        Ok(())
    }

    fn record_update(&mut self, ty: &Ty, base: &Expr, updates: &[(u32, Expr)], e: &Expr) -> R<()> {
        let shape = layout::record_shape(self.m.prog, ty)
            .ok_or_else(|| self.err("update of a non-record", e.span))?;
        self.expr(base)?;
        self.unique_top(ty);
        let p = self.f.temp(ValType::I32);
        self.f.set(p);
        for (i, v) in updates {
            let i = *i as usize;
            let (Some(t), Some(&off)) = (shape.tys.get(i).cloned(), shape.offs.get(i)) else {
                return Err(self.err("field index out of range", e.span));
            };
            self.expr(v)?;
            let nv = self.f.temp(vt(&t));
            self.f.set(nv);
            if is_heap(&t) {
                self.f.get(p).ld32(off);
                self.drop_top(&t);
            }
            self.f.get(p).get(nv).store(vt(&t), off);
            self.f.free_temp(nv);
        }
        self.f.get(p);
        self.f.free_temp(p);
        Ok(())
    }

    /// Replaces the owned pointer on the stack by a uniquely owned one (copying if shared).
    pub fn unique_top(&mut self, ty: &Ty) {
        let t = self.f.temp(ValType::I32);
        self.f.tee(t).ld32(0).i32c(1);
        self.f.ins().i32_ne();
        self.f.if_(BlockType::Empty);
        self.f.get(t);
        helpers::emit_unique(self.m, &mut self.f, ty);
        self.f.set(t);
        self.f.end();
        self.f.get(t);
        self.f.free_temp(t);
    }

    fn list_lit(&mut self, ty: &Ty, elems: &[Expr]) -> R<()> {
        let Ty::List(et) = ty else { return Ok(()) };
        if elems.is_empty() {
            let p = self.m.empty_list();
            self.f.i32c(p as i32);
            return Ok(());
        }
        let w = width(et);
        let new = self.m.rt(Rt::ListNew);
        let p = self.f.temp(ValType::I32);
        self.f
            .i32c(elems.len() as i32)
            .i32c(w as i32)
            .call(new)
            .tee(p)
            .i32c(elems.len() as i32)
            .st32(LIST_LEN);
        for (i, x) in elems.iter().enumerate() {
            self.f.get(p);
            self.expr(x)?;
            self.f.store(vt(et), LIST_DATA + i as u32 * w);
        }
        self.f.get(p);
        self.f.free_temp(p);
        Ok(())
    }

    fn interp(&mut self, parts: &[Expr]) -> R<()> {
        if parts.len() == 1 {
            return self.expr(&parts[0]);
        }
        let mut locs = vec![];
        let mut temps = vec![];
        for p in parts {
            let (l, tmp, scratch) = self.operand_local(p)?;
            locs.push((l, scratch));
            temps.push(tmp);
        }
        let total = self.f.temp(ValType::I32);
        self.f.i32c(0);
        for (l, _) in &locs {
            self.f.get(*l).ld32(8);
            self.f.ins().i32_add();
        }
        let new = self.m.rt(Rt::StrNew);
        self.f.call(new);
        let out = self.f.temp(ValType::I32);
        self.f.tee(out).i32c(12);
        self.f.ins().i32_add();
        self.f.set(total);
        for (l, _) in &locs {
            self.f.get(total).get(*l).i32c(12);
            self.f.ins().i32_add();
            self.f.get(*l).ld32(8);
            self.f.ins().memory_copy(0, 0);
            self.f.get(total).get(*l).ld32(8);
            self.f.ins().i32_add();
            self.f.set(total);
        }
        self.f.get(out);
        self.f.free_temp(out);
        self.f.free_temp(total);
        for (l, scratch) in locs {
            if scratch {
                self.f.free_temp(l);
            }
        }
        for t in temps.into_iter().rev() {
            self.release(t);
        }
        Ok(())
    }
}
