//! Agents as a user runs them with the `weft` binary: state that survives a restart of
//! the process with the same data directory, a turn that runs too long, and bad agent
//! programs.

use super::support::{text, weft, write};

fn scratch_dir(name: &str) -> std::path::PathBuf {
    super::support::scratch_dir("weft-agents", name)
}

const VISITS: &str = r#"
agent Visits at "/visits/:page" {
  value count: Int = 0
  map by_user: Map<String, Int>
  list log: List<String>
  fn visit(user: String) -> Int {
    count += 1
    by_user[user] = by_user.get(user).unwrap_or(0) + 1
    log.push(user)
    count
  }
  fn users() -> Map<String, Int> { by_user }
  fn spin() -> Int {
    count += 1000
    var i = 0
    while true { i += 1 }
    i
  }
}

fn main() {
  let v = Visits("/visits/home")
  print(v.visit("ada"))
  print(v.visit("bob"))
  print(v.users())
  match try v.spin() {
    Ok(_) => print("spin returned"),
    Err(e) => print("spin: {e.message}"),
  }
  print(v.visit("ada"))
}
"#;

#[test]
fn lanes_survive_a_restart_with_the_same_data_directory() {
    let dir = scratch_dir("restart");
    let file = write(&dir, "visits.weft", VISITS);
    let data = dir.join("data");
    let (file, data) = (file.to_string_lossy(), data.to_string_lossy());
    let args = [
        "run",
        file.as_ref(),
        "--data",
        data.as_ref(),
        "--turn-time-limit-ms",
        "200",
    ];
    let first = weft(&args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        "1\n2\n{\"ada\": 1, \"bob\": 1}\nspin: /visits/home spin failed: time limit exceeded\n3\n"
    );
    // The trapped turn is reported on stderr with where it was.
    let err = text(&first.stderr);
    assert!(err.contains("/visits/home spin"), "{err}");
    let second = weft(&args);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(
        text(&second.stdout),
        "4\n5\n{\"ada\": 3, \"bob\": 2}\nspin: /visits/home spin failed: time limit exceeded\n6\n"
    );
}

