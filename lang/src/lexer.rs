//! Lexing: source text to tokens, with doc comments collected on the side and
//! Go-style automatic `;` insertion at newlines.
//!
//! Logos scans the simple tokens; strings, numbers and `/* */` comments are scanned
//! by hand (`lexer/literal.rs`). A string with interpolation becomes
//! `StrStart expr (StrMid expr)* StrEnd`, the embedded expressions lexed as normal
//! tokens; a stack of open brackets tells a `}` closing an interpolation from one
//! closing a block.
//!
//! Newlines: at a newline a virtual `;` is inserted when the previous token can end
//! an expression, the next token cannot continue one (`.`, `else`, `)`, binary
//! operators, `{` after an `if`/`while`/`for`/`match`/`fn` head, ...), and the innermost open bracket is a `{` (or none). Inside
//! `( )`, `[ ]` and interpolations newlines mean nothing. A `}` on its own line does
//! get a `;` before it; the grammar does not let that one end a block's tail.

mod literal;
mod raw;

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};
use literal::{LitError, StrStop};
use logos::Logos;
use raw::Raw;
use std::collections::HashMap;
use std::fmt;

/// A token with its payload, as the parser consumes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    LowerIdent(String),
    UpperIdent(String),
    Int(i64),
    Float(f64),
    /// Nanoseconds.
    Duration(i64),
    /// A whole string without interpolation, decoded.
    Str(String),
    /// `"text{`: the text before the first interpolation.
    StrStart(String),
    /// `}text{`: text between two interpolations.
    StrMid(String),
    /// `}text"`: the text after the last interpolation.
    StrEnd(String),
    Fn,
    Let,
    Var,
    If,
    Else,
    Match,
    While,
    For,
    In,
    Break,
    Continue,
    Return,
    Type,
    Enum,
    Use,
    Test,
    True,
    False,
    Try,
    /// `agent`; an ordinary name directly after `.` or `fn`.
    Agent,
    /// `send`; an ordinary name directly after `.` or `fn`.
    Send,
    /// `new` before a type name; an ordinary name elsewhere (`undo(new)`) and directly
    /// after `.` or `fn` (`Map.new()`).
    New,
    Underscore,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    /// `true` when inserted at a newline rather than written.
    Semi(bool),
    Colon,
    ColonColon,
    Dot,
    DotDot,
    DotDotDot,
    Arrow,
    FatArrow,
    Eq,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PercentEq,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Question,
    Pipe,
}

impl Tok {
    /// Whether an expression (or a type) can end with this token.
    pub(crate) fn can_end_expr(&self) -> bool {
        use Tok::*;
        matches!(
            self,
            LowerIdent(_)
                | UpperIdent(_)
                | Int(_)
                | Float(_)
                | Duration(_)
                | Str(_)
                | StrEnd(_)
                | RParen
                | RBracket
                | RBrace
                | Question
                | Break
                | Continue
                | Return
                | Gt
                | True
                | False
                | Underscore
        )
    }

    /// Whether a line starting with this token continues the previous line.
    fn continues_line(&self) -> bool {
        use Tok::*;
        matches!(
            self,
            Dot | DotDot
                | StrMid(_)
                | StrEnd(_)
                | Else
                | In
                | RParen
                | RBracket
                | Comma
                | Semi(_)
                | Colon
                | ColonColon
                | FatArrow
                | Arrow
                | AndAnd
                | OrOr
                | Question
                | Plus
                | Star
                | Slash
                | Percent
                | EqEq
                | NotEq
                | Lt
                | Le
                | Gt
                | Ge
                | Eq
                | PlusEq
                | MinusEq
                | StarEq
                | SlashEq
                | PercentEq
        )
    }
}

impl fmt::Display for Tok {
    /// How a token is named in "found ..." messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Tok::*;
        let s = match self {
            LowerIdent(n) | UpperIdent(n) => return write!(f, "`{n}`"),
            Int(v) => return write!(f, "`{v}`"),
            Float(v) => return write!(f, "`{v:?}`"),
            Duration(_) => "a duration",
            Str(_) | StrStart(_) => "a string",
            StrMid(_) | StrEnd(_) => "the rest of a string",
            Semi(true) => "a newline",
            other => return write!(f, "`{}`", other.symbol()),
        };
        f.write_str(s)
    }
}

