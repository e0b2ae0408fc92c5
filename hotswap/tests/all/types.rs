//! Records and enums reached from lane types: matched by name, compared field by field
//! and variant by variant, recursive types included, each change listed once.

use crate::support::*;
use weft_compiler::manifest::{AdtDesc, LaneKind, Manifest};
use weft_hotswap::{check, Class, LaneAction};

/// `Counter` with `links: List<Link>`, `Link` being `types[0]`.
fn links(types: Vec<AdtDesc>) -> Manifest {
    manifest(
        vec![counter().with_lane(value("links", list(adt(0))))],
        types,
    )
}

fn link_v1() -> AdtDesc {
    record("Link", &[("url", STRING), ("title", STRING)])
}

#[test]
fn a_new_field_with_a_default_converts() {
    let v2 = record_with(
        "Link",
        &[("url", STRING), ("title", STRING), ("hits", Int)],
        &["hits"],
    );
    let r = check(&links(vec![link_v1()]), &links(vec![v2]));
    assert!(!r.breaking());
    assert_eq!(
        summary(&r),
        vec![
            (
                Class::Changed,
                "lane `Counter.links` (`List<Link>`) keeps its stored values, converted to the new shape of `Link`"
            ),
            (Class::Changed, "new field `hits: Int` of `Link` gets its default in stored values"),
        ]
    );
    assert_eq!(r.changes[1].subject, "type Link");
    assert_eq!(r.changes[1].notes, vec!["stored in lane `Counter.links`"]);
    assert_eq!(
        action(&r, "Counter", "links"),
        &LaneAction::Convert {
            from: list(adt(0)),
            to: list(adt(0))
        }
    );
}

#[test]
fn a_new_field_without_a_default_is_breaking() {
    let v2 = record("Link", &[("url", STRING), ("title", STRING), ("hits", Int)]);
    let r = check(&links(vec![link_v1()]), &links(vec![v2]));
    assert!(r.breaking());
    let lane = only(&r, "lane Counter.links");
    assert_eq!(lane.class, Class::Breaking);
    assert_eq!(lane.notes[0], "see type `Link`");
    let ty = only(&r, "type Link");
    assert_eq!(ty.class, Class::Breaking);
    assert_eq!(ty.message, "new field `hits` of `Link` has no default");
}

#[test]
fn a_removed_field_is_a_warning() {
    let v2 = record("Link", &[("url", STRING)]);
    let r = check(&links(vec![link_v1()]), &links(vec![v2]));
    assert!(!r.breaking());
    let ty = only(&r, "type Link");
    assert_eq!(ty.class, Class::Warning);
    assert_eq!(
        ty.message,
        "field `title: String` of `Link` removed; its stored values are dropped"
    );
    assert_eq!(only(&r, "lane Counter.links").class, Class::Warning);
    assert!(matches!(
        action(&r, "Counter", "links"),
        LaneAction::Convert { .. }
    ));
}

#[test]
fn a_field_of_another_type_is_breaking() {
    let v2 = record("Link", &[("url", STRING), ("title", Int)]);
    let r = check(&links(vec![link_v1()]), &links(vec![v2]));
    assert_eq!(
        only(&r, "type Link").message,
        "field `title` of `Link` changed from `String` to `Int`"
    );
    assert!(r.breaking());
}

#[test]
fn reordered_fields_convert() {
    let v2 = record("Link", &[("title", STRING), ("url", STRING)]);
    let r = check(&links(vec![link_v1()]), &links(vec![v2]));
    assert_eq!(only(&r, "type Link").class, Class::Changed);
    assert!(matches!(
        action(&r, "Counter", "links"),
        LaneAction::Convert { .. }
    ));
}

