//! WARP envelopes: the messages a WARP client and server exchange, one per WebSocket
//! text frame.
//!
//! An envelope is a Recon record whose first attribute names its kind and carries its
//! header, followed by its body: `@event(node:"/unit/foo",lane:bar)@update(key:a) 1`.
//! Reading and writing follow `@swim/warp` (`Envelope.ts`, `LaneAddressed.ts`,
//! `LinkAddressed.ts`, `HostAddressed.ts`) and the Java `swim.warp` specs:
//!
//! - the header is written `node:...,lane:...` (then `prio:`, `rate:` when set), and read
//!   by name or by position (`@link("/a", b)`), unknown fields ignored;
//! - the body is every item after the header attribute (Swim's `Record.body()`); an
//!   absent or extant body writes nothing, so it reads back absent;
//! - `@link`, `@sync` and `@linked` carry `prio` and `rate`; `@auth`, `@authed`,
//!   `@deauth` and `@deauthed` carry only a body.

use super::{parse, EnvelopeError, Item, Value};
use std::fmt;

/// A lane-addressed envelope: which lane of which agent, and what.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneAddressed {
    /// The agent's URI, such as `/counters/a`.
    pub node: String,
    /// The lane's URI within the agent, such as `count`.
    pub lane: String,
    /// The payload; [`Value::Absent`] for none.
    pub body: Value,
}

/// A link request or response: a lane address with the link's priority and rate.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkAddressed {
    /// The agent's URI.
    pub node: String,
    /// The lane's URI within the agent.
    pub lane: String,
    /// The link's priority, when the client set one.
    pub prio: Option<f64>,
    /// The most events per second the client wants, when it set a limit.
    pub rate: Option<f64>,
    /// The payload; [`Value::Absent`] for none.
    pub body: Value,
}

/// One WARP message.
#[derive(Clone, Debug, PartialEq)]
pub enum Envelope {
    /// `@link`: client asks to receive a lane's events.
    Link(LinkAddressed),
    /// `@sync`: client asks for a lane's events and its current state first.
    Sync(LinkAddressed),
    /// `@linked`: server confirms a link.
    Linked(LinkAddressed),
    /// `@synced`: server has sent the lane's current state.
    Synced(LaneAddressed),
    /// `@event`: server sends a lane event to a linked client.
    Event(LaneAddressed),
    /// `@command`: client sends a value to a lane.
    Command(LaneAddressed),
    /// `@unlink`: client ends a link.
    Unlink(LaneAddressed),
    /// `@unlinked`: server ended a link or refused one (body `@nodeNotFound`,
    /// `@laneNotFound`).
    Unlinked(LaneAddressed),
    /// `@auth`: client presents credentials.
    Auth(Value),
    /// `@authed`: server accepted them.
    Authed(Value),
    /// `@deauth`: client drops its credentials.
    Deauth(Value),
    /// `@deauthed`: server dropped them.
    Deauthed(Value),
}

impl Envelope {
    /// Reads one WebSocket text frame.
    pub fn parse(text: &str) -> Result<Envelope, EnvelopeError> {
        Envelope::from_value(&parse(text)?)
    }

    /// The text of the frame that carries this envelope.
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// `@link(node, lane)` with no priority, rate or body.
    pub fn link(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::Link(LinkAddressed::new(node, lane))
    }

    /// `@sync(node, lane)` with no priority, rate or body.
    pub fn sync(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::Sync(LinkAddressed::new(node, lane))
    }

    /// `@linked(node, lane)`.
    pub fn linked(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::Linked(LinkAddressed::new(node, lane))
    }

    /// `@synced(node, lane)`.
    pub fn synced(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::Synced(LaneAddressed::new(node, lane, Value::Absent))
    }

    /// `@event(node, lane) body`.
    pub fn event(node: impl Into<String>, lane: impl Into<String>, body: Value) -> Envelope {
        Envelope::Event(LaneAddressed::new(node, lane, body))
    }

    /// `@command(node, lane) body`.
    pub fn command(node: impl Into<String>, lane: impl Into<String>, body: Value) -> Envelope {
        Envelope::Command(LaneAddressed::new(node, lane, body))
    }

    /// `@unlink(node, lane)`.
    pub fn unlink(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::Unlink(LaneAddressed::new(node, lane, Value::Absent))
    }

    /// `@unlinked(node, lane) body`.
    pub fn unlinked(node: impl Into<String>, lane: impl Into<String>, body: Value) -> Envelope {
        Envelope::Unlinked(LaneAddressed::new(node, lane, body))
    }

