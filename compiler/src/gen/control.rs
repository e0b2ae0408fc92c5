//! Loops, `break`/`continue`/`return`, and `let`.
//!
//! Each loop iteration has its own scope (holding a `for` variable), so `continue` releases
//! what the body bound and the iteration's end releases the variable; `break` releases both.

use super::cache::{cond_bounds, loop_hoists, sticky_roots, Fact, Kind, Step};
use super::{Cx, LoopCx};
use crate::layout::{is_heap, vt, width, LIST_DATA, LIST_LEN};
use crate::module::R;
use wasm_encoder::{BlockType, ValType};
use weft_lang::source::Span;
use weft_lang::tir::{Expr, ExprKind, LocalId, Pat, PatKind};
use weft_lang::types::Ty;

impl Cx<'_, '_> {
    /// Runs `body` as the loop body inside `block $cont`, with the loop context pushed.
    /// `seed` is what the body's block starts out knowing (see [`Cx::seed_loop`]).
    fn loop_body(
        &mut self,
        brk: crate::emit::Label,
        base: usize,
        body: &Expr,
        seed: Vec<Fact>,
    ) -> R<()> {
        let cont = self.f.block(BlockType::Empty);
        self.loops.push(LoopCx {
            brk,
            cont,
            brk_scopes: base,
            cont_scopes: base + 1,
        });
        let (seeded, broken) = (!seed.is_empty(), self.pc.broken);
        self.pc.seed = seed;
        self.expr(body)?;
        self.pc.seed.clear();
        debug_assert!(
            !seeded || self.pc.broken == broken,
            "a seeded loop body invalidated its seed"
        );
        let t = self.ty(&body.ty);
        self.drop_top(&t);
        self.loops.pop();
        self.f.end();
        Ok(())
    }

    /// Before a loop: makes the roots it keeps unique (see [`sticky_roots`]) unique and
    /// loads the lengths it keeps, recording both for every block inside; returns where
    /// the loop's facts start (to drop them after it) and the loop-invariant element paths
    /// a peeled first iteration could settle.
    fn seed_loop(
        &mut self,
        cond: Option<&Expr>,
        body: &Expr,
        var: Option<LocalId>,
    ) -> (usize, Vec<(LocalId, Vec<Step>)>) {
        let mark = self.pc.sticky.len();
        let st = sticky_roots(cond, body);
        for r in st.unique {
            let t = self.local_ty(r);
            if is_heap(&t) && !self.pc.sticky_has(r, Kind::Ptr) {
                let w = self.locals[r.0 as usize];
                self.unique_local(w, &t);
                self.pc.sticky.push(Fact::root(r, Kind::Ptr, w, true));
            }
        }
        for r in st.len {
            if matches!(self.local_ty(r), Ty::List(_)) && !self.pc.sticky_has(r, Kind::Len) {
                let l = self.f.local(ValType::I64);
                self.f.get(self.locals[r.0 as usize]).ld32(LIST_LEN);
                self.f.ins().i64_extend_i32_u();
                self.f.set(l);
                self.pc.sticky.push(Fact::root(r, Kind::Len, l, false));
            }
        }
        let hoisted = loop_hoists(cond, body, var)
            .into_iter()
            .filter(|(r, _)| self.pc.sticky_has(*r, Kind::Ptr))
            .map(|(r, i)| (r, vec![Step::Index(i)]))
            .collect();
        (mark, hoisted)
    }

    pub fn while_(&mut self, cond: &Expr, body: &Expr) -> R<()> {
        let (mark, _) = self.seed_loop(Some(cond), body, None);
        let base = self.scopes.len();
        let brk = self.f.block(BlockType::Empty);
        if rotatable(cond) {
            // Rotated: tested once before the loop and then at its bottom, so an
            // iteration takes one branch instead of a test at the top and a jump back.
            // Only for conditions that read scalars (no temporaries, no place caching).
            self.expr(cond)?;
            self.f.ins().i32_eqz();
            self.f.br_if(brk);
            let top = self.f.loop_(BlockType::Empty);
            self.push_scope();
            self.loop_body(brk, base, body, cond_bounds(cond))?;
            self.pop_scope();
            self.expr(cond)?;
            self.f.br_if(top);
        } else {
            let top = self.f.loop_(BlockType::Empty);
            self.push_scope();
            self.expr(cond)?;
            self.f.ins().i32_eqz();
            self.f.br_if(brk);
            self.loop_body(brk, base, body, cond_bounds(cond))?;
            self.pop_scope();
            self.f.br(top);
        }
        self.f.end();
        self.f.end();
        self.pc.sticky.truncate(mark);
        self.f.i32c(0);
        Ok(())
    }

    pub fn for_range(&mut self, var: LocalId, lo: &Expr, hi: &Expr, body: &Expr) -> R<()> {
        let v = self.locals[var.0 as usize];
        self.expr(lo)?;
        self.f.set(v);
        self.expr(hi)?;
        let h = self.f.local(ValType::I64);
        self.f.set(h);
        let (mark, hoisted) = self.seed_loop(None, body, Some(var));
        let base = self.scopes.len();
        let brk = self.f.block(BlockType::Empty);
        // Inside the body `var < hi <= Int max`, so `var + 1` cannot overflow (`var` is
        // immutable, so the fact holds for the whole iteration).
        let step_ok = Fact::root(var, Kind::IncOk, 0, false);
        let mut seed = vec![step_ok.clone()];
        if !hoisted.is_empty() {
            // The first iteration, peeled: it walks `root[i]` (made unique), which the
            // loop then starts out knowing.
            self.peeled_iteration(v, h, brk, base, body, vec![step_ok], hoisted)?;
            seed.append(&mut self.pc.captured);
        }
        // Rotated (see [`Cx::while_`]): tested before the loop and at its bottom.
        self.f.get(v).get(h);
        self.f.ins().i64_ge_s();
        self.f.br_if(brk);
        let top = self.f.loop_(BlockType::Empty);
        self.push_scope();
        self.loop_body(brk, base, body, seed)?;
        self.pop_scope();
        self.f.get(v).i64c(1);
        self.f.ins().i64_add();
        self.f.tee(v);
        self.f.get(h);
        self.f.ins().i64_lt_s();
        self.f.br_if(top);
        self.f.end();
        self.f.end();
        self.pc.sticky.truncate(mark);
        self.f.i32c(0);
        Ok(())
    }

