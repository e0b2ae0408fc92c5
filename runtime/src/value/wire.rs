//! The wire format (see `weft_compiler::manifest`): values to bytes and back.
//!
//! Decoding trusts nothing in the bytes. A count is checked against what the remaining
//! bytes could hold before anything is allocated for it, using the smallest encoding of
//! one element; elements whose encoding can be empty (`()`, tuples of them) cannot be
//! bounded that way, so their count is capped at [`ZERO_SIZED_LEN_MAX`].

use super::{adt, Value, NESTING_DEPTH_MAX};
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// The most elements a list or map whose elements may encode as no bytes can have.
pub const ZERO_SIZED_LEN_MAX: usize = 1 << 16;

/// How many type nodes [`min_size`] looks at before it settles for a smaller bound.
const MIN_SIZE_BUDGET: u32 = 256;

/// Why bytes are not a value of the expected type. Offsets are from the start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes end inside the value.
    #[error("the value ends early: {needed} more bytes needed at offset {at}")]
    Truncated { at: usize, needed: usize },
    /// The value ends before the bytes do.
    #[error("{count} unexpected bytes after the value at offset {at}")]
    TrailingBytes { at: usize, count: usize },
    /// A string or agent URI is not UTF-8.
    #[error("a string at offset {at} is not valid UTF-8")]
    BadUtf8 { at: usize },
    /// A Bool byte other than 0 or 1.
    #[error("a Bool at offset {at} is {byte}, not 0 or 1")]
    BadBool { at: usize, byte: u8 },
    /// A variant index the enum does not have.
    #[error("variant {index} at offset {at} is not one of the {count} variants of `{name}`")]
    BadVariant {
        at: usize,
        index: u32,
        count: usize,
        name: String,
    },
    /// A list or map count the remaining bytes cannot hold.
    #[error("a count of {count} at offset {at} is more than the {left} remaining bytes can hold")]
    CountTooLarge { at: usize, count: u32, left: usize },
    /// Nesting deeper than [`NESTING_DEPTH_MAX`].
    #[error("the value at offset {at} is nested more than {NESTING_DEPTH_MAX} levels deep")]
    TooDeep { at: usize },
    /// A type index the manifest does not define.
    #[error("type index {index} is not in the manifest")]
    UnknownType { index: u32 },
}

/// The value of type `ty` that is exactly `bytes`.
pub fn decode(bytes: &[u8], ty: &TypeDesc, types: &[AdtDesc]) -> Result<Value, WireError> {
    let (value, used) = decode_prefix(bytes, ty, types)?;
    if used != bytes.len() {
        return Err(WireError::TrailingBytes {
            at: used,
            count: bytes.len() - used,
        });
    }
    Ok(value)
}

/// The value of type `ty` at the start of `bytes`, and how many bytes it took.
pub fn decode_prefix(
    bytes: &[u8],
    ty: &TypeDesc,
    types: &[AdtDesc],
) -> Result<(Value, usize), WireError> {
    let mut reader = Reader {
        bytes,
        pos: 0,
        types,
    };
    let value = reader.value(ty, 0)?;
    Ok((value, reader.pos))
}

/// Appends the wire bytes of `v`.
pub fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Int(n) | Value::Duration(n) => out.extend_from_slice(&n.to_le_bytes()),
        Value::Float(x) => out.extend_from_slice(&x.to_bits().to_le_bytes()),
        Value::Bool(b) => out.push(u8::from(*b)),
        Value::Unit => {}
        Value::Str(s) | Value::Agent(s) => counted(out, s.as_bytes()),
        Value::Bytes(b) => counted(out, b),
        Value::List(items) => {
            count(out, items.len());
            items.iter().for_each(|item| encode(item, out));
        }
        Value::Map(entries) => {
            count(out, entries.len());
            for (k, v) in entries {
                encode(k, out);
                encode(v, out);
            }
        }
        Value::Tuple(fields) | Value::Record(fields) => {
            fields.iter().for_each(|field| encode(field, out));
        }
        Value::Variant(index, fields) => {
            out.extend_from_slice(&index.to_le_bytes());
            fields.iter().for_each(|field| encode(field, out));
        }
    }
}

/// The wire bytes of a string (an agent URI, a resource handle).
pub fn encode_str(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + s.len());
    counted(&mut out, s.as_bytes());
    out
}

/// The wire bytes of `Option<V>` from those of the `V` inside, if any (the prelude's
/// `Some` is variant 0, `None` variant 1).
pub fn encode_option(v: Option<Vec<u8>>) -> Vec<u8> {
    match v {
        Some(bytes) => {
            let mut out = Vec::with_capacity(4 + bytes.len());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&bytes);
            out
        }
        None => 1u32.to_le_bytes().to_vec(),
    }
}

/// Appends a list's or map's element count.
pub fn encode_count(out: &mut Vec<u8>, n: usize) {
    count(out, n);
}

