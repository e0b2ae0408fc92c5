//! Values to Recon and back, for lanes and commands over WARP. The mapping, and where
//! it is ambiguous, is in the parent module's doc.

use super::{adt, base_name, option_shape, sort_key, Value, NESTING_DEPTH_MAX};
use crate::warp::{self, Item};
use std::collections::HashSet;
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// The Recon form of `v`, a value of type `ty`. Where the value does not match its type,
/// the shape of the value decides and names are left out.
pub fn to_recon(v: &Value, ty: &TypeDesc, types: &[AdtDesc]) -> warp::Value {
    to_recon_typed(v, Some(ty), types)
}

fn to_recon_typed(v: &Value, ty: Option<&TypeDesc>, types: &[AdtDesc]) -> warp::Value {
    match v {
        Value::Int(n) | Value::Duration(n) => warp::Value::Int(*n),
        Value::Float(x) => warp::Value::Float(*x),
        Value::Bool(b) => warp::Value::Bool(*b),
        Value::Str(s) | Value::Agent(s) => warp::Value::Text(s.clone()),
        Value::Bytes(b) => warp::Value::Data(b.clone()),
        Value::Unit => warp::Value::Extant,
        Value::List(items) => {
            let elem = match ty {
                Some(TypeDesc::List(elem)) => Some(&**elem),
                _ => None,
            };
            values(items, |_| elem, types)
        }
        Value::Tuple(fields) => {
            let tys = match ty {
                Some(TypeDesc::Tuple(tys)) => tys.as_slice(),
                _ => &[],
            };
            values(fields, |i| tys.get(i), types)
        }
        Value::Map(entries) => {
            let (kt, vt) = match ty {
                Some(TypeDesc::Map(k, v)) => (Some(&**k), Some(&**v)),
                _ => (None, None),
            };
            warp::Value::record(entries.iter().map(|(k, v)| {
                Item::Slot(to_recon_typed(k, kt, types), to_recon_typed(v, vt, types))
            }))
        }
        Value::Record(fields) => record_to_recon(fields, adt_of(ty, types), types),
        Value::Variant(index, fields) => variant_to_recon(*index, fields, adt_of(ty, types), types),
    }
}

fn adt_of<'t>(ty: Option<&TypeDesc>, types: &'t [AdtDesc]) -> Option<&'t AdtDesc> {
    match ty {
        Some(TypeDesc::Adt(index)) => adt(types, *index),
        _ => None,
    }
}

/// A record of plain values.
fn values<'t>(
    items: &[Value],
    ty: impl Fn(usize) -> Option<&'t TypeDesc>,
    types: &[AdtDesc],
) -> warp::Value {
    warp::Value::record(
        items
            .iter()
            .enumerate()
            .map(|(i, item)| Item::Value(to_recon_typed(item, ty(i), types))),
    )
}

fn record_to_recon(fields: &[Value], desc: Option<&AdtDesc>, types: &[AdtDesc]) -> warp::Value {
    let Some(AdtShape::Record(declared)) = desc.map(|d| &d.shape) else {
        return values(fields, |_| None, types);
    };
    warp::Value::record(fields.iter().enumerate().map(|(i, field)| {
        let (key, ty) = match declared.get(i) {
            Some((name, ty)) => (warp::Value::text(name), Some(ty)),
            None => (warp::Value::Int(i as i64), None),
        };
        Item::Slot(key, to_recon_typed(field, ty, types))
    }))
}

