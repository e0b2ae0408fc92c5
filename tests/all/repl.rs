//! `weft repl` as a script drives it (stdin and `--eval`): inputs run on a served node
//! against its agents, bindings and definitions persist between inputs, a type error is
//! reported against the input and a trap with its stack while the session goes on,
//! `:patch` swaps the program, and an embedded node runs a file.

use super::support::{scratch_dir, text, Served};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const COUNTER: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  fn incr(by: Int) -> Int {
    count += by
    count
  }
  fn get() -> Int { count }
}

type Point = { x: Int, y: Int }

fn main() { print("ready") }
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

/// `weft repl ARGS` with `script` on stdin.
fn repl(args: &[&str], script: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("repl")
        .args(args)
        .env_remove("WEFT_CLUSTER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(script.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    drop(stdin);
    super::support::wait_output(child, std::time::Duration::from_secs(120))
}

#[test]
fn a_script_runs_on_the_node_with_its_bindings() {
    let dir = scratch_dir("weft-repl", "script");
    let node = Served::start(
        &write(&dir, "counter.weft", COUNTER),
        &dir.join("data"),
        &[],
    );
    let script = r#"let c = Counter("/counters/a")
c.incr(2)
c.incr(3)
var n = 0
for i in 0..4 {
  n += i
}
n
fn twice(x: Int) -> Int {
  x * 2
}
twice(n)
:type [c.get()]
"a" + 1
panic("boom")
let p = Point { x: 1, y: twice(2) }
p.y + c.get()
print("done {n}")
"#;
    let out = repl(&["--cluster", &node.url], script);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        stdout,
        "c: Counter = Counter(\"/counters/a\")\n2\n5\nn: Int = 0\n6\n12\nList<Int>\n\
         p: Point = Point { x: 1, y: 4 }\n9\ndone 6\n",
        "{stderr}"
    );
    // The errors are reported against the input, and the session went on.
    assert!(stderr.contains("--> input:1:1"), "{stderr}");
    assert!(stderr.contains("boom"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The calls reached the node's agent.
    let got = node.weft(&["call", "/counters/a", "get"]);
    assert_eq!(text(&got.stdout), "5\n");
}

#[test]
fn eval_prints_one_result_and_patch_swaps_the_program() {
    let dir = scratch_dir("weft-repl", "eval");
    let node = Served::start(
        &write(&dir, "counter.weft", COUNTER),
        &dir.join("data"),
        &[],
    );
    let out = repl(
        &[
            "--cluster",
            &node.url,
            "--eval",
            "Counter(\"/counters/b\").incr(7) * 2",
        ],
        "",
    );
    assert_eq!(text(&out.stdout), "14\n", "{}", text(&out.stderr));
    assert!(out.status.success());
    let out = repl(&["--cluster", &node.url, "--eval", "nosuch(1)"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("input:1:1"),
        "{}",
        text(&out.stderr)
    );

    let v2 = COUNTER.replace(
        "  fn get() -> Int { count }",
        "  fn get() -> Int { count }\n  fn double() -> Int { count * 2 }",
    );
    let v2 = write(&dir, "v2.weft", &v2);
    let script = format!(
        ":patch {}\nCounter(\"/counters/b\").double()\n:agents /counters\n",
        v2.display()
    );
    let out = repl(&["--cluster", &node.url], &script);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("counter is at version 2"), "{stdout}");
    assert!(
        stdout.contains("\n14\n/counters/b  Counter  active\n"),
        "{stdout}"
    );
}

#[test]
fn a_file_runs_on_an_embedded_node() {
    let dir = scratch_dir("weft-repl", "embedded");
    let file = write(&dir, "counter.weft", COUNTER);
    let out = repl(
        &[
            &file.to_string_lossy(),
            "--eval",
            "Counter(\"/counters/c\").incr(4)",
        ],
        "",
    );
    assert_eq!(text(&out.stdout), "ready\n4\n", "{}", text(&out.stderr));
}
