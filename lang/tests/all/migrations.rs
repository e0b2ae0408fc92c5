//! What the checker makes of the parts of a program a patch relies on: lane migrations
//! and their rules, record field defaults, and the defaults of agent methods' parameters.
//! The rendered diagnostics are snapshots under `tests/data/check/agents/migrations.*`
//! and `tests/data/check/defaults.*`; these tests look at the typed IR and each rule, and
//! check the examples of `docs/language.md`.

use weft_lang::tir::{self, visit, Expr, ExprKind, Program};
use weft_lang::types::Ty;

use crate::support::{errors, program};

fn func<'p>(p: &'p Program, name: &str) -> &'p tir::FuncDef {
    p.funcs
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
}

fn calls(e: &Expr, out: &mut Vec<tir::FuncId>) {
    if let ExprKind::Call { func, .. } = &e.kind {
        out.push(*func);
    }
    visit::children(e, &mut |c| calls(c, out));
}

const COUNTER: &str = r#"
fn half(x: Float) -> Float { x / 2.0 }

agent Counter at "/counters/:id" {
  value count: Float = 0.0
  map by_user: Map<String, Int>
  list log: List<String>
  migrate count(old: Int) -> Float { half(old.to_float()) * 2.0 } undo(new) { new.to_int() }
  migrate count(old: String) -> Float { old.parse_float().unwrap_or(0.0) }
  migrate by_user(old: List<String>) -> Map<String, Int> {
    var m = Map.new()
    for u in old { m[u] = 1 }
    m
  }
  undo(new) { new.keys() }
  migrate log(old: List<Int>) -> List<String> { old.map(|n| "{n}") }
  fn incr(user: String, by: Int = 1) -> Float { count += by.to_float(); count }
}
"#;

/// A text with the lines of `COUNTER`'s agent body, with `member` added.
fn counter_with(member: &str) -> String {
    COUNTER.replace("  fn incr(", &format!("  {member}\n  fn incr("))
}

#[test]
fn migrations_are_pure_functions_of_their_parameter() {
    let p = program(COUNTER);
    let a = &p.agents[0];
    let got: Vec<(u32, &Ty, bool)> = a
        .migrations
        .iter()
        .map(|m| (m.lane, &m.from, m.undo.is_some()))
        .collect();
    let strings = Ty::List(Box::new(Ty::String));
    let ints = Ty::List(Box::new(Ty::Int));
    assert_eq!(
        got,
        vec![
            (0, &Ty::Int, true),
            (0, &Ty::String, false),
            (1, &strings, true),
            (2, &ints, false),
        ]
    );
    let f = func(&p, "Counter.migrate count from Int");
    assert_eq!(f.agent, None, "a migration uses no lanes");
    assert_eq!(f.params.len(), 1, "no `self`");
    let old = &f.locals[f.params[0].0 as usize];
    assert_eq!((old.name.as_str(), &old.ty), ("old", &Ty::Int));
    assert_eq!(f.ret, Ty::Float);
    let mut called = vec![];
    calls(&f.body, &mut called);
    assert!(
        called.iter().any(|c| p.funcs[c.0 as usize].name == "half"),
        "ordinary functions may be called"
    );
    let u = func(&p, "Counter.undo count to Int");
    assert_eq!(u.agent, None);
    assert_eq!(u.locals[u.params[0].0 as usize].ty, Ty::Float);
    assert_eq!(u.ret, Ty::Int);
    let undo = func(&p, "Counter.undo by_user to List<String>");
    assert_eq!(undo.ret, strings);
    assert_eq!(
        p.funcs[a.migrations[0].func.0 as usize].name,
        "Counter.migrate count from Int"
    );
    // A migration's lambdas are lifted like any other, and use no lanes either.
    let lambda = func(&p, "Counter.migrate log from List<Int>::{closure}");
    assert_eq!(lambda.agent, None);
}

#[test]
fn a_migration_names_a_lane_of_its_agent() {
    let out = errors(&counter_with("migrate cont(old: Int) -> Float { 0.0 }"));
    assert!(out.contains("agent `Counter` has no lane `cont`"), "{out}");
    assert!(
        out.contains("its lanes are `count`, `by_user`, `log`"),
        "{out}"
    );
    let out = errors(&counter_with("migrate incr(old: Int) -> Float { 0.0 }"));
    assert!(out.contains("`incr` is a method, not a lane"), "{out}");
    let out = errors("agent A {\n  migrate v(old: Int) -> Int { old }\n}\n");
    assert!(out.contains("`A` has no value, map or list lanes"), "{out}");
    // Another agent's lane is not this one's.
    let out = errors(&format!(
        "{COUNTER}\nagent Other {{ migrate count(old: Int) -> Float {{ 0.0 }} }}\n"
    ));
    assert!(out.contains("agent `Other` has no lane `count`"), "{out}");
}

