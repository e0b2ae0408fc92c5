//! The `weft` command: parses the command line and hands each subcommand to its function
//! in the library (`cli/`), with the process's stdout and stderr.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use weft::{cli, Io};

/// Weft: a small typed language that compiles to WebAssembly.
#[derive(Parser, Debug)]
#[command(name = "weft", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check, compile and run a program's `fn main()`.
    Run(cli::run::Args),
    /// Type-check a program and print its diagnostics.
    Check(cli::check::Args),
    /// Compile a program to a WebAssembly module.
    Build(cli::build::Args),
    /// Run a program's `test` blocks.
    Test(cli::test::Args),
    /// Call an agent's method on a running node and print the result.
    Call(cli::call::Args),
    /// Link to an agent's lane and print its state and every change.
    Link(cli::link::Args),
    /// List what a running node or cluster holds (`weft get nodes`, `weft get programs`).
    Get(cli::get::Args),
    /// Take something out of the cluster (`weft delete node NAME`).
    Delete(cli::delete::Args),
    /// Show one thing in detail (`weft describe node NAME`).
    Describe(cli::describe::Args),
    /// Start a program on a cluster: its module is stored there and `main` runs there.
    Deploy(cli::deploy::Args),
    /// Release a program's resources and record (`--prune`: only its orphaned ones).
    Destroy(cli::destroy::Args),
    /// Set a program's Secret from stdin: `weft secret set PROGRAM/NAME`.
    Secret(cli::secret::Args),
    /// Hot-swap a new version of the program into a running node.
    Patch(cli::patch::Args),
    /// A running program's versions: `history`, `status`, `undo`.
    Rollout(cli::rollout::Args),
    /// Explore a live program: Weft inputs run on its node, with its types and agents.
    Repl(cli::repl::Args),
    /// Run one node of a cluster: a controller (a member of the replicated store) or a
    /// worker that joins with the cluster's token.
    Node(cli::node_cmd::Args),
    /// Start or stop a local cluster: `weft cluster up --nodes 3`, `weft cluster down`.
    Cluster(cli::cluster::Args),
    /// Read, write and watch the cluster's store: `get`, `put`, `delete`, `ls`, `watch`.
    Store(cli::store_cmd::Args),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let io = Io::std();
    let exit = match &args.command {
        Command::Run(a) => cli::run::main(a, &io),
        Command::Check(a) => cli::check::main(a, &io),
        Command::Build(a) => cli::build::main(a, &io),
        Command::Test(a) => cli::test::main(a, &io),
        Command::Call(a) => cli::call::main(a, &io),
        Command::Link(a) => cli::link::main(a, &io),
        Command::Get(a) => cli::get::main(a, &io),
        Command::Describe(a) => cli::describe::main(a, &io),
        Command::Delete(a) => cli::delete::main(a, &io),
        Command::Deploy(a) => cli::deploy::main(a, &io),
        Command::Destroy(a) => cli::destroy::main(a, &io),
        Command::Secret(a) => cli::secret::main(a, &io),
        Command::Patch(a) => cli::patch::main(a, &io),
        Command::Rollout(a) => cli::rollout::main(a, &io),
        Command::Repl(a) => cli::repl::main(a, &io),
        Command::Node(a) => cli::node_cmd::main(a, &io),
        Command::Cluster(a) => cli::cluster::main(a, &io),
        Command::Store(a) => cli::store_cmd::main(a, &io),
    };
    ExitCode::from(exit.code())
}
