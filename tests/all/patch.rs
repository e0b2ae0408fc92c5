//! Hot swap as its users drive it: a served node takes a sequence of `weft patch`es (a new
//! method, a new lane, a lane's type changed by a migration, a bug fixed) while another
//! client calls it without pause; no call fails or is lost, each patch's behaviour shows
//! at once, state migrates exactly, linked clients see the migrated value, a breaking
//! patch is refused with its diff, `weft rollout` lists and undoes versions, and an agent
//! whose migration traps keeps its old code and state.

use super::support::{scratch_dir, text, wait_output, write, Served};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Version 1: a counter.
const V1: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  fn incr(by: Int) -> Int {
    count += by
    count
  }
  fn get() -> Int { count }
}

fn main() { print("ready") }
"#;

/// Version 2 adds a method.
const V2: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  fn incr(by: Int) -> Int {
    count += by
    count
  }
  fn get() -> Int { count }
  fn double() -> Int { count * 2 }
}

fn main() { print("ready") }
"#;

/// Version 3 adds a lane, counted by `incr`.
const V3: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  value calls: Int = 0
  fn incr(by: Int) -> Int {
    count += by
    calls += 1
    count
  }
  fn get() -> Int { count }
  fn double() -> Int { count * 2 }
  fn call_count() -> Int { calls }
}

fn main() { print("ready") }
"#;

/// Version 4 makes the count a `Float`, migrating the stored `Int` (and `double` has a
/// bug).
const V4: &str = r#"
agent Counter at "/counters/:id" {
  value count: Float = 0.0
  value calls: Int = 0
  migrate count(old: Int) -> Float { old.to_float() } undo(new) { new.to_int() }
  fn incr(by: Int) -> Float {
    count += by.to_float()
    calls += 1
    count
  }
  fn get() -> Float { count }
  fn double() -> Float { count * 3.0 }
  fn call_count() -> Int { calls }
}

fn main() { print("ready") }
"#;

/// Breaks version 5: the count becomes a `String` with no migration.
const BAD: &str = r#"
agent Counter at "/counters/:id" {
  value count: String = ""
  value calls: Int = 0
  fn incr(by: Int) -> String { count }
  fn get() -> String { count }
  fn double() -> Float { 0.0 }
  fn call_count() -> Int { calls }
}

fn main() { print("ready") }
"#;

