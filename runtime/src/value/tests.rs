//! Tests of host-side values: the wire format, Weft syntax, Recon, literals and sort
//! keys, over a fixed set of types (including a recursive enum) and pseudo-random
//! values from fixed seeds.

mod key;
mod literal;
mod recon;
mod show;
mod wire;

use super::Value;
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// Indices into [`types`].
const TREE: u32 = 0;
const POINT: u32 = 1;
const OPT_STR: u32 = 2;
const SHAPE: u32 = 3;
const PAIR: u32 = 4;
const OPT_OPT_INT: u32 = 5;
const OPT_INT: u32 = 6;
const NOTHING: u32 = 7;
const OPT_UNIT: u32 = 8;

pub(super) fn record(name: &str, fields: &[(&str, TypeDesc)]) -> AdtDesc {
    AdtDesc {
        name: name.into(),
        shape: AdtShape::Record(
            fields
                .iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect(),
        ),
        defaults: vec![],
    }
}

pub(super) fn enumeration(name: &str, variants: &[(&str, &[TypeDesc])]) -> AdtDesc {
    AdtDesc {
        name: name.into(),
        shape: AdtShape::Enum(
            variants
                .iter()
                .map(|(n, ts)| (n.to_string(), ts.to_vec()))
                .collect(),
        ),
        defaults: vec![],
    }
}

/// The manifest types every test uses.
fn types() -> Vec<AdtDesc> {
    use TypeDesc::*;
    vec![
        enumeration(
            "Tree<Int>",
            &[("Leaf", &[]), ("Node", &[Adt(TREE), Int, Adt(TREE)])],
        ),
        record("Point", &[("x", Float), ("y", Int)]),
        enumeration("Option<String>", &[("None", &[]), ("Some", &[String])]),
        enumeration(
            "Shape",
            &[
                ("Circle", &[Float]),
                ("Rect", &[Float, Float]),
                ("Empty", &[]),
            ],
        ),
        record("Pair<Int>", &[("a", Int), ("b", Int)]),
        enumeration(
            "Option<Option<Int>>",
            &[("None", &[]), ("Some", &[Adt(OPT_INT)])],
        ),
        enumeration("Option<Int>", &[("None", &[]), ("Some", &[Int])]),
        record("Nothing", &[]),
        enumeration("Option<()>", &[("None", &[]), ("Some", &[Unit])]),
    ]
}

fn list(t: TypeDesc) -> TypeDesc {
    TypeDesc::List(Box::new(t))
}

fn map(k: TypeDesc, v: TypeDesc) -> TypeDesc {
    TypeDesc::Map(Box::new(k), Box::new(v))
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn leaf() -> Value {
    Value::Variant(0, vec![])
}

fn node(l: Value, n: i64, r: Value) -> Value {
    Value::Variant(1, vec![l, Value::Int(n), r])
}

/// One type of every form, for the property tests.
fn sample_types() -> Vec<TypeDesc> {
    use TypeDesc::*;
    vec![
        Int,
        Float,
        Bool,
        String,
        Bytes,
        Unit,
        Duration,
        list(Int),
        list(String),
        map(String, Int),
        map(Int, list(Bool)),
        Tuple(vec![String, Int]),
        Tuple(vec![]),
        Adt(TREE),
        Adt(POINT),
        Adt(OPT_STR),
        Adt(SHAPE),
        Adt(PAIR),
        Adt(NOTHING),
        Agent("Counter".into()),
        list(Adt(SHAPE)),
        map(String, Tuple(vec![Int, String, Bool])),
    ]
}

/// xorshift64*: small, fast, and the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Short texts over a small alphabet, so prefixes and equal values are common.
    fn text(&mut self) -> String {
        let alphabet = ['a', 'b', '\0', '"', '\\', '\n', '{', 'é', ' ', 'z'];
        let len = self.below(5);
        (0..len).map(|_| *self.pick(&alphabet)).collect()
    }

    fn int(&mut self) -> i64 {
        let special = [0, 1, -1, 2, -2, 7, 1000, i64::MAX, i64::MIN, 1 << 53];
        match self.below(3) {
            0 => *self.pick(&special),
            1 => self.below(21) as i64 - 10,
            _ => self.next() as i64,
        }
    }

    fn float(&mut self) -> f64 {
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e20,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2.5e-8,
        ];
        match self.below(3) {
            0 => *self.pick(&special),
            1 => (self.below(21) as f64 - 10.0) / 4.0,
            _ => match f64::from_bits(self.next()) {
                x if x.is_nan() => 0.0,
                x => x,
            },
        }
    }

    /// A random value of type `ty`; recursive types stop growing past `depth` 3.
    fn value(&mut self, ty: &TypeDesc, types: &[AdtDesc], depth: usize) -> Value {
        let len = |rng: &mut Rng| if depth > 3 { 0 } else { rng.below(4) };
        match ty {
            TypeDesc::Int => Value::Int(self.int()),
            TypeDesc::Float => Value::Float(self.float()),
            TypeDesc::Bool => Value::Bool(self.below(2) == 1),
            TypeDesc::String => Value::Str(self.text()),
            TypeDesc::Bytes => Value::Bytes(self.text().into_bytes()),
            TypeDesc::Unit => Value::Unit,
            TypeDesc::Duration => {
                let any = self.int();
                Value::Duration(*self.pick(&[0, 250_000_000, -7, 3_600_000_000_000, any]))
            }
            TypeDesc::Agent(_) => Value::Agent(format!("/counters/{}", self.below(100))),
            TypeDesc::Resource(_) => Value::Str(format!("shop/jobs-{}", self.below(100))),
            TypeDesc::List(e) => {
                let n = len(self);
                Value::List((0..n).map(|_| self.value(e, types, depth + 1)).collect())
            }
            TypeDesc::Map(k, v) => {
                let n = len(self);
                let mut entries: Vec<(Value, Value)> = Vec::new();
                for _ in 0..n {
                    let key = self.value(k, types, depth + 1);
                    if entries.iter().all(|(k, _)| *k != key) {
                        entries.push((key, self.value(v, types, depth + 1)));
                    }
                }
                Value::Map(entries)
            }
            TypeDesc::Tuple(ts) => {
                Value::Tuple(ts.iter().map(|t| self.value(t, types, depth + 1)).collect())
            }
            TypeDesc::Adt(i) => match &types[*i as usize].shape {
                AdtShape::Record(fs) => Value::Record(
                    fs.iter()
                        .map(|(_, t)| self.value(t, types, depth + 1))
                        .collect(),
                ),
                AdtShape::Enum(vs) => {
                    // Past the depth limit, the first variant without fields.
                    let k = match depth > 3 {
                        true => vs.iter().position(|(_, ts)| ts.is_empty()).unwrap_or(0),
                        false => self.below(vs.len()),
                    };
                    let fields = vs[k].1.iter().map(|t| self.value(t, types, depth + 1));
                    Value::Variant(k as u32, fields.collect())
                }
            },
        }
    }
}
