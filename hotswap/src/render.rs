//! The report for a terminal: one line per change, its class then its message, and
//! its notes indented beneath it.

use crate::{Class, Report};
use std::fmt::Write;

/// The width of the class column; notes start where messages do.
const CLASS_WIDTH: usize = 8;

pub(crate) fn render(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.changes {
        let _ = writeln!(out, "{:<CLASS_WIDTH$}  {}", label(c.class), c.message);
        for note in &c.notes {
            let _ = writeln!(out, "{:<CLASS_WIDTH$}    {note}", "");
        }
    }
    out
}

fn label(class: Class) -> &'static str {
    match class {
        Class::Added => "added",
        Class::Changed => "changed",
        Class::Warning => "warning",
        Class::Breaking => "breaking",
    }
}
