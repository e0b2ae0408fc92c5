//! Small constructors the grammar's actions use to build AST nodes.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::Tok;
use crate::source::{FileId, Span};
use lalrpop_util::{ErrorRecovery, ParseError};

/// The parser's list of recovered errors; an action may add to it and go on.
type Errors = Vec<ErrorRecovery<usize, Tok, Diagnostic>>;

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

/// Records a syntax error without stopping the parse: a member with the wrong keyword is
/// dropped, and the rest of the agent is still parsed and checked.
fn report(errors: &mut Errors, d: Diagnostic) {
    errors.push(ErrorRecovery {
        error: ParseError::User { error: d },
        dropped_tokens: vec![],
    });
}

fn wrong_keyword(errors: &mut Errors, kw: &Ident, title: &str, hint: &str) {
    let d = Diagnostic::error(kw.span, title)
        .with_label(format!("found `{}`", kw.name))
        .with_hint(hint);
    report(errors, d);
}

/// `at "/counters/:id"` after an agent's name.
pub(super) fn route(
    errors: &mut Errors,
    kw: Ident,
    route: String,
    at: Span,
) -> Option<(String, Span)> {
    if kw.name != "at" {
        let hint = "write the route as `agent Counter at \"/counters/:id\" { ... }`";
        wrong_keyword(errors, &kw, "expected `at` before an agent's route", hint);
        return None;
    }
    Some((route, at))
}

/// `value count: Int = 0`, `map m: Map<K, V>`, `list l: List<T>`.
pub(super) fn lane(
    errors: &mut Errors,
    kw: Ident,
    name: Ident,
    ty: TypeExpr,
    init: Option<Expr>,
    span: Span,
) -> Option<Member> {
    let kind = match kw.name.as_str() {
        "value" => LaneKind::Value,
        "map" => LaneKind::Map,
        "list" => LaneKind::List,
        _ => {
            let hint =
                "declare a lane as `value count: Int = 0`, `map m: Map<K, V>` or `list l: List<T>`";
            let title = "expected `value`, `map` or `list` before a lane name";
            wrong_keyword(errors, &kw, title, hint);
            return None;
        }
    };
    Some(Member::Lane(LaneDecl {
        doc: None,
        kind,
        name,
        ty,
        init,
        span,
    }))
}

/// `demand doubled: Int { count * 2 }`
pub(super) fn demand(
    errors: &mut Errors,
    kw: Ident,
    name: Ident,
    ty: TypeExpr,
    body: Block,
    span: Span,
) -> Option<Member> {
    if kw.name != "demand" {
        let hint =
            "a lane computed by a block is `demand name: T { ... }`; other lanes take `= value`";
        wrong_keyword(
            errors,
            &kw,
            "expected `demand` before a computed lane",
            hint,
        );
        return None;
    }
    Some(Member::Demand(DemandDecl {
        doc: None,
        name,
        ty,
        body,
        span,
    }))
}

/// What follows the keyword of `command reset(params) { ... }` or
/// `migrate count(old: Int) -> Float { ... } undo(new) { ... }`.
pub(super) struct CommandParts {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
    /// The `undo` clause written on the same line, with its keyword as written.
    pub undo: Option<(Ident, UndoDecl)>,
}

pub(super) fn command(
    errors: &mut Errors,
    kw: Ident,
    c: CommandParts,
    span: Span,
) -> Option<Member> {
    if kw.name == "migrate" {
        return migrate(errors, kw, c, span);
    }
    if kw.name != "command" {
        let hint = "a method is `fn name(...) -> T { ... }`, a command `command name(...) { ... }`";
        wrong_keyword(
            errors,
            &kw,
            "expected `fn` or `command` before a method",
            hint,
        );
        return None;
    }
    if let Some((_, u)) = &c.undo {
        let d = Diagnostic::error(u.span, "only a migration has `undo`")
            .with_label("after a command")
            .with_hint("`undo(new) { ... }` follows `migrate lane(old: T) -> U { ... }`");
        report(errors, d);
    }
    if let Some(ret) = &c.ret {
        let d = Diagnostic::error(ret.span, "a command returns nothing")
            .with_label("remove this result type")
            .with_hint("declare a method with `fn` to return a value");
        report(errors, d);
    }
    Some(Member::Command(FnDecl {
        doc: None,
        name: c.name,
        generics: vec![],
        params: c.params,
        ret: None,
        body: c.body,
        span,
    }))
}

