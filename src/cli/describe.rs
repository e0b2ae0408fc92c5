//! `weft describe node NAME`: one cluster member in detail: where it listens, its role
//! and state as the cluster sees them, and its own raft view (term, leader, how far it
//! has applied the log), asked of the member itself. `weft describe resource NAME`: one
//! resource: kind, type, owner, settings, placement, status, size and events.

use super::client::{self, Answer, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// A cluster member, by name (`node-1`) or id (`1`).
    Node {
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// A resource, by name (`jobs`) or as `PROGRAM/NAME`.
    Resource {
        name: String,
        #[command(flatten)]
        target: Target,
    },
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let (name, target) = match &args.what {
        What::Node { name, target } => (name, target),
        What::Resource { name, target } => return resource(name, target, io),
    };
    let nodes = match client::expect_ok(io, client::get(target, "/api/v1/nodes")) {
        Ok(json) => json,
        Err(exit) => return exit,
    };
    let field = |row: &serde_json::Value, k: &str| match row.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "-".to_string(),
        Some(v) => v.to_string(),
    };
    let rows = nodes.as_array().cloned().unwrap_or_default();
    let Some(row) = rows
        .iter()
        .find(|r| field(r, "name") == *name || field(r, "id") == *name)
    else {
        let names: Vec<String> = rows.iter().map(|r| field(r, "name")).collect();
        io.error(&format!(
            "error: the cluster has no node `{name}` (it has: {})\n",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
        return Exit::Error;
    };
    let mut out = vec![
        ("Name", field(row, "name")),
        (
            "Address",
            if field(row, "role") == "worker" {
                field(row, "address")
            } else {
                format!("{} (raft)", field(row, "address"))
            },
        ),
        ("API", field(row, "api")),
        ("Role", field(row, "role")),
        ("State", field(row, "state")),
        ("Lease age", field(row, "lease_age")),
    ];
    // Its own view, when it answers.
    let own = row.get("api").and_then(|a| a.as_str()).map(|api| {
        let t = Target {
            cluster: Some(api.to_string()),
            api: None,
        };
        client::get(&t, "/api/v1/status")
    });
    match own {
        Some(Ok(Answer::Ok(s))) => {
            out.push(("Term", field(&s, "term")));
            out.push(("Leader", field(&s, "leader")));
            out.push(("Applied", field(&s, "last_applied")));
        }
        Some(Ok(Answer::Failed(e) | Answer::Refused(e) | Answer::Rejected(e, _)) | Err(e)) => {
            out.push(("Status", format!("unknown: {e}")))
        }
        None => out.push(("Status", "unknown: no API address recorded".into())),
    }
    for (k, v) in out {
        io.say(&format!("{:<10} {v}", format!("{k}:")));
    }
    Exit::Success
}

fn resource(name: &str, target: &Target, io: &Io) -> Exit {
    let all = match client::expect_ok(io, client::get(target, "/api/v1/resources")) {
        Ok(json) => json,
        Err(exit) => return exit,
    };
    let rows = all.as_array().cloned().unwrap_or_default();
    let s = |r: &serde_json::Value, k: &str| {
        r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string()
    };
    let found: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| s(r, "name") == name || format!("{}/{}", s(r, "program"), s(r, "name")) == name)
        .collect();
    let row = match found.as_slice() {
        [one] => *one,
        [] => {
            let names: Vec<String> = rows
                .iter()
                .map(|r| format!("{}/{}", s(r, "program"), s(r, "name")))
                .collect();
            io.error(&format!(
                "error: the cluster has no resource `{name}` (it has: {})\n",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ));
            return Exit::Error;
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|r| format!("{}/{}", s(r, "program"), s(r, "name")))
                .collect();
            io.error(&format!(
                "error: `{name}` names {} resources: say which, as {}\n",
                many.len(),
                names.join(" or ")
            ));
            return Exit::Error;
        }
    };
    let settings = s(row, "settings_text");
    let out = [
        ("Name", s(row, "name")),
        ("Kind", s(row, "kind")),
        ("Type", s(row, "ty")),
        ("Program", s(row, "program")),
        ("Allocated", s(row, "at")),
        (
            "Settings",
            if settings.is_empty() {
                "-".into()
            } else {
                settings
            },
        ),
        ("Placement", s(row, "placement")),
        ("Status", s(row, "status")),
        ("Size", super::get::size_text(row.get("size"))),
    ];
    for (k, v) in out {
        io.say(&format!("{:<10} {v}", format!("{k}:")));
    }
    if let Some(endpoints) = row.pointer("/size/endpoints").and_then(|e| e.as_array()) {
        io.say("Endpoints:");
        for e in endpoints {
            let ready = if e["ready"].as_bool() == Some(true) {
                "ready"
            } else {
                "not ready"
            };
            io.say(&format!(
                "  http://{}  on {}  {ready}",
                s(e, "address"),
                s(e, "node")
            ));
        }
    }
    io.say("Events:");
    for e in row
        .get("events")
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default()
    {
        let at = e.get(0).and_then(|v| v.as_u64()).unwrap_or(0);
        let what = e.get(1).and_then(|v| v.as_str()).unwrap_or("");
        io.say(&format!("  {}  {what}", ago(at)));
    }
    Exit::Success
}

/// How long ago `ms` (since the epoch) was: `4s ago`, `3m ago`, `2h ago`, `5d ago`.
fn ago(ms: u64) -> String {
    let now = weft_resources::kinds::now_ms();
    let s = now.saturating_sub(ms) / 1000;
    match s {
        s if s < 120 => format!("{s}s ago"),
        s if s < 7200 => format!("{}m ago", s / 60),
        s if s < 172_800 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86_400),
    }
}
