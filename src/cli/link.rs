//! `weft link URI LANE`: links to a lane over WARP and prints its state, then every
//! change, one line each, until interrupted (or `--events N` have arrived). Values print
//! in Weft syntax, read against the lane's type from the node's manifest: a value or
//! demand lane prints its value; a map lane `KEY: VALUE`, `remove KEY` and `clear`; a
//! list lane `insert [I] VALUE`, `update [I] VALUE` and `remove [I]`; a command lane the
//! arguments of each command. `--recon` prints the WARP bodies as they arrive instead.

use super::client::{self, Answer, Target};
use crate::{Exit, Io};
use std::collections::HashSet;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tungstenite::Message;
use weft_compiler::manifest::{AdtDesc, LaneKind, Manifest, TypeDesc};
use weft_runtime::value;
use weft_runtime::warp::{self, print, Envelope, MapEvent};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent's URI, such as /counters/a.
    pub uri: String,
    /// The lane to link to.
    pub lane: String,
    /// Stop after this many events (the state counts); by default run until interrupted.
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// Print each event's Recon body as WARP carries it.
    #[arg(long)]
    pub recon: bool,
    #[command(flatten)]
    pub target: Target,
}

/// The longest connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a link that may be stopped looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

pub fn main(args: &Args, io: &Io) -> Exit {
    match link(args, io, None) {
        Ok(exit) => exit,
        Err(e) => {
            io.error(&format!("error: {e}\n"));
            Exit::Error
        }
    }
}

/// How to print one lane's events.
enum Shape {
    /// As they arrive.
    Recon,
    /// A whole value (value and demand lanes, command arguments).
    Value(TypeDesc),
    Map(TypeDesc, TypeDesc),
    /// A list's element type, and the keys of the elements seen so far.
    List(TypeDesc, HashSet<String>),
}

/// The lane's shape from the node's manifest; `None` when the node does not say (then
/// the link itself reports what is missing).
fn shape(args: &Args) -> Result<Option<(Shape, Vec<AdtDesc>)>, String> {
    if args.recon {
        return Ok(Some((Shape::Recon, vec![])));
    }
    let manifest: Manifest = match client::get(&args.target, "/api/v1/manifest")? {
        Answer::Ok(json) => serde_json::from_value(json)
            .map_err(|e| format!("the node sent a manifest this client cannot read: {e}"))?,
        Answer::Failed(e) | Answer::Refused(e) | Answer::Rejected(e, _) => return Err(e),
    };
    let Some((agent, _)) = manifest.route(&args.uri) else {
        return Ok(None);
    };
    let shape = if let Some((_, l)) = agent.lane(&args.lane) {
        match (&l.kind, &l.ty) {
            (LaneKind::Map, TypeDesc::Map(k, v)) => Shape::Map((**k).clone(), (**v).clone()),
            (LaneKind::List, TypeDesc::List(t)) => Shape::List((**t).clone(), HashSet::new()),
            (_, ty) => Shape::Value(ty.clone()),
        }
    } else if let Some(d) = agent.demands.iter().find(|d| d.name == args.lane) {
        Shape::Value(d.ty.clone())
    } else if let Some(m) = agent
        .methods
        .iter()
        .find(|m| m.command && m.name == args.lane)
    {
        match m.params.as_slice() {
            [p] => Shape::Value(p.ty.clone()),
            _ => Shape::Recon,
        }
    } else {
        return Ok(None);
    };
    Ok(Some((shape, manifest.types)))
}

