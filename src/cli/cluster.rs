//! `weft cluster up` and `weft cluster down`: a local cluster of `weft node` processes
//! on free loopback ports: 3 controllers when there are at least 3 nodes (else 1), the
//! rest workers that join with the cluster's bootstrap token. The processes are
//! daemonized (a session of their own, output to files in `DIR/node-I/`) so they outlive
//! the command; each node's command line, pid and API URL are recorded in
//! `DIR/node-I/{args,pid,url}`, the controllers (`--members`) in `DIR/members`, the token
//! in `DIR/token`, the cluster URL in `DIR/cluster`. `up` in a directory whose cluster
//! partly runs starts only the nodes that are not running, with their recorded command
//! lines: the same nodes, with their data.

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
        /// How many nodes (1 to 9): 3 controllers from 3 nodes on (else 1), the rest
        /// workers.
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

/// `n` distinct free loopback ports (free when asked; the nodes bind them a moment
/// later). All are held until all are chosen, so the kernel cannot hand one out twice.
fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let held = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    held.iter()
        .map(|l| Ok(l.local_addr().map_err(|e| e.to_string())?.port()))
        .collect()
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

/// The most nodes `up` starts.
const NODES_MAX: usize = 9;

fn up(n: usize, dir: &Path, io: &Io) -> Result<(), String> {
    if !(1..=NODES_MAX).contains(&n) {
        return Err(format!(
            "--nodes must be between 1 and {NODES_MAX}, not {n}"
        ));
    }
    let known = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().any(|e| e.path().join("args").exists()))
        .unwrap_or(false);
    if known {
        return restart(n, dir, io);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let controllers = if n >= 3 { 3 } else { 1 };
    let members_file = dir.join("members");
    if members_file.exists() {
        return Err(format!(
            "{} holds a cluster whose nodes were never started: use another --dir",
            dir.display()
        ));
    }
    let addrs: Vec<(String, String)> = free_ports(2 * controllers)?
        .chunks(2)
        .map(|p| (format!("127.0.0.1:{}", p[0]), format!("127.0.0.1:{}", p[1])))
        .collect();
    let members = addrs
        .iter()
        .enumerate()
        .map(|(i, (raft, api))| format!("{}={raft}@{api}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    std::fs::write(&members_file, format!("{members}\n")).map_err(|e| e.to_string())?;
    let token = new_token()?;
    write_private(&dir.join("token"), &format!("{token}\n"))?;
    let mut urls = Vec::new();
    for (i, (raft, api)) in addrs.iter().enumerate() {
        let id = i + 1;
        let node_dir = dir.join(format!("node-{id}"));
        let data = node_dir.join("data");
        let args: Vec<String> = vec![
            "node".into(),
            "--data".into(),
            path_text(&data)?,
            "--listen".into(),
            raft.clone(),
            "--api".into(),
            api.clone(),
            "--controller".into(),
            "--id".into(),
            id.to_string(),
            "--members".into(),
            members.clone(),
            "--token".into(),
            token.clone(),
        ];
        urls.push(start_node(&node_dir, &args, &format!("http://{api}"))?);
    }
    let controller_urls = urls.join(",");
    let ready = wait_ready(&urls, controllers).and_then(|()| {
        for id in controllers + 1..=n {
            let node_dir = dir.join(format!("node-{id}"));
            let api = format!("127.0.0.1:{}", free_ports(1)?[0]);
            let args: Vec<String> = vec![
                "node".into(),
                "--data".into(),
                path_text(&node_dir.join("data"))?,
                "--listen".into(),
                api.clone(),
                "--join".into(),
                controller_urls.clone(),
                "--token".into(),
                token.clone(),
            ];
            start_node(&node_dir, &args, &format!("http://{api}"))?;
            // One at a time, so node-I gets id I.
            wait_joined(&node_dir)?;
        }
        wait_ready(&urls, n)
    });
    finish(dir, n, &urls, ready, io)
}

/// Starts again, with their recorded command lines, the nodes of `dir` that do not run.
fn restart(n: usize, dir: &Path, io: &Io) -> Result<(), String> {
    let mut node_dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("args").exists())
        .collect();
    node_dirs.sort_by_key(|p| node_number(p));
    if node_dirs.len() != n {
        return Err(format!(
            "{} holds a cluster of {} nodes, not {n}: use another --dir",
            dir.display(),
            node_dirs.len()
        ));
    }
    let mut urls = Vec::new();
    let mut started = 0;
    for node_dir in &node_dirs {
        let url = std::fs::read_to_string(node_dir.join("url"))
            .map_err(|e| format!("{}: {e}", node_dir.join("url").display()))?
            .trim()
            .to_string();
        let args: Vec<String> = std::fs::read_to_string(node_dir.join("args"))
            .map_err(|e| format!("{}: {e}", node_dir.join("args").display()))?
            .lines()
            .map(String::from)
            .collect();
        let running = std::fs::read_to_string(node_dir.join("pid"))
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .is_some_and(alive);
        if args.iter().any(|a| a == "--controller") {
            urls.push(url.clone());
        }
        if !running {
            start_node(node_dir, &args, &url)?;
            started += 1;
        }
    }
    if started == 0 {
        io.error(&format!("the cluster in {} already runs\n", dir.display()));
    }
    let ready = wait_ready(&urls, n);
    finish(dir, n, &urls, ready, io)
}

fn node_number(dir: &Path) -> u64 {
    dir.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("node-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Records the cluster's URL once it is ready, or stops it and says why not.
fn finish(
    dir: &Path,
    n: usize,
    urls: &[String],
    ready: Result<(), String>,
    io: &Io,
) -> Result<(), String> {
    if let Err(e) = ready {
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

fn path_text(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(String::from)
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// 32 random bytes from the system, as hex.
fn new_token() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `text` to `path`, readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Starts `weft ARGS` as a daemon of `node_dir` (recording its command line, pid and
/// API URL); answers the URL.
fn start_node(node_dir: &Path, args: &[String], url: &str) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find weft itself: {e}"))?;
    std::fs::create_dir_all(node_dir).map_err(|e| format!("{}: {e}", node_dir.display()))?;
    let log = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node_dir.join(name))
            .map_err(|e| format!("{}: {e}", node_dir.join(name).display()))
    };
    write_private(&node_dir.join("args"), &format!("{}\n", args.join("\n")))?;
    let mut command = Command::new(&exe);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(log("stdout")?)
        .stderr(log("stderr")?);
    // SAFETY: setsid is async-signal-safe; the child gets a session of its own so it
    // outlives this command and its terminal's signals.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", node_dir.display()))?;
    std::fs::write(node_dir.join("pid"), format!("{}\n", child.id())).map_err(|e| e.to_string())?;
    std::fs::write(node_dir.join("url"), format!("{url}\n")).map_err(|e| e.to_string())?;
    Ok(url.to_string())
}

/// Waits until the worker in `node_dir` has recorded the id the cluster gave it.
fn wait_joined(node_dir: &Path) -> Result<(), String> {
    let until = Instant::now() + UP_MAX;
    let identity = node_dir.join("data").join("node.json");
    while Instant::now() < until {
        if identity.exists() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "{} did not join within {UP_MAX:?}",
        node_dir.display()
    ))
}

/// Waits (at most [`UP_MAX`]) until every controller in `urls` answers `nodes` with one
/// leader and `nodes` nodes, every one Ready.
fn wait_ready(urls: &[String], nodes: usize) -> Result<(), String> {
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
            if leaders != 1 || !all_ready || rows.len() != nodes {
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
