//! WARP envelopes and map events, against frames captured from Swim's own tests.
//!
//! Sources: the Java `swim.warp` specs (`LinkRequestSpec`, `SyncRequestSpec`,
//! `EventMessageSpec`, `UnlinkedResponseSpec`, `AuthRequestSpec`, ...), the swim-rust
//! Recon encoder tests (`@link(node:"/node",lane:lane)`, `...@nodeNotFound`) and the
//! swim-python client tests (`@event(node:foo,lane:bar)@update(key:Elliot)29`).

use crate::warp::{
    parse, Envelope, EnvelopeError, Item, LaneAddressed, LinkAddressed, MapEvent, MapEventError,
    ReconError, Value,
};

fn attr_body(name: &str) -> Value {
    Value::of_attr(name, Value::Extant)
}

fn lane(node: &str, lane: &str, body: Value) -> LaneAddressed {
    LaneAddressed::new(node, lane, body)
}

fn link(
    node: &str,
    lane: &str,
    prio: Option<f64>,
    rate: Option<f64>,
    body: Value,
) -> LinkAddressed {
    LinkAddressed {
        node: node.into(),
        lane: lane.into(),
        prio,
        rate,
        body,
    }
}

fn parses(input: &str, expected: Envelope) {
    assert_eq!(Envelope::parse(input), Ok(expected), "parsing {input:?}");
}

fn writes(envelope: Envelope, expected: &str) {
    assert_eq!(envelope.to_text(), expected);
    assert_eq!(
        Envelope::parse(expected),
        Ok(envelope),
        "reading back {expected:?}"
    );
}

#[test]
fn link_and_sync_headers() {
    let named = link("node_uri", "lane_uri", Some(0.5), Some(1.0), Value::Absent);
    parses(
        "@link(node: node_uri, lane: lane_uri, prio: 0.5, rate: 1.0)",
        Envelope::Link(named.clone()),
    );
    parses(
        "@sync(node: node_uri, lane: lane_uri, prio: 0.5, rate: 1.0)",
        Envelope::Sync(named),
    );
    let plain = link("node_uri", "lane_uri", None, None, Value::Absent);
    parses("@link(node_uri, lane_uri)", Envelope::Link(plain.clone()));
    parses(
        "@sync(node_uri, lane_uri, prio: 0.5)",
        Envelope::Sync(link("node_uri", "lane_uri", Some(0.5), None, Value::Absent)),
    );
    parses(
        "@link(node_uri, lane_uri)@test",
        Envelope::Link(link("node_uri", "lane_uri", None, None, attr_body("test"))),
    );
    parses(
        "@link(lane: b, node: \"/a\", extra: 1)",
        Envelope::Link(link("/a", "b", None, None, Value::Absent)),
    );
    writes(
        Envelope::Link(plain.clone()),
        "@link(node:node_uri,lane:lane_uri)",
    );
    writes(Envelope::Sync(plain), "@sync(node:node_uri,lane:lane_uri)");
    writes(
        Envelope::Link(link("node_uri", "lane_uri", Some(0.5), None, Value::Absent)),
        "@link(node:node_uri,lane:lane_uri,prio:0.5)",
    );
    writes(
        Envelope::Link(link("node_uri", "lane_uri", None, Some(1.0), Value::Absent)),
        "@link(node:node_uri,lane:lane_uri,rate:1)",
    );
    writes(
        Envelope::Sync(link(
            "node_uri",
            "lane_uri",
            Some(0.5),
            Some(1.0),
            Value::Absent,
        )),
        "@sync(node:node_uri,lane:lane_uri,prio:0.5,rate:1)",
    );
    writes(
        Envelope::Link(link("node_uri", "lane_uri", None, None, attr_body("test"))),
        "@link(node:node_uri,lane:lane_uri)@test",
    );
    writes(
        Envelope::linked("node_uri", "lane_uri"),
        "@linked(node:node_uri,lane:lane_uri)",
    );
}

