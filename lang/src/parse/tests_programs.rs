//! Parser tests on whole programs (LANGUAGE.md's examples, n-body, fannkuch),
//! rendered syntax errors, lexical errors and the token stream.

use super::tests::{errors, items, rendered, titles};
use super::tests_print::{expr, item};
use super::{parse, parse_expr};
use crate::ast::Item;
use crate::source::FileId;

/// An n-body style program: loops, `var` lists, indexed and field assignment.
pub(super) const NBODY: &str = r#"
type Body = { x: Float, y: Float, z: Float, vx: Float, vy: Float, vz: Float, mass: Float }

fn advance(var bodies: List<Body>, dt: Float) {
  let n = bodies.len()
  for i in 0..n {
    for j in i + 1..n {
      let dx = bodies[i].x - bodies[j].x
      let dy = bodies[i].y - bodies[j].y
      let d2 = dx * dx + dy * dy
      let mag = dt / (d2 * d2.sqrt())
      bodies[i].vx -= dx * bodies[j].mass * mag
      bodies[j].vx += dx * bodies[i].mass * mag
    }
  }
  var k = 0
  while k < n {
    var b = bodies[k]
    b.x += dt * b.vx
    bodies[k] = b
    k += 1
  }
}

fn energy(bodies: List<Body>) -> Float {
  var e = 0.0
  for b in bodies {
    e += 0.5 * b.mass * (b.vx * b.vx + b.vy * b.vy)
  }
  e
}

fn fannkuch(n: Int) -> (Int, Int) {
  var perm = [0, 1, 2]
  var count = List.filled(n, 0)
  var max_flips = 0
  var checksum = 0
  var r = n
  while true {
    while r != 1 {
      count[r - 1] = r
      r -= 1
    }
    let flips = count_flips(perm)
    if flips > max_flips { max_flips = flips }
    checksum += if count[0] % 2 == 0 { flips } else { -flips }
    if r == n { break }
  }
  (checksum, max_flips)
}

fn main() {
  var bodies = [
    Body { x: 0.0, y: 0.0, z: 0.0, vx: 0.0, vy: 0.0, vz: 0.0, mass: 39.47 },
    Body {
      x: 4.84,
      y: -1.16,
      z: -0.10,
      vx: 0.60,
      vy: 2.81,
      vz: -0.02,
      mass: 0.037,
    },
  ]
  print("{energy(bodies).to_fixed(9)}")
  for _ in 0..1000 {
    advance(bodies, 0.01)
  }
  print("{energy(bodies).to_fixed(9)}")
}
"#;

#[test]
fn nbody_and_fannkuch() {
    let v = items(NBODY);
    assert_eq!(v.len(), 5);
    assert!(v[1].contains("(index bodies k) = b"), "{}", v[1]);
    assert!(v[1].contains("(. (index bodies i) vx) -= "), "{}", v[1]);
    assert!(v[1].contains("(. b x) += (* dt (. b vx))"), "{}", v[1]);
    assert!(
        v[3].contains(
            "checksum += (if (== (% (index count 0) 2) 0) {=> flips} else {=> (- flips)})"
        ),
        "{}",
        v[3]
    );
    assert!(v[3].ends_with("=> (tuple checksum max_flips)}"), "{}", v[3]);
}

/// The code blocks of LANGUAGE.md's first half, verbatim.
#[test]
fn language_sketch_examples() {
    let src = r#"
type Point = { x: Float, y: Float }
enum Shape { Circle(Float), Rect(Float, Float), Empty }

fn area(s: Shape) -> Float {
  match s {
    Circle(r) => 3.14159 * r * r,
    Rect(w, h) => w * h,
    Empty => 0.0,
  }
}

fn first<T>(xs: List<T>) -> Option<T> {
  if xs.len() == 0 { None } else { Some(xs[0]) }
}

test "area of a square" { assert_eq(area(Rect(2.0, 2.0)), 4.0) }
"#;
    let v = items(src);
    assert_eq!(
        v,
        vec![
            "type Point = {x: Float, y: Float}",
            "enum Shape { Circle(Float), Rect(Float, Float), Empty }",
            "fn area(s: Shape) -> Float {=> (match s (Circle(r) => (* (* 3.14159 r) r)) (Rect(w, h) => (* w h)) (Empty => 0.0))}",
            "fn first<T>(xs: List<T>) -> Option<T> {=> (if (== (.len xs) 0) {=> None} else {=> (call Some (index xs 0))})}",
            "test \"area of a square\" {=> (call assert_eq (call area (call Rect 2.0 2.0)) 4.0)}",
        ]
    );
}

