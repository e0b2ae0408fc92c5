//! A callee's body made fit for one call site: its locals renumbered into the caller's
//! table and its types instantiated at the call's type arguments.

use weft_lang::tir::visit;
use weft_lang::tir::{Expr, ExprKind, LocalId, MutCallee, Pat, PatKind, Place, PlaceElem, Stmt};
use weft_lang::types::Ty;

pub struct Rewrite<'a> {
    /// The caller's local for each of the callee's, by the callee's [`LocalId`].
    pub locals: &'a [LocalId],
    /// The call's type arguments (in the caller's terms); empty for a monomorphic callee.
    pub targs: &'a [Ty],
}

impl Rewrite<'_> {
    pub fn expr(&self, e: &mut Expr) {
        self.node(e);
        visit::children_mut(e, &mut |c| self.expr(c));
    }

    /// What `e` itself names: its type, locals, type arguments, patterns and places.
    fn node(&self, e: &mut Expr) {
        self.ty(&mut e.ty);
        match &mut e.kind {
            ExprKind::Local(l) => self.local(l),
            ExprKind::Call { type_args, .. }
            | ExprKind::FuncValue { type_args, .. }
            | ExprKind::Closure { type_args, .. }
            | ExprKind::Record { type_args, .. }
            | ExprKind::Variant { type_args, .. } => type_args.iter_mut().for_each(|t| self.ty(t)),
            ExprKind::MutCall { place, callee, .. } => {
                self.place(place);
                if let MutCallee::Func { type_args, .. } = callee {
                    type_args.iter_mut().for_each(|t| self.ty(t));
                }
            }
            ExprKind::Match { arms, .. } => arms.iter_mut().for_each(|a| self.pat(&mut a.pat)),
            ExprKind::Block { stmts, .. } => {
                for s in stmts {
                    match s {
                        Stmt::Let { pat, .. } => self.pat(pat),
                        Stmt::Assign { place, .. } => self.place(place),
                        Stmt::Expr(_) => {}
                    }
                }
            }
            ExprKind::ForRange { var, .. } | ExprKind::ForList { var, .. } => self.local(var),
            _ => {}
        }
    }

    pub fn ty(&self, t: &mut Ty) {
        if !self.targs.is_empty() && t.has_params() {
            *t = t.subst(self.targs);
        }
    }

    fn local(&self, l: &mut LocalId) {
        if let Some(&to) = self.locals.get(l.0 as usize) {
            *l = to;
        }
    }

    fn pat(&self, p: &mut Pat) {
        self.ty(&mut p.ty);
        match &mut p.kind {
            PatKind::Bind(l) => self.local(l),
            PatKind::Tuple(ps) | PatKind::Variant { args: ps, .. } => {
                ps.iter_mut().for_each(|p| self.pat(p))
            }
            PatKind::Record(fs) => fs.iter_mut().for_each(|(_, p)| self.pat(p)),
            PatKind::Wildcard
            | PatKind::Int(_)
            | PatKind::Float(_)
            | PatKind::Str(_)
            | PatKind::Bool(_) => {}
        }
    }

    fn place(&self, p: &mut Place) {
        self.local(&mut p.root);
        self.ty(&mut p.ty);
        for e in &mut p.path {
            if let PlaceElem::Field(_, t) = e {
                self.ty(t);
            }
        }
    }
}
