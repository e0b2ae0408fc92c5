//! Weft syntax as `print` writes it.

use super::*;
use crate::value::{show, show_top};

#[test]
fn shows_as_weft_prints() {
    use TypeDesc::*;
    let types = types();
    let f = Value::Float;
    let d = Value::Duration;
    let cases: Vec<(TypeDesc, Value, &str)> = vec![
        (Int, Value::Int(-42), "-42"),
        (Int, Value::Int(i64::MIN), "-9223372036854775808"),
        (Float, f(2.0), "2.0"),
        (Float, f(0.1), "0.1"),
        (Float, f(1e20), "1e20"),
        (Float, f(-0.5), "-0.5"),
        (Float, f(f64::INFINITY), "inf"),
        (Float, f(f64::NEG_INFINITY), "-inf"),
        (Float, f(f64::NAN), "NaN"),
        (Bool, Value::Bool(true), "true"),
        (
            String,
            s("a\"b\\c\nd\te\rf{g}"),
            r#""a\"b\\c\nd\te\rf\{g}""#,
        ),
        (Bytes, Value::Bytes(vec![1, 2, 3]), "<3 bytes>"),
        (Unit, Value::Unit, "()"),
        (Duration, d(250_000_000), "250ms"),
        (Duration, d(2_000_000_000), "2s"),
        (Duration, d(1_500_000), "1500us"),
        (Duration, d(180_000_000_000), "3m"),
        (Duration, d(3_600_000_000_000), "1h"),
        (Duration, d(90_000_000_000), "90s"),
        (Duration, d(7), "7ns"),
        (Duration, d(-250_000_000), "-250ms"),
        (Duration, d(0), "0s"),
        (
            list(Int),
            Value::List(vec![Value::Int(1), Value::Int(2)]),
            "[1, 2]",
        ),
        (list(Int), Value::List(vec![]), "[]"),
        (
            Adt(POINT),
            Value::Record(vec![f(1.0), Value::Int(2)]),
            "Point { x: 1.0, y: 2 }",
        ),
        (
            Adt(PAIR),
            Value::Record(vec![Value::Int(1), Value::Int(2)]),
            "Pair { a: 1, b: 2 }",
        ),
        (Adt(NOTHING), Value::Record(vec![]), "Nothing"),
        (
            Adt(OPT_STR),
            Value::Variant(1, vec![s("a")]),
            r#"Some("a")"#,
        ),
        (Adt(OPT_STR), Value::Variant(0, vec![]), "None"),
        (Adt(SHAPE), Value::Variant(0, vec![f(1.5)]), "Circle(1.5)"),
        (
            Adt(SHAPE),
            Value::Variant(1, vec![f(1.0), f(2.0)]),
            "Rect(1.0, 2.0)",
        ),
        (Adt(SHAPE), Value::Variant(2, vec![]), "Empty"),
        (
            Tuple(vec![String, Int]),
            Value::Tuple(vec![s("a"), Value::Int(1)]),
            r#"("a", 1)"#,
        ),
        (Tuple(vec![Int]), Value::Tuple(vec![Value::Int(1)]), "(1)"),
        (
            map(String, Tuple(vec![Int, String, Bool])),
            Value::Map(vec![(
                s("k"),
                Value::Tuple(vec![Value::Int(1), s("x"), Value::Bool(true)]),
            )]),
            r#"{"k": (1, "x", true)}"#,
        ),
        (map(String, Int), Value::Map(vec![]), "{}"),
        (
            Agent("Counter".into()),
            Value::Agent("/counters/a".into()),
            r#"Counter("/counters/a")"#,
        ),
        (
            Adt(TREE),
            node(leaf(), 1, node(leaf(), 2, leaf())),
            "Node(Leaf, 1, Node(Leaf, 2, Leaf))",
        ),
        (
            list(Adt(OPT_STR)),
            Value::List(vec![
                Value::Variant(1, vec![s("x")]),
                Value::Variant(0, vec![]),
            ]),
            r#"[Some("x"), None]"#,
        ),
    ];
    for (ty, v, text) in &cases {
        assert_eq!(show(v, ty, &types), *text, "{v:?}");
    }
}

#[test]
fn top_level_strings_are_bare() {
    let types = types();
    assert_eq!(
        show_top(&s("a \"b\""), &TypeDesc::String, &types),
        "a \"b\""
    );
    assert_eq!(show(&s("a"), &TypeDesc::String, &types), "\"a\"");
    let l = Value::List(vec![s("a")]);
    assert_eq!(show_top(&l, &list(TypeDesc::String), &types), r#"["a"]"#);
}

#[test]
fn a_value_that_does_not_match_its_type_still_shows() {
    let types = types();
    let v = Value::Record(vec![Value::Int(1)]);
    assert_eq!(show(&v, &TypeDesc::Int, &types), "? { ?: 1 }");
    let v = Value::Variant(9, vec![Value::Int(1)]);
    assert_eq!(show(&v, &TypeDesc::Adt(SHAPE), &types), "?(1)");
    assert_eq!(
        show(&Value::Agent("/a".into()), &TypeDesc::Adt(99), &types),
        r#"?("/a")"#
    );
}
