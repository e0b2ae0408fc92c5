//! Recon text: parsing literals, printing expected strings, round trips, errors.

use crate::warp::{
    base64, parse, parse_with_depth_max, print, Item, Position, ReconError, Value,
    NESTING_DEPTH_MAX,
};

fn text(s: &str) -> Value {
    Value::text(s)
}

fn record(items: Vec<Item>) -> Value {
    Value::Record(items)
}

fn slot(key: &str, value: impl Into<Value>) -> Item {
    Item::slot(key, value)
}

fn attr(name: &str, value: Value) -> Item {
    Item::attr(name, value)
}

fn val(value: impl Into<Value>) -> Item {
    Item::value(value)
}

fn parses(input: &str, expected: Value) {
    match parse(input) {
        Ok(value) => assert_eq!(value, expected, "parsing {input:?}"),
        Err(e) => panic!("parsing {input:?}: {e}"),
    }
}

fn prints(value: Value, expected: &str) {
    assert_eq!(print(&value), expected, "printing {value:?}");
    assert_eq!(parse(expected), Ok(value), "reading back {expected:?}");
}

#[test]
fn scalars() {
    parses("", Value::Absent);
    parses("  \n ", Value::Absent);
    parses("0", Value::Int(0));
    parses("42", Value::Int(42));
    parses("-17", Value::Int(-17));
    parses("9223372036854775807", Value::Int(i64::MAX));
    parses("-9223372036854775808", Value::Int(i64::MIN));
    parses("100000000000000000000", Value::Float(1e20));
    parses("1.5", Value::Float(1.5));
    parses("-0.25", Value::Float(-0.25));
    parses("1e3", Value::Float(1000.0));
    parses("2.5E-3", Value::Float(0.0025));
    parses("1e+21", Value::Float(1e21));
    parses("0x1F", Value::Int(31));
    parses("true", Value::Bool(true));
    parses("false", Value::Bool(false));
    parses("1e999", Value::Float(f64::INFINITY));
    parses("-1e999", Value::Float(f64::NEG_INFINITY));
    parses("0xffffffffffffffff", Value::Int(-1));
    parses("0x0000001f", Value::Int(31));
    parses("0x10000000000000000", Value::Float(18446744073709551616.0));
    parses("NaN", text("NaN"));
    parses("Infinity", text("Infinity"));
    parses("hello", text("hello"));
    parses("a-b_c9", text("a-b_c9"));
    parses("été", text("été"));
    parses("\"two words\"", text("two words"));
    parses("'single'", text("single"));
    parses("\"\"", text(""));
    parses("%AAEC", Value::Data(vec![0, 1, 2]));
    parses("%AAE=", Value::Data(vec![0, 1]));
    parses("%AAE", Value::Data(vec![0, 1]));
    parses("%", Value::Data(vec![]));
}

