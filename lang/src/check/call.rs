//! Checking calls: functions with named and default arguments, closures, variant
//! constructors, built-in functions, and method calls (built-in, or `self` functions).

use super::body::{Body, FnCx};
use super::builtins::{self, BuiltinFn};
use super::expr::{mk, unit};
use super::{Head, Item, SelfKind};
use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{AdtKind, Expr, ExprKind as K, FuncId, Intrinsic, MutCallee, Place};
use crate::types::{AdtId, Ty};

impl Body<'_, '_> {
    /// Fresh type arguments for a function: (parameter types, result type, type arguments).
    pub fn instantiate(&mut self, f: FuncId) -> (Vec<Ty>, Ty, Vec<Ty>) {
        let n = self.ck.funcs[f.0 as usize].generics.len();
        let args: Vec<Ty> = (0..n).map(|_| self.fresh()).collect();
        let info = &self.ck.funcs[f.0 as usize];
        let ps = info.params.iter().map(|p| p.ty.subst(&args)).collect();
        (ps, info.ret.subst(&args), args)
    }

    pub fn call(
        &mut self,
        callee: &ast::Expr,
        args: &[ast::Arg],
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        if let ast::ExprKind::Name { path, name } = &callee.kind {
            let local = if path.is_empty() {
                self.lookup_local(&name.name).is_some() || self.find_lane(&name.name).is_some()
            } else {
                false
            };
            if !local {
                let found = self.ck.lookup_path(self.module, path, &name.name);
                match found {
                    Some(Item::Func(f)) => return self.call_func(f, None, args, span),
                    Some(Item::Agent(a)) => return self.agent_ref(a, args, span),
                    Some(Item::Variant(adt, v)) => {
                        let values: Vec<&ast::Expr> = args.iter().map(|a| &a.value).collect();
                        self.no_named_args(args);
                        return self.construct(adt, v, &values, span, hint);
                    }
                    _ => {}
                }
                if path.is_empty() {
                    if let Some(b) = builtins::function(&name.name) {
                        return self.call_builtin(b, args, span);
                    }
                }
                if found.is_none() && name.name.starts_with(char::is_uppercase) {
                    let d = Diagnostic::error(
                        callee.span,
                        format!("cannot find `{}` in this scope", name.name),
                    )
                    .with_label("no agent or enum variant of this name");
                    self.error(d);
                    return mk(K::Unit, Ty::Never, span);
                }
            }
        }
        let f = self.infer_expr(callee);
        self.call_value(f, args, span)
    }

    pub(crate) fn no_named_args(&mut self, args: &[ast::Arg]) {
        for a in args {
            if let Some(n) = &a.name {
                self.error(Diagnostic::error(
                    n.span,
                    "named arguments are only accepted by functions",
                ));
            }
        }
    }

    fn call_value(&mut self, f: Expr, args: &[ast::Arg], span: Span) -> Expr {
        self.no_named_args(args);
        let (ps, ret) = match self.infer.shallow(&f.ty) {
            Ty::Fn(ps, r) => (ps, *r),
            Ty::Var(_) => {
                let ps: Vec<Ty> = args.iter().map(|_| self.fresh()).collect();
                let r = self.fresh();
                self.infer
                    .unify(&f.ty, &Ty::Fn(ps.clone(), Box::new(r.clone())))
                    .ok();
                (ps, r)
            }
            Ty::Never => return f,
            t => {
                let d = Diagnostic::error(
                    f.span,
                    format!("a value of type `{}` cannot be called", self.show(&t)),
                );
                self.error(d);
                return mk(K::Unit, Ty::Never, span);
            }
        };
        if ps.len() != args.len() {
            self.arity_error(ps.len(), args.len(), span);
            return mk(K::Unit, Ty::Never, span);
        }
        let xs = args
            .iter()
            .zip(&ps)
            .map(|(a, p)| self.check(&a.value, p))
            .collect();
        mk(
            K::CallClosure {
                callee: Box::new(f),
                args: xs,
            },
            ret,
            span,
        )
    }

