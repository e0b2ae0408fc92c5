//! The Weft front end: lexer, parser, AST, name resolution, type checker and diagnostics.
//!
//! It takes source text and gives a typed program ([`tir::Program`]) plus diagnostics.
//! It does no IO of its own: files named by `use` arrive through a [`Loader`], so the
//! same code serves the command line, the language server and the playground.
//! It does not generate code (that is `weft-compiler`) and never panics on any input.

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod lexer;
pub mod parse;
pub mod source;
pub mod tir;
pub mod types;

use diagnostic::Diagnostic;
use source::SourceMap;

/// Finds the text of modules named by `use`.
pub trait Loader {
    /// `path` is the module path as written (`["shapes"]` for `use shapes::{area}`,
    /// `["std", "http"]` for `use std::http`); `from` is the name of the importing file.
    /// Returns the file name to report and its text, or a reason it could not be read.
    fn load(&self, path: &[String], from: &str) -> Result<(String, String), String>;
}

/// A loader that knows no files (the standard library still resolves).
pub struct NoFiles;

impl Loader for NoFiles {
    fn load(&self, path: &[String], _from: &str) -> Result<(String, String), String> {
        Err(format!("no module `{}` is available here", path.join("::")))
    }
}

/// What the front end made of a program.
pub struct Frontend {
    pub sources: SourceMap,
    /// Present when there were no errors.
    pub program: Option<tir::Program>,
    /// Errors and warnings, in source order per file.
    pub diagnostics: Vec<Diagnostic>,
}

impl Frontend {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses and checks the file `name` with text `text` and everything it uses.
pub fn check_file(name: &str, text: &str, loader: &dyn Loader) -> Frontend {
    check::check_file(name, text, loader)
}
