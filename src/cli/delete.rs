//! `weft delete node NAME`: takes a node out of the cluster: a controller leaves the raft
//! group by joint consensus (the group goes on with the others), and the node's record
//! and heartbeat are removed, so placement no longer considers it.

use super::client::{self, Target};
use crate::{Exit, Io};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// A node, by name (`node-4`).
    Node {
        name: String,
        #[command(flatten)]
        target: Target,
    },
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let What::Node { name, target } = &args.what;
    let path = format!("/api/v1/nodes/{}", super::store_cmd::encode(name, false));
    match client::expect_ok(io, client::delete(target, &path)) {
        Ok(_) => {
            io.say(&format!("node {name} deleted"));
            Exit::Success
        }
        Err(exit) => exit,
    }
}