fn variant_to_recon(
    index: u32,
    fields: &[Value],
    desc: Option<&AdtDesc>,
    types: &[AdtDesc],
) -> warp::Value {
    if let Some((none, some, inner)) = desc.and_then(option_shape) {
        match fields {
            [] if index == none => return warp::Value::Extant,
            [x] if index == some => return to_recon_typed(x, Some(inner), types),
            _ => {}
        }
    }
    let declared = match desc.map(|d| &d.shape) {
        Some(AdtShape::Enum(variants)) => usize::try_from(index).ok().and_then(|i| variants.get(i)),
        _ => None,
    };
    let (name, tys) = match declared {
        Some((name, tys)) => (name.clone(), tys.as_slice()),
        None => (index.to_string(), &[][..]),
    };
    let body = match fields {
        [] => warp::Value::Extant,
        [x] => to_recon_typed(x, tys.first(), types),
        _ => values(fields, |i| tys.get(i), types),
    };
    warp::Value::of_attr(name, body)
}

/// The value of type `ty` that `r` stands for; the error says where, what was expected
/// and what was found.
pub fn from_recon(r: &warp::Value, ty: &TypeDesc, types: &[AdtDesc]) -> Result<Value, String> {
    Reader { types }.value(r, ty, 0)
}

struct Reader<'a> {
    types: &'a [AdtDesc],
}