#[test]
fn string_escapes() {
    parses(r#""a\"b\\c\/d\@e\{f\}""#, text("a\"b\\c/d@e{f}"));
    parses(r#""\b\f\n\r\t""#, text("\u{8}\u{c}\n\r\t"));
    parses(r#""\u0041\u00e9""#, text("Aé"));
    parses(r#""\ud83d\ude00""#, text("😀"));
    parses(r#"'it\'s'"#, text("it's"));
    parses("\"raw 😀 \u{1}\"", text("raw 😀 \u{1}"));
}

#[test]
fn records() {
    let ab = record(vec![slot("a", 1), slot("b", "x")]);
    parses("{a: 1, b: \"x\"}", ab.clone());
    parses("{a:1;b:x}", ab.clone());
    parses("{\n  a: 1\n  b: x\n}", ab.clone());
    parses("a: 1, b: x", ab.clone());
    parses("{a:1 # the first\n b:x}", ab);
    parses("{}", record(vec![]));
    parses("{1}", record(vec![val(1)]));
    parses("{1,}", record(vec![val(1)]));
    parses("{,}", record(vec![val(Value::Extant)]));
    parses("{,1}", record(vec![val(Value::Extant), val(1)]));
    parses("{1,,}", record(vec![val(1), val(Value::Extant)]));
    parses("{a:}", record(vec![slot("a", Value::Extant)]));
    parses("{:1}", record(vec![Item::slot(Value::Extant, 1)]));
    parses(
        "{a:{b:{c:[]}}}",
        record(vec![slot(
            "a",
            record(vec![slot("b", record(vec![slot("c", record(vec![]))]))]),
        )]),
    );
    parses(
        "{{1,2}:3}",
        record(vec![Item::slot(record(vec![val(1), val(2)]), 3)]),
    );
    parses("1, 2", record(vec![val(1), val(2)]));
}

#[test]
fn attributes() {
    parses("@a", record(vec![attr("a", Value::Extant)]));
    parses("@a()", record(vec![attr("a", Value::Extant)]));
    parses("@a(1)", record(vec![attr("a", Value::Int(1))]));
    parses(
        "@\"odd name\"",
        record(vec![attr("odd name", Value::Extant)]),
    );
    parses(
        "@a(x:1, y:2)",
        record(vec![attr("a", record(vec![slot("x", 1), slot("y", 2)]))]),
    );
    parses(
        "@a(x:1)",
        record(vec![attr("a", record(vec![slot("x", 1)]))]),
    );
    parses("@a({1})", record(vec![attr("a", record(vec![val(1)]))]));
    parses(
        "@a{b:1}",
        record(vec![attr("a", Value::Extant), slot("b", 1)]),
    );
    parses(
        "@a {b:1}",
        record(vec![attr("a", Value::Extant), slot("b", 1)]),
    );
    parses("@a 1", record(vec![attr("a", Value::Extant), val(1)]));
    parses("@a\"x\"", record(vec![attr("a", Value::Extant), val("x")]));
    parses("1@a", record(vec![val(1), attr("a", Value::Extant)]));
    parses("{1}@a", record(vec![val(1), attr("a", Value::Extant)]));
    parses(
        "@a @b(2) 3 @c",
        record(vec![
            attr("a", Value::Extant),
            attr("b", Value::Int(2)),
            val(3),
            attr("c", Value::Extant),
        ]),
    );
    parses(
        "{@a, 1}",
        record(vec![val(record(vec![attr("a", Value::Extant)])), val(1)]),
    );
    parses(
        "@event(node:\"/a\",lane:b)3",
        record(vec![
            attr("event", record(vec![slot("node", "/a"), slot("lane", "b")])),
            val(3),
        ]),
    );
    parses(
        "{k: @t(1) v}",
        record(vec![slot(
            "k",
            record(vec![attr("t", Value::Int(1)), val("v")]),
        )]),
    );
}

#[test]
fn markup() {
    parses("[hello]", record(vec![val("hello")]));
    parses("[a{1}]", record(vec![val("a"), val(1)]));
    parses(
        "[hi @em[there]!]",
        record(vec![
            val("hi "),
            val(record(vec![attr("em", Value::Extant), val("there")])),
            val("!"),
        ]),
    );
    parses(r"[a\]b\@c\nd]", record(vec![val("a]b@c\nd")]));
    parses(
        "@p[text]",
        record(vec![attr("p", Value::Extant), val("text")]),
    );
    parses(
        "[@br]",
        record(vec![val(record(vec![attr("br", Value::Extant)]))]),
    );
}

#[test]
fn printing_scalars() {
    prints(Value::Int(-3), "-3");
    prints(Value::Float(1.0), "1.0");
    prints(Value::Float(0.5), "0.5");
    prints(Value::Float(1e21), "1e21");
    prints(Value::Float(-1.5e-7), "-1.5e-7");
    prints(Value::Float(f64::INFINITY), "1e999");
    prints(Value::Float(f64::NEG_INFINITY), "-1e999");
    assert_eq!(print(&Value::Float(f64::NAN)), "NaN");
    prints(Value::Int(9_007_199_254_740_991), "9007199254740991");
    prints(Value::Int(-9_007_199_254_740_991), "-9007199254740991");
    prints(Value::Int(1 << 53), "0x0020000000000000");
    prints(Value::Int(i64::MAX), "0x7fffffffffffffff");
    prints(Value::Int(i64::MIN), "0x8000000000000000");
    prints(Value::Int(-2), "-2");
    prints(Value::Bool(false), "false");
    prints(text("bar"), "bar");
    prints(text("/unit/foo"), "\"/unit/foo\"");
    prints(text("two words"), "\"two words\"");
    prints(text(""), "\"\"");
    prints(text("true"), "\"true\"");
    prints(text("NaN"), "NaN");
    prints(text("12"), "\"12\"");
    prints(text("-x"), "\"-x\"");
    prints(text("q\"\\\n\u{1}"), "\"q\\\"\\\\\\n\\u0001\"");
    prints(Value::Data(vec![0, 1, 2, 3]), "%AAECAw==");
    prints(Value::Data(vec![]), "%");
}

#[test]
fn printing_records() {
    prints(record(vec![]), "{}");
    prints(record(vec![slot("a", 1), slot("b", "x")]), "{a:1,b:x}");
    prints(record(vec![val(1)]), "{1}");
    prints(record(vec![val(1), val(Value::Extant)]), "{1,,}");
    prints(record(vec![val(Value::Extant)]), "{,}");
    prints(record(vec![slot("a", Value::Extant)]), "{a:}");
    prints(record(vec![attr("a", Value::Extant)]), "@a");
    prints(record(vec![attr("a", Value::Int(1))]), "@a(1)");
    prints(record(vec![attr("a", record(vec![val(1)]))]), "@a({1})");
    prints(record(vec![attr("a", record(vec![]))]), "@a({})");
    prints(
        record(vec![attr("a", record(vec![val(1), val(2)]))]),
        "@a(1,2)",
    );
    prints(
        record(vec![attr("a", record(vec![slot("k", 1)]))]),
        "@a(k:1)",
    );
    prints(record(vec![attr("a", Value::Extant), val(1)]), "@a 1");
    prints(
        record(vec![attr("a", Value::Extant), val("x y")]),
        "@a\"x y\"",
    );
    prints(
        record(vec![attr("a", Value::Extant), val(1), val(2)]),
        "@a{1,2}",
    );
    prints(
        record(vec![
            attr("a", Value::Extant),
            val(record(vec![val(1), val(2)])),
        ]),
        "@a{{1,2}}",
    );
    prints(
        record(vec![
            attr("a", Value::Extant),
            val(1),
            attr("b", Value::Extant),
            val(2),
        ]),
        "@a 1@b 2",
    );
    prints(record(vec![val(1), attr("a", Value::Extant)]), "1@a");
    prints(
        record(vec![attr("odd name", Value::Extant)]),
        "@\"odd name\"",
    );
    prints(
        record(vec![slot(
            "k",
            record(vec![attr("t", Value::Extant), val("v")]),
        )]),
        "{k:@t v}",
    );
}

#[test]
fn round_trips() {
    let values = [
        Value::Int(0),
        Value::Int(i64::MIN),
        Value::Float(-0.0),
        Value::Float(123456.789),
        Value::Float(5e-324),
        Value::Float(f64::MAX),
        text("with\ttab"),
        text("😀 emoji"),
        text("Infinity"),
        text("a@b"),
        Value::Data((0..=255).collect()),
        record(vec![Item::slot(
            record(vec![attr("a", Value::Extant), val(1)]),
            2,
        )]),
        record(vec![Item::slot(Value::Extant, Value::Extant)]),
        record(vec![attr(
            "a",
            record(vec![attr("b", Value::Extant), val(1)]),
        )]),
        record(vec![attr("a", record(vec![Item::slot(Value::Extant, 1)]))]),
        record(vec![attr("a", record(vec![val(1), val(Value::Extant)]))]),
        record(vec![attr("a", Value::Extant), val(Value::Extant)]),
        record(vec![
            attr("a", Value::Extant),
            slot("x", 1),
            attr("b", text("")),
        ]),
        record(vec![
            val(Value::Float(f64::NEG_INFINITY)),
            attr("a", Value::Extant),
        ]),
        record(vec![val(Value::Data(vec![])), attr("a", Value::Extant)]),
        record(vec![attr("a", Value::Extant), val(Value::Int(-1))]),
    ];
    for value in values {
        let printed = print(&value);
        assert_eq!(parse(&printed), Ok(value), "reading back {printed:?}");
    }
}

#[test]
fn value_helpers() {
    let value = parse("@event(node:a,lane:b)@update(key:k) 1").unwrap_or_default();
    assert_eq!(value.tag(), Some("event"));
    assert_eq!(
        value.header("event").and_then(|h| h.get("lane")),
        Some(&text("b"))
    );
    assert_eq!(value.header("link"), None);
    assert_eq!(
        value.body(),
        record(vec![attr("update", record(vec![slot("key", "k")])), val(1)])
    );
    assert_eq!(parse("@a 1").unwrap_or_default().body(), Value::Int(1));
    assert_eq!(parse("@a").unwrap_or_default().body(), Value::Absent);
    assert_eq!(
        parse("@a{k:1}").unwrap_or_default().body(),
        record(vec![slot("k", 1)])
    );
    assert_eq!(
        "{a:1}".parse::<Value>().map(|v| v.to_string()),
        Ok("{a:1}".into())
    );
}

fn error_at(input: &str) -> (ReconError, Position) {
    match parse(input) {
        Ok(value) => panic!("{input:?} parsed as {value:?}"),
        Err(e) => {
            let at = e.position();
            (e, at)
        }
    }
}

#[test]
fn errors_carry_positions() {
    let (e, at) = error_at("{a:1 b}");
    assert!(
        matches!(e, ReconError::Unexpected { found: 'b', .. }),
        "{e}"
    );
    assert_eq!((at.offset, at.line, at.column), (5, 1, 6));
    assert_eq!(
        e.to_string(),
        "line 1, column 6: unexpected 'b', expected ',', ';', newline or '}'"
    );
    let (e, at) = error_at("{\n  a: 1\n");
    assert!(matches!(e, ReconError::UnexpectedEnd { .. }), "{e}");
    assert_eq!((at.line, at.column), (3, 1));
    let (e, at) = error_at("x: \"é\\q\"");
    assert!(matches!(e, ReconError::InvalidEscape { .. }), "{e}");
    assert_eq!((at.offset, at.column), (6, 6));
}

#[test]
fn error_kinds() {
    assert!(matches!(
        error_at("\"\\ud83d\"").0,
        ReconError::InvalidEscape { .. }
    ));
    assert!(matches!(
        error_at("\"\\u12\"").0,
        ReconError::InvalidEscape { .. }
    ));
    assert!(matches!(error_at("%a").0, ReconError::InvalidData { .. }));
    assert!(matches!(
        error_at("%A=AA").0,
        ReconError::InvalidData { .. }
    ));
    assert!(matches!(
        error_at("\"open").0,
        ReconError::UnexpectedEnd { .. }
    ));
    assert!(matches!(
        error_at("1 2").0,
        ReconError::Unexpected { found: '2', .. }
    ));
    assert!(matches!(error_at("1.").0, ReconError::UnexpectedEnd { .. }));
    assert!(matches!(
        error_at("1e+").0,
        ReconError::UnexpectedEnd { .. }
    ));
    assert!(matches!(
        error_at("-x").0,
        ReconError::Unexpected { found: 'x', .. }
    ));
    assert!(matches!(
        error_at("-Infinity").0,
        ReconError::Unexpected { found: 'I', .. }
    ));
    assert!(matches!(
        error_at("01").0,
        ReconError::Unexpected { found: '1', .. }
    ));
    assert!(matches!(
        error_at("@(1)").0,
        ReconError::Unexpected { found: '(', .. }
    ));
    assert!(matches!(
        error_at("@a(1").0,
        ReconError::UnexpectedEnd { .. }
    ));
    assert!(matches!(
        error_at("@a(1 2)").0,
        ReconError::Unexpected { found: '2', .. }
    ));
    assert!(matches!(
        error_at("[a}").0,
        ReconError::Unexpected { found: '}', .. }
    ));
    assert!(matches!(
        error_at("}").0,
        ReconError::Unexpected { found: '}', .. }
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let ok = format!(
        "{}{}",
        "{".repeat(NESTING_DEPTH_MAX),
        "}".repeat(NESTING_DEPTH_MAX)
    );
    assert!(parse(&ok).is_ok());
    let over = NESTING_DEPTH_MAX + 1;
    let deep = format!("{}{}", "{".repeat(over), "}".repeat(over));
    let (e, at) = error_at(&deep);
    assert!(
        matches!(
            e,
            ReconError::TooDeep {
                depth_max: NESTING_DEPTH_MAX,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(at.offset, NESTING_DEPTH_MAX);
    for unit in ["{", "[", "@a(", "@a{", "{k:", "[@a[", "@a(@b{"] {
        let input = unit.repeat(100_000);
        assert!(
            matches!(parse(&input), Err(ReconError::TooDeep { .. })),
            "{unit:?} repeated"
        );
    }
    assert!(matches!(
        parse_with_depth_max("{{}}", 1),
        Err(ReconError::TooDeep { depth_max: 1, .. })
    ));
}

#[test]
fn base64_round_trips() {
    for len in 0..20u8 {
        let bytes: Vec<u8> = (0..len)
            .map(|i| i.wrapping_mul(37).wrapping_add(len))
            .collect();
        let encoded = base64::encode(&bytes);
        assert_eq!(encoded.len() % 4, 0);
        assert_eq!(base64::decode(&encoded), Some(bytes.clone()));
        assert_eq!(base64::decode(encoded.trim_end_matches('=')), Some(bytes));
    }
    assert_eq!(base64::encode(b"Man"), "TWFu");
    assert_eq!(base64::encode(b"Ma"), "TWE=");
    assert_eq!(base64::decode("TQ=="), Some(b"M".to_vec()));
    assert_eq!(base64::decode("T==="), None);
    assert_eq!(base64::decode("TQ=a"), None);
}
