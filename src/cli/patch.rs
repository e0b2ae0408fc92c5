//! `weft patch FILE`: compiles a new version of the running program and hot-swaps it into
//! the node: the node checks it against the running version and prints the classified
//! diff; a breaking change is refused (exit 1) unless `--force`; otherwise every agent
//! moves to the new code at its next turn boundary, with its lanes migrated, and `main`
//! runs again. `--dry-run` only prints the diff.

use super::client::{self, Answer, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The new version of the program.
    pub file: String,
    /// Apply the patch even when it breaks the running version.
    #[arg(long)]
    pub force: bool,
    /// Print what the patch would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub target: Target,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let artifact = match super::check(&args.file, io).and_then(|c| super::compile(&c, io)) {
        Ok(artifact) => artifact,
        Err(exit) => return exit,
    };
    if args.dry_run {
        let r = client::post_bytes(&args.target, "/api/v1/patch/check", artifact.wasm);
        return match client::expect_ok(io, r) {
            Ok(json) => {
                print_diff(io, &json);
                if json.get("breaking").and_then(|b| b.as_bool()) == Some(true) {
                    io.error("error: the patch breaks the running version\n");
                    Exit::Failure
                } else {
                    Exit::Success
                }
            }
            Err(exit) => exit,
        };
    }
    let path = if args.force {
        "/api/v1/patch?force=true"
    } else {
        "/api/v1/patch"
    };
    match client::post_bytes(&args.target, path, artifact.wasm) {
        Ok(Answer::Rejected(reason, json)) => {
            print_diff(io, &json);
            io.error(&format!("error: {reason}\n"));
            Exit::Failure
        }
        r => match client::expect_ok(io, r) {
            Ok(json) => report(io, &json),
            Err(exit) => exit,
        },
    }
}

fn print_diff(io: &Io, json: &serde_json::Value) {
    let diff = json.get("diff").and_then(|d| d.as_str()).unwrap_or("");
    if diff.is_empty() {
        io.error("no change to agents, lanes, methods or stored types\n");
    } else {
        io.error(diff);
        if !diff.ends_with('\n') {
            io.error("\n");
        }
    }
}

/// Prints what a patch or an undo did; fails (1) when an agent could not move or `main`
/// failed afterwards.
pub fn report(io: &Io, json: &serde_json::Value) -> Exit {
    let diff = json
        .pointer("/report/changes")
        .and_then(|c| c.as_array())
        .map_or(0, Vec::len);
    if diff > 0 {
        let rendered = render(json);
        io.error(&rendered);
    }
    let version = json.pointer("/version/number").and_then(|n| n.as_u64());
    let program = json
        .pointer("/version/program")
        .and_then(|p| p.as_str())
        .unwrap_or("");
    let module = json
        .pointer("/version/module")
        .and_then(|p| p.as_str())
        .unwrap_or("");
    let swapped = json.get("swapped").and_then(|n| n.as_u64()).unwrap_or(0);
    io.say(&format!(
        "{program} is at version {} (module {}); {swapped} active agent{} moved to it",
        version.unwrap_or(0),
        &module[..module.len().min(12)],
        if swapped == 1 { "" } else { "s" }
    ));
    let pause: Vec<u64> = json
        .get("pause_us")
        .and_then(|p| p.as_array())
        .map(|p| p.iter().filter_map(|x| x.as_u64()).collect())
        .unwrap_or_default();
    if let ([p50, p99, max], Some(ms)) = (
        pause.as_slice(),
        json.get("swap_ms").and_then(|m| m.as_u64()),
    ) {
        if swapped > 0 {
            io.error(&format!(
                "swap took {ms} ms; each agent paused {p50} µs (median), {p99} µs (p99), {max} µs (longest)\n"
            ));
        }
    }
    let mut exit = Exit::Success;
    if let Some(failed) = json.get("failed").and_then(|f| f.as_array()) {
        for f in failed {
            let uri = f.get(0).and_then(|u| u.as_str()).unwrap_or("");
            let why = f.get(1).and_then(|u| u.as_str()).unwrap_or("");
            io.error(&format!("error: {uri} stays on its old version: {why}\n"));
            exit = Exit::Failure;
        }
    }
    if let Some(e) = json.get("main_error").and_then(|e| e.as_str()) {
        io.error(&format!("error: `main` failed after the swap: {e}\n"));
        exit = Exit::Failure;
    }
    exit
}

/// The report's changes as `weft_hotswap::Report::render` prints them.
fn render(json: &serde_json::Value) -> String {
    match json
        .get("report")
        .cloned()
        .map(serde_json::from_value::<weft_hotswap::Report>)
    {
        Some(Ok(r)) => r.render(),
        _ => String::new(),
    }
}