/// `migrate count(old: Int) -> Float { ... }`: one parameter, the lane's old value, and
/// the type it becomes.
fn migrate(errors: &mut Errors, kw: Ident, c: CommandParts, span: Span) -> Option<Member> {
    let example = "write it as `migrate count(old: Int) -> Float { old.to_float() }`";
    let undo = match c.undo {
        Some((ukw, u)) => undo_keyword(errors, &ukw).then_some(u),
        None => None,
    };
    let Some(to) = c.ret else {
        let d = Diagnostic::error(
            c.name.span,
            format!(
                "a migration of `{}` needs the type it produces",
                c.name.name
            ),
        )
        .with_label("no `-> T` after the parameter")
        .with_hint(example);
        report(errors, d);
        return None;
    };
    let mut params = c.params.into_iter();
    let Some(param) = params.next() else {
        let d = Diagnostic::error(kw.span.to(c.name.span), "a migration takes the old value")
            .with_label("no parameter")
            .with_hint(example);
        report(errors, d);
        return None;
    };
    if let Some(extra) = params.next() {
        let d = Diagnostic::error(extra.span, "a migration takes one parameter")
            .with_label("the lane's old value is the only input")
            .with_hint(example);
        report(errors, d);
    }
    if let Some(default) = &param.default {
        let d = Diagnostic::error(default.span, "a migration's parameter has no default")
            .with_label("the old value is always given")
            .with_hint(example);
        report(errors, d);
    }
    Some(Member::Migrate(Box::new(MigrateDecl {
        lane: c.name,
        param,
        to,
        body: c.body,
        undo,
        span,
    })))
}

/// Whether the keyword of an `undo` clause is `undo`, reporting it if not.
fn undo_keyword(errors: &mut Errors, kw: &Ident) -> bool {
    if kw.name == "undo" {
        return true;
    }
    let hint = "the reverse of a migration is `undo(new) { ... }`";
    wrong_keyword(errors, kw, "expected `undo`", hint);
    false
}

/// A member, or an `undo` clause on a line of its own waiting for its migration.
// Parts live only while one agent body is parsed; boxing members would cost an allocation
// each for nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Part {
    Member(Member),
    Undo(UndoDecl),
}

/// `undo(new) { ... }` as a part of an agent body.
pub(super) fn undo_part(errors: &mut Errors, (kw, u): (Ident, UndoDecl)) -> Option<Part> {
    if kw.name != "undo" {
        let hint = "an agent's body holds lanes, `fn`, `command`, `demand`, `migrate`, `on start` and `every`";
        wrong_keyword(errors, &kw, "expected a member of an agent", hint);
        return None;
    }
    Some(Part::Undo(u))
}

/// The members of an agent body: an `undo` clause on its own line belongs to the
/// migration right before it.
pub(super) fn members_of(errors: &mut Errors, parts: Vec<Part>) -> Vec<Member> {
    let mut out: Vec<Member> = vec![];
    for p in parts {
        match p {
            Part::Member(m) => out.push(m),
            Part::Undo(u) => match out.last_mut() {
                Some(Member::Migrate(m)) if m.undo.is_none() => m.undo = Some(u),
                Some(Member::Migrate(m)) => {
                    let first = m.undo.as_ref().map_or(m.span, |f| f.span);
                    let d = Diagnostic::error(u.span, "a migration has one `undo`")
                        .with_label("a second `undo`")
                        .with_note(first, "the first one")
                        .with_hint("merge them into one reverse conversion");
                    report(errors, d);
                }
                _ => {
                    let d = Diagnostic::error(u.span, "`undo` without a migration")
                        .with_label("not right after a `migrate` member")
                        .with_hint(
                            "write `undo(new) { ... }` right after the `migrate` it reverses",
                        );
                    report(errors, d);
                }
            },
        }
    }
    out
}

/// `on start { ... }`; which events exist is the checker's business.
pub(super) fn on(
    errors: &mut Errors,
    kw: Ident,
    event: Ident,
    body: Block,
    span: Span,
) -> Option<Member> {
    if kw.name != "on" {
        let hint = "an agent's body holds lanes, `fn`, `command`, `demand`, `migrate`, `on start` and `every`";
        wrong_keyword(errors, &kw, "expected `on` before an event", hint);
        return None;
    }
    Some(Member::On { event, body, span })
}

/// `every 1m { ... }`
pub(super) fn every(
    errors: &mut Errors,
    kw: Ident,
    period_ns: i64,
    period_span: Span,
    body: Block,
    span: Span,
) -> Option<Member> {
    if kw.name != "every" {
        let hint = "a timer is `every 1m { ... }`";
        wrong_keyword(errors, &kw, "expected `every` before a period", hint);
        return None;
    }
    Some(Member::Every {
        period_ns,
        period_span,
        body,
        span,
    })
}