impl Reader<'_> {
    fn value(&self, r: &warp::Value, ty: &TypeDesc, depth: usize) -> Result<Value, String> {
        use warp::Value as R;
        if depth > NESTING_DEPTH_MAX {
            return Err(format!("nested more than {NESTING_DEPTH_MAX} levels deep"));
        }
        Ok(match (ty, r) {
            (TypeDesc::Int, R::Int(n)) => Value::Int(*n),
            (TypeDesc::Float, R::Float(x)) => Value::Float(*x),
            (TypeDesc::Float, R::Int(n)) => Value::Float(*n as f64),
            (TypeDesc::Bool, R::Bool(b)) => Value::Bool(*b),
            (TypeDesc::String | TypeDesc::Resource(_), R::Text(s)) => Value::Str(s.clone()),
            (TypeDesc::Bytes, R::Data(b)) => Value::Bytes(b.clone()),
            (TypeDesc::Unit, R::Extant | R::Absent) => Value::Unit,
            (TypeDesc::Duration, R::Int(n)) => Value::Duration(*n),
            (TypeDesc::Agent(_), R::Text(uri)) => Value::Agent(uri.clone()),
            (TypeDesc::List(elem), _) => Value::List(
                plain_values(r, "a list")?
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.nested(item, elem, depth, || format!("item {i}")))
                    .collect::<Result<_, _>>()?,
            ),
            (TypeDesc::Tuple(tys), _) => Value::Tuple(self.tuple(r, tys, depth)?),
            (TypeDesc::Map(kt, vt), _) => self.map(r, kt, vt, depth)?,
            (TypeDesc::Adt(index), _) => self.adt(r, *index, depth)?,
            _ => return Err(mismatch(&expected(ty, self.types), r)),
        })
    }

    /// A nested value, its error prefixed with where it is.
    fn nested(
        &self,
        r: &warp::Value,
        ty: &TypeDesc,
        depth: usize,
        place: impl Fn() -> String,
    ) -> Result<Value, String> {
        self.value(r, ty, depth + 1)
            .map_err(|e| format!("{}: {e}", place()))
    }

    fn tuple(&self, r: &warp::Value, tys: &[TypeDesc], depth: usize) -> Result<Vec<Value>, String> {
        let items = plain_values(r, "a tuple")?;
        if items.len() != tys.len() {
            return Err(format!(
                "expected {} values, found {}",
                tys.len(),
                items.len()
            ));
        }
        items
            .iter()
            .zip(tys)
            .enumerate()
            .map(|(i, (item, ty))| self.nested(item, ty, depth, || format!("item {i}")))
            .collect()
    }

    fn map(
        &self,
        r: &warp::Value,
        kt: &TypeDesc,
        vt: &TypeDesc,
        depth: usize,
    ) -> Result<Value, String> {
        let items = match r {
            warp::Value::Absent | warp::Value::Extant => &[][..],
            warp::Value::Record(items) => items.as_slice(),
            _ => return Err(mismatch("a map (a record of slots)", r)),
        };
        let mut seen = HashSet::new();
        let mut entries = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Item::Slot(k, v) = item else {
                return Err(format!(
                    "entry {i}: expected a slot `key: value`, found {}",
                    describe_item(item)
                ));
            };
            let key = self.nested(k, kt, depth, || format!("key {i}"))?;
            let value = self.nested(v, vt, depth, || format!("the value of key {i}"))?;
            let mut sk = Vec::new();
            sort_key(&key, &mut sk);
            if !seen.insert(sk) {
                return Err(format!(
                    "key {i}: the key `{}` appears twice",
                    warp::print(k)
                ));
            }
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }

    fn adt(&self, r: &warp::Value, index: u32, depth: usize) -> Result<Value, String> {
        let desc = adt(self.types, index)
            .ok_or_else(|| format!("type index {index} is not in the manifest"))?;
        match &desc.shape {
            AdtShape::Record(fields) => self.record(r, desc, fields, depth),
            AdtShape::Enum(variants) => match option_shape(desc) {
                Some((none, some, inner)) => self.option(r, none, some, inner, depth),
                None => self.variant(r, desc, variants, depth),
            },
        }
    }

    fn record(
        &self,
        r: &warp::Value,
        desc: &AdtDesc,
        fields: &[(String, TypeDesc)],
        depth: usize,
    ) -> Result<Value, String> {
        let name = base_name(&desc.name);
        let items = match r {
            warp::Value::Record(items) => items.as_slice(),
            warp::Value::Absent | warp::Value::Extant if fields.is_empty() => &[][..],
            _ => return Err(mismatch(&format!("a `{name}` record"), r)),
        };
        let mut found: Vec<Option<Value>> = vec![None; fields.len()];
        for item in items {
            let Item::Slot(warp::Value::Text(key), v) = item else {
                return Err(format!(
                    "expected a field `name: value` of `{name}`, found {}",
                    describe_item(item)
                ));
            };
            let Some(i) = fields.iter().position(|(f, _)| f == key) else {
                return Err(format!("`{name}` has no field `{key}`"));
            };
            if found[i].is_some() {
                return Err(format!("the field `{key}` of `{name}` appears twice"));
            }
            found[i] = Some(self.nested(v, &fields[i].1, depth, || format!("field `{key}`"))?);
        }
        found
            .into_iter()
            .zip(fields)
            .map(|(v, (f, _))| v.ok_or_else(|| format!("the field `{f}` of `{name}` is missing")))
            .collect::<Result<_, _>>()
            .map(Value::Record)
    }

    /// `Some(x)` whenever the inner type reads `r`, so the outer `Some` wins an ambiguity.
    fn option(
        &self,
        r: &warp::Value,
        none: u32,
        some: u32,
        inner: &TypeDesc,
        depth: usize,
    ) -> Result<Value, String> {
        match self.value(r, inner, depth + 1) {
            Ok(x) => Ok(Value::Variant(some, vec![x])),
            Err(_) if matches!(r, warp::Value::Extant | warp::Value::Absent) => {
                Ok(Value::Variant(none, vec![]))
            }
            Err(e) => Err(e),
        }
    }

    fn variant(
        &self,
        r: &warp::Value,
        desc: &AdtDesc,
        variants: &[(String, Vec<TypeDesc>)],
        depth: usize,
    ) -> Result<Value, String> {
        let name = base_name(&desc.name);
        let (tag, body) = match r {
            warp::Value::Record(items) => match items.as_slice() {
                [Item::Attr(tag, body)] => (tag.as_str(), body),
                _ => return Err(mismatch(&format!("a `{name}` variant `@Name(...)`"), r)),
            },
            warp::Value::Text(tag) => (tag.as_str(), &warp::Value::Absent),
            _ => return Err(mismatch(&format!("a `{name}` variant `@Name(...)`"), r)),
        };
        let Some(i) = variants.iter().position(|(v, _)| v == tag) else {
            let names: Vec<&str> = variants.iter().map(|(v, _)| v.as_str()).collect();
            return Err(format!(
                "`{name}` has no variant `{tag}` (it has {})",
                names.join(", ")
            ));
        };
        let tys = &variants[i].1;
        let place = || format!("variant `{tag}`");
        let fields = match (tys.as_slice(), body) {
            ([], warp::Value::Extant | warp::Value::Absent) => vec![],
            ([], _) => {
                return Err(format!(
                    "{}: expected no fields, found {}",
                    place(),
                    describe(body)
                ))
            }
            ([ty], _) => vec![self.nested(body, ty, depth, place)?],
            _ => self
                .tuple(body, tys, depth + 1)
                .map_err(|e| format!("{}: {e}", place()))?,
        };
        let tag = u32::try_from(i).map_err(|_| format!("`{name}` has too many variants"))?;
        Ok(Value::Variant(tag, fields))
    }
}

