//! `weft repl` as a script drives it (stdin and `--eval`): inputs run on a served node
//! against its agents, bindings and definitions persist between inputs, a type error is
//! reported against the input and a trap with its stack while the session goes on,
//! `:patch` swaps the program, and an embedded node runs a file.

use super::support::{scratch_dir, text, write, Served};
use std::io::Write;
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

/// A process on a pseudo-terminal, as a person at a keyboard runs it: keys go in, and
/// everything it writes (escapes and all) collects as the screen's text.
struct Pty {
    master: std::fs::File,
    child: std::process::Child,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Pty {
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Pty {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills in two new descriptors that we then own.
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(r, 0, "openpty failed");
        // SAFETY: both descriptors were just opened and are owned here alone.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                OwnedFd::from_raw_fd(slave),
            )
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.args(args)
            .env_remove("WEFT_CLUSTER")
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        for (k, v) in env {
            cmd.env(k, v);
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap_or_else(|e| panic!("{e}"));
        let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (mut reader, into) = (master.try_clone().expect("dup"), screen.clone());
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock()
                    .expect("screen")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Pty {
            master,
            child,
            screen,
        }
    }

    fn keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).expect("keys");
        self.master.flush().expect("flush");
    }

    /// Waits (at most 30 s) until the screen shows `text` after what was seen so far;
    /// returns the screen from there on.
    fn expect(&mut self, text: &str, from: &mut usize) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let screen = self.screen.lock().expect("screen").clone();
            if let Some(at) = screen[*from..].find(text) {
                let seen = screen[*from..].to_string();
                *from += at + text.len();
                return seen;
            }
            assert!(
                std::time::Instant::now() < until,
                "the screen never showed {text:?}; it shows:\n{}",
                &screen[*from..]
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn at_a_terminal_the_session_completes_links_and_remembers() {
    let dir = scratch_dir("weft-repl", "pty");
    let node = Served::start(
        &write(&dir, "counter.weft", COUNTER),
        &dir.join("data"),
        &[],
    );
    let history = dir.join("history");
    let history_s = history.to_string_lossy().into_owned();
    let mut term = Pty::spawn(
        &["repl", "--cluster", &node.url],
        &[("WEFT_HISTORY", &history_s)],
    );
    let mut at = 0;
    term.expect("weft> ", &mut at);
    term.keys("let c = Counter(\"/counters/a\")\r");
    term.expect("c: Counter = Counter(\"/counters/a\")", &mut at);
    // Tab completes the agent's method.
    term.keys("c.in\t");
    term.expect("c.incr", &mut at);
    term.keys("(2)\r");
    term.expect("\r\n2\r\n", &mut at);
    // A type error is reported against the input; the session goes on.
    term.keys("c.get() + \"x\"\r");
    term.expect("--> input:1:1", &mut at);
    term.keys("c.get() * 10\r");
    term.expect("\r\n20\r\n", &mut at);
    // Brackets left open ask for more lines.
    term.keys("[1,\r2]\r");
    term.expect("[1, 2]", &mut at);
    // A link shows what another client changes, until a key is pressed.
    term.keys(":link /counters/a count\r");
    term.expect("press any key to stop", &mut at);
    term.expect("2\r\n", &mut at);
    let other = node.weft(&["call", "/counters/a", "incr", "5"]);
    assert!(other.status.success(), "{}", text(&other.stderr));
    term.expect("7\r\n", &mut at);
    term.keys("q");
    term.expect("weft> ", &mut at);
    // A patch swaps the code the next input calls.
    let v2 = COUNTER.replace(
        "  fn get() -> Int { count }",
        "  fn get() -> Int { count }\n  fn double() -> Int { count * 2 }",
    );
    let v2 = write(&dir, "v2.weft", &v2);
    term.keys(&format!(":patch {}\r", v2.display()));
    term.expect("counter is at version 2", &mut at);
    term.keys("c.double()\r");
    term.expect("\r\n14\r\n", &mut at);
    // Ctrl-D leaves; the history stays for the next session.
    term.keys("\x04");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while term.child.try_wait().ok().flatten().is_none() {
        assert!(std::time::Instant::now() < until, "the session did not end");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kept = std::fs::read_to_string(&history).unwrap_or_default();
    assert!(kept.contains("let c = Counter(\"/counters/a\")"), "{kept}");
    let mut again = Pty::spawn(
        &["repl", "--cluster", &node.url],
        &[("WEFT_HISTORY", &history_s)],
    );
    let mut at = 0;
    again.expect("weft> ", &mut at);
    again.keys("\x1b[A");
    again.expect("c.double()", &mut at);
}
