//! The orchestrator's control plane: cubestore, an MVCC key/value store with revisions,
//! watches and leases, kept in sled (replication by openraft comes on top of it).
//!
//! The model is etcd v3's. The store has one revision, a counter that every command
//! changing keys moves by exactly one (a transaction's writes, or all the keys a lease
//! expiry deletes, share one). Every key carries the revision that created it, the one
//! that last changed it, and its version; every revision's changes are kept until a
//! compaction, so reads can look at any revision from the compaction point on and
//! watches can replay from it. Leases hold keys for a TTL and take them with them.
//!
//! # A state machine for raft
//! Every change goes through [`Store::apply`] (or [`Store::apply_batch`]) as a
//! [`Command`], plain serde data fit for a log entry. Applying is deterministic: it reads
//! nothing but the store and the command (no clock: lease expiry comes as
//! [`Command::LeaseExpire`] carrying the leader's time), so replicas that apply the same
//! log hold the same state, byte for byte. A command the state refuses (a missing lease,
//! a compacted revision) is a [`Rejection`], the same on every replica and changing
//! nothing; only a storage failure is an error of the batch, and it is fatal. Each batch
//! is one atomic sled batch, flushed before `apply` returns;
//! [`Store::apply_batch_recording`] stores the raft layer's last-applied record in that
//! same batch, so state and record never disagree after a crash. [`Store::snapshot`] and
//! [`Store::restore`] are the state machine's snapshot: the whole tree with its history,
//! and [`Store::snapshot_header`] reads the revision and record a snapshot holds.
//!
//! # Layout
//! `command` and `reply` are the data that crosses the API; `store` the store (`layout`
//! of the sled tree, the in-memory `head`, `apply` and `lease` for the state machine,
//! `history` for the past, `snapshot` for the format); `watch` the watchers.
//!
//! **Architecture Invariant: apply reads no clock, no randomness and no other replica's
//! state.** **Architecture Invariant: a watcher never skips an event:** it gets every
//! event of every revision from where it started, or it ends with
//! [`Delivery::Lagged`] naming the first revision it missed.
//!
//! [`raft`] is openraft's storage for the store: the log on sled and the state machine
//! over a [`Store`], under one `TypeConfig`; and the raft network between controllers
//! (postcard RPCs over HTTP on axum and reqwest) with [`raft::Controller`], one member of
//! a replicated group.
//!
//! It does not serve the public API (the layer above does), read clocks, or
//! enforce a size quota on the whole store (etcd's backend quota): the bounds are per
//! request and per queue (`limits`).

#![warn(missing_docs)]

mod command;
mod error;
pub mod kinds;
pub mod limits;
pub mod raft;
mod reply;
mod store;
mod watch;

pub use command::{Command, Compare, CompareOp, Keys, LeaseId, Op, Target};
pub use error::{Rejection, StoreError};
pub use reply::{
    DeleteReply, Event, EventKind, KeyValue, LeaseInfo, OpReply, Outcome, PutReply, RangeReply,
    Reply, TxnReply,
};
pub use store::snapshot::SnapshotHeader;
pub use store::Store;
pub use watch::{Delivery, RecvError, Watcher};
