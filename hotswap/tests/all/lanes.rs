//! Lanes: added, removed, kept, migrated by a matching `migrate`, or refused.

use crate::support::*;
use weft_compiler::manifest::{LaneKind, Manifest, TypeDesc};
use weft_hotswap::{check, Class, LaneAction};

fn count(ty: TypeDesc) -> Manifest {
    manifest(vec![counter().with_lane(value("count", ty))], vec![])
}

#[test]
fn an_added_lane_starts_at_its_initial_value() {
    let old = manifest(vec![counter()], vec![]);
    let r = check(&old, &count(Int));
    assert_eq!(
        summary(&r),
        vec![(
            Class::Added,
            "lane `Counter.count: Int` added; it starts at its initial value"
        )]
    );
    assert_eq!(r.changes[0].subject, "lane Counter.count");
    assert_eq!(action(&r, "Counter", "count"), &LaneAction::Add);
}

#[test]
fn a_removed_lane_keeps_its_data_until_pruned() {
    let r = check(&count(Int), &manifest(vec![counter()], vec![]));
    assert_eq!(
        summary(&r),
        vec![(
            Class::Warning,
            "lane `Counter.count` removed; its stored data is kept until pruned"
        )]
    );
    assert_eq!(action(&r, "Counter", "count"), &LaneAction::Remove);
    assert!(!r.breaking());
}

#[test]
fn the_same_type_keeps_its_bytes() {
    let ty = map(STRING, tuple(&[Int, list(Bool)]));
    let r = check(&count(ty.clone()), &count(ty));
    assert_eq!(r.changes, vec![]);
    assert_eq!(action(&r, "Counter", "count"), &LaneAction::Keep);
}

#[test]
fn the_same_record_at_other_indices_keeps_its_bytes() {
    let link = record("Link", &[("url", STRING), ("tag", adt(2))]);
    let old = manifest(
        vec![counter().with_lane(value("links", list(adt(1))))],
        vec![
            record("A", &[]),
            link,
            enum_("Tag", &[("Red", &[]), ("Blue", &[])]),
        ],
    );
    let link = record("Link", &[("url", STRING), ("tag", adt(0))]);
    let new = manifest(
        vec![counter().with_lane(value("links", list(adt(1))))],
        vec![enum_("Tag", &[("Red", &[]), ("Blue", &[])]), link],
    );
    let r = check(&old, &new);
    assert_eq!(r.changes, vec![]);
    assert_eq!(action(&r, "Counter", "links"), &LaneAction::Keep);
}

#[test]
fn a_changed_type_without_a_migration_is_breaking() {
    let r = check(&count(Int), &count(Float));
    assert!(r.breaking());
    let c = only(&r, "lane Counter.count");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.message,
        "lane `Counter.count` type changed from `Int` to `Float` without a migration"
    );
    assert_eq!(
        c.notes,
        vec!["declare `migrate count(old: Int) -> Float { ... }` in agent `Counter`"]
    );
    assert_eq!(
        action(&r, "Counter", "count"),
        &LaneAction::Convert {
            from: Int,
            to: Float
        }
    );
}

#[test]
fn a_migration_from_the_stored_type_migrates() {
    let mut m = migration("count", Int, "app.weft:7:3");
    m.undo = Some("agent Counter.undo count".into());
    let new = manifest(
        vec![counter().with_lane(value("count", Float)).with_migration(m)],
        vec![],
    );
    let r = check(&count(Int), &new);
    assert_eq!(
        summary(&r),
        vec![(
            Class::Changed,
            "lane `Counter.count` changed from `Int` to `Float`, migrated by `migrate count` at app.weft:7:3"
        )]
    );
    assert_eq!(
        action(&r, "Counter", "count"),
        &LaneAction::Migrate {
            export: "agent Counter.migrate count".into(),
            undo: Some("agent Counter.undo count".into()),
            from: Int,
        }
    );
}

