//! `weft cluster up` and `weft cluster down`: a local cluster of `weft node --controller`
//! processes on free loopback ports, daemonized (a session of their own, output to files
//! in `DIR/node-I/`) so they outlive the command; their pids and API URLs are recorded
//! in `DIR/node-I/pid` and `DIR/node-I/url`, the members (`--members`) in `DIR/members`
//! (so `up` in the same directory again restarts the same group), the cluster URL in
//! `DIR/cluster`.

use crate::{Exit, Io};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `up` waits for a leader and every member to answer.
const UP_MAX: Duration = Duration::from_secs(30);

/// How long `down` waits after SIGTERM before SIGKILL.
const TERM_MAX: Duration = Duration::from_secs(10);

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Start a local cluster of controllers.
    Up {
        /// How many nodes: 1, 3 or 5.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Where the nodes keep their data, logs and pids (default: the state directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Stop the local cluster's nodes.
    Down {
        /// The directory `up` used.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `$XDG_STATE_HOME/weft/cluster`, else `~/.local/state/weft/cluster`.
pub fn default_dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })?;
    Some(state.join("weft").join("cluster"))
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let dir = match &args.action {
        Action::Up { dir, .. } | Action::Down { dir } => dir.clone().or_else(default_dir),
    };
    let Some(dir) = dir else {
        io.error("error: no --dir, and neither XDG_STATE_HOME nor HOME is set\n");
        return Exit::Error;
    };
    let done = match &args.action {
        Action::Up { nodes, .. } => up(*nodes, &dir, io),
        Action::Down { .. } => down(&dir, io),
    };
    match done {
        Ok(()) => Exit::Success,
        Err(e) => {
            io.error(&format!("error: {e}\n"));
            Exit::Error
        }
    }
}

/// A free loopback port (free when asked; the node binds it a moment later).
fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// The pids recorded under `dir`, by node directory.
pub fn recorded_pids(dir: &Path) -> Vec<(PathBuf, i32)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut pids: Vec<(PathBuf, i32)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("node-"))
        })
        .filter_map(|p| {
            let pid = std::fs::read_to_string(p.join("pid")).ok()?;
            Some((p, pid.trim().parse().ok()?))
        })
        .collect();
    pids.sort();
    pids
}

