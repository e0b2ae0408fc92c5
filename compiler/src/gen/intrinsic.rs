//! Built-in operations ([`Intrinsic`]) that are not mutating calls.

use super::{Cx, Tmp};
use crate::helpers;
use crate::imports;
use crate::layout::{is_heap, vt, width, LIST_DATA, LIST_LEN};
use crate::module::{FnKey, R};
use crate::rt::map::MapOp;
use crate::rt::Rt;
use wasm_encoder::{BlockType, ValType};
use weft_lang::tir::{Expr, Intrinsic};
use weft_lang::types::Ty;

fn elem_ty(t: &Ty) -> Ty {
    match t {
        Ty::List(e) => (**e).clone(),
        _ => Ty::Unit,
    }
}

impl Cx<'_, '_> {
    /// Pushes every argument borrowed; returns the temporaries to release.
    fn args_b(&mut self, args: &[Expr]) -> R<Vec<Tmp>> {
        let mut v = vec![];
        for a in args {
            v.push(self.expr_b(a)?);
        }
        Ok(v)
    }

    fn release_all(&mut self, temps: Vec<Tmp>) {
        for t in temps.into_iter().rev() {
            self.release(t);
        }
    }

    /// Borrowed args, then a runtime call.
    fn rt_call(&mut self, r: Rt, args: &[Expr], e: &Expr) -> R<()> {
        let temps = self.args_b(args)?;
        let idx = self.m.rt(r);
        self.call_at(idx, e.span);
        self.release_all(temps);
        Ok(())
    }

    fn arg_ty(&self, args: &[Expr], i: usize) -> Ty {
        args.get(i).map(|a| self.ty(&a.ty)).unwrap_or(Ty::Unit)
    }

    fn fmath(&mut self, op: i32, args: &[Expr]) -> R<()> {
        self.f.i32c(op);
        self.expr(&args[0])?;
        if let Some(b) = args.get(1) {
            self.expr(b)?;
        } else {
            self.f.ins().f64_const(0.0.into());
        }
        self.f.call(imports::index_of("fmath"));
        Ok(())
    }

    pub fn intrinsic(&mut self, op: Intrinsic, args: &[Expr], e: &Expr) -> R<()> {
        use Intrinsic::*;
        let rty = self.ty(&e.ty);
        if args.len() < arity(op) {
            return Err(self.err(format!("{op:?} with too few arguments"), e.span));
        }
        match op {
            LaneGet(_)
            | LaneSet(_)
            | MapLaneGet(_)
            | MapLanePut(_)
            | MapLaneRemove(_)
            | MapLaneContains(_)
            | AgentRef(_)
            | AgentUri
            | AgentCall { .. }
            | AgentSend { .. }
            | ResourceNew(_)
            | ResourceOp(_) => self.agent_intrinsic(op, args, e)?,
            Print => {
                let (s, tmp, scratch) = self.operand_local(&args[0])?;
                self.f.get(s).i32c(12);
                self.f.ins().i32_add();
                self.f.get(s).ld32(8).call(imports::index_of("print"));
                self.f.i32c(0);
                self.done(s, tmp, scratch);
            }
            Panic => {
                let tmp = self.expr_b(&args[0])?;
                let t = self.m.rt(Rt::TrapStr);
                self.call_at(t, e.span);
                self.f.ins().unreachable();
                self.release(tmp);
            }
            Assert => {
                self.expr(&args[0])?;
                self.f.ins().i32_eqz();
                self.f.if_(BlockType::Empty);
                let tmp = self.expr_b(&args[1])?;
                let t = self.m.rt(Rt::TrapStr);
                self.call_at(t, e.span);
                self.f.ins().unreachable();
                self.release(tmp);
                self.f.end();
                self.f.i32c(0);
            }
            AssertEq => self.assert_eq(args, e)?,
            ToString => self.emit_to_string(&args[0])?,
            Hash => {
                let t = self.arg_ty(args, 0);
                let tmp = self.expr_b(&args[0])?;
                helpers::emit_hash(self.m, &mut self.f, &t);
                self.f.ins().i64_extend_i32_u();
                self.release(tmp);
            }
            IntAbs | IntMin | IntMax | IntPow | IntToFloat | FloatAbs | FloatSqrt | FloatFloor
            | FloatCeil | FloatRound | FloatMin | FloatMax | FloatPow | FloatSin | FloatCos
            | FloatTan | FloatAtan2 | FloatExp | FloatLn | FloatToInt | FloatToFixed
            | FloatIsNan => self.num_intrinsic(op, args, e)?,
            StrLen | StrContains | StrStartsWith | StrEndsWith | StrTrim | StrToUpper
            | StrToLower | StrSplit | StrChars | StrReplace | StrSubstring | StrRepeat
            | StrIndexOf | StrParseInt | StrParseFloat | StrToBytes => {
                self.str_intrinsic(op, args, e, &rty)?
            }
            BytesLen | ListLen | MapLen | ListSort | ListJoin | ListConcat | ListReverse
            | ListSlice | ListContains | MapNew | MapGet | MapContainsKey | MapKeys | MapValues => {
                self.coll_intrinsic(op, args, e, &rty)?
            }
            Now => {
                self.f.call(imports::index_of("now_ms"));
            }
            Random => {
                self.f.call(imports::index_of("random"));
            }
            Sleep => {
                self.expr(&args[0])?;
                self.f.mark(e.span);
                self.f.call(imports::index_of("sleep")).i32c(0);
            }
            TryCall => self.try_call(args, e)?,
            CaughtMessage => self.caught_message(e),
            DurationMillis => {
                self.expr(&args[0])?;
                self.f.i64c(1_000_000);
                self.f.ins().i64_div_s();
            }
            ListPush | ListPop | MapInsert | MapRemove => {
                return Err(self.err(format!("{op:?} outside a mutating call"), e.span));
            }
        }
        Ok(())
    }

