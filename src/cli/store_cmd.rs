//! `weft store get KEY`, `weft store put KEY VALUE`, `weft store ls [PREFIX]`: the
//! cluster's replicated store, read and written through any controller's API.

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
    /// Set a key's value.
    Put {
        key: String,
        value: String,
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
        Action::Put { key, value, target } => {
            let path = format!("/api/v1/store/{}", encode(key, true));
            match client::expect_ok(io, client::put_text(target, &path, value.clone())) {
                Ok(_) => {
                    io.say("OK");
                    Exit::Success
                }
                Err(exit) => exit,
            }
        }
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
