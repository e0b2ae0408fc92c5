//! Programs deployed to a cluster as their users reach them: `weft deploy` through a
//! worker runs `main` on the cluster and records the program; the same module again
//! changes nothing; a queue's element type that differs from the cluster's is refused
//! at its `new`; a new version orphans what it no longer allocates; a failing `main`
//! records nothing; `weft destroy --prune` and `weft destroy` release on purpose; bad
//! requests get a 4xx with a reason.

use super::cluster_cli::{path, Cluster};
use super::support::{running, scratch_dir, text, weft, write};

const SHOP: &str = r#"
type Job = { id: Int, url: String }

fn main() {
  let jobs = new QueueService<Job>("jobs", attempts: 3)
  let results = new Table<String, Int>("results")
  jobs.send(Job { id: results.len() + 1, url: "a" })
  match jobs.receive() {
    Some(job) => results.put("job-{job.id}", job.id * 10),
    None => {}
  }
  print("rows {results.len()}")
}
"#;

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn deploy_runs_main_on_the_cluster_and_destroy_releases() {
    let dir = scratch_dir("weft-deploy", "shop");
    let cluster = Cluster { dir: dir.join("c") };
    // One controller and one worker.
    let up = weft(&["cluster", "up", "--nodes", "2", "--dir", path(&cluster.dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let shop = write(&dir, "shop.weft", SHOP);
    let shop = path(&shop);

    // Through the worker: it passes the deploy on, and `main` runs on the cluster.
    let first = cluster.weft(2, &["deploy", shop]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), "rows 1\n");
    assert!(
        text(&first.stderr).contains("shop: deployed version 1 (module "),
        "{}",
        text(&first.stderr)
    );
    let programs = json(&cluster.weft(1, &["get", "programs", "-o", "json"]));
    assert_eq!(programs[0]["name"], "shop");
    assert_eq!(programs[0]["version"], 1);
    assert_eq!(
        programs[0]["resources"],
        serde_json::json!(["jobs", "results"])
    );
    // The module is stored under its id.
    let module = programs[0]["module"].as_str().expect("a module id");
    let stored = cluster.weft(1, &["store", "ls", "/modules/"]);
    assert!(
        text(&stored.stdout).contains(module),
        "{}",
        text(&stored.stdout)
    );

    // The same module again: nothing runs, nothing changes.
    let again = cluster.weft(1, &["deploy", shop]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), "");
    assert!(text(&again.stderr).contains("shop: unchanged (version 1"));
    let resources = json(&cluster.weft(1, &["get", "resources", "-o", "json"]));
    let rows = resources
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["name"] == "results")
        .expect("the table");
    assert_eq!(rows["size"]["rows"], 1);

    // Another `Job` for the same queue is refused at its `new`; nothing runs.
    let changed = SHOP
        .replace("url: String }", "url: String, tries: Int }")
        .replace("url: \"a\" }", "url: \"a\", tries: 0 }");
    let changed = write(&dir, "shop2.weft", &changed);
    let refused = cluster.weft(2, &["deploy", path(&changed), "--name", "shop"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert_eq!(text(&refused.stdout), "");
    let why = text(&refused.stderr);
    assert!(
        why.contains("error: `jobs` exists in the cluster with another type"),
        "{why}"
    );
    assert!(why.contains("shop2.weft:5:14"), "{why}");
    assert!(why.contains("the program was not deployed"), "{why}");

    // A new version that no longer allocates the queue: it is orphaned, not deleted.
    let v2 = write(
        &dir,
        "v2.weft",
        "fn main() {\n  let results = new Table<String, Int>(\"results\")\n  print(\"v2 {results.len()}\")\n}\n",
    );
    let second = cluster.weft(1, &["deploy", path(&v2), "--name", "shop"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout), "v2 1\n");
    let said = text(&second.stderr);
    assert!(said.contains("shop: deployed version 2"), "{said}");
    assert!(
        said.contains("no longer allocates jobs: orphaned, kept"),
        "{said}"
    );
    let resources = json(&cluster.weft(1, &["get", "resources", "-o", "json"]));
    let jobs = resources
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["name"] == "jobs")
        .expect("the queue is kept");
    assert_eq!(jobs["status"], "Orphaned");

    // A `main` that fails: what it printed comes back, and nothing is recorded.
    let bad = write(
        &dir,
        "bad.weft",
        "fn main() {\n  print(\"before\")\n  let x = [1][5]\n}\n",
    );
    let failed = cluster.weft(1, &["deploy", path(&bad), "--name", "shop"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert_eq!(text(&failed.stdout), "before\n");
    let why = text(&failed.stderr);
    assert!(why.contains("index 5 out of bounds"), "{why}");
    assert!(why.contains("bad.weft:3:11)"), "{why}");
    assert!(
        why.contains("`main` failed, and nothing was recorded"),
        "{why}"
    );
    let programs = json(&cluster.weft(2, &["get", "programs", "-o", "json"]));
    assert_eq!(programs[0]["version"], 2);

    // Pruning releases the orphaned queue only; destroying releases the rest.
    let pruned = cluster.weft(2, &["destroy", "shop", "--prune"]);
    assert!(pruned.status.success(), "{}", text(&pruned.stderr));
    assert_eq!(text(&pruned.stdout), "shop: released jobs\n");
    let destroyed = cluster.weft(1, &["destroy", "shop"]);
    assert!(destroyed.status.success(), "{}", text(&destroyed.stderr));
    assert_eq!(
        text(&destroyed.stdout),
        "shop: released results\nshop: removed\n"
    );
    assert_eq!(
        json(&cluster.weft(1, &["get", "programs", "-o", "json"])),
        serde_json::json!([])
    );
    assert_eq!(
        json(&cluster.weft(1, &["get", "resources", "-o", "json"])),
        serde_json::json!([])
    );
    let stored = cluster.weft(1, &["store", "ls", "/modules/"]);
    assert!(
        !text(&stored.stdout).contains(module),
        "{}",
        text(&stored.stdout)
    );
    let gone = cluster.weft(1, &["destroy", "shop"]);
    assert_eq!(gone.status.code(), Some(2));
    assert!(text(&gone.stderr).contains("no program `shop`"));

    // Bad requests: a reason each, and the cluster keeps serving.
    let client = reqwest::blocking::Client::new();
    let url = cluster.url(1);
    for (path, body, status, reason) in [
        (
            "/api/v1/programs/shop",
            b"not wasm".to_vec(),
            400,
            "not a Weft module",
        ),
        ("/api/v1/programs/a%20b", vec![], 400, "not a program name"),
    ] {
        let r = client
            .post(format!("{url}{path}"))
            .body(body)
            .send()
            .expect("an answer");
        assert_eq!(r.status().as_u16(), status, "{path}");
        let text = r.text().unwrap_or_default();
        assert!(text.contains(reason), "{path}: {text}");
    }
    let r = client
        .delete(format!("{url}/api/v1/programs/shop?prune=maybe"))
        .send()
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 400);

    cluster.down();
}

const WORKERS: &str = r#"
type Job = { id: Int, url: String }

fn main() {
  let jobs = new QueueService<Job>("jobs")
  let results = new Table<Int, String>("results")
  let prefix = "done"
  new Cell("workers", replicas: 3, memory: 64 * MiB, cpu: 100 * milli) {
    on jobs |job| { results.put(job.id, "{prefix} {job.url}") }
  }
  var i = 0
  while i < 30 {
    jobs.send(Job { id: i, url: "u{i}" })
    i += 1
  }
}
"#;

/// Polls `weft get ... -o json` through member `id` until `done` holds (at most `max`).
fn wait_json(
    cluster: &Cluster,
    id: u64,
    what: &str,
    max: std::time::Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let until = std::time::Instant::now() + max;
    loop {
        let now = json(&cluster.weft(id, &["get", what, "-o", "json"]));
        if done(&now) || std::time::Instant::now() >= until {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn rows_of(resources: &serde_json::Value, name: &str) -> u64 {
    resources
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == name))
        .and_then(|r| r["size"]["rows"].as_u64())
        .unwrap_or(0)
}

#[test]
fn cells_handle_every_message_spread_and_move_off_a_dead_node() {
    use std::time::Duration;
    let dir = scratch_dir("weft-deploy", "cells");
    let cluster = Cluster { dir: dir.join("c") };
    let up = weft(&["cluster", "up", "--nodes", "3", "--dir", path(&cluster.dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let file = write(&dir, "workers.weft", WORKERS);
    let deployed = cluster.weft(1, &["deploy", path(&file)]);
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));

    // Every message ends up in the table, handled by three replicas on three nodes.
    let resources = wait_json(&cluster, 2, "resources", Duration::from_secs(20), |r| {
        rows_of(r, "results") == 30
    });
    assert_eq!(rows_of(&resources, "results"), 30, "{resources}");
    let handled = |c: &serde_json::Value| -> u64 {
        c.as_array()
            .map(|a| a.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|c| c["handled"].as_u64().unwrap_or(0))
            .sum()
    };
    // The counters are reported once a second.
    let cells = wait_json(&cluster, 1, "cells", Duration::from_secs(10), |c| {
        running(c).len() == 3 && handled(c) >= 30
    });
    let placed = running(&cells);
    let nodes: std::collections::BTreeSet<&str> = placed.iter().map(|r| r.node.as_str()).collect();
    assert_eq!(nodes.len(), 3, "spread over the nodes: {cells}");
    assert!(handled(&cells) >= 30, "{cells}");

    // kill -9 a node that is not the leader: its replica is placed again elsewhere
    // within the lease TTL (3 s) and 5 seconds.
    let members = json(&cluster.weft(1, &["get", "nodes", "-o", "json"]));
    let victim = members
        .as_array()
        .expect("a list")
        .iter()
        .filter(|m| m["role"] == "follower" && m["name"] != "node-1")
        .map(|m| m["name"].as_str().unwrap_or("").to_string())
        .next()
        .expect("a follower other than node-1");
    let id: u64 = victim.trim_start_matches("node-").parse().expect("node-ID");
    let pid = std::fs::read_to_string(cluster.dir.join(format!("node-{id}/pid"))).expect("pid");
    // SAFETY: a plain signal to a pid this test's cluster recorded.
    unsafe { libc::kill(pid.trim().parse().expect("a pid"), libc::SIGKILL) };
    let killed = std::time::Instant::now();
    let cells = wait_json(&cluster, 1, "cells", Duration::from_secs(8), |c| {
        let now = running(c);
        now.len() == 3 && now.iter().all(|r| r.node != victim)
    });
    let now = running(&cells);
    assert!(
        now.len() == 3 && now.iter().all(|r| r.node != victim),
        "after {:?}: {cells}",
        killed.elapsed()
    );
    // And they still serve: more messages are handled.
    let more = WORKERS.replace("i < 30", "i < 40");
    let more = write(&dir, "workers.weft", &more);
    let again = cluster.weft(1, &["deploy", path(&more)]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let resources = wait_json(&cluster, 1, "resources", Duration::from_secs(20), |r| {
        rows_of(r, "results") == 40
    });
    assert_eq!(rows_of(&resources, "results"), 40, "{resources}");

    // Scaling out: five replicas, on the two nodes left.
    let five = WORKERS
        .replace("i < 30", "i < 40")
        .replace("replicas: 3", "replicas: 5");
    let five = write(&dir, "workers.weft", &five);
    let scaled = cluster.weft(1, &["deploy", path(&five)]);
    assert!(scaled.status.success(), "{}", text(&scaled.stderr));
    let cells = wait_json(&cluster, 1, "cells", Duration::from_secs(10), |c| {
        running(c).len() == 5
    });
    assert_eq!(running(&cells).len(), 5, "{cells}");
    let described = cluster.weft(1, &["describe", "resource", "workers"]);
    let out = text(&described.stdout);
    assert!(out.contains("Size:      5/5 running"), "{out}");
    assert!(out.contains("replicas: 5"), "{out}");

    cluster.down();
}