#[test]
fn changes_inside_nested_types_are_found_through_fields_maps_and_tuples() {
    let old = manifest(
        vec![counter().with_lane(lane(
            "by_user",
            LaneKind::Map,
            map(STRING, tuple(&[Int, adt(0)])),
        ))],
        vec![
            record("Link", &[("tag", adt(1))]),
            enum_("Tag", &[("Red", &[])]),
        ],
    );
    let new = manifest(
        vec![counter().with_lane(lane(
            "by_user",
            LaneKind::Map,
            map(STRING, tuple(&[Int, adt(1)])),
        ))],
        vec![
            enum_("Tag", &[("Red", &[]), ("Blue", &[])]),
            record("Link", &[("tag", adt(0))]),
        ],
    );
    let r = check(&old, &new);
    assert_eq!(
        summary(&r),
        vec![
            (
                Class::Changed,
                "lane `Counter.by_user` (`Map<String, (Int, Link)>`) keeps its stored values, converted to the new shape of `Tag`"
            ),
            (Class::Changed, "new variant `Blue` of `Tag`"),
        ]
    );
}

#[test]
fn enum_variants_added_removed_and_changed() {
    let shape = |variants: &[(&str, &[weft_compiler::manifest::TypeDesc])]| {
        manifest(
            vec![counter().with_lane(value("shape", adt(0)))],
            vec![enum_("Shape", variants)],
        )
    };
    let old = shape(&[("Circle", &[Float]), ("Square", &[Float])]);
    let added = shape(&[("Circle", &[Float]), ("Square", &[Float]), ("Dot", &[])]);
    let r = check(&old, &added);
    assert_eq!(only(&r, "type Shape").class, Class::Changed);
    assert_eq!(
        only(&r, "type Shape").message,
        "new variant `Dot` of `Shape`"
    );

    let removed = shape(&[("Circle", &[Float])]);
    let r = check(&old, &removed);
    let c = only(&r, "type Shape");
    assert_eq!(c.class, Class::Warning);
    assert_eq!(c.message, "variant `Square(Float)` of `Shape` removed");
    assert_eq!(
        c.notes,
        vec![
            "stored in lane `Counter.shape`",
            "the patch is refused if stored data still uses `Square` (the node checks before swapping)",
        ]
    );
    assert!(!r.breaking());

    let changed = shape(&[("Circle", &[Float, Float]), ("Square", &[Float])]);
    let r = check(&old, &changed);
    let c = only(&r, "type Shape");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.message,
        "variant `Circle` of `Shape` changed from `Circle(Float)` to `Circle(Float, Float)`"
    );
}

#[test]
fn a_renamed_record_is_incompatible() {
    let r = check(
        &links(vec![link_v1()]),
        &links(vec![record("Url", &[("url", STRING), ("title", STRING)])]),
    );
    let c = only(&r, "lane Counter.links");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.message,
        "lane `Counter.links` type changed from `List<Link>` to `List<Url>` without a migration"
    );
    assert!(!r.changes.iter().any(|c| c.subject.starts_with("type ")));
}

#[test]
fn a_record_that_became_an_enum_is_incompatible() {
    let r = check(
        &links(vec![link_v1()]),
        &links(vec![enum_("Link", &[("Url", &[STRING])])]),
    );
    assert_eq!(
        only(&r, "type Link").message,
        "`Link` changed from a record to an enum"
    );
    assert!(r.breaking());
}

/// `enum Tree { Leaf, Node(Tree, Int, Tree) }` at index `at` among `pad` other types.
fn tree(pad: usize, variants: &[(&str, &[weft_compiler::manifest::TypeDesc])]) -> Manifest {
    let mut types: Vec<AdtDesc> = (0..pad).map(|k| record(&format!("Pad{k}"), &[])).collect();
    types.push(enum_("Tree", variants));
    manifest(
        vec![counter().with_lane(value("tree", adt(pad as u32)))],
        types,
    )
}