/// `weft call URI METHOD ARGS` against the node: its stdout, asserting it succeeded.
fn call(node: &Served, args: &[&str]) -> String {
    let mut all = vec!["call"];
    all.extend(args);
    let out = node.weft(&all);
    assert!(
        out.status.success(),
        "weft {all:?}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_string()
}

/// `weft patch FILE` against the node: (exit code, stdout, stderr).
fn patch(node: &Served, file: &Path, extra: &[&str]) -> (i32, String, String) {
    let file = file.to_string_lossy().into_owned();
    let mut all = vec!["patch", file.as_str()];
    all.extend(extra);
    let out = node.weft(&all);
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Calls `incr 1` on `/counters/a` over HTTP, back to back, until `stop`; every answer
/// and how many calls were made.
fn drive(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(usize, Vec<String>)> {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let (mut made, mut failures) = (0, vec![]);
        while !stop.load(Ordering::SeqCst) {
            let r = client
                .post(format!("{url}/api/v1/call"))
                .json(&serde_json::json!({"uri": "/counters/a", "method": "incr", "args": ["1"]}))
                .send();
            made += 1;
            match r {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => failures.push(format!("{}: {}", r.status(), r.text().unwrap_or_default())),
                Err(e) => failures.push(e.to_string()),
            }
        }
        (made, failures)
    })
}

#[test]
fn patches_under_load_lose_no_call_and_change_behaviour_at_once() {
    let dir = scratch_dir("weft-patch", "sequence");
    let v1 = write(&dir, "counter.weft", V1);
    let node = Served::start(&v1, &dir.join("data"), &[]);
    // `/counters/b` stays still, for checking behaviour; `/counters/a` takes the load.
    assert_eq!(call(&node, &["/counters/b", "incr", "5"]), "5");
    let stop = Arc::new(AtomicBool::new(false));
    let driver = drive(node.url.clone(), stop.clone());
    std::thread::sleep(Duration::from_millis(300));

    // A new method answers as soon as the patch returns.
    let (code, out, err) = patch(&node, &write(&dir, "v2.weft", V2), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("method `Counter.double` added"), "{err}");
    assert!(out.contains("counter is at version 2"), "{out}");
    assert_eq!(call(&node, &["/counters/b", "double"]), "10");

    // A new lane starts at its initial value and counts from the patch on.
    let (code, out, err) = patch(&node, &write(&dir, "v3.weft", V3), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("lane `Counter.calls: Int` added"), "{err}");
    assert_eq!(call(&node, &["/counters/b", "call_count"]), "0");
    assert_eq!(call(&node, &["/counters/b", "incr", "1"]), "6");
    assert_eq!(call(&node, &["/counters/b", "call_count"]), "1");

    // A lane's type changes through its migration; a linked client sees the new value.
    let mut link = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["link", "/counters/b", "count", "--events", "2", "--cluster"])
        .arg(&node.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft link");
    std::thread::sleep(Duration::from_millis(500));
    let (code, out, err) = patch(&node, &write(&dir, "v4.weft", V4), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("migrated by `migrate count`"), "{err}");
    assert_eq!(call(&node, &["/counters/b", "get"]), "6.0");
    assert_eq!(call(&node, &["/counters/b", "double"]), "18.0");
    let linked = wait_output(
        std::mem::replace(&mut link, Command::new("true").spawn().expect("true")),
        Duration::from_secs(20),
    );
    let _ = link.wait();
    assert_eq!(text(&linked.stdout), "6\n6.0\n", "{}", text(&linked.stderr));

    // A bug fix.
    // Version 5 fixes `double`.
    let v5 = V4.replace("count * 3.0", "count * 2.0");
    let (code, out, err) = patch(&node, &write(&dir, "v5.weft", &v5), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(call(&node, &["/counters/b", "double"]), "12.0");

    // A breaking patch is refused with the diff, and changes nothing.
    let (code, out, err) = patch(&node, &write(&dir, "bad.weft", BAD), &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("breaking") && err.contains("lane `Counter.count`"),
        "{err}"
    );
    assert!(err.contains("migrate count(old: Float)"), "{err}");
    assert_eq!(call(&node, &["/counters/b", "double"]), "12.0");

    stop.store(true, Ordering::SeqCst);
    let (made, failures) = driver.join().expect("driver");
    assert!(
        failures.is_empty(),
        "{} of {made} calls failed: {failures:?}",
        failures.len()
    );
    assert!(made > 10, "only {made} calls were made");
    // Every call counted, across four swaps and a migration.
    assert_eq!(call(&node, &["/counters/a", "get"]), format!("{made}.0"));

    let out = node.weft(&["rollout", "history", "counter"]);
    let listed = text(&out.stdout);
    assert_eq!(listed.lines().count(), 6, "{listed}{}", text(&out.stderr));
    assert!(
        listed
            .lines()
            .nth(5)
            .is_some_and(|l| l.starts_with("5 ") && l.contains("current")),
        "{listed}"
    );

    // Undo goes back to version 4's code (the bug is back) as version 6.
    let out = node.weft(&["rollout", "undo", "counter"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(call(&node, &["/counters/b", "double"]), "18.0");
    let out = node.weft(&["rollout", "undo", "nosuch"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn undo_reverses_a_migration_that_declares_how() {
    let dir = scratch_dir("weft-patch", "undo");
    let v1 = write(&dir, "counter.weft", V3);
    let node = Served::start(&v1, &dir.join("data"), &[]);
    assert_eq!(call(&node, &["/counters/b", "incr", "7"]), "7");
    let (code, out, err) = patch(&node, &write(&dir, "v4.weft", V4), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(call(&node, &["/counters/b", "incr", "1"]), "8.0");
    let out = node.weft(&["rollout", "undo", "counter"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(call(&node, &["/counters/b", "get"]), "8");
    // An undo is not undone; a migration without `undo` cannot be.
    let out = node.weft(&["rollout", "undo", "counter"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("already undoes"),
        "{}",
        text(&out.stderr)
    );
    let one_way = V4.replace(" undo(new) { new.to_int() }", "");
    let (code, out, err) = patch(&node, &write(&dir, "one-way.weft", &one_way), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let out = node.weft(&["rollout", "undo", "counter"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("declares no `undo`"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(call(&node, &["/counters/b", "get"]), "8.0");
}

#[test]
fn an_agent_whose_migration_traps_keeps_its_old_code_and_state() {
    let dir = scratch_dir("weft-patch", "trap");
    let v1 = write(&dir, "counter.weft", V1);
    let node = Served::start(&v1, &dir.join("data"), &[]);
    assert_eq!(call(&node, &["/counters/a", "incr", "1"]), "1");
    assert_eq!(call(&node, &["/counters/b", "incr", "13"]), "13");
    let unlucky = V4.replace(
        "migrate count(old: Int) -> Float { old.to_float() }",
        "migrate count(old: Int) -> Float {\n    if old == 13 { panic(\"unlucky\") }\n    old.to_float()\n  }",
    );
    let (code, out, err) = patch(&node, &write(&dir, "unlucky.weft", &unlucky), &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("/counters/b stays on its old version"),
        "{err}"
    );
    assert!(err.contains("unlucky"), "{err}");
    // `a` moved; `b` answers with version 1's code and its state as it was.
    assert_eq!(call(&node, &["/counters/a", "get"]), "1.0");
    assert_eq!(call(&node, &["/counters/b", "get"]), "13");
    assert_eq!(call(&node, &["/counters/b", "incr", "1"]), "14");
    // The next patch moves it.
    let (code, out, err) = patch(&node, &write(&dir, "v4.weft", V4), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(call(&node, &["/counters/b", "get"]), "14.0");
}

#[test]
fn a_changed_program_run_on_the_same_data_is_a_patch() {
    let dir = scratch_dir("weft-patch", "rerun");
    let data = dir.join("data");
    let v3 = write(&dir, "counter.weft", V3);
    {
        let node = Served::start(&v3, &data, &[]);
        assert_eq!(call(&node, &["/counters/b", "incr", "4"]), "4");
    }
    // The stored `Int` is migrated when the agent is next activated.
    let v4 = write(&dir, "counter.weft", V4);
    {
        let node = Served::start(&v4, &data, &[]);
        assert_eq!(call(&node, &["/counters/b", "get"]), "4.0");
    }
    // A breaking program is refused, unless forced.
    let bad = write(&dir, "counter.weft", BAD);
    let out = super::support::weft(&[
        "run",
        &bad.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("breaking"),
        "{}",
        text(&out.stderr)
    );
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

#[test]
fn the_shortener_evolves_through_its_patches() {
    let dir = scratch_dir("weft-patch", "shortener");
    let node = Served::start(&example("shortener.weft"), &dir.join("data"), &[]);
    assert_eq!(
        call(&node, &["/links/main", "shorten", "https://a.example"]),
        "s1"
    );
    assert_eq!(
        call(&node, &["/links/main", "shorten", "https://b.example"]),
        "s2"
    );

    // Version 2: the stored URLs become links with hit counts.
    let (code, out, err) = patch(&node, &example("shortener/2-hits.weft"), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("migrated by `migrate urls`"), "{err}");
    assert_eq!(
        call(&node, &["/links/main", "resolve", "s1"]),
        "Some(\"https://a.example\")"
    );
    assert_eq!(
        call(&node, &["/links/main", "resolve", "s1"]),
        "Some(\"https://a.example\")"
    );
    assert_eq!(call(&node, &["/links/main", "hits", "s1"]), "2");
    assert_eq!(call(&node, &["/links/main", "hits", "s2"]), "0");

    // Version 3: links gain an owner (stored ones get the default), and `shorten` a
    // parameter with a default, so a caller of version 2 still works.
    let (code, out, err) = patch(&node, &example("shortener/3-owners.weft"), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        call(&node, &["/links/main", "shorten", "https://c.example"]),
        "s3"
    );
    assert_eq!(
        call(
            &node,
            &["/links/main", "shorten", "https://d.example", "ada"]
        ),
        "s4"
    );
    assert_eq!(
        call(&node, &["/links/main", "made_by", "anonymous"]),
        "[\"s1\", \"s2\", \"s3\"]"
    );
    assert_eq!(call(&node, &["/links/main", "made_by", "ada"]), "[\"s4\"]");
    assert_eq!(call(&node, &["/links/main", "hits", "s1"]), "2");

    // Back to version 2's code: the owners go, the hits stay.
    let out = node.weft(&["rollout", "undo", "shortener"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(call(&node, &["/links/main", "hits", "s1"]), "2");
    assert_eq!(call(&node, &["/links/main", "count"]), "4");
    let out = node.weft(&["rollout", "history", "shortener"]);
    assert_eq!(
        text(&out.stdout).lines().count(),
        5,
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn timers_keep_running_and_main_runs_again_after_a_patch() {
    const TICKS: &str = r#"
agent Clock at "/clocks/:id" {
  value ticks: Int = 0
  every 50ms { ticks += STEP }
  fn count() -> Int { ticks }
}

fn main() { let n = Clock("/clocks/MAIN").count() }
"#;
    let dir = scratch_dir("weft-patch", "timers");
    let v1 = TICKS.replace("STEP", "1").replace("MAIN", "a");
    let node = Served::start(&write(&dir, "clock.weft", &v1), &dir.join("data"), &[]);
    let ticks = |id: &str| -> i64 {
        call(&node, &[&format!("/clocks/{id}"), "count"])
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let until = std::time::Instant::now() + Duration::from_secs(20);
    while ticks("a") < 3 {
        assert!(std::time::Instant::now() < until, "the timer does not tick");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Version 2 ticks by 1000, and its `main` activates another clock.
    let v2 = TICKS.replace("STEP", "1000").replace("MAIN", "b");
    let (code, out, err) = patch(&node, &write(&dir, "clock2.weft", &v2), &[]);
    assert_eq!(code, 0, "{out}{err}");
    let before = ticks("a");
    while ticks("a") < before + 2000 {
        assert!(
            std::time::Instant::now() < until,
            "the timer stopped with the patch"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let listed = text(&node.weft(&["get", "agents"]).stdout);
    assert!(listed.contains("/clocks/b"), "{listed}");
    while ticks("b") < 1000 {
        assert!(
            std::time::Instant::now() < until,
            "the new agent's timer does not tick"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_removed_variant_still_stored_refuses_the_patch() {
    const STATES: &str = r#"
enum State { On, Off, Broken }

agent Lamp at "/lamps/:id" {
  value state: State = Off
  fn set(on: Bool) { state = if on { On } else { Off } }
  fn brk() { state = Broken }
  fn on() -> Bool { state == On }
}

fn main() {}
"#;
    let dir = scratch_dir("weft-patch", "variants");
    let node = Served::start(&write(&dir, "lamp.weft", STATES), &dir.join("data"), &[]);
    call(&node, &["/lamps/a", "set", "true"]);
    call(&node, &["/lamps/b", "brk"]);
    let fixed = STATES
        .replace("enum State { On, Off, Broken }", "enum State { On, Off }")
        .replace("  fn brk() { state = Broken }\n", "");
    let (code, out, err) = patch(&node, &write(&dir, "fixed.weft", &fixed), &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("/lamps/b") && err.contains("variant `Broken`"),
        "{err}"
    );
    assert_eq!(call(&node, &["/lamps/a", "on"]), "true");
    // Once no stored value uses it, the variant may go.
    call(&node, &["/lamps/b", "set", "false"]);
    let (code, out, err) = patch(&node, &write(&dir, "fixed.weft", &fixed), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(call(&node, &["/lamps/a", "on"]), "true");
    assert_eq!(call(&node, &["/lamps/b", "on"]), "false");
}

#[test]
fn an_agent_whose_new_on_start_traps_keeps_its_old_code() {
    let dir = scratch_dir("weft-patch", "on-start");
    let node = Served::start(&write(&dir, "counter.weft", V1), &dir.join("data"), &[]);
    assert_eq!(call(&node, &["/counters/a", "incr", "3"]), "3");
    let trapping = V2.replace(
        "  fn get() -> Int { count }",
        "  fn get() -> Int { count }\n  on start { if count > 2 { panic(\"too many\") } }",
    );
    let (code, out, err) = patch(&node, &write(&dir, "v2.weft", &trapping), &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("/counters/a stays on its old version") && err.contains("too many"),
        "{err}"
    );
    // Version 1's code answers, with the state as it was; a new agent starts on version 2.
    assert_eq!(call(&node, &["/counters/a", "incr", "1"]), "4");
    let out = node.weft(&["call", "/counters/a", "double"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(call(&node, &["/counters/c", "double"]), "0");
}

#[test]
fn bad_patches_are_refused_with_a_reason() {
    let dir = scratch_dir("weft-patch", "bad");
    let node = Served::start(&write(&dir, "counter.weft", V1), &dir.join("data"), &[]);
    let client = reqwest::blocking::Client::new();
    let post = |path: &str, body: Vec<u8>| {
        let r = client
            .post(format!("{}{path}", node.url))
            .body(body)
            .send()
            .unwrap_or_else(|e| panic!("{e}"));
        (r.status().as_u16(), r.text().unwrap_or_default())
    };
    assert_eq!(post("/api/v1/patch", vec![]).0, 400);
    let (status, body) = post("/api/v1/patch", b"not a module".to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a WebAssembly module"), "{body}");
    let (status, body) = post("/api/v1/patch/check", b"\0asm\x01\0\0\0".to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("no `weft` section"), "{body}");
    // The same module again is nothing to do.
    let (code, out, err) = patch(&node, &dir.join("counter.weft"), &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("already runs this module"), "{err}");
    // A program that does not compile never reaches the node.
    let broken = write(
        &dir,
        "broken.weft",
        "agent Counter { value count: Int = \"x\" }\n",
    );
    let (code, _, err) = patch(&node, &broken, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken.weft:1:"), "{err}");
    // `--dry-run` prints the diff and changes nothing.
    let (code, out, err) = patch(&node, &write(&dir, "v2.weft", V2), &["--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("method `Counter.double` added"), "{err}");
    let status = node.weft(&["rollout", "status", "counter"]);
    assert_eq!(
        text(&status.stdout).split(" (").next(),
        Some("counter runs version 1"),
        "{}",
        text(&status.stderr)
    );
}

#[test]
fn a_removed_agent_type_is_a_warning_and_its_agents_stop_answering() {
    const TWO: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  fn incr(by: Int) -> Int {
    count += by
    count
  }
}

agent Gauge at "/gauges/:id" {
  value level: Int = 0
  fn set(to: Int) -> Int {
    level = to
    level
  }
}

fn main() {}
"#;
    let dir = scratch_dir("weft-patch", "removed-agent");
    let node = Served::start(&write(&dir, "two.weft", TWO), &dir.join("data"), &[]);
    assert_eq!(call(&node, &["/gauges/g", "set", "3"]), "3");
    assert_eq!(call(&node, &["/counters/a", "incr", "1"]), "1");
    let one = TWO[..TWO.find("agent Gauge").expect("Gauge")].to_string() + "fn main() {}\n";
    let (code, out, err) = patch(&node, &write(&dir, "one.weft", &one), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("warning") && err.contains("agent `Gauge`"),
        "{err}"
    );
    let gone = node.weft(&["call", "/gauges/g", "set", "4"]);
    assert_eq!(gone.status.code(), Some(2), "{}", text(&gone.stderr));
    assert_eq!(call(&node, &["/counters/a", "incr", "1"]), "2");
    // Its stored lanes are kept: bringing the type back finds them.
    let (code, out, err) = patch(&node, &dir.join("two.weft"), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(call(&node, &["/gauges/g", "set", "5"]), "5");
    let listed = text(&node.weft(&["get", "agents"]).stdout);
    assert!(listed.contains("/gauges/g"), "{listed}");
}