    pub(crate) fn arity_error(&mut self, want: usize, got: usize, span: Span) {
        let s = if want == 1 { "" } else { "s" };
        let d = Diagnostic::error(
            span,
            format!("this takes {want} argument{s} but {got} were given"),
        );
        self.error(d);
    }

    /// A call to a declared function; `recv` is the already-checked receiver of a method call.
    pub fn call_func(
        &mut self,
        f: FuncId,
        recv: Option<Expr>,
        args: &[ast::Arg],
        span: Span,
    ) -> Expr {
        let (ps, ret, type_args) = self.instantiate(f);
        let names: Vec<String> = self.ck.funcs[f.0 as usize]
            .params
            .iter()
            .map(|p| p.name.clone())
            .collect();
        let mut slots: Vec<Option<Expr>> = vec![None; ps.len()];
        let mut next = 0;
        let given = args.len() + usize::from(recv.is_some());
        if let Some(r) = recv {
            self.expect_ty(&r.ty, &ps[0], r.span);
            slots[0] = Some(r);
            next = 1;
        }
        let mut named_seen = false;
        for a in args {
            let i = match &a.name {
                None if named_seen => {
                    self.error(Diagnostic::error(
                        a.value.span,
                        "positional arguments must come before named ones",
                    ));
                    continue;
                }
                None => {
                    let i = next;
                    next += 1;
                    i
                }
                Some(n) => {
                    named_seen = true;
                    match names.iter().position(|p| *p == n.name) {
                        Some(i) => i,
                        None => {
                            self.error(
                                Diagnostic::error(
                                    n.span,
                                    format!("no parameter named `{}`", n.name),
                                )
                                .with_label("unknown name"),
                            );
                            continue;
                        }
                    }
                }
            };
            if i >= ps.len() {
                self.arity_error(ps.len(), given, span);
                return mk(K::Unit, Ty::Never, span);
            }
            if slots[i].is_some() {
                self.error(Diagnostic::error(
                    a.value.span,
                    format!("argument `{}` is given twice", names[i]),
                ));
                continue;
            }
            slots[i] = Some(self.check(&a.value, &ps[i]));
        }
        let mut out = vec![];
        for (i, slot) in slots.into_iter().enumerate() {
            match slot {
                Some(x) => out.push(x),
                None => out.push(self.default_arg(f, i, &ps[i], span)),
            }
        }
        mk(
            K::Call {
                func: f,
                type_args,
                args: out,
            },
            ret,
            span,
        )
    }

    /// The default value of parameter `i`, checked where it was declared.
    fn default_arg(&mut self, f: FuncId, i: usize, ty: &Ty, span: Span) -> Expr {
        let info = &self.ck.funcs[f.0 as usize];
        let (name, default, module) = (
            info.params[i].name.clone(),
            info.params[i].default.clone(),
            info.module,
        );
        if let Some(func) = info.params[i].default_fn {
            let call = K::Call {
                func,
                type_args: vec![],
                args: vec![],
            };
            return mk(call, ty.clone(), span);
        }
        let Some(default) = default else {
            let (fname, decl_span) = (info.name.clone(), info.span);
            let d = Diagnostic::error(
                span,
                format!("missing argument `{name}` in call to `{fname}`"),
            )
            .with_note(decl_span, "declared here");
            self.error(d);
            return mk(K::Unit, Ty::Never, span);
        };
        // A default sees neither the caller's locals nor its lanes.
        let saved = std::mem::replace(&mut self.module, module);
        let saved_agent = self.agent.take();
        let mut cx = FnCx::new(Ty::Unit);
        cx.isolated = true;
        self.cxs.push(cx);
        let x = self.check(&default, ty);
        let cx = self.cxs.pop().expect("the default's context");
        self.module = saved;
        self.agent = saved_agent;
        // Locals a default declares (none in practice) would belong to the caller's context.
        if !cx.locals.is_empty() {
            self.error(Diagnostic::error(
                default.span,
                "a default value must be a simple expression",
            ));
        }
        Expr { span, ..x }
    }

