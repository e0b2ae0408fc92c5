//! Parser tests: every construct and the newline rules (helpers shared with
//! `tests_programs.rs`).

use super::tests_print::{block, expr, item};
use super::{parse, parse_expr};
use crate::ast::{ExprKind, Item, StrPart};
use crate::diagnostic::render_all;
use crate::source::{FileId, SourceMap};

/// Parses a file that must have no errors; returns the printed items.
pub(super) fn items(src: &str) -> Vec<String> {
    let (m, diags) = parse(FileId(0), src);
    if !diags.is_empty() {
        panic!("unexpected errors:\n{}", rendered(src, &diags));
    }
    m.items.iter().map(item).collect()
}

pub(super) fn one(src: &str) -> String {
    let v = items(src);
    assert_eq!(v.len(), 1, "{v:?}");
    v[0].clone()
}

/// The printed body block of `fn t() { <src> }`.
pub(super) fn body(src: &str) -> String {
    let (m, diags) = parse(FileId(0), &format!("fn t() {{\n{src}\n}}"));
    if !diags.is_empty() {
        panic!("unexpected errors:\n{}", rendered(src, &diags));
    }
    match m.items.first() {
        Some(Item::Fn(f)) => block(&f.body),
        other => panic!("no function: {other:?}"),
    }
}

pub(super) fn ex(src: &str) -> String {
    let (e, diags) = parse_expr(FileId(0), src);
    if !diags.is_empty() {
        panic!("unexpected errors:\n{}", rendered(src, &diags));
    }
    expr(&e.expect("an expression"))
}

pub(super) fn rendered(src: &str, diags: &[crate::diagnostic::Diagnostic]) -> String {
    let mut sources = SourceMap::new();
    sources.add("test.weft", src);
    render_all(diags, &sources)
}

/// All diagnostics of a file, rendered.
pub(super) fn errors(src: &str) -> String {
    let (_, diags) = parse(FileId(0), src);
    assert!(!diags.is_empty(), "expected errors in {src:?}");
    rendered(src, &diags)
}

pub(super) fn titles(src: &str) -> Vec<String> {
    parse(FileId(0), src)
        .1
        .into_iter()
        .map(|d| d.title)
        .collect()
}

#[test]
fn literals() {
    assert_eq!(ex("42"), "42");
    assert_eq!(ex("1_000_000"), "1000000");
    assert_eq!(ex("0xff"), "255");
    assert_eq!(ex("3.14"), "3.14");
    assert_eq!(ex("1e10"), "10000000000.0");
    assert_eq!(ex("2.5e-3"), "0.0025");
    assert_eq!(ex("true"), "true");
    assert_eq!(ex("false"), "false");
    assert_eq!(ex("250ms"), "250000000ns");
    assert_eq!(ex("5s"), "5000000000ns");
    assert_eq!(ex("2m"), "120000000000ns");
    assert_eq!(ex("1h"), "3600000000000ns");
    assert_eq!(ex("10us"), "10000ns");
    assert_eq!(ex("7ns"), "7ns");
    assert_eq!(ex("1.5s"), "1500000000ns");
    assert_eq!(ex("9223372036854775807"), "9223372036854775807");
}