/// Statements in the style of the sketch's prose.
#[test]
fn language_sketch_prose() {
    let src = r#"
use std::http
use shapes::{area, Shape}

fn connect(host: String, port: Int = 80) -> Bool { true }

fn main() {
  let x = 1
  var y = 2
  y = x
  y += 1
  var p = Point { x: 1.0, y: 2.0 }
  p.x = 5.0
  let q = { ...p, x: 3.0 }
  var m = Map.new()
  m["k"] = 1
  let v = m.get("k")
  let xs = [1, 2, 3]
  for i in 0..xs.len() { print("{i}: {xs[i]}") }
  let inc = |x| x + 1
  let add = |x: Int| -> Int { x + 1 }
  connect("a", port: 8080)
  let n = "42".parse_int()?
  let r = try risky()
  let big = 64 * MiB
  let d = 250ms
  while y > 0 { y -= 1; if y == 3 { break } else { continue } }
  let { x, y: _ } = p
  match v { Some(n) if n > 0 => print("pos"), Some(_) => {}, None => return }
}
"#;
    let v = items(src);
    assert_eq!(v.len(), 4);
    assert_eq!(v[0], "use std::http");
    assert_eq!(v[1], "use shapes::{area, Shape}");
    let main = &v[3];
    for part in [
        "(index m \"k\") = 1",
        "let q = (update p x=3.0)",
        "(for i (.. 0 (.len xs)) {=> (call print \"{i}: {(index xs i)}\")})",
        "let add = (lambda x:Int -> Int {=> (+ x 1)})",
        "(call connect \"a\" port=8080)",
        "let n = (? (.parse_int \"42\"))",
        "let r = (try (call risky))",
        "let d = 250000000ns",
        "let {x, y: _} = p",
        "(None => (return))",
    ] {
        assert!(main.contains(part), "missing {part} in {main}");
    }
}

#[test]
fn error_expected_expression() {
    let src = "fn f() {\n  let x = \n}\n";
    assert_eq!(
        errors(src),
        "error: expected expression, found a newline
 --> test.weft:2:11
  |
2 |   let x = 
  |           ^ expected expression
  = hint: the expression stops at the end of the line; finish it there or wrap it in parentheses

error: could not compile due to 1 error
"
    );
}