    /// `@unlinked(node, lane)@nodeNotFound`: no agent lives at `node`.
    pub fn node_not_found(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::unlinked(node, lane, Value::of_attr("nodeNotFound", Value::Extant))
    }

    /// `@unlinked(node, lane)@laneNotFound`: the agent has no lane `lane`.
    pub fn lane_not_found(node: impl Into<String>, lane: impl Into<String>) -> Envelope {
        Envelope::unlinked(node, lane, Value::of_attr("laneNotFound", Value::Extant))
    }

    /// The attribute that names this kind of envelope, without its `@`.
    pub fn tag(&self) -> &'static str {
        match self {
            Envelope::Link(_) => "link",
            Envelope::Sync(_) => "sync",
            Envelope::Linked(_) => "linked",
            Envelope::Synced(_) => "synced",
            Envelope::Event(_) => "event",
            Envelope::Command(_) => "command",
            Envelope::Unlink(_) => "unlink",
            Envelope::Unlinked(_) => "unlinked",
            Envelope::Auth(_) => "auth",
            Envelope::Authed(_) => "authed",
            Envelope::Deauth(_) => "deauth",
            Envelope::Deauthed(_) => "deauthed",
        }
    }

    /// The node URI; `None` for the host-addressed `@auth` family.
    pub fn node(&self) -> Option<&str> {
        self.address().map(|(node, _)| node)
    }

    /// The lane URI; `None` for the host-addressed `@auth` family.
    pub fn lane(&self) -> Option<&str> {
        self.address().map(|(_, lane)| lane)
    }

    fn address(&self) -> Option<(&str, &str)> {
        match self {
            Envelope::Link(e) | Envelope::Sync(e) | Envelope::Linked(e) => Some((&e.node, &e.lane)),
            Envelope::Synced(e)
            | Envelope::Event(e)
            | Envelope::Command(e)
            | Envelope::Unlink(e)
            | Envelope::Unlinked(e) => Some((&e.node, &e.lane)),
            _ => None,
        }
    }

    /// The payload.
    pub fn body(&self) -> &Value {
        match self {
            Envelope::Link(e) | Envelope::Sync(e) | Envelope::Linked(e) => &e.body,
            Envelope::Synced(e)
            | Envelope::Event(e)
            | Envelope::Command(e)
            | Envelope::Unlink(e)
            | Envelope::Unlinked(e) => &e.body,
            Envelope::Auth(body)
            | Envelope::Authed(body)
            | Envelope::Deauth(body)
            | Envelope::Deauthed(body) => body,
        }
    }

    /// The Recon value of the envelope: its header attribute followed by its body.
    pub fn to_value(&self) -> Value {
        let header = match self {
            Envelope::Link(e) | Envelope::Sync(e) | Envelope::Linked(e) => e.header(),
            Envelope::Synced(e)
            | Envelope::Event(e)
            | Envelope::Command(e)
            | Envelope::Unlink(e)
            | Envelope::Unlinked(e) => lane_header(&e.node, &e.lane),
            _ => Value::Extant,
        };
        Value::of_attr(self.tag(), header).concat(self.body().clone())
    }

    /// Reads an envelope from its Recon value.
    pub fn from_value(value: &Value) -> Result<Envelope, EnvelopeError> {
        let tag = value.tag().ok_or(EnvelopeError::NoTag)?;
        let Some(tag) = TAGS.iter().copied().find(|t| *t == tag) else {
            return Err(EnvelopeError::UnknownTag(tag.to_string()));
        };
        let header = value.header(tag).unwrap_or(&Value::Extant);
        let body = value.body();
        let envelope = match tag {
            "link" => Envelope::Link(LinkAddressed::read(tag, header, body)?),
            "sync" => Envelope::Sync(LinkAddressed::read(tag, header, body)?),
            "linked" => Envelope::Linked(LinkAddressed::read(tag, header, body)?),
            "synced" => Envelope::Synced(LaneAddressed::read(tag, header, body)?),
            "event" => Envelope::Event(LaneAddressed::read(tag, header, body)?),
            "command" => Envelope::Command(LaneAddressed::read(tag, header, body)?),
            "unlink" => Envelope::Unlink(LaneAddressed::read(tag, header, body)?),
            "unlinked" => Envelope::Unlinked(LaneAddressed::read(tag, header, body)?),
            "auth" => Envelope::Auth(body),
            "authed" => Envelope::Authed(body),
            "deauth" => Envelope::Deauth(body),
            _ => Envelope::Deauthed(body),
        };
        Ok(envelope)
    }
}