#[test]
fn strings() {
    assert_eq!(ex(r#""hello""#), r#""hello""#);
    assert_eq!(ex(r#""a\nb\t\"q\" \\ \{x\}""#), r#""a\nb\t\"q\" \\ {x}""#);
    assert_eq!(ex(r#""\u{1F600}""#), "\"😀\"");
    assert_eq!(
        ex(r#""count {n} of {total + 1}!""#),
        r#""count {n} of {(+ total 1)}!""#
    );
    assert_eq!(ex(r#""{a}{b}""#), r#""{a}{b}""#);
    assert_eq!(ex(r#""{f("a{1}")}""#), r#""{(call f "a{1}")}""#);
    assert_eq!(ex(r#""{ {1} }""#), r#""{{=> 1}}""#);
    let (e, _) = parse_expr(FileId(0), r#""""#);
    assert!(
        matches!(e.map(|e| e.kind), Some(ExprKind::Str(p)) if p == vec![StrPart::Lit(String::new())])
    );
    let (e, _) = parse_expr(FileId(0), r#""a{x}b""#);
    match e.map(|e| e.kind) {
        Some(ExprKind::Str(p)) => {
            assert_eq!(p.len(), 3);
            assert_eq!(p[0], StrPart::Lit("a".into()));
            assert!(matches!(&p[1], StrPart::Expr(_)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn precedence() {
    assert_eq!(ex("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(ex("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(ex("a || b && c"), "(|| a (&& b c))");
    assert_eq!(ex("a == b && c < d"), "(&& (== a b) (< c d))");
    assert_eq!(ex("-a * b"), "(* (- a) b)");
    assert_eq!(ex("!a.b()"), "(! (.b a))");
    assert_eq!(ex("a % b / c"), "(/ (% a b) c)");
    assert_eq!(ex("0..n + 1"), "(.. 0 (+ n 1))");
    assert_eq!(ex("a + b == c"), "(== (+ a b) c)");
    assert_eq!(ex("try f(x)"), "(try (call f x))");
    assert_eq!(ex("try a + b"), "(try (+ a b))");
    assert_eq!(ex("x?.y"), "(. (? x) y)");
    assert_eq!(ex("(1 + 2) * 3"), "(* (+ 1 2) 3)");
    assert_eq!(ex("a >= b"), "(>= a b)");
    assert_eq!(ex("a != b"), "(!= a b)");
}

#[test]
fn postfix() {
    assert_eq!(ex("f(1, 2)"), "(call f 1 2)");
    assert_eq!(
        ex("connect(\"a\", port: 8080)"),
        "(call connect \"a\" port=8080)"
    );
    assert_eq!(ex("xs.len()"), "(.len xs)");
    assert_eq!(ex("Map.new()"), "(.new Map)");
    assert_eq!(ex("p.x"), "(. p x)");
    assert_eq!(ex("t.0"), "(.0 t)");
    assert_eq!(ex("t.0.1"), "(.1 (.0 t))");
    assert_eq!(ex("t.1.x"), "(. (.1 t) x)");
    assert_eq!(ex("xs[i + 1]"), "(index xs (+ i 1))");
    assert_eq!(ex("m[k][j]"), "(index (index m k) j)");
    assert_eq!(ex("f(x)?"), "(? (call f x))");
    assert_eq!(ex("f(x)(y)"), "(call (call f x) y)");
    assert_eq!(ex("(p.f)(y)"), "(call (. p f) y)");
    assert_eq!(ex("http::ok(x)"), "(call http::ok x)");
    assert_eq!(ex("a.b.c(d).e"), "(. (.c (. a b) d) e)");
    assert_eq!(ex("1.max(2)"), "(.max 1 2)");
    assert_eq!(ex("f(a,)"), "(call f a)");
}

#[test]
fn primaries() {
    assert_eq!(ex("()"), "(tuple)");
    assert_eq!(ex("(a, b)"), "(tuple a b)");
    assert_eq!(ex("(a,)"), "(tuple a)");
    assert_eq!(ex("[1, 2, 3,]"), "[1, 2, 3]");
    assert_eq!(ex("[]"), "[]");
    assert_eq!(ex("Point { x: 1.0, y }"), "(Point x=1.0 y)");
    assert_eq!(ex("Point {}"), "(Point)");
    assert_eq!(ex("{ ...p, x: 3.0 }"), "(update p x=3.0)");
    assert_eq!(ex("{ ...p }"), "(update p)");
    assert_eq!(ex("Circle"), "Circle");
    assert_eq!(ex("Some(x)"), "(call Some x)");
    assert_eq!(ex("shapes::Circle(1.0)"), "(call shapes::Circle 1.0)");
    assert_eq!(ex("{ 1 }"), "{=> 1}");
    assert_eq!(ex("{}"), "{}");
}

#[test]
fn lambdas() {
    assert_eq!(ex("|x| x + 1"), "(lambda x (+ x 1))");
    assert_eq!(
        ex("|x: Int, y| -> Int { x + y }"),
        "(lambda x:Int y -> Int {=> (+ x y)})"
    );
    assert_eq!(ex("|| 42"), "(lambda 42)");
    assert_eq!(ex("|_| 0"), "(lambda _ 0)");
    assert_eq!(
        ex("xs.map(|x| x * 2).filter(|x| x > 2)"),
        "(.filter (.map xs (lambda x (* x 2))) (lambda x (> x 2)))"
    );
    assert_eq!(
        ex("xs.fold(0, |acc, x| acc + x)"),
        "(.fold xs 0 (lambda acc x (+ acc x)))"
    );
}

#[test]
fn control_flow() {
    assert_eq!(ex("if a { 1 } else { 2 }"), "(if a {=> 1} else {=> 2})");
    assert_eq!(
        ex("if a { 1 } else if b { 2 } else { 3 }"),
        "(if a {=> 1} else (if b {=> 2} else {=> 3}))"
    );
    assert_eq!(ex("if x == y { 1 }"), "(if (== x y) {=> 1})");
    assert_eq!(
        ex("if (Point { x: 1 }) == p { 1 }"),
        "(if (== (Point x=1) p) {=> 1})"
    );
    assert_eq!(
        ex("match None { None => 0, _ => 1 }"),
        "(match None (None => 0) (_ => 1))"
    );
    assert_eq!(
        ex("match s { Circle(r) => r, Rect(w, h) if w > h => w }"),
        "(match s (Circle(r) => r) (Rect(w, h) if (> w h) => w))"
    );
    assert_eq!(ex("while i < n { i += 1 }"), "(while (< i n) {i += 1})");
    assert_eq!(
        ex("for i in 0..n { f(i) }"),
        "(for i (.. 0 n) {=> (call f i)})"
    );
    assert_eq!(
        ex("for (k, v) in m.entries() { }"),
        "(for (k, v) (.entries m) {})"
    );
    assert_eq!(ex("for x in xs { break }"), "(for x xs {=> break})");
    assert_eq!(body("return"), "{=> (return)}");
    assert_eq!(body("return x + 1"), "{=> (return (+ x 1))}");
    assert_eq!(
        body("while true { continue }"),
        "{=> (while true {=> continue})}"
    );
}

#[test]
fn patterns() {
    let m = |p: &str| ex(&format!("match v {{ {p} => 0 }}"));
    assert_eq!(m("_"), "(match v (_ => 0))");
    assert_eq!(m("x"), "(match v (x => 0))");
    assert_eq!(m("-1"), "(match v (-1 => 0))");
    assert_eq!(m("2.5"), "(match v (2.5 => 0))");
    assert_eq!(m("-2.5"), "(match v (-2.5 => 0))");
    assert_eq!(m("\"text\""), "(match v (\"text\" => 0))");
    assert_eq!(m("true"), "(match v (true => 0))");
    assert_eq!(m("(a, _)"), "(match v ((a, _) => 0))");
    assert_eq!(m("()"), "(match v (() => 0))");
    assert_eq!(m("{ x, y: 0 }"), "(match v ({x, y: 0} => 0))");
    assert_eq!(m("Point { x, .. }"), "(match v (Point{x, ..} => 0))");
    assert_eq!(m("Point { .. }"), "(match v (Point{..} => 0))");
    assert_eq!(m("Circle(r)"), "(match v (Circle(r) => 0))");
    assert_eq!(m("Some(_)"), "(match v (Some(_) => 0))");
    assert_eq!(m("None"), "(match v (None => 0))");
    assert_eq!(m("shapes::Circle(r)"), "(match v (shapes::Circle(r) => 0))");
    assert_eq!(m("Some(Ok((a, b)))"), "(match v (Some(Ok((a, b))) => 0))");
}

#[test]
fn statements() {
    assert_eq!(body("let x = 1"), "{let x = 1}");
    assert_eq!(body("var x: Int = 1; x"), "{var x: Int = 1; => x}");
    assert_eq!(body("let (a, b) = pair"), "{let (a, b) = pair}");
    assert_eq!(body("let { x, y } = p"), "{let {x, y} = p}");
    assert_eq!(body("x = 1"), "{x = 1}");
    assert_eq!(body("p.x += 2.0"), "{(. p x) += 2.0}");
    assert_eq!(body("xs[i] = e"), "{(index xs i) = e}");
    assert_eq!(
        body("a -= 1; b *= 2; c /= 3; d %= 4"),
        "{a -= 1; b *= 2; c /= 3; d %= 4}"
    );
    assert_eq!(body("f(); g()"), "{(call f); => (call g)}");
    assert_eq!(body("f();"), "{(call f)}");
    assert_eq!(body(";;f();;"), "{(call f)}");
    assert_eq!(body("t.0 = 5"), "{(.0 t) = 5}");
}

#[test]
fn item_kinds() {
    assert_eq!(one("fn main() { }"), "fn main() {}");
    assert_eq!(
        one("fn connect(host: String, port: Int = 80) -> Bool { true }"),
        "fn connect(host: String, port: Int = 80) -> Bool {=> true}"
    );
    assert_eq!(
        one("fn first<T>(xs: List<T>) -> Option<T> { None }"),
        "fn first<T>(xs: List<T>) -> Option<T> {=> None}"
    );
    assert_eq!(
        one("fn unwrap_or<T>(self: Option<T>, d: T) -> T { d }"),
        "fn unwrap_or<T>(self: Option<T>, d: T) -> T {=> d}"
    );
    assert_eq!(
        one("fn push(var self: Stack, x: Int) { }"),
        "fn push(var self: Stack, x: Int) {}"
    );
    assert_eq!(one("fn f(_: Int,) { }"), "fn f(_: Int) {}");
    assert_eq!(
        one("type Point = { x: Float, y: Float }"),
        "type Point = {x: Float, y: Float}"
    );
    assert_eq!(
        one("type Pair<A, B> = { a: A, b: B, }"),
        "type Pair<A, B> = {a: A, b: B}"
    );
    assert_eq!(one("type Ids = List<Int>"), "type Ids = List<Int>");
    assert_eq!(
        one("type Grid = List<List<Int>>"),
        "type Grid = List<List<Int>>"
    );
    assert_eq!(
        one("type F = fn(Int, Int) -> Bool"),
        "type F = fn(Int, Int) -> Bool"
    );
    assert_eq!(one("type G = fn()"), "type G = fn() -> ()");
    assert_eq!(one("type T = (Int, String)"), "type T = (Int, String)");
    assert_eq!(one("type U = ()"), "type U = ()");
    assert_eq!(one("type S = shapes::Shape"), "type S = shapes::Shape");
    assert_eq!(
        one("type M = Map<String, List<(Int, Float)>>"),
        "type M = Map<String, List<(Int, Float)>>"
    );
    assert_eq!(
        one("enum Shape { Circle(Float), Rect(Float, Float), Empty }"),
        "enum Shape { Circle(Float), Rect(Float, Float), Empty }"
    );
    assert_eq!(
        one("enum Tree<T> { Leaf, Node(Tree<T>, T, Tree<T>), }"),
        "enum Tree<T> { Leaf, Node(Tree<T>, T, Tree<T>) }"
    );
    assert_eq!(one("use std::http"), "use std::http");
    assert_eq!(one("use a::{x, Y}"), "use a::{x, Y}");
    assert_eq!(
        one("use std::http::{ok, text};"),
        "use std::http::{ok, text}"
    );
    assert_eq!(
        one("test \"area\" { assert(true) }"),
        "test \"area\" {=> (call assert true)}"
    );
}

#[test]
fn doc_comments() {
    let src = "/// Adds.\n/// Twice.\nfn add() {}\n// plain\nfn b() {}\n/// A point.\ntype P = { x: Int }\n/// Shapes.\nenum S { A }";
    let (m, diags) = parse(FileId(0), src);
    assert!(diags.is_empty());
    let docs: Vec<Option<String>> = m
        .items
        .iter()
        .map(|i| match i {
            Item::Fn(f) => f.doc.clone(),
            Item::Type(t) => t.doc.clone(),
            Item::Enum(e) => e.doc.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(
        docs,
        vec![
            Some("Adds.\nTwice.".into()),
            None,
            Some("A point.".into()),
            Some("Shapes.".into())
        ]
    );
}

#[test]
fn comments() {
    assert_eq!(
        body("let x = 1 // one\n/* two\n /* nested */ */ let y = 2"),
        "{let x = 1; let y = 2}"
    );
    assert_eq!(body("f(/* a */ 1)"), "{=> (call f 1)}");
    assert_eq!(items("// only a comment\n").len(), 0);
    assert_eq!(items("").len(), 0);
}

#[test]
fn newlines_separate_statements() {
    assert_eq!(
        body("let x = 1\nlet y = x\ny"),
        "{let x = 1; let y = x; => y}"
    );
    assert_eq!(body("f()\ng()\n"), "{(call f); => (call g)}");
    assert_eq!(body("x\n-y"), "{x; => (- y)}");
    assert_eq!(body("f()\n(a, b)"), "{(call f); => (tuple a b)}");
    assert_eq!(body("f()\n[1]"), "{(call f); => [1]}");
    assert_eq!(body("return\nf()"), "{(return); => (call f)}");
    assert_eq!(body("if a { b }\nc"), "{(if a {=> b}); => c}");
    assert_eq!(
        body("while a { b }\nfor x in xs { }\nc"),
        "{(while a {=> b}); (for x xs {}); => c}"
    );
}

#[test]
fn newlines_continue_expressions() {
    assert_eq!(
        body("let y = xs\n  .map(|x| x * 2)\n  .filter(|x| x > 2)\n  .len()"),
        "{let y = (.len (.filter (.map xs (lambda x (* x 2))) (lambda x (> x 2))))}"
    );
    assert_eq!(
        body("if a {\n  1\n}\nelse {\n  2\n}"),
        "{=> (if a {=> 1} else {=> 2})}"
    );
    assert_eq!(
        body("if a {\n  1\n} else if b {\n  2\n} else {\n  3\n}"),
        "{=> (if a {=> 1} else (if b {=> 2} else {=> 3}))}"
    );
    assert_eq!(
        body("let ok = a\n  && b\n  || c"),
        "{let ok = (|| (&& a b) c)}"
    );
    assert_eq!(body("let s = a +\n  b"), "{let s = (+ a b)}");
    assert_eq!(body("let s = a\n  + b\n  * c"), "{let s = (+ a (* b c))}");
    assert_eq!(body("f(\n  1,\n  2\n)"), "{=> (call f 1 2)}");
    assert_eq!(body("let xs = [\n  1,\n  2\n]"), "{let xs = [1, 2]}");
    assert_eq!(body("let v = f(x)\n  ?"), "{let v = (? (call f x))}");
    assert_eq!(body("let x =\n  5"), "{let x = 5}");
    assert_eq!(body("for i in 0\n  ..n { }"), "{=> (for i (.. 0 n) {})}");
}

#[test]
fn newlines_in_braces() {
    assert_eq!(
        body("let p = Point {\n  x: 1.0,\n  y: 2.0,\n}"),
        "{let p = (Point x=1.0 y=2.0)}"
    );
    assert_eq!(
        body("let p = Point {\n  x: 1.0\n  y: 2.0\n}"),
        "{let p = (Point x=1.0 y=2.0)}"
    );
    assert_eq!(
        body("let q = {\n  ...p,\n  x: 3.0\n}"),
        "{let q = (update p x=3.0)}"
    );
    assert_eq!(
        body("match s {\n  Circle(r) => 3.0 * r,\n  Rect(w, h) => {\n    w * h\n  }\n  Empty => 0.0\n}"),
        "{=> (match s (Circle(r) => (* 3.0 r)) (Rect(w, h) => {=> (* w h)}) (Empty => 0.0))}"
    );
    assert_eq!(
        body("match p {\n  Point { x, .. } if x > 0 =>\n    1\n  _ => 0\n}"),
        "{=> (match p (Point{x, ..} if (> x 0) => 1) (_ => 0))}"
    );
    assert_eq!(
        one("type P = {\n  x: Float\n  y: List<Int>\n  z: Int\n}"),
        "type P = {x: Float, y: List<Int>, z: Int}"
    );
    assert_eq!(
        one("enum E {\n  A\n  B(Int)\n  C,\n}"),
        "enum E { A, B(Int), C }"
    );
    assert_eq!(one("use a::{\n  x,\n  y\n}"), "use a::{x, y}");
    assert_eq!(
        body("xs.map(|x| {\n  let y = x * 2\n  y + 1\n})"),
        "{=> (.map xs (lambda x {let y = (* x 2); => (+ y 1)}))}"
    );
    assert_eq!(
        body("print(\"a {\n  x\n}\")"),
        "{=> (call print \"a {x}\")}"
    );
}

#[test]
fn item_separators() {
    assert_eq!(
        items("fn a() {}\nfn b() {}\n\ntype T = Int\nenum E { A }\nuse x\ntest \"t\" {}").len(),
        6
    );
    assert_eq!(items("fn a() {};;fn b() {};").len(), 2);
    assert_eq!(items("fn main()\n{\n  f()\n}").len(), 1);
    assert_eq!(items("fn f() -> Int\n{\n  1\n}").len(), 1);
    assert_eq!(items("enum E\n{\n  A\n}").len(), 1);
}

#[test]
fn braces_on_their_own_line() {
    assert_eq!(
        body("print(a)\n{\n  let a = 1\n}\nprint(a)"),
        "{(call print a); {let a = 1}; => (call print a)}"
    );
    assert_eq!(body("let a = 1\n{ a }"), "{let a = 1; => {=> a}}");
    assert_eq!(
        body("if a == b\n{\n  1\n}\nelse\n{\n  2\n}"),
        "{=> (if (== a b) {=> 1} else {=> 2})}"
    );
    assert_eq!(
        body("while i < n\n{\n  i += 1\n}"),
        "{=> (while (< i n) {i += 1})}"
    );
    assert_eq!(
        body("for x in xs\n{ f(x) }\n{ g() }"),
        "{(for x xs {=> (call f x)}); => {=> (call g)}}"
    );
    assert_eq!(body("match x\n{\n  _ => 1\n}"), "{=> (match x (_ => 1))}");
    assert_eq!(
        body("if match x { _ => true }\n{ 1 }"),
        "{=> (if (match x (_ => true)) {=> 1})}"
    );
    assert_eq!(body("if a { b }\n{ c }"), "{(if a {=> b}); => {=> c}}");
}
