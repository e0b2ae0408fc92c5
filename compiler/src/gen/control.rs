//! Loops, `break`/`continue`/`return`, and `let`.
//!
//! Each loop iteration has its own scope (holding a `for` variable), so `continue` releases
//! what the body bound and the iteration's end releases the variable; `break` releases both.

use super::{Cx, LoopCx};
use crate::layout::{is_heap, vt, width, LIST_DATA, LIST_LEN};
use crate::module::R;
use wasm_encoder::{BlockType, ValType};
use weft_lang::source::Span;
use weft_lang::tir::{Expr, LocalId, Pat, PatKind};

impl Cx<'_, '_> {
    /// Runs `body` as the loop body inside `block $cont`, with the loop context pushed.
    fn loop_body(&mut self, brk: crate::emit::Label, base: usize, body: &Expr) -> R<()> {
        let cont = self.f.block(BlockType::Empty);
        self.loops.push(LoopCx {
            brk,
            cont,
            brk_scopes: base,
            cont_scopes: base + 1,
        });
        self.expr(body)?;
        let t = self.ty(&body.ty);
        self.drop_top(&t);
        self.loops.pop();
        self.f.end();
        Ok(())
    }

    pub fn while_(&mut self, cond: &Expr, body: &Expr) -> R<()> {
        let base = self.scopes.len();
        let brk = self.f.block(BlockType::Empty);
        let top = self.f.loop_(BlockType::Empty);
        self.push_scope();
        self.expr(cond)?;
        self.f.ins().i32_eqz();
        self.f.br_if(brk);
        self.loop_body(brk, base, body)?;
        self.pop_scope();
        self.f.br(top);
        self.f.end();
        self.f.end();
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
        let base = self.scopes.len();
        let brk = self.f.block(BlockType::Empty);
        let top = self.f.loop_(BlockType::Empty);
        self.f.get(v).get(h);
        self.f.ins().i64_ge_s();
        self.f.br_if(brk);
        self.push_scope();
        self.loop_body(brk, base, body)?;
        self.pop_scope();
        self.f.get(v).i64c(1);
        self.f.ins().i64_add();
        self.f.set(v);
        self.f.br(top);
        self.f.end();
        self.f.end();
        self.f.i32c(0);
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
        let (i, n) = (self.f.local(ValType::I32), self.f.local(ValType::I32));
        self.f.get(l).ld32(LIST_LEN).set(n);
        self.f.i32c(0).set(i);
        let base = self.scopes.len();
        let brk = self.f.block(BlockType::Empty);
        let top = self.f.loop_(BlockType::Empty);
        self.f.get(i).get(n);
        self.f.ins().i32_ge_u();
        self.f.br_if(brk);
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
        self.loop_body(brk, base, body)?;
        self.pop_scope();
        self.f.br(top);
        self.f.end();
        self.f.end();
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
