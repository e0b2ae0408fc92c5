//! `weft check FILE`: the front end only. Prints the diagnostics (nothing when there are
//! none); exits 2 when any is an error.

use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program to check (with the files it `use`s).
    pub file: String,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    check(&args.file, io)
}

pub fn check(file: &str, io: &Io) -> Exit {
    match super::check(file, io) {
        Ok(_) => Exit::Success,
        Err(exit) => exit,
    }
}
