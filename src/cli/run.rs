//! `weft run FILE`: checks, compiles and runs `fn main()`; a trap prints its stack trace
//! and exits 1. A program with agents runs on a node: its agents keep their lanes in the
//! data directory, and the command keeps serving while they have timers (or with
//! `--serve`), or while clients are linked to them. The node's API (HTTP and WARP links)
//! listens on `--api ADDR` from the start (by default 127.0.0.1:7311, or a free port when
//! that one is taken; its address is printed once `main` has returned). Ctrl-C (or
//! SIGTERM) stops taking requests, lets the turns in flight finish, and exits.
//!
//! The data directory keeps every version of the program that ran on it: running a
//! changed program on the same directory patches the stored version (see `weft patch`),
//! refused when breaking unless `--force`.

use super::client::DEFAULT_API;
use super::node::{self, DataDir};
use super::node_cmd::embedded::Embedded;
use super::node_cmd::programs;
use crate::{Exit, Io};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use weft_runtime::agents::{self, Node, PatchError};
use weft_runtime::api::Api;
use weft_runtime::{RunError, RunLimits, Runtime};

/// How long `weft run` waits, after `main`, for the one-way sends it started.
const DRAIN_MAX: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program to run.
    pub file: String,
    /// Stop `main` after this many milliseconds (default: no limit).
    #[arg(long, value_name = "MS")]
    pub time_limit_ms: Option<u64>,
    /// The most memory the program may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub memory_limit_mib: u64,
    /// Where agents keep their lanes (default: a temporary directory, removed on exit).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Keep serving after `main` returns, until interrupted.
    #[arg(long)]
    pub serve: bool,
    /// Stop an agent's turn after this many milliseconds (the agent keeps serving).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub turn_time_limit_ms: u64,
    /// The most one-way messages that may wait for one agent; a turn's send to a
    /// fuller mailbox fails the turn, and `main` waits for room.
    #[arg(long, value_name = "N", default_value_t = agents::SEND_QUEUE_MAX)]
    pub send_queue_max: usize,
    /// The most one-way sends one turn may make.
    #[arg(long, value_name = "N", default_value_t = agents::SENDS_PER_TURN_MAX)]
    pub sends_per_turn_max: usize,
    /// Where the node's API listens, for `weft call`, `weft link` and WARP clients
    /// (default: 127.0.0.1:7311, or a free port when that one is taken).
    #[arg(long, value_name = "ADDR")]
    pub api: Option<String>,
    /// Start even when the data directory holds a version of the program that this
    /// one would break (as `weft patch --force`).
    #[arg(long)]
    pub force: bool,
    /// Run a load balancer provider (`nginx`, from PATH) in front of the program's
    /// services exposed with `lb("nginx")`, each on its `port` of 127.0.0.1.
    #[arg(long, value_name = "PROVIDER")]
    pub lb: Option<String>,
    /// Serve no API (the harness runs programs this way).
    #[arg(skip)]
    pub no_api: bool,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let limits = super::limits(args.time_limit_ms, args.memory_limit_mib);
    match super::runtime(&limits, io) {
        Ok(rt) => run_opts(&args.file, &rt, &limits, args, io),
        Err(exit) => exit,
    }
}

/// Runs `file`'s `main` on `rt`, its prints going to `io.out`.
pub fn run(file: &str, rt: &Runtime, limits: &RunLimits, io: &Io) -> Exit {
    let args = Args {
        file: file.to_string(),
        time_limit_ms: limits.deadline_ms,
        memory_limit_mib: 256,
        data: None,
        serve: false,
        turn_time_limit_ms: 1000,
        send_queue_max: agents::SEND_QUEUE_MAX,
        sends_per_turn_max: agents::SENDS_PER_TURN_MAX,
        api: None,
        force: false,
        lb: None,
        no_api: true,
    };
    run_opts(file, rt, limits, &args, io)
}

