//! Checking one function body: the local scopes, lambda contexts and the final resolution
//! of inferred types (a lambda is checked in its own context and lifted to a function).

use super::agent::MemberKind;
use super::pure::Pure;
use super::unify::Infer;
use super::{Checker, FuncInfo, SelfKind};
use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{
    self, visit, Expr, ExprKind, FuncDef, FuncId, LocalDef, LocalId, Pat, PatKind, Place,
    PlaceElem, Stmt,
};
use crate::types::{AgentId, Ty};

/// One function being checked: a top-level function, a test, or a lambda inside one.
pub(crate) struct FnCx {
    pub locals: Vec<LocalDef>,
    pub scopes: Vec<Vec<(String, LocalId)>>,
    pub ret: Ty,
    pub loops: u32,
    /// For a lambda: (local in the enclosing context, local here).
    pub captures: Vec<(LocalId, LocalId)>,
    /// Name lookup stops here (default-argument expressions see no locals).
    pub isolated: bool,
}

impl FnCx {
    pub fn new(ret: Ty) -> FnCx {
        FnCx {
            locals: vec![],
            scopes: vec![vec![]],
            ret,
            loops: 0,
            captures: vec![],
            isolated: false,
        }
    }
}

pub(crate) struct Body<'c, 'l> {
    pub ck: &'c mut Checker<'l>,
    pub module: usize,
    pub generics: Vec<String>,
    pub infer: Infer,
    pub cxs: Vec<FnCx>,
    pub fname: String,
    /// Lambdas lifted out of this function, resolved together with it.
    pub lifted: Vec<(FuncId, FuncDef)>,
    /// The agent whose member this is (its lambdas included): its lanes are in scope.
    pub agent: Option<AgentId>,
    /// Whether lanes may be used here (not in a lane's initial value or a migration).
    pub lanes: bool,
    /// A body that may touch nothing but its parameters, and which kind.
    pub pure: Option<Pure>,
}

pub(crate) fn check_fn(ck: &mut Checker, f: FuncId) {
    let info: &FuncInfo = &ck.funcs[f.0 as usize];
    let Some(decl) = info.decl.clone() else {
        return;
    };
    let (module, generics, name, ret, self_kind, member, pure) = (
        info.module,
        info.generics.clone(),
        info.name.clone(),
        info.ret.clone(),
        info.self_kind,
        info.member,
        info.pure,
    );
    let param_tys: Vec<Ty> = info.params.iter().map(|p| p.ty.clone()).collect();
    let mut b = Body {
        ck,
        module,
        generics,
        infer: Infer::default(),
        cxs: vec![FnCx::new(ret.clone())],
        fname: name.clone(),
        lifted: vec![],
        agent: member.map(|m| m.agent),
        lanes: member
            .is_some_and(|m| !matches!(m.kind, MemberKind::LaneInit(_) | MemberKind::Migrate)),
        pure,
    };
    let mut params = vec![];
    for (i, p) in decl.params.iter().enumerate() {
        let mutable = i == 0 && self_kind == SelfKind::Var;
        params.push(b.declare(&p.name.name, param_tys[i].clone(), mutable));
    }
    let body = b.block_expect(&decl.body, &ret);
    let def = FuncDef {
        name,
        generics: b.generics.clone(),
        params,
        captures: 0,
        inout_self: self_kind == SelfKind::Var,
        // A migration names its agent only for its diagnostics; it uses no lanes.
        agent: if pure.is_some() { None } else { b.agent },
        ret,
        locals: vec![],
        body,
        span: decl.span,
    };
    b.finish(f, def);
    if decl.name.name == "main" && module == ck.root {
        check_main_signature(ck, &decl);
    }
}

fn check_main_signature(ck: &mut Checker, decl: &ast::FnDecl) {
    if !decl.params.is_empty() || decl.ret.is_some() {
        let d = Diagnostic::error(
            decl.name.span,
            "`main` takes no parameters and returns nothing",
        )
        .with_hint("declare it as `fn main() { ... }`");
        ck.error(d);
    }
}

