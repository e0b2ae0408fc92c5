//! `weft describe node NAME`: one cluster member in detail: where it listens, its role
//! and state as the cluster sees them, and its own raft view (term, leader, how far it
//! has applied the log), asked of the member itself.

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
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let What::Node { name, target } = &args.what;
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