impl Tok {
    /// The source text of a keyword or punctuation token.
    pub fn symbol(&self) -> &'static str {
        use Tok::*;
        match self {
            Fn => "fn",
            Let => "let",
            Var => "var",
            If => "if",
            Else => "else",
            Match => "match",
            While => "while",
            For => "for",
            In => "in",
            Break => "break",
            Continue => "continue",
            Return => "return",
            Type => "type",
            Enum => "enum",
            Use => "use",
            Test => "test",
            True => "true",
            False => "false",
            Try => "try",
            Agent => "agent",
            Send => "send",
            New => "new",
            Underscore => "_",
            LParen => "(",
            RParen => ")",
            LBracket => "[",
            RBracket => "]",
            LBrace => "{",
            RBrace => "}",
            Comma => ",",
            Semi(_) => ";",
            Colon => ":",
            ColonColon => "::",
            Dot => ".",
            DotDot => "..",
            DotDotDot => "...",
            Arrow => "->",
            FatArrow => "=>",
            Eq => "=",
            PlusEq => "+=",
            MinusEq => "-=",
            StarEq => "*=",
            SlashEq => "/=",
            PercentEq => "%=",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            AndAnd => "&&",
            OrOr => "||",
            Bang => "!",
            Question => "?",
            Pipe => "|",
            LowerIdent(_) | UpperIdent(_) | Int(_) | Float(_) | Duration(_) => "literal",
            Str(_) | StrStart(_) | StrMid(_) | StrEnd(_) => "\"",
        }
    }
}

/// One token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
    /// The token is the first thing on its line, in column 1.
    pub line_start: bool,
}

/// The lexer's output.
#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    /// `///` comments, keyed by the start offset of the token that follows them.
    pub docs: HashMap<usize, String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes a whole file. Never fails: problems become diagnostics and the bad text is
/// skipped or replaced by a placeholder token.
pub fn lex(file: FileId, text: &str) -> Lexed {
    let mut lx = Lexer {
        file,
        text,
        out: Lexed::default(),
        stack: vec![],
        heads: vec![0],
        newline: None,
        doc: None,
    };
    lx.run();
    lx.out
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Open {
    Paren,
    Bracket,
    Brace,
    Interp,
}

struct Lexer<'a> {
    file: FileId,
    text: &'a str,
    out: Lexed,
    stack: Vec<Open>,
    /// Per open bracket (and one for the file): how many `if`, `while`, `for`,
    /// `match`, `fn`, `test`, `enum` and `agent` heads still wait for their `{`.
    heads: Vec<u32>,
    /// Offset of a newline seen since the last token.
    newline: Option<usize>,
    /// Doc comment lines waiting for the next token.
    doc: Option<String>,
}

