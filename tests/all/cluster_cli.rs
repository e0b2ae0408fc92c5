//! A local cluster as its users reach it: `weft cluster up --nodes 3`, `weft get nodes`,
//! `weft store put` and `get` through different members, kill -9 of the leader and a
//! write that goes through again, then `weft cluster down`; 3 controllers and 2 workers,
//! a worker killed turning NotReady, a watch, a controller joining and leaving by joint
//! consensus, a minority refusing writes, and the stopped nodes catching up. Every
//! process a test started is killed when it ends, however it ends.

use super::support::{scratch_dir, text, wait_output, weft};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Kills (SIGKILL) every node pid recorded in the cluster directory when dropped.
pub(crate) struct Cluster {
    pub(crate) dir: PathBuf,
}

impl Cluster {
    fn node_file(&self, id: u64, name: &str) -> String {
        let path = self.dir.join(format!("node-{id}")).join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_string()
    }

    pub(crate) fn url(&self, id: u64) -> String {
        self.node_file(id, "url")
    }

    fn pid(&self, id: u64) -> i32 {
        self.node_file(id, "pid").parse().expect("a pid")
    }

    /// A client command through member `id`.
    pub(crate) fn weft(&self, id: u64, args: &[&str]) -> Output {
        let url = self.url(id);
        let mut all = args.to_vec();
        all.extend(["--cluster", url.as_str()]);
        weft(&all)
    }

    /// `weft cluster down`, and every process it recorded gone.
    pub(crate) fn down(&self) {
        let pids = self.pids();
        let down = weft(&["cluster", "down", "--dir", path(&self.dir)]);
        assert!(down.status.success(), "{}", text(&down.stderr));
        assert!(
            wait_dead(&pids, Duration::from_secs(15)),
            "{pids:?} still run"
        );
    }

