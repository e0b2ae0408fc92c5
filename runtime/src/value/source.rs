//! Values as Weft source: an expression that evaluates to the value, so a REPL can carry
//! a binding from one input to the next as text. Like `show`, except where Weft has no
//! literal: a map is built in a block (`{ var m: Map<K, V> = Map.new(); m[k] = v; m }`),
//! and floats that are not finite are computed (`(1.0 / 0.0)`).

use super::{adt, base_name, show, Value};
use crate::host::text::float_to_string;
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// How deep a value may nest here.
const DEPTH_MAX: usize = 200;

/// `v` (of type `ty`) as a Weft expression, or why it has none (`Bytes`).
pub fn to_source(v: &Value, ty: &TypeDesc, types: &[AdtDesc]) -> Result<String, String> {
    let mut out = String::new();
    go(&mut out, v, ty, types, 0)?;
    Ok(out)
}

/// A type as Weft writes it: `Map<String, List<Int>>`, `(Int, Link)`, `Option<Int>`.
pub fn type_text(ty: &TypeDesc, types: &[AdtDesc]) -> String {
    match ty {
        TypeDesc::Int => "Int".into(),
        TypeDesc::Float => "Float".into(),
        TypeDesc::Bool => "Bool".into(),
        TypeDesc::String => "String".into(),
        TypeDesc::Bytes => "Bytes".into(),
        TypeDesc::Unit => "Unit".into(),
        TypeDesc::Duration => "Duration".into(),
        TypeDesc::List(t) => format!("List<{}>", type_text(t, types)),
        TypeDesc::Map(k, v) => format!("Map<{}, {}>", type_text(k, types), type_text(v, types)),
        TypeDesc::Tuple(ts) => {
            let parts: Vec<String> = ts.iter().map(|t| type_text(t, types)).collect();
            format!("({})", parts.join(", "))
        }
        TypeDesc::Adt(i) => adt(types, *i).map_or_else(|| "?".into(), |a| a.name.clone()),
        TypeDesc::Agent(name) | TypeDesc::Resource(name) => name.clone(),
    }
}

fn go(
    out: &mut String,
    v: &Value,
    ty: &TypeDesc,
    types: &[AdtDesc],
    depth: usize,
) -> Result<(), String> {
    if depth > DEPTH_MAX {
        return Err("a value nested too deeply to write out".into());
    }
    let d = depth + 1;
    match (v, ty) {
        (Value::Int(i64::MIN), _) => out.push_str("(-9223372036854775807 - 1)"),
        (Value::Float(x), _) if x.is_nan() => out.push_str("(0.0 / 0.0)"),
        (Value::Float(x), _) if x.is_infinite() => out.push_str(if *x > 0.0 {
            "(1.0 / 0.0)"
        } else {
            "(-1.0 / 0.0)"
        }),
        (Value::Float(x), _) => out.push_str(&float_to_string(*x)),
        (Value::Bytes(_), _) => return Err("a `Bytes` value has no Weft literal".into()),
        (Value::List(items), TypeDesc::List(et)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                go(out, item, et, types, d)?;
            }
            out.push(']');
        }
        (Value::Map(entries), TypeDesc::Map(kt, vt)) => {
            let m = format!("__m{depth}");
            out.push_str(&format!("{{ var {m}: {} = Map.new()", type_text(ty, types)));
            for (k, v) in entries {
                out.push_str(&format!("; {m}["));
                go(out, k, kt, types, d)?;
                out.push_str("] = ");
                go(out, v, vt, types, d)?;
            }
            out.push_str(&format!("; {m} }}"));
        }
        (Value::Tuple(fields), TypeDesc::Tuple(ts)) if fields.len() == ts.len() => {
            out.push('(');
            for (i, (f, t)) in fields.iter().zip(ts).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                go(out, f, t, types, d)?;
            }
            out.push(')');
        }
        (Value::Record(fields), TypeDesc::Adt(i)) => {
            let desc = adt(types, *i).ok_or("a type missing from the manifest")?;
            let AdtShape::Record(declared) = &desc.shape else {
                return Err(format!("`{}` is not a record", desc.name));
            };
            out.push_str(base_name(&desc.name));
            out.push_str(" {");
            for (n, (f, (name, t))) in fields.iter().zip(declared).enumerate() {
                out.push_str(if n > 0 { ", " } else { " " });
                out.push_str(name);
                out.push_str(": ");
                go(out, f, t, types, d)?;
            }
            out.push_str(if fields.is_empty() { "}" } else { " }" });
        }
        (Value::Variant(index, fields), TypeDesc::Adt(i)) => {
            let desc = adt(types, *i).ok_or("a type missing from the manifest")?;
            let AdtShape::Enum(variants) = &desc.shape else {
                return Err(format!("`{}` is not an enum", desc.name));
            };
            let (name, tys) = variants
                .get(*index as usize)
                .ok_or_else(|| format!("`{}` has no variant {index}", desc.name))?;
            out.push_str(name);
            if !fields.is_empty() {
                out.push('(');
                for (n, (f, t)) in fields.iter().zip(tys).enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    go(out, f, t, types, d)?;
                }
                out.push(')');
            }
        }
        // Ints, booleans, strings (quoted and escaped), durations, units and agent
        // references show as their literals.
        (v, ty) => out.push_str(&show(v, ty, types)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::tests::{enumeration, record};

    #[test]
    fn values_become_expressions() {
        let types = vec![
            record(
                "Link",
                &[("url", TypeDesc::String), ("hits", TypeDesc::Int)],
            ),
            enumeration(
                "Option<Float>",
                &[("None", &[]), ("Some", &[TypeDesc::Float])],
            ),
        ];
        let ty = TypeDesc::Map(
            Box::new(TypeDesc::String),
            Box::new(TypeDesc::List(Box::new(TypeDesc::Adt(0)))),
        );
        let v = Value::Map(vec![(
            Value::Str("a{b}".into()),
            Value::List(vec![Value::Record(vec![
                Value::Str("u\"".into()),
                Value::Int(i64::MIN),
            ])]),
        )]);
        assert_eq!(
            to_source(&v, &ty, &types).unwrap(),
            r#"{ var __m0: Map<String, List<Link>> = Map.new(); __m0["a\{b}"] = [Link { url: "u\"", hits: (-9223372036854775807 - 1) }]; __m0 }"#
        );
        let t = TypeDesc::Tuple(vec![TypeDesc::Adt(1), TypeDesc::Adt(1), TypeDesc::Duration]);
        let v = Value::Tuple(vec![
            Value::Variant(1, vec![Value::Float(f64::INFINITY)]),
            Value::Variant(0, vec![]),
            Value::Duration(250_000_000),
        ]);
        assert_eq!(
            to_source(&v, &t, &types).unwrap(),
            "(Some((1.0 / 0.0)), None, 250ms)"
        );
        assert!(to_source(&Value::Bytes(vec![1]), &TypeDesc::Bytes, &types).is_err());
    }
}