/// The values of a record of plain values; a scalar is a record of itself, and absent
/// or extant is empty.
fn plain_values<'r>(r: &'r warp::Value, what: &str) -> Result<Vec<&'r warp::Value>, String> {
    match r {
        warp::Value::Absent | warp::Value::Extant => Ok(vec![]),
        warp::Value::Record(items) => items
            .iter()
            .map(|item| match item {
                Item::Value(v) => Ok(v),
                other => Err(format!(
                    "expected {what} (a record of plain values), found {}",
                    describe_item(other)
                )),
            })
            .collect(),
        scalar => Ok(vec![scalar]),
    }
}

fn mismatch(expected: &str, found: &warp::Value) -> String {
    format!("expected {expected}, found {}", describe(found))
}

/// What a type is called in an error: `an Int`, `a list`, `a `Point` record`.
fn expected(ty: &TypeDesc, types: &[AdtDesc]) -> String {
    match ty {
        TypeDesc::Int => "an Int".into(),
        TypeDesc::Float => "a Float".into(),
        TypeDesc::Bool => "a Bool".into(),
        TypeDesc::String => "a String (text)".into(),
        TypeDesc::Bytes => "Bytes (data)".into(),
        TypeDesc::Unit => "() (an extant value)".into(),
        TypeDesc::Duration => "a Duration (an Int of nanoseconds)".into(),
        TypeDesc::List(_) => "a list".into(),
        TypeDesc::Map(..) => "a map".into(),
        TypeDesc::Tuple(_) => "a tuple".into(),
        TypeDesc::Adt(i) => match adt(types, *i) {
            Some(desc) => format!("a `{}`", base_name(&desc.name)),
            None => format!("type {i}"),
        },
        TypeDesc::Agent(name) => format!("a `{name}` agent URI (text)"),
        TypeDesc::Resource(ty) => format!("a `{ty}` resource name (text)"),
    }
}

/// A found value for an error: its kind and a short piece of its text.
fn describe(r: &warp::Value) -> String {
    const SHOWN_CHARS_MAX: usize = 40;
    let kind = match r {
        warp::Value::Absent => return "nothing".into(),
        warp::Value::Extant => return "an extant value (no value)".into(),
        warp::Value::Text(_) => "the text",
        warp::Value::Int(_) => "the Int",
        warp::Value::Float(_) => "the Float",
        warp::Value::Bool(_) => "the Bool",
        warp::Value::Data(_) => "the data",
        warp::Value::Record(_) => "the record",
    };
    let text = warp::print(r);
    let mut shown: String = text.chars().take(SHOWN_CHARS_MAX).collect();
    if shown.len() < text.len() {
        shown.push_str("...");
    }
    format!("{kind} `{shown}`")
}

fn describe_item(item: &Item) -> String {
    match item {
        Item::Attr(name, _) => format!("the attribute `@{name}`"),
        Item::Slot(k, _) => format!("the slot `{}:`", warp::print(k)),
        Item::Value(v) => describe(v),
    }
}
