//! `weft deploy FILE [--name P] [--cluster URL]`: checks and compiles the program here
//! (its diagnostics print as `weft check` prints them), then sends the module to the
//! cluster, which runs `main` there with the cluster's resources and records the program
//! (`node_cmd::programs`). What `main` printed comes back and is printed. A `new` whose
//! resource the cluster holds with another type is reported at the `new` (exit 2); a
//! `main` that fails exits 1 and records nothing. Deploying the module the cluster
//! already runs changes nothing.

use super::client::{self, Answer, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The program to deploy.
    pub file: String,
    /// The program's name in the cluster (default: the file's name without `.weft`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub target: Target,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| super::node::program_name(&args.file));
    if let Some(problem) = super::node_cmd::programs::name_problem(&name) {
        io.error(&format!("error: {problem} (choose one with --name)\n"));
        return Exit::Error;
    }
    let checked = match super::check(&args.file, io) {
        Ok(c) => c,
        Err(exit) => return exit,
    };
    if checked.program.main.is_none() {
        io.error(&format!("error: {} has no `fn main()`\n", args.file));
        return Exit::Error;
    }
    let artifact = match super::compile(&checked, io) {
        Ok(a) => a,
        Err(exit) => return exit,
    };
    let path = format!("/api/v1/programs/{name}");
    match client::post_bytes(&args.target, &path, artifact.wasm) {
        Ok(Answer::Rejected(reason, json)) => {
            let conflicts: Vec<(usize, String)> = json["conflicts"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or(&[])
                .iter()
                .filter_map(|c| {
                    Some((
                        usize::try_from(c["site"].as_u64()?).ok()?,
                        c["why"].as_str()?.to_string(),
                    ))
                })
                .collect();
            if !conflicts.is_empty() && resource_conflicts(&checked, &conflicts, "deployed", io) {
                return Exit::Error;
            }
            print_run(io, &json);
            io.error(&format!("error: {reason}\n"));
            Exit::Failure
        }
        r => match client::expect_ok(io, r) {
            Ok(json) => {
                report(io, &name, &json);
                Exit::Success
            }
            Err(exit) => exit,
        },
    }
}

/// What `main` printed on the cluster, to this process's outputs.
fn print_run(io: &Io, json: &serde_json::Value) {
    if let Some(out) = json["output"].as_str() {
        let _ = io.out.write_str(out);
    }
    if let Some(err) = json["errors"].as_str() {
        io.error(err);
    }
}

fn report(io: &Io, name: &str, json: &serde_json::Value) {
    let version = json["version"].as_u64().unwrap_or(0);
    let module = json["module"].as_str().unwrap_or("");
    let short = module.get(..12).unwrap_or(module);
    if json["unchanged"].as_bool() == Some(true) {
        io.error(&format!(
            "{name}: unchanged (version {version}, module {short} already deployed)\n"
        ));
        return;
    }
    print_run(io, json);
    let resources = client::strings(&json["resources"]);
    let allocated = if resources.is_empty() {
        String::new()
    } else {
        format!("; resources: {}", resources.join(", "))
    };
    io.error(&format!(
        "{name}: deployed version {version} (module {short}){allocated}\n"
    ));
    orphans_note(io, name, &client::strings(&json["orphans"]));
}

/// Says which resources program `name`'s `main` no longer allocates, if any.
pub fn orphans_note(io: &Io, name: &str, orphans: &[impl AsRef<str>]) {
    if orphans.is_empty() {
        return;
    }
    let names: Vec<&str> = orphans.iter().map(AsRef::as_ref).collect();
    io.error(&format!(
        "note: {name}: `main` no longer allocates {}: orphaned, kept (`weft destroy {name} --prune` releases them)\n",
        names.join(", ")
    ));
}

/// Reports each `new` whose resource the cluster holds with another kind or type, as a
/// diagnostic at the `new`, and that the program was not `done` (run, deployed);
/// whether there was one.
pub fn resource_conflicts(
    checked: &super::Checked,
    conflicts: &[(usize, String)],
    done: &str,
    io: &Io,
) -> bool {
    let diags: Vec<weft_lang::diagnostic::Diagnostic> = conflicts
        .iter()
        .filter_map(|(i, why)| {
            let site = checked.program.resources.get(*i)?;
            Some(
                weft_lang::diagnostic::Diagnostic::error(
                    site.span,
                    format!("`{}` exists in the cluster with another type", site.name),
                )
                .with_label(why.clone())
                .with_hint(
                    "a resource keeps the type it was created with: use the same type, or another name",
                ),
            )
        })
        .collect();
    if diags.is_empty() {
        return false;
    }
    for d in &diags {
        io.error(&format!("{}\n", d.render(&checked.sources)));
    }
    io.error(&format!(
        "error: the program was not {done}: {} of its resources would not fit the cluster's\n",
        diags.len()
    ));
    true
}
