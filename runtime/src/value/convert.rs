//! Moves a stored value from one version's type to another's, by shape: record fields by
//! name (a new field takes its default, a removed one is dropped), enum variants by name
//! (a value using a variant the new type lacks cannot move), everything else
//! element by element. What a patch does to lanes whose types changed compatibly.

use super::{adt, Value};
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// How deep a value may nest here (stored values nest no deeper than a module can write).
const DEPTH_MAX: usize = 1000;

/// The two versions' type tables and where new record fields get their defaults:
/// `default(index of the record in the new table, field name)`.
pub struct Conversion<'a> {
    pub from_types: &'a [AdtDesc],
    pub to_types: &'a [AdtDesc],
    pub default: &'a mut dyn FnMut(u32, &str) -> Result<Value, String>,
}

impl Conversion<'_> {
    /// `v`, of type `from` in the old table, as a value of type `to` in the new one.
    pub fn convert(&mut self, v: Value, from: &TypeDesc, to: &TypeDesc) -> Result<Value, String> {
        self.go(v, from, to, 0)
    }

    fn go(
        &mut self,
        v: Value,
        from: &TypeDesc,
        to: &TypeDesc,
        depth: usize,
    ) -> Result<Value, String> {
        if depth > DEPTH_MAX {
            return Err("a value nested too deeply to convert".into());
        }
        let d = depth + 1;
        Ok(match (v, from, to) {
            (Value::List(xs), TypeDesc::List(a), TypeDesc::List(b)) => Value::List(
                xs.into_iter()
                    .map(|x| self.go(x, a, b, d))
                    .collect::<Result<_, _>>()?,
            ),
            (Value::Map(es), TypeDesc::Map(ka, va), TypeDesc::Map(kb, vb)) => Value::Map(
                es.into_iter()
                    .map(|(k, v)| Ok((self.go(k, ka, kb, d)?, self.go(v, va, vb, d)?)))
                    .collect::<Result<_, String>>()?,
            ),
            (Value::Tuple(xs), TypeDesc::Tuple(a), TypeDesc::Tuple(b)) if a.len() == b.len() => {
                Value::Tuple(
                    xs.into_iter()
                        .zip(a.iter().zip(b))
                        .map(|(x, (a, b))| self.go(x, a, b, d))
                        .collect::<Result<_, _>>()?,
                )
            }
            (v, TypeDesc::Adt(a), TypeDesc::Adt(b)) => self.adt(v, *a, *b, d)?,
            (v, a, b) if a == b && !matches!(a, TypeDesc::Adt(_)) && shallow(a) => v,
            (_, a, b) => return Err(format!("cannot convert a `{a:?}` to a `{b:?}`")),
        })
    }

    fn adt(&mut self, v: Value, a: u32, b: u32, d: usize) -> Result<Value, String> {
        let (Some(from), Some(to)) = (adt(self.from_types, a), adt(self.to_types, b)) else {
            return Err("a type missing from the manifest".into());
        };
        match (v, &from.shape, &to.shape) {
            (Value::Record(fields), AdtShape::Record(fa), AdtShape::Record(fb)) => {
                let mut old: Vec<Option<Value>> = fields.into_iter().map(Some).collect();
                let mut out = Vec::with_capacity(fb.len());
                for (name, tb) in fb {
                    match fa.iter().position(|(n, _)| n == name) {
                        Some(i) => {
                            let x = old
                                .get_mut(i)
                                .and_then(Option::take)
                                .ok_or_else(|| format!("a `{}` value is cut short", from.name))?;
                            out.push(self.go(x, &fa[i].1, tb, d)?);
                        }
                        None => out.push((self.default)(b, name)?),
                    }
                }
                Ok(Value::Record(out))
            }
            (Value::Variant(i, fields), AdtShape::Enum(va), AdtShape::Enum(vb)) => {
                let (name, ta) = va
                    .get(i as usize)
                    .ok_or_else(|| format!("a `{}` value with no variant {i}", from.name))?;
                let Some(j) = vb.iter().position(|(n, _)| n == name) else {
                    return Err(format!(
                        "a stored `{}` value uses variant `{name}`, which the new version \
                         removed",
                        from.name
                    ));
                };
                let tb = &vb[j].1;
                if ta.len() != tb.len() {
                    return Err(format!(
                        "variant `{name}` of `{}` changed its number of fields",
                        from.name
                    ));
                }
                let out = fields
                    .into_iter()
                    .zip(ta.iter().zip(tb))
                    .map(|(x, (ta, tb))| self.go(x, ta, tb, d))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Variant(j as u32, out))
            }
            _ => Err(format!(
                "cannot convert a `{}` to a `{}`",
                from.name, to.name
            )),
        }
    }
}

/// Whether equal descriptors mean equal values without looking inside (no records or
/// enums, whose indices differ between tables, anywhere in the type).
fn shallow(t: &TypeDesc) -> bool {
    match t {
        TypeDesc::Adt(_) => false,
        TypeDesc::List(t) => shallow(t),
        TypeDesc::Map(k, v) => shallow(k) && shallow(v),
        TypeDesc::Tuple(ts) => ts.iter().all(shallow),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::tests::{enumeration, record};

    #[test]
    fn records_gain_defaults_and_lose_fields_enums_map_by_name() {
        let old = vec![
            record(
                "Link",
                &[("url", TypeDesc::String), ("note", TypeDesc::String)],
            ),
            enumeration("State", &[("On", &[TypeDesc::Int]), ("Off", &[])]),
        ];
        let new = vec![
            enumeration(
                "State",
                &[("Off", &[]), ("Broken", &[]), ("On", &[TypeDesc::Int])],
            ),
            record(
                "Link",
                &[("url", TypeDesc::String), ("hits", TypeDesc::Int)],
            ),
        ];
        let mut asked = vec![];
        let mut default = |i: u32, f: &str| {
            asked.push((i, f.to_string()));
            Ok(Value::Int(7))
        };
        let mut c = Conversion {
            from_types: &old,
            to_types: &new,
            default: &mut default,
        };
        let from = TypeDesc::List(Box::new(TypeDesc::Tuple(vec![
            TypeDesc::Adt(0),
            TypeDesc::Adt(1),
        ])));
        let to = TypeDesc::List(Box::new(TypeDesc::Tuple(vec![
            TypeDesc::Adt(1),
            TypeDesc::Adt(0),
        ])));
        let v = Value::List(vec![Value::Tuple(vec![
            Value::Record(vec![Value::Str("u".into()), Value::Str("n".into())]),
            Value::Variant(0, vec![Value::Int(3)]),
        ])]);
        let got = c.convert(v, &from, &to).unwrap();
        assert_eq!(
            got,
            Value::List(vec![Value::Tuple(vec![
                Value::Record(vec![Value::Str("u".into()), Value::Int(7)]),
                Value::Variant(2, vec![Value::Int(3)]),
            ])])
        );
        // A variant the new type lacks cannot move.
        let gone = Value::Variant(1, vec![]);
        let old2 = vec![enumeration("State", &[("On", &[]), ("Gone", &[])])];
        let mut c = Conversion {
            from_types: &old2,
            to_types: &new,
            default: &mut |_, _| Ok(Value::Unit),
        };
        let e = c
            .convert(gone, &TypeDesc::Adt(0), &TypeDesc::Adt(0))
            .unwrap_err();
        assert!(e.contains("variant `Gone`"), "{e}");
        assert_eq!(asked, vec![(1, "hits".to_string())]);
    }
}
