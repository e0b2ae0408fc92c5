//! Cells on workers: a cluster of one controller and two workers runs a Cell's replicas
//! on all three nodes (the workers over the controllers' `POST /api/v1/kv`), moves the
//! replica of a worker killed with -9 to a live node within the lease TTL and 5 s, and
//! handles every message sent before and after the kill. The Kv route itself answers
//! writes, ranges and counts and refuses bad bodies with a reason. A watch through a
//! worker is a controller's watch, passed through.

use super::cluster_cli::{path, Cluster};
use super::support::{running, scratch_dir, text, wait_output, weft, write};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Cell of three replicas taking the jobs `FROM..TO` that `main` sends once they
/// have had time to start.
const PROGRAM: &str = r#"
type Job = { id: Int, url: String }

fn main() {
  let jobs = new QueueService<Job>("jobs", visibility: 3s)
  let results = new Table<Int, String>("results")
  new Cell("workers", replicas: 3, memory: 64 * MiB, cpu: 100 * milli) {
    // Each job takes a while, so that no one replica takes them all.
    on jobs |job| {
      sleep(30ms)
      results.put(job.id, "done {job.url}")
    }
  }
  // Time for every replica to start, so that they all take messages.
  sleep(2s)
  var i = FROM
  while i < TO {
    jobs.send(Job { id: i, url: "u{i}" })
    i += 1
  }
}
"#;

/// The heartbeat lease's TTL `weft cluster up` gives its nodes.
const LEASE_TTL: Duration = Duration::from_secs(3);

