//! `weft secret set NAME [--program P] [--cluster URL]`: gives a program's Secret its
//! value, read from stdin (one trailing newline dropped), never from the command line,
//! where other users could see it. The cluster seals it before it is stored; nothing
//! reads it back but the code on the cluster that captured the Secret.

use super::client::{self, Target};
use crate::{Exit, Io};
use std::io::Read;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Set a Secret's value from stdin: `echo -n "$PASSWORD" | weft secret set db`.
    Set {
        /// The Secret: `PROGRAM/NAME`, or `NAME` with `--program`.
        name: String,
        /// The program that allocated it.
        #[arg(long)]
        program: Option<String>,
        #[command(flatten)]
        target: Target,
    },
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let Action::Set {
        name,
        program,
        target,
    } = &args.action;
    let handle = match (name.split_once('/'), program) {
        (Some(_), _) => name.clone(),
        (None, Some(p)) => format!("{p}/{name}"),
        (None, None) => {
            io.error("error: say whose Secret: `PROGRAM/NAME` or `--program PROGRAM`\n");
            return Exit::Error;
        }
    };
    let Some((p, n)) = handle.split_once('/') else {
        return Exit::Error;
    };
    for part in [p, n] {
        if let Some(problem) = super::node_cmd::programs::name_problem(part) {
            io.error(&format!("error: `{handle}`: {problem}\n"));
            return Exit::Error;
        }
    }
    let mut value = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut value) {
        io.error(&format!("error: cannot read the value from stdin: {e}\n"));
        return Exit::Error;
    }
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    let path = format!("/api/v1/secrets/{p}/{n}");
    match client::expect_ok(io, client::put_text(target, &path, value)) {
        Ok(json) => {
            let revision = json["revision"].as_u64().unwrap_or(0);
            io.say(&format!("secret {handle} set (revision {revision})"));
            Exit::Success
        }
        Err(exit) => exit,
    }
}