/// Whether `pid` runs (a zombie, which no parent reaped yet, does not).
pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_none_or(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

fn up(n: usize, dir: &Path, io: &Io) -> Result<(), String> {
    if ![1, 3, 5].contains(&n) {
        return Err(format!("--nodes must be 1, 3 or 5, not {n}"));
    }
    if let Some((_, pid)) = recorded_pids(dir).into_iter().find(|(_, p)| alive(*p)) {
        return Err(format!(
            "a cluster already runs from {} (pid {pid}): `weft cluster down` first",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // A cluster brought up again in the same directory keeps its addresses: its raft
    // membership names them.
    let recorded = dir.join("members");
    let mut addrs = Vec::new();
    if let Ok(text) = std::fs::read_to_string(&recorded) {
        let members = super::node_cmd::parse_members(text.trim())
            .map_err(|e| format!("{}: {e}", recorded.display()))?;
        if members.len() != n {
            return Err(format!(
                "{} already holds a cluster of {} nodes, not {n}: use another --dir",
                dir.display(),
                members.len()
            ));
        }
        for m in members.into_values() {
            let api = m
                .api
                .ok_or_else(|| format!("{}: no API address", recorded.display()))?;
            addrs.push((m.raft, api));
        }
    } else {
        for _ in 0..n {
            addrs.push((
                format!("127.0.0.1:{}", free_port()?),
                format!("127.0.0.1:{}", free_port()?),
            ));
        }
    }
    let members = addrs
        .iter()
        .enumerate()
        .map(|(i, (raft, api))| format!("{}={raft}@{api}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    std::fs::write(&recorded, format!("{members}\n")).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find weft itself: {e}"))?;
    let mut urls = Vec::new();
    for (i, (raft, api)) in addrs.iter().enumerate() {
        let id = i + 1;
        let node_dir = dir.join(format!("node-{id}"));
        std::fs::create_dir_all(&node_dir).map_err(|e| format!("{}: {e}", node_dir.display()))?;
        let log = |name: &str| {
            std::fs::File::create(node_dir.join(name))
                .map_err(|e| format!("{}: {e}", node_dir.join(name).display()))
        };
        let mut command = Command::new(&exe);
        command
            .arg("node")
            .arg("--data")
            .arg(node_dir.join("data"))
            .args(["--listen", raft, "--api", api, "--controller"])
            .args(["--id", &id.to_string(), "--members", &members])
            .stdin(Stdio::null())
            .stdout(log("stdout")?)
            .stderr(log("stderr")?);
        // SAFETY: setsid is async-signal-safe; the child gets a session of its own so
        // it outlives this command and its terminal's signals.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start node {id}: {e}"))?;
        std::fs::write(node_dir.join("pid"), format!("{}\n", child.id()))
            .map_err(|e| e.to_string())?;
        let url = format!("http://{api}");
        std::fs::write(node_dir.join("url"), format!("{url}\n")).map_err(|e| e.to_string())?;
        urls.push(url);
    }
    if let Err(e) = wait_ready(&urls) {
        let _ = down(dir, &Io::buffers());
        let mut why = e;
        for i in 1..=n {
            let log =
                std::fs::read_to_string(dir.join(format!("node-{i}/stderr"))).unwrap_or_default();
            why.push_str(&format!("\nnode-{i}: {}", log.trim()));
        }
        return Err(why);
    }
    let url = &urls[0];
    std::fs::write(dir.join("cluster"), format!("{url}\n")).map_err(|e| e.to_string())?;
    io.say(url);
    Ok(())
}

/// Waits (at most [`UP_MAX`]) until every member answers `nodes` with one leader and
/// every member Ready.
fn wait_ready(urls: &[String]) -> Result<(), String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let until = Instant::now() + UP_MAX;
    let mut last = String::from("no answer yet");
    while Instant::now() < until {
        let mut ready = true;
        for url in urls {
            let got = client
                .get(format!("{url}/api/v1/nodes"))
                .send()
                .and_then(|r| r.json::<serde_json::Value>());
            let rows = match got {
                Ok(serde_json::Value::Array(rows)) => rows,
                Ok(other) => {
                    last = format!("{url}: {other}");
                    ready = false;
                    break;
                }
                Err(e) => {
                    last = format!("{url}: {e}");
                    ready = false;
                    break;
                }
            };
            let leaders = rows.iter().filter(|r| r["role"] == "leader").count();
            let all_ready = rows.iter().all(|r| r["state"] == "Ready");
            if leaders != 1 || !all_ready || rows.len() != urls.len() {
                last = format!("{url}: {}", serde_json::Value::Array(rows));
                ready = false;
                break;
            }
        }
        if ready {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the cluster was not ready within {UP_MAX:?}: {last}"
    ))
}

fn down(dir: &Path, io: &Io) -> Result<(), String> {
    let pids = recorded_pids(dir);
    if pids.is_empty() {
        io.say(&format!("no nodes recorded in {}", dir.display()));
        return Ok(());
    }
    for (_, pid) in &pids {
        if alive(*pid) {
            // SAFETY: a plain signal to a recorded pid.
            unsafe { libc::kill(*pid, libc::SIGTERM) };
        }
    }
    let until = Instant::now() + TERM_MAX;
    while Instant::now() < until && pids.iter().any(|(_, p)| alive(*p)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for (node_dir, pid) in &pids {
        if alive(*pid) {
            io.error(&format!("warning: pid {pid} ignored SIGTERM; killing it\n"));
            // SAFETY: as above.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        let _ = std::fs::remove_file(node_dir.join("pid"));
    }
    let _ = std::fs::remove_file(dir.join("cluster"));
    io.say(&format!("stopped {} nodes", pids.len()));
    Ok(())
}
