//! Which lists and records stay unique, with a fixed length, through a whole loop.
//!
//! A root local qualifies when every use of it inside the loop (condition and body, at any
//! depth) is one that cannot raise its refcount, replace it or change its length: the
//! container of an element or field read, the list of `len()`, or the root of an
//! assignment to one of its elements or fields. Anything else (a plain read, which may be
//! an owned copy; a mutating call such as `push`; assigning or rebinding the local) rules
//! it out. A loop that qualifies a root makes it unique and loads its length once, before
//! its first iteration, and every block inside the loop starts out knowing both.

use std::collections::HashSet;
use weft_lang::tir::{Expr, ExprKind, Intrinsic, LocalId, Pat, PatKind, PlaceElem, Stmt};

/// The roots a loop keeps unique (it writes through them) and the lists whose length it
/// keeps (it indexes them).
#[derive(Debug, Default, PartialEq)]
pub struct Sticky {
    pub unique: Vec<LocalId>,
    pub len: Vec<LocalId>,
}

#[derive(Default)]
struct Uses {
    bad: HashSet<LocalId>,
    written: Vec<LocalId>,
    indexed: Vec<LocalId>,
    /// An expression form this analysis does not know: nothing qualifies.
    unknown: bool,
}

/// The sticky roots of a loop with condition `cond` and body `body`.
pub fn sticky_roots(cond: Option<&Expr>, body: &Expr) -> Sticky {
    let mut u = Uses::default();
    if let Some(c) = cond {
        expr(c, &mut u);
    }
    expr(body, &mut u);
    if u.unknown {
        return Sticky::default();
    }
    let keep = |v: &mut Vec<LocalId>| {
        v.sort();
        v.dedup();
        v.retain(|l| !u.bad.contains(l));
    };
    let (mut unique, mut len) = (u.written.clone(), u.indexed.clone());
    keep(&mut unique);
    keep(&mut len);
    Sticky { unique, len }
}

fn bind_pat(p: &Pat, u: &mut Uses) {
    match &p.kind {
        PatKind::Bind(l) => {
            u.bad.insert(*l);
        }
        PatKind::Tuple(ps) | PatKind::Variant { args: ps, .. } => {
            ps.iter().for_each(|p| bind_pat(p, u));
        }
        PatKind::Record(fs) => fs.iter().for_each(|(_, p)| bind_pat(p, u)),
        _ => {}
    }
}

fn stmt(s: &Stmt, u: &mut Uses) {
    match s {
        Stmt::Let { pat, value } => {
            bind_pat(pat, u);
            expr(value, u);
        }
        Stmt::Assign { place, value } => {
            if place.path.is_empty() {
                u.bad.insert(place.root);
            } else {
                u.written.push(place.root);
                if matches!(place.path[0], PlaceElem::Index(_)) {
                    u.indexed.push(place.root);
                }
            }
            path(&place.path, u);
            expr(value, u);
        }
        Stmt::Expr(e) => expr(e, u),
    }
}

fn path(p: &[PlaceElem], u: &mut Uses) {
    for e in p {
        if let PlaceElem::Index(x) | PlaceElem::MapKey(x) = e {
            expr(x, u);
        }
    }
}

fn exprs(es: &[Expr], u: &mut Uses) {
    es.iter().for_each(|e| expr(e, u));
}

fn expr(e: &Expr, u: &mut Uses) {
    if control(e, u) {
        return;
    }
    match &e.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::FuncValue { .. }
        | ExprKind::Break
        | ExprKind::Continue => {}
        ExprKind::Local(l) => {
            u.bad.insert(*l);
        }
        ExprKind::Index { base, index } => {
            match base.kind {
                ExprKind::Local(l) => u.indexed.push(l),
                _ => expr(base, u),
            }
            expr(index, u);
        }
        ExprKind::Field { base, .. } => {
            if !matches!(base.kind, ExprKind::Local(_)) {
                expr(base, u);
            }
        }
        ExprKind::Intrinsic {
            op: Intrinsic::ListLen,
            args,
        } if args.len() == 1 && matches!(args[0].kind, ExprKind::Local(_)) => {}
        ExprKind::Intrinsic { args, .. }
        | ExprKind::Call { args, .. }
        | ExprKind::Closure { captures: args, .. }
        | ExprKind::Record { fields: args, .. }
        | ExprKind::Variant { fields: args, .. }
        | ExprKind::Tuple(args)
        | ExprKind::List(args)
        | ExprKind::Interp(args) => exprs(args, u),
        ExprKind::CallClosure { callee, args } => {
            expr(callee, u);
            exprs(args, u);
        }
        ExprKind::MutCall { place, args, .. } => {
            u.bad.insert(place.root);
            path(&place.path, u);
            exprs(args, u);
        }
        ExprKind::RecordUpdate { base, updates } => {
            expr(base, u);
            updates.iter().for_each(|(_, x)| expr(x, u));
        }
        ExprKind::Unary { operand, .. } | ExprKind::Return(operand) => expr(operand, u),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr(lhs, u);
            expr(rhs, u);
        }
        #[allow(unreachable_patterns)]
        _ => u.unknown = true,
    }
}

/// The control-flow forms; false for any other expression.
fn control(e: &Expr, u: &mut Uses) -> bool {
    match &e.kind {
        ExprKind::If { cond, then, else_ } => {
            expr(cond, u);
            expr(then, u);
            expr(else_, u);
        }
        ExprKind::Match { scrutinee, arms } => {
            expr(scrutinee, u);
            for a in arms {
                bind_pat(&a.pat, u);
                if let Some(g) = &a.guard {
                    expr(g, u);
                }
                expr(&a.body, u);
            }
        }
        ExprKind::Block { stmts, tail } => {
            stmts.iter().for_each(|s| stmt(s, u));
            expr(tail, u);
        }
        ExprKind::While { cond, body } => {
            expr(cond, u);
            expr(body, u);
        }
        ExprKind::ForRange { var, lo, hi, body } => {
            u.bad.insert(*var);
            expr(lo, u);
            expr(hi, u);
            expr(body, u);
        }
        ExprKind::ForList { var, list, body } => {
            u.bad.insert(*var);
            expr(list, u);
            expr(body, u);
        }
        _ => return false,
    }
    true
}
