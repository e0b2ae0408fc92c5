//! The Recon text printer: the compact form sent in WARP frames.
//!
//! The output is what Swim's own writers produce for the same value wherever Swim's
//! reading of it is unambiguous (`@link(node:"/a",lane:b)`, `@update(key:k) 1`,
//! `{a:1,b:x}`), so `@swim/client` reads it as Swim would, and it reads back through
//! [`super::parse`] as the same value. Where Swim's writers lose information, this
//! printer does not:
//!
//! - text that reads as something else bare (`true`, `false`, `12`, `a b`) is quoted;
//! - floats always carry a `.` or an exponent (`1.0`), so they come back floats;
//!   infinities are `1e999` and `-1e999`, which both parsers read back as infinities;
//!   NaN has no Recon literal and is written `NaN`, which reads back as text;
//! - integers beyond ±(2^53 - 1), which `@swim/recon` refuses as "integer overflow", are
//!   written as 16 hex digits of their bits (`0x7fffffffffffffff`), Swim's `uint64`
//!   form: `@swim/client` reads the nearest double (unsigned), Java Swim and
//!   [`super::parse`] the exact `i64`;
//! - a record of one value in an attribute is braced (`@a({1})`, not `@a(1)`);
//! - an extant item in braces is written as an empty item (`{1,,}` is `{1, extant}`).
//!
//! An attribute-led record is written by juxtaposition: each attribute, then each run
//! of other items between attributes either bare (one scalar) or in braces, which the
//! parser merges back into the same record. Printing recurses once per level of nesting.

use super::base64;
use super::chars::is_plain_ident;
use super::{Item, Value};
use std::fmt::{self, Write};

/// The Recon text of `value`.
pub fn print(value: &Value) -> String {
    value.to_string()
}

/// Writes the Recon text of `value`: nothing for an absent or extant value.
pub(super) fn write_value(out: &mut dyn Write, value: &Value) -> fmt::Result {
    match value {
        Value::Absent | Value::Extant => Ok(()),
        Value::Text(text) => write_text(out, text),
        Value::Int(n) => write_int(out, *n),
        Value::Float(x) => write_float(out, *x),
        Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::Data(bytes) => write!(out, "%{}", base64::encode(bytes)),
        Value::Record(items) => write_record(out, items),
    }
}

fn write_text(out: &mut dyn Write, text: &str) -> fmt::Result {
    if is_plain_ident(text) {
        out.write_str(text)
    } else {
        write_string_literal(out, text)
    }
}

/// `"text"` with `"`, `\` and control characters escaped as `@swim/recon` escapes them.
fn write_string_literal(out: &mut dyn Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\u{8}' => out.write_str("\\b")?,
            '\u{c}' => out.write_str("\\f")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04X}", u32::from(c))?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// The largest magnitude `@swim/recon` reads as a decimal integer (JavaScript's safe
/// integers).
const JS_SAFE_INT_MAX: i64 = (1 << 53) - 1;

fn write_int(out: &mut dyn Write, n: i64) -> fmt::Result {
    if (-JS_SAFE_INT_MAX..=JS_SAFE_INT_MAX).contains(&n) {
        write!(out, "{n}")
    } else {
        write!(out, "0x{:016x}", n as u64)
    }
}

fn write_float(out: &mut dyn Write, x: f64) -> fmt::Result {
    if x.is_nan() {
        return out.write_str("NaN");
    }
    if x.is_infinite() {
        return out.write_str(if x > 0.0 { "1e999" } else { "-1e999" });
    }
    // Debug gives the shortest text that reads back exactly, with `.0` or an exponent.
    let text = format!("{x:?}");
    out.write_str(&text)?;
    if !text.contains(['.', 'e', 'E']) {
        out.write_str(".0")?;
    }
    Ok(())
}

fn has_attr(items: &[Item]) -> bool {
    items.iter().any(|item| matches!(item, Item::Attr(..)))
}

/// Whether a value is written as nothing at all.
fn prints_empty(value: &Value) -> bool {
    matches!(value, Value::Absent | Value::Extant)
}

fn write_record(out: &mut dyn Write, items: &[Item]) -> fmt::Result {
    if has_attr(items) {
        write_attributed(out, items)
    } else {
        write_braced(out, items)
    }
}

/// `{a,b:c}`; a trailing empty item gets its own `,` so that it is not taken as the end.
fn write_braced(out: &mut dyn Write, items: &[Item]) -> fmt::Result {
    out.write_char('{')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        write_block_item(out, item)?;
    }
    if let Some(Item::Value(last)) = items.last() {
        if prints_empty(last) {
            out.write_char(',')?;
        }
    }
    out.write_char('}')
}

fn write_block_item(out: &mut dyn Write, item: &Item) -> fmt::Result {
    match item {
        Item::Attr(name, value) => write_attr(out, name, value),
        Item::Slot(key, value) => {
            write_value(out, key)?;
            out.write_char(':')?;
            write_value(out, value)
        }
        Item::Value(value) => write_value(out, value),
    }
}

/// A record with attributes: attributes in place, the runs between them bare or braced.
fn write_attributed(out: &mut dyn Write, items: &[Item]) -> fmt::Result {
    let mut i = 0;
    let mut after_attr = false;
    while i < items.len() {
        if let Item::Attr(name, value) = &items[i] {
            write_attr(out, name, value)?;
            after_attr = true;
            i += 1;
            continue;
        }
        let end = items[i..]
            .iter()
            .position(|item| matches!(item, Item::Attr(..)))
            .map_or(items.len(), |n| i + n);
        match &items[i..end] {
            [Item::Value(value)] if is_bare(value) => {
                if after_attr && needs_space(value) {
                    out.write_char(' ')?;
                }
                write_value(out, value)?;
            }
            run => write_braced(out, run)?,
        }
        after_attr = false;
        i = end;
    }
    Ok(())
}

/// A value that can follow an attribute without braces and stay a separate item.
fn is_bare(value: &Value) -> bool {
    matches!(
        value,
        Value::Text(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Data(_)
    )
}

/// Whether a bare value after an attribute needs a space to not run into its name
/// (`-` and digits continue an identifier). Swim's writers space exactly these.
fn needs_space(value: &Value) -> bool {
    match value {
        Value::Text(text) => is_plain_ident(text),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => true,
        _ => false,
    }
}

/// `@name`, `@name(value)`, `@name(a,b:c)` or `@name({a})`.
fn write_attr(out: &mut dyn Write, name: &str, value: &Value) -> fmt::Result {
    out.write_char('@')?;
    write_text(out, name)?;
    match value {
        Value::Absent | Value::Extant => return Ok(()),
        Value::Record(items) if !has_attr(items) => {
            out.write_char('(')?;
            if is_block_list(items) {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    write_block_item(out, item)?;
                }
            } else {
                write_braced(out, items)?;
            }
        }
        value => {
            out.write_char('(')?;
            write_value(out, value)?;
        }
    }
    out.write_char(')')
}

/// Whether a record's items can be listed bare in parentheses and read back as the same
/// record: not one lone value (that would read as the value), and no item that prints
/// as nothing (a block cannot hold an empty item).
fn is_block_list(items: &[Item]) -> bool {
    let lone_value = matches!(items, [] | [Item::Value(_)]);
    !lone_value
        && items.iter().all(|item| match item {
            Item::Value(value) => !prints_empty(value),
            Item::Slot(key, _) => !prints_empty(key),
            Item::Attr(..) => false,
        })
}
