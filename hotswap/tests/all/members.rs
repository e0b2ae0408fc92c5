//! Demands, timers and `on start`: nothing stored and no caller in the program, so
//! nothing about them is breaking.

use crate::support::*;
use weft_hotswap::{check, Class, LaneAction};

#[test]
fn demands_added_removed_and_retyped() {
    let old = manifest(
        vec![counter()
            .with_demand("doubled", Int)
            .with_demand("name", STRING)],
        vec![],
    );
    let new = manifest(
        vec![counter()
            .with_demand("doubled", Float)
            .with_demand("total", Int)],
        vec![],
    );
    let r = check(&old, &new);
    assert_eq!(
        summary(&r),
        vec![
            (
                Class::Warning,
                "demand `Counter.doubled` changed from `Int` to `Float`"
            ),
            (Class::Added, "demand `Counter.total: Int` added"),
            (Class::Warning, "demand `Counter.name` removed"),
        ]
    );
    assert_eq!(r.changes[0].subject, "demand Counter.doubled");
    assert_eq!(r.changes[2].notes, vec!["clients linked to it lose it"]);
    assert!(!r.breaking());
}

#[test]
fn timers_match_by_period() {
    let old = manifest(
        vec![counter().with_timer(5_000_000_000).with_timer(250_000_000)],
        vec![],
    );
    let new = manifest(
        vec![counter().with_timer(250_000_000).with_timer(60_000_000_000)],
        vec![],
    );
    let r = check(&old, &new);
    assert_eq!(
        summary(&r),
        vec![
            (Class::Added, "timer `every 1m` added to `Counter`"),
            (Class::Changed, "timer `every 5s` of `Counter` removed"),
        ]
    );
    assert_eq!(r.changes[0].subject, "timer Counter.every 1m");
    assert!(!r.breaking());
}

#[test]
fn on_start_added_and_removed() {
    let without = manifest(vec![counter()], vec![]);
    let with = manifest(vec![counter().with_on_start()], vec![]);
    let r = check(&without, &with);
    assert_eq!(
        summary(&r),
        vec![(Class::Added, "`on start` added to `Counter`")]
    );
    assert_eq!(r.changes[0].subject, "on start Counter");
    let r = check(&with, &without);
    assert_eq!(
        summary(&r),
        vec![(Class::Changed, "`on start` of `Counter` removed")]
    );
}

#[test]
fn none_of_them_touch_the_lane_plan() {
    let old = manifest(
        vec![counter()
            .with_lane(value("count", Int))
            .with_demand("d", Int)],
        vec![],
    );
    let new = manifest(
        vec![counter().with_lane(value("count", Int)).with_timer(1_000)],
        vec![],
    );
    let r = check(&old, &new);
    assert!(!r.breaking());
    assert_eq!(action(&r, "Counter", "count"), &LaneAction::Keep);
}
