//! Agent types, matched by name: added, removed, and their routes.

use crate::support::*;
use weft_compiler::manifest::LaneKind;
use weft_hotswap::{check, AgentPlan, Class, LaneAction, LanePlan};

/// A program using most of what a manifest can say, recursive types included.
fn rich() -> weft_compiler::manifest::Manifest {
    let room = agent("Room", "/rooms/:id")
        .with_lane(value("topic", STRING))
        .with_lane(lane("members", LaneKind::Map, map(STRING, adt(0))))
        .with_lane(lane("history", LaneKind::List, list(adt(1))))
        .with_lane(value("tree", adt(2)))
        .with_method(method("join", vec![param("user", STRING)], adt(0)))
        .with_method(command("post", vec![param("text", STRING)]))
        .with_demand("size", Int)
        .with_timer(5_000_000_000)
        .with_on_start()
        .with_migration(migration("topic", Int, "app.weft:9:3"));
    let types = vec![
        record("Member", &[("name", STRING), ("since", Int)]),
        enum_(
            "Event",
            &[
                ("Joined", &[adt(0)]),
                ("Said", &[STRING, adt(0)]),
                ("Left", &[]),
            ],
        ),
        enum_("Tree", &[("Leaf", &[]), ("Node", &[adt(2), Int, adt(2)])]),
    ];
    let mut m = manifest(vec![counter().with_lane(value("count", Int)), room], types);
    m.calls.push(call("Room", "join", "main", "app.weft:30:5"));
    m
}

#[test]
fn identical_manifests_change_nothing_and_keep_every_lane() {
    let r = check(&rich(), &rich());
    assert_eq!(r.changes, vec![]);
    assert!(!r.breaking());
    let keep = |lane: &str| LanePlan {
        lane: lane.into(),
        action: LaneAction::Keep,
    };
    assert_eq!(
        r.agents,
        vec![
            AgentPlan {
                agent: "Counter".into(),
                lanes: vec![keep("count")],
            },
            AgentPlan {
                agent: "Room".into(),
                lanes: vec![
                    keep("topic"),
                    keep("members"),
                    keep("history"),
                    keep("tree")
                ],
            },
        ]
    );
}

#[test]
fn an_added_agent_is_added_and_has_no_plan() {
    let old = manifest(vec![counter()], vec![]);
    let new = manifest(vec![counter(), agent("Room", "/rooms/:id")], vec![]);
    let r = check(&old, &new);
    assert_eq!(
        summary(&r),
        vec![(Class::Added, "agent `Room` added at `/rooms/:id`")]
    );
    assert_eq!(r.changes[0].subject, "agent Room");
    assert_eq!(r.agents.len(), 1);
    assert_eq!(r.agents[0].agent, "Counter");
}

#[test]
fn a_removed_agent_is_a_warning_naming_its_callers() {
    let room = agent("Room", "/rooms/:id").with_method(method("join", vec![], Unit));
    let mut old = manifest(vec![counter(), room], vec![]);
    old.calls.push(call("Room", "join", "main", "app.weft:3:5"));
    let new = manifest(vec![counter()], vec![]);
    let r = check(&old, &new);
    let c = only(&r, "agent Room");
    assert_eq!(c.class, Class::Warning);
    assert_eq!(
        c.message,
        "agent `Room` removed; its stored agents are kept but no longer served"
    );
    assert_eq!(
        c.notes,
        vec!["still called by `main` at app.weft:3:5 in the running version"]
    );
    assert!(!r.breaking());
    assert_eq!(r.agents.len(), 1);
}

#[test]
fn a_changed_route_is_breaking_and_names_both() {
    let old = manifest(vec![counter()], vec![]);
    let new = manifest(vec![agent("Counter", "/c/:id")], vec![]);
    let r = check(&old, &new);
    assert!(r.breaking());
    let c = only(&r, "agent Counter");
    assert_eq!(c.class, Class::Breaking);
    assert_eq!(
        c.message,
        "route of `Counter` changed from `/counters/:id` to `/c/:id`"
    );
    assert!(
        c.notes[0].contains("existing URIs would map elsewhere"),
        "{:?}",
        c.notes
    );
    // The agent is still there: its lanes still have a plan.
    assert_eq!(r.agents.len(), 1);
}

#[test]
fn a_route_with_only_its_parameters_renamed_maps_every_uri_the_same() {
    let old = manifest(vec![counter()], vec![]);
    let new = manifest(vec![agent("Counter", "/counters/:name")], vec![]);
    let r = check(&old, &new);
    assert!(!r.breaking());
    assert_eq!(only(&r, "agent Counter").class, Class::Changed);
}

#[test]
fn a_renamed_agent_is_a_removal_and_an_addition_that_takes_over_its_route() {
    let old = manifest(vec![agent("Chat", "/rooms/:id")], vec![]);
    let new = manifest(vec![agent("Room", "/rooms/:room")], vec![]);
    let r = check(&old, &new);
    assert_eq!(only(&r, "agent Chat").class, Class::Warning);
    let added = only(&r, "agent Room");
    assert_eq!(added.class, Class::Added);
    assert_eq!(
        added.notes,
        vec!["it takes over the route of the removed agent `Chat`; agents stored as `Chat` are not converted"]
    );
    assert_eq!(r.agents, vec![]);
}

#[test]
fn the_report_is_serializable() {
    fn serde<T: serde::Serialize + serde::de::DeserializeOwned>() {}
    serde::<weft_hotswap::Report>();
}