    fn call_builtin(&mut self, b: BuiltinFn, args: &[ast::Arg], span: Span) -> Expr {
        self.no_named_args(args);
        let want = match b {
            BuiltinFn::Now | BuiltinFn::Random => 0,
            BuiltinFn::AssertEq => 2,
            _ => 1,
        };
        let got = args.len();
        if !(got == want
            || (matches!(b, BuiltinFn::Assert | BuiltinFn::AssertEq) && got == want + 1))
        {
            self.arity_error(want, got, span);
            return mk(K::Unit, Ty::Never, span);
        }
        let intr = |op, args, ty| mk(K::Intrinsic { op, args }, ty, span);
        match b {
            BuiltinFn::Print => {
                let x = self.infer_expr(&args[0].value);
                let s = self.stringify(x);
                intr(Intrinsic::Print, vec![s], Ty::Unit)
            }
            BuiltinFn::Panic => {
                let x = self.infer_expr(&args[0].value);
                let s = self.stringify(x);
                intr(Intrinsic::Panic, vec![s], Ty::Never)
            }
            BuiltinFn::Assert => {
                let c = self.check(&args[0].value, &Ty::Bool);
                let msg = self.assert_message(&args[0].value, args.get(1), "assertion failed: ");
                intr(Intrinsic::Assert, vec![c, msg], Ty::Unit)
            }
            BuiltinFn::AssertEq => {
                let l = self.infer_expr(&args[0].value);
                let r = self.check(&args[1].value, &l.ty.clone());
                let msg = match args.get(2) {
                    Some(m) => self.check(&m.value, &Ty::String),
                    None => mk(K::Str(String::new()), Ty::String, span),
                };
                intr(Intrinsic::AssertEq, vec![l, r, msg], Ty::Unit)
            }
            BuiltinFn::Now => intr(Intrinsic::Now, vec![], Ty::Int),
            BuiltinFn::Random => intr(Intrinsic::Random, vec![], Ty::Float),
            BuiltinFn::Sleep => {
                let d = self.check(&args[0].value, &Ty::Duration);
                intr(Intrinsic::Sleep, vec![d], Ty::Unit)
            }
            BuiltinFn::Hash => {
                let x = self.infer_expr(&args[0].value);
                intr(Intrinsic::Hash, vec![x], Ty::Int)
            }
        }
    }

    /// "assertion failed: <source text>" or the user's own message.
    fn assert_message(&mut self, cond: &ast::Expr, msg: Option<&ast::Arg>, prefix: &str) -> Expr {
        if let Some(m) = msg {
            return self.check(&m.value, &Ty::String);
        }
        let file = self.ck.sources.file(cond.span.file);
        let text = file
            .text
            .get(cond.span.start as usize..cond.span.end as usize)
            .unwrap_or("");
        mk(K::Str(format!("{prefix}{text}")), Ty::String, cond.span)
    }

    /// Builds variant `v` of enum `adt` from argument expressions.
    pub fn construct(
        &mut self,
        adt: AdtId,
        v: u32,
        args: &[&ast::Expr],
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        let n = self.ck.adts[adt.0 as usize].generics.len();
        let type_args: Vec<Ty> = match hint.map(|h| self.infer.shallow(h)) {
            Some(Ty::Adt(id, ts)) if id == adt => ts,
            _ => (0..n).map(|_| self.fresh()).collect(),
        };
        let AdtKind::Enum(vs) = &self.ck.adts[adt.0 as usize].kind else {
            return mk(K::Unit, Ty::Never, span);
        };
        let vdef = &vs[v as usize];
        let (vname, ftys): (String, Vec<Ty>) = (
            vdef.name.clone(),
            vdef.fields.iter().map(|t| t.subst(&type_args)).collect(),
        );
        if ftys.len() != args.len() {
            let d = if ftys.is_empty() {
                Diagnostic::error(span, format!("`{vname}` takes no values"))
                    .with_hint(format!("write `{vname}` without parentheses"))
            } else {
                Diagnostic::error(
                    span,
                    format!(
                        "`{vname}` takes {} value{}, {} given",
                        ftys.len(),
                        if ftys.len() == 1 { "" } else { "s" },
                        args.len()
                    ),
                )
            };
            self.error(d);
            return mk(K::Unit, Ty::Never, span);
        }
        let fields = args
            .iter()
            .zip(&ftys)
            .map(|(a, t)| self.check(a, t))
            .collect();
        let ty = Ty::Adt(adt, type_args.clone());
        mk(
            K::Variant {
                adt,
                type_args,
                variant: v,
                fields,
            },
            ty,
            span,
        )
    }