impl Lexer<'_> {
    fn run(&mut self) {
        let mut pos = 0;
        while pos < self.text.len() {
            pos = self.run_logos(pos);
        }
        if self.stack.contains(&Open::Interp) {
            let end = self.text.len();
            self.error(
                end,
                end,
                "unterminated string",
                Some("a `{` in a string opens an interpolation; write `\\{` for a brace"),
            );
        }
    }

    /// Lexes with logos from `pos` until a token that needs hand scanning; returns
    /// the offset to continue from.
    fn run_logos(&mut self, pos: usize) -> usize {
        let text = self.text;
        let mut raw = Raw::lexer(&text[pos..]);
        while let Some(next) = raw.next() {
            let (s, e) = (pos + raw.span().start, pos + raw.span().end);
            let Ok(r) = next else {
                let len = text[s..].chars().next().map_or(1, char::len_utf8);
                self.invalid_char(s, s + len);
                return s + len;
            };
            match r {
                Raw::Newline => self.newline = Some(self.newline.unwrap_or(s)),
                Raw::LineComment => self.line_comment(&text[s..e]),
                Raw::BlockCommentOpen => return self.block_comment(s),
                Raw::Quote => return self.string(s, e, false),
                Raw::Digit => {
                    let after_dot = matches!(self.out.tokens.last(), Some(t) if t.tok == Tok::Dot);
                    let (end, tok, err) = literal::scan_number(text, s, after_dot);
                    self.lit_error(err);
                    self.push(tok, s, end);
                    return end;
                }
                Raw::RBrace => {
                    let innermost = self
                        .stack
                        .iter()
                        .rposition(|o| matches!(o, Open::Brace | Open::Interp));
                    if let Some(i) = innermost.filter(|&i| self.stack[i] == Open::Interp) {
                        self.stack.truncate(i);
                        return self.string(s, e, true);
                    }
                    self.push(Tok::RBrace, s, e);
                }
                // `new` allocates only before a type name (`new Cell(..)`); elsewhere it is
                // an ordinary name, as in a migration's `undo(new) { .. }`.
                Raw::New if !starts_upper(&text[e..]) => {
                    self.push(Tok::LowerIdent(text[s..e].to_string()), s, e);
                }
                Raw::Agent | Raw::Send | Raw::New if self.names_follow() => {
                    self.push(Tok::LowerIdent(text[s..e].to_string()), s, e);
                }
                _ => {
                    let tok = convert(r, &text[s..e]);
                    self.push(tok, s, e);
                }
            }
        }
        text.len()
    }

    /// Whether the keywords that came after the sketch (`agent`, `send`, `new`) are ordinary
    /// names here: directly after `.` (`jobs.send(x)`) or `fn` (declaring that method).
    fn names_follow(&self) -> bool {
        matches!(
            self.out.tokens.last(),
            Some(Token {
                tok: Tok::Dot | Tok::Fn,
                ..
            })
        )
    }

    fn invalid_char(&mut self, s: usize, e: usize) {
        if let Some(last) = self.out.diagnostics.last_mut() {
            if last.title == "invalid character" && last.span.end as usize == s {
                last.span.end = e as u32;
                return;
            }
        }
        let c = self.text[s..e].chars().next().unwrap_or(' ');
        self.error(s, e, "invalid character", None);
        if let Some(d) = self.out.diagnostics.last_mut() {
            d.label = format!("`{}` is not part of Weft's syntax", c.escape_debug());
        }
    }

    fn line_comment(&mut self, comment: &str) {
        let Some(body) = comment.strip_prefix("///") else {
            return;
        };
        if body.starts_with('/') {
            return;
        }
        let line = body.strip_prefix(' ').unwrap_or(body).trim_end();
        match &mut self.doc {
            Some(d) => {
                d.push('\n');
                d.push_str(line);
            }
            None => self.doc = Some(line.to_string()),
        }
    }

    /// Skips a (nested) block comment starting at `start`; returns its end.
    fn block_comment(&mut self, start: usize) -> usize {
        let bytes = self.text.as_bytes();
        let (mut i, mut depth) = (start + 2, 1usize);
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1).copied()) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    i += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                }
                (b'\n', _) => {
                    self.newline = Some(self.newline.unwrap_or(i));
                    i += 1;
                }
                _ => i += 1,
            }
        }
        if depth > 0 {
            self.error(
                start,
                start + 2,
                "unterminated block comment",
                Some("close it with `*/`"),
            );
            return bytes.len();
        }
        i
    }

    /// Scans string text after `"` (`resume == false`) or after the `}` that closes
    /// an interpolation; `s..e` is that opening character. Returns where to go on.
    fn string(&mut self, s: usize, e: usize, resume: bool) -> usize {
        let mut errors = vec![];
        let (text, stop, end) = literal::scan_string(self.text, e, &mut errors);
        for err in errors {
            self.lit_error(Some(err));
        }
        let tok = match (&stop, resume) {
            (StrStop::Interp, false) => Tok::StrStart(text),
            (StrStop::Interp, true) => Tok::StrMid(text),
            (_, false) => Tok::Str(text),
            (_, true) => Tok::StrEnd(text),
        };
        if stop == StrStop::Unterminated {
            let hint = "close it with `\"` on the same line; write `\\n` for a line break";
            self.error(s, s + 1, "unterminated string", Some(hint));
        }
        self.push(tok, s, end);
        if stop == StrStop::Interp {
            self.stack.push(Open::Interp);
        }
        end
    }

    fn lit_error(&mut self, err: Option<LitError>) {
        if let Some(err) = err {
            self.error(err.start, err.end, &err.title, err.hint.as_deref());
        }
    }

    fn error(&mut self, s: usize, e: usize, title: &str, hint: Option<&str>) {
        let mut d = Diagnostic::error(Span::new(self.file, s, e), title);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.out.diagnostics.push(d);
    }

    /// Emits a token, inserting a virtual `;` first if a newline calls for one.
    fn push(&mut self, tok: Tok, start: usize, end: usize) {
        self.heads.resize(self.stack.len() + 1, 0);
        let mut heads = self.heads.last_mut().map_or(0, std::mem::take);
        if let Some(nl) = self.newline.take() {
            let prev = self.out.tokens.last().map(|t| &t.tok);
            let insert = if tok == Tok::RBrace {
                // A `}` on its own line gets a `;` before it: error recovery resumes
                // there. The grammar keeps a final expression as the block's tail.
                self.stack.last() == Some(&Open::Brace)
                    && prev.is_some_and(|p| !matches!(p, Tok::Semi(_) | Tok::LBrace))
            } else {
                let in_braces = matches!(self.stack.last(), None | Some(Open::Brace));
                // `{` continues the line only after a head waiting for its body:
                // `if cond⏎{` yes, `f(x)⏎{ block }` no.
                let continues = tok.continues_line() || (tok == Tok::LBrace && heads > 0);
                in_braces && prev.is_some_and(Tok::can_end_expr) && !continues
            };
            if insert {
                heads = 0;
                self.out.tokens.push(Token {
                    tok: Tok::Semi(true),
                    start: nl,
                    end: nl + 1,
                    line_start: false,
                });
            }
        }
        let heads = match tok {
            Tok::If
            | Tok::While
            | Tok::For
            | Tok::Match
            | Tok::Fn
            | Tok::Test
            | Tok::Enum
            | Tok::Agent => heads + 1,
            Tok::LBrace => heads.saturating_sub(1),
            Tok::Semi(_) => 0,
            _ => heads,
        };
        if let Some(h) = self.heads.last_mut() {
            *h = heads;
        }
        match tok {
            Tok::LParen => self.stack.push(Open::Paren),
            Tok::LBracket => self.stack.push(Open::Bracket),
            Tok::LBrace => self.stack.push(Open::Brace),
            Tok::RParen if self.stack.last() == Some(&Open::Paren) => {
                self.stack.pop();
            }
            Tok::RBracket if self.stack.last() == Some(&Open::Bracket) => {
                self.stack.pop();
            }
            Tok::RBrace => {
                // Also closes any `(` or `[` left open inside the braces.
                if let Some(i) = self.stack.iter().rposition(|o| *o == Open::Brace) {
                    self.stack.truncate(i);
                }
            }
            _ => {}
        }
        if let Some(doc) = self.doc.take() {
            self.out.docs.insert(start, doc);
        }
        let line_start = start == 0 || self.text.as_bytes().get(start - 1) == Some(&b'\n');
        self.out.tokens.push(Token {
            tok,
            start,
            end,
            line_start,
        });
    }
}

