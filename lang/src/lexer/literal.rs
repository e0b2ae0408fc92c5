//! Hand-written scanners for number literals (ints, floats, durations) and for the
//! literal text of strings between quotes and interpolations.

use super::Tok;

/// A problem found while scanning a literal: byte range, title, optional hint.
#[derive(Debug)]
pub(crate) struct LitError {
    pub start: usize,
    pub end: usize,
    pub title: String,
    pub hint: Option<String>,
}

fn lit_error(start: usize, end: usize, title: impl Into<String>) -> LitError {
    LitError {
        start,
        end,
        title: title.into(),
        hint: None,
    }
}

/// Scans a number starting at `start` (a digit). With `tuple_index` (after a `.`)
/// only plain decimal digits are taken, so that `t.0.1` is `t . 0 . 1`.
/// Returns the end offset and the token (a placeholder `Int(0)` after an error).
pub(crate) fn scan_number(
    text: &str,
    start: usize,
    tuple_index: bool,
) -> (usize, Tok, Option<LitError>) {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut i = start;
    if tuple_index {
        while at(i).is_ascii_digit() {
            i += 1;
        }
        return match text[start..i].parse::<i64>() {
            Ok(v) => (i, Tok::Int(v), None),
            Err(_) => (
                i,
                Tok::Int(0),
                Some(lit_error(start, i, "tuple index too large")),
            ),
        };
    }
    if at(i) == b'0' && (at(i + 1) == b'x' || at(i + 1) == b'X') {
        i += 2;
        while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
            i += 1;
        }
        let digits: String = text[start + 2..i].chars().filter(|&c| c != '_').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return (
                i,
                Tok::Int(0),
                Some(lit_error(start, i, "invalid hexadecimal literal")),
            );
        }
        return match i64::from_str_radix(&digits, 16) {
            Ok(v) => (i, Tok::Int(v), None),
            Err(_) => (i, Tok::Int(0), Some(too_large(start, i))),
        };
    }
    while at(i).is_ascii_digit() || at(i) == b'_' {
        i += 1;
    }
    let mut is_float = false;
    if at(i) == b'.' && at(i + 1).is_ascii_digit() {
        is_float = true;
        i += 1;
        while at(i).is_ascii_digit() || at(i) == b'_' {
            i += 1;
        }
    }
    if (at(i) == b'e' || at(i) == b'E')
        && (at(i + 1).is_ascii_digit()
            || ((at(i + 1) == b'+' || at(i + 1) == b'-') && at(i + 2).is_ascii_digit()))
    {
        is_float = true;
        i += 2;
        while at(i).is_ascii_digit() {
            i += 1;
        }
    }
    let number_end = i;
    while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
        i += 1;
    }
    let digits: String = text[start..number_end]
        .chars()
        .filter(|&c| c != '_')
        .collect();
    let suffix = &text[number_end..i];
    if suffix.is_empty() {
        return plain_number(&digits, is_float, start, i);
    }
    let Some(unit_ns) = duration_unit(suffix) else {
        let mut e = lit_error(start, i, format!("invalid suffix `{suffix}` on a number"));
        e.hint = Some("durations take `ns`, `us`, `ms`, `s`, `m` or `h`: `250ms`".into());
        return (i, Tok::Int(0), Some(e));
    };
    duration(&digits, is_float, unit_ns, start, i)
}

fn too_large(start: usize, end: usize) -> LitError {
    let mut e = lit_error(start, end, "integer literal too large");
    e.hint = Some(format!("the largest `Int` is {}", i64::MAX));
    e
}

fn plain_number(
    digits: &str,
    is_float: bool,
    start: usize,
    end: usize,
) -> (usize, Tok, Option<LitError>) {
    if is_float {
        return match digits.parse::<f64>() {
            Ok(v) if v.is_finite() => (end, Tok::Float(v), None),
            _ => (
                end,
                Tok::Float(0.0),
                Some(lit_error(start, end, "float literal out of range")),
            ),
        };
    }
    match digits.parse::<i64>() {
        Ok(v) => (end, Tok::Int(v), None),
        Err(_) => (end, Tok::Int(0), Some(too_large(start, end))),
    }
}