#[test]
fn swim_rust_encoder_frames() {
    writes(
        Envelope::link("/node", "lane"),
        "@link(node:\"/node\",lane:lane)",
    );
    writes(
        Envelope::sync("/node", "lane"),
        "@sync(node:\"/node\",lane:lane)",
    );
    writes(
        Envelope::unlink("/node", "lane"),
        "@unlink(node:\"/node\",lane:lane)",
    );
    writes(
        Envelope::command("/node", "lane", Value::Absent),
        "@command(node:\"/node\",lane:lane)",
    );
    writes(
        Envelope::command("/node", "lane", Value::text("body")),
        "@command(node:\"/node\",lane:lane) body",
    );
    writes(
        Envelope::command("/node", "lane", attr_body("body")),
        "@command(node:\"/node\",lane:lane)@body",
    );
    writes(
        Envelope::linked("/node", "lane"),
        "@linked(node:\"/node\",lane:lane)",
    );
    writes(
        Envelope::synced("/node", "lane"),
        "@synced(node:\"/node\",lane:lane)",
    );
    writes(
        Envelope::unlinked("/node", "lane", Value::text("gone")),
        "@unlinked(node:\"/node\",lane:lane) gone",
    );
    writes(
        Envelope::event("/node", "lane", Value::text("body")),
        "@event(node:\"/node\",lane:lane) body",
    );
    writes(
        Envelope::node_not_found("/node", "lane"),
        "@unlinked(node:\"/node\",lane:lane)@nodeNotFound",
    );
    writes(
        Envelope::lane_not_found("/node", "lane"),
        "@unlinked(node:\"/node\",lane:lane)@laneNotFound",
    );
}

/// Frames written by `@swim/warp` 4.0.0 (`Envelope.toRecon()`) for the same envelopes.
#[test]
fn swim_js_written_frames() {
    let update = MapEvent::Update {
        key: "a".into(),
        value: Value::Int(1),
    };
    let command_body = Value::record([
        Item::slot("x", 1.5),
        Item::value("text"),
        Item::attr("tag", Value::Extant),
    ]);
    let mut prioritised = LinkAddressed::new("/n", "l");
    prioritised.prio = Some(0.5);
    prioritised.rate = Some(2.0);
    writes(
        Envelope::link("/unit/foo", "bar"),
        "@link(node:\"/unit/foo\",lane:bar)",
    );
    writes(
        Envelope::event("/unit/foo", "bar", update.to_value()),
        "@event(node:\"/unit/foo\",lane:bar)@update(key:a) 1",
    );
    writes(
        Envelope::command("/a%20b", "lane", command_body),
        "@command(node:\"/a%20b\",lane:lane){x:1.5,text}@tag",
    );
    writes(
        Envelope::lane_not_found("/n", "l"),
        "@unlinked(node:\"/n\",lane:l)@laneNotFound",
    );
    writes(
        Envelope::Link(prioritised),
        "@link(node:\"/n\",lane:l,prio:0.5,rate:2)",
    );
}

#[test]
fn java_spec_frames() {
    let with_test = lane("node_uri", "lane_uri", attr_body("test"));
    parses(
        "@event(node: node_uri, lane: lane_uri)",
        Envelope::Event(lane("node_uri", "lane_uri", Value::Absent)),
    );
    parses(
        "@event(node_uri, lane_uri)@test",
        Envelope::Event(with_test.clone()),
    );
    parses(
        "@unlinked(node_uri, lane_uri)@test",
        Envelope::Unlinked(with_test.clone()),
    );
    parses(
        "@command(node_uri, lane_uri)@test",
        Envelope::Command(with_test),
    );
    writes(
        Envelope::event("node/uri", "lane_uri", Value::Absent),
        "@event(node:\"node/uri\",lane:lane_uri)",
    );
    writes(
        Envelope::event("node/uri", "lane_uri", attr_body("test")),
        "@event(node:\"node/uri\",lane:lane_uri)@test",
    );
    writes(
        Envelope::unlinked("node_uri", "lane_uri", Value::Absent),
        "@unlinked(node:node_uri,lane:lane_uri)",
    );
    writes(Envelope::Auth(Value::Absent), "@auth");
    writes(Envelope::Auth(attr_body("test")), "@auth@test");
    writes(Envelope::Authed(Value::Absent), "@authed");
    writes(Envelope::Deauth(Value::Absent), "@deauth");
    writes(Envelope::Deauthed(attr_body("test")), "@deauthed@test");
    parses(
        "@auth{token:\"s3cr3t\"}",
        Envelope::Auth(Value::record([Item::slot("token", "s3cr3t")])),
    );
}

