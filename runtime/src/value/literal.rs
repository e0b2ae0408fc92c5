//! One command-line argument read as a value of its expected type, in Weft's literal
//! syntax: `42`, `-7`, `1_000`, `0xff`, `3.14`, `-1e3`, `true`, `"text"`, `250ms`, `()`,
//! `[1, 2]`, `{"a": 1}`, `(1, "a")`, `Point { x: 1.0, y: 2 }`, `Some(3)`, `None`.
//!
//! The expected type resolves what the text alone would leave open: an integer is a
//! Float where a Float is expected, a word that does not start with `"` is a String where
//! a String is expected (at the top, the whole argument verbatim, so `weft call ... incr
//! ada` passes `"ada"`; inside a list or map, a run of characters up to a delimiter), and
//! a variant name must be one of the expected enum's. Everything [`super::show`] writes
//! reads back, except `Bytes` (`<3 bytes>` says too little; a quoted string is read as
//! its UTF-8 bytes) and NaN's sign. An agent reference is a quoted or bare URI, or
//! `Counter("/counters/a")` as it shows.
//!
//! Errors name the column (in characters, from 1) and what was expected there. The
//! parser recurses once per level of nesting and refuses more than
//! [`NESTING_DEPTH_MAX`] levels.

use super::{adt, base_name, sort_key, Value, NESTING_DEPTH_MAX};
use std::collections::HashSet;
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// Characters that end a bare word inside a value.
const DELIMITERS: &str = ",:()[]{}\"";

/// The most characters of the offending text an error quotes.
const FOUND_CHARS_MAX: usize = 24;

/// `text` read as a value of type `ty`.
pub fn parse_literal(text: &str, ty: &TypeDesc, types: &[AdtDesc]) -> Result<Value, String> {
    match ty {
        TypeDesc::String if !text.starts_with('"') => return Ok(Value::Str(text.to_string())),
        TypeDesc::Agent(name) if !text.starts_with('"') && !shows_agent(text, name) => {
            return Ok(Value::Agent(text.to_string()))
        }
        _ => {}
    }
    let mut p = Parser {
        text,
        pos: 0,
        types,
    };
    let value = p.value(ty, 0)?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(p.error("the end of the argument"));
    }
    Ok(value)
}

/// Whether `text` starts as an agent reference shows: `Counter(`.
fn shows_agent(text: &str, name: &str) -> bool {
    text.strip_prefix(name)
        .is_some_and(|rest| rest.trim_start().starts_with('('))
}

struct Parser<'a> {
    text: &'a str,
    /// A byte offset, always on a character boundary.
    pos: usize,
    types: &'a [AdtDesc],
}

