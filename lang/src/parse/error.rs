//! Turns LALRPOP's parse errors into diagnostics in human words: "expected
//! expression, found `}`" rather than lists of terminal names.

use crate::diagnostic::Diagnostic;
use crate::lexer::{Tok, Token};
use crate::source::{FileId, Span};
use lalrpop_util::ParseError;

/// What an error message needs beyond the error itself.
pub(super) struct Context<'a> {
    pub file: FileId,
    pub text_len: usize,
    /// The token after the item being parsed (the next item's keyword), if any.
    pub next: Option<&'a Token>,
}

pub(super) fn syntax_error(
    err: ParseError<usize, Tok, Diagnostic>,
    ctx: &Context<'_>,
) -> Diagnostic {
    match err {
        ParseError::User { error } => error,
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Span::new(ctx.file, location, location + 1), "invalid token")
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::error(Span::new(ctx.file, l, r), format!("unexpected {tok}"))
                .with_label("not expected here")
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => unexpected(
            Span::new(ctx.file, l, r),
            &tok.to_string(),
            Some(&tok),
            &expected,
        ),
        ParseError::UnrecognizedEof { location, expected } => {
            // At the end of an item an unclosed bracket is the likely story.
            let closers: Vec<String> = expected
                .iter()
                .filter(|e| matches!(e.as_str(), "\"}\"" | "\")\"" | "\"]\""))
                .cloned()
                .collect();
            let expected = if closers.is_empty() {
                expected
            } else {
                closers
            };
            eof_error(location, &expected, ctx)
        }
    }
}

fn eof_error(location: usize, expected: &[String], ctx: &Context<'_>) -> Diagnostic {
    match ctx.next {
        Some(next) => {
            let span = Span::new(ctx.file, next.start, next.end);
            let d = unexpected(span, &next.tok.to_string(), Some(&next.tok), expected);
            d.with_hint("the item before this one is not finished")
        }
        None => {
            let at = location.max(ctx.text_len);
            unexpected(Span::new(ctx.file, at, at), "end of file", None, expected)
        }
    }
}

fn unexpected(span: Span, found: &str, tok: Option<&Tok>, expected: &[String]) -> Diagnostic {
    let words = describe(expected);
    let (title, label) = match words.as_slice() {
        [] => (
            format!("unexpected {found}"),
            "not expected here".to_string(),
        ),
        [only] => (
            format!("expected {only}, found {found}"),
            format!("expected {only}"),
        ),
        _ => (
            format!("expected {}, found {found}", join_or(&words)),
            format!("unexpected {found}"),
        ),
    };
    let mut d = Diagnostic::error(span, title).with_label(label);
    if let Some(h) = hint(tok, expected) {
        d = d.with_hint(h);
    }
    d
}

fn hint(tok: Option<&Tok>, expected: &[String]) -> Option<&'static str> {
    let has = |t: &str| expected.iter().any(|e| e.trim_matches('"') == t);
    match tok {
        Some(Tok::Eq) if has("==") => Some("use `==` to compare; `=` assigns"),
        Some(Tok::Colon) if has("}") || has("{") => {
            Some("a record literal in the head of `if`, `while`, `match` or `for` needs parentheses: `(Point { x: 1 })`")
        }
        Some(Tok::Semi(true)) if has("(") && has("IntLit") => {
            Some("the expression stops at the end of the line; finish it there or wrap it in parentheses")
        }
        Some(Tok::Lt | Tok::Gt | Tok::Le | Tok::Ge | Tok::EqEq | Tok::NotEq) if !has("<") => {
            Some("comparisons do not chain: write `a < b && b < c`")
        }
        Some(Tok::Else) => Some("`else` must follow the `}` of an `if`"),
        None if has("}") => Some("a `}` is missing"),
        None if has(")") => Some("a `)` is missing"),
        _ => None,
    }
}