pub(crate) fn check_test(ck: &mut Checker, module: usize, t: &ast::TestDecl) -> FuncId {
    let f = FuncId(ck.funcs.len() as u32);
    let name = format!("test {:?}", t.name);
    ck.funcs.push(FuncInfo {
        name: name.clone(),
        module,
        generics: vec![],
        params: vec![],
        ret: Ty::Unit,
        self_kind: SelfKind::None,
        decl: None,
        span: t.span,
        member: None,
        pure: None,
    });
    ck.bodies.push(None);
    let mut b = Body {
        ck,
        module,
        generics: vec![],
        infer: Infer::default(),
        cxs: vec![FnCx::new(Ty::Unit)],
        fname: name.clone(),
        lifted: vec![],
        agent: None,
        lanes: false,
        pure: None,
    };
    let body = b.block_expect(&t.body, &Ty::Unit);
    let def = FuncDef {
        name,
        generics: vec![],
        params: vec![],
        captures: 0,
        inout_self: false,
        agent: None,
        ret: Ty::Unit,
        locals: vec![],
        body,
        span: t.span,
    };
    b.finish(f, def);
    f
}

impl Body<'_, '_> {
    pub fn cx(&mut self) -> &mut FnCx {
        self.cxs.last_mut().expect("a function context")
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.ck.error(d);
    }

    pub fn show(&self, ty: &Ty) -> String {
        let t = self.infer.resolve(ty);
        self.ck.show(&t, &self.generics)
    }

    /// Reports a type mismatch unless `found` fits `expected`.
    pub fn expect_ty(&mut self, found: &Ty, expected: &Ty, span: Span) -> bool {
        if self.infer.unify(found, expected).is_ok() {
            return true;
        }
        let d = Diagnostic::error(span, "mismatched types").with_label(format!(
            "expected `{}`, found `{}`",
            self.show(expected),
            self.show(found)
        ));
        self.error(d);
        false
    }

    pub fn declare(&mut self, name: &str, ty: Ty, mutable: bool) -> LocalId {
        let cx = self.cx();
        let id = LocalId(cx.locals.len() as u32);
        cx.locals.push(LocalDef {
            name: name.to_string(),
            ty,
            mutable,
        });
        if let Some(scope) = cx.scopes.last_mut() {
            scope.push((name.to_string(), id));
        }
        id
    }

    pub fn push_scope(&mut self) {
        self.cx().scopes.push(vec![]);
    }

    pub fn pop_scope(&mut self) {
        self.cx().scopes.pop();
    }

    /// Finds a local by name, capturing it into enclosing lambdas as needed.
    pub fn lookup_local(&mut self, name: &str) -> Option<LocalId> {
        let depth = self.cxs.len();
        self.lookup_in(depth - 1, name)
    }

    fn lookup_in(&mut self, level: usize, name: &str) -> Option<LocalId> {
        let cx = &self.cxs[level];
        for scope in cx.scopes.iter().rev() {
            if let Some((_, id)) = scope.iter().rev().find(|(n, _)| n == name) {
                return Some(*id);
            }
        }
        if let Some((_, inner)) = cx
            .captures
            .iter()
            .find(|(_, inner)| cx.locals[inner.0 as usize].name == name)
        {
            return Some(*inner);
        }
        if level == 0 || cx.isolated {
            return None;
        }
        let outer = self.lookup_in(level - 1, name)?;
        let ty = self.cxs[level - 1].locals[outer.0 as usize].ty.clone();
        let cx = &mut self.cxs[level];
        let inner = LocalId(cx.locals.len() as u32);
        cx.locals.push(LocalDef {
            name: name.to_string(),
            ty,
            mutable: false,
        });
        cx.captures.push((outer, inner));
        Some(inner)
    }

