//! Parser tests for what a patch relies on: `migrate` members with their `undo` clause,
//! and record fields with defaults.

use super::parse;
use super::tests::{errors, one, rendered, titles};
use crate::ast::{Item, Member};
use crate::source::FileId;

#[test]
fn a_migration_with_undo_on_the_same_line() {
    assert_eq!(
        one("agent Counter {\n  value count: Float = 0.0\n  migrate count(old: Int) -> Float { old.to_float() } undo(new) { new.to_int() }\n}"),
        "agent Counter { value count: Float = 0.0; \
         migrate count(old: Int) -> Float {=> (.to_float old)} undo(new) {=> (.to_int new)} }"
    );
}

#[test]
fn undo_on_its_own_line_belongs_to_the_migration_before_it() {
    let src = "agent A {\n  list log: List<String>\n  migrate log(old: String) -> List<String> {\n    [old]\n  }\n  undo(new) {\n    new[0]\n  }\n  migrate log(old: Int) -> List<String> { [\"{old}\"] }\n}";
    assert_eq!(
        one(src),
        "agent A { list log: List<String>; \
         migrate log(old: String) -> List<String> {=> [old]} undo(new) {=> (index new 0)}; \
         migrate log(old: Int) -> List<String> {=> [\"{old}\"]} }"
    );
    let (m, _) = parse(FileId(0), src);
    let Some(Item::Agent(a)) = m.items.first() else {
        panic!("no agent");
    };
    let Member::Migrate(mg) = &a.members[1] else {
        panic!("not a migration: {:?}", a.members[1]);
    };
    // The member's span ends with its own body; the clause has its own.
    assert_eq!(&src[mg.span.start as usize..][..7], "migrate");
    assert!(mg.undo.as_ref().is_some_and(|u| u.span.start > mg.span.end));
}

#[test]
fn migrate_and_undo_stay_ordinary_names() {
    assert_eq!(
        one("fn f(migrate: Int) -> Int { let undo = migrate; undo(1) }"),
        "fn f(migrate: Int) -> Int {let undo = migrate; => (call undo 1)}"
    );
    assert_eq!(
        one("agent A { fn undo(migrate: Int) { } }"),
        "agent A { fn undo(migrate: Int) {} }"
    );
}

#[test]
fn malformed_migrations_are_reported_and_the_rest_parses() {
    let t = |src: &str| titles(&format!("agent A {{\n  value v: Int = 0\n  {src}\n}}"));
    assert_eq!(
        t("migrate v(old: String) { 0 }"),
        vec!["a migration of `v` needs the type it produces"]
    );
    assert_eq!(
        t("migrate v() -> Int { 0 }"),
        vec!["a migration takes the old value"]
    );
    assert_eq!(
        t("migrate v(old: Bool, extra: Int) -> Int { 0 }"),
        vec!["a migration takes one parameter"]
    );
    assert_eq!(
        t("migrate v(old: Float = 1.0) -> Int { 0 }"),
        vec!["a migration's parameter has no default"]
    );
    assert_eq!(
        t("migrate v(old: Bool) -> Int { 0 } redo(n) { true }"),
        vec!["expected `undo`"]
    );
    assert_eq!(
        t("command c() { } undo(n) { }"),
        vec!["only a migration has `undo`"]
    );
    assert_eq!(
        t("fn f() { }\n  undo(n) { }"),
        vec!["`undo` without a migration"]
    );
    assert_eq!(
        t("migrate v(old: Bool) -> Int { 0 } undo(n) { true }\n  undo(m) { false }"),
        vec!["a migration has one `undo`"]
    );
    assert_eq!(t("oops(n) { }"), vec!["expected a member of an agent"]);
    let src = "agent A {\n  value v: Int = 0\n  migrate v(old: String) { 0 }\n  fn f() {}\n}\nfn main() {}\n";
    let (m, diags) = parse(FileId(0), src);
    assert_eq!(m.items.len(), 2, "{}", rendered(src, &diags));
    let Some(Item::Agent(a)) = m.items.first() else {
        panic!("no agent");
    };
    assert_eq!(a.members.len(), 2);
    assert_eq!(
        errors("agent A {\n  undo(n) { }\n}"),
        "error: `undo` without a migration
 --> test.weft:2:3
  |
2 |   undo(n) { }
  |   ^^^^^^^^^^^ not right after a `migrate` member
  = hint: write `undo(new) { ... }` right after the `migrate` it reverses

error: could not compile due to 1 error
"
    );
}

#[test]
fn record_fields_take_defaults() {
    assert_eq!(
        one("type Link = { url: String, hits: Int = 0, tags: List<String> = [\"a\"] }"),
        "type Link = {url: String, hits: Int = 0, tags: List<String> = [\"a\"]}"
    );
    assert_eq!(
        one("type Page<T> = {\n  items: List<T> = []\n  title: String = \"{1 + 2}\"\n}"),
        "type Page<T> = {items: List<T> = [], title: String = \"{(+ 1 2)}\"}"
    );
    // A record literal as a default, and a block.
    assert_eq!(
        one("type Box = { p: P = P { x: 1 }, n: Int = { 1 } }"),
        "type Box = {p: P = (P x=1), n: Int = {=> 1}}"
    );
}
