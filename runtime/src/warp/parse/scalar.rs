//! Scalars in Recon text: identifiers, strings, numbers and data.
//!
//! Numbers follow Swim's `NumberParser`: an optional `-`, then `0` or a digit run not
//! starting with `0`, then an optional fraction and exponent, or `0x` and hex digits.
//! A literal without fraction or exponent is an `Int`; one that does not fit an `i64` is
//! read as a `Float` rather than refused, since `@swim/client` writes any integral
//! number below 10^21 without an exponent. Up to 16 hex digits are the bits of an `i64`
//! (Swim's `uint64` form, which Java Swim reads as a `long`): `0xffffffffffffffff` is
//! -1. An exponent too large gives an infinity (`1e999`). `NaN` and `Infinity` are
//! identifiers, so text, as `@swim/recon` reads them.

use super::super::base64;
use super::super::chars::{is_ident_char, is_ident_start};
use super::{Parser, ReconError, Value};

impl Parser<'_> {
    /// A string, number, data or identifier value at the current position.
    pub(super) fn scalar(&mut self) -> Result<Value, ReconError> {
        match self.peek() {
            Some(quote @ ('"' | '\'')) => self.string(quote).map(Value::Text),
            Some('-' | '0'..='9') => self.number(),
            Some('%') => self.data(),
            Some(c) if is_ident_start(c) => Ok(ident_value(self.ident_text())),
            _ => Err(self.unexpected("a value")),
        }
    }

    /// The identifier at the current position, which starts with an identifier character.
    pub(super) fn ident_text(&mut self) -> &str {
        let start = self.pos;
        self.bump();
        while self.peek().is_some_and(is_ident_char) {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// A string quoted with `quote` (`"` or `'`), escapes resolved.
    pub(super) fn string(&mut self, quote: char) -> Result<String, ReconError> {
        self.bump();
        let mut out = String::new();
        loop {
            let rest = &self.src[self.pos..];
            let run = rest.find([quote, '\\']).unwrap_or(rest.len());
            out.push_str(&rest[..run]);
            self.pos += run;
            match self.peek() {
                None => return Err(self.unexpected("closing quote")),
                Some('\\') => out.push(self.escape(true)?),
                Some(_) => {
                    self.bump();
                    return Ok(out);
                }
            }
        }
    }

    /// The character a backslash escape stands for; `\uXXXX` only in strings.
    pub(super) fn escape(&mut self, unicode: bool) -> Result<char, ReconError> {
        let at = self.pos;
        self.bump();
        let c = self
            .peek()
            .ok_or_else(|| self.unexpected("escape character"))?;
        self.bump();
        let escaped = match c {
            '"' | '\'' | '$' | '/' | '@' | '[' | '\\' | ']' | '{' | '}' => c,
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' if unicode => return self.unicode_escape(at),
            _ => return Err(self.invalid_escape(at)),
        };
        Ok(escaped)
    }

    /// The rest of `\uXXXX` (the backslash at byte `at`), a surrogate pair joined.
    fn unicode_escape(&mut self, at: usize) -> Result<char, ReconError> {
        let high = self.hex4().ok_or_else(|| self.invalid_escape(at))?;
        let code = match high {
            0xd800..=0xdbff => {
                if !self.src[self.pos..].starts_with("\\u") {
                    return Err(self.invalid_escape(at));
                }
                self.pos += 2;
                let low = self.hex4().ok_or_else(|| self.invalid_escape(at))?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err(self.invalid_escape(at));
                }
                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
            }
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.invalid_escape(at))
    }

    /// Four hex digits, consumed only if all four are there.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.src.get(self.pos..self.pos + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn invalid_escape(&self, at: usize) -> ReconError {
        ReconError::InvalidEscape {
            at: self.position(at),
        }
    }

    /// A number: `-`? (`0` | [1-9][0-9]*) (`.`[0-9]+)? ([eE][+-]?[0-9]+)?, or `0x` hex.
    fn number(&mut self) -> Result<Value, ReconError> {
        let start = self.pos;
        let negative = self.peek() == Some('-');
        if negative {
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                self.bump();
                if !negative && self.peek() == Some('x') {
                    self.bump();
                    return self.hex_number();
                }
            }
            Some('1'..='9') => self.digits(),
            _ => return Err(self.unexpected("digit")),
        }
        let mut float = false;
        if self.peek() == Some('.') {
            self.bump();
            self.required_digits()?;
            float = true;
        }
        if let Some('e' | 'E') = self.peek() {
            self.bump();
            if let Some('+' | '-') = self.peek() {
                self.bump();
            }
            self.required_digits()?;
            float = true;
        }
        let literal = &self.src[start..self.pos];
        if !float {
            if let Ok(n) = literal.parse::<i64>() {
                return Ok(Value::Int(n));
            }
        }
        literal
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.unexpected("number"))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    fn required_digits(&mut self) -> Result<(), ReconError> {
        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.unexpected("digit"));
        }
        self.digits();
        Ok(())
    }

    /// The digits after `0x`: the bits of an `Int` up to 16 digits, else the nearest
    /// `Float`.
    fn hex_number(&mut self) -> Result<Value, ReconError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.bump();
        }
        let digits = &self.src[start..self.pos];
        if digits.is_empty() {
            return Err(self.unexpected("hex digit"));
        }
        match u64::from_str_radix(digits, 16) {
            Ok(bits) => Ok(Value::Int(bits as i64)),
            Err(_) => Ok(Value::Float(digits.chars().fold(0.0, |acc, c| {
                acc * 16.0 + f64::from(c.to_digit(16).unwrap_or(0))
            }))),
        }
    }

    /// `%` and base64.
    fn data(&mut self) -> Result<Value, ReconError> {
        let at = self.pos;
        self.bump();
        let start = self.pos;
        while self.peek().is_some_and(base64::is_base64_char) {
            self.bump();
        }
        base64::decode(&self.src[start..self.pos])
            .map(Value::Data)
            .ok_or_else(|| ReconError::InvalidData {
                at: self.position(at),
            })
    }
}

/// What a bare identifier stands for.
fn ident_value(ident: &str) -> Value {
    match ident {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::Text(ident.to_string()),
    }
}
