//! Diagnostics and their rustc-style rendering: `file:line:col`, the source line, the span underlined, a hint.

use crate::source::{SourceMap, Span};
use std::fmt::Write;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// One message about the program, pointing into its source.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub level: Level,
    /// One line, lower case, no trailing period: "mismatched types".
    pub title: String,
    pub span: Span,
    /// Printed under the underline: "expected `Int`, found `String`".
    pub label: String,
    /// Extra spans worth showing, each with its own label.
    pub notes: Vec<(Span, String)>,
    /// A suggestion on how to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, title: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            title: title.into(),
            span,
            label: String::new(),
            notes: vec![],
            hint: None,
        }
    }

    pub fn warning(span: Span, title: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(span, title)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_note(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.notes.push((span, label.into()));
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// Render as rustc does:
    /// ```text
    /// error: mismatched types
    ///  --> app.weft:3:9
    ///   |
    /// 3 |   let x: Int = "a"
    ///   |                ^^^ expected `Int`, found `String`
    ///   = hint: ...
    /// ```
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let _ = writeln!(out, "{level}: {}", self.title);
        let loc = sources.location(self.span);
        let mut spans = vec![(self.span, self.label.as_str())];
        spans.extend(self.notes.iter().map(|(s, l)| (*s, l.as_str())));
        let width = spans
            .iter()
            .map(|(s, _)| sources.location(*s).line.to_string().len())
            .max()
            .unwrap_or(1);
        let pad = " ".repeat(width);
        let _ = writeln!(out, "{pad}--> {loc}");
        for (i, (span, label)) in spans.iter().enumerate() {
            let file = sources.file(span.file);
            let (line, col) = file.line_col(span.start);
            let (end_line, end_col) = file.line_col(span.end);
            if i > 0 && span.file != self.span.file {
                let _ = writeln!(out, "{pad}::: {}", sources.location(*span));
            }
            let text: Vec<char> = file
                .line_text(line)
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            let stop = if end_line == line {
                end_col.max(col + 1)
            } else {
                (text.len() as u32 + 1).max(col + 1)
            };
            let (shown, col, stop) = window(&text, col, stop);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{:>width$} | {}", line, shown);
            let marker = if i == 0 { '^' } else { '-' };
            let underline: String = std::iter::repeat_n(marker, (stop - col) as usize).collect();
            let lead = " ".repeat((col - 1) as usize);
            let sep = if label.is_empty() { "" } else { " " };
            let _ = writeln!(out, "{pad} | {lead}{underline}{sep}{label}");
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{pad} = hint: {hint}");
        }
        out
    }
}

/// Source lines longer than this are cut to a window around the span.
const LINE_SHOWN_MAX: u32 = 120;

/// The part of a long line worth showing, with the span's columns (1-based, end
/// exclusive) moved into it; long underlines are capped too.
fn window(text: &[char], col: u32, stop: u32) -> (String, u32, u32) {
    let len = text.len() as u32;
    if len <= LINE_SHOWN_MAX {
        return (text.iter().collect(), col, stop.min(len + 2));
    }
    let half = LINE_SHOWN_MAX / 2;
    let start = col.saturating_sub(half).max(1);
    let end = (start + LINE_SHOWN_MAX).min(len + 1);
    let mut shown = String::new();
    let mut shift = start - 1;
    if start > 1 {
        shown.push_str("...");
        shift = shift.saturating_sub(3);
    }
    shown.extend(&text[(start - 1) as usize..(end - 1) as usize]);
    if end <= len {
        shown.push_str("...");
    }
    let col = col - shift;
    let stop = (stop - shift).min(col + half).max(col + 1);
    (shown, col, stop)
}

/// Renders a list of diagnostics, followed by a summary line if there are errors.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.render(sources));
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        let s = if errors == 1 { "" } else { "s" };
        let _ = writeln!(out, "error: could not compile due to {errors} error{s}");
    }
    out
}
