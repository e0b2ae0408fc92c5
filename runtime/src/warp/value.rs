//! The Recon data model: a [`Value`] is a scalar or a record of [`Item`]s.
//!
//! This is Swim's structure model (`@swim/structure`, `swimos_model`) with one change:
//! numbers keep integers and floats apart (`Int`/`Float`) so that a Weft `Int` sent out
//! comes back an `Int`. A record is an ordered list of items; attributes (`@name(value)`)
//! conventionally come first and name what the record is (its *tag*), which is how WARP
//! envelopes and map-lane events are told apart.

use std::fmt;

/// A Recon value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// No value at all: an empty message body, a missing field.
    #[default]
    Absent,
    /// A value that is there but carries nothing, as in `@attr` or `key:`.
    Extant,
    /// A string, printed as an identifier when it is one and quoted otherwise.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A floating-point number; always printed with a `.` or an exponent.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// Bytes, printed as `%` followed by base64.
    Data(Vec<u8>),
    /// An ordered list of attributes, slots and values.
    Record(Vec<Item>),
}

/// One member of a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `@name` or `@name(value)`.
    Attr(String, Value),
    /// `key: value`.
    Slot(Value, Value),
    /// A value on its own.
    Value(Value),
}

impl Value {
    /// A text value.
    pub fn text(text: impl Into<String>) -> Value {
        Value::Text(text.into())
    }

    /// A record of these items.
    pub fn record(items: impl IntoIterator<Item = Item>) -> Value {
        Value::Record(items.into_iter().collect())
    }

    /// A record holding one attribute `@name(value)`.
    pub fn of_attr(name: impl Into<String>, value: Value) -> Value {
        Value::Record(vec![Item::Attr(name.into(), value)])
    }

    /// Whether this is anything but [`Value::Absent`].
    pub fn is_defined(&self) -> bool {
        !matches!(self, Value::Absent)
    }

    /// The items of a record; a scalar or an absent value has none.
    pub fn items(&self) -> &[Item] {
        match self {
            Value::Record(items) => items,
            _ => &[],
        }
    }

    /// The text of a [`Value::Text`].
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// A number as a float (an `Int` converts, possibly rounding).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(n) => Some(*n as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// The name of the first item when it is an attribute: `event` for `@event(...) 1`.
    pub fn tag(&self) -> Option<&str> {
        match self.items().first() {
            Some(Item::Attr(name, _)) => Some(name),
            _ => None,
        }
    }

    /// The value of the first item when it is the attribute `tag`.
    pub fn header(&self, tag: &str) -> Option<&Value> {
        match self.items().first() {
            Some(Item::Attr(name, value)) if name == tag => Some(value),
            _ => None,
        }
    }

    /// Everything after the first item, as Swim's `Record.body()`: nothing is `Absent`,
    /// one value is that value, one attribute or slot is a record of it, more is a record.
    pub fn body(&self) -> Value {
        match self.items() {
            [] | [_] => Value::Absent,
            [_, Item::Value(value)] => value.clone(),
            [_, rest @ ..] => Value::Record(rest.to_vec()),
        }
    }

    /// The value of the first slot whose key is the text `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.items().iter().find_map(|item| match item {
            Item::Slot(Value::Text(k), value) if k == key => Some(value),
            _ => None,
        })
    }

    /// Appends `body` to this record as Swim's `Record.concat` does: a record's items are
    /// appended one by one, an absent or extant body adds nothing, any other value is
    /// appended as an item. A non-record `self` first becomes a record of itself.
    pub fn concat(self, body: Value) -> Value {
        let mut items = match self {
            Value::Record(items) => items,
            Value::Absent => Vec::new(),
            other => vec![Item::Value(other)],
        };
        match body {
            Value::Record(more) => items.extend(more),
            Value::Absent | Value::Extant => {}
            other => items.push(Item::Value(other)),
        }
        Value::Record(items)
    }
}

impl Item {
    /// `@name(value)`; pass [`Value::Extant`] for a bare `@name`.
    pub fn attr(name: impl Into<String>, value: Value) -> Item {
        Item::Attr(name.into(), value)
    }

    /// `key: value`.
    pub fn slot(key: impl Into<Value>, value: impl Into<Value>) -> Item {
        Item::Slot(key.into(), value.into())
    }

    /// A value item.
    pub fn value(value: impl Into<Value>) -> Item {
        Item::Value(value.into())
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl fmt::Display for Value {
    /// The Recon text of the value, as [`super::print`] writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::print::write_value(f, self)
    }
}

impl std::str::FromStr for Value {
    type Err = super::ReconError;

    fn from_str(text: &str) -> Result<Value, Self::Err> {
        super::parse(text)
    }
}