#[test]
fn map_lane_frames() {
    let event = Envelope::parse("@event(node:\"/unit/foo\",lane:bar)@update(key:a)1");
    let Ok(Envelope::Event(e)) = event else {
        panic!("not an event: {event:?}");
    };
    assert_eq!((e.node.as_str(), e.lane.as_str()), ("/unit/foo", "bar"));
    let update = MapEvent::Update {
        key: Value::text("a"),
        value: Value::Int(1),
    };
    assert_eq!(MapEvent::from_value(&e.body), Ok(update.clone()));
    writes(
        Envelope::event("/unit/foo", "bar", update.to_value()),
        "@event(node:\"/unit/foo\",lane:bar)@update(key:a) 1",
    );
    writes(
        Envelope::event(
            "foo",
            "bar",
            MapEvent::Update {
                key: "Elliot".into(),
                value: Value::Int(29),
            }
            .to_value(),
        ),
        "@event(node:foo,lane:bar)@update(key:Elliot) 29",
    );
    parses(
        "@event(node:foo,lane:bar)@update(key:Elliot)29",
        Envelope::event(
            "foo",
            "bar",
            MapEvent::Update {
                key: "Elliot".into(),
                value: Value::Int(29),
            }
            .to_value(),
        ),
    );
    let remove = MapEvent::Remove {
        key: "FromClientLink".into(),
    };
    writes(
        Envelope::command("/unit/foo", "shoppingCart", remove.to_value()),
        "@command(node:\"/unit/foo\",lane:shoppingCart)@remove(key:FromClientLink)",
    );
}

#[test]
fn map_event_shapes() {
    let cases = [
        (MapEvent::Clear, "@clear"),
        (MapEvent::Take(13), "@take(13)"),
        (MapEvent::Drop(13), "@drop(13)"),
        (MapEvent::Remove { key: Value::Int(1) }, "@remove(key:1)"),
        (
            MapEvent::Update {
                key: Value::Int(1),
                value: Value::Int(2),
            },
            "@update(key:1) 2",
        ),
        (
            MapEvent::Update {
                key: "/vehicle/B98".into(),
                value: Value::record([Item::slot("id", "glendale"), Item::slot("speed", 28)]),
            },
            "@update(key:\"/vehicle/B98\"){id:glendale,speed:28}",
        ),
        (
            MapEvent::Update {
                key: "k".into(),
                value: Value::record([Item::attr("point", Value::Extant), Item::slot("x", 1.5)]),
            },
            "@update(key:k)@point{x:1.5}",
        ),
    ];
    for (event, text) in cases {
        assert_eq!(event.to_value().to_string(), text);
        assert_eq!(
            parse(text).map(|v| MapEvent::from_value(&v)),
            Ok(Ok(event)),
            "{text}"
        );
    }
}

#[test]
fn map_event_errors() {
    let read = |text: &str| MapEvent::from_value(&parse(text).unwrap_or_default());
    assert_eq!(read("1"), Err(MapEventError::NoTag));
    assert_eq!(
        read("@upsert(key:a)"),
        Err(MapEventError::UnknownTag("upsert".into()))
    );
    assert_eq!(read("@update 1"), Err(MapEventError::MissingKey("update")));
    assert_eq!(
        read("@remove(k:1)"),
        Err(MapEventError::MissingKey("remove"))
    );
    assert_eq!(read("@take(-1)"), Err(MapEventError::InvalidCount("take")));
    assert_eq!(read("@drop(x)"), Err(MapEventError::InvalidCount("drop")));
    assert_eq!(read("@remove(a)"), Ok(MapEvent::Remove { key: "a".into() }));
}