    pub fn local_ty(&self, id: LocalId) -> Ty {
        self.cxs
            .last()
            .map(|c| c.locals[id.0 as usize].ty.clone())
            .unwrap_or(Ty::Unit)
    }

    pub fn fresh(&mut self) -> Ty {
        self.infer.fresh()
    }

    /// Registers a lifted lambda; it is resolved and stored with the enclosing function.
    pub fn lift(&mut self, def: FuncDef) -> FuncId {
        let f = FuncId(self.ck.funcs.len() as u32);
        self.ck.funcs.push(FuncInfo {
            name: def.name.clone(),
            module: self.module,
            generics: self.generics.clone(),
            params: vec![],
            ret: Ty::Unit,
            self_kind: SelfKind::None,
            decl: None,
            span: def.span,
            member: None,
            pure: None,
        });
        self.ck.bodies.push(None);
        self.lifted.push((f, def));
        f
    }

    fn finish(mut self, f: FuncId, mut def: FuncDef) {
        let cx = self.cxs.pop().expect("the function's own context");
        def.locals = cx.locals;
        let lifted = std::mem::take(&mut self.lifted);
        for (id, mut d) in lifted.into_iter().chain(std::iter::once((f, def))) {
            zonk_fn(&self.infer, &mut d);
            self.ck.bodies[id.0 as usize] = Some(d);
        }
    }
}

fn zonk_fn(inf: &Infer, d: &mut FuncDef) {
    d.ret = inf.zonk(&d.ret);
    for l in &mut d.locals {
        l.ty = inf.zonk(&l.ty);
    }
    zonk_expr(inf, &mut d.body);
}

fn zonk_tys(inf: &Infer, ts: &mut [Ty]) {
    for t in ts {
        *t = inf.zonk(t);
    }
}

/// Resolves the types an expression carries besides its own (type arguments, patterns,
/// places), then its sub-expressions through the shared IR visitor.
fn zonk_expr(inf: &Infer, e: &mut Expr) {
    e.ty = inf.zonk(&e.ty);
    match &mut e.kind {
        ExprKind::Call { type_args, .. }
        | ExprKind::FuncValue { type_args, .. }
        | ExprKind::Closure { type_args, .. }
        | ExprKind::Record { type_args, .. }
        | ExprKind::Variant { type_args, .. } => zonk_tys(inf, type_args),
        ExprKind::MutCall { place, callee, .. } => {
            zonk_place(inf, place);
            if let tir::MutCallee::Func { type_args, .. } = callee {
                zonk_tys(inf, type_args);
            }
        }
        ExprKind::Match { arms, .. } => arms.iter_mut().for_each(|a| zonk_pat(inf, &mut a.pat)),
        ExprKind::Block { stmts, .. } => {
            for s in stmts {
                match s {
                    Stmt::Let { pat, .. } => zonk_pat(inf, pat),
                    Stmt::Assign { place, .. } => zonk_place(inf, place),
                    Stmt::Expr(_) => {}
                }
            }
        }
        _ => {}
    }
    visit::children_mut(e, &mut |c| zonk_expr(inf, c));
}

/// The types along a place; its index and key expressions are sub-expressions of the
/// expression holding it, so the visitor reaches them.
fn zonk_place(inf: &Infer, p: &mut Place) {
    p.ty = inf.zonk(&p.ty);
    for el in &mut p.path {
        if let PlaceElem::Field(_, t) = el {
            *t = inf.zonk(t);
        }
    }
}

pub(crate) fn zonk_pat(inf: &Infer, p: &mut Pat) {
    p.ty = inf.zonk(&p.ty);
    match &mut p.kind {
        PatKind::Tuple(ps) => ps.iter_mut().for_each(|q| zonk_pat(inf, q)),
        PatKind::Record(fs) => fs.iter_mut().for_each(|(_, q)| zonk_pat(inf, q)),
        PatKind::Variant { args, .. } => args.iter_mut().for_each(|q| zonk_pat(inf, q)),
        _ => {}
    }
}