#[test]
fn recursive_types_compare_and_terminate() {
    let t = |pad: u32| adt(pad);
    let old = tree(0, &[("Leaf", &[]), ("Node", &[t(0), Int, t(0)])]);
    let same = tree(3, &[("Leaf", &[]), ("Node", &[t(3), Int, t(3)])]);
    let r = check(&old, &same);
    assert_eq!(r.changes, vec![]);
    assert_eq!(action(&r, "Counter", "tree"), &LaneAction::Keep);

    let grown = tree(
        2,
        &[
            ("Leaf", &[]),
            ("Node", &[t(2), Int, t(2)]),
            ("Pair", &[t(2), t(2)]),
        ],
    );
    let r = check(&old, &grown);
    assert_eq!(
        only(&r, "type Tree").message,
        "new variant `Pair(Tree, Tree)` of `Tree`"
    );
    assert!(matches!(
        action(&r, "Counter", "tree"),
        LaneAction::Convert { .. }
    ));

    let retyped = tree(1, &[("Leaf", &[]), ("Node", &[t(1), Float, t(1)])]);
    let r = check(&old, &retyped);
    assert_eq!(
        only(&r, "type Tree").message,
        "variant `Node` of `Tree` changed from `Node(Tree, Int, Tree)` to `Node(Tree, Float, Tree)`"
    );
    assert!(r.breaking());
}

#[test]
fn mutually_recursive_types_find_a_change_deep_in_the_cycle() {
    // `Dir { entries: List<Entry> }`, `Entry { File(String), Sub(Dir) }`.
    let old = manifest(
        vec![counter().with_lane(value("root", adt(0)))],
        vec![
            record("Dir", &[("entries", list(adt(1)))]),
            enum_("Entry", &[("File", &[STRING]), ("Sub", &[adt(0)])]),
        ],
    );
    let new = manifest(
        vec![counter().with_lane(value("root", adt(1)))],
        vec![
            enum_(
                "Entry",
                &[("File", &[STRING]), ("Sub", &[adt(1)]), ("Link", &[STRING])],
            ),
            record("Dir", &[("entries", list(adt(0)))]),
        ],
    );
    let r = check(&old, &new);
    assert_eq!(
        only(&r, "type Entry").message,
        "new variant `Link(String)` of `Entry`"
    );
    assert!(matches!(
        action(&r, "Counter", "root"),
        LaneAction::Convert { .. }
    ));
    assert_eq!(check(&old, &old).changes, vec![]);
}

#[test]
fn a_type_change_is_listed_once_for_every_lane_storing_it() {
    let room = agent("Room", "/rooms/:id").with_lane(value("pinned", adt(0)));
    let old = manifest(
        vec![
            counter().with_lane(value("links", list(adt(0)))),
            room.clone(),
        ],
        vec![link_v1()],
    );
    let v2 = record("Link", &[("url", STRING)]);
    let new = manifest(
        vec![counter().with_lane(value("links", list(adt(0)))), room],
        vec![v2],
    );
    let r = check(&old, &new);
    let c = only(&r, "type Link");
    assert_eq!(
        c.notes,
        vec!["stored in lanes `Counter.links`, `Room.pinned`"]
    );
    assert_eq!(only(&r, "lane Counter.links").class, Class::Warning);
    assert_eq!(only(&r, "lane Room.pinned").class, Class::Warning);
}

#[test]
fn a_migrated_lane_does_not_list_the_types_it_stores() {
    let v2 = record("Link", &[("url", STRING), ("title", STRING), ("hits", Int)]);
    let mut new = links(vec![v2, link_v1()]);
    new.agents[0]
        .migrations
        .push(migration("links", list(adt(1)), ""));
    let r = check(&links(vec![link_v1()]), &new);
    assert!(!r.breaking());
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].subject, "lane Counter.links");
}

#[test]
fn types_only_in_method_signatures_are_not_listed_as_stored() {
    let old = manifest(
        vec![counter().with_method(method("f", vec![param("l", adt(0))], Unit))],
        vec![link_v1()],
    );
    let new = manifest(
        vec![counter().with_method(method("f", vec![param("l", adt(0))], Unit))],
        vec![record("Link", &[("url", STRING)])],
    );
    let r = check(&old, &new);
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].subject, "method Counter.f");
}

#[test]
fn an_out_of_range_type_index_is_incompatible_not_a_panic() {
    let old = links(vec![]);
    let r = check(&old, &links(vec![link_v1()]));
    assert!(r.breaking());
    assert_eq!(
        only(&r, "lane Counter.links").message,
        "lane `Counter.links` type changed from `List<<unknown type #0>>` to `List<Link>` without a migration"
    );
    assert!(check(&old, &old).breaking());
}