#[test]
fn a_migration_produces_the_lanes_whole_type() {
    let out = errors(&counter_with("migrate count(old: Bool) -> Int { 0 }"));
    assert!(
        out.contains("a migration must produce the lane's type"),
        "{out}"
    );
    assert!(
        out.contains("expected `Float`, the type of lane `count`, found `Int`"),
        "{out}"
    );
    // A map lane's type is the whole map, a list lane's the whole list.
    let out = errors(&counter_with("migrate by_user(old: Int) -> Int { old }"));
    assert!(out.contains("expected `Map<String, Int>`"), "{out}");
    let out = errors(&counter_with("migrate log(old: Int) -> String { \"x\" }"));
    assert!(out.contains("expected `List<String>`"), "{out}");
    // Through an alias, the same type is the same type.
    let src = format!(
        "type Counts = Map<String, Int>\n{}",
        counter_with("migrate by_user(old: Int) -> Counts { Map.new() }",)
    );
    program(&src);
}

#[test]
fn a_migration_starts_from_another_serializable_type_once() {
    let out = errors(&counter_with("migrate count(old: Float) -> Float { old }"));
    assert!(out.contains("nothing to migrate"), "{out}");
    assert!(
        out.contains("lane `count` already has type `Float`"),
        "{out}"
    );
    let out = errors(&counter_with(
        "migrate count(old: fn(Int) -> Int) -> Float { 0.0 }",
    ));
    assert!(
        out.contains("a migration's old type must be serializable"),
        "{out}"
    );
    let out = errors(&counter_with("migrate count(old: Int) -> Float { 1.0 }"));
    assert!(
        out.contains("lane `count` already has a migration from `Int`"),
        "{out}"
    );
    assert!(out.contains("the first one"), "{out}");
}

#[test]
fn migration_bodies_touch_nothing_but_their_parameter() {
    let cases = [
        ("migrate log(old: Int) -> List<String> { [\"{count}\"] }", "lane `count` cannot be used here"),
        ("migrate log(old: Int) -> List<String> { count = 1.0\n [] }", "in a migration"),
        ("migrate log(old: Int) -> List<String> { by_user[\"a\"] = old\n [] }", "lane `by_user` cannot be used here"),
        ("migrate log(old: Int) -> List<String> { log }", "lane `log` cannot be used here"),
        ("migrate log(old: Int) -> List<String> { [self.uri] }", "a migration has no `self`"),
        ("migrate log(old: Int) -> List<String> { [\"{self.incr(\"a\")}\"] }", "a migration has no `self`"),
        ("migrate log(old: Int) -> List<String> { [\"{Counter(\"/counters/b\").incr(\"a\")}\"] }", "a migration cannot call agents"),
        ("migrate log(old: Int) -> List<String> { send Counter(\"/counters/b\").incr(\"a\")\n [] }", "a migration cannot send to agents"),
        ("migrate log(old: Int) -> List<String> { [] } undo(new) { new.len() + count.to_int() }", "lane `count` cannot be used here"),
        ("migrate log(old: Int) -> List<String> { let f = |x: Int| count\n [] }", "lane `count` cannot be used here"),
    ];
    for (member, want) in cases {
        let out = errors(&counter_with(member));
        assert!(out.contains(want), "{member}:\n{out}");
    }
}

#[test]
fn agent_calls_are_found_through_ordinary_functions() {
    let src = format!(
        "{}\nfn peek() -> Float {{ Counter(\"/counters/x\").incr(\"a\") }}\nfn deeper() -> Float {{ peek() }}\n",
        counter_with("migrate log(old: Bool) -> List<String> { let f = || deeper()\n [\"{f()}\"] }")
    );
    let out = errors(&src);
    assert!(out.contains("a migration cannot call agents"), "{out}");
    assert!(
        out.contains("`deeper` leads to `peek`, which calls an agent"),
        "{out}"
    );
    assert!(out.contains("`Counter.incr` is called here"), "{out}");
    // Functions that only compute are fine, however deep.
    let src = format!(
        "{}\nfn one() -> Int {{ two() }}\nfn two() -> Int {{ 2 }}\n",
        counter_with("migrate log(old: Bool) -> List<String> { [\"{one()}\"] }")
    );
    program(&src);
}

