//! Values in Weft syntax, as the compiler's `to_string` (`compiler/src/helpers/show.rs`,
//! `compiler/src/rt/builder.rs`) writes them: `[1, 2]`, `Point { x: 1.0, y: 2 }`,
//! `Some("a")`, `None`, `("a", 1)`, `{"k": 1}`, `<3 bytes>`, `250ms`, `()`; floats by
//! the same host function the module calls.
//!
//! The type supplies names only (records, fields, variants, agent types); the shape comes
//! from the value, so a value that does not match its type still shows, with `?` where a
//! name is missing.

use super::{adt, base_name, Value};
use crate::host::text::float_to_string;
use std::fmt::Write;
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// `v` as Weft shows it inside another value: strings quoted.
pub fn show(v: &Value, ty: &TypeDesc, types: &[AdtDesc]) -> String {
    let mut out = String::new();
    write_value(&mut out, v, Some(ty), types);
    out
}

/// `v` as `print(v)` shows it: a string bare, anything else as [`show`] does.
pub fn show_top(v: &Value, ty: &TypeDesc, types: &[AdtDesc]) -> String {
    match v {
        Value::Str(s) => s.clone(),
        _ => show(v, ty, types),
    }
}

fn write_value(out: &mut String, v: &Value, ty: Option<&TypeDesc>, types: &[AdtDesc]) {
    match v {
        Value::Int(n) => push_fmt(out, format_args!("{n}")),
        Value::Float(x) => out.push_str(&float_to_string(*x)),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Str(s) => quote(out, s),
        Value::Bytes(b) => push_fmt(out, format_args!("<{} bytes>", b.len())),
        Value::Unit => out.push_str("()"),
        Value::Duration(ns) => duration(out, *ns),
        Value::List(items) => {
            let elem = match ty {
                Some(TypeDesc::List(elem)) => Some(&**elem),
                _ => None,
            };
            out.push('[');
            separated(out, items, |out, item| write_value(out, item, elem, types));
            out.push(']');
        }
        Value::Map(entries) => {
            let (kt, vt) = match ty {
                Some(TypeDesc::Map(k, v)) => (Some(&**k), Some(&**v)),
                _ => (None, None),
            };
            out.push('{');
            separated(out, entries, |out, (k, v)| {
                write_value(out, k, kt, types);
                out.push_str(": ");
                write_value(out, v, vt, types);
            });
            out.push('}');
        }
        Value::Tuple(fields) => {
            let tys = match ty {
                Some(TypeDesc::Tuple(tys)) => tys.as_slice(),
                _ => &[],
            };
            out.push('(');
            positional(out, fields, |i| tys.get(i), types);
            out.push(')');
        }
        Value::Record(fields) => record(out, fields, adt_of(ty, types), types),
        Value::Variant(index, fields) => variant(out, *index, fields, adt_of(ty, types), types),
        Value::Agent(uri) => {
            let name = match ty {
                Some(TypeDesc::Agent(name)) => name.as_str(),
                _ => "?",
            };
            out.push_str(name);
            out.push('(');
            quote(out, uri);
            out.push(')');
        }
    }
}

fn push_fmt(out: &mut String, args: std::fmt::Arguments<'_>) {
    // Writing to a String cannot fail.
    let _ = out.write_fmt(args);
}

fn adt_of<'t>(ty: Option<&TypeDesc>, types: &'t [AdtDesc]) -> Option<&'t AdtDesc> {
    match ty {
        Some(TypeDesc::Adt(index)) => adt(types, *index),
        _ => None,
    }
}

/// `Name { a: 1, b: 2 }`, or just `Name` without fields.
fn record(out: &mut String, fields: &[Value], desc: Option<&AdtDesc>, types: &[AdtDesc]) {
    let declared = match desc.map(|d| &d.shape) {
        Some(AdtShape::Record(declared)) => declared.as_slice(),
        _ => &[],
    };
    out.push_str(desc.map_or("?", |d| base_name(&d.name)));
    if fields.is_empty() {
        return;
    }
    out.push_str(" { ");
    let mut first = true;
    for (i, field) in fields.iter().enumerate() {
        if !first {
            out.push_str(", ");
        }
        first = false;
        let (name, ty) = match declared.get(i) {
            Some((name, ty)) => (name.as_str(), Some(ty)),
            None => ("?", None),
        };
        out.push_str(name);
        out.push_str(": ");
        write_value(out, field, ty, types);
    }
    out.push_str(" }");
}

/// `Name(a, b)`, or just `Name` without fields.
fn variant(
    out: &mut String,
    index: u32,
    fields: &[Value],
    desc: Option<&AdtDesc>,
    types: &[AdtDesc],
) {
    let declared = match desc.map(|d| &d.shape) {
        Some(AdtShape::Enum(variants)) => usize::try_from(index).ok().and_then(|i| variants.get(i)),
        _ => None,
    };
    let (name, tys) = match declared {
        Some((name, tys)) => (name.as_str(), tys.as_slice()),
        None => ("?", &[][..]),
    };
    out.push_str(name);
    if !fields.is_empty() {
        out.push('(');
        positional(out, fields, |i| tys.get(i), types);
        out.push(')');
    }
}

fn positional<'t>(
    out: &mut String,
    fields: &[Value],
    ty: impl Fn(usize) -> Option<&'t TypeDesc>,
    types: &[AdtDesc],
) {
    let indexed: Vec<(usize, &Value)> = fields.iter().enumerate().collect();
    separated(out, &indexed, |out, (i, field)| {
        write_value(out, field, ty(*i), types)
    });
}

fn separated<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, item);
    }
}

/// `"s"` with `"`, `\`, newline, tab, CR and `{` (which would open an interpolation)
/// escaped, so that the text reads back as a Weft string literal.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '{' => out.push_str("\\{"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The largest unit that divides the value exactly (`2h`, `90s`, `250ms`, `1500us`,
/// `7ns`); zero is `0s`, as the compiler's `sb_duration` writes it.
fn duration(out: &mut String, ns: i64) {
    const UNITS: [(i64, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        out.push_str("0s");
        return;
    }
    for (unit, name) in UNITS {
        if ns % unit == 0 {
            push_fmt(out, format_args!("{}{name}", ns / unit));
            return;
        }
    }
}
