//! The direct sub-expressions of an expression, in evaluation order, for the passes that
//! walk the typed IR (the checker's final type resolution, the inliner's size count,
//! its rewriting and its search for calls).
//!
//! Statements and match arms belong to the expression that holds them: their values,
//! guards and the index and key expressions of their places are visited as children.

use super::{Expr, ExprKind, MatchArm, Place, PlaceElem, Stmt};

/// Calls `f` on each direct sub-expression of `e`.
pub fn children<'e>(e: &'e Expr, f: &mut dyn FnMut(&'e Expr)) {
    match &e.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Local(_)
        | ExprKind::FuncValue { .. }
        | ExprKind::Break
        | ExprKind::Continue => {}
        ExprKind::Call { args, .. }
        | ExprKind::Intrinsic { args, .. }
        | ExprKind::Record { fields: args, .. }
        | ExprKind::Variant { fields: args, .. }
        | ExprKind::Tuple(args)
        | ExprKind::List(args)
        | ExprKind::Interp(args)
        | ExprKind::Closure { captures: args, .. } => args.iter().for_each(f),
        ExprKind::CallClosure { callee, args } => {
            f(callee);
            args.iter().for_each(f);
        }
        ExprKind::MutCall { place, args, .. } => {
            place_exprs(place, f);
            args.iter().for_each(f);
        }
        ExprKind::RecordUpdate { base, updates } => {
            f(base);
            updates.iter().for_each(|(_, v)| f(v));
        }
        ExprKind::Field { base, .. } => f(base),
        ExprKind::Index { base, index } => {
            f(base);
            f(index);
        }
        ExprKind::Unary { operand, .. } => f(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::If { cond, then, else_ } => {
            f(cond);
            f(then);
            f(else_);
        }
        ExprKind::Match { scrutinee, arms } => {
            f(scrutinee);
            arms.iter().for_each(|a| arm(a, f));
        }
        ExprKind::Block { stmts, tail } => {
            stmts.iter().for_each(|s| stmt(s, f));
            f(tail);
        }
        ExprKind::While { cond, body } => {
            f(cond);
            f(body);
        }
        ExprKind::ForRange { lo, hi, body, .. } => {
            f(lo);
            f(hi);
            f(body);
        }
        ExprKind::ForList { list, body, .. } => {
            f(list);
            f(body);
        }
        ExprKind::Return(v) => f(v),
    }
}

fn arm<'e>(a: &'e MatchArm, f: &mut dyn FnMut(&'e Expr)) {
    if let Some(g) = &a.guard {
        f(g);
    }
    f(&a.body);
}

fn stmt<'e>(s: &'e Stmt, f: &mut dyn FnMut(&'e Expr)) {
    match s {
        Stmt::Let { value, .. } | Stmt::Expr(value) => f(value),
        Stmt::Assign { place, value } => {
            place_exprs(place, f);
            f(value);
        }
    }
}

fn place_exprs<'e>(p: &'e Place, f: &mut dyn FnMut(&'e Expr)) {
    for e in &p.path {
        if let PlaceElem::Index(x) | PlaceElem::MapKey(x) = e {
            f(x);
        }
    }
}

/// Calls `f` on each direct sub-expression of `e`, mutably.
pub fn children_mut(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match &mut e.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Local(_)
        | ExprKind::FuncValue { .. }
        | ExprKind::Break
        | ExprKind::Continue => {}
        ExprKind::Call { args, .. }
        | ExprKind::Intrinsic { args, .. }
        | ExprKind::Record { fields: args, .. }
        | ExprKind::Variant { fields: args, .. }
        | ExprKind::Tuple(args)
        | ExprKind::List(args)
        | ExprKind::Interp(args)
        | ExprKind::Closure { captures: args, .. } => args.iter_mut().for_each(f),
        ExprKind::CallClosure { callee, args } => {
            f(callee);
            args.iter_mut().for_each(f);
        }
        ExprKind::MutCall { place, args, .. } => {
            place_exprs_mut(place, f);
            args.iter_mut().for_each(f);
        }
        ExprKind::RecordUpdate { base, updates } => {
            f(base);
            updates.iter_mut().for_each(|(_, v)| f(v));
        }
        ExprKind::Field { base, .. } => f(base),
        ExprKind::Index { base, index } => {
            f(base);
            f(index);
        }
        ExprKind::Unary { operand, .. } => f(operand),
        ExprKind::Binary { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        ExprKind::If { cond, then, else_ } => {
            f(cond);
            f(then);
            f(else_);
        }
        ExprKind::Match { scrutinee, arms } => {
            f(scrutinee);
            arms.iter_mut().for_each(|a| arm_mut(a, f));
        }
        ExprKind::Block { stmts, tail } => {
            stmts.iter_mut().for_each(|s| stmt_mut(s, f));
            f(tail);
        }
        ExprKind::While { cond, body } => {
            f(cond);
            f(body);
        }
        ExprKind::ForRange { lo, hi, body, .. } => {
            f(lo);
            f(hi);
            f(body);
        }
        ExprKind::ForList { list, body, .. } => {
            f(list);
            f(body);
        }
        ExprKind::Return(v) => f(v),
    }
}

fn arm_mut(a: &mut MatchArm, f: &mut dyn FnMut(&mut Expr)) {
    if let Some(g) = &mut a.guard {
        f(g);
    }
    f(&mut a.body);
}

fn stmt_mut(s: &mut Stmt, f: &mut dyn FnMut(&mut Expr)) {
    match s {
        Stmt::Let { value, .. } | Stmt::Expr(value) => f(value),
        Stmt::Assign { place, value } => {
            place_exprs_mut(place, f);
            f(value);
        }
    }
}

fn place_exprs_mut(p: &mut Place, f: &mut dyn FnMut(&mut Expr)) {
    for e in &mut p.path {
        if let PlaceElem::Index(x) | PlaceElem::MapKey(x) = e {
            f(x);
        }
    }
}