    pub fn method_call(
        &mut self,
        receiver: &ast::Expr,
        method: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        if let Some(x) = self.static_call(receiver, method, args, span, hint) {
            return x;
        }
        if let Some(x) = self.lane_method_call(receiver, method, args, span, hint) {
            return x;
        }
        let place = if self.is_place_shaped(receiver) {
            self.place(receiver, false)
        } else {
            None
        };
        let recv = match &place {
            Some((_, read)) => read.clone(),
            None => self.infer_expr(receiver),
        };
        let rty = self.infer.shallow(&recv.ty);
        if let Ty::Var(_) = rty {
            self.unknown_type(recv.span);
            return mk(K::Unit, Ty::Never, span);
        }
        if rty == Ty::Never {
            return recv;
        }
        if let Ty::Agent(id) = rty {
            if let Some(x) = self.agent_method(id, recv.clone(), method, args, span, false) {
                return x;
            }
        }
        let option = self.ck.option;
        let resolved = self.infer.resolve(&rty);
        if let Some(b) = builtins::method(&resolved, &method.name, |t| Ty::Adt(option, vec![t])) {
            self.no_named_args(args);
            if b.params.len() != args.len() {
                self.arity_error(b.params.len(), args.len(), span);
                return mk(K::Unit, Ty::Never, span);
            }
            let xs: Vec<Expr> = args
                .iter()
                .zip(&b.params)
                .map(|(a, p)| self.check(&a.value, p))
                .collect();
            if b.mutating {
                let Some(place) = self.mutable_place(place, receiver, &method.name) else {
                    return mk(K::Unit, Ty::Never, span);
                };
                return mk(
                    K::MutCall {
                        place,
                        callee: MutCallee::Intrinsic(b.op),
                        args: xs,
                    },
                    b.ret,
                    span,
                );
            }
            let mut all = vec![recv];
            all.extend(xs);
            return mk(
                K::Intrinsic {
                    op: b.op,
                    args: all,
                },
                b.ret,
                span,
            );
        }
        if let Some(f) = self.find_method(&rty, &method.name) {
            if self.ck.funcs[f.0 as usize].self_kind == SelfKind::Var {
                let Some(place) = self.mutable_place(place, receiver, &method.name) else {
                    return mk(K::Unit, Ty::Never, span);
                };
                let call = self.call_func(f, Some(recv), args, span);
                let K::Call {
                    func,
                    type_args,
                    args: mut xs,
                } = call.kind
                else {
                    return call;
                };
                xs.remove(0);
                return mk(
                    K::MutCall {
                        place,
                        callee: MutCallee::Func { func, type_args },
                        args: xs,
                    },
                    call.ty,
                    span,
                );
            }
            return self.call_func(f, Some(recv), args, span);
        }
        if let Some(field) = self.fn_field(&rty, &method.name) {
            let (index, fty) = field;
            let f = mk(
                K::Field {
                    base: Box::new(recv),
                    index,
                },
                fty,
                method.span,
            );
            return self.call_value(f, args, span);
        }
        if let Ty::Agent(id) = rty {
            self.no_agent_method(id, method);
            return mk(K::Unit, Ty::Never, span);
        }
        let d = Diagnostic::error(
            method.span,
            format!("no method `{}` on type `{}`", method.name, self.show(&rty)),
        )
        .with_label("method not found");
        self.error(d);
        mk(K::Unit, Ty::Never, span)
    }

