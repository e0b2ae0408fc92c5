//! `weft store get KEY`, `weft store put KEY VALUE [--if-value V | --if-revision N]`,
//! `weft store delete KEY`, `weft store ls [PREFIX]`, `weft store watch KEY [--prefix]
//! [--from R]`: the cluster's replicated store, read and written through any node's API
//! (watches through a controller's).

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Print a key's value.
    Get {
        key: String,
        #[command(flatten)]
        target: Target,
    },
    /// Set a key's value (compare-and-swap with `--if-value` or `--if-revision`).
    Put {
        key: String,
        value: String,
        /// Only if the key's current value is this.
        #[arg(long, value_name = "V", conflicts_with = "if_revision")]
        if_value: Option<String>,
        /// Only if the key was last changed at this revision (0: it does not exist).
        #[arg(long, value_name = "N")]
        if_revision: Option<u64>,
        #[command(flatten)]
        target: Target,
    },
    /// Delete a key.
    Delete {
        key: String,
        #[command(flatten)]
        target: Target,
    },
    /// Print every change to a key (or, with --prefix, to every key under it) as it
    /// happens, until interrupted.
    Watch {
        key: String,
        /// Watch every key that starts with KEY.
        #[arg(long)]
        prefix: bool,
        /// Start at this revision (replaying the changes since); default: from now.
        #[arg(long, value_name = "R")]
        from: Option<u64>,
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        events: Option<u64>,
        #[command(flatten)]
        target: Target,
    },
    /// List the keys under a prefix (all by default), one `KEY VALUE` row each.
    Ls {
        prefix: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

/// `text` with every byte outside `A-Za-z0-9-._~/` percent-encoded (`/` kept when `slash`).
pub fn encode(text: &str, slash: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn main(args: &Args, io: &Io) -> Exit {
    match &args.action {
        Action::Get { key, target } => {
            let path = format!("/api/v1/store/{}", encode(key, true));
            match client::expect_ok(io, client::get(target, &path)) {
                Ok(json) => {
                    io.say(json["value"].as_str().unwrap_or_default());
                    Exit::Success
                }
                Err(exit) => exit,
            }
        }
        Action::Put {
            key,
            value,
            if_value,
            if_revision,
            target,
        } => {
            let mut path = format!("/api/v1/store/{}", encode(key, true));
            if let Some(v) = if_value {
                path.push_str(&format!("?if_value={}", encode(v, false)));
            }
            if let Some(r) = if_revision {
                path.push_str(&format!("?if_revision={r}"));
            }
            match client::expect_ok(io, client::put_text(target, &path, value.clone())) {
                Ok(_) => {
                    io.say("OK");
                    Exit::Success
                }
                Err(exit) => exit,
            }
        }
        Action::Delete { key, target } => {
            let path = format!("/api/v1/store/{}", encode(key, true));
            match client::expect_ok(io, client::delete(target, &path)) {
                Ok(_) => {
                    io.say("deleted");
                    Exit::Success
                }
                Err(exit) => exit,
            }
        }
        Action::Watch {
            key,
            prefix,
            from,
            events,
            target,
        } => match watch(key, *prefix, *from, *events, target, io) {
            Ok(exit) => exit,
            Err(e) => {
                io.error(&format!("error: {e}\n"));
                Exit::Error
            }
        },
        Action::Ls { prefix, target } => {
            let path = format!(
                "/api/v1/store?prefix={}",
                encode(prefix.as_deref().unwrap_or(""), false)
            );
            let json = match client::expect_ok(io, client::get(target, &path)) {
                Ok(json) => json,
                Err(exit) => return exit,
            };
            let rows: Vec<[String; 2]> = json["kvs"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or(&[])
                .iter()
                .map(|kv| {
                    let s = |k: &str| kv[k].as_str().unwrap_or_default().to_string();
                    [s("key"), s("value")]
                })
                .collect();
            io.say(&super::get::table(&["KEY", "VALUE"], &rows));
            if json["more"].as_bool() == Some(true) {
                io.error("warning: more keys than listed (the listing is capped)\n");
            }
            Exit::Success
        }
    }
}

/// Streams the watch's events as lines: `PUT KEY VALUE (revision R)`,
/// `DELETE KEY (revision R)`.
fn watch(
    key: &str,
    prefix: bool,
    from: Option<u64>,
    events: Option<u64>,
    target: &Target,
    io: &Io,
) -> Result<Exit, String> {
    use std::net::{TcpStream, ToSocketAddrs};
    use tungstenite::Message;
    let authority = target.authority()?;
    let url = target.url();
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    let stream =
        TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3)).map_err(|e| {
            format!("cannot reach a node at {url}: {e} (set --cluster or WEFT_CLUSTER)")
        })?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut query = format!("prefix={}", encode(key, false));
    if let Some(from) = from {
        query.push_str(&format!("&from={from}"));
    }
    let (mut ws, _) =
        match tungstenite::client(format!("ws://{authority}/api/v1/watch?{query}"), stream) {
            Ok(ok) => ok,
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                let body = response.body().clone().unwrap_or_default();
                let reason = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|j| j["error"].as_str().map(String::from))
                    .unwrap_or_else(|| response.status().to_string());
                return Err(format!("{url}: {reason}"));
            }
            Err(e) => return Err(format!("{url}: the WebSocket handshake failed: {e}")),
        };
    // Changes may be far apart: no read timeout once watching.
    ws.get_ref()
        .set_read_timeout(None)
        .map_err(|e| e.to_string())?;
    if events == Some(0) {
        return Ok(Exit::Success);
    }
    let mut seen = 0;
    loop {
        let text = match ws.read() {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(frame)) => {
                let why = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                return Err(format!("{url} ended the watch: {why}"));
            }
            Ok(_) => continue,
            Err(e) => return Err(format!("{url}: the watch broke: {e}")),
        };
        let event: serde_json::Value =
            serde_json::from_str(text.as_str()).map_err(|e| format!("{url}: {e}"))?;
        if let Some(reason) = event["error"].as_str() {
            return Err(reason.to_string());
        }
        let s = |k: &str| event[k].as_str().unwrap_or_default().to_string();
        // The node watches a prefix; one key is that prefix's own events.
        if !prefix && s("key") != key {
            continue;
        }
        let line = match event["type"].as_str() {
            Some("delete") => format!("DELETE {} (revision {})", s("key"), event["revision"]),
            _ => format!(
                "PUT {} {} (revision {})",
                s("key"),
                s("value"),
                event["revision"]
            ),
        };
        io.say(&line);
        seen += 1;
        if events.is_some_and(|n| seen >= n) {
            let _ = ws.close(None);
            return Ok(Exit::Success);
        }
    }
}
