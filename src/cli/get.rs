//! `weft get agents|nodes|programs|resources|cells`: list what a running node holds, a
//! cluster's members, the programs deployed, the resources programs allocated, or the
//! instances of Cells, as a table, JSON or YAML.

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every agent the node has stored or active.
    Agents,
    /// Every member of the cluster: name, address, role, state, lease age.
    Nodes,
    /// Every Cell instance: its Cell, replica, node, state and counters.
    Cells,
    /// Every program deployed: name, version, module, resources, when.
    Programs,
    /// Every resource programs allocated: name, kind and type, owner, status, size.
    Resources,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
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
    let path = match args.kind {
        Kind::Agents => "/api/v1/agents",
        Kind::Nodes => "/api/v1/nodes",
        Kind::Resources => "/api/v1/resources",
        Kind::Programs => "/api/v1/programs",
        Kind::Cells => "/api/v1/cells",
    };
    let json = match client::expect_ok(io, client::get(&args.target, path)) {
        Ok(json) => json,
        Err(exit) => return exit,
    };
    match args.output {
        Format::Json => {
            io.say(&serde_json::to_string_pretty(&json).unwrap_or_default());
            return Exit::Success;
        }
        Format::Yaml => {
            io.say(yaml(&json, 0).trim_end());
            return Exit::Success;
        }
        Format::Table => {}
    }
    let out = match args.kind {
        Kind::Resources => table(
            &["NAME", "KIND", "TYPE", "PROGRAM", "STATUS", "SIZE"],
            &rows(&json, |r, s| {
                let size = size_text(r.get("size"));
                [
                    s("name"),
                    s("kind"),
                    s("ty"),
                    s("program"),
                    s("status"),
                    size,
                ]
            }),
        ),
        Kind::Cells => table(
            &[
                "CELL", "REPLICA", "NODE", "STATE", "HANDLED", "FAILED", "RESTARTS", "AGE",
            ],
            &rows(&json, |r, s| {
                let n = |k: &str| r[k].as_u64().unwrap_or(0).to_string();
                let age = r["since_ms"]
                    .as_u64()
                    .map(|ms| age_text(weft_resources::kinds::now_ms().saturating_sub(ms)))
                    .unwrap_or_default();
                [
                    s("cell"),
                    n("replica"),
                    s("node"),
                    s("state"),
                    n("handled"),
                    n("failed"),
                    n("restarts"),
                    age,
                ]
            }),
        ),
        Kind::Programs => table(
            &["NAME", "VERSION", "MODULE", "RESOURCES", "DEPLOYED"],
            &rows(&json, |r, s| {
                let module = s("module");
                let resources = client::strings(&r["resources"]);
                let age = r["deployed_ms"]
                    .as_u64()
                    .map(|ms| age_text(weft_resources::kinds::now_ms().saturating_sub(ms)))
                    .unwrap_or_default();
                [
                    s("name"),
                    r["version"].as_u64().unwrap_or(0).to_string(),
                    module.get(..12).unwrap_or(&module).to_string(),
                    if resources.is_empty() {
                        "-".into()
                    } else {
                        resources.join(",")
                    },
                    format!("{age} ago on {}", s("deployed_on")),
                ]
            }),
        ),
        Kind::Nodes => table(
            &["NAME", "ADDRESS", "ROLE", "STATE", "LEASE AGE"],
            &rows(&json, |_, s| {
                [
                    s("name"),
                    s("address"),
                    s("role"),
                    s("state"),
                    s("lease_age"),
                ]
            }),
        ),
        Kind::Agents => table(
            &["URI", "AGENT", "STATE"],
            &rows(&json, |r, s| {
                let state = match r.get("active").and_then(|v| v.as_bool()) {
                    Some(true) => "active",
                    _ => "stored",
                };
                [s("uri"), s("agent"), state.to_string()]
            }),
        ),
    };
    io.say(&out);
    Exit::Success
}

/// One table row per element of the JSON array `json`, made by `row` from the element
/// and a reader of its string fields ("" when missing).
fn rows<const N: usize>(
    json: &serde_json::Value,
    row: impl Fn(&serde_json::Value, &dyn Fn(&str) -> String) -> [String; N],
) -> Vec<[String; N]> {
    json.as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            row(r, &s)
        })
        .collect()
}

/// An age as kubectl prints one: `42s`, `5m`, `3h`, `2d`.
fn age_text(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A resource's size as a table cell: `3 messages, 1 dead`, `12 rows`.
pub fn size_text(size: Option<&serde_json::Value>) -> String {
    let n = |k: &str| size.and_then(|s| s.get(k)).and_then(|v| v.as_u64());
    if let (Some(want), Some(running)) = (n("replicas"), n("running")) {
        return format!("{running}/{want} running");
    }
    if let Some(v) = size.and_then(|s| s.get("value")).and_then(|v| v.as_str()) {
        return format!("value {v}");
    }
    match (n("messages"), n("dead"), n("rows")) {
        (Some(m), Some(d), _) => format!("{m} messages, {d} dead"),
        (_, _, Some(1)) => "1 row".into(),
        (_, _, Some(r)) => format!("{r} rows"),
        _ => "-".into(),
    }
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

/// A small YAML printer for JSON answers: maps and lists in block style, scalars as JSON
/// (JSON strings are valid YAML double-quoted scalars).
pub fn yaml(value: &serde_json::Value, indent: usize) -> String {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut out = String::new();
            for (k, v) in map {
                let key = serde_json::to_string(k).unwrap_or_default();
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n{}", yaml(v, indent + 2)))
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n{}", yaml(v, indent)))
                    }
                    _ => out.push_str(&format!("{pad}{key}: {}\n", yaml(v, 0).trim_end())),
                }
            }
            out
        }
        Value::Array(items) if !items.is_empty() => {
            let mut out = String::new();
            for item in items {
                let inner = yaml(item, indent + 2);
                let inner = inner.trim_start();
                out.push_str(&format!("{pad}- {inner}"));
                if !inner.ends_with('\n') {
                    out.push('\n');
                }
            }
            out
        }
        Value::Object(_) => format!("{pad}{{}}\n"),
        Value::Array(_) => format!("{pad}[]\n"),
        scalar => format!("{pad}{scalar}\n"),
    }
}
