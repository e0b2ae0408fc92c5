//! Small constructors the grammar's actions use to build AST nodes.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::Tok;
use crate::source::{FileId, Span};
use lalrpop_util::ParseError;

pub(super) fn span(file: FileId, l: usize, r: usize) -> Span {
    Span::new(file, l, r)
}

pub(super) fn expr(kind: ExprKind, span: Span) -> Expr {
    Expr { kind, span }
}

pub(super) fn pattern(kind: PatternKind, span: Span) -> Pattern {
    Pattern { kind, span }
}

pub(super) fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

pub(super) fn prepend<T>(first: T, rest: Vec<T>) -> Vec<T> {
    let mut v = Vec::with_capacity(rest.len() + 1);
    v.push(first);
    v.extend(rest);
    v
}

pub(super) fn join_path((mut path, last): (Vec<Ident>, Ident), next: Ident) -> (Vec<Ident>, Ident) {
    path.push(last);
    (path, next)
}

/// A block from its statements, each with whether its `;` were all virtual.
/// `None` entries are statements that failed to parse.
pub(super) fn block(stmts: Vec<(Option<Stmt>, bool)>, last: Option<Stmt>, span: Span) -> Block {
    let mut stmts: Vec<(Stmt, bool)> = stmts
        .into_iter()
        .filter_map(|(s, v)| s.map(|s| (s, v)))
        .collect();
    let last = match last {
        Some(s) => Some(s),
        None => stmts
            .pop_if(|(_, all_virtual)| *all_virtual)
            .map(|(s, _)| s),
    };
    let mut stmts: Vec<Stmt> = stmts.into_iter().map(|(s, _)| s).collect();
    let mut tail = None;
    match last {
        Some(Stmt {
            kind: StmtKind::Expr(e),
            ..
        }) => tail = Some(Box::new(e)),
        Some(s) => stmts.push(s),
        None => {}
    }
    Block { stmts, tail, span }
}

/// `t.0`: the index must fit in a `u32`.
pub(super) fn tuple_field(
    base: Expr,
    index: i64,
    index_span: Span,
) -> Result<Expr, ParseError<usize, Tok, Diagnostic>> {
    let Ok(index) = u32::try_from(index) else {
        let d = Diagnostic::error(index_span, "tuple index too large")
            .with_label("tuples are not this long");
        return Err(ParseError::User { error: d });
    };
    let span = base.span.to(index_span);
    Ok(Expr {
        kind: ExprKind::TupleField {
            base: Box::new(base),
            index,
            index_span,
        },
        span,
    })
}

/// The parts of `"a{x}b{y}c"`, with empty literal pieces dropped.
pub(super) fn interpolation(
    first: String,
    e: Expr,
    mids: Vec<(String, Expr)>,
    last: String,
) -> Vec<StrPart> {
    let mut parts = vec![];
    let lit = |parts: &mut Vec<StrPart>, s: String| {
        if !s.is_empty() {
            parts.push(StrPart::Lit(s));
        }
    };
    lit(&mut parts, first);
    parts.push(StrPart::Expr(e));
    for (s, e) in mids {
        lit(&mut parts, s);
        parts.push(StrPart::Expr(e));
    }
    lit(&mut parts, last);
    parts
}