    /// `Map.new()`.
    fn static_call(
        &mut self,
        receiver: &ast::Expr,
        method: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        hint: Option<&Ty>,
    ) -> Option<Expr> {
        let ast::ExprKind::Name { path, name } = &receiver.kind else {
            return None;
        };
        if !path.is_empty() || name.name != "Map" || self.lookup_local("Map").is_some() {
            return None;
        }
        if method.name != "new" || !args.is_empty() {
            self.error(Diagnostic::error(method.span, "`Map` has only `Map.new()`"));
            return Some(mk(K::Unit, Ty::Never, span));
        }
        let ty = match hint.map(|h| self.infer.shallow(h)) {
            Some(t @ Ty::Map(..)) => t,
            _ => Ty::Map(Box::new(self.fresh()), Box::new(self.fresh())),
        };
        Some(mk(
            K::Intrinsic {
                op: Intrinsic::MapNew,
                args: vec![],
            },
            ty,
            span,
        ))
    }

    fn find_method(&mut self, rty: &Ty, name: &str) -> Option<FuncId> {
        let head = Head::of(rty)?;
        let cands = self.ck.methods.get(&(head, name.to_string()))?.clone();
        cands.into_iter().find(|f| {
            let self_ty = &self.ck.funcs[f.0 as usize].params[0].ty;
            could_match(self_ty, rty, &self.infer)
        })
    }

    fn fn_field(&self, rty: &Ty, name: &str) -> Option<(u32, Ty)> {
        let Ty::Adt(id, args) = rty else { return None };
        let AdtKind::Record(fields) = &self.ck.adts[id.0 as usize].kind else {
            return None;
        };
        let i = fields.iter().position(|f| f.name == name)?;
        let t = fields[i].ty.subst(args);
        matches!(t, Ty::Fn(..)).then_some((i as u32, t))
    }

    fn mutable_place(
        &mut self,
        place: Option<(Place, Expr)>,
        receiver: &ast::Expr,
        method: &str,
    ) -> Option<Place> {
        match place {
            Some((p, _)) => {
                if self.check_mutable(&p) {
                    Some(p)
                } else {
                    None
                }
            }
            None => {
                let d = Diagnostic::error(
                    receiver.span,
                    format!("`{method}` changes its receiver, which must be a variable"),
                )
                .with_hint("store the value in a `var` first");
                self.error(d);
                None
            }
        }
    }

    pub fn record(
        &mut self,
        name: &ast::Ident,
        fields: &[ast::FieldInit],
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        let adt = match self.ck.lookup(self.module, &name.name) {
            Some(Item::Adt(id))
                if matches!(self.ck.adts[id.0 as usize].kind, AdtKind::Record(_)) =>
            {
                id
            }
            found => {
                let d = match found {
                    None => Diagnostic::error(
                        name.span,
                        format!("cannot find type `{}` in this scope", name.name),
                    )
                    .with_label("not found"),
                    Some(_) => Diagnostic::error(
                        name.span,
                        format!("`{}` is not a record type", name.name),
                    )
                    .with_label("not a record"),
                };
                self.error(d);
                return mk(K::Unit, Ty::Never, span);
            }
        };
        let n = self.ck.adts[adt.0 as usize].generics.len();
        let type_args: Vec<Ty> = match hint.map(|h| self.infer.shallow(h)) {
            Some(Ty::Adt(id, ts)) if id == adt => ts,
            _ => (0..n).map(|_| self.fresh()).collect(),
        };
        let AdtKind::Record(defs) = self.ck.adts[adt.0 as usize].kind.clone() else {
            return mk(K::Unit, Ty::Never, span);
        };
        let mut slots: Vec<Option<Expr>> = vec![None; defs.len()];
        for fi in fields {
            let Some(i) = defs.iter().position(|d| d.name == fi.name.name) else {
                let d = Diagnostic::error(
                    fi.name.span,
                    format!("`{}` has no field `{}`", name.name, fi.name.name),
                );
                self.error(d);
                continue;
            };
            let want = defs[i].ty.subst(&type_args);
            let x = self.field_init(fi, &want);
            if slots[i].replace(x).is_some() {
                self.error(Diagnostic::error(
                    fi.name.span,
                    format!("field `{}` is given twice", fi.name.name),
                ));
            }
        }
        for (d, slot) in defs.iter().zip(&mut slots) {
            if let (None, Some(func)) = (&slot, d.default) {
                let call = K::Call {
                    func,
                    type_args: type_args.clone(),
                    args: vec![],
                };
                *slot = Some(mk(call, d.ty.subst(&type_args), span));
            }
        }
        let missing: Vec<String> = defs
            .iter()
            .zip(&slots)
            .filter(|(_, s)| s.is_none())
            .map(|(d, _)| format!("`{}`", d.name))
            .collect();
        if !missing.is_empty() {
            let d = Diagnostic::error(
                span,
                format!(
                    "missing field{} {} in `{}`",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    name.name
                ),
            )
            .with_label(format!("missing {}", missing.join(", ")));
            self.error(d);
            return mk(K::Unit, Ty::Never, span);
        }
        let xs = slots.into_iter().flatten().collect();
        let ty = Ty::Adt(adt, type_args.clone());
        mk(
            K::Record {
                adt,
                type_args,
                fields: xs,
            },
            ty,
            span,
        )
    }

