//! Every program under `tests/data/run` and `examples/` checks without errors; every
//! program under `tests/data/check` that is meant to fail does, without panicking.

use std::path::{Path, PathBuf};
use weft_lang::diagnostic::render_all;
use weft_lang::Loader;

/// Loads `use` modules from the directory of the importing file.
struct Dir(PathBuf);

impl Loader for Dir {
    fn load(&self, path: &[String], _from: &str) -> Result<(String, String), String> {
        let mut p = self.0.clone();
        for seg in path {
            p.push(seg);
        }
        p.set_extension("weft");
        std::fs::read_to_string(&p)
            .map(|t| (p.display().to_string(), t))
            .map_err(|e| e.to_string())
    }
}

fn weft_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            weft_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "weft") {
            out.push(p);
        }
    }
    out.sort();
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn check(path: &Path) -> weft_lang::Frontend {
    let text = std::fs::read_to_string(path).expect("readable test file");
    let dir = Dir(path.parent().expect("a parent dir").to_path_buf());
    weft_lang::check_file(&path.display().to_string(), &text, &dir)
}

#[test]
fn programs_check_clean() {
    let mut files = vec![];
    weft_files(&root().join("tests/data/run"), &mut files);
    weft_files(&root().join("examples"), &mut files);
    assert!(files.len() > 30, "test programs found: {}", files.len());
    let mut failures = String::new();
    for f in &files {
        let fe = check(f);
        if fe.has_errors() {
            failures.push_str(&format!(
                "== {}\n{}",
                f.display(),
                render_all(&fe.diagnostics, &fe.sources)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn bad_programs_are_reported() {
    let mut files = vec![];
    weft_files(&root().join("tests/data/check"), &mut files);
    for f in &files {
        let fe = check(f);
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let should_pass = matches!(
            name,
            "empty.weft" | "no_main_ok.weft" | "unreachable_arm.weft"
        );
        assert_eq!(
            !fe.has_errors(),
            should_pass,
            "{}:\n{}",
            f.display(),
            render_all(&fe.diagnostics, &fe.sources)
        );
    }
}
