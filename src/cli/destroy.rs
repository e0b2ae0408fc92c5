//! `weft destroy PROGRAM [--prune] [--cluster URL]`: releases what a program allocated,
//! on purpose. Without `--prune` every resource of the program goes, with its data
//! (queued messages, rows), and so does the program's record; with `--prune` only the
//! resources its latest `main` no longer allocates (orphaned) go.

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program, as `weft get programs` names it.
    pub program: String,
    /// Release only the program's orphaned resources; the program stays.
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub target: Target,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    if let Some(problem) = super::node_cmd::programs::name_problem(&args.program) {
        io.error(&format!("error: {problem}\n"));
        return Exit::Error;
    }
    let mut path = format!("/api/v1/programs/{}", args.program);
    if args.prune {
        path.push_str("?prune=true");
    }
    let json = match client::expect_ok(io, client::delete(&args.target, &path)) {
        Ok(json) => json,
        Err(exit) => return exit,
    };
    let released = client::strings(&json["released"]);
    let program = &args.program;
    if released.is_empty() {
        io.say(&format!("{program}: no resources released"));
    } else {
        io.say(&format!("{program}: released {}", released.join(", ")));
    }
    if json["removed"].as_bool() == Some(true) {
        io.say(&format!("{program}: removed"));
    }
    Exit::Success
}
