//! Code on a cluster, end to end: 3 controllers and 2 workers on loopback (one worker
//! runs nginx with `--lb nginx`), a program with a queue, a table, a Cell of 5
//! replicas moving the queue's jobs into the table and an HttpService of 5 replicas
//! behind nginx that queues a job per request. Under load through nginx, a worker is
//! killed with -9: its instances run elsewhere within the lease TTL and 5 s, the
//! service keeps answering through nginx, and every job whose request was acknowledged
//! (a 200, after its turn committed the send) ends up in the table.

use super::cells_workers::{json_of, start_worker, wait_json};
use super::cluster_cli::{path, Cluster};
use super::support::{running, scratch_dir, text, weft, write};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
use std::http::{lb, ok, text, bad_request}

type Job = { id: Int, url: String }

fn main() {
  let jobs = new QueueService<Job>("jobs", visibility: 3s)
  let results = new Table<String, String>("results")
  new Cell("workers", replicas: 5) {
    on jobs |job| { results.put("j{job.id}", "done {job.url}") }
  }
  new HttpService("api", port: PORT, expose: lb("nginx"), replicas: 5) |req| {
    match req.path {
      "/send" => match req.body.parse_int() {
        Some(id) => {
          jobs.send(Job { id: id, url: "u{id}" })
          ok(text("queued {id}"))
        },
        None => bad_request("the body is not a number"),
      },
      "/ids" => {
        var ids = ""
        for (k, _) in results.scan("j") { ids = "{ids}{k} " }
        ok(text(ids))
      },
      _ => ok(text("api")),
    }
  }
}
"#;

/// The heartbeat lease's TTL `weft cluster up` gives its nodes.
const LEASE_TTL: Duration = Duration::from_secs(3);

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("an address").port()
}

/// Sends `/send` requests through nginx until `stop`; the ids acknowledged with 200.
fn load(lb: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<i64>>>, failed: Arc<Mutex<u64>>) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let mut id = 0;
    while !stop.load(Ordering::Relaxed) {
        let sent = client
            .post(format!("{lb}/send"))
            .body(id.to_string())
            .send();
        match sent {
            Ok(r) if r.status().as_u16() == 200 => acked.lock().expect("acked").push(id),
            _ => *failed.lock().expect("failed") += 1,
        }
        id += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_program_runs_on_the_cluster_behind_nginx_and_survives_a_killed_worker() {
    super::support::require_nginx();
    let dir = scratch_dir("e2e", "cluster");
    let cluster = Cluster {
        dir: dir.join("cluster"),
    };
    let up = weft(&["cluster", "up", "--nodes", "4", "--dir", path(&cluster.dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let _lb_node = start_worker(&cluster, 5, &["--lb", "nginx", "--lb-host", "127.0.0.1"]);
    let nodes = wait_json(&cluster, "nodes", Duration::from_secs(30), |v| {
        v.as_array()
            .is_some_and(|a| a.len() == 5 && a.iter().all(|n| n["state"] == "Ready"))
    });
    assert_eq!(nodes.as_array().map(Vec::len), Some(5), "{nodes}");

    let port = free_port();
    let file = write(
        &dir,
        "shop.weft",
        &PROGRAM.replace("PORT", &port.to_string()),
    );
    let deployed = cluster.weft(1, &["deploy", &file.to_string_lossy()]);
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));
    let cells = wait_json(&cluster, "cells", Duration::from_secs(30), |v| {
        running(v).len() == 10
    });
    let before = running(&cells);
    assert_eq!(before.len(), 10, "{cells}");
    let on_victim = before.iter().filter(|r| r.node == "node-4").count();
    assert!(on_victim >= 1, "nothing runs on node-4: {before:?}");

    // nginx serves the service once it has its ready endpoints.
    let lb = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let start = Instant::now();
    let reached = loop {
        let r = client.get(format!("{lb}/")).send();
        if let Ok(r) = r {
            if r.status().as_u16() == 200 {
                break r.text().unwrap_or_default();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "nginx never served the service"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(reached, "api");
    // And with curl, as a user would, where it is installed.
    let curl = std::process::Command::new("curl")
        .args(["-s", "--max-time", "10", &format!("{lb}/")])
        .output();
    if let Ok(out) = curl {
        assert_eq!(text(&out.stdout), "api", "{}", text(&out.stderr));
    }

    // Load through nginx, and a worker killed under it.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(vec![]));
    let failed = Arc::new(Mutex::new(0u64));
    let loader = {
        let (lb, stop, acked, failed) = (lb.clone(), stop.clone(), acked.clone(), failed.clone());
        std::thread::spawn(move || load(lb, stop, acked, failed))
    };
    std::thread::sleep(Duration::from_millis(1500));
    let victim: i32 = std::fs::read_to_string(cluster.dir.join("node-4/pid"))
        .expect("node-4's pid")
        .trim()
        .parse()
        .expect("a pid");
    let killed = std::process::Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status();
    assert!(killed.is_ok_and(|s| s.success()));
    let killed_at = Instant::now();
    let moved = wait_json(
        &cluster,
        "cells",
        LEASE_TTL + Duration::from_secs(15),
        |v| {
            let now = running(v);
            now.len() == 10 && now.iter().all(|r| r.node != "node-4")
        },
    );
    let after = running(&moved);
    let took = killed_at.elapsed();
    eprintln!("instances of a killed worker running elsewhere after {took:?}");
    assert!(
        after.len() == 10 && after.iter().all(|r| r.node != "node-4"),
        "not re-placed: {after:?}"
    );
    assert!(
        took <= LEASE_TTL + Duration::from_secs(5),
        "re-placed after {took:?}"
    );
    // Serving again: requests after the move are acknowledged.
    let served_before = acked.lock().expect("acked").len();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let _ = loader.join();
    let acked: Vec<i64> = acked.lock().expect("acked").clone();
    let failed = *failed.lock().expect("failed");
    eprintln!("{} requests acknowledged, {failed} failed", acked.len());
    assert!(
        acked.len() > served_before,
        "nothing acknowledged after the move"
    );

    // Every acknowledged job reaches the table.
    let want: BTreeSet<String> = acked.iter().map(|id| format!("j{id}")).collect();
    let start = Instant::now();
    let missing = loop {
        let ids: BTreeSet<String> = client
            .get(format!("{lb}/ids"))
            .send()
            .ok()
            .and_then(|r| r.text().ok())
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        let missing: Vec<&String> = want.difference(&ids).collect();
        if missing.is_empty() || start.elapsed() > Duration::from_secs(30) {
            break missing.into_iter().cloned().collect::<Vec<_>>();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(missing.is_empty(), "acknowledged jobs lost: {missing:?}");
    let resources = json_of(&cluster.weft(1, &["get", "resources", "-o", "json"]));
    assert!(resources.to_string().contains("HttpService"), "{resources}");
    cluster.down();
    // nginx went with its node.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nginx still listens on {port}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
