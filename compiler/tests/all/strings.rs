//! Strings: literals, interpolation, concatenation, comparison, methods, to_string.

use crate::build::*;
use crate::harness::*;
use weft_lang::ast::BinOp;
use weft_lang::tir::Intrinsic as I;
use weft_lang::types::Ty;

fn s_list() -> Ty {
    Ty::list(Ty::String)
}

#[test]
fn interpolation_and_concat() {
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let name = f.val("name", Ty::String);
    let body = stmts(vec![
        let_(name, add(st("we"), st("ft"))),
        print(interp(vec![
            st("hello "),
            f.get(name),
            st(", n="),
            tostr(int(42)),
            st(" x="),
            tostr(float(2.5)),
        ])),
        print(interp(vec![
            tostr(boolean(true)),
            st("/"),
            tostr(dur(60_000_000_000)),
        ])),
        show(lt(st("apple"), st("banana"))),
        show(bin(BinOp::Ge, st("b"), st("ab"))),
        show(eq(add(st("a"), st("b")), st("ab"))),
        show(bin(BinOp::Ne, st("a"), st("b"))),
        print(add(st(""), st("empty left"))),
    ]);
    p.main(f, body);
    assert_eq!(
        out(&p.prog),
        [
            "hello weft, n=42 x=2.5",
            "true/1m",
            "true",
            "true",
            "true",
            "true",
            "empty left"
        ]
    );
}

#[test]
fn methods() {
    let mut p = P::new();
    let f = F::new("main", Ty::Unit);
    let oi = option(Ty::Int);
    let body = stmts(vec![
        show(intr(I::StrLen, vec![st("héllo")], Ty::Int)),
        show(intr(I::StrSplit, vec![st("a,b,,c"), st(",")], s_list())),
        print(intr(I::StrTrim, vec![st("  padded \n")], Ty::String)),
        show(intr(
            I::StrContains,
            vec![st("haystack"), st("st")],
            Ty::Bool,
        )),
        show(intr(
            I::StrContains,
            vec![st("haystack"), st("needle")],
            Ty::Bool,
        )),
        show(intr(
            I::StrStartsWith,
            vec![st("haystack"), st("hay")],
            Ty::Bool,
        )),
        show(intr(
            I::StrEndsWith,
            vec![st("haystack"), st("hay")],
            Ty::Bool,
        )),
        print(intr(I::StrToUpper, vec![st("MiXed 1")], Ty::String)),
        print(intr(I::StrToLower, vec![st("MiXed 1")], Ty::String)),
        show(intr(I::StrParseInt, vec![st("-123")], oi.clone())),
        show(intr(I::StrParseInt, vec![st("12x")], oi.clone())),
        show(intr(
            I::StrParseInt,
            vec![st("-9223372036854775808")],
            oi.clone(),
        )),
        show(intr(
            I::StrParseInt,
            vec![st("9223372036854775808")],
            oi.clone(),
        )),
        show(intr(I::StrParseFloat, vec![st("2.5")], option(Ty::Float))),
        print(intr(
            I::StrReplace,
            vec![st("a-b-c"), st("-"), st("+")],
            Ty::String,
        )),
        print(intr(
            I::StrSubstring,
            vec![st("héllo"), int(1), int(3)],
            Ty::String,
        )),
        show(intr(I::StrIndexOf, vec![st("héllo"), st("l")], oi.clone())),
        show(intr(I::StrIndexOf, vec![st("hello"), st("z")], oi)),
        print(intr(I::StrRepeat, vec![st("ab"), int(3)], Ty::String)),
        show(intr(I::StrChars, vec![st("hé!")], s_list())),
        print(intr(
            I::ListJoin,
            vec![list(Ty::String, vec![st("x"), st("y"), st("z")]), st(", ")],
            Ty::String,
        )),
        show(st("quote\"d\n")),
        print(tostr(st("top-level string is unquoted"))),
        show(list(Ty::String, vec![st("q\"")])),
        print(intr(
            I::FloatToFixed,
            vec![float(1.23456), int(2)],
            Ty::String,
        )),
        show(intr(I::Hash, vec![st("abc")], Ty::Int)),
    ]);
    p.main(f, body);
    let o = out(&p.prog);
    let expect = [
        "5",
        r#"["a", "b", "", "c"]"#,
        "padded",
        "true",
        "false",
        "true",
        "false",
        "MIXED 1",
        "mixed 1",
        "Some(-123)",
        "None",
        "Some(-9223372036854775808)",
        "None",
        "Some(2.5)",
        "a+b+c",
        "él",
        "Some(2)",
        "None",
        "ababab",
        r#"["h", "é", "!"]"#,
        "x, y, z",
        "quote\"d\n",
        "top-level string is unquoted",
        r#"["q\""]"#,
        "1.23",
    ];
    assert_eq!(&o[..expect.len()], &expect[..]);
    assert_eq!(o.len(), expect.len() + 1);
}