/// A number as written: sign, digits (with `_`), and any letters after them.
struct Number<'a> {
    start: usize,
    negative: bool,
    digits: String,
    hex: bool,
    float: bool,
    suffix: &'a str,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Skips whitespace, then `c` if it is next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.bump();
            return true;
        }
        false
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            return Ok(());
        }
        Err(self.error(&format!("`{c}`")))
    }

    fn column(&self, pos: usize) -> usize {
        self.text[..pos].chars().count() + 1
    }

    fn error(&self, expected: &str) -> String {
        self.error_at(self.pos, expected)
    }

    fn error_at(&self, pos: usize, expected: &str) -> String {
        format!(
            "at column {}: expected {expected}, found {}",
            self.column(pos),
            self.found_at(pos)
        )
    }

    fn fail_at(&self, pos: usize, message: &str) -> String {
        format!("at column {}: {message}", self.column(pos))
    }

    /// The text at `pos` for an error: one delimiter, or a word up to the next one.
    fn found_at(&self, pos: usize) -> String {
        let rest = &self.text[pos..];
        let Some(first) = rest.chars().next() else {
            return "the end of the argument".into();
        };
        if DELIMITERS.contains(first) {
            return format!("`{first}`");
        }
        let word: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !DELIMITERS.contains(*c))
            .take(FOUND_CHARS_MAX)
            .collect();
        format!("`{word}`")
    }

    /// An identifier (`[A-Za-z_][A-Za-z0-9_]*`) if one is next.
    fn ident(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let first = rest.chars().next()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        Some(&rest[..len])
    }

    /// A run of characters up to whitespace or a delimiter (possibly empty).
    fn bare_word(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || DELIMITERS.contains(c))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn value(&mut self, ty: &TypeDesc, depth: usize) -> Result<Value, String> {
        self.skip_ws();
        if depth > NESTING_DEPTH_MAX {
            let message = format!("nested more than {NESTING_DEPTH_MAX} levels deep");
            return Err(self.fail_at(self.pos, &message));
        }
        match ty {
            TypeDesc::Int => self.int(),
            TypeDesc::Float => self.float(),
            TypeDesc::Duration => self.duration(),
            TypeDesc::Bool => {
                let start = self.pos;
                match self.ident() {
                    Some("true") => Ok(Value::Bool(true)),
                    Some("false") => Ok(Value::Bool(false)),
                    _ => Err(self.error_at(start, "`true` or `false`")),
                }
            }
            TypeDesc::String => self.string("a String").map(Value::Str),
            TypeDesc::Resource(ty) => self.string(&format!("a `{ty}` name")).map(Value::Str),
            TypeDesc::Bytes => match self.peek() {
                Some('"') => self.quoted().map(|s| Value::Bytes(s.into_bytes())),
                _ => Err(self.error("Bytes as a quoted string")),
            },
            TypeDesc::Unit => {
                self.expect('(')?;
                self.expect(')')?;
                Ok(Value::Unit)
            }
            TypeDesc::Agent(name) => self.agent(name),
            TypeDesc::List(elem) => {
                let items = self.seq('[', ']', |p, _| p.value(elem, depth + 1))?;
                Ok(Value::List(items))
            }
            TypeDesc::Map(kt, vt) => {
                let mut seen = HashSet::new();
                let entries = self.seq('{', '}', |p, _| {
                    p.skip_ws();
                    let at = p.pos;
                    let key = p.value(kt, depth + 1)?;
                    let mut sk = Vec::new();
                    sort_key(&key, &mut sk);
                    if !seen.insert(sk) {
                        return Err(p.fail_at(at, "this key appears twice"));
                    }
                    p.expect(':')?;
                    Ok((key, p.value(vt, depth + 1)?))
                })?;
                Ok(Value::Map(entries))
            }
            TypeDesc::Tuple(tys) => self.fields(tys, depth).map(Value::Tuple),
            TypeDesc::Adt(index) => {
                let desc = adt(self.types, *index)
                    .ok_or_else(|| format!("type index {index} is not in the manifest"))?;
                match &desc.shape {
                    AdtShape::Record(fields) => self.record(desc, fields, depth),
                    AdtShape::Enum(variants) => self.variant(desc, variants, depth),
                }
            }
        }
    }

    /// `open item, item, close`, a trailing comma allowed; `item` gets its index.
    fn seq<T>(
        &mut self,
        open: char,
        close: char,
        mut item: impl FnMut(&mut Self, usize) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        self.expect(open)?;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(items);
            }
            items.push(item(self, items.len())?);
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(',') {
                return Err(self.error(&format!("`,` or `{close}`")));
            }
        }
    }

    /// `(a, b)` with exactly one value per type; `()` for none.
    fn fields(&mut self, tys: &[TypeDesc], depth: usize) -> Result<Vec<Value>, String> {
        let values = self.seq('(', ')', |p, i| match tys.get(i) {
            Some(ty) => p.value(ty, depth + 1),
            None => Err(p.error(&format!("`)` after {} values", tys.len()))),
        })?;
        if values.len() < tys.len() {
            let message = format!("expected {} values, found {}", tys.len(), values.len());
            return Err(self.fail_at(self.pos, &message));
        }
        Ok(values)
    }

    /// A quoted string, or a bare word.
    fn string(&mut self, what: &str) -> Result<String, String> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let start = self.pos;
        match self.bare_word() {
            "" => Err(self.error_at(start, what)),
            word => Ok(word.to_string()),
        }
    }

    /// `"text"` with Weft's escapes; `{` needs none.
    fn quoted(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.fail_at(start, "this string has no closing `\"`"));
            };
            match c {
                '"' => return Ok(out),
                '\\' => out.push(self.escape()?),
                c => out.push(c),
            }
        }
    }

    /// The character an escape stands for, just after its `\`.
    fn escape(&mut self) -> Result<char, String> {
        let at = self.pos - 1;
        Ok(match self.bump() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('0') => '\0',
            Some(c @ ('\\' | '"' | '\'' | '{' | '}')) => c,
            Some('u') => {
                let bad = |p: &Self| {
                    p.fail_at(
                        at,
                        "invalid unicode escape: write a code point in hex, `\\u{1F600}`",
                    )
                };
                if !self.eat_now('{') {
                    return Err(bad(self));
                }
                let rest = self.rest();
                let len = rest
                    .find('}')
                    .filter(|&n| n <= 8)
                    .ok_or_else(|| bad(self))?;
                let code = u32::from_str_radix(&rest[..len], 16).ok();
                self.pos += len + 1;
                code.and_then(char::from_u32).ok_or_else(|| bad(self))?
            }
            Some(c) => {
                let message = format!(
                    r#"unknown escape `\{c}` (the escapes are \n \t \r \0 \\ \" \' \{{ \}} and \u{{1F600}})"#
                );
                return Err(self.fail_at(at, &message));
            }
            None => return Err(self.fail_at(at, "this string has no closing `\"`")),
        })
    }

    /// `c` if it is the very next character (no whitespace skipped).
    fn eat_now(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            return true;
        }
        false
    }

    fn agent(&mut self, name: &str) -> Result<Value, String> {
        let start = self.pos;
        if self.ident() == Some(name) && self.eat('(') {
            self.skip_ws();
            let uri = self.string("an agent URI")?;
            self.expect(')')?;
            return Ok(Value::Agent(uri));
        }
        self.pos = start;
        self.string("an agent URI").map(Value::Agent)
    }

    fn record(
        &mut self,
        desc: &AdtDesc,
        fields: &[(String, TypeDesc)],
        depth: usize,
    ) -> Result<Value, String> {
        let name = base_name(&desc.name);
        let start = self.pos;
        let named = match self.ident() {
            Some(id) if id == name => true,
            Some(_) => return Err(self.error_at(start, &format!("a `{name}` record"))),
            None => false,
        };
        self.skip_ws();
        if fields.is_empty() && (named || self.peek() == Some('{')) {
            if self.eat('{') {
                self.expect('}')?;
            }
            return Ok(Value::Record(vec![]));
        }
        if self.peek() != Some('{') {
            return Err(self.error(&format!("a `{name}` record: `{name} {{ field: value }}`")));
        }
        let mut found: Vec<Option<Value>> = vec![None; fields.len()];
        self.seq('{', '}', |p, _| {
            let at = p.pos;
            let Some(key) = p.ident() else {
                return Err(p.error(&format!("a field name of `{name}`")));
            };
            let Some(i) = fields.iter().position(|(f, _)| f == key) else {
                return Err(p.fail_at(at, &format!("`{name}` has no field `{key}`")));
            };
            if found[i].is_some() {
                return Err(p.fail_at(at, &format!("the field `{key}` appears twice")));
            }
            p.expect(':')?;
            found[i] = Some(p.value(&fields[i].1, depth + 1)?);
            Ok(())
        })?;
        let mut values = Vec::with_capacity(fields.len());
        for (value, (field, _)) in found.into_iter().zip(fields) {
            let Some(value) = value else {
                let message = format!("the field `{field}` of `{name}` is missing");
                return Err(self.fail_at(start, &message));
            };
            values.push(value);
        }
        Ok(Value::Record(values))
    }

    fn variant(
        &mut self,
        desc: &AdtDesc,
        variants: &[(String, Vec<TypeDesc>)],
        depth: usize,
    ) -> Result<Value, String> {
        let start = self.pos;
        let found = self
            .ident()
            .and_then(|tag| variants.iter().position(|(v, _)| v == tag));
        let Some(i) = found else {
            let names: Vec<&str> = variants.iter().map(|(v, _)| v.as_str()).collect();
            let expected = format!(
                "a variant of `{}` ({})",
                base_name(&desc.name),
                names.join(", ")
            );
            return Err(self.error_at(start, &expected));
        };
        let tag = u32::try_from(i).map_err(|_| "too many variants".to_string())?;
        let tys = &variants[i].1;
        if tys.is_empty() {
            return Ok(Value::Variant(tag, vec![]));
        }
        Ok(Value::Variant(tag, self.fields(tys, depth)?))
    }

    /// A number's text, or `None` (nothing consumed) when no digit comes after the sign.
    fn number(&mut self) -> Option<Number<'a>> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
        let mut i = start;
        let negative = at(i) == b'-';
        if negative || at(i) == b'+' {
            i += 1;
        }
        if !at(i).is_ascii_digit() {
            return None;
        }
        let body = i;
        let (mut hex, mut float) = (false, false);
        if at(i) == b'0' && matches!(at(i + 1), b'x' | b'X') {
            hex = true;
            i += 2;
            while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
                i += 1;
            }
        } else {
            while at(i).is_ascii_digit() || at(i) == b'_' {
                i += 1;
            }
            if at(i) == b'.' && at(i + 1).is_ascii_digit() {
                float = true;
                i += 1;
                while at(i).is_ascii_digit() || at(i) == b'_' {
                    i += 1;
                }
            }
            let signed_exp = matches!(at(i + 1), b'+' | b'-') && at(i + 2).is_ascii_digit();
            if matches!(at(i), b'e' | b'E') && (at(i + 1).is_ascii_digit() || signed_exp) {
                float = true;
                i += 2;
                while at(i).is_ascii_digit() {
                    i += 1;
                }
            }
        }
        let digits_end = i;
        while at(i).is_ascii_alphanumeric() || at(i) == b'_' {
            i += 1;
        }
        self.pos = i;
        let skip = if hex { 2 } else { 0 };
        Some(Number {
            start,
            negative,
            digits: self.text[body + skip..digits_end].replace('_', ""),
            hex,
            float,
            suffix: &self.text[digits_end..i],
        })
    }

    fn int(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let n = match self.number() {
            Some(n) if !n.float && n.suffix.is_empty() => n,
            _ => return Err(self.error_at(start, "an Int")),
        };
        let magnitude = self.magnitude(&n)?;
        let value = if n.negative { -magnitude } else { magnitude };
        i64::try_from(value)
            .map(Value::Int)
            .map_err(|_| self.fail_at(start, "this integer does not fit in an Int"))
    }

    /// An integer's magnitude: at most 30 digits, so it fits an i128 in either radix.
    fn magnitude(&self, n: &Number<'_>) -> Result<i128, String> {
        let radix = if n.hex { 16 } else { 10 };
        if n.digits.is_empty() || n.digits.len() > 30 {
            let message = match n.digits.is_empty() {
                true => "this hexadecimal literal has no digits",
                false => "this integer does not fit in an Int",
            };
            return Err(self.fail_at(n.start, message));
        }
        i128::from_str_radix(&n.digits, radix)
            .map_err(|_| self.fail_at(n.start, "this is not a valid integer"))
    }

    fn float(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let sign = match self.peek() {
            Some(c @ ('-' | '+')) => {
                self.bump();
                Some(c)
            }
            _ => None,
        };
        let special = match self.ident() {
            Some("inf") => Some(f64::INFINITY),
            Some("NaN") => Some(f64::NAN),
            _ => None,
        };
        if let Some(x) = special {
            return Ok(Value::Float(if sign == Some('-') { -x } else { x }));
        }
        self.pos = start;
        let n = match self.number() {
            Some(n) if !n.hex && n.suffix.is_empty() => n,
            _ => return Err(self.error_at(start, "a Float")),
        };
        let text = format!("{}{}", if n.negative { "-" } else { "" }, n.digits);
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Float(x)),
            _ => Err(self.fail_at(start, "this Float is out of range")),
        }
    }

    fn duration(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let expected = "a Duration such as `250ms` (units: ns, us, ms, s, m, h)";
        let Some(n) = self.number().filter(|n| !n.hex) else {
            return Err(self.error_at(start, expected));
        };
        let unit_ns: i64 = match n.suffix {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(self.error_at(start, expected)),
        };
        let too_large = || self.fail_at(start, "this Duration is too large");
        let sign: i8 = if n.negative { -1 } else { 1 };
        if n.float {
            let x = n.digits.parse::<f64>().map_err(|_| too_large())?;
            let ns = (x * unit_ns as f64).round();
            // i64::MAX as f64 rounds up to 2^63, so `<` keeps the cast in range.
            if !ns.is_finite() || ns >= i64::MAX as f64 {
                return Err(too_large());
            }
            return Ok(Value::Duration(i64::from(sign) * ns as i64));
        }
        let ns = self
            .magnitude(&n)?
            .saturating_mul(i128::from(unit_ns) * i128::from(sign));
        i64::try_from(ns)
            .map(Value::Duration)
            .map_err(|_| too_large())
    }
}
