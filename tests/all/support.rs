//! What the process tests share: running the built `weft`, scratch directories, and a
//! served node (`weft run --serve`) that is killed when the test ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs the built `weft` with `args` to completion.
pub fn weft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .env_remove("WEFT_CLUSTER")
        .output()
        .unwrap_or_else(|e| panic!("cannot start weft: {e}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory of this test's own under cargo's scratch directory, emptied first.
pub fn scratch_dir(group: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// Writes `text` to `dir/name`; its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

/// Waits (at most `max`) for a child to finish, then kills it if it has not; its output.
/// (Meant for children that print little: a full pipe would stall them until `max`.)
pub fn wait_output(mut child: Child, max: Duration) -> Output {
    wait_exit(&mut child, max);
    let _ = child.kill();
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

/// Waits (at most `max`) for `child` to exit by itself.
fn wait_exit(child: &mut Child, max: Duration) -> Option<std::process::ExitStatus> {
    let until = std::time::Instant::now() + max;
    while std::time::Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// `weft run FILE --serve` on a free loopback port; killed (SIGKILL) when dropped.
pub struct Served {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The rest of its stderr, line by line.
    pub stderr: mpsc::Receiver<String>,
}

/// The longest a node may take to start serving.
const START_MAX: Duration = Duration::from_secs(60);

impl Served {
    pub fn start(file: &Path, data: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .arg("run")
            .arg(file)
            .arg("--serve")
            .args(["--api", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start weft: {e}"));
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = vec![];
        let url = loop {
            match rx.recv_timeout(START_MAX) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("api: ") {
                        break rest.split(' ').next().unwrap_or(rest).to_string();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the node did not start serving: {}", seen.join("\n"));
                }
            }
        };
        Served {
            child,
            url,
            stderr: rx,
        }
    }

    /// `host:port`.
    pub fn authority(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// Runs a client command (`call`, `link`, `get`) against this node.
    pub fn weft(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--cluster", self.url.as_str()]);
        weft(&all)
    }

    /// Sends the process a signal by name (`INT`, `TERM`), as `kill -NAME` does.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{name} failed");
    }

    /// Waits (at most `max`) for the process to exit by itself.
    pub fn wait_exit(&mut self, max: Duration) -> Option<std::process::ExitStatus> {
        wait_exit(&mut self.child, max)
    }

    /// Its stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The ready endpoints of `service` that `weft describe resource` lists on `node`.
pub fn ready_endpoints(node: &Served, service: &str) -> Vec<String> {
    let out = node.weft(&["describe", "resource", service]);
    text(&out.stdout)
        .lines()
        .filter(|l| l.trim_end().ends_with(" ready"))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// The first ready endpoint of `service` on `node`, once there is one (at most 30 s).
pub fn endpoint(node: &Served, service: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Some(e) = ready_endpoints(node, service).into_iter().next() {
            return e;
        }
        assert!(
            start.elapsed() < START_MAX / 2,
            "no ready endpoint of {service}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Fails at once, saying what to install, when nginx is not on PATH (the load balancer
/// tests run a real one; `.ci/run` installs it).
pub fn require_nginx() {
    let found = std::process::Command::new("nginx")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "this test runs nginx: install it (`apt-get install nginx-light`) and put it on PATH"
    );
}

/// One running instance, as `weft get cells -o json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Running {
    /// Its resource's handle, `PROGRAM/NAME`.
    pub cell: String,
    pub replica: u64,
    pub node: String,
    /// Events handled (reported once a second).
    pub handled: u64,
}

/// The running instances in `cells` (`weft get cells -o json`), by resource and replica.
pub fn running(cells: &serde_json::Value) -> Vec<Running> {
    let mut out: Vec<Running> = cells
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter(|c| c["state"] == "running")
        .map(|c| Running {
            cell: c["cell"].as_str().unwrap_or("").to_string(),
            replica: c["replica"].as_u64().unwrap_or(0),
            node: c["node"].as_str().unwrap_or("").to_string(),
            handled: c["handled"].as_u64().unwrap_or(0),
        })
        .collect();
    out.sort();
    out
}
