//! The data-driven harness. Each `tests/data/<mode>/**/NAME.weft` is a case:
//!
//! - `run/`: `weft run`; compared with `NAME.stdout`, `NAME.stderr` and `NAME.exit`
//!   (a missing file means empty output, exit 0).
//! - `test/`: `weft test`, compared the same way.
//! - `check/`: `weft check`; its rendered diagnostics compared with `NAME.diag`.
//!
//! Files under a directory named `modules` are not cases: they are what cases `use`.
//! `UPDATE_EXPECT=1 cargo test` rewrites the expectations from what the programs do.
//! Every case runs through the library functions the binary uses, in parallel, on one
//! shared runtime; all mismatches are reported, each with its diff, before failing.

use crate::diff::diff;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use weft::{cli, Exit, Io};
use weft_runtime::{RunLimits, Runtime, Settings};

/// The environment variable that turns checking into rewriting.
const UPDATE_ENV: &str = "UPDATE_EXPECT";
/// A case that runs longer than this fails (an endless loop must not hang the suite).
const CASE_TIME_LIMIT_MS: u64 = 10_000;
/// Directories of files that cases `use`, which are not cases themselves.
const MODULES_DIR: &str = "modules";
/// Threads running cases at once.
const WORKERS_MAX: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Run,
    Test,
    Check,
}

/// What a case produced, or is expected to.
#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    stderr: String,
    exit: u8,
}

pub fn limits() -> RunLimits {
    RunLimits {
        deadline_ms: Some(CASE_TIME_LIMIT_MS),
        ..RunLimits::default()
    }
}

pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let settings = Settings {
            limits: limits(),
            instances_max: 2 * WORKERS_MAX as u32,
            ..Settings::default()
        };
        Runtime::new(settings).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Every `.weft` file under `dir`, sorted, as paths relative to the package root (the
/// directory cargo runs tests in, so they are also the names in diagnostics).
pub fn cases(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                // Files that cases `use` (`use modules::shapes::{area}`) are not cases.
                if entry.file_name() != MODULES_DIR {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "weft") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(dir), &mut out);
    out.sort();
    out
}

fn run_case(file: &str, mode: Mode) -> Outcome {
    let io = Io::buffers();
    let exit = match mode {
        Mode::Run => cli::run::run(file, runtime(), &limits(), &io),
        Mode::Test => cli::test::test(file, runtime(), &limits(), &io),
        Mode::Check => cli::check::check(file, &io),
    };
    Outcome {
        stdout: io.out.take(),
        stderr: io.err.take(),
        exit: exit.code(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn expected(file: &Path, mode: Mode) -> Outcome {
    if mode == Mode::Check {
        // The exit code follows from the diagnostics: 2 when any is an error.
        let diag = read(&file.with_extension("diag"));
        let exit = if diag.lines().any(|l| l.starts_with("error")) {
            Exit::Error
        } else {
            Exit::Success
        };
        return Outcome {
            stdout: String::new(),
            stderr: diag,
            exit: exit.code(),
        };
    }
    let exit = read(&file.with_extension("exit"))
        .trim()
        .parse()
        .unwrap_or(Exit::Success.code());
    Outcome {
        stdout: read(&file.with_extension("stdout")),
        stderr: read(&file.with_extension("stderr")),
        exit,
    }
}

/// Writes a file, or removes it when `text` is what a missing file means.
fn write_or_remove(path: &Path, text: &str, keep_empty: bool) {
    let result = if text.is_empty() && !keep_empty {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    } else {
        std::fs::write(path, text)
    };
    if let Err(e) = result {
        panic!("cannot update {}: {e}", path.display());
    }
}

fn update(file: &Path, mode: Mode, actual: &Outcome) {
    if mode == Mode::Check {
        write_or_remove(&file.with_extension("diag"), &actual.stderr, true);
        return;
    }
    write_or_remove(&file.with_extension("stdout"), &actual.stdout, true);
    write_or_remove(&file.with_extension("stderr"), &actual.stderr, false);
    let exit = if actual.exit == 0 {
        String::new()
    } else {
        format!("{}\n", actual.exit)
    };
    write_or_remove(&file.with_extension("exit"), &exit, false);
}

/// The report for one case, or `None` when it matched.
fn compare(file: &Path, mode: Mode, expected: &Outcome, actual: &Outcome) -> Option<String> {
    if expected == actual {
        return None;
    }
    let mut report = format!("--- {}\n", file.display());
    let stderr_name = if mode == Mode::Check {
        "diag"
    } else {
        "stderr"
    };
    for (what, e, a) in [
        ("stdout", &expected.stdout, &actual.stdout),
        (stderr_name, &expected.stderr, &actual.stderr),
    ] {
        if e != a {
            report.push_str(&format!(
                "{what} differs (- expected, + actual):\n{}",
                diff(e, a)
            ));
        }
    }
    if expected.exit != actual.exit {
        report.push_str(&format!(
            "exit code: expected {}, got {}\n",
            expected.exit, actual.exit
        ));
        if expected.stderr == actual.stderr && !actual.stderr.is_empty() {
            report.push_str(&format!("stderr:\n{}", actual.stderr));
        }
    }
    Some(report)
}

fn harness(dir: &str, mode: Mode) {
    let files = cases(dir);
    let updating = std::env::var_os(UPDATE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    let next = AtomicUsize::new(0);
    let reports = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, WORKERS_MAX);
    std::thread::scope(|s| {
        for _ in 0..workers.min(files.len()) {
            let worker = || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { return };
                let file = path.to_string_lossy().replace('\\', "/");
                let actual = run_case(&file, mode);
                if updating {
                    update(path, mode, &actual);
                } else if let Some(report) = compare(path, mode, &expected(path, mode), &actual) {
                    reports
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, report));
                }
            };
            // Checking and compiling recurse; give them more stack than a test thread's.
            let spawned = std::thread::Builder::new()
                .stack_size(16 << 20)
                .spawn_scoped(s, worker);
            spawned.unwrap_or_else(|e| panic!("cannot start a worker: {e}"));
        }
    });
    let mut reports = reports.into_inner().unwrap_or_else(|e| e.into_inner());
    reports.sort();
    for (_, report) in &reports {
        eprintln!("{report}");
    }
    assert!(
        reports.is_empty(),
        "{} of {} programs under {dir} did not match; rerun with {UPDATE_ENV}=1 to accept what they do now",
        reports.len(),
        files.len()
    );
}

#[test]
fn run_programs() {
    harness("tests/data/run", Mode::Run);
}

#[test]
fn test_programs() {
    harness("tests/data/test", Mode::Test);
}

#[test]
fn check_programs() {
    harness("tests/data/check", Mode::Check);
}
