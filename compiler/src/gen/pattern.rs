//! `match` and pattern bindings: each arm tests its pattern against the borrowed
//! scrutinee, then binds (incrementing what it binds), then checks its guard.

use super::Cx;
use crate::emit::Label;
use crate::helpers;
use crate::layout::{self, is_heap, vt, Shape, TAG};
use crate::module::R;
use crate::rt::Rt;
use wasm_encoder::BlockType;
use weft_lang::source::Span;
use weft_lang::tir::{Expr, MatchArm, Pat, PatKind};
use weft_lang::types::Ty;

fn needs_test(p: &Pat) -> bool {
    match &p.kind {
        PatKind::Wildcard | PatKind::Bind(_) => false,
        PatKind::Tuple(ps) => ps.iter().any(needs_test),
        PatKind::Record(fs) => fs.iter().any(|(_, p)| needs_test(p)),
        _ => true,
    }
}

fn binds(p: &Pat) -> bool {
    match &p.kind {
        PatKind::Bind(_) => true,
        PatKind::Tuple(ps) => ps.iter().any(binds),
        PatKind::Record(fs) => fs.iter().any(|(_, p)| binds(p)),
        PatKind::Variant { args, .. } => args.iter().any(binds),
        _ => false,
    }
}

impl Cx<'_, '_> {
    pub fn match_(&mut self, scrutinee: &Expr, arms: &[MatchArm], ty: &Ty, span: Span) -> R<()> {
        let st = self.ty(&scrutinee.ty);
        let (s, tmp, scratch) = self.operand_local(scrutinee)?;
        let out = self.f.block(BlockType::Result(vt(ty)));
        for arm in arms {
            let next = self.f.block(BlockType::Empty);
            self.test(&arm.pat, s, &st, next)?;
            self.push_scope();
            self.bind(&arm.pat, s, &st)?;
            if let Some(g) = &arm.guard {
                self.expr(g)?;
                self.f.ins().i32_eqz();
                self.f.if_(BlockType::Empty);
                let from = self.scopes.len() - 1;
                self.release_scopes(from);
                self.f.br(next);
                self.f.end();
            }
            self.expr_as(&arm.body, ty)?;
            self.pop_scope();
            self.f.br(out);
            self.f.end();
        }
        self.trap("no match arm matched", span);
        self.f.end();
        if scratch {
            self.f.free_temp(s);
        }
        self.release(tmp);
        Ok(())
    }

    /// The fields a composite pattern steps into.
    fn sub_shape(&self, p: &Pat, ty: &Ty) -> R<Option<Shape>> {
        Ok(match &p.kind {
            PatKind::Tuple(_) | PatKind::Record(_) => Some(
                layout::record_shape(self.m.prog, ty)
                    .ok_or_else(|| self.err("pattern layout", p.span))?,
            ),
            PatKind::Variant { variant, .. } => Some(
                layout::variant_shape(self.m.prog, ty, *variant)
                    .ok_or_else(|| self.err("pattern layout", p.span))?,
            ),
            _ => None,
        })
    }

    fn subpats(p: &Pat) -> Vec<(usize, &Pat)> {
        match &p.kind {
            PatKind::Tuple(ps) => ps.iter().enumerate().collect(),
            PatKind::Variant { args, .. } => args.iter().enumerate().collect(),
            PatKind::Record(fs) => fs.iter().map(|(i, p)| (*i as usize, p)).collect(),
            _ => vec![],
        }
    }

    /// Branches to `fail` unless the value in local `v` matches `p`.
    fn test(&mut self, p: &Pat, v: u32, ty: &Ty, fail: Label) -> R<()> {
        match &p.kind {
            PatKind::Wildcard | PatKind::Bind(_) => return Ok(()),
            PatKind::Int(n) => {
                self.f.get(v).i64c(*n);
                self.f.ins().i64_ne();
                self.f.br_if(fail);
                return Ok(());
            }
            PatKind::Float(x) => {
                self.f.get(v);
                self.f.ins().f64_const((*x).into()).f64_ne();
                self.f.br_if(fail);
                return Ok(());
            }
            PatKind::Bool(b) => {
                self.f.get(v);
                if *b {
                    self.f.ins().i32_eqz();
                }
                self.f.br_if(fail);
                return Ok(());
            }
            PatKind::Str(s) => {
                let lit = self.m.str_lit(s.as_bytes());
                let eq = self.m.rt(Rt::StrEq);
                self.f.get(v).i32c(lit as i32).call(eq);
                self.f.ins().i32_eqz();
                self.f.br_if(fail);
                return Ok(());
            }
            PatKind::Variant { variant, .. } => {
                self.f.get(v).ld32(TAG).i32c(*variant as i32);
                self.f.ins().i32_ne();
                self.f.br_if(fail);
            }
            PatKind::Tuple(_) | PatKind::Record(_) => {}
        }
        let Some(shape) = self.sub_shape(p, ty)? else {
            return Ok(());
        };
        for (i, sp) in Self::subpats(p) {
            if !needs_test(sp) {
                continue;
            }
            let (Some(ft), Some(&off)) = (shape.tys.get(i), shape.offs.get(i)) else {
                return Err(self.err("pattern field out of range", sp.span));
            };
            let t = self.f.temp(vt(ft));
            self.f.get(v).load(vt(ft), off).set(t);
            self.test(sp, t, ft, fail)?;
            self.f.free_temp(t);
        }
        Ok(())
    }

    /// Binds the pattern's variables from the (matching) value in local `v`.
    pub fn bind(&mut self, p: &Pat, v: u32, ty: &Ty) -> R<()> {
        if let PatKind::Bind(l) = &p.kind {
            let w = self.locals[l.0 as usize];
            self.f.get(v);
            if is_heap(ty) {
                self.f.inc_local(v);
            }
            self.f.set(w);
            self.own(w, ty.clone());
            return Ok(());
        }
        if !binds(p) {
            return Ok(());
        }
        let Some(shape) = self.sub_shape(p, ty)? else {
            return Ok(());
        };
        for (i, sp) in Self::subpats(p) {
            if !binds(sp) {
                continue;
            }
            let (Some(ft), Some(&off)) = (shape.tys.get(i), shape.offs.get(i)) else {
                return Err(self.err("pattern field out of range", sp.span));
            };
            let t = self.f.temp(vt(ft));
            self.f.get(v).load(vt(ft), off).set(t);
            self.bind(sp, t, ft)?;
            self.f.free_temp(t);
        }
        let _ = helpers::drop_fn;
        Ok(())
    }
}