/// Tokens that can start an expression; when most are expected we say "expression".
const EXPR_START: &[&str] = &[
    "LowerIdent",
    "UpperIdent",
    "IntLit",
    "FloatLit",
    "DurationLit",
    "StrLit",
    "StrStart",
    "\"(\"",
    "\"[\"",
    "\"{\"",
    "\"-\"",
    "\"!\"",
    "\"try\"",
    "\"send\"",
    "\"new\"",
    "\"if\"",
    "\"match\"",
    "\"while\"",
    "\"for\"",
    "\"break\"",
    "\"continue\"",
    "\"return\"",
    "\"true\"",
    "\"false\"",
    "\"|\"",
    "\"||\"",
];

const PATTERN_START: &[&str] = &[
    "\"_\"",
    "LowerIdent",
    "UpperIdent",
    "IntLit",
    "FloatLit",
    "StrLit",
    "\"-\"",
    "\"(\"",
    "\"{\"",
    "\"true\"",
    "\"false\"",
];

const TYPE_START: &[&str] = &["\"fn\"", "UpperIdent", "LowerIdent", "\"(\""];

/// Binary operators and postfix forms: collapsed to "an operator".
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "..", ".", "?", "(", "[",
];

/// Punctuation and keywords listed by name, most telling first.
const ORDER: &[&str] = &[
    ")", "]", "}", ",", ";", "=>", "=", ":", "{", "->", "in", "else", "::", "..", "...", "<", ">",
    "fn", "type", "enum", "agent", "use", "test", "let", "var", "if",
];

/// Describes the expected terminals, in order, as few phrases as possible.
fn describe(expected: &[String]) -> Vec<String> {
    let mut rest: Vec<&str> = expected.iter().map(String::as_str).collect();
    let mut words = vec![];
    let take = |set: &[&str], name: &str, rest: &mut Vec<&str>, words: &mut Vec<String>| {
        words.push(name.to_string());
        rest.retain(|e| !set.contains(e));
    };
    let contains = |rest: &[&str], t: &str| rest.contains(&t);
    if contains(&rest, "\"_\"") && contains(&rest, "IntLit") {
        take(PATTERN_START, "pattern", &mut rest, &mut words);
    } else if contains(&rest, "IntLit") && contains(&rest, "LowerIdent") {
        take(EXPR_START, "expression", &mut rest, &mut words);
    } else if contains(&rest, "\"fn\"") && contains(&rest, "UpperIdent") {
        take(TYPE_START, "type", &mut rest, &mut words);
    }
    if contains(&rest, "LowerIdent") {
        take(&["LowerIdent"], "a name", &mut rest, &mut words);
    }
    if contains(&rest, "UpperIdent") {
        take(&["UpperIdent"], "a type name", &mut rest, &mut words);
    }
    if contains(&rest, "StrLit") {
        take(&["StrLit"], "a string", &mut rest, &mut words);
    }
    if contains(&rest, "DurationLit") {
        take(&["DurationLit"], "a duration", &mut rest, &mut words);
    }
    // `x = 1` is worth a mention, `x %= 1` is not.
    const COMPOUND_ASSIGN: &[&str] = &["+=", "-=", "*=", "/=", "%="];
    let unquoted: Vec<&str> = rest
        .iter()
        .map(|e| e.trim_matches('"'))
        .filter(|t| !COMPOUND_ASSIGN.contains(t))
        .collect();
    let operators = unquoted.iter().filter(|t| OPERATORS.contains(t)).count();
    let collapse_ops = operators >= 3;
    let mut listed: Vec<&str> = unquoted
        .iter()
        .copied()
        .filter(|t| !(collapse_ops && OPERATORS.contains(t) && !ORDER[..8].contains(t)))
        .collect();
    listed.sort_by_key(|t| ORDER.iter().position(|o| o == t).unwrap_or(ORDER.len()));
    listed.dedup();
    for t in listed.iter().take(5) {
        words.push(format!("`{t}`"));
    }
    if collapse_ops {
        words.push("an operator".to_string());
    }
    words
}

fn join_or(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
