//! The wire format: exact bytes, round trips of every type form, and every way bytes can
//! be wrong.

use super::*;
use crate::value::{
    decode, decode_prefix, encode, WireError, NESTING_DEPTH_MAX, ZERO_SIZED_LEN_MAX,
};

fn bytes_of(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode(v, &mut out);
    out
}

fn round_trip(v: &Value, ty: &TypeDesc, types: &[AdtDesc]) {
    let bytes = bytes_of(v);
    let back = decode(&bytes, ty, types).unwrap_or_else(|e| panic!("{v:?} as {ty:?}: {e}"));
    assert_eq!(&back, v, "{ty:?}");
    assert_eq!(bytes_of(&back), bytes);
    assert_eq!(decode_prefix(&bytes, ty, types), Ok((back, bytes.len())));
}

#[test]
fn exact_bytes() {
    assert_eq!(bytes_of(&Value::Int(-2)), (-2i64).to_le_bytes());
    assert_eq!(bytes_of(&Value::Float(1.5)), 1.5f64.to_bits().to_le_bytes());
    assert_eq!(bytes_of(&Value::Bool(true)), [1]);
    assert_eq!(bytes_of(&Value::Unit), [0u8; 0]);
    assert_eq!(bytes_of(&s("ab")), [2, 0, 0, 0, b'a', b'b']);
    assert_eq!(
        bytes_of(&Value::List(vec![Value::Bool(false), Value::Bool(true)])),
        [2, 0, 0, 0, 0, 1]
    );
    assert_eq!(
        bytes_of(&Value::Map(vec![(s("k"), Value::Bool(true))])),
        [1, 0, 0, 0, 1, 0, 0, 0, b'k', 1]
    );
    assert_eq!(
        bytes_of(&Value::Variant(2, vec![Value::Bool(true)])),
        [2, 0, 0, 0, 1]
    );
    assert_eq!(
        bytes_of(&Value::Tuple(vec![
            Value::Bool(true),
            Value::Unit,
            Value::Bool(false)
        ])),
        [1, 0]
    );
}

#[test]
fn every_form_round_trips() {
    use TypeDesc::*;
    let types = types();
    let tree = node(
        node(leaf(), 1, leaf()),
        2,
        node(leaf(), 3, node(leaf(), 4, leaf())),
    );
    let cases = vec![
        (Int, Value::Int(i64::MIN)),
        (Float, Value::Float(-0.0)),
        (Float, Value::Float(f64::INFINITY)),
        (Bool, Value::Bool(false)),
        (String, s("héllo\0")),
        (String, s("")),
        (Bytes, Value::Bytes(vec![0, 255, 7])),
        (Unit, Value::Unit),
        (Duration, Value::Duration(-250_000_000)),
        (list(Int), Value::List(vec![])),
        (
            list(list(String)),
            Value::List(vec![Value::List(vec![s("a")]), Value::List(vec![])]),
        ),
        (
            map(String, Int),
            Value::Map(vec![(s("b"), Value::Int(1)), (s("a"), Value::Int(2))]),
        ),
        (Tuple(vec![]), Value::Tuple(vec![])),
        (
            Tuple(vec![String, Int]),
            Value::Tuple(vec![s("a"), Value::Int(1)]),
        ),
        (Adt(TREE), tree),
        (
            Adt(POINT),
            Value::Record(vec![Value::Float(1.0), Value::Int(2)]),
        ),
        (Adt(OPT_STR), Value::Variant(1, vec![s("a")])),
        (Adt(OPT_STR), Value::Variant(0, vec![])),
        (
            Adt(SHAPE),
            Value::Variant(1, vec![Value::Float(1.0), Value::Float(2.0)]),
        ),
        (Adt(NOTHING), Value::Record(vec![])),
        (Agent("Counter".into()), Value::Agent("/counters/a".into())),
        (list(Unit), Value::List(vec![Value::Unit; 3])),
    ];
    for (ty, v) in &cases {
        round_trip(v, ty, &types);
    }
}

#[test]
fn random_values_round_trip() {
    let types = types();
    let mut rng = Rng(0x5eed_0001);
    for ty in sample_types() {
        for _ in 0..200 {
            let v = rng.value(&ty, &types, 0);
            if matches!(v, Value::Float(x) if x.is_nan()) {
                continue;
            }
            round_trip(&v, &ty, &types);
        }
    }
}

#[test]
fn every_strict_prefix_is_truncated() {
    let types = types();
    let tree = node(node(leaf(), 1, leaf()), 2, leaf());
    let cases = [
        (TypeDesc::Adt(TREE), tree),
        (
            map(TypeDesc::String, TypeDesc::Int),
            Value::Map(vec![(s("ab"), Value::Int(3))]),
        ),
    ];
    for (ty, v) in cases {
        let bytes = bytes_of(&v);
        for n in 0..bytes.len() {
            let err = decode(&bytes[..n], &ty, &types).unwrap_err();
            assert!(
                matches!(
                    err,
                    WireError::Truncated { .. } | WireError::CountTooLarge { .. }
                ),
                "{n}: {err}"
            );
        }
    }
}