/// The parser token for a logos token that needs no hand scanning.
fn convert(r: Raw, slice: &str) -> Tok {
    use Tok::*;
    match r {
        Raw::LowerIdent => LowerIdent(slice.to_string()),
        Raw::UpperIdent => UpperIdent(slice.to_string()),
        Raw::Fn => Fn,
        Raw::Let => Let,
        Raw::Var => Var,
        Raw::If => If,
        Raw::Else => Else,
        Raw::Match => Match,
        Raw::While => While,
        Raw::For => For,
        Raw::In => In,
        Raw::Break => Break,
        Raw::Continue => Continue,
        Raw::Return => Return,
        Raw::Type => Type,
        Raw::Enum => Enum,
        Raw::Use => Use,
        Raw::Test => Test,
        Raw::True => True,
        Raw::False => False,
        Raw::Try => Try,
        Raw::Agent => Agent,
        Raw::Send => Send,
        Raw::New => New,
        Raw::Underscore => Underscore,
        Raw::LParen => LParen,
        Raw::RParen => RParen,
        Raw::LBracket => LBracket,
        Raw::RBracket => RBracket,
        Raw::LBrace => LBrace,
        Raw::RBrace => RBrace,
        Raw::Comma => Comma,
        Raw::Semi => Semi(false),
        Raw::Colon => Colon,
        Raw::ColonColon => ColonColon,
        Raw::Dot => Dot,
        Raw::DotDot => DotDot,
        Raw::DotDotDot => DotDotDot,
        Raw::Arrow => Arrow,
        Raw::FatArrow => FatArrow,
        Raw::Eq => Eq,
        Raw::PlusEq => PlusEq,
        Raw::MinusEq => MinusEq,
        Raw::StarEq => StarEq,
        Raw::SlashEq => SlashEq,
        Raw::PercentEq => PercentEq,
        Raw::Plus => Plus,
        Raw::Minus => Minus,
        Raw::Star => Star,
        Raw::Slash => Slash,
        Raw::Percent => Percent,
        Raw::EqEq => EqEq,
        Raw::NotEq => NotEq,
        Raw::Lt => Lt,
        Raw::Le => Le,
        Raw::Gt => Gt,
        Raw::Ge => Ge,
        Raw::AndAnd => AndAnd,
        Raw::OrOr => OrOr,
        Raw::Bang => Bang,
        Raw::Question => Question,
        Raw::Pipe => Pipe,
        // Scanned by hand before conversion; never reached.
        Raw::Newline | Raw::LineComment | Raw::BlockCommentOpen | Raw::Quote | Raw::Digit => {
            Semi(true)
        }
    }
}

/// `60000000000` → `1m`: a period (nanoseconds) as a user would write it.
pub fn duration_text(ns: i64) -> String {
    const UNITS: &[(i64, &str)] = &[
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    for (size, unit) in UNITS {
        if ns != 0 && ns % size == 0 {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

/// Whether `rest` starts, after spaces and tabs, with an uppercase ASCII letter.
fn starts_upper(rest: &str) -> bool {
    rest.trim_start_matches([' ', '\t'])
        .starts_with(|c: char| c.is_ascii_uppercase())
}