#[test]
fn error_found_brace() {
    let src = "fn f() { g(1, }";
    assert_eq!(
        errors(src),
        "error: expected expression or `)`, found `}`
 --> test.weft:1:15
  |
1 | fn f() { g(1, }
  |               ^ unexpected `}`

error: could not compile due to 1 error
"
    );
}

#[test]
fn error_assignment_in_condition() {
    let src = "fn f() {\n  if x = 1 { }\n}";
    let out = errors(src);
    assert!(
        out.starts_with("error: expected `{`, `::` or an operator, found `=`\n"),
        "{out}"
    );
    assert!(
        out.contains("= hint: use `==` to compare; `=` assigns"),
        "{out}"
    );
}

#[test]
fn error_record_in_condition() {
    let out = errors("fn f() { if p == Point { x: 1 } { } }");
    assert!(
        out.contains("needs parentheses: `(Point { x: 1 })`"),
        "{out}"
    );
}

#[test]
fn error_not_an_item() {
    assert_eq!(
        errors("let x = 1\n"),
        "error: expected an item, found `let`
 --> test.weft:1:1
  |
1 | let x = 1
  | ^^^ expected `fn`, `type`, `enum`, `agent`, `use` or `test`
  = hint: statements belong inside a function body

error: could not compile due to 1 error
"
    );
}

#[test]
fn error_missing_brace_at_end() {
    assert_eq!(
        titles("fn f() {\n  g()\n"),
        vec!["expected `}`, found end of file"]
    );
    assert_eq!(
        titles("fn f() {\n  g(\n"),
        vec!["expected `)`, found end of file"]
    );
}

#[test]
fn errors_in_two_functions_are_both_reported() {
    let src = "fn a() {\n  let = 1\n}\n\nfn b() {\n  let y = (1 +)\n}\n\nfn c() -> Int { 3 }\n";
    let (m, diags) = parse(FileId(0), src);
    assert_eq!(diags.len(), 2, "{}", rendered(src, &diags));
    assert_eq!(m.items.len(), 3);
}

#[test]
fn errors_in_two_statements_are_both_reported() {
    let src = "fn a() {\n  let x = )\n  let y = 2\n  let z = * 3\n  z\n}\n";
    let (m, diags) = parse(FileId(0), src);
    assert_eq!(diags.len(), 2, "{}", rendered(src, &diags));
    assert_eq!(m.items.len(), 1);
    assert_eq!(item(&m.items[0]), "fn a() {let y = 2; => z}");
}

#[test]
fn missing_brace_costs_one_item() {
    let src = "fn a() {\n  if x {\n    y()\n}\n\nfn b() { 1 }\n";
    let (m, diags) = parse(FileId(0), src);
    assert_eq!(diags.len(), 1, "{}", rendered(src, &diags));
    assert!(diags[0]
        .hint
        .as_deref()
        .unwrap_or("")
        .contains("not finished"));
    assert_eq!(m.items.len(), 1);
}

#[test]
fn lexical_errors() {
    assert_eq!(
        titles("fn f() { \"abc }"),
        vec!["unterminated string", "expected `}`, found end of file"]
    );
    assert_eq!(titles("fn f() { \"\\q\" }"), vec!["unknown escape `\\q`"]);
    assert_eq!(
        titles("fn f() { \"\\u{110000}\" }"),
        vec!["invalid unicode escape"]
    );
    assert_eq!(
        titles("fn f() { 9223372036854775808 }"),
        vec!["integer literal too large"]
    );
    assert_eq!(
        titles("fn f() { 0xffffffffffffffffff }"),
        vec!["integer literal too large"]
    );
    assert_eq!(
        titles("fn f() { 1e999 }"),
        vec!["float literal out of range"]
    );
    assert_eq!(
        titles("fn f() { 5xs }"),
        vec!["invalid suffix `xs` on a number"]
    );
    assert_eq!(titles("fn f() { 0x }"), vec!["invalid hexadecimal literal"]);
    assert_eq!(
        titles("fn f() { 9999999999999h }"),
        vec!["duration literal too large"]
    );
    assert_eq!(titles("fn f() { 1 # 2 ## 3 }")[0], "invalid character");
    assert_eq!(titles("fn f() { x é }")[0], "invalid character");
    assert_eq!(
        titles("/* never closed"),
        vec!["unterminated block comment"]
    );
    assert_eq!(
        titles("fn f() { t.99999999999 }"),
        vec!["tuple index too large"]
    );
}

#[test]
fn parse_expr_api() {
    let (e, d) = parse_expr(FileId(0), "1 +\n 2\n");
    assert!(d.is_empty());
    assert_eq!(expr(&e.expect("expr")), "(+ 1 2)");
    let (e, d) = parse_expr(FileId(0), "1 +");
    assert!(e.is_none());
    assert_eq!(d.len(), 1);
}

#[test]
fn spans() {
    let src = "fn f() { a + bc }";
    let (m, _) = parse(FileId(3), src);
    let Item::Fn(f) = &m.items[0] else { panic!() };
    assert_eq!((f.span.start, f.span.end), (0, src.len() as u32));
    assert_eq!(f.span.file, FileId(3));
    let tail = f.body.tail.as_ref().expect("tail");
    assert_eq!(
        &src[tail.span.start as usize..tail.span.end as usize],
        "a + bc"
    );
    assert_eq!((f.name.span.start, f.name.span.end), (3, 4));
}

/// The token stream itself: virtual `;`, tuple indices, interpolation pieces.
#[test]
fn lexer_tokens() {
    use crate::lexer::{lex, Tok};
    let toks = |src: &str| -> Vec<Tok> {
        lex(FileId(0), src)
            .tokens
            .into_iter()
            .map(|t| t.tok)
            .collect()
    };
    let id = |s: &str| Tok::LowerIdent(s.into());
    assert_eq!(toks("a\nb"), vec![id("a"), Tok::Semi(true), id("b")]);
    assert_eq!(toks("a\n.b"), vec![id("a"), Tok::Dot, id("b")]);
    assert_eq!(
        toks("(a\nb)"),
        vec![Tok::LParen, id("a"), id("b"), Tok::RParen]
    );
    assert_eq!(
        toks("{a\n}"),
        vec![Tok::LBrace, id("a"), Tok::Semi(true), Tok::RBrace]
    );
    assert_eq!(toks("{\n}"), vec![Tok::LBrace, Tok::RBrace]);
    assert_eq!(toks("a;\nb"), vec![id("a"), Tok::Semi(false), id("b")]);
    assert_eq!(
        toks("List<Int>\nx"),
        vec![
            Tok::UpperIdent("List".into()),
            Tok::Lt,
            Tok::UpperIdent("Int".into()),
            Tok::Gt,
            Tok::Semi(true),
            id("x")
        ]
    );
    assert_eq!(
        toks("t.0.1"),
        vec![id("t"), Tok::Dot, Tok::Int(0), Tok::Dot, Tok::Int(1)]
    );
    assert_eq!(toks("0..10"), vec![Tok::Int(0), Tok::DotDot, Tok::Int(10)]);
    assert_eq!(toks("a>>b"), vec![id("a"), Tok::Gt, Tok::Gt, id("b")]);
    assert_eq!(toks("_ _x"), vec![Tok::Underscore, id("_x")]);
    assert_eq!(
        toks(r#""a{x}b{ {y} }c""#),
        vec![
            Tok::StrStart("a".into()),
            id("x"),
            Tok::StrMid("b".into()),
            Tok::LBrace,
            id("y"),
            Tok::RBrace,
            Tok::StrEnd("c".into()),
        ]
    );
    let lexed = lex(FileId(0), "/// doc\nfn f() {}");
    assert_eq!(lexed.docs.get(&8).map(String::as_str), Some("doc"));
}
