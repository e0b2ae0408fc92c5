//! The built `weft` binary as a user runs it: exit codes 0 (ok), 1 (the program failed),
//! 2 (it could not run), and what lands on stdout and stderr.

use std::path::PathBuf;
use std::process::{Command, Output};

fn weft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start weft: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file of this test's own under cargo's scratch directory for integration tests.
fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("weft-cli");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[test]
fn check_of_a_missing_file_exits_2() {
    let out = weft(&["check", "no/such/file.weft"]);
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: cannot read no/such/file.weft: "),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn run_of_a_missing_file_exits_2() {
    assert_eq!(code(&weft(&["run", "no/such/file.weft"])), 2);
}

#[test]
fn a_usage_error_exits_2() {
    assert_eq!(code(&weft(&["frobnicate"])), 2);
    assert_eq!(code(&weft(&[])), 2);
}

#[test]
fn a_type_error_exits_2_with_diagnostics() {
    let file = scratch("type_error.weft", "fn main() {\n  let x: Int = \"a\"\n}\n");
    let out = weft(&["run", &file.to_string_lossy()]);
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("error"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_program_runs_and_exits_0() {
    let out = weft(&["run", "tests/data/run/hello.weft"]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(code(&out), 0);
    let expected = std::fs::read_to_string("tests/data/run/hello.stdout").unwrap_or_default();
    assert_eq!(text(&out.stdout), expected);
}

#[test]
fn a_trap_exits_1_with_its_stack() {
    let out = weft(&["run", "tests/data/run/trap.weft"]);
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let expected = std::fs::read_to_string("tests/data/run/trap.stderr").unwrap_or_default();
    assert_eq!(text(&out.stderr), expected);
}

#[test]
fn a_program_without_main_exits_2() {
    let file = scratch("no_main.weft", "fn helper() -> Int { 1 }\n");
    let name = file.to_string_lossy();
    let out = weft(&["run", &name]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        text(&out.stderr),
        format!("error: {name} has no `fn main()`\n")
    );
}

#[test]
fn the_example_passes_its_tests() {
    let out = weft(&["test", "examples/hello.weft"]);
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.ends_with(" passed, 0 failed\n"), "{stdout}");
    assert!(!stdout.starts_with("0 passed"), "{stdout}");
}

#[test]
fn build_writes_the_module_and_prints_its_id() {
    let wasm = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("weft-cli")
        .join("hello.wasm");
    let _ = std::fs::create_dir_all(wasm.parent().unwrap_or(&wasm));
    let _ = std::fs::remove_file(&wasm);
    let out = weft(&[
        "build",
        "examples/hello.weft",
        "-o",
        &wasm.to_string_lossy(),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let bytes = std::fs::read(&wasm).unwrap_or_default();
    assert!(bytes.starts_with(b"\0asm"));
    let id = text(&out.stdout);
    assert_eq!(id.trim(), blake3_hex(&bytes));
}

fn blake3_hex(bytes: &[u8]) -> String {
    weft_compiler::ModuleId::of(bytes).to_string()
}

#[test]
fn an_infinite_loop_inside_try_still_hits_the_time_limit() {
    let file = scratch(
        "try_loop.weft",
        "fn main() {\n  print(\"start\")\n  let r = try {\n    while true { }\n    1\n  }\n  print(r)\n}\n",
    );
    let out = weft(&["run", "--time-limit-ms", "300", &file.to_string_lossy()]);
    assert_eq!(code(&out), 1);
    assert_eq!(text(&out.stdout), "start\n");
    assert!(
        text(&out.stderr).starts_with("error: time limit exceeded"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_file_that_is_not_utf8_is_reported_with_its_position() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("weft-cli");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("binary.weft");
    std::fs::write(&path, b"fn main() {\n  print(\"a\xff\")\n}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = weft(&["check", &path.to_string_lossy()]);
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(err.contains(":2:11: not UTF-8 text"), "{err}");
}