fn run_opts(file: &str, rt: &Runtime, limits: &RunLimits, args: &Args, io: &Io) -> Exit {
    let checked = match super::check(file, io) {
        Ok(checked) => checked,
        Err(exit) => return exit,
    };
    if checked.program.main.is_none() {
        io.error(&format!("error: {file} has no `fn main()`\n"));
        return Exit::Error;
    }
    let artifact = match super::compile(&checked, io) {
        Ok(artifact) => artifact,
        Err(exit) => return exit,
    };
    let Some(main) = &artifact.main_export else {
        io.error(&format!("error: {file} has no `fn main()`\n"));
        return Exit::Error;
    };
    if !artifact.manifest.agents.is_empty() || !artifact.manifest.resources.is_empty() {
        return run_node(&checked, &artifact, main, limits, args, io);
    }
    match rt.run_with(&artifact, main, &io.out, limits) {
        Ok(()) => Exit::Success,
        Err(e) => {
            io.error(&format!("{e}\n"));
            exit_for(&e)
        }
    }
}

/// A trap is the program failing (1); anything else means it could not run (2).
pub fn exit_for(e: &RunError) -> Exit {
    match e {
        RunError::Trap { .. } => Exit::Failure,
        _ => Exit::Error,
    }
}

fn run_node(
    checked: &super::Checked,
    artifact: &weft_compiler::Artifact,
    main: &str,
    limits: &RunLimits,
    args: &Args,
    io: &Io,
) -> Exit {
    let data = DataDir::given_or_temporary(args.data.as_deref());
    // The control plane: always with the API, and without it when the program
    // allocates resources.
    let mut control = if !args.no_api || !artifact.manifest.resources.is_empty() {
        match Embedded::start(&data.path.join("cluster")) {
            Ok(c) => Some(c),
            Err(e) => {
                io.error(&format!("error: {e}\n"));
                return Exit::Error;
            }
        }
    } else {
        None
    };
    let exit = run_on(
        checked,
        artifact,
        main,
        limits,
        args,
        &data,
        control.as_mut(),
        io,
    );
    // Last, once the node has stopped: its last turns may still have committed to it.
    if let Some(c) = control {
        c.stop();
    }
    exit
}

