//! Sort keys order as the values do, for many random pairs of every type form.

use super::*;
use crate::value::sort_key;
use std::cmp::Ordering;

fn key(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    sort_key(v, &mut out);
    out
}

/// The natural order of two values of the same type.
fn natural(a: &Value, b: &Value) -> Ordering {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) | (Duration(x), Duration(y)) => x.cmp(y),
        (Float(x), Float(y)) => x.total_cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Str(x), Str(y)) | (Agent(x), Agent(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Bytes(x), Bytes(y)) => x.cmp(y),
        (Unit, Unit) => Ordering::Equal,
        (List(xs), List(ys)) => lexicographic(xs, ys),
        (Tuple(xs), Tuple(ys)) | (Record(xs), Record(ys)) => lexicographic(xs, ys),
        (Map(xs), Map(ys)) => {
            for ((xk, xv), (yk, yv)) in xs.iter().zip(ys) {
                let o = natural(xk, yk).then_with(|| natural(xv, yv));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        (Variant(i, xs), Variant(j, ys)) => i.cmp(j).then_with(|| lexicographic(xs, ys)),
        _ => panic!("values of different types: {a:?} {b:?}"),
    }
}

fn lexicographic(xs: &[Value], ys: &[Value]) -> Ordering {
    for (x, y) in xs.iter().zip(ys) {
        let o = natural(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    xs.len().cmp(&ys.len())
}

fn check(a: &Value, b: &Value) {
    assert_eq!(key(a).cmp(&key(b)), natural(a, b), "{a:?} vs {b:?}");
}

#[test]
fn known_orders() {
    let ints = [i64::MIN, -1_000, -1, 0, 1, 255, 256, i64::MAX].map(Value::Int);
    let floats = [
        f64::NEG_INFINITY,
        -1e300,
        -1.0,
        -f64::MIN_POSITIVE,
        -0.0,
        0.0,
        f64::MIN_POSITIVE,
        0.5,
        1.0,
        f64::INFINITY,
        f64::NAN,
    ]
    .map(Value::Float);
    let strs = [
        "", "\0", "\0\0", "\0\x01", "\x01", "a", "a\0", "a\0b", "a\x01", "ab", "b", "é",
    ]
    .map(s);
    let lists = [vec![], vec![0], vec![0, 0], vec![0, 1], vec![1], vec![1, 0]]
        .map(|v| Value::List(v.into_iter().map(Value::Int).collect()));
    for group in [&ints[..], &floats[..], &strs[..], &lists[..]] {
        for w in group.windows(2) {
            assert!(key(&w[0]) < key(&w[1]), "{:?} < {:?}", w[0], w[1]);
        }
    }
    assert!(key(&Value::Bool(false)) < key(&Value::Bool(true)));
    assert!(key(&Value::Unit).is_empty());
    // Nested strings that are prefixes of each other compare within the element.
    let pair = |a: &str, n| Value::Tuple(vec![s(a), Value::Int(n)]);
    assert!(key(&pair("a", 9)) < key(&pair("ab", 0)));
}

#[test]
fn random_pairs_order_as_their_values() {
    let types = types();
    let mut rng = Rng(0x5eed_0004);
    let mut tys = sample_types();
    tys.push(list(list(TypeDesc::String)));
    tys.push(TypeDesc::Tuple(vec![
        TypeDesc::Bytes,
        TypeDesc::Bool,
        TypeDesc::Duration,
    ]));
    for ty in &tys {
        let values: Vec<Value> = (0..60).map(|_| rng.value(ty, &types, 0)).collect();
        for a in &values {
            for b in &values {
                check(a, b);
            }
        }
    }
}

#[test]
fn distinct_values_have_distinct_keys() {
    let types = types();
    let mut rng = Rng(0x5eed_0005);
    for ty in sample_types() {
        for _ in 0..300 {
            let (a, b) = (rng.value(&ty, &types, 0), rng.value(&ty, &types, 0));
            if natural(&a, &b) != Ordering::Equal {
                assert_ne!(key(&a), key(&b), "{a:?} {b:?}");
            }
        }
    }
}