    fn field_init(&mut self, fi: &ast::FieldInit, want: &Ty) -> Expr {
        match &fi.value {
            Some(v) => self.check(v, want),
            None => {
                let e = ast::Expr {
                    kind: ast::ExprKind::Name {
                        path: vec![],
                        name: fi.name.clone(),
                    },
                    span: fi.name.span,
                };
                self.check(&e, want)
            }
        }
    }

    pub fn record_update(
        &mut self,
        base: &ast::Expr,
        fields: &[ast::FieldInit],
        span: Span,
        hint: Option<&Ty>,
    ) -> Expr {
        let b = self.expr(base, hint);
        let (id, args) = match self.infer.shallow(&b.ty) {
            Ty::Adt(id, args) if matches!(self.ck.adts[id.0 as usize].kind, AdtKind::Record(_)) => {
                (id, args)
            }
            Ty::Var(_) => {
                self.unknown_type(b.span);
                return mk(K::Unit, Ty::Never, span);
            }
            t => {
                let d = Diagnostic::error(
                    b.span,
                    format!("`...` needs a record, found `{}`", self.show(&t)),
                );
                self.error(d);
                return mk(K::Unit, Ty::Never, span);
            }
        };
        let AdtKind::Record(defs) = self.ck.adts[id.0 as usize].kind.clone() else {
            return unit(span);
        };
        let mut updates = vec![];
        for fi in fields {
            let Some(i) = defs.iter().position(|d| d.name == fi.name.name) else {
                let d = Diagnostic::error(fi.name.span, format!("no field `{}`", fi.name.name));
                self.error(d);
                continue;
            };
            let x = self.field_init(fi, &defs[i].ty.subst(&args));
            updates.push((i as u32, x));
        }
        let ty = b.ty.clone();
        mk(
            K::RecordUpdate {
                base: Box::new(b),
                updates,
            },
            ty,
            span,
        )
    }
}

/// Whether a method's declared `self` type (with its own generic parameters) fits a receiver.
fn could_match(self_ty: &Ty, recv: &Ty, inf: &super::unify::Infer) -> bool {
    let recv = inf.shallow(recv);
    match (self_ty, &recv) {
        (Ty::Param(_), _) | (_, Ty::Var(_)) => true,
        (Ty::List(a), Ty::List(b)) => could_match(a, b, inf),
        (Ty::Map(k1, v1), Ty::Map(k2, v2)) => could_match(k1, k2, inf) && could_match(v1, v2, inf),
        (Ty::Tuple(xs), Ty::Tuple(ys)) | (Ty::Fn(xs, _), Ty::Fn(ys, _)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| could_match(x, y, inf))
        }
        (Ty::Adt(i, xs), Ty::Adt(j, ys)) => {
            i == j && xs.iter().zip(ys).all(|(x, y)| could_match(x, y, inf))
        }
        (a, b) => a == b,
    }
}
