//! What the front end's integration tests share: checking a program that must check, and
//! the rendered errors of one that must not.

use weft_lang::diagnostic::render_all;
use weft_lang::tir::Program;
use weft_lang::NoFiles;

/// The typed program of `src`, which must check without errors.
pub fn program(src: &str) -> Program {
    let fe = weft_lang::check_file("test.weft", src, &NoFiles);
    assert!(
        !fe.has_errors(),
        "{}",
        render_all(&fe.diagnostics, &fe.sources)
    );
    fe.program.expect("a program")
}

/// The rendered errors of a program that must not check.
pub fn errors(src: &str) -> String {
    let fe = weft_lang::check_file("test.weft", src, &NoFiles);
    assert!(fe.has_errors(), "expected errors in {src}");
    assert!(fe.program.is_none());
    render_all(&fe.diagnostics, &fe.sources)
}
