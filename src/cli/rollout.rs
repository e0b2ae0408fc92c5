//! `weft rollout history|undo|status PROGRAM`: the versions of a running program, and
//! going back to the previous one (reversing its lane migrations when they declared how).

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// List the program's versions with their content hashes.
    History(Program),
    /// Swap back to the code of the version before the current one.
    Undo(Program),
    /// Show the version the program runs.
    Status(Program),
}

#[derive(clap::Args, Debug)]
pub struct Program {
    /// The program's name (its file's stem, as `weft run` names it).
    pub program: String,
    #[command(flatten)]
    pub target: Target,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    match &args.what {
        What::History(p) => history(p, io, false),
        What::Status(p) => history(p, io, true),
        What::Undo(p) => {
            if let Err(exit) = versions(p, io) {
                return exit;
            }
            match client::expect_ok(
                io,
                client::post(&p.target, "/api/v1/undo", &serde_json::json!({})),
            ) {
                Ok(json) => super::patch::report(io, &json),
                Err(exit) => exit,
            }
        }
    }
}

/// The node's versions, after checking it runs `p.program`.
fn versions(p: &Program, io: &Io) -> Result<serde_json::Value, Exit> {
    let json = client::expect_ok(io, client::get(&p.target, "/api/v1/versions"))?;
    let running = json.get("program").and_then(|n| n.as_str()).unwrap_or("");
    if running != p.program {
        io.error(&format!(
            "error: the node at {} runs `{running}`, not `{}`\n",
            p.target.url(),
            p.program
        ));
        return Err(Exit::Error);
    }
    Ok(json)
}

fn history(p: &Program, io: &Io, status_only: bool) -> Exit {
    let json = match versions(p, io) {
        Ok(json) => json,
        Err(exit) => return exit,
    };
    let current = json.get("current").and_then(|c| c.as_u64()).unwrap_or(0);
    let list = json
        .get("versions")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    if status_only {
        let module = list
            .iter()
            .find(|v| v.get("number").and_then(|n| n.as_u64()) == Some(current))
            .and_then(|v| v.get("module"))
            .and_then(|m| m.as_str())
            .unwrap_or("");
        io.say(&format!(
            "{} runs version {current} (module {module}) of {} recorded",
            p.program,
            list.len()
        ));
        return Exit::Success;
    }
    io.say("VERSION  MODULE                                                            APPLIED (UTC)        NOTE");
    for v in &list {
        let n = v.get("number").and_then(|n| n.as_u64()).unwrap_or(0);
        let module = v.get("module").and_then(|m| m.as_str()).unwrap_or("");
        let at = v.get("applied_ms").and_then(|m| m.as_u64()).unwrap_or(0);
        let mut notes = vec![];
        if n == current {
            notes.push("current".to_string());
        }
        if let Some(k) = v.get("undoes").and_then(|u| u.as_u64()) {
            notes.push(format!("undoes {k}"));
        }
        if v.get("forced").and_then(|f| f.as_bool()) == Some(true) {
            notes.push("forced".into());
        }
        io.say(&format!(
            "{n:<8} {module:<65} {}  {}",
            utc(at),
            notes.join(", ")
        ));
    }
    Exit::Success
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_795_219_200_000), "2026-11-21 00:00:00");
        assert_eq!(
            super::utc(951_782_400_000 + 3_723_000),
            "2000-02-29 01:02:03"
        );
    }
}
