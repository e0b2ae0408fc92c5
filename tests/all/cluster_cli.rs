//! A local cluster as its users reach it: `weft cluster up --nodes 3`, `weft get nodes`,
//! `weft store put` and `get` through different members, kill -9 of the leader and a
//! write that goes through again, then `weft cluster down`. Every process the cluster
//! started is killed when the test ends, however it ends.

use super::support::{scratch_dir, text, weft};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// Kills (SIGKILL) every node pid recorded in the cluster directory when dropped.
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn node_file(&self, id: u64, name: &str) -> String {
        let path = self.dir.join(format!("node-{id}")).join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_string()
    }

    fn url(&self, id: u64) -> String {
        self.node_file(id, "url")
    }

    fn pid(&self, id: u64) -> i32 {
        self.node_file(id, "pid").parse().expect("a pid")
    }

    /// A client command through member `id`.
    fn weft(&self, id: u64, args: &[&str]) -> Output {
        let url = self.url(id);
        let mut all = args.to_vec();
        all.extend(["--cluster", url.as_str()]);
        weft(&all)
    }

    fn pids(&self) -> Vec<i32> {
        (1..=3)
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
    let out = cluster.weft(id, &["get", "nodes", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json.as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["id"].as_u64().expect("id"),
                r["role"].as_str().expect("role").to_string(),
                r["state"].as_str().expect("state").to_string(),
            )
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
    let pids = cluster.pids();
    let down = weft(&["cluster", "down", "--dir", path(&dir)]);
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(
        wait_dead(&pids, Duration::from_secs(15)),
        "{pids:?} still run"
    );
    assert!(cluster.pids().is_empty());

    // Up again in the same directory: the same group, with its data.
    let again = weft(&["cluster", "up", "--nodes", "3", "--dir", path(&dir)]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let got = store(&cluster, survivors[0], &["get", "a"]);
    assert_eq!(text(&got.stdout), "2\n", "{}", text(&got.stderr));
    let pids = cluster.pids();
    let down = weft(&["cluster", "down", "--dir", path(&dir)]);
    assert!(down.status.success(), "{}", text(&down.stderr));
    assert!(
        wait_dead(&pids, Duration::from_secs(15)),
        "{pids:?} still run"
    );
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

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}
