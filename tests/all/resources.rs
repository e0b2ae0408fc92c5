//! Resources from code under `weft run`'s embedded control plane: `new QueueService<T>`
//! and `new Table<K, V>` allocate durable resources that a second run re-attaches to,
//! a changed element type is refused before anything runs, resources a new version no
//! longer allocates are reported orphaned and kept, and `weft get resources` and
//! `weft describe resource` show them.

use crate::support::{scratch_dir, text, weft, write, Served};

const SHOP: &str = r#"
type Job = { id: Int, url: String }

fn main() {
  let jobs = new QueueService<Job>("jobs", attempts: 3)
  let results = new Table<String, Int>("results")
  let before = results.len()
  jobs.send(Job { id: before + 1, url: "a" })
  jobs.send(Job { id: before + 2, url: "b" })
  print("queued {jobs.len()}")
  while true {
    match jobs.receive() {
      Some(job) => results.put("job-{job.id}", job.id * 10),
      None => break,
    }
  }
  print("rows {results.len()} left {jobs.len()}")
  print("{results.get("job-2")} {results.get("nope")}")
  print("{results.scan("job-1")}")
}
"#;

#[test]
fn queues_and_tables_persist_and_keep_their_types() {
    let dir = scratch_dir("resources", "persist");
    let file = write(&dir, "shop.weft", SHOP);
    let data = dir.join("data");
    let (f, d) = (file.to_str().unwrap(), data.to_str().unwrap());

    let first = weft(&["run", f, "--data", d]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "queued 2\nrows 2 left 0\nSome(20) None\n[(\"job-1\", 10)]\n"
    );
    // A second run re-attaches: the table keeps its rows and gets two more.
    let second = weft(&["run", f, "--data", d]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(
        text(&second.stdout),
        "queued 2\nrows 4 left 0\nSome(20) None\n[(\"job-1\", 10)]\n"
    );

    // The same queue with another `Job` is refused at its `new`, before main runs.
    let changed = SHOP
        .replace(
            "type Job = { id: Int, url: String }",
            "type Job = { id: Int, url: String, tries: Int }",
        )
        .replace("url: \"a\" }", "url: \"a\", tries: 0 }")
        .replace("url: \"b\" }", "url: \"b\", tries: 0 }");
    let v2 = dir.join("v2");
    std::fs::create_dir_all(&v2).unwrap();
    let file2 = write(&v2, "shop.weft", &changed);
    let refused = weft(&["run", file2.to_str().unwrap(), "--data", d]);
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        text(&refused.stdout).is_empty(),
        "main must not run: {}",
        text(&refused.stdout)
    );
    assert!(
        err.contains("error: `jobs` exists in the cluster with another type"),
        "{err}"
    );
    assert!(err.contains("shop.weft:5:14"), "{err}");
    assert!(
        err.contains("new QueueService<Job>(\"jobs\", attempts: 3)"),
        "{err}"
    );
    assert!(err.contains("Job = { id: Int, url: String }"), "{err}");
    assert!(
        err.contains("Job = { id: Int, url: String, tries: Int }"),
        "{err}"
    );

    // A version that allocates only the table: the queue is orphaned, not deleted.
    let v3 = dir.join("v3");
    std::fs::create_dir_all(&v3).unwrap();
    let file3 = write(
        &v3,
        "shop.weft",
        "fn main() {\n  let t = new Table<String, Int>(\"results\")\n  print(\"{t.len()}\")\n}\n",
    );
    let third = weft(&["run", file3.to_str().unwrap(), "--data", d, "--force"]);
    let err = text(&third.stderr);
    assert!(third.status.success(), "{err}");
    assert_eq!(text(&third.stdout), "4\n");
    assert!(
        err.contains("no longer allocates jobs: orphaned, kept"),
        "{err}"
    );

    // Served: the resources are listed and described.
    let node = Served::start(&file3, &data, &["--force"]);
    let list = node.weft(&["get", "resources"]);
    let out = text(&list.stdout);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("NAME"), "{out}");
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        words(lines[1]),
        [
            "jobs",
            "QueueService",
            "QueueService<Job>",
            "shop",
            "Orphaned",
            "0",
            "messages,",
            "0",
            "dead"
        ]
    );
    assert_eq!(
        words(lines[2]),
        [
            "results",
            "Table",
            "Table<String,",
            "Int>",
            "shop",
            "Ready",
            "4",
            "rows"
        ]
    );
    let described = node.weft(&["describe", "resource", "jobs"]);
    let out = text(&described.stdout);
    assert!(described.status.success(), "{}", text(&described.stderr));
    for want in [
        "Type:      QueueService<Job>",
        "Program:   shop",
        "Settings:  attempts: 3, visibility: 30s",
        "Status:    Orphaned",
        "created by shop at",
        "orphaned: the program's latest run of main did not allocate it",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    let missing = node.weft(&["describe", "resource", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("no resource `nope` (it has: shop/jobs, shop/results)"),
        "{}",
        text(&missing.stderr)
    );
    let json = node.weft(&["get", "resources", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[1]["size"]["rows"], 4);
    // The embedded cluster records the program as a deploy does: two modules ran.
    let json = node.weft(&["get", "programs", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["name"], "shop", "{v}");
    assert_eq!(v[0]["version"], 2, "{v}");
    assert_eq!(v[0]["resources"], serde_json::json!(["results"]), "{v}");
}

#[test]
fn a_trapping_turn_writes_nothing_to_a_table() {
    let dir = scratch_dir("resources", "turns");
    let file = write(
        &dir,
        "t.weft",
        r#"
agent Recorder at "/recorders/:id" {
  fn record(key: String, fail: Bool) -> Int {
    let t = new Table<String, Int>("log")
    t.put(key, 1)
    if fail { panic("no") }
    t.len()
  }
}

fn main() {
  let r = Recorder("/recorders/a")
  print("{r.record("a", false)}")
  print("{try r.record("b", true)}")
  let t = new Table<String, Int>("log")
  print("{t.scan("")}")
}
"#,
    );
    let data = dir.join("data");
    let out = weft(&[
        "run",
        file.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The turn's write is held until it commits: the first turn sees its own put only
    // after committing (reads go to the cluster), the trapping one writes nothing.
    assert_eq!(
        text(&out.stdout),
        "0\nErr(Error { message: \"/recorders/a record failed: no\" })\n[(\"a\", 1)]\n"
    );
}
