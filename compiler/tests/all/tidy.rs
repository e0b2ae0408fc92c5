//! Source hygiene of this crate: every Rust file opens with a `//!` comment.

use std::path::Path;

fn visit(dir: &Path, bad: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            visit(&p, bad);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            if !text.starts_with("//!") {
                bad.push(p.display().to_string());
            }
        }
    }
}

#[test]
fn every_file_has_a_module_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = vec![];
    visit(&root.join("src"), &mut bad);
    visit(&root.join("tests"), &mut bad);
    assert!(
        bad.is_empty(),
        "files without a leading `//!` line: {bad:?}"
    );
}