fn counted(out: &mut Vec<u8>, bytes: &[u8]) {
    count(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn count(out: &mut Vec<u8>, n: usize) {
    // Every count the format can carry fits; a longer value was never read from it.
    let n = u32::try_from(n).expect("a wire count exceeds u32::MAX");
    out.extend_from_slice(&n.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    types: &'a [AdtDesc],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(WireError::Truncated {
                at: self.pos,
                needed: n - left,
            });
        }
        let taken = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A count of elements each at least `elem_min` bytes long, checked against the
    /// bytes left.
    fn count(&mut self, elem_min: usize) -> Result<usize, WireError> {
        let at = self.pos;
        let count = self.u32()?;
        let n = usize::try_from(count).unwrap_or(usize::MAX);
        let left = self.bytes.len() - self.pos;
        let fits = match elem_min {
            0 => n <= ZERO_SIZED_LEN_MAX,
            _ => n <= left / elem_min,
        };
        if !fits {
            return Err(WireError::CountTooLarge { at, count, left });
        }
        Ok(n)
    }

    /// A byte count and that many bytes.
    fn counted(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.count(1)?;
        self.take(n)
    }

    fn text(&mut self) -> Result<String, WireError> {
        let at = self.pos;
        let bytes = self.counted()?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_string()),
            Err(_) => Err(WireError::BadUtf8 { at }),
        }
    }

    fn value(&mut self, ty: &TypeDesc, depth: usize) -> Result<Value, WireError> {
        if depth > NESTING_DEPTH_MAX {
            return Err(WireError::TooDeep { at: self.pos });
        }
        Ok(match ty {
            TypeDesc::Int => Value::Int(self.i64()?),
            TypeDesc::Duration => Value::Duration(self.i64()?),
            TypeDesc::Float => Value::Float(f64::from_bits(u64::from_le_bytes(self.array()?))),
            TypeDesc::Bool => {
                let at = self.pos;
                match self.array::<1>()?[0] {
                    0 => Value::Bool(false),
                    1 => Value::Bool(true),
                    byte => return Err(WireError::BadBool { at, byte }),
                }
            }
            TypeDesc::Unit => Value::Unit,
            TypeDesc::String | TypeDesc::Resource(_) => Value::Str(self.text()?),
            TypeDesc::Agent(_) => Value::Agent(self.text()?),
            TypeDesc::Bytes => Value::Bytes(self.counted()?.to_vec()),
            TypeDesc::List(elem) => {
                let n = self.count(min_size(elem, self.types))?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(elem, depth + 1)?);
                }
                Value::List(items)
            }
            TypeDesc::Map(k, v) => {
                let elem_min = min_size(k, self.types).saturating_add(min_size(v, self.types));
                let n = self.count(elem_min)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = self.value(k, depth + 1)?;
                    entries.push((key, self.value(v, depth + 1)?));
                }
                Value::Map(entries)
            }
            TypeDesc::Tuple(tys) => Value::Tuple(self.fields(tys.iter(), depth)?),
            TypeDesc::Adt(index) => self.adt(*index, depth)?,
        })
    }

    fn fields<'t>(
        &mut self,
        tys: impl Iterator<Item = &'t TypeDesc>,
        depth: usize,
    ) -> Result<Vec<Value>, WireError> {
        tys.map(|ty| self.value(ty, depth + 1)).collect()
    }

    fn adt(&mut self, index: u32, depth: usize) -> Result<Value, WireError> {
        let desc = adt(self.types, index).ok_or(WireError::UnknownType { index })?;
        match &desc.shape {
            AdtShape::Record(fields) => Ok(Value::Record(
                self.fields(fields.iter().map(|(_, ty)| ty), depth)?,
            )),
            AdtShape::Enum(variants) => {
                let at = self.pos;
                let tag = self.u32()?;
                let variant = usize::try_from(tag).ok().and_then(|i| variants.get(i));
                let Some((_, tys)) = variant else {
                    return Err(WireError::BadVariant {
                        at,
                        index: tag,
                        count: variants.len(),
                        name: desc.name.clone(),
                    });
                };
                Ok(Value::Variant(tag, self.fields(tys.iter(), depth)?))
            }
        }
    }
}

/// A lower bound on the bytes any value of type `ty` takes.
fn min_size(ty: &TypeDesc, types: &[AdtDesc]) -> usize {
    let mut budget = MIN_SIZE_BUDGET;
    min_size_within(ty, types, &mut budget)
}

/// [`min_size`], looking at no more than `budget` type nodes: past it, 0 is still a lower
/// bound, and a type that contains itself directly cannot recurse forever.
fn min_size_within(ty: &TypeDesc, types: &[AdtDesc], budget: &mut u32) -> usize {
    if *budget == 0 {
        return 0;
    }
    *budget -= 1;
    let sum = |tys: &mut dyn Iterator<Item = &TypeDesc>, budget: &mut u32| {
        tys.fold(0usize, |n, ty| {
            n.saturating_add(min_size_within(ty, types, budget))
        })
    };
    match ty {
        TypeDesc::Int | TypeDesc::Float | TypeDesc::Duration => 8,
        TypeDesc::Bool => 1,
        TypeDesc::Unit => 0,
        TypeDesc::String
        | TypeDesc::Bytes
        | TypeDesc::Agent(_)
        | TypeDesc::Resource(_)
        | TypeDesc::List(_)
        | TypeDesc::Map(..) => 4,
        TypeDesc::Tuple(tys) => sum(&mut tys.iter(), budget),
        TypeDesc::Adt(index) => match adt(types, *index).map(|d| &d.shape) {
            Some(AdtShape::Record(fields)) => sum(&mut fields.iter().map(|(_, ty)| ty), budget),
            Some(AdtShape::Enum(_)) => 4,
            None => 0,
        },
    }
}
