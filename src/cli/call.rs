//! `weft call URI METHOD ARGS...`: calls an agent's method on a running node and prints
//! the result in Weft syntax. The node reads each argument against the method's
//! parameter type (Weft literals; a bare word where a `String` is expected).

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agent's URI, such as /counters/a.
    pub uri: String,
    /// The method (or command lane) to call.
    pub method: String,
    /// The arguments, one per parameter (after `--` when one starts with `-`).
    #[arg(allow_negative_numbers = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub target: Target,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let body = serde_json::json!({
        "uri": args.uri,
        "method": args.method,
        "args": args.args,
    });
    match client::expect_ok(io, client::post(&args.target, "/api/v1/call", &body)) {
        Ok(json) => {
            let value = json.get("value").and_then(|v| v.as_str()).unwrap_or("");
            io.say(value);
            Exit::Success
        }
        Err(exit) => exit,
    }
}
