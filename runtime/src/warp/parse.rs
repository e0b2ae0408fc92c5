//! The Recon text parser: blocks, items, attributes, records and markup.
//!
//! A hand-written recursive descent over the text, following the grammar of Swim's own
//! parser (`@swim/recon`'s `BlockParser`, `BlockItemParser`, `RecordParser`, `AttrParser`,
//! `MarkupParser`) without its operators and selectors, which WARP does not use. The
//! points where Swim's reading is subtle, and that this parser keeps:
//!
//! - Juxtaposition builds one record: `@a 1`, `@a{b:1}`, `{b:1}@a` and `1@a` are each a
//!   single record whose items are the attribute and the rest; `@a` alone is the record
//!   `{@a}`. After a value only another attribute may follow (`1 2` is two items' worth
//!   of text and an error).
//! - A record's `{...}` items merge into the record being built; `{}` nested in it is a
//!   value item. An attribute inside braces (`{@a, 1}`) heads its own nested record.
//! - In braces an empty item is [`Value::Extant`] (`{,1}`), but a separator right before
//!   `}` ends the record (`{1,}` has one item).
//! - A block (the whole text, or an attribute's parentheses) of one value is that value,
//!   of nothing is [`Value::Absent`], and of anything else is a record.
//! - Markup (`[text@em[more]{1}]`), which `@swim/client` writes for a record that
//!   starts with text, adds its text and items to the record being built.
//!
//! Recursion is bounded: every `{`, `[` and `(` counts one level against a depth limit,
//! checked before descending, so no input can overflow the stack. Every loop consumes
//! input or stops, so none can hang.

mod scalar;

use super::chars::{is_item_start, is_newline, is_space, is_whitespace};
use super::{Item, Position, ReconError, Value};

/// How deeply records, attribute parentheses and markup may nest by default.
pub const NESTING_DEPTH_MAX: usize = 128;

/// Reads Recon text as one value, allowing [`NESTING_DEPTH_MAX`] levels of nesting.
pub fn parse(text: &str) -> Result<Value, ReconError> {
    parse_with_depth_max(text, NESTING_DEPTH_MAX)
}

/// Reads Recon text as one value, allowing `depth_max` levels of nesting.
pub fn parse_with_depth_max(text: &str, depth_max: usize) -> Result<Value, ReconError> {
    let mut parser = Parser {
        src: text,
        pos: 0,
        depth: 0,
        depth_max,
    };
    let value = parser.block()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(value),
        Some(_) => Err(parser.unexpected("',', ';', newline or the end of the text")),
    }
}

/// Collects the items of a value being read. A *value* builder gives back a lone value
/// as itself; a *record* builder (started by `{` or `[`) always gives a record.
struct Builder {
    items: Vec<Item>,
    record: bool,
}

impl Builder {
    fn value() -> Builder {
        Builder {
            items: Vec::new(),
            record: false,
        }
    }

    fn record() -> Builder {
        Builder {
            items: Vec::new(),
            record: true,
        }
    }

    fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    fn bind(mut self) -> Value {
        if !self.record {
            if self.items.is_empty() {
                return Value::Absent;
            }
            if let [Item::Value(_)] = self.items.as_slice() {
                if let Some(Item::Value(value)) = self.items.pop() {
                    return value;
                }
            }
        }
        Value::Record(self.items)
    }
}

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    /// Byte offset of the next character; always on a character boundary.
    pub(super) pos: usize,
    depth: usize,
    depth_max: usize,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    /// Steps over the next character (nothing at the end).
    pub(super) fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    pub(super) fn position(&self, offset: usize) -> Position {
        Position::of(self.src, offset)
    }

    /// The error for whatever is at the current position.
    pub(super) fn unexpected(&self, expected: &'static str) -> ReconError {
        let at = self.position(self.pos);
        match self.peek() {
            Some(found) => ReconError::Unexpected {
                found,
                expected,
                at,
            },
            None => ReconError::UnexpectedEnd { expected, at },
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.bump();
        }
    }

    fn skip_whitespace(&mut self) {
        loop {
            match self.peek() {
                Some(c) if is_whitespace(c) => self.bump(),
                Some('#') => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// Skips a `#` comment up to, not including, the end of its line.
    fn skip_comment(&mut self) {
        while self.peek().is_some_and(|c| !is_newline(c)) {
            self.bump();
        }
    }

    /// Counts one more level of nesting, opened at byte `at`.
    fn enter(&mut self, at: usize) -> Result<(), ReconError> {
        if self.depth >= self.depth_max {
            return Err(ReconError::TooDeep {
                depth_max: self.depth_max,
                at: self.position(at),
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Items separated by `,`, `;` or newlines, up to the first character that cannot
    /// start one (the end of the text, or `)` in an attribute).
    fn block(&mut self) -> Result<Value, ReconError> {
        let mut builder = Builder::value();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(c) if is_item_start(c) => {}
                _ => return Ok(builder.bind()),
            }
            builder.push(self.slot_or_value()?);
            self.skip_spaces();
            match self.peek() {
                Some(',' | ';' | '\n' | '\r') => self.bump(),
                Some('#') => self.skip_comment(),
                _ => return Ok(builder.bind()),
            }
        }
    }

    /// An item that may be a slot: `key`, `key: value`, `key:` or `: value`.
    fn slot_or_value(&mut self) -> Result<Item, ReconError> {
        let key = self.block_item()?.unwrap_or(Value::Extant);
        self.skip_spaces();
        if self.peek() != Some(':') {
            return Ok(Item::Value(key));
        }
        self.bump();
        self.skip_spaces();
        let value = self.block_item()?.unwrap_or(Value::Extant);
        Ok(Item::Slot(key, value))
    }

    /// Attributes, records, markup and at most one scalar run together into one value;
    /// `None` when nothing here starts one.
    fn block_item(&mut self) -> Result<Option<Value>, ReconError> {
        let mut builder: Option<Builder> = None;
        loop {
            match self.peek() {
                Some('@') => {
                    let attr = self.attr()?;
                    builder.get_or_insert_with(Builder::value).push(attr);
                    self.skip_spaces();
                    continue;
                }
                Some('{') => self.record_into(builder.get_or_insert_with(Builder::record))?,
                Some('[') => self.markup_into(builder.get_or_insert_with(Builder::record))?,
                Some(c) if is_item_start(c) => {
                    let value = self.scalar()?;
                    builder
                        .get_or_insert_with(Builder::value)
                        .push(Item::Value(value));
                }
                _ => return Ok(builder.map(Builder::bind)),
            }
            self.skip_spaces();
            if self.peek() != Some('@') {
                return Ok(builder.map(Builder::bind));
            }
        }
    }

    /// `@name` or `@name(block)`; the name may be quoted.
    fn attr(&mut self) -> Result<Item, ReconError> {
        self.bump();
        let name = match self.peek() {
            Some(quote @ ('"' | '\'')) => self.string(quote)?,
            Some(c) if super::chars::is_ident_start(c) => self.ident_text().to_string(),
            _ => return Err(self.unexpected("attribute name")),
        };
        if self.peek() != Some('(') {
            return Ok(Item::Attr(name, Value::Extant));
        }
        self.enter(self.pos)?;
        self.bump();
        let value = match self.block()? {
            Value::Absent => Value::Extant,
            value => value,
        };
        self.skip_whitespace();
        if self.peek() != Some(')') {
            return Err(self.unexpected("')'"));
        }
        self.bump();
        self.leave();
        Ok(Item::Attr(name, value))
    }

    /// `{ items }`, its items added to `builder`.
    fn record_into(&mut self, builder: &mut Builder) -> Result<(), ReconError> {
        self.enter(self.pos)?;
        self.bump();
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some('}') => break,
                None => return Err(self.unexpected("'}'")),
                _ => {}
            }
            builder.push(self.slot_or_value()?);
            self.skip_spaces();
            match self.peek() {
                Some(',' | ';' | '\n' | '\r') => self.bump(),
                Some('#') => self.skip_comment(),
                Some('}') => break,
                _ => return Err(self.unexpected("',', ';', newline or '}'")),
            }
        }
        self.bump();
        self.leave();
        Ok(())
    }

    /// `[ markup ]`: its text runs, inline attributes, records and nested markup added to
    /// `builder`.
    fn markup_into(&mut self, builder: &mut Builder) -> Result<(), ReconError> {
        self.enter(self.pos)?;
        self.bump();
        let mut text = String::new();
        loop {
            let c = match self.peek() {
                Some(c) => c,
                None => return Err(self.unexpected("']'")),
            };
            if matches!(c, ']' | '@' | '{' | '[') && !text.is_empty() {
                builder.push(Item::Value(Value::Text(std::mem::take(&mut text))));
            }
            match c {
                ']' => break,
                '@' => {
                    let value = self.inline_item()?;
                    builder.push(Item::Value(value));
                }
                '{' => self.record_into(builder)?,
                '[' => self.markup_into(builder)?,
                '\\' => text.push(self.escape(false)?),
                '}' => return Err(self.unexpected("markup text or ']'")),
                _ => {
                    text.push(c);
                    self.bump();
                }
            }
        }
        self.bump();
        self.leave();
        Ok(())
    }

    /// An attribute in markup, with the record or markup that directly follows it.
    fn inline_item(&mut self) -> Result<Value, ReconError> {
        let mut builder = Builder::value();
        let attr = self.attr()?;
        builder.push(attr);
        match self.peek() {
            Some('{') => self.record_into(&mut builder)?,
            Some('[') => self.markup_into(&mut builder)?,
            _ => {}
        }
        Ok(builder.bind())
    }
}
