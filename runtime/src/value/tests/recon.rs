//! The Recon mapping both ways, through Recon text too, and its errors.

use super::*;
use crate::value::{from_recon, to_recon};
use crate::warp::{self, Item};

fn recon(text: &str) -> warp::Value {
    warp::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// `v` maps to the Recon `text`, and `text` maps back to `v`.
fn both_ways(v: &Value, ty: &TypeDesc, types: &[AdtDesc], text: &str) {
    let r = to_recon(v, ty, types);
    assert_eq!(warp::print(&r), text, "{v:?}");
    assert_eq!(from_recon(&r, ty, types).as_ref(), Ok(v), "{text}");
    assert_eq!(
        from_recon(&recon(text), ty, types).as_ref(),
        Ok(v),
        "{text}"
    );
}

#[test]
fn mapping() {
    use TypeDesc::*;
    let types = types();
    let t = &types;
    both_ways(&Value::Int(-3), &Int, t, "-3");
    both_ways(&Value::Float(1.5), &Float, t, "1.5");
    both_ways(&Value::Bool(true), &Bool, t, "true");
    both_ways(&s("a b"), &String, t, r#""a b""#);
    both_ways(&Value::Bytes(vec![1, 2, 3]), &Bytes, t, "%AQID");
    both_ways(&Value::Duration(250_000_000), &Duration, t, "250000000");
    let ints = Value::List(vec![Value::Int(1), Value::Int(2)]);
    both_ways(&ints, &list(Int), t, "{1,2}");
    both_ways(&Value::List(vec![]), &list(Int), t, "{}");
    both_ways(
        &Value::Tuple(vec![s("a"), Value::Int(1)]),
        &Tuple(vec![String, Int]),
        t,
        "{a,1}",
    );
    let m = Value::Map(vec![(s("b"), Value::Int(1)), (s("a"), Value::Int(2))]);
    both_ways(&m, &map(String, Int), t, "{b:1,a:2}");
    let p = Value::Record(vec![Value::Float(1.0), Value::Int(2)]);
    both_ways(&p, &Adt(POINT), t, "{x:1.0,y:2}");
    both_ways(&Value::Variant(2, vec![]), &Adt(SHAPE), t, "@Empty");
    both_ways(
        &Value::Variant(0, vec![Value::Float(1.5)]),
        &Adt(SHAPE),
        t,
        "@Circle(1.5)",
    );
    let rect = Value::Variant(1, vec![Value::Float(1.0), Value::Float(2.0)]);
    both_ways(&rect, &Adt(SHAPE), t, "@Rect(1.0,2.0)");
    both_ways(&Value::Variant(1, vec![s("x")]), &Adt(OPT_STR), t, "x");
    both_ways(
        &Value::Agent("/counters/a".into()),
        &Agent("Counter".into()),
        t,
        r#""/counters/a""#,
    );
    let tree = node(leaf(), 1, node(leaf(), 2, leaf()));
    both_ways(&tree, &Adt(TREE), t, "@Node(@Leaf,1,@Node(@Leaf,2,@Leaf))");
    let opts = Value::List(vec![
        Value::Variant(1, vec![Value::Int(4)]),
        Value::Variant(0, vec![]),
    ]);
    both_ways(&opts, &list(Adt(OPT_INT)), t, "{4,,}");
    // Unit and None are extant, which prints as nothing at the top.
    assert_eq!(to_recon(&Value::Unit, &Unit, t), warp::Value::Extant);
    assert_eq!(
        to_recon(&Value::Variant(0, vec![]), &Adt(OPT_STR), t),
        warp::Value::Extant
    );
}

#[test]
fn lenient_reading() {
    use TypeDesc::*;
    let types = types();
    let t = &types;
    let read = |r: &warp::Value, ty: &TypeDesc| from_recon(r, ty, t);
    assert_eq!(read(&warp::Value::Int(2), &Float), Ok(Value::Float(2.0)));
    assert_eq!(read(&warp::Value::Absent, &Unit), Ok(Value::Unit));
    assert_eq!(
        read(&warp::Value::Int(7), &list(Int)),
        Ok(Value::List(vec![Value::Int(7)]))
    );
    assert_eq!(
        read(&warp::Value::Absent, &list(Int)),
        Ok(Value::List(vec![]))
    );
    assert_eq!(
        read(&warp::Value::Extant, &map(Int, Int)),
        Ok(Value::Map(vec![]))
    );
    assert_eq!(
        read(&warp::Value::Absent, &Adt(NOTHING)),
        Ok(Value::Record(vec![]))
    );
    assert_eq!(
        read(&recon("{y:2,x:1}"), &Adt(POINT)),
        Ok(Value::Record(vec![Value::Float(1.0), Value::Int(2)]))
    );
    assert_eq!(
        read(&warp::Value::text("Empty"), &Adt(SHAPE)),
        Ok(Value::Variant(2, vec![]))
    );
    assert_eq!(
        read(&warp::Value::Absent, &Adt(OPT_STR)),
        Ok(Value::Variant(0, vec![]))
    );
}

#[test]
fn nested_options_prefer_the_outer_some() {
    let types = types();
    let t = &types;
    let some_none = Value::Variant(1, vec![Value::Variant(0, vec![])]);
    let some_some = Value::Variant(1, vec![Value::Variant(1, vec![Value::Int(3)])]);
    let outer = TypeDesc::Adt(OPT_OPT_INT);
    assert_eq!(
        to_recon(&Value::Variant(0, vec![]), &outer, t),
        warp::Value::Extant
    );
    assert_eq!(to_recon(&some_none, &outer, t), warp::Value::Extant);
    assert_eq!(from_recon(&warp::Value::Extant, &outer, t), Ok(some_none));
    assert_eq!(from_recon(&warp::Value::Int(3), &outer, t), Ok(some_some));
    let unit = TypeDesc::Adt(OPT_UNIT);
    assert_eq!(
        from_recon(&warp::Value::Extant, &unit, t),
        Ok(Value::Variant(1, vec![Value::Unit]))
    );
}

#[test]
fn random_values_survive_recon_text() {
    let types = types();
    let mut rng = Rng(0x5eed_0002);
    for ty in sample_types() {
        for _ in 0..200 {
            let v = rng.value(&ty, &types, 0);
            let r = to_recon(&v, &ty, &types);
            assert_eq!(from_recon(&r, &ty, &types).as_ref(), Ok(&v), "{ty:?}");
            // Text loses what Swim loses: NaN, and a lone extant value.
            let text = warp::print(&r);
            if text.contains("NaN") || matches!(r, warp::Value::Extant) {
                continue;
            }
            let back = from_recon(&recon(&text), &ty, &types);
            assert_eq!(back.as_ref(), Ok(&v), "{ty:?} {text}");
        }
    }
}

#[test]
fn errors_say_what_was_expected_and_found() {
    use TypeDesc::*;
    let types = types();
    let err = |text: &str, ty: &TypeDesc| from_recon(&recon(text), ty, &types).unwrap_err();
    assert_eq!(err("1.5", &Int), "expected an Int, found the Float `1.5`");
    assert_eq!(err("x", &Bool), "expected a Bool, found the text `x`");
    assert_eq!(
        err("{1,x}", &list(Int)),
        "item 1: expected an Int, found the text `x`"
    );
    assert_eq!(
        err("{x:1}", &Adt(POINT)),
        "the field `y` of `Point` is missing"
    );
    assert_eq!(
        err("{x:1,y:2,z:3}", &Adt(POINT)),
        "`Point` has no field `z`"
    );
    assert_eq!(
        err("{x:1,x:2,y:2}", &Adt(POINT)),
        "the field `x` of `Point` appears twice"
    );
    assert_eq!(
        err("{x:1,y:true}", &Adt(POINT)),
        "field `y`: expected an Int, found the Bool `true`"
    );
    assert_eq!(
        err("{a:1,a:2}", &map(String, Int)),
        "key 1: the key `a` appears twice"
    );
    assert_eq!(
        err("{1,2}", &map(Int, Int)),
        "entry 0: expected a slot `key: value`, found the Int `1`"
    );
    assert_eq!(
        err("{1,2,3}", &Tuple(vec![Int, Int])),
        "expected 2 values, found 3"
    );
    assert_eq!(
        err("@Square(1.0)", &Adt(SHAPE)),
        "`Shape` has no variant `Square` (it has Circle, Rect, Empty)"
    );
    assert_eq!(
        err("@Rect(1.0)", &Adt(SHAPE)),
        "variant `Rect`: expected 2 values, found 1"
    );
    assert_eq!(
        err("@Empty(1)", &Adt(SHAPE)),
        "variant `Empty`: expected no fields, found the Int `1`"
    );
    assert_eq!(
        err("3", &Adt(SHAPE)),
        "expected a `Shape` variant `@Name(...)`, found the Int `3`"
    );
    assert_eq!(
        err("true", &Adt(OPT_STR)),
        "expected a String (text), found the Bool `true`"
    );
    assert_eq!(err("1", &Adt(99)), "type index 99 is not in the manifest");
    let long = format!("\"{}\"", "x".repeat(100));
    assert!(err(&long, &Int).ends_with("...`"));
}

#[test]
fn recursion_is_bounded() {
    let looping = vec![enumeration(
        "Option<Loop>",
        &[("None", &[]), ("Some", &[TypeDesc::Adt(0)])],
    )];
    let err = from_recon(&warp::Value::Int(1), &TypeDesc::Adt(0), &looping).unwrap_err();
    assert!(err.contains("levels deep"), "{err}");
    let mut deep = warp::Value::Int(1);
    let mut ty = TypeDesc::Int;
    for _ in 0..(crate::value::NESTING_DEPTH_MAX + 5) {
        deep = warp::Value::record([Item::Value(deep)]);
        ty = list(ty);
    }
    assert!(from_recon(&deep, &ty, &[])
        .unwrap_err()
        .contains("levels deep"));
}
