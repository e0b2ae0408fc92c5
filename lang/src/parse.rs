//! Parsing: source text to an AST plus diagnostics, on any input.
//!
//! The token stream is cut into items before parsing: a new item starts at `fn name`,
//! `type`, `enum`, `agent`, `use` or `test` outside any brackets, or at the start of a line
//! in column 1 (so a missing `}` costs one item, not the rest of the file), except for a
//! `fn` directly inside an agent's braces, which is one of its methods. Each item
//! is parsed on its own by the LALRPOP grammar (`parse/grammar.lalrpop`), whose
//! statements recover from errors, so one broken function still lets the next
//! ones be checked. Before parsing, an item nested deeper than [`NESTING_MAX`] is
//! rejected: every later pass recurses over the tree.

mod error;
mod node;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_agents;
#[cfg(test)]
mod tests_migrate;
#[cfg(test)]
mod tests_print;
#[cfg(test)]
mod tests_programs;
#[cfg(test)]
mod tests_robust;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused)]
    grammar,
    "/parse/grammar.rs"
);

use crate::ast::{Expr, Item, Member, Module};
use crate::diagnostic::Diagnostic;
use crate::lexer::{self, Tok, Token};
use crate::source::{FileId, Span};
use lalrpop_util::ErrorRecovery;
use std::collections::HashMap;
use std::ops::Range;

/// How deeply brackets and operator chains may nest in one item (see [`nesting_depth_exceeded`]).
pub const NESTING_MAX: u32 = 200;

/// Syntax errors reported per item at most; the rest are usually consequences.
const ERRORS_PER_ITEM_MAX: usize = 8;

/// Diagnostics reported per file at most.
const DIAGNOSTICS_MAX: usize = 100;

/// Parses one file. Never panics; whatever items parsed are in the module.
pub fn parse(file: FileId, text: &str) -> (Module, Vec<Diagnostic>) {
    let lexed = lexer::lex(file, text);
    let mut diags = lexed.diagnostics;
    let tokens = &lexed.tokens;
    let mut items = vec![];
    for chunk in split_items(tokens) {
        let toks = &tokens[chunk.clone()];
        if !is_item_start(tokens, chunk.start) {
            if let Some(t) = toks.iter().find(|t| !matches!(t.tok, Tok::Semi(_))) {
                diags.push(not_an_item(file, t));
            }
            continue;
        }
        if let Some(d) = check_nesting(file, toks) {
            diags.push(d);
            continue;
        }
        let next = tokens.get(chunk.end);
        let (item, errs) = parse_item(file, text, toks, next);
        items.extend(item);
        diags.extend(errs);
    }
    for item in &mut items {
        attach_doc(item, &lexed.docs);
    }
    diags.truncate(DIAGNOSTICS_MAX);
    (Module { file, items }, diags)
}

/// Parses a single expression (for a REPL); trailing newlines and `;` are ignored.
pub fn parse_expr(file: FileId, text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    let lexed = lexer::lex(file, text);
    let mut diags = lexed.diagnostics;
    let mut toks: &[Token] = &lexed.tokens;
    while let Some((last, rest)) = toks.split_last() {
        if !matches!(last.tok, Tok::Semi(_)) {
            break;
        }
        toks = rest;
    }
    if let Some(d) = check_nesting(file, toks) {
        diags.push(d);
        return (None, diags);
    }
    let mut errors = vec![];
    let stream = toks
        .iter()
        .map(|t| Ok::<_, Diagnostic>((t.start, t.tok.clone(), t.end)));
    let result = grammar::ExprParser::new().parse(file, &mut errors, stream);
    let ctx = error::Context {
        file,
        text_len: text.len(),
        next: None,
    };
    diags.extend(
        errors
            .into_iter()
            .map(|e| error::syntax_error(e.error, &ctx)),
    );
    match result {
        Ok(e) => (Some(e), diags),
        Err(e) => {
            diags.push(error::syntax_error(e, &ctx));
            (None, diags)
        }
    }
}

fn parse_item(
    file: FileId,
    text: &str,
    toks: &[Token],
    next: Option<&Token>,
) -> (Option<Item>, Vec<Diagnostic>) {
    let mut errors: Vec<ErrorRecovery<usize, Tok, Diagnostic>> = vec![];
    let stream = toks
        .iter()
        .map(|t| Ok::<_, Diagnostic>((t.start, t.tok.clone(), t.end)));
    let result = grammar::ItemParser::new().parse(file, &mut errors, stream);
    let ctx = error::Context {
        file,
        text_len: text.len(),
        next,
    };
    let mut diags: Vec<Diagnostic> = errors
        .into_iter()
        .map(|e| error::syntax_error(e.error, &ctx))
        .collect();
    let item = match result {
        Ok(item) => Some(item),
        Err(e) => {
            // After a recovered error, a final one is usually its consequence.
            if diags.is_empty() {
                diags.push(error::syntax_error(e, &ctx));
            }
            None
        }
    };
    diags.dedup_by_key(|d| d.span);
    diags.truncate(ERRORS_PER_ITEM_MAX);
    // An item whose statements failed to parse still goes in the module, so that
    // later passes can check the rest; the errors stop compilation anyway.
    (item, diags)
}