/// The link's loop; with `stop`, it also ends (successfully) once `stop` is set.
pub fn link(args: &Args, io: &Io, stop: Option<&AtomicBool>) -> Result<Exit, String> {
    let (mut shape, types) = shape(args)?.unwrap_or((Shape::Recon, vec![]));
    let authority = args.target.authority()?;
    let url = args.target.url();
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|e| {
        format!(
            "cannot reach a node at {url} ({e}): is `weft run --serve` running there? \
             (set --cluster or WEFT_CLUSTER)"
        )
    })?;
    stream
        .set_read_timeout(Some(CONNECT_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let (mut ws, _) = tungstenite::client(format!("ws://{authority}/"), stream)
        .map_err(|e| format!("{url}: the WebSocket handshake failed: {e}"))?;
    // Events may be far apart: no read timeout once linked, unless `stop` is to be
    // looked at now and then.
    ws.get_ref()
        .set_read_timeout(stop.map(|_| STOP_POLL))
        .map_err(|e| e.to_string())?;
    let sync = Envelope::sync(args.uri.as_str(), args.lane.as_str()).to_text();
    ws.send(Message::text(sync))
        .map_err(|e| format!("{url}: {e}"))?;
    let mut seen = 0u64;
    loop {
        if args.events.is_some_and(|n| seen >= n) {
            let _ = ws.close(None);
            return Ok(Exit::Success);
        }
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            let _ = ws.close(None);
            return Ok(Exit::Success);
        }
        let msg = match ws.read() {
            Ok(msg) => msg,
            Err(tungstenite::Error::Io(e))
                if stop.is_some()
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
            {
                continue
            }
            Err(e) => return Err(format!("{url}: the link broke: {e}")),
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(frame) => {
                let why = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                return Err(format!("{url} closed the link {why}")
                    .trim_end()
                    .to_string());
            }
            _ => continue,
        };
        match Envelope::parse(text.as_str()) {
            Ok(Envelope::Event(e)) => {
                io.say(&line(&mut shape, &e.body, &types));
                seen += 1;
            }
            Ok(Envelope::Unlinked(e)) => {
                let why = match e.body.tag() {
                    Some("nodeNotFound") => format!("no agent serves `{}`", args.uri),
                    Some("laneNotFound") => {
                        format!("the agent at `{}` has no lane `{}`", args.uri, args.lane)
                    }
                    _ => format!("the node ended the link: {}", print(&e.body)),
                };
                io.error(&format!("error: {why}\n"));
                return Ok(Exit::Failure);
            }
            Ok(_) => {}
            Err(e) => return Err(format!("{url} sent a malformed envelope: {e}")),
        }
    }
}

/// One event as a line; a body that does not read as the lane's type prints as Recon.
fn line(shape: &mut Shape, body: &warp::Value, types: &[AdtDesc]) -> String {
    // A whole value prints as `print` would; keys and elements as inside a collection
    // (strings quoted).
    let show_as = |v: &warp::Value, ty: &TypeDesc, top: bool| {
        value::from_recon(v, ty, types)
            .map(|x| match top {
                true => value::show_top(&x, ty, types),
                false => value::show(&x, ty, types),
            })
            .unwrap_or_else(|_| print(v))
    };
    let show = |v: &warp::Value, ty: &TypeDesc| show_as(v, ty, false);
    match shape {
        Shape::Recon => print(body),
        Shape::Value(ty) => show_as(body, ty, true),
        Shape::Map(kt, vt) => match MapEvent::from_value(body) {
            Ok(MapEvent::Update { key, value }) => {
                format!("{}: {}", show(&key, kt), show(&value, vt))
            }
            Ok(MapEvent::Remove { key }) => format!("remove {}", show(&key, kt)),
            Ok(MapEvent::Clear) => "clear".to_string(),
            _ => print(body),
        },
        Shape::List(et, keys) => {
            let header = body.items().first().and_then(|i| match i {
                warp::Item::Attr(tag, h) => Some((tag.as_str(), h)),
                _ => None,
            });
            let Some((tag, h)) = header else {
                return print(body);
            };
            let index = h.get("index").and_then(|i| i.as_f64()).unwrap_or(-1.0);
            let key = h.get("key").map(print).unwrap_or_default();
            match tag {
                "update" => {
                    let verb = if keys.insert(key) { "insert" } else { "update" };
                    format!("{verb} [{index}] {}", show(&body.body(), et))
                }
                "remove" => {
                    keys.remove(&key);
                    format!("remove [{index}]")
                }
                _ => print(body),
            }
        }
    }
}
