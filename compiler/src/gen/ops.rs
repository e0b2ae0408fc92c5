//! Unary and binary operators: checked Int arithmetic, Float, comparisons, structural
//! equality, string concatenation and ordering, short-circuit logic.

use super::cache::Kind;
use super::Cx;
use crate::helpers;
use crate::module::R;
use crate::rt::Rt;
use wasm_encoder::{BlockType, ValType};
use weft_lang::ast::{BinOp, UnOp};
use weft_lang::source::Span;
use weft_lang::tir::{Expr, ExprKind};
use weft_lang::types::Ty;

impl Cx<'_, '_> {
    pub fn unary(&mut self, op: UnOp, x: &Expr, e: &Expr) -> R<()> {
        let t = self.ty(&x.ty);
        self.expr(x)?;
        match (op, &t) {
            (UnOp::Not, _) => {
                self.f.ins().i32_eqz();
            }
            (UnOp::Neg, Ty::Float) => {
                self.f.ins().f64_neg();
            }
            (UnOp::Neg, _) => {
                let a = self.f.temp(ValType::I64);
                self.f.tee(a).i64c(i64::MIN);
                self.f.ins().i64_eq();
                self.f.if_(BlockType::Empty);
                self.trap("integer overflow", e.span);
                self.f.end();
                self.f.i64c(0).get(a);
                self.f.ins().i64_sub();
                self.f.free_temp(a);
            }
        }
        Ok(())
    }

