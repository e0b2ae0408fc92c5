//! Command-line literals: what reads, what does not and why, what `show` writes reading
//! back, and random text never panicking.

use super::*;
use crate::value::{parse_literal, show, NESTING_DEPTH_MAX};

fn ok(text: &str, ty: &TypeDesc) -> Value {
    parse_literal(text, ty, &types()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str, ty: &TypeDesc) -> String {
    match parse_literal(text, ty, &types()) {
        Ok(v) => panic!("{text} read as {v:?}"),
        Err(e) => e,
    }
}

#[test]
fn scalars() {
    use TypeDesc::*;
    assert_eq!(ok("42", &Int), Value::Int(42));
    assert_eq!(ok(" -7 ", &Int), Value::Int(-7));
    assert_eq!(ok("1_000", &Int), Value::Int(1000));
    assert_eq!(ok("0xff", &Int), Value::Int(255));
    assert_eq!(ok("-0x10", &Int), Value::Int(-16));
    assert_eq!(ok("-9223372036854775808", &Int), Value::Int(i64::MIN));
    assert_eq!(ok("2.75", &Float), Value::Float(2.75));
    assert_eq!(ok("-1e3", &Float), Value::Float(-1000.0));
    assert_eq!(ok("2.5E-1", &Float), Value::Float(0.25));
    assert_eq!(ok("5", &Float), Value::Float(5.0));
    assert_eq!(ok("-inf", &Float), Value::Float(f64::NEG_INFINITY));
    assert!(matches!(ok("NaN", &Float), Value::Float(x) if x.is_nan()));
    assert_eq!(ok("true", &Bool), Value::Bool(true));
    assert_eq!(ok("false", &Bool), Value::Bool(false));
    assert_eq!(ok("ada", &String), s("ada"));
    assert_eq!(ok("hello world", &String), s("hello world"));
    assert_eq!(
        ok(r#""a\"b\\c\n\t\r\0\{\}\u{1F600}""#, &String),
        s("a\"b\\c\n\t\r\0{}\u{1F600}")
    );
    assert_eq!(ok(r#""{x}""#, &String), s("{x}"));
    assert_eq!(ok(r#""ab""#, &Bytes), Value::Bytes(b"ab".to_vec()));
    assert_eq!(ok("()", &Unit), Value::Unit);
    assert_eq!(ok("( )", &Unit), Value::Unit);
    let d = |text| ok(text, &Duration);
    assert_eq!(d("250ms"), Value::Duration(250_000_000));
    assert_eq!(d("5s"), Value::Duration(5_000_000_000));
    assert_eq!(d("2m"), Value::Duration(120_000_000_000));
    assert_eq!(d("1h"), Value::Duration(3_600_000_000_000));
    assert_eq!(d("10us"), Value::Duration(10_000));
    assert_eq!(d("3ns"), Value::Duration(3));
    assert_eq!(d("1.5s"), Value::Duration(1_500_000_000));
    assert_eq!(d("-250ms"), Value::Duration(-250_000_000));
    assert_eq!(d("-9223372036854775808ns"), Value::Duration(i64::MIN));
    let agent = Agent("Counter".into());
    assert_eq!(
        ok("/counters/a", &agent),
        Value::Agent("/counters/a".into())
    );
    assert_eq!(
        ok(r#""/counters/a""#, &agent),
        Value::Agent("/counters/a".into())
    );
    assert_eq!(
        ok(r#"Counter("/counters/a")"#, &agent),
        Value::Agent("/counters/a".into())
    );
}

#[test]
fn compound() {
    use TypeDesc::*;
    let f = Value::Float;
    assert_eq!(
        ok("[1, 2]", &list(Int)),
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        ok("[ 1 ,2, ]", &list(Int)),
        Value::List(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(ok("[]", &list(Int)), Value::List(vec![]));
    assert_eq!(
        ok("[a, \"b c\"]", &list(String)),
        Value::List(vec![s("a"), s("b c")])
    );
    assert_eq!(
        ok(r#"{"a": 1, b: 2}"#, &map(String, Int)),
        Value::Map(vec![(s("a"), Value::Int(1)), (s("b"), Value::Int(2))])
    );
    assert_eq!(ok("{}", &map(String, Int)), Value::Map(vec![]));
    assert_eq!(
        ok(r#"(1, "a")"#, &Tuple(vec![Int, String])),
        Value::Tuple(vec![Value::Int(1), s("a")])
    );
    assert_eq!(ok("()", &Tuple(vec![])), Value::Tuple(vec![]));
    let point = Value::Record(vec![f(1.0), Value::Int(2)]);
    assert_eq!(ok("Point { x: 1.0, y: 2 }", &Adt(POINT)), point);
    assert_eq!(ok("Point{y:2,x:1}", &Adt(POINT)), point);
    assert_eq!(ok("{ x: 1, y: 2 }", &Adt(POINT)), point);
    assert_eq!(
        ok("Pair { a: 1, b: 2 }", &Adt(PAIR)),
        Value::Record(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(ok("Nothing", &Adt(NOTHING)), Value::Record(vec![]));
    assert_eq!(ok("Nothing {}", &Adt(NOTHING)), Value::Record(vec![]));
    assert_eq!(
        ok("Some(3)", &Adt(OPT_INT)),
        Value::Variant(1, vec![Value::Int(3)])
    );
    assert_eq!(ok("None", &Adt(OPT_INT)), Value::Variant(0, vec![]));
    assert_eq!(
        ok("Circle(1.5)", &Adt(SHAPE)),
        Value::Variant(0, vec![f(1.5)])
    );
    assert_eq!(
        ok("Rect(1, 2.0)", &Adt(SHAPE)),
        Value::Variant(1, vec![f(1.0), f(2.0)])
    );
    assert_eq!(ok("Empty", &Adt(SHAPE)), Value::Variant(2, vec![]));
    assert_eq!(
        ok("Node(Leaf, 1, Node(Leaf, 2, Leaf))", &Adt(TREE)),
        node(leaf(), 1, node(leaf(), 2, leaf()))
    );
    assert_eq!(
        ok(r#"[Some("x"), None, Some(y)]"#, &list(Adt(OPT_STR))),
        Value::List(vec![
            Value::Variant(1, vec![s("x")]),
            Value::Variant(0, vec![]),
            Value::Variant(1, vec![s("y")]),
        ])
    );
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    use TypeDesc::*;
    assert_eq!(
        err("abc", &Int),
        "at column 1: expected an Int, found `abc`"
    );
    assert_eq!(
        err("1.5", &Int),
        "at column 1: expected an Int, found `1.5`"
    );
    assert_eq!(
        err("99999999999999999999", &Int),
        "at column 1: this integer does not fit in an Int"
    );
    assert_eq!(
        err("0x", &Int),
        "at column 1: this hexadecimal literal has no digits"
    );
    assert_eq!(
        err("1e999", &Float),
        "at column 1: this Float is out of range"
    );
    assert_eq!(
        err("yes", &Bool),
        "at column 1: expected `true` or `false`, found `yes`"
    );
    assert_eq!(
        err("5", &Duration),
        "at column 1: expected a Duration such as `250ms` (units: ns, us, ms, s, m, h), found `5`"
    );
    assert_eq!(
        err("3000000h", &Duration),
        "at column 1: this Duration is too large"
    );
    assert_eq!(
        err("\"abc", &String),
        "at column 1: this string has no closing `\"`"
    );
    assert!(err(r#""a\qb""#, &String).starts_with("at column 3: unknown escape `\\q`"));
    assert!(err(r#""\u{110000}""#, &String).starts_with("at column 2: invalid unicode escape"));
    assert_eq!(
        err("[1, 2", &list(Int)),
        "at column 6: expected `,` or `]`, found the end of the argument"
    );
    assert_eq!(
        err("[1 2]", &list(Int)),
        "at column 4: expected `,` or `]`, found `2`"
    );
    assert_eq!(
        err("[1, x]", &list(Int)),
        "at column 5: expected an Int, found `x`"
    );
    assert_eq!(
        err("1 2", &Int),
        "at column 3: expected the end of the argument, found `2`"
    );
    assert_eq!(
        err("{a: 1, a: 2}", &map(String, Int)),
        "at column 8: this key appears twice"
    );
    assert_eq!(
        err("(1)", &Tuple(vec![Int, String])),
        "at column 4: expected 2 values, found 1"
    );
    assert_eq!(
        err("(1, a, 2)", &Tuple(vec![Int, String])),
        "at column 8: expected `)` after 2 values, found `2`"
    );
    assert_eq!(
        err("Point { x: 1.0 }", &Adt(POINT)),
        "at column 1: the field `y` of `Point` is missing"
    );
    assert_eq!(
        err("Point { x: 1, z: 2 }", &Adt(POINT)),
        "at column 15: `Point` has no field `z`"
    );
    assert_eq!(
        err("Point { x: 1, x: 2 }", &Adt(POINT)),
        "at column 15: the field `x` appears twice"
    );
    assert_eq!(
        err("Pt { x: 1, y: 2 }", &Adt(POINT)),
        "at column 1: expected a `Point` record, found `Pt`"
    );
    assert_eq!(
        err("Square(1.0)", &Adt(SHAPE)),
        "at column 1: expected a variant of `Shape` (Circle, Rect, Empty), found `Square`"
    );
    assert_eq!(
        err("Some(3)", &Adt(SHAPE)),
        "at column 1: expected a variant of `Shape` (Circle, Rect, Empty), found `Some`"
    );
    assert_eq!(
        err("Circle", &Adt(SHAPE)),
        "at column 7: expected `(`, found the end of the argument"
    );
    assert_eq!(
        err("[é, 1]", &list(Int)),
        "at column 2: expected an Int, found `é`"
    );
    assert_eq!(
        err("", &Int),
        "at column 1: expected an Int, found the end of the argument"
    );
    assert_eq!(
        err("[,]", &list(String)),
        "at column 2: expected a String, found `,`"
    );
}

#[test]
fn what_show_writes_reads_back() {
    let types = types();
    let mut rng = Rng(0x5eed_0003);
    for ty in sample_types() {
        if ty == TypeDesc::Bytes {
            continue;
        }
        for _ in 0..200 {
            let v = rng.value(&ty, &types, 0);
            let text = show(&v, &ty, &types);
            let back = parse_literal(&text, &ty, &types);
            assert_eq!(back.as_ref(), Ok(&v), "{ty:?}: {text}");
        }
    }
}

#[test]
fn nesting_is_bounded() {
    let mut ty = TypeDesc::Int;
    for _ in 0..NESTING_DEPTH_MAX {
        ty = list(ty);
    }
    let text = format!(
        "{}1{}",
        "[".repeat(NESTING_DEPTH_MAX),
        "]".repeat(NESTING_DEPTH_MAX)
    );
    assert!(parse_literal(&text, &ty, &[]).is_ok());
    let deeper = list(ty);
    let text = format!("[{text}]");
    assert!(err_of(&text, &deeper).contains("levels deep"));
    // The recursive enum, nested far deeper than allowed.
    let text = "Node(".repeat(100_000);
    assert!(err_of(&text, &TypeDesc::Adt(TREE)).contains("levels deep"));
}

fn err_of(text: &str, ty: &TypeDesc) -> String {
    parse_literal(text, ty, &types()).unwrap_err()
}

#[test]
fn random_text_never_panics() {
    let types = types();
    let tys = sample_types();
    let pieces = [
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        ",",
        ":",
        "\"",
        "\\",
        " ",
        "-",
        "+",
        "_",
        ".",
        "0",
        "1",
        "9",
        "0x",
        "e",
        "E",
        "ms",
        "s",
        "h",
        "ns",
        "us",
        "m",
        "inf",
        "NaN",
        "true",
        "false",
        "Some",
        "None",
        "Node",
        "Leaf",
        "Point",
        "x",
        "y",
        "Circle",
        "Rect",
        "Empty",
        "Counter",
        "\\u{",
        "\\n",
        "é",
        "\u{1F600}",
        "\0",
        "Nothing",
        "1e999",
        "99999999999999999999999",
    ];
    let mut rng = Rng(0xf022_0001);
    for _ in 0..600 {
        let n = rng.below(16);
        let text: std::string::String = (0..n).map(|_| *rng.pick(&pieces)).collect();
        let ty = rng.pick(&tys);
        if let Ok(v) = parse_literal(&text, ty, &types) {
            // Whatever reads shows and reads back the same (NaN aside).
            let shown = show(&v, ty, &types);
            if *ty != TypeDesc::Bytes && !shown.contains("NaN") {
                assert_eq!(
                    parse_literal(&shown, ty, &types),
                    Ok(v),
                    "{text} -> {shown}"
                );
            }
        }
    }
}