fn duration_unit(suffix: &str) -> Option<i64> {
    Some(match suffix {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

fn duration(
    digits: &str,
    is_float: bool,
    unit_ns: i64,
    start: usize,
    end: usize,
) -> (usize, Tok, Option<LitError>) {
    let overflow = || {
        let mut e = lit_error(start, end, "duration literal too large");
        e.hint = Some("a `Duration` holds at most about 292 years".into());
        (end, Tok::Duration(0), Some(e))
    };
    if is_float {
        let Ok(v) = digits.parse::<f64>() else {
            return overflow();
        };
        let ns = (v * unit_ns as f64).round();
        // i64::MAX as f64 rounds up to 2^63, so `<` keeps the cast in range.
        if !ns.is_finite() || ns >= i64::MAX as f64 {
            return overflow();
        }
        return (end, Tok::Duration(ns as i64), None);
    }
    match digits
        .parse::<i64>()
        .ok()
        .and_then(|v| v.checked_mul(unit_ns))
    {
        Some(ns) => (end, Tok::Duration(ns), None),
        None => overflow(),
    }
}

/// How the literal text of a string stopped.
#[derive(Debug, PartialEq)]
pub(crate) enum StrStop {
    /// At the closing `"` (consumed).
    Quote,
    /// At a `{` that opens an interpolation (consumed).
    Interp,
    /// At a newline (not consumed) or the end of the file.
    Unterminated,
}

/// Scans string text from `from` (just after `"` or after the `}` closing an
/// interpolation) up to the closing quote or the next interpolation.
/// Returns the decoded text, where it stopped and the offset after the stop.
pub(crate) fn scan_string(
    text: &str,
    from: usize,
    errors: &mut Vec<LitError>,
) -> (String, StrStop, usize) {
    let mut out = String::new();
    let mut chars = text[from..].char_indices().peekable();
    while let Some((off, c)) = chars.next() {
        let pos = from + off;
        match c {
            '"' => return (out, StrStop::Quote, pos + 1),
            '{' => return (out, StrStop::Interp, pos + 1),
            '\n' => return (out, StrStop::Unterminated, pos),
            '\\' => {
                let Some((eoff, e)) = chars.next() else { break };
                let esc_end = from + eoff + e.len_utf8();
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' | '"' | '\'' | '{' | '}' => out.push(e),
                    'u' => out.push(scan_unicode_escape(text, pos, &mut chars, errors)),
                    '\n' => {
                        errors.push(lit_error(pos, pos + 1, "unterminated string"));
                        return (out, StrStop::Unterminated, pos + 1);
                    }
                    _ => {
                        let mut err = lit_error(pos, esc_end, format!("unknown escape `\\{e}`"));
                        err.hint = Some(
                            r#"the escapes are \n \t \r \0 \\ \" \' \{ \} and \u{1F600}"#.into(),
                        );
                        errors.push(err);
                        out.push(e);
                    }
                }
            }
            _ => out.push(c),
        }
    }
    (out, StrStop::Unterminated, text.len())
}

/// Reads `{XXXX}` after `\u`; `start` is the offset of the backslash.
fn scan_unicode_escape(
    text: &str,
    start: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    errors: &mut Vec<LitError>,
) -> char {
    let bad = |end: usize, errors: &mut Vec<LitError>| {
        let mut e = lit_error(start, end, "invalid unicode escape");
        e.hint = Some("write a code point in hex: `\\u{1F600}`".into());
        errors.push(e);
        char::REPLACEMENT_CHARACTER
    };
    if chars.peek().map(|&(_, c)| c) != Some('{') {
        return bad(start + 2, errors);
    }
    chars.next();
    let mut hex = String::new();
    let mut end = start + 3;
    while let Some(&(_, c)) = chars.peek() {
        if c == '}' || c == '"' || c == '\n' || hex.len() > 8 {
            break;
        }
        hex.push(c);
        end += c.len_utf8();
        chars.next();
    }
    if chars.peek().map(|&(_, c)| c) != Some('}') {
        return bad(end.min(text.len()), errors);
    }
    chars.next();
    end += 1;
    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
        Some(c) if !hex.is_empty() => c,
        _ => bad(end, errors),
    }
}
