//! `weft get agents`: lists what a running node holds, as a table or JSON.

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every agent the node has stored or active.
    Agents,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to list.
    pub kind: Kind,
    /// The output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    #[command(flatten)]
    pub target: Target,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let Kind::Agents = args.kind;
    let json = match client::expect_ok(io, client::get(&args.target, "/api/v1/agents")) {
        Ok(json) => json,
        Err(exit) => return exit,
    };
    if args.output == Format::Json {
        io.say(&serde_json::to_string_pretty(&json).unwrap_or_default());
        return Exit::Success;
    }
    let rows: Vec<[String; 3]> = json
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let state = match r.get("active").and_then(|v| v.as_bool()) {
                Some(true) => "active",
                _ => "stored",
            };
            [s("uri"), s("agent"), state.to_string()]
        })
        .collect();
    io.say(&table(&["URI", "AGENT", "STATE"], &rows));
    Exit::Success
}

/// Columns padded to their widest cell, two spaces apart, as kubectl prints.
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == N {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  "));
            }
        }
        out
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}