    fn num_intrinsic(&mut self, op: Intrinsic, args: &[Expr], e: &Expr) -> R<()> {
        use Intrinsic::*;
        match op {
            IntAbs => {
                self.expr(&args[0])?;
                let a = self.f.temp(ValType::I64);
                self.f.tee(a).i64c(i64::MIN);
                self.f.ins().i64_eq();
                self.f.if_(BlockType::Empty);
                self.trap("integer overflow", e.span);
                self.f.end();
                self.f.i64c(0).get(a);
                self.f.ins().i64_sub();
                self.f.get(a).get(a).i64c(0);
                self.f.ins().i64_lt_s().select();
                self.f.free_temp(a);
            }
            IntMin | IntMax => {
                let (a, b) = (self.f.temp(ValType::I64), self.f.temp(ValType::I64));
                self.expr(&args[0])?;
                self.f.set(a);
                self.expr(&args[1])?;
                self.f.set(b);
                self.f.get(a).get(b).get(a).get(b);
                if op == IntMin {
                    self.f.ins().i64_lt_s();
                } else {
                    self.f.ins().i64_gt_s();
                }
                self.f.ins().select();
                self.f.free_temp(a);
                self.f.free_temp(b);
            }
            IntPow => self.rt_call(Rt::IntPow, args, e)?,
            IntToFloat => {
                self.expr(&args[0])?;
                self.f.ins().f64_convert_i64_s();
            }
            FloatAbs | FloatSqrt | FloatFloor | FloatCeil => {
                self.expr(&args[0])?;
                let ins = &mut self.f.ins();
                match op {
                    FloatAbs => ins.f64_abs(),
                    FloatSqrt => ins.f64_sqrt(),
                    FloatFloor => ins.f64_floor(),
                    _ => ins.f64_ceil(),
                };
            }
            FloatRound => self.float_round(&args[0])?,
            FloatMin | FloatMax => {
                self.expr(&args[0])?;
                self.expr(&args[1])?;
                if op == FloatMin {
                    self.f.ins().f64_min();
                } else {
                    self.f.ins().f64_max();
                }
            }
            FloatPow => self.fmath(0, args)?,
            FloatSin => self.fmath(1, args)?,
            FloatCos => self.fmath(2, args)?,
            FloatTan => self.fmath(3, args)?,
            FloatAtan2 => self.fmath(4, args)?,
            FloatExp => self.fmath(5, args)?,
            FloatLn => self.fmath(6, args)?,
            FloatToInt => self.float_to_int(&args[0], e)?,
            FloatToFixed => self.emit_to_fixed(args)?,
            FloatIsNan => {
                self.expr(&args[0])?;
                let x = self.f.temp(ValType::F64);
                self.f.tee(x).get(x);
                self.f.ins().f64_ne();
                self.f.free_temp(x);
            }
            _ => return Err(self.err(format!("{op:?} in the wrong group"), e.span)),
        }
        Ok(())
    }