#[test]
fn envelope_errors() {
    assert_eq!(Envelope::parse("1"), Err(EnvelopeError::NoTag));
    assert_eq!(Envelope::parse(""), Err(EnvelopeError::NoTag));
    assert_eq!(Envelope::parse("{a:1}"), Err(EnvelopeError::NoTag));
    assert_eq!(
        Envelope::parse("@hello(node:a,lane:b)"),
        Err(EnvelopeError::UnknownTag("hello".into()))
    );
    assert_eq!(
        Envelope::parse("@link(node:a)"),
        Err(EnvelopeError::MissingHeader {
            tag: "link",
            field: "lane"
        })
    );
    assert_eq!(
        Envelope::parse("@event"),
        Err(EnvelopeError::MissingHeader {
            tag: "event",
            field: "node"
        })
    );
    assert_eq!(
        Envelope::parse("@event(node:{a},lane:b)"),
        Err(EnvelopeError::InvalidHeader {
            tag: "event",
            field: "node"
        })
    );
    assert!(matches!(
        Envelope::parse("@event(node:a,lane:b"),
        Err(EnvelopeError::Recon(ReconError::UnexpectedEnd { .. }))
    ));
    let message = Envelope::parse("@link(node:a)").map_err(|e| e.to_string());
    assert_eq!(message, Err("@link envelope has no lane".to_string()));
}

#[test]
fn accessors() {
    let envelope = Envelope::event("/a", "b", Value::Int(3));
    assert_eq!(envelope.tag(), "event");
    assert_eq!(envelope.node(), Some("/a"));
    assert_eq!(envelope.lane(), Some("b"));
    assert_eq!(envelope.body(), &Value::Int(3));
    assert_eq!(Envelope::Auth(Value::Absent).node(), None);
    assert_eq!(Envelope::parse("@event(node:\"/a\",lane:b)3"), Ok(envelope));
    parses(
        "@event(node:7,lane:true)",
        Envelope::event("7", "true", Value::Absent),
    );
}

#[test]
fn every_kind_round_trips() {
    let bodies = [
        Value::Absent,
        Value::Int(-5),
        Value::Float(2.5),
        Value::text("hello world"),
        Value::Data(vec![1, 2, 3]),
        Value::record([Item::value(1), Item::value(2)]),
        Value::record([
            Item::slot("a", 1),
            Item::attr("b", Value::Extant),
            Item::value("c"),
        ]),
        Value::record([
            Item::attr("x", Value::Int(1)),
            Item::attr("y", Value::Extant),
        ]),
        Value::record([]),
    ];
    for body in bodies {
        // An empty record body concatenates to nothing, as in Swim.
        let expected_body = match &body {
            Value::Record(items) if items.is_empty() => Value::Absent,
            other => other.clone(),
        };
        let kinds = [
            Envelope::Link(link("/n", "l", Some(0.25), Some(10.0), body.clone())),
            Envelope::Sync(link("/n", "l", None, Some(2.5), body.clone())),
            Envelope::Linked(link("/n", "l", Some(1.0), None, body.clone())),
            Envelope::Synced(lane("/n", "l", body.clone())),
            Envelope::Event(lane("/n", "l", body.clone())),
            Envelope::Command(lane("/n", "l", body.clone())),
            Envelope::Unlink(lane("/n", "l", body.clone())),
            Envelope::Unlinked(lane("/n", "l", body.clone())),
            Envelope::Auth(body.clone()),
            Envelope::Authed(body.clone()),
            Envelope::Deauth(body.clone()),
            Envelope::Deauthed(body.clone()),
        ];
        for envelope in kinds {
            let text = envelope.to_text();
            let back = Envelope::parse(&text);
            assert_eq!(
                back.as_ref().map(Envelope::tag),
                Ok(envelope.tag()),
                "{text}"
            );
            assert_eq!(
                back.as_ref().map(Envelope::body),
                Ok(&expected_body),
                "{text}"
            );
            assert_eq!(
                back.as_ref().map(Envelope::node),
                Ok(envelope.node()),
                "{text}"
            );
        }
    }
}
