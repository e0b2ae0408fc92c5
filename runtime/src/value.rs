//! Weft values on the host side: what a lane holds, a method takes and returns, and a
//! link carries, read and written by their type descriptors ([`TypeDesc`], [`AdtDesc`]
//! from the compiler's manifest) rather than by Rust types.
//!
//! - [`decode`], [`decode_prefix`] and [`encode`]: the module boundary's wire format, as
//!   the manifest's module doc defines it (`wire.rs`).
//! - [`show`] and [`show_top`]: Weft syntax, exactly as Weft's own `print` writes the
//!   value (`show.rs`), so a value printed by the node and by the program look the same.
//! - [`to_recon`] and [`from_recon`]: the Recon form sent over WARP (`recon.rs`).
//! - [`parse_literal`]: one command-line argument read against its expected type
//!   (`literal.rs`), for `weft call /counters/a incr ada 5`.
//! - [`sort_key`]: an order-preserving byte key (`key.rs`); map lanes are stored and
//!   iterated in the order of their keys' sort keys, as SwimOS orders map lanes by key.
//!
//! The bytes, the Recon and the text are untrusted: reading them never panics, refuses
//! nesting deeper than [`NESTING_DEPTH_MAX`], and never allocates for a count the input
//! cannot back. The type descriptors come from the compiler and are trusted to describe
//! finite values; an out-of-range type index or a type that recurses without consuming
//! input is still an error rather than a panic or a stack overflow. Everything that walks
//! a [`Value`] recurses once per level of nesting, so values are expected to come from
//! these readers (at most [`NESTING_DEPTH_MAX`] deep).
//!
//! # Recon mapping
//! | Weft                  | Recon                                                     |
//! |-----------------------|-----------------------------------------------------------|
//! | `Int`                 | `Int`                                                     |
//! | `Float`               | `Float` (an `Int` is accepted where a Float is expected)  |
//! | `Bool`                | `Bool`                                                    |
//! | `String`              | `Text`                                                    |
//! | `Bytes`               | `Data`                                                    |
//! | `()`                  | `Extant` (`Absent` is accepted)                           |
//! | `Duration`            | `Int`, in nanoseconds                                     |
//! | `List`, tuple         | a record of plain values: `{1,2,3}`                       |
//! | `Map`                 | a record of slots `key: value`: `{a:1,b:2}`               |
//! | record type           | a record of slots `field: value`, any order on reading    |
//! | enum variant          | `@Name`, `@Name(v)`, `@Name(v1, v2)` (a record of values) |
//! | `Option<T>`           | `None` is `Extant`, `Some(x)` is `x`'s Recon              |
//! | agent reference       | `Text`, its URI                                           |
//!
//! Reading is lenient where Swim itself conflates forms: a scalar where a list or tuple
//! is expected is a record of that one value (an envelope body `{1}` reads back as `1`),
//! `Absent` or `Extant` where a list, map, tuple or fieldless record is expected is
//! empty, and a text naming a fieldless variant is that variant. A record type's
//! fields must all be there, and only they. A map's keys must be distinct.
//!
//! `Option` is the one enum that is not tagged, so that `Option<Int>` looks as a Swim
//! client expects (a number or nothing). Nested options are therefore ambiguous:
//! `Option<Option<Int>>`'s `None` and `Some(None)` are both `Extant`, and so are
//! `Option<()>`'s `None` and `Some(())`. Reading prefers the outer `Some`: `Extant` is
//! `Some(x)` whenever the inner type accepts it, and `None` only when it does not.

mod convert;
mod key;
mod literal;
mod recon;
mod show;
mod source;
mod wire;

#[cfg(test)]
mod tests;

pub use convert::Conversion;
pub use key::sort_key;
pub use literal::parse_literal;
pub use recon::{from_recon, to_recon};
pub use show::{show, show_top};
pub use source::{to_source, type_text};
pub use wire::{
    decode, decode_prefix, encode, encode_count, encode_option, encode_str, WireError,
    ZERO_SIZED_LEN_MAX,
};

use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// The deepest nesting of lists, maps, tuples, records and variants any reader accepts.
pub const NESTING_DEPTH_MAX: usize = 200;

/// A Weft value, shaped by its [`TypeDesc`] (which it does not carry).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    Unit,
    /// Nanoseconds.
    Duration(i64),
    List(Vec<Value>),
    /// Entries in iteration order.
    Map(Vec<(Value, Value)>),
    Tuple(Vec<Value>),
    /// A record type's fields, in declaration order.
    Record(Vec<Value>),
    /// An enum's variant index (declaration order) and that variant's fields.
    Variant(u32, Vec<Value>),
    /// A reference to an agent: its URI.
    Agent(String),
}

/// The record or enum that `Adt(index)` names, if `types` has it.
fn adt(types: &[AdtDesc], index: u32) -> Option<&AdtDesc> {
    types.get(usize::try_from(index).ok()?)
}

/// A type's name as a value shows it: `Pair<Int>` is `Pair`.
fn base_name(name: &str) -> &str {
    name.split('<').next().unwrap_or(name)
}

/// The variant indices of `None` and `Some` when `adt` is the prelude's `Option<T>`,
/// and `T`.
fn option_shape(adt: &AdtDesc) -> Option<(u32, u32, &TypeDesc)> {
    if !adt.name.starts_with("Option<") {
        return None;
    }
    let AdtShape::Enum(variants) = &adt.shape else {
        return None;
    };
    let mut none = None;
    let mut some = None;
    for (i, (name, fields)) in variants.iter().enumerate() {
        let i = u32::try_from(i).ok()?;
        match (name.as_str(), fields.as_slice()) {
            ("None", []) => none = Some(i),
            ("Some", [inner]) => some = Some((i, inner)),
            _ => return None,
        }
    }
    let (some, inner) = some?;
    Some((none?, some, inner))
}
