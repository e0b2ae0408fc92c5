//! openraft's storage for cubestore: the raft log on sled ([`LogStore`]), and the state
//! machine over a [`Store`] ([`StateMachine`]), under one [`TypeConfig`].
//!
//! A node keeps three things in its data directory (see [`open`]): the log, a sled
//! database of its own in `raft/` (the vote, the committed log id, the entries keyed by
//! big-endian index, and the last purged log id); cubestore itself in `store/`; and the
//! current snapshot, one file in `snapshot/`.
//!
//! The state machine is persistent: every `apply` call is one
//! [`Store::apply_batch_logged`] batch, not flushed (every entry it applies is already
//! flushed in this node's log), and the batch carries the last applied log id and the
//! last membership (the `applied` record, encoded by `applied`), so after a crash the
//! store and its record agree and openraft re-applies the log from there. The store is
//! flushed before a snapshot is built, so the log is never purged past what the store
//! holds on disk. A snapshot is [`Store::snapshot`]: its header holds the
//! same record, which is where a snapshot's [`SnapshotMeta`](openraft::SnapshotMeta)
//! comes from, so the meta always matches the data. The current snapshot (built here or
//! installed from a leader) is kept in a file, so it survives a restart.
//!
//! Normal entries carry a [`Command`] and answer with [`Response::Command`]: the store's
//! reply, or the [`Rejection`] every replica gives alike. An entry may instead carry a
//! [`Command::Batch`], which the state machine unpacks into the same store batch as the
//! other entries of the `apply` call: each of its commands is applied as an entry of its
//! own would be, and the entry answers [`Response::Batch`], one result per command in
//! order (a batch of the wrong shape answers one [`Response::Command`] rejection and
//! applies nothing). Blank and membership entries change no key; they answer
//! [`Response::Internal`].
//!
//! Client writes reach the log through the proposer ([`propose`]): the writes that
//! arrive while the previous entries are being appended go into the log as one
//! batch, so concurrent writes share one append and its flush.
//!
//! Between controllers, [`network`] is the `RaftNetwork` (postcard over HTTP, sent with
//! reqwest), [`server`] the axum routes that answer it, and [`Controller`] one member of
//! the group: storage, `Raft` and server together, taking writes (forwarded to the
//! leader) and linearizable reads on any member, and membership changes (a voter added
//! or removed by joint consensus) on the leader.

mod applied;
mod controller;
mod log_store;
pub mod network;
pub mod propose;
pub mod server;
mod snapshot_file;
mod state_machine;

use crate::command::Command;
use crate::error::{Rejection, StoreError};
use crate::reply::Reply;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

pub use controller::{
    Controller, ControllerError, Membership, MEMBERSHIP_TIMEOUT, REQUEST_TIMEOUT,
};
pub use log_store::LogStore;
/// A member's address, as the group's membership records it.
pub use openraft::BasicNode;
pub use state_machine::{SnapshotBuilder, StateMachine};

openraft::declare_raft_types!(
    /// cubestore's raft types: [`Command`]s in the log, [`Response`]s back, `u64` node ids
    /// with their address ([`openraft::BasicNode`]), whole snapshots in memory.
    pub TypeConfig:
        D = Command,
        R = Response,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A node's id in the raft group.
pub type NodeId = u64;

/// openraft's storage error, for cubestore's node ids.
pub type StorageError = openraft::StorageError<NodeId>;

/// What applying one log entry answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// A normal entry's command: the store's reply, or why it refused the command (for
    /// a batch of the wrong shape: why none of its commands ran).
    Command(Result<Reply, Rejection>),
    /// A [`Command::Batch`] entry: each command's reply or rejection, in order.
    Batch(Vec<Result<Reply, Rejection>>),
    /// A blank or membership entry: no command ran.
    Internal,
}

impl Response {
    /// The command's result, if the entry carried one command.
    pub fn into_result(self) -> Option<Result<Reply, Rejection>> {
        match self {
            Response::Command(result) => Some(result),
            Response::Batch(_) | Response::Internal => None,
        }
    }
}

/// Opens (or creates) a node's raft storage in `dir`: the log in `dir/raft`, cubestore
/// in `dir/store`, the current snapshot in `dir/snapshot`. The [`Store`] is shared: the
/// state machine writes it, the caller reads it.
pub fn open(dir: impl AsRef<Path>) -> Result<(LogStore, StateMachine, Arc<Store>), StoreError> {
    let dir = dir.as_ref();
    let log = LogStore::open(dir.join("raft"))?;
    let store = Arc::new(Store::open(dir.join("store"))?);
    let machine = StateMachine::open(store.clone(), dir.join("snapshot"))?;
    Ok((log, machine, store))
}
