//! `cargo bench --bench repl`: the time from pressing enter to the result in a warm
//! `weft repl` session connected to a served node, for a simple expression and for a call
//! to an agent (each input type-checked with the program, compiled, sent to the node and
//! run there), next to Node.js's own REPL (`node -i`) evaluating the same expression in
//! the same run, when `node` is installed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  fn incr(by: Int) -> Int {
    count += by
    count
  }
}

fn main() {}
"#;

const ROUNDS: usize = 200;

/// A line-at-a-time conversation with a process.
struct Talk {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Talk {
    fn start(cmd: &mut Command) -> Talk {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout"));
        Talk {
            child,
            input,
            output,
        }
    }

    /// Sends `line` and waits for an output line containing `answer`.
    fn ask(&mut self, line: &str, answer: &str) -> Duration {
        let start = Instant::now();
        writeln!(self.input, "{line}").expect("write");
        self.input.flush().expect("flush");
        let mut got = String::new();
        loop {
            got.clear();
            let n = self.output.read_line(&mut got).expect("read");
            assert!(n > 0, "the session ended waiting for {answer:?}");
            if got.contains(answer) {
                return start.elapsed();
            }
        }
    }
}

impl Drop for Talk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentiles(mut ts: Vec<Duration>) -> (f64, f64) {
    ts.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(ts[ts.len() / 2]), ms(ts[ts.len() * 99 / 100]))
}

fn main() {
    let dir = std::env::temp_dir().join(format!("weft-bench-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("counter.weft");
    std::fs::write(&file, PROGRAM).expect("write");
    let mut node = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(&file)
        .args(["--serve", "--api", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft run");
    let mut err = BufReader::new(node.stderr.take().expect("stderr"));
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).expect("read") > 0,
            "the node did not start"
        );
        if let Some(rest) = line.strip_prefix("api: ") {
            break rest.split(' ').next().unwrap_or(rest).to_string();
        }
    };
    let mut repl =
        Talk::start(Command::new(env!("CARGO_BIN_EXE_weft")).args(["repl", "--cluster", &url]));
    for i in 0..20 {
        repl.ask(&format!("{i} + 1"), &format!("{}", i + 1));
    }
    let simple: Vec<Duration> = (0..ROUNDS)
        .map(|i| repl.ask(&format!("{i} * 3 + 1"), &format!("{}", i * 3 + 1)))
        .collect();
    let calls: Vec<Duration> = (0..ROUNDS)
        .map(|i| repl.ask("Counter(\"/counters/a\").incr(1)", &format!("{}", i + 1)))
        .collect();
    let (s50, s99) = percentiles(simple);
    let (c50, c99) = percentiles(calls);
    println!("weft repl, enter to result on a warm session ({ROUNDS} inputs each):");
    println!("  `i * 3 + 1`                      p50 {s50:.2} ms, p99 {s99:.2} ms");
    println!("  `Counter(\"/counters/a\").incr(1)` p50 {c50:.2} ms, p99 {c99:.2} ms");
    let peer = Command::new("node").arg("--version").output();
    if peer.is_ok_and(|o| o.status.success()) {
        let mut js = Talk::start(
            Command::new("node")
                .args(["-i"])
                .env("NODE_NO_READLINE", "1"),
        );
        for i in 0..20 {
            js.ask(&format!("{i} + 1"), &format!("{}", i + 1));
        }
        let times: Vec<Duration> = (0..ROUNDS)
            .map(|i| js.ask(&format!("{i} * 3 + 1"), &format!("{}", i * 3 + 1)))
            .collect();
        let (n50, n99) = percentiles(times);
        println!("  node -i, `i * 3 + 1`             p50 {n50:.2} ms, p99 {n99:.2} ms");
        println!("  weft / node (p50)                {:.1}x", s50 / n50);
    } else {
        println!("  (node is not installed: no peer figure)");
    }
    let _ = node.kill();
    let _ = node.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