    /// The first iteration of a `for` over a range, peeled: exit test, body, increment.
    /// The facts about `capture`'s paths left at the end of the body go to `pc.captured`.
    #[allow(clippy::too_many_arguments)]
    fn peeled_iteration(
        &mut self,
        v: u32,
        h: u32,
        brk: crate::emit::Label,
        base: usize,
        body: &Expr,
        seed: Vec<Fact>,
        capture: Vec<(LocalId, Vec<Step>)>,
    ) -> R<()> {
        self.f.get(v).get(h);
        self.f.ins().i64_ge_s();
        self.f.br_if(brk);
        self.push_scope();
        self.pc.capture = capture;
        self.loop_body(brk, base, body, seed)?;
        self.pc.capture.clear();
        self.pop_scope();
        self.f.get(v).i64c(1);
        self.f.ins().i64_add();
        self.f.set(v);
        Ok(())
    }

    pub fn for_list(&mut self, var: LocalId, list: &Expr, body: &Expr) -> R<()> {
        let lt = self.ty(&list.ty);
        let et = match &lt {
            weft_lang::types::Ty::List(t) => (**t).clone(),
            _ => return Err(self.err("for over a non-list", list.span)),
        };
        let v = self.locals[var.0 as usize];
        self.expr(list)?;
        let (l, _) = self.hold(&lt);
        self.f.ins().drop();
        let (mark, _) = self.seed_loop(None, body, Some(var));
        let (i, n) = (self.f.local(ValType::I32), self.f.local(ValType::I32));
        self.f.get(l).ld32(LIST_LEN).set(n);
        self.f.i32c(0).set(i);
        let base = self.scopes.len();
        let brk = self.f.block(BlockType::Empty);
        self.f.get(i).get(n);
        self.f.ins().i32_ge_u();
        self.f.br_if(brk);
        let top = self.f.loop_(BlockType::Empty);
        self.push_scope();
        self.f
            .get(l)
            .get(i)
            .i32c(if width(&et) == 8 { 3 } else { 2 });
        self.f.ins().i32_shl().i32_add();
        self.f.load(vt(&et), LIST_DATA).set(v);
        if is_heap(&et) {
            self.f.inc_local(v);
            self.own(v, et.clone());
        }
        self.f.get(i).i32c(1);
        self.f.ins().i32_add();
        self.f.set(i);
        self.loop_body(brk, base, body, vec![])?;
        self.pop_scope();
        self.f.get(i).get(n);
        self.f.ins().i32_lt_u();
        self.f.br_if(top);
        self.f.end();
        self.f.end();
        self.pc.sticky.truncate(mark);
        self.release(Some((l, lt)));
        self.f.i32c(0);
        Ok(())
    }

    pub fn break_(&mut self, cont: bool, span: Span) -> R<()> {
        let Some(lp) = self.loops.last() else {
            return Err(self.err("break outside a loop", span));
        };
        let (label, from) = if cont {
            (lp.cont, lp.cont_scopes)
        } else {
            (lp.brk, lp.brk_scopes)
        };
        self.release_scopes(from);
        self.f.br(label);
        Ok(())
    }

    pub fn return_(&mut self, v: &Expr) -> R<()> {
        let ret = self.ret.clone();
        self.expr_as(v, &ret)?;
        self.release_scopes(0);
        if let Some(s) = self.inout {
            self.f.get(s);
        }
        self.f.ins().return_();
        Ok(())
    }

    pub fn let_(&mut self, pat: &Pat, value: &Expr) -> R<()> {
        if let PatKind::Bind(l) = &pat.kind {
            let t = self.local_ty(*l);
            let w = self.locals[l.0 as usize];
            self.expr(value)?;
            self.f.set(w);
            self.own(w, t);
            self.pc.local_assigned(*l);
            return Ok(());
        }
        let t = self.ty(&value.ty);
        let (s, tmp, scratch) = self.operand_local(value)?;
        self.bind(pat, s, &t)?;
        if scratch {
            self.f.free_temp(s);
        }
        self.release(tmp);
        Ok(())
    }
}

/// Whether a loop condition may be evaluated twice (before the loop and at its bottom):
/// literals and scalar locals under comparisons, arithmetic and `!`, at most a few deep.
fn rotatable(cond: &Expr) -> bool {
    fn go(e: &Expr, budget: &mut u32) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Float(_) => true,
            ExprKind::Local(_) => scalar(&e.ty),
            ExprKind::Unary { operand, .. } => go(operand, budget),
            ExprKind::Binary { lhs, rhs, .. } => {
                scalar(&lhs.ty) && go(lhs, budget) && go(rhs, budget)
            }
            _ => false,
        }
    }
    go(cond, &mut 8)
}

fn scalar(t: &Ty) -> bool {
    matches!(t, Ty::Int | Ty::Float | Ty::Bool | Ty::Duration)
}