    fn str_intrinsic(&mut self, op: Intrinsic, args: &[Expr], e: &Expr, rty: &Ty) -> R<()> {
        use Intrinsic::*;
        let rty = rty.clone();
        match op {
            StrLen => self.rt_call(Rt::StrLen, args, e)?,
            StrContains => {
                let temps = self.args_b(&args[..2])?;
                let find = self.m.rt(Rt::StrFind);
                self.f.i32c(0).call(find).i32c(0);
                self.f.ins().i32_ge_s();
                self.release_all(temps);
            }
            StrStartsWith => self.rt_call(Rt::StrStartsWith, args, e)?,
            StrEndsWith => self.rt_call(Rt::StrEndsWith, args, e)?,
            StrTrim => self.rt_call(Rt::StrTrim, args, e)?,
            StrToUpper | StrToLower => {
                let tmp = self.expr_b(&args[0])?;
                let c = self.m.rt(Rt::StrCase);
                self.f.i32c((op == StrToUpper) as i32).call(c);
                self.release(tmp);
            }
            StrSplit => self.rt_call(Rt::StrSplit, args, e)?,
            StrChars => self.rt_call(Rt::StrChars, args, e)?,
            StrReplace => self.rt_call(Rt::StrReplace, args, e)?,
            StrSubstring => self.rt_call(Rt::StrSubstring, args, e)?,
            StrRepeat => self.rt_call(Rt::StrRepeat, args, e)?,
            StrIndexOf => {
                let (s, tmp, scratch) = self.operand_local(&args[0])?;
                let t2 = self.expr_b(&args[1])?;
                let i = self.f.temp(ValType::I32);
                let x = self.f.temp(ValType::I64);
                let (find, b2c) = (self.m.rt(Rt::StrFind), self.m.rt(Rt::StrByteToChar));
                self.f.set(i);
                self.f.get(s).get(i).i32c(0).call(find).tee(i).i32c(0);
                self.f.ins().i32_ge_s();
                self.f.if_(BlockType::Result(ValType::I32));
                self.f.get(s).get(i).call(b2c).set(x);
                self.make_some(&rty, x)?;
                self.f.else_();
                let none = self.m.static_tag(1);
                self.f.i32c(none as i32);
                self.f.end();
                self.f.free_temp(x);
                self.f.free_temp(i);
                self.release(t2);
                self.done(s, tmp, scratch);
            }
            StrParseInt | StrParseFloat => {
                let r = if op == StrParseInt {
                    Rt::StrParseInt
                } else {
                    Rt::StrParseFloat
                };
                let tmp = self.expr_b(&args[0])?;
                let c = self.m.rt(r);
                self.f.call(c);
                let x = self.f.temp(if op == StrParseInt {
                    ValType::I64
                } else {
                    ValType::F64
                });
                self.f.set(x);
                self.option_of(&rty, x)?;
                self.f.free_temp(x);
                self.release(tmp);
            }
            StrToBytes => self.expr(&args[0])?,
            _ => return Err(self.err(format!("{op:?} in the wrong group"), e.span)),
        }
        Ok(())
    }