/// Every envelope tag, as [`Envelope::tag`] gives them.
const TAGS: [&str; 12] = [
    "link", "sync", "linked", "synced", "event", "command", "unlink", "unlinked", "auth", "authed",
    "deauth", "deauthed",
];

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

impl LaneAddressed {
    /// An envelope address with a body.
    pub fn new(node: impl Into<String>, lane: impl Into<String>, body: Value) -> LaneAddressed {
        LaneAddressed {
            node: node.into(),
            lane: lane.into(),
            body,
        }
    }

    fn read(
        tag: &'static str,
        header: &Value,
        body: Value,
    ) -> Result<LaneAddressed, EnvelopeError> {
        let fields = Header::read(tag, header)?;
        Ok(LaneAddressed {
            node: fields
                .node
                .ok_or(EnvelopeError::MissingHeader { tag, field: "node" })?,
            lane: fields
                .lane
                .ok_or(EnvelopeError::MissingHeader { tag, field: "lane" })?,
            body,
        })
    }
}

impl LinkAddressed {
    /// A link address with no priority, rate or body.
    pub fn new(node: impl Into<String>, lane: impl Into<String>) -> LinkAddressed {
        LinkAddressed {
            node: node.into(),
            lane: lane.into(),
            prio: None,
            rate: None,
            body: Value::Absent,
        }
    }

    fn read(
        tag: &'static str,
        header: &Value,
        body: Value,
    ) -> Result<LinkAddressed, EnvelopeError> {
        let fields = Header::read(tag, header)?;
        Ok(LinkAddressed {
            node: fields
                .node
                .ok_or(EnvelopeError::MissingHeader { tag, field: "node" })?,
            lane: fields
                .lane
                .ok_or(EnvelopeError::MissingHeader { tag, field: "lane" })?,
            prio: fields.prio,
            rate: fields.rate,
            body,
        })
    }

    fn header(&self) -> Value {
        let mut header = lane_header(&self.node, &self.lane);
        if let Value::Record(items) = &mut header {
            for (name, number) in [("prio", self.prio), ("rate", self.rate)] {
                if let Some(x) = number {
                    items.push(Item::slot(name, number_value(x)));
                }
            }
        }
        header
    }
}

/// `node:...,lane:...`.
fn lane_header(node: &str, lane: &str) -> Value {
    Value::Record(vec![Item::slot("node", node), Item::slot("lane", lane)])
}

/// A whole number as an `Int` (Swim writes `rate:1`), anything else as a `Float`.
fn number_value(x: f64) -> Value {
    const EXACT_MAX: f64 = 9_007_199_254_740_992.0;
    if x.fract() == 0.0 && x.abs() <= EXACT_MAX {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}

/// The fields of a lane or link header, read by name or by position.
#[derive(Default)]
struct Header {
    node: Option<String>,
    lane: Option<String>,
    prio: Option<f64>,
    rate: Option<f64>,
}

impl Header {
    fn read(tag: &'static str, header: &Value) -> Result<Header, EnvelopeError> {
        let single;
        let items = match header {
            Value::Record(items) => items.as_slice(),
            Value::Absent | Value::Extant => &[],
            value => {
                single = [Item::Value(value.clone())];
                &single
            }
        };
        let mut fields = Header::default();
        for (index, item) in items.iter().enumerate() {
            match item {
                Item::Slot(Value::Text(key), value) => match key.as_str() {
                    "node" => fields.node = Some(uri_text(tag, "node", value)?),
                    "lane" => fields.lane = Some(uri_text(tag, "lane", value)?),
                    "prio" => fields.prio = value.as_f64().or(fields.prio),
                    "rate" => fields.rate = value.as_f64().or(fields.rate),
                    _ => {}
                },
                Item::Value(value) if index == 0 => {
                    fields.node = Some(uri_text(tag, "node", value)?)
                }
                Item::Value(value) if index == 1 => {
                    fields.lane = Some(uri_text(tag, "lane", value)?)
                }
                _ => {}
            }
        }
        Ok(fields)
    }
}

/// A URI header field: text, or a number or boolean written bare (Swim takes its string).
fn uri_text(
    tag: &'static str,
    field: &'static str,
    value: &Value,
) -> Result<String, EnvelopeError> {
    match value {
        Value::Text(text) => Ok(text.clone()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(value.to_string()),
        _ => Err(EnvelopeError::InvalidHeader { tag, field }),
    }
}
