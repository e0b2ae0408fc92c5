//! cubestore's integration tests, one binary with a module per area, each on a real sled
//! store in a fresh temporary directory.

mod batch;
mod cluster;
mod history;
mod lease;
mod model;
mod raft;
mod reopen;
mod revisions;
mod snapshot;
mod support;
mod txn;
mod watch;
