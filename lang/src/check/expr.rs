//! Checking expressions: literals, names, operators, control flow, aggregates and lambdas.

use super::body::{Body, FnCx};
use super::Item;
use crate::ast::{self, BinOp, ExprKind as A, UnOp};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{AdtKind, Expr, ExprKind as K, FuncDef, Intrinsic, MatchArm, Stmt};
use crate::types::Ty;

pub(crate) fn mk(kind: K, ty: Ty, span: Span) -> Expr {
    Expr { kind, ty, span }
}

pub(crate) fn unit(span: Span) -> Expr {
    mk(K::Unit, Ty::Unit, span)
}

impl Body<'_, '_> {
    /// Checks `e` against an expected type, reporting a mismatch at `e`.
    pub fn check(&mut self, e: &ast::Expr, expected: &Ty) -> Expr {
        let out = self.expr(e, Some(expected));
        self.expect_ty(&out.ty, expected, e.span);
        out
    }

    pub fn infer_expr(&mut self, e: &ast::Expr) -> Expr {
        self.expr(e, None)
    }

    /// Checks `e`; `hint` guides inference (lambda parameters, empty lists) but is not enforced.
    pub fn expr(&mut self, e: &ast::Expr, hint: Option<&Ty>) -> Expr {
        let span = e.span;
        match &e.kind {
            A::Int(n) => mk(K::Int(*n), Ty::Int, span),
            A::Float(x) => mk(K::Float(*x), Ty::Float, span),
            A::Bool(b) => mk(K::Bool(*b), Ty::Bool, span),
            A::Duration(ns) => mk(K::Int(*ns), Ty::Duration, span),
            A::Str(parts) => self.string(parts, span),
            A::Name { path, name } => self.name(path, name, span, hint),
            A::Call { callee, args } => self.call(callee, args, span, hint),
            A::New {
                ty,
                args,
                body,
                handler,
            } => self.new_resource(ty, args, body.as_ref(), handler.as_deref(), span),
            A::MethodCall {
                receiver,
                method,
                args,
            } => self.method_call(receiver, method, args, span, hint),
            A::Field { base, name } => self.field(base, name, span),
            A::TupleField {
                base,
                index,
                index_span,
            } => self.tuple_field(base, *index, *index_span, span),
            A::Index { .. } => {
                if let A::Index { base, index } = &e.kind {
                    if let Some(x) = self.map_lane_index(base, index, span) {
                        return x;
                    }
                }
                if self.is_place_shaped(e) {
                    if let Some((_, read)) = self.place(e, false) {
                        return read;
                    }
                }
                let A::Index { base, index } = &e.kind else {
                    unreachable!()
                };
                let base = self.infer_expr(base);
                self.index_expr(base, index, span)
            }
            A::Unary { op, expr } => self.unary(*op, expr, span),
            A::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, span),
            A::Range { .. } => {
                let d = Diagnostic::error(span, "a range can only be iterated by `for`")
                    .with_hint("write `for i in lo..hi { ... }`");
                self.error(d);
                mk(K::Unit, Ty::Never, span)
            }
            A::If { cond, then, else_ } => self.if_expr(cond, then, else_.as_deref(), span, hint),
            A::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, span, hint),
            A::Block(b) => self.block(b, hint),
            A::While { cond, body } => {
                let cond = self.check(cond, &Ty::Bool);
                self.cx().loops += 1;
                let body = self.block_expect(body, &Ty::Unit);
                self.cx().loops -= 1;
                mk(
                    K::While {
                        cond: Box::new(cond),
                        body: Box::new(body),
                    },
                    Ty::Unit,
                    span,
                )
            }
            A::For { pat, iter, body } => self.for_expr(pat, iter, body, span),
            A::Break | A::Continue => {
                if self.cx().loops == 0 {
                    let what = if matches!(e.kind, A::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(Diagnostic::error(
                        span,
                        format!("`{what}` outside of a loop"),
                    ));
                }
                let k = if matches!(e.kind, A::Break) {
                    K::Break
                } else {
                    K::Continue
                };
                mk(k, Ty::Never, span)
            }
            A::Return(v) => {
                let ret = self.cx().ret.clone();
                let value = match v {
                    Some(v) => self.check(v, &ret),
                    None => {
                        self.expect_ty(&Ty::Unit, &ret, span);
                        unit(span)
                    }
                };
                mk(K::Return(Box::new(value)), Ty::Never, span)
            }
            A::Tuple(es) => self.tuple(es, span, hint),
            A::List(es) => self.list(es, span, hint),
            A::Record { name, fields } => self.record(name, fields, span, hint),
            A::RecordUpdate { base, fields } => self.record_update(base, fields, span, hint),
            A::Lambda { params, ret, body } => self.lambda(params, ret.as_ref(), body, span, hint),
            A::Question(inner) => self.question(inner, span),
            A::Try(inner) => self.try_expr(inner, span),
            A::Send(inner) => self.send_expr(inner, span),
        }
    }

    fn string(&mut self, parts: &[ast::StrPart], span: Span) -> Expr {
        if let [ast::StrPart::Lit(s)] = parts {
            return mk(K::Str(s.clone()), Ty::String, span);
        }
        if parts.is_empty() {
            return mk(K::Str(String::new()), Ty::String, span);
        }
        let mut out = vec![];
        for p in parts {
            match p {
                ast::StrPart::Lit(s) => out.push(mk(K::Str(s.clone()), Ty::String, span)),
                ast::StrPart::Expr(e) => {
                    let x = self.infer_expr(e);
                    out.push(self.stringify(x));
                }
            }
        }
        mk(K::Interp(out), Ty::String, span)
    }

    /// Wraps a non-String value in `ToString`.
    pub fn stringify(&mut self, x: Expr) -> Expr {
        if self.infer.shallow(&x.ty) == Ty::String {
            return x;
        }
        let span = x.span;
        mk(
            K::Intrinsic {
                op: Intrinsic::ToString,
                args: vec![x],
            },
            Ty::String,
            span,
        )
    }

    fn name(
        &mut self,
        path: &[ast::Ident],
        name: &ast::Ident,
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        if path.is_empty() {
            if let Some(id) = self.lookup_local(&name.name) {
                return mk(K::Local(id), self.local_ty(id), span);
            }
            if let Some(i) = self.find_lane(&name.name) {
                return self.lane_read(i, span);
            }
        }
        match self.ck.lookup_path(self.module, path, &name.name) {
            Some(Item::Func(f)) => {
                let (params, ret, type_args) = self.instantiate(f);
                let ty = Ty::Fn(params, Box::new(ret));
                mk(K::FuncValue { func: f, type_args }, ty, span)
            }
            Some(Item::Variant(adt, v)) => self.construct(adt, v, &[], span, hint),
            Some(Item::Agent(_)) => {
                let d =
                    Diagnostic::error(span, format!("`{}` is an agent, not a value", name.name))
                        .with_hint(format!(
                            "make a reference to one with its URI: `{}(\"/...\")`",
                            name.name
                        ));
                self.error(d);
                mk(K::Unit, Ty::Never, span)
            }
            Some(_) => {
                let d = Diagnostic::error(span, format!("`{}` is a type, not a value", name.name));
                self.error(d);
                mk(K::Unit, Ty::Never, span)
            }
            None => {
                if path.is_empty() {
                    if let Some(v) = super::builtins::constant(&name.name) {
                        return mk(K::Int(v), Ty::Int, span);
                    }
                }
                let d =
                    Diagnostic::error(span, format!("cannot find `{}` in this scope", name.name))
                        .with_label("not found");
                let d = match self.not_in_pure_scope(&name.name) {
                    Some(hint) => d.with_hint(hint),
                    None => d,
                };
                self.error(d);
                mk(K::Unit, Ty::Never, span)
            }
        }
    }

    fn field(&mut self, base: &ast::Expr, name: &ast::Ident, span: Span) -> Expr {
        let base = self.infer_expr(base);
        let ty = self.infer.shallow(&base.ty);
        match &ty {
            Ty::Adt(id, args) => {
                if let AdtKind::Record(fields) = &self.ck.adts[id.0 as usize].kind {
                    if let Some(i) = fields.iter().position(|f| f.name == name.name) {
                        let fty = fields[i].ty.subst(args);
                        return mk(
                            K::Field {
                                base: Box::new(base),
                                index: i as u32,
                            },
                            fty,
                            span,
                        );
                    }
                }
            }
            Ty::Agent(_) if name.name == "uri" => {
                let args = vec![base];
                return mk(
                    K::Intrinsic {
                        op: Intrinsic::AgentUri,
                        args,
                    },
                    Ty::String,
                    span,
                );
            }
            Ty::Agent(id) => {
                self.no_agent_field(*id, name);
                return mk(K::Unit, Ty::Never, span);
            }
            Ty::Var(_) => {
                self.unknown_type(base.span);
                return mk(K::Unit, Ty::Never, span);
            }
            Ty::Never => return base,
            _ => {}
        }
        let d = Diagnostic::error(
            name.span,
            format!("no field `{}` on type `{}`", name.name, self.show(&ty)),
        )
        .with_label("unknown field");
        self.error(d);
        mk(K::Unit, Ty::Never, span)
    }

    pub fn unknown_type(&mut self, span: Span) {
        let d = Diagnostic::error(span, "the type of this value must be known here")
            .with_hint("add a type annotation, e.g. `let xs: List<Int> = []`");
        self.error(d);
    }

    fn tuple_field(&mut self, base: &ast::Expr, index: u32, index_span: Span, span: Span) -> Expr {
        let base = self.infer_expr(base);
        match self.infer.shallow(&base.ty) {
            Ty::Tuple(ts) if (index as usize) < ts.len() => {
                let t = ts[index as usize].clone();
                mk(
                    K::Field {
                        base: Box::new(base),
                        index,
                    },
                    t,
                    span,
                )
            }
            Ty::Var(_) => {
                self.unknown_type(base.span);
                mk(K::Unit, Ty::Never, span)
            }
            t => {
                let d = Diagnostic::error(
                    index_span,
                    format!("no element {index} in a value of type `{}`", self.show(&t)),
                );
                self.error(d);
                mk(K::Unit, Ty::Never, span)
            }
        }
    }

    /// `base[index]` for a base that is not a place.
    pub fn index_expr(&mut self, base: Expr, index: &ast::Expr, span: Span) -> Expr {
        match self.infer.shallow(&base.ty) {
            Ty::List(t) => {
                let index = self.check(index, &Ty::Int);
                mk(
                    K::Index {
                        base: Box::new(base),
                        index: Box::new(index),
                    },
                    *t,
                    span,
                )
            }
            Ty::Map(k, v) => {
                let key = self.check(index, &k);
                self.map_read(base, key, *v, span)
            }
            Ty::Var(_) => {
                self.unknown_type(base.span);
                mk(K::Unit, Ty::Never, span)
            }
            t => {
                let d = Diagnostic::error(
                    base.span,
                    format!("cannot index into a value of type `{}`", self.show(&t)),
                )
                .with_label("only lists and maps can be indexed");
                self.error(d);
                mk(K::Unit, Ty::Never, span)
            }
        }
    }

    fn unary(&mut self, op: UnOp, e: &ast::Expr, span: Span) -> Expr {
        let x = self.infer_expr(e);
        let t = self.infer.shallow(&x.ty);
        let ok = match op {
            UnOp::Neg => matches!(t, Ty::Int | Ty::Float | Ty::Duration | Ty::Never),
            UnOp::Not => {
                self.expect_ty(&t, &Ty::Bool, e.span);
                true
            }
        };
        if !ok {
            let d = Diagnostic::error(
                span,
                format!("cannot negate a value of type `{}`", self.show(&t)),
            );
            self.error(d);
        }
        let ty = if op == UnOp::Not { Ty::Bool } else { t };
        mk(
            K::Unary {
                op,
                operand: Box::new(x),
            },
            ty,
            span,
        )
    }

    fn binary(&mut self, op: BinOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> Expr {
        if matches!(op, BinOp::And | BinOp::Or) {
            let l = self.check(lhs, &Ty::Bool);
            let r = self.check(rhs, &Ty::Bool);
            return mk(
                K::Binary {
                    op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                Ty::Bool,
                span,
            );
        }
        let l = self.infer_expr(lhs);
        let lt = self.infer.shallow(&l.ty);
        let r = self.expr(rhs, Some(&lt));
        if self.infer.unify(&l.ty, &r.ty).is_err() {
            let d = Diagnostic::error(
                span,
                format!("`{}` needs operands of the same type", op.symbol()),
            )
            .with_label(format!(
                "`{}` {} `{}`",
                self.show(&l.ty),
                op.symbol(),
                self.show(&r.ty)
            ))
            .with_hint("convert one side, e.g. with `.to_float()` or `.to_int()`");
            self.error(d);
            return mk(K::Unit, Ty::Never, span);
        }
        let t = self.infer.shallow(&l.ty);
        let t = if t == Ty::Never {
            self.infer.shallow(&r.ty)
        } else {
            t
        };
        let (ok, ty) = match op {
            BinOp::Add => (
                matches!(
                    t,
                    Ty::Int | Ty::Float | Ty::Duration | Ty::String | Ty::Never
                ),
                t.clone(),
            ),
            BinOp::Sub => (
                matches!(t, Ty::Int | Ty::Float | Ty::Duration | Ty::Never),
                t.clone(),
            ),
            BinOp::Mul | BinOp::Div | BinOp::Rem => {
                (matches!(t, Ty::Int | Ty::Float | Ty::Never), t.clone())
            }
            BinOp::Eq | BinOp::Ne => (!matches!(t, Ty::Fn(..)), Ty::Bool),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (
                matches!(
                    t,
                    Ty::Int | Ty::Float | Ty::Duration | Ty::String | Ty::Bool | Ty::Never
                ),
                Ty::Bool,
            ),
            BinOp::And | BinOp::Or => (true, Ty::Bool),
        };
        if let Ty::Var(_) = t {
            self.unknown_type(l.span);
        } else if !ok {
            let d = Diagnostic::error(
                span,
                format!("`{}` cannot be applied to `{}`", op.symbol(), self.show(&t)),
            );
            self.error(d);
        }
        mk(
            K::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty,
            span,
        )
    }

    /// The type two branches agree on (`Never` gives way to the other).
    pub fn join(&mut self, a: &Ty, b: &Expr) -> Ty {
        let at = self.infer.shallow(a);
        if at == Ty::Never {
            return b.ty.clone();
        }
        self.expect_ty(&b.ty, &at, b.span);
        at
    }

    fn if_expr(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Block,
        else_: Option<&ast::Expr>,
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        let cond = self.check(cond, &Ty::Bool);
        match else_ {
            None => {
                let then = self.block_expect(then, &Ty::Unit);
                let k = K::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    else_: Box::new(unit(span)),
                };
                mk(k, Ty::Unit, span)
            }
            Some(e) => {
                let then = self.block(then, hint);
                let hint2 = hint.cloned().unwrap_or_else(|| then.ty.clone());
                let els = self.expr(e, Some(&hint2));
                let ty = self.join(&then.ty, &els);
                mk(
                    K::If {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        else_: Box::new(els),
                    },
                    ty,
                    span,
                )
            }
        }
    }

    fn match_expr(
        &mut self,
        scrutinee: &ast::Expr,
        arms: &[ast::Arm],
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        let scrut = self.infer_expr(scrutinee);
        let mut ty = hint
            .cloned()
            .map(|h| self.infer.shallow(&h))
            .unwrap_or(Ty::Never);
        let hint_given = hint.is_some();
        let mut out = vec![];
        for arm in arms {
            self.push_scope();
            let pat = self.pattern(&arm.pat, &scrut.ty, false);
            let guard = arm.guard.as_ref().map(|g| self.check(g, &Ty::Bool));
            let body = self.expr(&arm.body, if ty == Ty::Never { hint } else { Some(&ty) });
            self.pop_scope();
            if hint_given && ty != Ty::Never {
                self.expect_ty(&body.ty, &ty.clone(), body.span);
            } else {
                ty = self.join(&ty, &body);
            }
            out.push(MatchArm { pat, guard, body });
        }
        self.check_exhaustive(&scrut.ty, &out, span);
        mk(
            K::Match {
                scrutinee: Box::new(scrut),
                arms: out,
            },
            ty,
            span,
        )
    }

    pub fn block_expect(&mut self, b: &ast::Block, expected: &Ty) -> Expr {
        let out = self.block(b, Some(expected));
        let at = b.tail.as_ref().map(|t| t.span).unwrap_or(b.span);
        self.expect_ty(&out.ty, expected, at);
        out
    }

    pub fn block(&mut self, b: &ast::Block, hint: Option<&Ty>) -> Expr {
        self.push_scope();
        let mut stmts = vec![];
        for s in &b.stmts {
            stmts.push(self.stmt(s));
        }
        let tail = match &b.tail {
            Some(t) => self.expr(t, hint),
            None => {
                let diverges = matches!(stmts.last(), Some(Stmt::Expr(e)) if self.infer.shallow(&e.ty) == Ty::Never);
                let ty = if diverges { Ty::Never } else { Ty::Unit };
                mk(K::Unit, ty, b.span)
            }
        };
        self.pop_scope();
        let ty = tail.ty.clone();
        if stmts.is_empty() {
            return tail;
        }
        mk(
            K::Block {
                stmts,
                tail: Box::new(tail),
            },
            ty,
            b.span,
        )
    }

    fn for_expr(
        &mut self,
        pat: &ast::Pattern,
        iter: &ast::Expr,
        body: &ast::Block,
        span: Span,
    ) -> Expr {
        self.push_scope();
        let out = if let A::Range { lo, hi } = &iter.kind {
            let lo = self.check(lo, &Ty::Int);
            let hi = self.check(hi, &Ty::Int);
            let (var, body) = self.loop_body(pat, &Ty::Int, body);
            K::ForRange {
                var,
                lo: Box::new(lo),
                hi: Box::new(hi),
                body: Box::new(body),
            }
        } else {
            let list = self.infer_expr(iter);
            let elem = match self.infer.shallow(&list.ty) {
                Ty::List(t) => *t,
                Ty::Var(_) => {
                    self.unknown_type(list.span);
                    Ty::Never
                }
                t => {
                    let hint = match t {
                        Ty::Map(..) => "iterate over `m.keys()` or `m.values()`",
                        Ty::String => "iterate over `s.chars()`",
                        _ => "`for` iterates over a `List` or a range `lo..hi`",
                    };
                    let d = Diagnostic::error(
                        iter.span,
                        format!("cannot iterate over a value of type `{}`", self.show(&t)),
                    )
                    .with_hint(hint);
                    self.error(d);
                    Ty::Never
                }
            };
            let (var, body) = self.loop_body(pat, &elem, body);
            K::ForList {
                var,
                list: Box::new(list),
                body: Box::new(body),
            }
        };
        self.pop_scope();
        mk(out, Ty::Unit, span)
    }

    /// The loop variable and the body, destructuring a pattern at the top of the body.
    fn loop_body(
        &mut self,
        pat: &ast::Pattern,
        elem: &Ty,
        body: &ast::Block,
    ) -> (crate::tir::LocalId, Expr) {
        self.cx().loops += 1;
        let result = if let ast::PatternKind::Bind(id) = &pat.kind {
            let var = self.declare(&id.name, elem.clone(), false);
            (var, self.block_expect(body, &Ty::Unit))
        } else {
            let var = self.declare("$item", elem.clone(), false);
            self.push_scope();
            let p = self.pattern(pat, elem, false);
            self.check_irrefutable(&p, pat.span);
            let b = self.block_expect(body, &Ty::Unit);
            self.pop_scope();
            let value = mk(K::Local(var), elem.clone(), pat.span);
            let span = b.span;
            (
                var,
                mk(
                    K::Block {
                        stmts: vec![Stmt::Let { pat: p, value }],
                        tail: Box::new(b),
                    },
                    Ty::Unit,
                    span,
                ),
            )
        };
        self.cx().loops -= 1;
        result
    }

    fn tuple(&mut self, es: &[ast::Expr], span: Span, hint: Option<&Ty>) -> Expr {
        match es.len() {
            0 => unit(span),
            1 => self.expr(&es[0], hint),
            _ => {
                let hints = match hint.map(|h| self.infer.shallow(h)) {
                    Some(Ty::Tuple(ts)) if ts.len() == es.len() => ts,
                    _ => vec![],
                };
                let xs: Vec<Expr> = es
                    .iter()
                    .enumerate()
                    .map(|(i, e)| self.expr(e, hints.get(i)))
                    .collect();
                let ty = Ty::Tuple(xs.iter().map(|x| x.ty.clone()).collect());
                mk(K::Tuple(xs), ty, span)
            }
        }
    }

    fn list(&mut self, es: &[ast::Expr], span: Span, hint: Option<&Ty>) -> Expr {
        let elem = match hint.map(|h| self.infer.shallow(h)) {
            Some(Ty::List(t)) => *t,
            _ => self.fresh(),
        };
        let mut xs = vec![];
        for e in es {
            let x = self.expr(e, Some(&elem));
            self.expect_ty(&x.ty, &elem, e.span);
            xs.push(x);
        }
        mk(K::List(xs), Ty::list(elem), span)
    }

    pub fn lambda(
        &mut self,
        params: &[ast::LambdaParam],
        ret: Option<&ast::TypeExpr>,
        body: &ast::Expr,
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        let (hint_ps, hint_ret) = match hint.map(|h| self.infer.shallow(h)) {
            Some(Ty::Fn(ps, r)) if ps.len() == params.len() => (ps, Some(*r)),
            _ => (vec![], None),
        };
        let mut ptys = vec![];
        for (i, p) in params.iter().enumerate() {
            let t = match &p.ty {
                Some(t) => self.ck.lower_ty(self.module, &self.generics.clone(), t),
                None => hint_ps.get(i).cloned().unwrap_or_else(|| self.fresh()),
            };
            ptys.push(t);
        }
        let ret_ty = match ret {
            Some(t) => self.ck.lower_ty(self.module, &self.generics.clone(), t),
            None => hint_ret.unwrap_or_else(|| self.fresh()),
        };
        self.cxs.push(FnCx::new(ret_ty.clone()));
        let mut pids = vec![];
        for (p, t) in params.iter().zip(&ptys) {
            pids.push(self.declare(&p.name.name, t.clone(), false));
        }
        let b = self.check(body, &ret_ty);
        let cx = self.cxs.pop().expect("the lambda's context");
        let captures: Vec<Expr> = cx
            .captures
            .iter()
            .map(|(outer, _)| {
                let t = self.local_ty(*outer);
                mk(K::Local(*outer), t, span)
            })
            .collect();
        let mut all_params: Vec<_> = cx.captures.iter().map(|(_, inner)| *inner).collect();
        all_params.extend(pids);
        let def = FuncDef {
            name: format!("{}::{{closure}}", self.fname),
            generics: self.generics.clone(),
            params: all_params,
            captures: cx.captures.len() as u32,
            inout_self: false,
            // A pure body's lambdas use no lanes either (`check/pure.rs`).
            agent: if self.pure.is_some() {
                None
            } else {
                self.agent
            },
            ret: ret_ty.clone(),
            locals: cx.locals,
            body: b,
            span,
        };
        let func = self.lift(def);
        let type_args = (0..self.generics.len() as u32).map(Ty::Param).collect();
        mk(
            K::Closure {
                func,
                type_args,
                captures,
            },
            Ty::Fn(ptys, Box::new(ret_ty)),
            span,
        )
    }
}
