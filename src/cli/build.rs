//! `weft build FILE [-o OUT.wasm]`: compiles and writes the WebAssembly module; prints its
//! id (the blake3 of its bytes) on stdout.

use crate::{Exit, Io};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program to compile.
    pub file: String,
    /// Where to write the module (default: FILE with the extension `.wasm`).
    #[arg(short, long, value_name = "OUT.wasm")]
    pub output: Option<PathBuf>,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| Path::new(&args.file).with_extension("wasm"));
    build(&args.file, &out, io)
}

pub fn build(file: &str, out: &Path, io: &Io) -> Exit {
    let artifact = match super::check(file, io).and_then(|c| super::compile(&c, io)) {
        Ok(artifact) => artifact,
        Err(exit) => return exit,
    };
    if let Err(e) = std::fs::write(out, &artifact.wasm) {
        io.error(&format!("error: cannot write {}: {e}\n", out.display()));
        return Exit::Error;
    }
    io.say(&artifact.id.to_string());
    Exit::Success
}