/// [`run_node`] on the control plane it started: checks the program's resources,
/// starts the node, records the version, serves the API, runs `main` and serves until
/// done; the node is stopped on return.
#[allow(clippy::too_many_arguments)]
fn run_on(
    checked: &super::Checked,
    artifact: &weft_compiler::Artifact,
    main: &str,
    limits: &RunLimits,
    args: &Args,
    data: &DataDir,
    control: Option<&mut Embedded>,
    io: &Io,
) -> Exit {
    let turn_limits = node::turn_limits(args.turn_time_limit_ms, limits);
    let program = &node::program_name(&args.file);
    let sites = &artifact.manifest.resources;
    let kv: Option<Arc<dyn weft_resources::kinds::Kv>> =
        control.as_ref().map(|c| Arc::new(c.kv()) as _);
    let cluster = kv.as_ref().map(|kv| {
        Arc::new(super::node_cmd::resources::Cluster::new(
            kv.clone(),
            program,
        ))
    });
    if let (Some(kv), Some(cluster)) = (&kv, &cluster) {
        // Every `new` must fit what the cluster holds under its name before anything runs.
        let refused = match cluster.check(sites) {
            Ok(conflicts) => super::deploy::resource_conflicts(checked, &conflicts, "run", io),
            Err(e) => {
                io.error(&format!(
                    "error: cannot check the program's resources: {e}\n"
                ));
                true
            }
        };
        if refused {
            return Exit::Error;
        }
        // The program's Cells run its module from the store.
        if let Err(e) = programs::store_module(&**kv, artifact) {
            io.error(&format!("error: cannot store the program's module: {e}\n"));
            return Exit::Error;
        }
        cluster.set_module(artifact.id.to_string());
    }
    let node = match node::start(artifact, data, turn_limits, limits, program, io, |ns| {
        ns.send_queue_max = args.send_queue_max.max(1);
        ns.sends_per_turn_max = args.sends_per_turn_max;
    }) {
        Ok(node) => node,
        Err(exit) => return exit,
    };
    if let Some(cluster) = &cluster {
        node.set_resources(cluster.clone());
    }
    // The data directory keeps the program's versions: a different program text is a
    // patch of the version stored there (and `main` runs below, as after any patch).
    match node.deploy(args.force) {
        Ok(None) => {}
        Ok(Some(p)) => {
            if !p.report.changes.is_empty() {
                io.error(&p.report.render());
            }
            io.error(&format!(
                "{program}: version {} (the data directory held version {})\n",
                p.version.number,
                p.version.number - 1
            ));
        }
        Err(e) => {
            node.stop(DRAIN_MAX);
            io.error(&format!("error: {}: {e}\n", data.path.display()));
            return match e {
                PatchError::Failed(_) => Exit::Error,
                _ => Exit::Failure,
            };
        }
    }
    let mut control = control;
    let api = match start_api(&node, args, control.as_deref_mut(), io) {
        Ok(api) => api,
        Err(exit) => {
            node.stop(DRAIN_MAX);
            return exit;
        }
    };
    // Cells, services and timers run on the embedded node, placed by its scheduler,
    // while `weft run` serves.
    let cells = sites.iter().any(|s| !s.handlers.is_empty());
    if let (true, Some(control)) = (cells && api.is_some(), control) {
        control.start_cells(io.out.clone());
        if let Some(provider) = &args.lb {
            if let Err(e) = control.start_lb(provider, io.out.clone()) {
                io.error(&format!("error: {e}\n"));
            }
        }
    }
    let r = node.run_main(main, limits);
    if let (Ok(()), Some(cluster), Some(kv)) = (&r, &cluster, &kv) {
        let allocated = cluster.allocated();
        match cluster.finish_main() {
            Ok(orphans) => super::deploy::orphans_note(io, program, &orphans),
            Err(e) => io.error(&format!("warning: cannot mark orphaned resources: {e}\n")),
        }
        // The embedded cluster records the program as a deploy would.
        let recorded = programs::get(&**kv, program).and_then(|before| {
            programs::record(&**kv, program, artifact, allocated, before, "node-1")
        });
        if let Err(e) = recorded {
            io.error(&format!("warning: cannot record the program: {e}\n"));
        }
    }
    if let Err(e) = &r {
        drop(api);
        node.stop(DRAIN_MAX);
        io.error(&format!("{e}\n"));
        return exit_for(e);
    }
    if !node.drain(DRAIN_MAX) {
        io.error("warning: one-way sends were still running when `weft run` stopped waiting\n");
    }
    // Said once `main` is done, so a client that waits for it finds what `main` made.
    if let Some(api) = &api {
        io.error(&format!(
            "api: http://{0} (WARP links: ws://{0})\n",
            api.addr()
        ));
    }
    let interrupted = || api.as_ref().is_some_and(|a| a.interrupted());
    let keep =
        || args.serve || node.has_timers() || node.link_count() > 0 || (cells && api.is_some());
    if keep() && !interrupted() {
        let what = if cells { "cells and agents" } else { "agents" };
        io.error(&format!(
            "serving {what} (data in {}); press Ctrl-C to stop\n",
            data.path.display()
        ));
        node.serve(&|| interrupted() || !keep());
    }
    // Stop taking requests and let the calls in flight finish, then the node's queue.
    drop(api);
    node.stop(DRAIN_MAX);
    Exit::Success
}

/// Starts the node's API unless told not to, with the embedded control plane (a
/// one-member raft group in `DATA/cluster/`) served beside it.
fn start_api(
    node: &Node,
    args: &Args,
    control: Option<&mut Embedded>,
    io: &Io,
) -> Result<Option<Api>, Exit> {
    let (false, Some(control)) = (args.no_api, control) else {
        return Ok(None);
    };
    let fail = |e: String| {
        io.error(&format!("error: {e}\n"));
        Exit::Error
    };
    let started = match &args.api {
        Some(addr) => Api::start_with(node.clone(), addr, control.routes()),
        None => Api::start_with(node.clone(), DEFAULT_API, control.routes())
            .or_else(|_| Api::start_with(node.clone(), "127.0.0.1:0", control.routes())),
    };
    match started {
        Ok(api) => {
            control.register(format!("http://{}", api.addr()));
            Ok(Some(api))
        }
        Err(e) => Err(fail(e)),
    }
}
