//! Volumes: a service's files on its node's disk, kept across a restart, confined to the
//! Volume (a path out of it is refused) and to the code that captured it (`main` is
//! refused); on a cluster, every replica of the code that uses a Volume runs on the node
//! the Volume is bound to.

use super::cells_workers::{json_of, wait_json};
use super::cluster_cli::{path, Cluster};
use super::support::{endpoint, running, scratch_dir, text, weft, write, Served};
use std::time::Duration;

const NOTES: &str = r#"use std::http::{ok, text, not_found}

fn main() {
  let notes = new Volume("notes", size: 1 * MiB)
  new HttpService("api", port: 18083) |req| {
    let name = req.path.replace("/", "")
    match req.method {
      "PUT" => {
        notes.write(name, req.body)
        ok(text("saved {name}"))
      },
      "DELETE" => {
        notes.delete(name)
        ok(text("deleted {name}"))
      },
      _ => match name {
        "" => ok(text(notes.list("").join(","))),
        "escape" => {
          notes.write("../escaped", "x")
          ok(text("escaped"))
        },
        _ => match notes.read(name) {
          Some(t) => ok(text(t)),
          None => not_found(),
        },
      },
    }
  }
}
"#;

#[test]
fn a_service_keeps_its_files_on_its_volume_across_a_restart() {
    let dir = scratch_dir("volumes", "run");
    let file = write(&dir, "notes.weft", NOTES);
    let data = dir.join("data");
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let call = |method: reqwest::Method, url: String, body: &str| {
        let r = client
            .request(method, url)
            .body(body.to_string())
            .send()
            .expect("an answer");
        (r.status().as_u16(), r.text().unwrap_or_default())
    };
    {
        let node = Served::start(&file, &data, &[]);
        let e = endpoint(&node, "api");
        let put = call(reqwest::Method::PUT, format!("{e}/todo"), "milk, eggs");
        assert_eq!(put, (200, "saved todo".into()));
        call(reqwest::Method::PUT, format!("{e}/gone"), "x");
        assert_eq!(
            call(reqwest::Method::DELETE, format!("{e}/gone"), ""),
            (200, "deleted gone".into())
        );
        let (status, body) = call(reqwest::Method::GET, format!("{e}/escape"), "");
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("not a Volume path"), "{body}");
        let placement = node.weft(&["describe", "resource", "notes"]);
        assert!(
            text(&placement.stdout).contains("Placement: node-1"),
            "{}",
            text(&placement.stdout)
        );
    }
    // On disk, under the node's data directory, and there after a restart.
    let on_disk = std::fs::read_to_string(data.join("volumes/notes/notes/todo"));
    assert_eq!(on_disk.ok().as_deref(), Some("milk, eggs"));
    let node = Served::start(&file, &data, &[]);
    let e = endpoint(&node, "api");
    assert_eq!(
        call(reqwest::Method::GET, format!("{e}/todo"), ""),
        (200, "milk, eggs".into())
    );
    assert_eq!(
        call(reqwest::Method::GET, format!("{e}/"), ""),
        (200, "todo".into())
    );
    assert_eq!(call(reqwest::Method::GET, format!("{e}/gone"), "").0, 404);
    drop(node);

    // `main` may not use it.
    let writer = write(
        &dir,
        "notes.weft",
        "fn main() {\n  let notes = new Volume(\"notes\")\n  notes.write(\"x\", \"y\")\n}\n",
    );
    let out = weft(&[
        "run",
        &writer.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("used only by the code on the cluster that captures it"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const STICKY: &str = r#"
fn main() {
  let jobs = new QueueService<Int>("jobs")
  let data = new Volume("data")
  new Cell("writers", replicas: 3) {
    on jobs |n| { data.write("n{n}", "seen") }
  }
  new Cell("free", replicas: 2) {
    on jobs |n| { print("free {n}") }
  }
}
"#;

#[test]
fn every_replica_that_uses_a_volume_runs_where_the_volume_lives() {
    let dir = scratch_dir("volumes", "sticky");
    let cluster = Cluster {
        dir: dir.join("cluster"),
    };
    // One controller and one worker.
    let up = weft(&["cluster", "up", "--nodes", "2", "--dir", path(&cluster.dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    let file = write(&dir, "sticky.weft", STICKY);
    let deployed = cluster.weft(2, &["deploy", &file.to_string_lossy()]);
    assert!(deployed.status.success(), "{}", text(&deployed.stderr));
    let cells = wait_json(&cluster, "cells", Duration::from_secs(30), |v| {
        running(v).len() == 5
    });
    let instances = running(&cells);
    assert_eq!(instances.len(), 5, "{cells}");
    let writers: std::collections::BTreeSet<&str> = instances
        .iter()
        .filter(|r| r.cell.ends_with("/writers"))
        .map(|r| r.node.as_str())
        .collect();
    eprintln!("instances: {instances:?}");
    assert_eq!(writers.len(), 1, "the writers spread: {instances:?}");
    let resources = json_of(&cluster.weft(1, &["get", "resources", "-o", "json"]));
    let bound = resources
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "data"))
        .and_then(|r| r["placement"].as_str())
        .unwrap_or("")
        .to_string();
    assert_eq!(
        Some(bound.as_str()),
        writers.iter().next().copied(),
        "{resources}"
    );
    cluster.down();
    let _ = std::fs::remove_dir_all(&dir);
}
