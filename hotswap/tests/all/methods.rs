//! Methods and command lanes: added, removed, and signature changes, breaking exactly
//! when the running version still calls them.

use crate::support::*;
use weft_compiler::manifest::{Manifest, MethodDesc};
use weft_hotswap::{check, Class};

fn incr_v1() -> MethodDesc {
    method("incr", vec![param("user", STRING), param("by", Int)], Int)
}

fn with_incr(m: MethodDesc) -> Manifest {
    manifest(vec![counter().with_method(m)], vec![])
}

/// `old` with a call of `Counter.incr` from `main`.
fn called(mut old: Manifest) -> Manifest {
    old.calls
        .push(call("Counter", "incr", "main", "app.weft:30:5"));
    old
}

#[test]
fn an_added_method_is_added() {
    let old = manifest(vec![counter()], vec![]);
    let r = check(&old, &with_incr(incr_v1()));
    assert_eq!(
        summary(&r),
        vec![(
            Class::Added,
            "method `Counter.incr` added: `(user: String, by: Int) -> Int`"
        )]
    );
    assert_eq!(r.changes[0].subject, "method Counter.incr");
}

#[test]
fn a_removed_method_still_called_is_breaking() {
    let r = check(
        &called(with_incr(incr_v1())),
        &manifest(vec![counter()], vec![]),
    );
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(c.message, "method `Counter.incr` removed");
    assert_eq!(
        c.notes,
        vec!["still called by `main` at app.weft:30:5 in the running version"]
    );
}

#[test]
fn a_removed_method_nobody_in_the_program_calls_is_a_warning() {
    let r = check(&with_incr(incr_v1()), &manifest(vec![counter()], vec![]));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Warning);
    assert!(c.notes[0].contains("HTTP clients"), "{:?}", c.notes);
    assert!(!r.breaking());
}

#[test]
fn a_changed_signature_still_called_is_breaking_and_names_both_sides() {
    let mut new = method("incr", vec![param("user", STRING)], Int);
    new.at = "app.weft:12:5".into();
    let r = check(&called(with_incr(incr_v1())), &with_incr(new));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.message,
        "method `Counter.incr` changed from `(user: String, by: Int) -> Int` to `(user: String) -> Int`"
    );
    assert_eq!(
        c.notes,
        vec![
            "still called by `main` at app.weft:30:5 in the running version",
            "declared at app.weft:12:5",
        ]
    );
}

#[test]
fn a_changed_signature_without_callers_is_a_warning() {
    let new = method("incr", vec![param("user", STRING), param("by", Float)], Int);
    let r = check(&with_incr(incr_v1()), &with_incr(new));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Warning);
    assert_eq!(
        c.message,
        "method `Counter.incr` changed from `(user: String, by: Int) -> Int` to `(user: String, by: Float) -> Int`"
    );
}

#[test]
fn calls_of_other_methods_or_agents_do_not_count() {
    let mut old = with_incr(incr_v1());
    old.calls
        .push(call("Counter", "reset", "main", "app.weft:1:1"));
    old.calls
        .push(call("Other", "incr", "main", "app.weft:2:1"));
    let r = check(&old, &manifest(vec![counter()], vec![]));
    assert_eq!(only(&r, "method Counter.incr").class, Class::Warning);
}

#[test]
fn new_trailing_parameters_with_defaults_are_compatible() {
    let new = method(
        "incr",
        vec![
            param("user", STRING),
            param("by", Int),
            defaulted("note", STRING),
        ],
        Int,
    );
    let r = check(&called(with_incr(incr_v1())), &with_incr(new));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Changed);
    assert!(!r.breaking());
}

#[test]
fn a_new_parameter_without_a_default_is_a_signature_change() {
    let new = method(
        "incr",
        vec![
            param("user", STRING),
            param("by", Int),
            param("note", STRING),
        ],
        Int,
    );
    let r = check(&called(with_incr(incr_v1())), &with_incr(new));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Breaking);
    assert!(
        c.notes
            .contains(&"new parameter `note` has no default".to_string()),
        "{:?}",
        c.notes
    );
}

#[test]
fn losing_a_default_is_a_signature_change() {
    let old = method(
        "incr",
        vec![param("user", STRING), defaulted("by", Int)],
        Int,
    );
    let new = method("incr", vec![param("user", STRING), param("by", Int)], Int);
    let r = check(&with_incr(old), &with_incr(new));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.class, Class::Warning);
    assert!(c
        .notes
        .contains(&"parameter `by` no longer has a default".to_string()));
}

#[test]
fn renamed_parameters_are_no_change() {
    let new = method(
        "incr",
        vec![param("who", STRING), param("amount", Int)],
        Int,
    );
    let r = check(&called(with_incr(incr_v1())), &with_incr(new));
    assert_eq!(r.changes, vec![]);
}

#[test]
fn a_changed_result_or_command_flag_is_a_signature_change() {
    let new = method("incr", vec![param("user", STRING), param("by", Int)], Float);
    let r = check(&called(with_incr(incr_v1())), &with_incr(new));
    assert_eq!(only(&r, "method Counter.incr").class, Class::Breaking);

    let old = manifest(
        vec![counter().with_method(method("post", vec![param("text", STRING)], Unit))],
        vec![],
    );
    let new = manifest(
        vec![counter().with_method(command("post", vec![param("text", STRING)]))],
        vec![],
    );
    let r = check(&old, &new);
    let c = only(&r, "method Counter.post");
    assert_eq!(
        c.message,
        "method `Counter.post` changed from method `(text: String) -> Unit` to command `(text: String)`"
    );
}

#[test]
fn commands_are_named_as_commands() {
    let old = manifest(
        vec![counter().with_method(command("post", vec![param("text", STRING)]))],
        vec![],
    );
    let r = check(&old, &manifest(vec![counter()], vec![]));
    assert_eq!(
        summary(&r),
        vec![(Class::Warning, "command `Counter.post` removed")]
    );
    assert_eq!(r.changes[0].subject, "command Counter.post");
}

#[test]
fn parameter_types_compare_structurally_across_tables() {
    let link = record("Link", &[("url", STRING)]);
    let old = manifest(
        vec![counter().with_method(method("add", vec![param("l", list(adt(1)))], Unit))],
        vec![record("Other", &[]), link.clone()],
    );
    let new = manifest(
        vec![counter().with_method(method("add", vec![param("l", list(adt(0)))], Unit))],
        vec![link],
    );
    assert_eq!(check(&old, &new).changes, vec![]);

    let wider = record_with("Link", &[("url", STRING), ("hits", Int)], &["hits"]);
    let new = manifest(
        vec![counter().with_method(method("add", vec![param("l", list(adt(0)))], Unit))],
        vec![wider],
    );
    let r = check(&old, &new);
    let c = only(&r, "method Counter.add");
    assert_eq!(
        c.message,
        "method `Counter.add` changed from `(l: List<Link>) -> Unit` to `(l: List<Link>) -> Unit`"
    );
    assert!(
        c.notes.contains(&"the shape of `Link` changed".to_string()),
        "{:?}",
        c.notes
    );
}

#[test]
fn many_call_sites_are_counted_past_the_first_few() {
    let mut old = with_incr(incr_v1());
    for line in 1..=20 {
        old.calls.push(call(
            "Counter",
            "incr",
            "main",
            &format!("app.weft:{line}:1"),
        ));
    }
    let r = check(&old, &manifest(vec![counter()], vec![]));
    let c = only(&r, "method Counter.incr");
    assert_eq!(c.notes.len(), 9);
    assert_eq!(c.notes[8], "and 12 more call sites");
}