    fn pids(&self) -> Vec<i32> {
        (1..=9)
            .filter_map(|id| {
                let pid = std::fs::read_to_string(self.dir.join(format!("node-{id}/pid"))).ok()?;
                pid.trim().parse().ok()
            })
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid in self.pids() {
            // SAFETY: a plain signal to a pid this test's cluster recorded.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

fn alive(pid: i32) -> bool {
    weft::cli::cluster::alive(pid)
}

/// `weft get nodes -o json` through member `id`: (id, role, state) per member.
fn nodes(cluster: &Cluster, id: u64) -> Vec<(u64, String, String)> {
    rows(cluster, id)
        .into_iter()
        .map(|(name, role, state)| {
            let id = name.trim_start_matches("node-").parse().expect("node-ID");
            (id, role, state)
        })
        .collect()
}

fn store(cluster: &Cluster, id: u64, args: &[&str]) -> Output {
    let mut all = vec!["store"];
    all.extend(args);
    cluster.weft(id, &all)
}

fn wait_dead(pids: &[i32], max: Duration) -> bool {
    let until = Instant::now() + max;
    while Instant::now() < until {
        if pids.iter().all(|p| !alive(*p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_three_node_cluster_survives_its_leader() {
    let dir = scratch_dir("weft-cluster", "three");
    let cluster = Cluster { dir: dir.clone() };
    let started = Instant::now();
    let up = weft(&["cluster", "up", "--nodes", "3", "--dir", path(&dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    eprintln!("cluster up: {:?}", started.elapsed());
    let url = std::fs::read_to_string(dir.join("cluster")).expect("the cluster file");
    assert_eq!(text(&up.stdout).trim(), url.trim());
    assert_eq!(cluster.pids().len(), 3);

    // The table: three members, exactly one leader, all Ready.
    let table = cluster.weft(1, &["get", "nodes"]);
    let table = text(&table.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert!(lines[0].ends_with("LEASE AGE"), "{table}");
    assert_eq!(
        lines.iter().filter(|l| l.contains(" leader ")).count(),
        1,
        "{table}"
    );
    let members = nodes(&cluster, 2);
    assert_eq!(members.len(), 3, "{members:?}");
    assert_eq!(members.iter().filter(|m| m.1 == "leader").count(), 1);
    assert!(members.iter().all(|m| m.2 == "Ready"), "{members:?}");
    let leader = members
        .iter()
        .find(|m| m.1 == "leader")
        .expect("a leader")
        .0;

    // One member in detail, with its own raft view.
    let leader_name = format!("node-{leader}");
    let described = cluster.weft(3, &["describe", "node", &leader_name]);
    let described = text(&described.stdout);
    assert!(
        described.starts_with(&format!("Name:      {leader_name}\n")),
        "{described}"
    );
    assert!(described.contains("Role:      leader\n"), "{described}");
    assert!(
        described.contains(&format!("Leader:    {leader}\n")),
        "{described}"
    );
    assert!(described.contains("Term:      "), "{described}");
    let unknown = cluster.weft(1, &["describe", "node", "node-9"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("no node `node-9`"),
        "{}",
        text(&unknown.stderr)
    );

    // A write through one member is read through each of the others.
    let put = store(&cluster, 1, &["put", "a", "1"]);
    assert!(put.status.success(), "{}", text(&put.stderr));
    for id in [2, 3] {
        let got = store(&cluster, id, &["get", "a"]);
        assert_eq!(text(&got.stdout), "1\n", "node {id}: {}", text(&got.stderr));
    }
    let missing = store(&cluster, 2, &["get", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no key `nope`"));

    // kill -9 the leader: a write goes through a survivor again within 5 s.
    let leader_pid = cluster.pid(leader);
    // SAFETY: a plain signal to the pid the cluster recorded for its leader.
    unsafe { libc::kill(leader_pid, libc::SIGKILL) };
    let survivors: Vec<u64> = (1..=3).filter(|&id| id != leader).collect();
    let killed = Instant::now();
    let mut put = store(&cluster, survivors[0], &["put", "a", "2"]);
    while !put.status.success() && killed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
        put = store(&cluster, survivors[0], &["put", "a", "2"]);
    }
    assert!(put.status.success(), "{}", text(&put.stderr));
    eprintln!(
        "a write after kill -9 of the leader: {:?}",
        killed.elapsed()
    );
    assert!(killed.elapsed() < Duration::from_secs(10));
    let got = store(&cluster, survivors[1], &["get", "a"]);
    assert_eq!(text(&got.stdout), "2\n", "{}", text(&got.stderr));
    let after = nodes(&cluster, survivors[1]);
    let dead = after
        .iter()
        .find(|m| m.0 == leader)
        .expect("the old leader");
    assert_eq!(dead.2, "NotReady", "{after:?}");
    assert_eq!(after.iter().filter(|m| m.1 == "leader").count(), 1);

    // Down ends every process.
    cluster.down();
    assert!(cluster.pids().is_empty());

    // Up again in the same directory: the same group, with its data.
    let again = weft(&["cluster", "up", "--nodes", "3", "--dir", path(&dir)]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let got = store(&cluster, survivors[0], &["get", "a"]);
    assert_eq!(text(&got.stdout), "2\n", "{}", text(&got.stderr));
    cluster.down();
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let dir = scratch_dir("weft-cluster", "refusals");
    let up = weft(&["cluster", "up", "--nodes", "0", "--dir", path(&dir)]);
    assert_eq!(up.status.code(), Some(2));
    assert!(text(&up.stderr).contains("--nodes must be between 1 and 9, not 0"));

    let node = weft(&[
        "node",
        "--data",
        path(&dir),
        "--listen",
        "127.0.0.1:0",
        "--api",
        "127.0.0.1:0",
        "--controller",
        "--id",
        "1",
        "--members",
        "2=127.0.0.1:1",
    ]);
    assert_eq!(node.status.code(), Some(2));
    assert!(text(&node.stderr).contains("--members does not name this node (1)"));

    let none = weft(&["cluster", "down", "--dir", path(&dir)]);
    assert!(none.status.success());
    assert!(text(&none.stdout).contains("no nodes recorded"));
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `weft get nodes -o json` through member `id`, as (name, role, state) rows.
fn rows(cluster: &Cluster, id: u64) -> Vec<(String, String, String)> {
    let out = cluster.weft(id, &["get", "nodes", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json.as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().expect(k).to_string();
            (s("name"), s("role"), s("state"))
        })
        .collect()
}

/// Polls `rows` through member `id` until `want` holds (at most `max`); the last rows.
fn wait_rows(
    cluster: &Cluster,
    id: u64,
    max: Duration,
    want: impl Fn(&[(String, String, String)]) -> bool,
) -> Vec<(String, String, String)> {
    let until = Instant::now() + max;
    loop {
        let now = rows(cluster, id);
        if want(&now) || Instant::now() >= until {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn controllers_and_workers_join_lease_and_leave() {
    let dir = scratch_dir("weft-cluster", "five");
    let cluster = Cluster { dir: dir.clone() };
    let up = weft(&["cluster", "up", "--nodes", "5", "--dir", path(&dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));

    // Three controllers (one leader) and two workers, all Ready.
    let all = rows(&cluster, 4);
    let names: Vec<&str> = all.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        ["node-1", "node-2", "node-3", "node-4", "node-5"],
        "{all:?}"
    );
    assert_eq!(all.iter().filter(|r| r.1 == "leader").count(), 1, "{all:?}");
    assert_eq!(all[3].1, "worker", "{all:?}");
    assert_eq!(all[4].1, "worker", "{all:?}");
    assert!(all.iter().all(|r| r.2 == "Ready"), "{all:?}");

    // A write through any node is read through every node.
    for id in 1..=5u64 {
        let put = store(&cluster, id, &["put", &format!("k{id}"), &format!("v{id}")]);
        assert!(put.status.success(), "node {id}: {}", text(&put.stderr));
    }
    for reader in 1..=5u64 {
        for id in 1..=5u64 {
            let got = store(&cluster, reader, &["get", &format!("k{id}")]);
            assert_eq!(
                text(&got.stdout),
                format!("v{id}\n"),
                "node {reader}: {}",
                text(&got.stderr)
            );
        }
    }
    // Compare-and-swap: the stale one is refused, with the reason.
    let swapped = store(&cluster, 4, &["put", "k1", "w", "--if-value", "v1"]);
    assert!(swapped.status.success(), "{}", text(&swapped.stderr));
    let stale = store(&cluster, 2, &["put", "k1", "x", "--if-value", "v1"]);
    assert!(!stale.status.success());
    assert!(
        text(&stale.stderr).contains("the compare failed"),
        "{}",
        text(&stale.stderr)
    );

    // A watch through a controller sees changes made through a worker, in order.
    let watch = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "store",
            "watch",
            "w/",
            "--prefix",
            "--events",
            "3",
            "--cluster",
        ])
        .arg(cluster.url(2))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft store watch");
    std::thread::sleep(Duration::from_millis(500));
    for (k, v) in [("w/a", "1"), ("w/b", "2")] {
        let put = store(&cluster, 5, &["put", k, v]);
        assert!(put.status.success(), "{}", text(&put.stderr));
    }
    let del = store(&cluster, 4, &["delete", "w/a"]);
    assert!(del.status.success(), "{}", text(&del.stderr));
    let watched = wait_output(watch, Duration::from_secs(10));
    let lines: Vec<String> = text(&watched.stdout)
        .lines()
        .map(|l| l.split(" (revision").next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        lines,
        ["PUT w/a 1", "PUT w/b 2", "DELETE w/a"],
        "{}",
        text(&watched.stderr)
    );

    // A worker killed with -9 turns NotReady within its lease TTL (3 s, plus one expiry
    // tick and this test's polling); the others stay Ready.
    // SAFETY: a plain signal to a pid this test's cluster recorded.
    unsafe { libc::kill(cluster.pid(5), libc::SIGKILL) };
    let killed = Instant::now();
    let after = wait_rows(&cluster, 1, Duration::from_secs(10), |r| {
        r[4].2 == "NotReady"
    });
    eprintln!("a killed worker NotReady after {:?}", killed.elapsed());
    assert_eq!(after[4].2, "NotReady", "{after:?}");
    assert!(
        killed.elapsed() < Duration::from_millis(4500),
        "{:?}",
        killed.elapsed()
    );
    assert!(after[..4].iter().all(|r| r.2 == "Ready"), "{after:?}");

    // A controller joins with the token (a wrong one is refused) and becomes a voter.
    let token = std::fs::read_to_string(dir.join("token")).expect("the token");
    let joiner = |token: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command
            .args([
                "node",
                "--controller",
                "--listen",
                "127.0.0.1:0",
                "--api",
                "127.0.0.1:0",
            ])
            .arg("--data")
            .arg(dir.join("extra"))
            .args(["--join", &cluster.url(1), "--token", token.trim()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    let refused = wait_output(
        joiner("nope").spawn().expect("weft node"),
        Duration::from_secs(20),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("the join token is not this cluster's"),
        "{}",
        text(&refused.stderr)
    );
    let _joined = Killed(joiner(&token).spawn().expect("weft node"));
    let with_six = wait_rows(&cluster, 2, Duration::from_secs(30), |r| {
        r.iter()
            .any(|r| r.0 == "node-6" && r.1 == "follower" && r.2 == "Ready")
    });
    assert!(
        with_six
            .iter()
            .any(|r| r.0 == "node-6" && r.1 == "follower" && r.2 == "Ready"),
        "{with_six:?}"
    );
    let put = store(&cluster, 3, &["put", "after-join", "yes"]);
    assert!(put.status.success(), "{}", text(&put.stderr));

    // ... and leaves again; the group goes on with three.
    let deleted = cluster.weft(3, &["delete", "node", "node-6"]);
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let without = rows(&cluster, 1);
    assert!(without.iter().all(|r| r.0 != "node-6"), "{without:?}");
    let put = store(&cluster, 2, &["put", "after-leave", "yes"]);
    assert!(put.status.success(), "{}", text(&put.stderr));

    // A minority refuses writes with the reason, and reads nothing stale.
    let leader = without
        .iter()
        .find(|r| r.1 == "leader")
        .expect("a leader")
        .0
        .clone();
    let leader_id: u64 = leader.trim_start_matches("node-").parse().expect("an id");
    for id in (1..=3).filter(|&id| id != leader_id) {
        // SAFETY: as above.
        unsafe { libc::kill(cluster.pid(id), libc::SIGKILL) };
    }
    std::thread::sleep(Duration::from_millis(1500));
    let minority = store(&cluster, leader_id, &["put", "lost", "1"]);
    assert!(!minority.status.success());
    assert!(
        text(&minority.stderr).contains("no quorum"),
        "{}",
        text(&minority.stderr)
    );

    // Up again starts the stopped nodes; they catch up, and writes go through again.
    let again = weft(&["cluster", "up", "--nodes", "5", "--dir", path(&dir)]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    for id in 1..=5u64 {
        let got = store(&cluster, id, &["get", "after-leave"]);
        assert_eq!(
            text(&got.stdout),
            "yes\n",
            "node {id}: {}",
            text(&got.stderr)
        );
    }
    let put = store(&cluster, 5, &["put", "after-restart", "yes"]);
    assert!(put.status.success(), "{}", text(&put.stderr));
    let lost = store(&cluster, 1, &["get", "lost"]);
    assert_eq!(lost.status.code(), Some(2), "{}", text(&lost.stdout));

    cluster.down();
}