#[test]
fn a_migration_from_another_type_does_not_apply() {
    // Left over from an earlier patch (String to Int), while the stored type is Int.
    let new = manifest(
        vec![counter()
            .with_lane(value("count", Float))
            .with_migration(migration("count", STRING, "app.weft:7:3"))],
        vec![],
    );
    let r = check(&count(Int), &new);
    let c = only(&r, "lane Counter.count");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.notes,
        vec![
            "`migrate count` at app.weft:7:3 migrates from `String`, not from the stored `Int`",
            "declare `migrate count(old: Int) -> Float { ... }` in agent `Counter`",
        ]
    );
}

#[test]
fn a_migration_left_over_from_an_earlier_patch_leaves_the_same_type_alone() {
    let old = manifest(
        vec![counter()
            .with_lane(value("count", Float))
            .with_migration(migration("count", Int, ""))],
        vec![],
    );
    let r = check(&old, &old.clone());
    assert_eq!(r.changes, vec![]);
    assert_eq!(action(&r, "Counter", "count"), &LaneAction::Keep);
    // Even one that migrates from the stored type: the type is the same, nothing runs.
    let new = manifest(
        vec![counter()
            .with_lane(value("count", Float))
            .with_migration(migration("count", Float, ""))],
        vec![],
    );
    assert_eq!(
        action(&check(&old, &new), "Counter", "count"),
        &LaneAction::Keep
    );
}

#[test]
fn a_migration_matches_a_record_structurally_across_tables() {
    // The old lane stores `Link { url }`; the new program names the old shape in its
    // migration (here at index 1 of its own table) and stores `Link { url, hits }`
    // without a default for `hits`, so only the migration gets it across.
    let old = manifest(
        vec![counter().with_lane(value("links", list(adt(0))))],
        vec![record("Link", &[("url", STRING)])],
    );
    let new = manifest(
        vec![counter()
            .with_lane(value("links", list(adt(0))))
            .with_migration(migration("links", list(adt(1)), ""))],
        vec![
            record("Link", &[("url", STRING), ("hits", Int)]),
            record("Link", &[("url", STRING)]),
        ],
    );
    let r = check(&old, &new);
    assert_eq!(
        summary(&r),
        vec![(
            Class::Changed,
            "lane `Counter.links` changed from `List<Link>` to `List<Link>`, migrated by `migrate links`"
        )]
    );
    assert!(
        matches!(action(&r, "Counter", "links"), LaneAction::Migrate { from, .. } if *from == list(adt(0)))
    );
}

#[test]
fn a_changed_lane_kind_is_a_type_change() {
    let old = manifest(
        vec![counter().with_lane(value("scores", map(STRING, Int)))],
        vec![],
    );
    let new = manifest(
        vec![counter().with_lane(lane("scores", LaneKind::Map, map(STRING, Int)))],
        vec![],
    );
    let r = check(&old, &new);
    let c = only(&r, "lane Counter.scores");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.message,
        "lane `Counter.scores` type changed from value lane `Map<String, Int>` to map lane `Map<String, Int>` without a migration"
    );
    // A migration from the stored type carries it across.
    let mut new = new;
    new.agents[0]
        .migrations
        .push(migration("scores", map(STRING, Int), ""));
    let r = check(&old, &new);
    assert!(!r.breaking());
    assert!(matches!(
        action(&r, "Counter", "scores"),
        LaneAction::Migrate { .. }
    ));
}

#[test]
fn plans_list_the_new_lanes_then_the_removed_ones() {
    let old = manifest(
        vec![counter()
            .with_lane(value("a", Int))
            .with_lane(value("b", Int))],
        vec![],
    );
    let new = manifest(
        vec![counter()
            .with_lane(value("c", Int))
            .with_lane(value("a", Int))],
        vec![],
    );
    let r = check(&old, &new);
    let lanes: Vec<(&str, &LaneAction)> = r.agents[0]
        .lanes
        .iter()
        .map(|l| (l.lane.as_str(), &l.action))
        .collect();
    assert_eq!(
        lanes,
        vec![
            ("c", &LaneAction::Add),
            ("a", &LaneAction::Keep),
            ("b", &LaneAction::Remove)
        ]
    );
}
