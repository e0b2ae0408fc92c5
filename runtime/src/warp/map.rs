//! Map-lane event bodies: how a map lane streams per-key changes inside `@event` and how
//! a client changes one key inside `@command`.
//!
//! The shapes are Swim's (`MapDownlinkModel` in `@swim/client`, `MapMessage` in
//! `swim_api::protocol::map`): `@update(key:K) V`, `@remove(key:K)`, `@clear`, and the
//! list-like `@take(N)` and `@drop(N)` that keep or remove the first `N` entries.

use super::{Item, MapEventError, Value};

/// One change to a map lane.
#[derive(Clone, Debug, PartialEq)]
pub enum MapEvent {
    /// `@update(key:K) V`: the entry for `key` is now `value`.
    Update {
        /// The entry's key.
        key: Value,
        /// The entry's new value.
        value: Value,
    },
    /// `@remove(key:K)`: the entry for `key` is gone.
    Remove {
        /// The entry's key.
        key: Value,
    },
    /// `@clear`: every entry is gone.
    Clear,
    /// `@take(N)`: only the first `N` entries remain.
    Take(u64),
    /// `@drop(N)`: the first `N` entries are gone.
    Drop(u64),
}

impl MapEvent {
    /// The attribute that names this kind of event.
    pub fn tag(&self) -> &'static str {
        match self {
            MapEvent::Update { .. } => "update",
            MapEvent::Remove { .. } => "remove",
            MapEvent::Clear => "clear",
            MapEvent::Take(_) => "take",
            MapEvent::Drop(_) => "drop",
        }
    }

    /// The event as an envelope body.
    pub fn to_value(&self) -> Value {
        let key_header = |key: &Value| Value::Record(vec![Item::slot("key", key.clone())]);
        match self {
            MapEvent::Update { key, value } => {
                Value::of_attr("update", key_header(key)).concat(value.clone())
            }
            MapEvent::Remove { key } => Value::of_attr("remove", key_header(key)),
            MapEvent::Clear => Value::of_attr("clear", Value::Extant),
            MapEvent::Take(n) | MapEvent::Drop(n) => Value::of_attr(
                self.tag(),
                Value::Int(i64::try_from(*n).unwrap_or(i64::MAX)),
            ),
        }
    }

    /// Reads an event from an envelope body.
    pub fn from_value(value: &Value) -> Result<MapEvent, MapEventError> {
        let tag = value.tag().ok_or(MapEventError::NoTag)?;
        let header = value.header(tag).unwrap_or(&Value::Extant);
        match tag {
            "update" => Ok(MapEvent::Update {
                key: read_key(header).ok_or(MapEventError::MissingKey("update"))?,
                value: value.body(),
            }),
            "remove" => Ok(MapEvent::Remove {
                key: read_key(header).ok_or(MapEventError::MissingKey("remove"))?,
            }),
            "clear" => Ok(MapEvent::Clear),
            "take" => read_count(header)
                .map(MapEvent::Take)
                .ok_or(MapEventError::InvalidCount("take")),
            "drop" => read_count(header)
                .map(MapEvent::Drop)
                .ok_or(MapEventError::InvalidCount("drop")),
            other => Err(MapEventError::UnknownTag(other.to_string())),
        }
    }
}

/// The `key:` slot of the header, or its one positional value (`@remove(a)`).
fn read_key(header: &Value) -> Option<Value> {
    if let Some(key) = header.get("key") {
        return Some(key.clone());
    }
    match header {
        Value::Record(items) => match items.as_slice() {
            [Item::Value(key)] => Some(key.clone()),
            _ => None,
        },
        Value::Absent | Value::Extant => None,
        key => Some(key.clone()),
    }
}

/// A count of zero or more.
fn read_count(header: &Value) -> Option<u64> {
    match header {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::Float(x) if x.fract() == 0.0 && *x >= 0.0 && *x <= u64::MAX as f64 => {
            Some(*x as u64)
        }
        _ => None,
    }
}