/// A child process killed and reaped when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Polls `weft get WHAT -o json` through node 1 until `done` holds (at most `max`).
pub(crate) fn wait_json(
    cluster: &Cluster,
    what: &str,
    max: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let until = Instant::now() + max;
    loop {
        let now = json_of(&cluster.weft(1, &["get", what, "-o", "json"]));
        if done(&now) || Instant::now() >= until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(|a| a.as_slice()).unwrap_or(&[])
}

fn rows_of(resources: &Value, name: &str) -> u64 {
    list(resources)
        .iter()
        .find(|r| r["name"] == name)
        .and_then(|r| r["size"]["rows"].as_u64())
        .unwrap_or(0)
}

/// Starts one more worker of `cluster` as `node-ID` (with `extra` arguments), its pid
/// recorded where `weft cluster down` and the cluster's drop find it.
pub(crate) fn start_worker(cluster: &Cluster, id: u64, extra: &[&str]) -> Killed {
    let node_dir = cluster.dir.join(format!("node-{id}"));
    std::fs::create_dir_all(&node_dir).expect("the node's directory");
    let token = std::fs::read_to_string(cluster.dir.join("token")).expect("the token");
    let log = |name: &str| std::fs::File::create(node_dir.join(name)).expect("a log file");
    let child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["node", "--listen", "127.0.0.1:0", "--data"])
        .arg(node_dir.join("data"))
        .args(["--join", &cluster.url(1), "--token", token.trim()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log("stdout"))
        .stderr(log("stderr"))
        .spawn()
        .expect("weft node");
    std::fs::write(node_dir.join("pid"), format!("{}\n", child.id())).expect("the pid file");
    Killed(child)
}

/// `POST URL/api/v1/kv` with `body`: the status and the JSON answer.
fn kv(client: &reqwest::blocking::Client, url: &str, body: Vec<u8>) -> (u16, Value) {
    let r = client
        .post(format!("{url}/api/v1/kv"))
        .body(body)
        .send()
        .expect("an answer");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// The route as a worker uses it (through the worker's API, passed on), and its
/// refusals.
fn check_kv_route(cluster: &Cluster) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client");
    let worker = cluster.url(2);
    let put = json!({ "Write": { "Put": {
        "key": b"/t/kv/a".to_vec(), "value": b"1".to_vec(), "lease": null, "prev_kv": false
    } } });
    let (status, reply) = kv(&client, &worker, put.to_string().into_bytes());
    assert_eq!(status, 200, "{reply}");
    assert!(reply["revision"].as_u64().is_some(), "{reply}");
    let range = json!({ "Range": { "prefix": b"/t/kv/".to_vec(), "limit": 10 } });
    let (status, pairs) = kv(&client, &cluster.url(1), range.to_string().into_bytes());
    assert_eq!(status, 200, "{pairs}");
    assert_eq!(pairs[0]["value"], json!(b"1".to_vec()), "{pairs}");
    let count = json!({ "Count": { "prefix": b"/t/kv/".to_vec() } });
    let (status, n) = kv(&client, &worker, count.to_string().into_bytes());
    assert_eq!((status, n), (200, json!(1)));

    let refusals = [
        (b"not json".to_vec(), 400, "not a Kv request"),
        (br#"{"Drop": {}}"#.to_vec(), 400, "not a Kv request"),
        (
            json!({ "Write": { "Put": { "key": [], "value": [], "lease": null, "prev_kv": false } } })
                .to_string()
                .into_bytes(),
            422,
            "empty",
        ),
        (
            json!({ "Write": { "LeaseExpire": { "now_ms": u64::MAX } } })
                .to_string()
                .into_bytes(),
            400,
            "proposed by the leader",
        ),
        (
            json!({ "Write": "LeaseRestart" }).to_string().into_bytes(),
            400,
            "proposed by the leader",
        ),
        (vec![b' '; (32 << 20) + 1], 413, "at most"),
    ];
    for (body, want, why) in refusals {
        let (status, answer) = kv(&client, &cluster.url(1), body);
        assert_eq!(status, want, "{answer}");
        let reason = answer["error"].as_str().unwrap_or("");
        assert!(reason.contains(why), "{reason}");
    }
}

#[test]
fn workers_run_cells_and_their_replicas_move_off_a_killed_worker() {
    let dir = scratch_dir("weft-cells-workers", "three");
    let cluster = Cluster { dir: dir.join("c") };
    // One controller and one worker, then a second worker.
    let up = weft(&["cluster", "up", "--nodes", "2", "--dir", path(&cluster.dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let _third = start_worker(&cluster, 3, &[]);
    let nodes = wait_json(&cluster, "nodes", Duration::from_secs(20), |n| {
        list(n).len() == 3 && list(n).iter().all(|n| n["state"] == "Ready")
    });
    let workers: Vec<&Value> = list(&nodes)
        .iter()
        .filter(|n| n["role"] == "worker" && n["state"] == "Ready")
        .collect();
    assert_eq!(workers.len(), 2, "{nodes}");
    check_kv_route(&cluster);

    // Three replicas, one on each node, and every message handled.
    let program = PROGRAM.replace("FROM", "0").replace("TO", "30");
    let file = write(&dir, "workers.weft", &program);
    let deployed = cluster.weft(2, &["deploy", path(&file)]);
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));
    let resources = wait_json(&cluster, "resources", Duration::from_secs(20), |r| {
        rows_of(r, "results") == 30
    });
    assert_eq!(rows_of(&resources, "results"), 30, "{resources}");
    // The counters are reported once a second.
    let handled = |c: &Value| running(c).iter().map(|r| r.handled).sum::<u64>();
    let cells = wait_json(&cluster, "cells", Duration::from_secs(10), |c| {
        running(c).len() == 3 && handled(c) >= 30
    });
    let placed = running(&cells);
    let on: std::collections::BTreeSet<&str> = placed.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(
        on,
        ["node-1", "node-2", "node-3"].into(),
        "a replica on each node: {cells}"
    );
    eprintln!("handled before the kill: {placed:?}");
    let by_workers: u64 = placed
        .iter()
        .filter(|r| r.node != "node-1")
        .map(|r| r.handled)
        .sum();
    assert!(by_workers > 0, "the workers handled messages: {cells}");

    // kill -9 a worker: its replica runs elsewhere within the lease TTL and 5 s.
    let victim = "node-3";
    let pid = std::fs::read_to_string(cluster.dir.join("node-3/pid")).expect("pid");
    // SAFETY: a plain signal to the pid this test recorded for its worker.
    unsafe { libc::kill(pid.trim().parse().expect("a pid"), libc::SIGKILL) };
    let killed = Instant::now();
    let moved = |c: &Value| {
        let now = running(c);
        now.len() == 3 && now.iter().all(|r| r.node != victim)
    };
    let cells = wait_json(&cluster, "cells", LEASE_TTL + Duration::from_secs(5), moved);
    assert!(moved(&cells), "after {:?}: {cells}", killed.elapsed());
    eprintln!("replicas placed again after {:?}", killed.elapsed());
    assert!(killed.elapsed() < LEASE_TTL + Duration::from_secs(5));

    // Messages sent after the kill are handled too, by three replicas on the nodes
    // left, the surviving worker among them.
    let program = PROGRAM.replace("FROM", "30").replace("TO", "60");
    let file = write(&dir, "workers.weft", &program);
    let deployed = cluster.weft(1, &["deploy", path(&file)]);
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));
    let resources = wait_json(&cluster, "resources", Duration::from_secs(20), |r| {
        rows_of(r, "results") == 60
    });
    assert_eq!(rows_of(&resources, "results"), 60, "{resources}");
    let serving = |c: &Value| {
        let now = running(c);
        now.len() == 3 && now.iter().any(|r| r.node == "node-2") && handled(c) >= 30
    };
    let cells = wait_json(&cluster, "cells", Duration::from_secs(10), serving);
    assert!(serving(&cells), "{cells}");
    let now = running(&cells);
    eprintln!("handled after the kill: {now:?}");

    cluster.down();
    // The worker stopped its replica and itself on SIGTERM, not at the SIGKILL after.
    let log = std::fs::read_to_string(cluster.dir.join("node-2/stderr")).expect("its log");
    assert!(log.contains("node 2: stopped"), "{log}");
    drop(_third);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `weft store watch w/ --prefix --events N [--from R]` through node `id`.
fn watch(cluster: &Cluster, id: u64, events: u64, from: Option<u64>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    command.args([
        "store",
        "watch",
        "w/",
        "--prefix",
        "--events",
        &events.to_string(),
    ]);
    if let Some(from) = from {
        command.args(["--from", &from.to_string()]);
    }
    command
        .args(["--cluster", &cluster.url(id)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft store watch")
}

/// The watch's lines without their revisions, and the first revision seen.
fn watched(child: Child) -> (Vec<String>, Option<u64>) {
    let out = wait_output(child, Duration::from_secs(10));
    let stdout = text(&out.stdout);
    let lines = stdout
        .lines()
        .map(|l| l.split(" (revision").next().unwrap_or("").to_string())
        .collect();
    let first = stdout
        .lines()
        .next()
        .and_then(|l| l.split("(revision ").nth(1))
        .and_then(|r| r.trim_end_matches(')').parse().ok());
    assert!(out.status.success(), "{}", text(&out.stderr));
    (lines, first)
}

#[test]
fn a_watch_through_a_worker_is_a_controllers_watch() {
    let dir = scratch_dir("weft-cells-workers", "watch");
    let cluster = Cluster { dir: dir.join("c") };
    let up = weft(&["cluster", "up", "--nodes", "2", "--dir", path(&cluster.dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));

    // Changes made through the controller, seen in order through the worker.
    let live = watch(&cluster, 2, 3, None);
    std::thread::sleep(Duration::from_millis(500));
    for args in [["put", "w/a", "1"], ["put", "w/b", "2"]] {
        let put = cluster.weft(1, &[&["store"][..], &args].concat());
        assert!(put.status.success(), "{}", text(&put.stderr));
    }
    let del = cluster.weft(1, &["store", "delete", "w/a"]);
    assert!(del.status.success(), "{}", text(&del.stderr));
    let (lines, first) = watched(live);
    assert_eq!(lines, ["PUT w/a 1", "PUT w/b 2", "DELETE w/a"]);

    // From a past revision: the history first, as the controller replays it.
    let from = first.expect("a revision");
    let (lines, _) = watched(watch(&cluster, 2, 2, Some(from)));
    assert_eq!(lines, ["PUT w/a 1", "PUT w/b 2"]);

    // A refusal is the controller's own answer, passed back.
    let authority = cluster.url(2).trim_start_matches("http://").to_string();
    let stream = std::net::TcpStream::connect(&authority).expect("the worker");
    let url = format!("ws://{authority}/api/v1/watch?nope=1");
    match tungstenite::client(url, stream) {
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(answer))) => {
            assert_eq!(answer.status().as_u16(), 400);
            let body = text(answer.body().as_deref().unwrap_or_default());
            assert!(body.contains("a watch takes prefix and from"), "{body}");
        }
        other => panic!("not refused: {:?}", other.map(|(_, r)| r.status())),
    }
    // A watch that is no WebSocket is refused by the worker itself.
    let plain =
        reqwest::blocking::get(format!("{}/api/v1/watch", cluster.url(2))).expect("an answer");
    assert_eq!(plain.status().as_u16(), 400);
    let body = plain.text().unwrap_or_default();
    assert!(body.contains("a watch is a WebSocket"), "{body}");

    cluster.down();
    let _ = std::fs::remove_dir_all(&dir);
}
