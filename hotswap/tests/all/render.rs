//! The terminal rendering of a report.

use crate::support::*;
use weft_hotswap::check;

#[test]
fn a_breaking_change_shows_both_sides_and_its_notes() {
    let mut old = manifest(
        vec![counter().with_lane(value("count", Int)).with_method(method(
            "incr",
            vec![param("user", STRING), param("by", Int)],
            Int,
        ))],
        vec![],
    );
    old.calls
        .push(call("Counter", "incr", "main", "app.weft:30:5"));
    let mut incr = method("incr", vec![param("user", STRING)], Int);
    incr.at = "app.weft:12:5".into();
    let new = manifest(
        vec![counter()
            .with_lane(value("count", Int))
            .with_lane(value("name", STRING))
            .with_method(incr)],
        vec![],
    );
    let r = check(&old, &new);
    assert!(r.breaking());
    assert_eq!(
        r.render(),
        "\
added     lane `Counter.name: String` added; it starts at its initial value
breaking  method `Counter.incr` changed from `(user: String, by: Int) -> Int` to `(user: String) -> Int`
            still called by `main` at app.weft:30:5 in the running version
            declared at app.weft:12:5
"
    );
}

#[test]
fn no_changes_render_as_nothing() {
    let m = manifest(vec![counter().with_lane(value("count", Int))], vec![]);
    let r = check(&m, &m);
    assert!(!r.breaking());
    assert_eq!(r.render(), "");
}