#[test]
fn method_defaults_are_functions_the_entry_can_call() {
    let p = program(COUNTER);
    let m = &p.agents[0].methods[0];
    assert_eq!(m.defaults.len(), 2);
    assert!(m.defaults[0].is_none());
    let by = m.defaults[1].expect("`by` has a default");
    let f = &p.funcs[by.0 as usize];
    assert_eq!(
        (f.name.as_str(), f.params.len(), &f.ret, f.agent),
        ("Counter.incr default by", 0, &Ty::Int, None)
    );
    let out = errors("agent A { fn f(a: Int = 1, b: Int) -> Int { a + b } }");
    assert!(
        out.contains("parameter `b` needs a default: it follows `a`, which has one"),
        "{out}"
    );
    let out = errors("fn f(a: Int = 1, b: Int) -> Int { a + b }");
    assert!(out.contains("parameters with defaults come last"), "{out}");
    let out = errors("agent A { fn f(a: Int = \"one\") -> Int { a } }");
    assert!(out.contains("expected `Int`, found `String`"), "{out}");
    // Checked once, where it is declared, however many calls leave it out.
    let out = errors(
        "agent A { fn f(a: Int = \"one\") -> Int { a } }\nfn main() { let a = A(\"/a/1\")\n let x = a.f()\n let y = a.f() }",
    );
    assert_eq!(out.matches("mismatched types").count(), 1, "{out}");
}

#[test]
fn record_literals_fill_in_defaulted_fields() {
    let src = "type Link = { url: String, hits: Int = 0, tags: List<String> = [\"new\"] }\n\
               type Page<T> = { items: List<T> = [], title: String }\n\
               fn main() {\n  let l = Link { url: \"x\" }\n  let m = Link { url: \"y\", hits: 2 }\n  \
               let p: Page<Int> = Page { title: \"t\" }\n  print(\"{l} {m} {p}\")\n}\n";
    let p = program(src);
    let link = p.adts.iter().find(|a| a.name == "Link").expect("Link");
    let tir::AdtKind::Record(fields) = &link.kind else {
        panic!("a record")
    };
    let defaults: Vec<Option<&str>> = fields
        .iter()
        .map(|f| f.default.map(|d| p.funcs[d.0 as usize].name.as_str()))
        .collect();
    assert_eq!(
        defaults,
        vec![None, Some("default Link.hits"), Some("default Link.tags")]
    );
    let items = func(&p, "default Page.items");
    assert_eq!(items.generics, vec!["T".to_string()]);
    assert_eq!(items.ret, Ty::List(Box::new(Ty::Param(0))));
    let mut called = vec![];
    calls(&func(&p, "main").body, &mut called);
    let names: Vec<&str> = called
        .iter()
        .map(|c| p.funcs[c.0 as usize].name.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "default Link.hits",
            "default Link.tags",
            "default Link.tags",
            "default Page.items"
        ]
    );
}

#[test]
fn a_field_default_is_computed_on_its_own() {
    let out = errors("type Link = { url: String, hits: Int = \"zero\" }");
    assert!(out.contains("expected `Int`, found `String`"), "{out}");
    let out = errors("type Link = { url: String, mirror: String = url }");
    assert!(out.contains("cannot find `url` in this scope"), "{out}");
    assert!(
        out.contains("it cannot use `url` or any other field"),
        "{out}"
    );
    let out =
        errors("agent C { fn get() -> Int { 1 } }\ntype Ping = { n: Int = C(\"/c/1\").get() }");
    assert!(
        out.contains("a field's default cannot call agents"),
        "{out}"
    );
    let out = errors(
        "agent C { fn get() -> Int { 1 } }\nfn peek() -> Int { C(\"/c/1\").get() }\ntype Ping = { n: Int = peek() }",
    );
    assert!(
        out.contains("a field's default cannot call agents"),
        "{out}"
    );
    // Without a default a field must still be given.
    let out = errors("type P = { a: Int = 0, b: Int }\nfn main() { let p = P { a: 1 } }");
    assert!(out.contains("missing field `b` in `P`"), "{out}");
}

#[test]
fn a_field_default_that_needs_itself_is_refused() {
    let out = errors("type T = { a: Int = 0, t: List<T> = [T {}] }");
    assert!(out.contains("the default of `T.t` needs itself"), "{out}");
    let out = errors("type U = { u: List<U> = build() }\nfn build() -> List<U> { [U {}] }");
    assert!(out.contains("`build` leads back to it"), "{out}");
    // A literal that gives the field does not use its default.
    program("type T = { a: Int = 0, t: List<T> = [T { t: [] }] }");
}

/// Every ```weft block of the language reference is a program the checker accepts.
#[test]
fn the_reference_examples_check() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut blocks = 0;
    for block in text.split("```weft\n").skip(1) {
        let code = block.split("```").next().unwrap_or_default();
        program(code);
        blocks += 1;
    }
    assert!(blocks >= 6, "examples found: {blocks}");
}