    fn coll_intrinsic(&mut self, op: Intrinsic, args: &[Expr], e: &Expr, rty: &Ty) -> R<()> {
        use Intrinsic::*;
        let rty = rty.clone();
        match op {
            BytesLen | ListLen | MapLen => {
                let tmp = self.expr_b(&args[0])?;
                self.f.ld32(8);
                self.f.ins().i64_extend_i32_u();
                self.release(tmp);
            }
            ListSort => self.list_sort(&args[0], e)?,
            ListJoin => self.rt_call(Rt::ListJoin, args, e)?,
            ListConcat | ListReverse | ListSlice => {
                let et = elem_ty(&self.arg_ty(args, 0));
                let temps = self.args_b(args)?;
                self.f.i32c(width(&et) as i32).i32c(is_heap(&et) as i32);
                let r = match op {
                    ListConcat => Rt::ListConcat,
                    ListReverse => Rt::ListReverse,
                    _ => Rt::ListSlice,
                };
                let c = self.m.rt(r);
                self.call_at(c, e.span);
                self.release_all(temps);
            }
            ListContains => self.list_contains(args)?,
            MapNew => {
                let p = self.m.static_named("map{}".into(), |_| vec![0; 24]);
                self.f.i32c(p as i32);
            }
            MapGet => self.map_get(&rty, args, e)?,
            MapContainsKey => {
                let mt = self.arg_ty(args, 0);
                let temps = self.args_b(args)?;
                let find = self.m.func(FnKey::Map(MapOp::Find, mt));
                self.call_at(find, e.span);
                self.f.i32c(0);
                self.f.ins().i32_ne();
                self.release_all(temps);
            }
            MapKeys | MapValues => {
                let mt = self.arg_ty(args, 0);
                let mop = if op == MapKeys {
                    MapOp::Keys
                } else {
                    MapOp::Values
                };
                let temps = self.args_b(args)?;
                let c = self.m.func(FnKey::Map(mop, mt));
                self.call_at(c, e.span);
                self.release_all(temps);
            }
            _ => return Err(self.err(format!("{op:?} in the wrong group"), e.span)),
        }
        Ok(())
    }

    /// Releases what [`Cx::operand_local`] produced.
    fn done(&mut self, l: u32, tmp: Tmp, scratch: bool) {
        if scratch {
            self.f.free_temp(l);
        }
        self.release(tmp);
    }

    /// With a flag on the stack: `Some(x)` if set, else `None`.
    fn option_of(&mut self, opt: &Ty, x: u32) -> R<()> {
        self.f.if_(BlockType::Result(ValType::I32));
        self.make_some(opt, x)?;
        self.f.else_();
        let none = self.m.static_tag(1);
        self.f.i32c(none as i32);
        self.f.end();
        Ok(())
    }

    fn float_round(&mut self, x: &Expr) -> R<()> {
        // Half away from zero: t = trunc(x); |x - t| >= 0.5 ? t + copysign(1, x) : t
        self.expr(x)?;
        let (a, t) = (self.f.temp(ValType::F64), self.f.temp(ValType::F64));
        self.f.tee(a);
        self.f.ins().f64_trunc();
        self.f.tee(t);
        self.f.ins().f64_const(1.0.into());
        self.f.get(a);
        self.f.ins().f64_copysign().f64_add();
        self.f.get(t).get(a).get(t);
        self.f
            .ins()
            .f64_sub()
            .f64_abs()
            .f64_const(0.5.into())
            .f64_ge()
            .select();
        self.f.free_temp(a);
        self.f.free_temp(t);
        Ok(())
    }

    fn float_to_int(&mut self, x: &Expr, e: &Expr) -> R<()> {
        self.expr(x)?;
        let a = self.f.temp(ValType::F64);
        self.f.tee(a).get(a);
        self.f.ins().f64_ne();
        self.f.if_(BlockType::Empty);
        self.trap("Float to Int conversion of NaN", e.span);
        self.f.end();
        self.f.get(a);
        self.f.ins().f64_const((i64::MIN as f64).into()).f64_lt();
        self.f.get(a);
        self.f
            .ins()
            .f64_const((-(i64::MIN as f64)).into())
            .f64_ge()
            .i32_or();
        self.f.if_(BlockType::Empty);
        self.trap("Float to Int conversion out of range", e.span);
        self.f.end();
        self.f.get(a);
        self.f.ins().i64_trunc_f64_s();
        self.f.free_temp(a);
        Ok(())
    }