    pub fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, e: &Expr) -> R<()> {
        let lt = self.ty(&lhs.ty);
        match op {
            BinOp::And | BinOp::Or => {
                self.expr(lhs)?;
                self.f.if_(BlockType::Result(ValType::I32));
                if op == BinOp::And {
                    self.expr(rhs)?;
                    self.f.else_();
                    self.f.i32c(0);
                } else {
                    self.f.i32c(1);
                    self.f.else_();
                    self.expr(rhs)?;
                }
                self.f.end();
                return Ok(());
            }
            BinOp::Eq | BinOp::Ne => return self.equality(op, &lt, lhs, rhs),
            _ => {}
        }
        match &lt {
            Ty::Float => {
                self.expr(lhs)?;
                self.expr(rhs)?;
                self.float_op(op);
            }
            Ty::String => {
                let a = self.expr_b(lhs)?;
                let b = self.expr_b(rhs)?;
                if op == BinOp::Add {
                    let c = self.m.rt(Rt::StrConcat);
                    self.call_at(c, e.span);
                } else {
                    let c = self.m.rt(Rt::StrCmp);
                    self.call_at(c, e.span);
                    self.f.i32c(0);
                    let ins = &mut self.f.ins();
                    match op {
                        BinOp::Lt => ins.i32_lt_s(),
                        BinOp::Le => ins.i32_le_s(),
                        BinOp::Gt => ins.i32_gt_s(),
                        _ => ins.i32_ge_s(),
                    };
                }
                self.release(b);
                self.release(a);
            }
            Ty::Bool => {
                self.expr(lhs)?;
                self.expr(rhs)?;
                let ins = &mut self.f.ins();
                match op {
                    BinOp::Lt => ins.i32_lt_u(),
                    BinOp::Le => ins.i32_le_u(),
                    BinOp::Gt => ins.i32_gt_u(),
                    _ => ins.i32_ge_u(),
                };
            }
            _ => {
                self.expr(lhs)?;
                if let (BinOp::Add | BinOp::Sub, ExprKind::Int(c)) = (op, &rhs.kind) {
                    if *c == 1 && self.step_cannot_overflow(op, lhs) {
                        self.f.i64c(1);
                        if op == BinOp::Add {
                            self.f.ins().i64_add();
                        } else {
                            self.f.ins().i64_sub();
                        }
                    } else {
                        self.add_const(op, *c, e.span);
                    }
                    return Ok(());
                }
                self.expr(rhs)?;
                self.int_op(op, e.span);
            }
        }
        Ok(())
    }

    /// Whether `lhs + 1` (`lhs - 1` for Sub) is known not to overflow: `lhs` is a local that
    /// a loop condition bounds (see [`super::cache::cond_bounds`]).
    fn step_cannot_overflow(&self, op: BinOp, lhs: &Expr) -> bool {
        let ExprKind::Local(l) = lhs.kind else {
            return false;
        };
        let kind = if op == BinOp::Add {
            Kind::IncOk
        } else {
            Kind::DecOk
        };
        self.pc.get(l, &[], kind).is_some()
    }

    /// `a + c` / `a - c` for a constant c: overflow is a single comparison of `a`.
    fn add_const(&mut self, op: BinOp, c: i64, span: Span) {
        let c = if op == BinOp::Sub {
            match c.checked_neg() {
                Some(n) => n,
                None => {
                    self.f.i64c(c);
                    self.int_op(op, span);
                    return;
                }
            }
        } else {
            c
        };
        if c != 0 {
            let a = self.f.temp(ValType::I64);
            self.f.tee(a);
            if c > 0 {
                self.f.i64c(i64::MAX - c);
                self.f.ins().i64_gt_s();
            } else {
                self.f.i64c(i64::MIN - c);
                self.f.ins().i64_lt_s();
            }
            self.f.if_(BlockType::Empty);
            self.trap("integer overflow", span);
            self.f.end();
            self.f.get(a).i64c(c);
            self.f.ins().i64_add();
            self.f.free_temp(a);
        }
    }

    fn equality(&mut self, op: BinOp, t: &Ty, lhs: &Expr, rhs: &Expr) -> R<()> {
        let a = self.expr_b(lhs)?;
        let b = self.expr_b(rhs)?;
        helpers::emit_eq(self.m, &mut self.f, t);
        if op == BinOp::Ne {
            self.f.ins().i32_eqz();
        }
        self.release(b);
        self.release(a);
        Ok(())
    }

    fn float_op(&mut self, op: BinOp) {
        if op == BinOp::Rem {
            // a - b * trunc(a / b)
            let (a, b) = (self.f.temp(ValType::F64), self.f.temp(ValType::F64));
            self.f.set(b).set(a);
            self.f.get(a).get(a).get(b);
            self.f.ins().f64_div().f64_trunc();
            self.f.get(b);
            self.f.ins().f64_mul().f64_sub();
            self.f.free_temp(a);
            self.f.free_temp(b);
            return;
        }
        let ins = &mut self.f.ins();
        match op {
            BinOp::Add => ins.f64_add(),
            BinOp::Sub => ins.f64_sub(),
            BinOp::Mul => ins.f64_mul(),
            BinOp::Div => ins.f64_div(),
            BinOp::Lt => ins.f64_lt(),
            BinOp::Le => ins.f64_le(),
            BinOp::Gt => ins.f64_gt(),
            _ => ins.f64_ge(),
        };
    }

    /// Checked i64 arithmetic and comparison on the two operands on the stack.
    pub fn int_op(&mut self, op: BinOp, span: Span) {
        let cmp = match op {
            BinOp::Lt => Some(0),
            BinOp::Le => Some(1),
            BinOp::Gt => Some(2),
            BinOp::Ge => Some(3),
            _ => None,
        };
        if let Some(c) = cmp {
            let ins = &mut self.f.ins();
            match c {
                0 => ins.i64_lt_s(),
                1 => ins.i64_le_s(),
                2 => ins.i64_gt_s(),
                _ => ins.i64_ge_s(),
            };
            return;
        }
        let (a, b, r) = (
            self.f.temp(ValType::I64),
            self.f.temp(ValType::I64),
            self.f.temp(ValType::I64),
        );
        self.f.set(b).set(a);
        match op {
            BinOp::Add | BinOp::Sub => {
                self.f.get(a).get(b);
                if op == BinOp::Add {
                    self.f.ins().i64_add();
                } else {
                    self.f.ins().i64_sub();
                }
                self.f.set(r);
                // Add overflows iff both operands differ in sign from the result;
                // sub iff the operands differ in sign and the result differs from a.
                if op == BinOp::Add {
                    self.f.get(a).get(r);
                    self.f.ins().i64_xor();
                    self.f.get(b).get(r);
                    self.f.ins().i64_xor();
                } else {
                    self.f.get(a).get(b);
                    self.f.ins().i64_xor();
                    self.f.get(a).get(r);
                    self.f.ins().i64_xor();
                }
                self.f.ins().i64_and();
                self.f.i64c(0);
                self.f.ins().i64_lt_s();
                self.f.if_(BlockType::Empty);
                self.trap("integer overflow", span);
                self.f.end();
                self.f.get(r);
            }
            BinOp::Mul => {
                self.f.get(a).get(a);
                self.f.ins().i64_extend32_s().i64_eq();
                self.f.get(b).get(b);
                self.f.ins().i64_extend32_s().i64_eq().i32_and();
                self.f.if_(BlockType::Result(ValType::I64));
                self.f.get(a).get(b);
                self.f.ins().i64_mul();
                self.f.else_();
                self.f.get(a).get(b);
                let mc = self.m.rt(Rt::MulCheck);
                self.call_at(mc, span);
                self.f.end();
            }
            _ => {
                self.f.get(b);
                self.f.ins().i64_eqz();
                self.f.if_(BlockType::Empty);
                self.trap("division by zero", span);
                self.f.end();
                if op == BinOp::Div {
                    self.f.get(b).i64c(-1);
                    self.f.ins().i64_eq();
                    self.f.get(a).i64c(i64::MIN);
                    self.f.ins().i64_eq().i32_and();
                    self.f.if_(BlockType::Empty);
                    self.trap("integer overflow", span);
                    self.f.end();
                    self.f.get(a).get(b);
                    self.f.ins().i64_div_s();
                } else {
                    self.f.get(a).get(b);
                    self.f.ins().i64_rem_s();
                }
            }
        }
        self.f.free_temp(a);
        self.f.free_temp(b);
        self.f.free_temp(r);
    }
}
