//! `Table<K, V>` on cubestore: each row a key under the table's prefix. A `String` key is
//! stored as its UTF-8 bytes, so `scan(prefix)` is a range read; other keys as their wire
//! bytes. Values are stored as their wire bytes.

use super::{data_prefix, Kv, Record};
use crate::{Keys, Op};
use weft_compiler::manifest::TypeDesc;

/// Where a table's rows are, by its handle.
pub fn rows(handle: &str) -> Vec<u8> {
    let mut p = data_prefix(handle);
    p.extend_from_slice(b"k/");
    p
}

/// The stored key of a row whose key has these wire bytes.
fn row_key(record: &Record, key_wire: &[u8]) -> Result<Vec<u8>, String> {
    let mut k = rows(&record.handle());
    if record.args.first() == Some(&TypeDesc::String) {
        // A string's wire form is its byte count, then the bytes.
        let text = key_wire
            .get(4..)
            .ok_or("a table key that is not a String on the wire")?;
        k.extend_from_slice(text);
    } else {
        k.extend_from_slice(key_wire);
    }
    Ok(k)
}

/// The write that sets a row.
pub fn put(record: &Record, key_wire: &[u8], value_wire: Vec<u8>) -> Result<Op, String> {
    Ok(Op::Put {
        key: row_key(record, key_wire)?,
        value: value_wire,
        lease: None,
        prev_kv: false,
    })
}

/// The write that deletes a row (if it exists).
pub fn delete(record: &Record, key_wire: &[u8]) -> Result<Op, String> {
    Ok(Op::Delete {
        keys: Keys::One(row_key(record, key_wire)?),
        prev_kv: false,
    })
}

/// The value's wire bytes, if the row exists.
pub fn get(kv: &dyn Kv, record: &Record, key_wire: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let key = row_key(record, key_wire)?;
    Ok(kv
        .range(&key, Some(1))?
        .into_iter()
        .find(|p| p.key == key)
        .map(|p| p.value))
}

/// The rows of a `String`-keyed table whose key starts with `prefix`, in key order:
/// (key, value's wire bytes).
pub fn scan(kv: &dyn Kv, record: &Record, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let base = rows(&record.handle());
    let mut from = base.clone();
    from.extend_from_slice(prefix.as_bytes());
    kv.range(&from, None)?
        .into_iter()
        .map(|p| {
            let key = String::from_utf8(p.key[base.len()..].to_vec())
                .map_err(|_| "a stored key that is not UTF-8".to_string())?;
            Ok((key, p.value))
        })
        .collect()
}

/// The number of rows.
pub fn len(kv: &dyn Kv, record: &Record) -> Result<u64, String> {
    kv.count(&rows(&record.handle()))
}