#[test]
fn without_a_data_directory_state_lasts_one_run() {
    let file = write(&scratch_dir("ephemeral"), "visits.weft", VISITS);
    let file = file.to_string_lossy();
    for _ in 0..2 {
        let out = weft(&["run", file.as_ref(), "--turn-time-limit-ms", "100"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("1\n2\n"));
    }
}

const ASKS: &str = r#"
agent Count at "/count/:id" {
  value n: Int = 0
  fn bump() { n += 1 }
  fn get() -> Int { n }
}
agent Ask at "/ask/:id" {
  list seen: List<Int>
  fn ask(i: Int) { seen.push(Count("/count/{i}").get()) }
  fn all() -> List<Int> { seen }
}
fn main() {
  for i in 0..40 {
    send Count("/count/{i}").bump()
    send Ask("/ask/{i}").ask(i)
  }
}
"#;

/// Runs `program` with a data directory, then the same program with its `sends` (a
/// piece of `main`) replaced by `check`; returns both runs' stderr and the second's
/// stdout.
fn sends_then_check(name: &str, program: &str, sends: &str, check: &str) -> (String, String) {
    let dir = scratch_dir(name);
    let data = dir.join("data");
    let data = data.to_string_lossy();
    let checked = program.replace(sends, check);
    assert_ne!(checked, program, "`{sends}` is not in the program");
    let mut runs = vec![];
    for (file, source) in [("sends.weft", program), ("check.weft", checked.as_str())] {
        let path = write(&dir, file, source);
        let path = path.to_string_lossy();
        let out = weft(&["run", path.as_ref(), "--data", data.as_ref()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        runs.push(out);
    }
    (text(&runs[0].stderr), text(&runs[1].stdout))
}

/// Sends are delivered in batches whose commits are shared; a send's turn that calls an
/// agent whose own send waits in the same batch must still get its answer, not a call
/// cycle or a hang.
#[test]
fn sends_whose_turns_call_agents_sent_to_alongside_them_get_answers() {
    let (stderr, stdout) = sends_then_check(
        "asks",
        ASKS,
        "send Count(\"/count/{i}\").bump()\n    send Ask(\"/ask/{i}\").ask(i)",
        "print(Ask(\"/ask/{i}\").all().len())",
    );
    assert!(!stderr.contains("error"), "{stderr}");
    assert_eq!(stdout, "1\n".repeat(40));
}

const LOG: &str = r#"
agent Log at "/log/:id" {
  list items: List<Int>
  fn add(i: Int) {
    items.push(i)
    if i % 50 == 7 { let zero = i - i; print(1 / zero) }
  }
  fn all() -> List<Int> { items }
}
fn main() {
  for i in 0..300 { send Log("/log/a").add(i) }
}
"#;

/// Many sends to one agent commit together, yet each is its own turn: they run in the
/// order sent, and one that traps leaves no trace while the others around it stay.
#[test]
fn sends_to_one_agent_are_turns_in_order_and_a_trap_loses_only_its_own() {
    let (stderr, stdout) = sends_then_check(
        "log",
        LOG,
        "for i in 0..300 { send Log(\"/log/a\").add(i) }",
        "print(Log(\"/log/a\").all())",
    );
    assert_eq!(stderr.matches("division by zero").count(), 6, "{stderr}");
    let kept: Vec<String> = (0..300)
        .filter(|i| i % 50 != 7)
        .map(|i| i.to_string())
        .collect();
    assert_eq!(stdout, format!("[{}]\n", kept.join(", ")));
}

const FLOOD: &str = r#"
agent Slow at "/slow/:id" {
  value count: Int = 0
  fn hold() {
    var i = 0
    while true { i += 1 }
  }
  fn bump() { count += 1 }
  fn get() -> Int { count }
}

agent Flood at "/flood/:id" {
  /// Keeps /slow/a busy, with 15 bumps waiting behind, then tries one more.
  fn start() {
    send Slow("/slow/a").hold()
    for i in 0..15 { send Slow("/slow/a").bump() }
    send Flood("/flood/a").one_more()
  }
  fn one_more() { send Slow("/slow/a").bump() }
  fn flood(n: Int) {
    for i in 0..n { send Slow("/slow/b").bump() }
  }
}

fn main() {
  Flood("/flood/a").start()
  // The mailbox is full: main waits for room rather than fail or lose these.
  for i in 0..5 { send Slow("/slow/a").bump() }
  print(Slow("/slow/a").get())
  match try Flood("/flood/a").flood(25) {
    Ok(_) => print("25 sends in one turn went out"),
    Err(e) => print(e.message),
  }
  print(Slow("/slow/b").get())
}
"#;

/// A mailbox holds at most `send_queue_max` one-way messages and a turn makes at most
/// `sends_per_turn_max` sends. A turn that would go past either fails as a whole (it
/// holds its agent, so it cannot wait for room), while `main`, holding nothing, waits
/// for room instead: nothing it sends is lost.
#[test]
fn a_full_mailbox_fails_a_sending_turn_and_holds_back_main() {
    let file = write(&scratch_dir("flood"), "flood.weft", FLOOD);
    let file = file.to_string_lossy();
    let out = weft(&[
        "run",
        file.as_ref(),
        "--send-queue-max",
        "10",
        "--sends-per-turn-max",
        "20",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // `hold` and the 15 bumps are not done when `one_more` runs: it fails.
    let stderr = text(&out.stderr);
    assert!(stderr.contains("in /flood/a one_more: mailbox full: 16 messages already wait for `/slow/a` (send_queue_max)"), "{stderr}");
    assert!(
        stderr.contains("in /slow/a hold: time limit exceeded"),
        "{stderr}"
    );
    // The first 15 bumps and main's 5; none of the failed turns' sends.
    assert_eq!(
        text(&out.stdout),
        "20\n/flood/a flood failed: too many sends in one turn: 20 already (sends_per_turn_max)\n0\n"
    );
}