    fn emit_to_fixed(&mut self, args: &[Expr]) -> R<()> {
        let (x, d, sb) = (
            self.f.temp(ValType::F64),
            self.f.temp(ValType::I32),
            self.f.temp(ValType::I32),
        );
        self.expr(&args[0])?;
        self.f.set(x);
        self.expr(&args[1])?;
        // digits clamped to 0..=400
        let d64 = self.f.temp(ValType::I64);
        self.f.tee(d64).i64c(0).get(d64).i64c(0);
        self.f.ins().i64_gt_s().select();
        self.f.set(d64);
        self.f.get(d64).i64c(400).get(d64).i64c(400);
        self.f.ins().i64_lt_s().select().i32_wrap_i64();
        self.f.set(d);
        let (new, res) = (self.m.rt(Rt::SbNew), self.m.rt(Rt::SbReserve));
        self.f.call(new).get(d).i32c(340);
        self.f.ins().i32_add();
        self.f.call(res).set(sb);
        self.f.get(sb).get(x).get(d).get(sb).i32c(12);
        self.f.ins().i32_add();
        self.f.get(sb).ld32(4).i32c(12);
        self.f.ins().i32_sub();
        self.f.call(imports::index_of("float_to_fixed"));
        self.f.st32(8);
        self.f.get(sb);
        for l in [x, d, sb, d64] {
            self.f.free_temp(l);
        }
        Ok(())
    }

    fn emit_to_string(&mut self, x: &Expr) -> R<()> {
        let t = self.ty(&x.ty);
        if t == Ty::String {
            return self.expr(x);
        }
        let tmp = self.expr_b(x)?;
        let v = self.f.temp(vt(&t));
        self.f.set(v);
        let new = self.m.rt(Rt::SbNew);
        self.f.call(new).get(v);
        helpers::emit_show(self.m, &mut self.f, &t);
        self.f.free_temp(v);
        self.release(tmp);
        Ok(())
    }

    fn assert_eq(&mut self, args: &[Expr], e: &Expr) -> R<()> {
        let t = self.arg_ty(args, 0);
        let (a, ta, sa) = self.operand_local(&args[0])?;
        let (b, tb, sb_) = self.operand_local(&args[1])?;
        self.f.get(a).get(b);
        helpers::emit_eq(self.m, &mut self.f, &t);
        self.f.ins().i32_eqz();
        self.f.if_(BlockType::Empty);
        let (new, push) = (self.m.rt(Rt::SbNew), self.m.rt(Rt::SbStr));
        let s1 = self.m.str_lit(b"assertion failed: left != right (left: ");
        let s2 = self.m.str_lit(b", right: ");
        let s3 = self.m.str_lit(b")");
        let s4 = self.m.str_lit(b": ");
        self.f.call(new).i32c(s1 as i32).call(push).get(a);
        helpers::emit_show(self.m, &mut self.f, &t);
        self.f.i32c(s2 as i32).call(push).get(b);
        helpers::emit_show(self.m, &mut self.f, &t);
        self.f.i32c(s3 as i32).call(push);
        let sbl = self.f.temp(ValType::I32);
        self.f.set(sbl);
        let mtmp = self.expr_b(&args[2])?;
        let msg = self.f.temp(ValType::I32);
        self.f.set(msg);
        self.f.get(msg).ld32(8);
        self.f.if_(BlockType::Empty);
        self.f
            .get(sbl)
            .i32c(s4 as i32)
            .call(push)
            .get(msg)
            .call(push)
            .set(sbl);
        self.f.end();
        self.f.get(sbl);
        self.f.free_temp(sbl);
        let tr = self.m.rt(Rt::TrapStr);
        self.call_at(tr, e.span);
        self.f.ins().unreachable();
        self.release(mtmp);
        self.f.free_temp(msg);
        self.f.end();
        self.f.i32c(0);
        self.done(b, tb, sb_);
        self.done(a, ta, sa);
        Ok(())
    }