/// Whether an item starts at token `i`.
fn is_item_start(tokens: &[Token], i: usize) -> bool {
    let Some(t) = tokens.get(i) else { return false };
    match t.tok {
        Tok::Type | Tok::Enum | Tok::Use | Tok::Test | Tok::Agent => true,
        Tok::Fn => matches!(
            tokens.get(i + 1),
            Some(Token {
                tok: Tok::LowerIdent(_),
                ..
            })
        ),
        _ => false,
    }
}

/// Cuts the tokens into items (see the module doc). The first range may hold
/// tokens before any item keyword.
fn split_items(tokens: &[Token]) -> Vec<Range<usize>> {
    let mut chunks = vec![];
    let mut start = 0;
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        // A `fn` in column 1 directly inside an agent is a method, not a new item.
        let member = depth == 1 && t.tok == Tok::Fn && tokens[start].tok == Tok::Agent;
        if i > start && is_item_start(tokens, i) && (depth == 0 || t.line_start) && !member {
            chunks.push(start..i);
            start = i;
            depth = 0;
        }
        match t.tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::StrStart(_) => depth += 1,
            Tok::RParen | Tok::RBracket | Tok::RBrace | Tok::StrEnd(_) => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    if start < tokens.len() {
        chunks.push(start..tokens.len());
    }
    chunks
}

fn not_an_item(file: FileId, t: &Token) -> Diagnostic {
    let found = t.tok.to_string();
    Diagnostic::error(
        Span::new(file, t.start, t.end),
        format!("expected an item, found {found}"),
    )
    .with_label("expected `fn`, `type`, `enum`, `agent`, `use` or `test`")
    .with_hint("statements belong inside a function body")
}

/// An estimate of how deep the syntax tree of these tokens gets: one level per
/// open bracket, plus one per operator, `.`, `?`, `else` ... since the last `,`,
/// `;` or `=>` inside that bracket (a chain `a + b + c` nests as deeply as it is long).
/// Returns the index of the first token past [`NESTING_MAX`].
fn nesting_depth_exceeded(toks: &[Token]) -> Option<usize> {
    let mut ops_per_level: Vec<u32> = vec![0];
    let mut depth: u32 = 0;
    for (i, t) in toks.iter().enumerate() {
        use Tok::*;
        let postfix = i > 0 && toks[i - 1].tok.can_end_expr();
        match t.tok {
            // A call or index nests its callee: `f(1)(2)(3)` is as deep as it is long.
            LParen | LBracket if postfix => {
                if let Some(ops) = ops_per_level.last_mut() {
                    *ops += 1;
                    depth += 1;
                }
                ops_per_level.push(0);
                depth += 1;
            }
            LParen | LBracket | LBrace | StrStart(_) => {
                ops_per_level.push(0);
                depth += 1;
            }
            RParen | RBracket | RBrace | StrEnd(_) if ops_per_level.len() > 1 => {
                let ops = ops_per_level.pop().unwrap_or(0);
                depth = depth.saturating_sub(1 + ops);
            }
            Comma | Semi(_) | FatArrow | StrMid(_) => {
                if let Some(ops) = ops_per_level.last_mut() {
                    depth = depth.saturating_sub(*ops);
                    *ops = 0;
                }
            }
            Plus | Minus | Star | Slash | Percent | EqEq | NotEq | Lt | Le | Gt | Ge | AndAnd
            | OrOr | Bang | Question | Dot | DotDot | Try | Send | Return | Pipe | Else | Arrow
            | If | Match | While | For => {
                if let Some(ops) = ops_per_level.last_mut() {
                    *ops += 1;
                    depth += 1;
                }
            }
            _ => {}
        }
        if depth > NESTING_MAX {
            return Some(i);
        }
    }
    None
}

fn check_nesting(file: FileId, toks: &[Token]) -> Option<Diagnostic> {
    let i = nesting_depth_exceeded(toks)?;
    let t = &toks[i];
    let d = Diagnostic::error(Span::new(file, t.start, t.end), "nesting too deep")
        .with_label(format!(
            "more than {NESTING_MAX} levels of brackets or operators"
        ))
        .with_hint("split the expression up with `let`");
    Some(d)
}

fn attach_doc(item: &mut Item, docs: &HashMap<usize, String>) {
    let (doc, start) = match item {
        Item::Fn(f) => (&mut f.doc, f.span.start),
        Item::Type(t) => (&mut t.doc, t.span.start),
        Item::Enum(e) => (&mut e.doc, e.span.start),
        Item::Agent(a) => {
            for m in &mut a.members {
                let (doc, start) = match m {
                    Member::Lane(l) => (&mut l.doc, l.span.start),
                    Member::Fn(f) | Member::Command(f) => (&mut f.doc, f.span.start),
                    Member::Demand(d) => (&mut d.doc, d.span.start),
                    Member::On { .. } | Member::Every { .. } | Member::Migrate(_) => continue,
                };
                *doc = docs.get(&(start as usize)).cloned();
            }
            (&mut a.doc, a.span.start)
        }
        Item::Use(_) | Item::Test(_) => return,
    };
    *doc = docs.get(&(start as usize)).cloned();
}
