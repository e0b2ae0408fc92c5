//! `weft link URI LANE`: links to a lane over WARP and prints its state, then every
//! change, one Recon body per line, until interrupted (or `--events N` have arrived).
//! Map lanes print `@update(key:K) V` and `@remove(key:K)`; list lanes
//! `@update(index:I,key:K) V` and `@remove(index:I,key:K)`, as WARP carries them.

use super::client::Target;
use crate::{Exit, Io};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;
use tungstenite::Message;
use weft_runtime::warp::{print, Envelope};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent's URI, such as /counters/a.
    pub uri: String,
    /// The lane to link to.
    pub lane: String,
    /// Stop after this many events (the state counts); by default run until interrupted.
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    #[command(flatten)]
    pub target: Target,
}

/// The longest connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub fn main(args: &Args, io: &Io) -> Exit {
    match link(args, io) {
        Ok(exit) => exit,
        Err(e) => {
            io.error(&format!("error: {e}\n"));
            Exit::Error
        }
    }
}

fn link(args: &Args, io: &Io) -> Result<Exit, String> {
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
    // Events may be far apart: no read timeout once linked.
    ws.get_ref()
        .set_read_timeout(None)
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
        let msg = match ws.read() {
            Ok(msg) => msg,
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
                io.say(&print(&e.body));
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