    fn list_sort(&mut self, l: &Expr, e: &Expr) -> R<()> {
        let lt = self.ty(&l.ty);
        let et = elem_ty(&lt);
        let kind = match et {
            Ty::Int | Ty::Duration => 0,
            Ty::Float => 1,
            Ty::Bool => 2,
            Ty::String => 3,
            _ => return Err(self.err(format!("sort of List<{}>", self.m.show_ty(&et)), e.span)),
        };
        self.expr(l)?;
        self.unique_top(&lt);
        let t = self.f.temp(ValType::I32);
        let s = self.m.rt(Rt::Sort(kind));
        self.f.tee(t).call(s).get(t);
        self.f.free_temp(t);
        Ok(())
    }

    fn list_contains(&mut self, args: &[Expr]) -> R<()> {
        let et = elem_ty(&self.arg_ty(args, 0));
        let (l, tl, sl) = self.operand_local(&args[0])?;
        let (x, tx, sx) = self.operand_local(&args[1])?;
        let (i, n, r) = (
            self.f.temp(ValType::I32),
            self.f.temp(ValType::I32),
            self.f.temp(ValType::I32),
        );
        self.f.i32c(0).set(r);
        self.f.get(l).ld32(LIST_LEN).set(n);
        self.f.i32c(0).set(i);
        let brk = self.f.block(BlockType::Empty);
        let top = self.f.loop_(BlockType::Empty);
        self.f.get(i).get(n);
        self.f.ins().i32_ge_u();
        self.f.br_if(brk);
        self.f
            .get(l)
            .get(i)
            .i32c(if width(&et) == 8 { 3 } else { 2 });
        self.f.ins().i32_shl().i32_add();
        self.f.load(vt(&et), LIST_DATA).get(x);
        helpers::emit_eq(self.m, &mut self.f, &et);
        self.f.if_(BlockType::Empty);
        self.f.i32c(1).set(r);
        self.f.br(brk);
        self.f.end();
        self.f.get(i).i32c(1);
        self.f.ins().i32_add();
        self.f.set(i);
        self.f.br(top);
        self.f.end();
        self.f.end();
        self.f.get(r);
        for t in [i, n, r] {
            self.f.free_temp(t);
        }
        self.done(x, tx, sx);
        self.done(l, tl, sl);
        Ok(())
    }

    fn map_get(&mut self, rty: &Ty, args: &[Expr], e: &Expr) -> R<()> {
        let mt = self.arg_ty(args, 0);
        let Ty::Map(_, vty) = &mt else {
            return Err(self.err("get on a non-map", e.span));
        };
        let vty = (**vty).clone();
        let temps = self.args_b(args)?;
        let find = self.m.func(FnKey::Map(MapOp::Find, mt.clone()));
        self.call_at(find, e.span);
        let a = self.f.temp(ValType::I32);
        let x = self.f.temp(vt(&vty));
        self.f.tee(a);
        self.f.if_(BlockType::Result(ValType::I32));
        self.f.get(a).load(vt(&vty), crate::rt::map::E_VAL).set(x);
        if is_heap(&vty) {
            self.f.inc_local(x);
        }
        self.make_some(rty, x)?;
        self.f.else_();
        let none = self.m.static_tag(1);
        self.f.i32c(none as i32);
        self.f.end();
        self.f.free_temp(a);
        self.f.free_temp(x);
        self.release_all(temps);
        Ok(())
    }
}

/// The number of arguments an intrinsic reads.
fn arity(op: Intrinsic) -> usize {
    use Intrinsic::*;
    match op {
        Now | Random | MapNew | ListPop | CaughtMessage | LaneGet(_) => 0,
        AssertEq | StrReplace | StrSubstring | ListSlice => 3,
        Assert | IntMin | IntMax | IntPow | FloatPow | FloatMin | FloatMax | FloatToFixed
        | FloatAtan2 | StrContains | StrStartsWith | StrEndsWith | StrSplit | StrIndexOf
        | StrRepeat | ListJoin | ListConcat | ListContains | MapGet | MapContainsKey
        | MapInsert | MapLanePut(_) => 2,
        _ => 1,
    }
}