#[test]
fn errors() {
    use TypeDesc::*;
    let types = types();
    let d = |bytes: &[u8], ty: &TypeDesc| decode(bytes, ty, &types).unwrap_err();
    assert_eq!(
        d(&[1, 0], &Bool),
        WireError::TrailingBytes { at: 1, count: 1 }
    );
    assert_eq!(d(&[2], &Bool), WireError::BadBool { at: 0, byte: 2 });
    assert_eq!(
        d(&[1, 2, 3], &Int),
        WireError::Truncated { at: 0, needed: 5 }
    );
    assert_eq!(
        d(&[2, 0, 0, 0, 0xff, 0xfe], &String),
        WireError::BadUtf8 { at: 0 }
    );
    assert_eq!(
        d(&[1, 0, 0, 0, 0xc0], &Agent("A".into())),
        WireError::BadUtf8 { at: 0 }
    );
    assert_eq!(
        d(&[3, 0, 0, 0], &Adt(SHAPE)),
        WireError::BadVariant {
            at: 0,
            index: 3,
            count: 3,
            name: "Shape".into()
        }
    );
    assert_eq!(d(&[], &Adt(99)), WireError::UnknownType { index: 99 });
    // A hostile count: nothing is allocated for it.
    let mut huge = u32::MAX.to_le_bytes().to_vec();
    huge.extend([0; 16]);
    assert_eq!(
        d(&huge, &list(Int)),
        WireError::CountTooLarge {
            at: 0,
            count: u32::MAX,
            left: 16
        }
    );
    assert!(matches!(d(&huge, &String), WireError::CountTooLarge { .. }));
    assert!(matches!(
        d(&huge, &map(Bool, Bool)),
        WireError::CountTooLarge { .. }
    ));
    // Three Ints do not fit in 16 bytes, two do.
    assert!(matches!(
        d(
            &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &list(Int)
        ),
        WireError::CountTooLarge { .. }
    ));
    // Elements that take no bytes are capped by count alone.
    assert!(matches!(
        d(&u32::MAX.to_le_bytes(), &list(Unit)),
        WireError::CountTooLarge { .. }
    ));
    let cap = u32::try_from(ZERO_SIZED_LEN_MAX).unwrap_or(u32::MAX);
    let ok = decode(&cap.to_le_bytes(), &list(Tuple(vec![])), &types);
    assert!(matches!(ok, Ok(Value::List(items)) if items.len() == ZERO_SIZED_LEN_MAX));
}

#[test]
fn nesting_is_bounded() {
    let types = types();
    let nested = |depth: usize| {
        let mut ty = TypeDesc::Int;
        let mut bytes = Vec::new();
        for _ in 0..depth {
            ty = list(ty);
            bytes.extend(1u32.to_le_bytes());
        }
        bytes.extend(5i64.to_le_bytes());
        (ty, bytes)
    };
    let (ty, bytes) = nested(NESTING_DEPTH_MAX);
    assert!(decode(&bytes, &ty, &types).is_ok());
    let (ty, bytes) = nested(NESTING_DEPTH_MAX + 1);
    assert!(matches!(
        decode(&bytes, &ty, &types),
        Err(WireError::TooDeep { .. })
    ));
    // A deep tree of the recursive enum, built from bytes alone.
    let mut bytes = Vec::new();
    for _ in 0..100_000 {
        bytes.extend(1u32.to_le_bytes());
    }
    let err = decode(&bytes, &TypeDesc::Adt(TREE), &types).unwrap_err();
    assert!(matches!(err, WireError::TooDeep { .. }), "{err}");
    // A type that contains itself without consuming bytes ends in an error, not a crash.
    let looping = vec![record("Loop", &[("a", TypeDesc::Adt(0))])];
    let err = decode(&[], &TypeDesc::Adt(0), &looping).unwrap_err();
    assert!(matches!(err, WireError::TooDeep { .. }), "{err}");
    let err = decode(&[1, 0, 0, 0], &list(TypeDesc::Adt(0)), &looping).unwrap_err();
    assert!(matches!(err, WireError::TooDeep { .. }), "{err}");
}

#[test]
fn random_bytes_never_panic() {
    let types = types();
    let mut rng = Rng(0xdead_beef);
    let tys = sample_types();
    for _ in 0..5_000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| match rng.below(3) {
                0 => rng.below(4) as u8,
                _ => rng.next() as u8,
            })
            .collect();
        let ty = rng.pick(&tys);
        if let Ok(v) = decode(&bytes, ty, &types) {
            assert_eq!(bytes_of(&v), bytes, "{ty:?}");
        }
    }
}
