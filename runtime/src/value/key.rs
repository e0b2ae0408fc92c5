//! Order-preserving ("memcomparable") keys: for two values of the same type, the byte
//! order of their keys is the values' natural order, so a sorted store iterates a map
//! lane in key order, as SwimOS orders map lanes.
//!
//! Every key is prefix-free among the keys of its type (no key is a proper prefix of
//! another), which is what lets a list or tuple compare element by element by plain
//! concatenation: where two elements differ, their keys differ at a byte inside them.
//!
//! - Int and Duration: 8 bytes big-endian with the sign bit flipped.
//! - Float: IEEE total order (`f64::total_cmp`: -NaN < -inf < ... < -0.0 < 0.0 < ... <
//!   inf < NaN): the bits big-endian, all flipped for negatives, the sign flipped else.
//! - Bool: one byte, false 0 and true 1. Unit: nothing.
//! - String, Bytes, agent URI: the bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01,
//!   so a prefix sorts first.
//! - List and Map: 0x01 before each element (a map's element is its key then its value),
//!   0x00 at the end, so a shorter list that is a prefix of a longer one sorts first.
//! - Tuple and record: the fields in order. Variant: the index (4 bytes big-endian), then
//!   the fields.

use super::Value;

/// Appends the sort key of `v`.
pub fn sort_key(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Int(n) | Value::Duration(n) => {
            out.extend_from_slice(&((*n as u64) ^ (1 << 63)).to_be_bytes())
        }
        Value::Float(x) => {
            let bits = x.to_bits();
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits | (1 << 63)
            };
            out.extend_from_slice(&ordered.to_be_bytes());
        }
        Value::Bool(b) => out.push(u8::from(*b)),
        Value::Unit => {}
        Value::Str(s) | Value::Agent(s) => escaped(s.as_bytes(), out),
        Value::Bytes(b) => escaped(b, out),
        Value::List(items) => {
            for item in items {
                out.push(0x01);
                sort_key(item, out);
            }
            out.push(0x00);
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                out.push(0x01);
                sort_key(k, out);
                sort_key(v, out);
            }
            out.push(0x00);
        }
        Value::Tuple(fields) | Value::Record(fields) => {
            fields.iter().for_each(|field| sort_key(field, out));
        }
        Value::Variant(index, fields) => {
            out.extend_from_slice(&index.to_be_bytes());
            fields.iter().for_each(|field| sort_key(field, out));
        }
    }
}

fn escaped(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}
