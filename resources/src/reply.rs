//! What cubestore answers: key-value pairs with their revisions, the replies to
//! commands and reads, and the events watchers receive. All plain data (serde), so the
//! raft layer can hand a reply back to the node that proposed the command.

use crate::command::LeaseId;
use serde::{Deserialize, Serialize};

/// A key as it is at some revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The key.
    pub key: Vec<u8>,
    /// Its value.
    pub value: Vec<u8>,
    /// The revision that created it (since it last did not exist).
    pub create_revision: u64,
    /// The revision that last changed it.
    pub mod_revision: u64,
    /// The number of puts since it was created: 1 after the first.
    pub version: u64,
    /// The lease it is attached to.
    pub lease: Option<LeaseId>,
}

/// The answer to a command: the store's revision once it was applied (the header) and
/// what the command did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The store's revision after the command: the new revision if it changed keys,
    /// else the one before.
    pub revision: u64,
    /// What the command did.
    pub outcome: Outcome,
}

/// What a command did, by command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// A put.
    Put(PutReply),
    /// A delete.
    Delete(DeleteReply),
    /// A transaction.
    Txn(TxnReply),
    /// A lease grant: the lease's id (the one asked for, or the one chosen) and TTL.
    LeaseGrant {
        /// The lease.
        id: LeaseId,
        /// Its TTL.
        ttl_ms: u64,
    },
    /// A lease revoke.
    LeaseRevoke {
        /// How many keys it deleted.
        deleted: u64,
    },
    /// A keep-alive: the lease's TTL, counted again from the next expiry tick.
    LeaseKeepAlive {
        /// The lease.
        id: LeaseId,
        /// Its TTL.
        ttl_ms: u64,
    },
    /// An expiry tick.
    LeaseExpire {
        /// The leases that ended, in id order.
        expired: Vec<LeaseId>,
        /// How many keys their ending deleted.
        deleted: u64,
    },
    /// A compaction.
    Compact {
        /// The oldest readable revision now.
        compacted_at: u64,
    },
    /// Every lease's countdown restarted.
    LeaseRestart {
        /// How many leases there are.
        leases: u64,
    },
}

/// What a put did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutReply {
    /// The pair before the put, if asked for and the key existed.
    pub prev_kv: Option<KeyValue>,
}

/// What a delete did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReply {
    /// How many keys it deleted.
    pub deleted: u64,
    /// The deleted pairs in key order, if asked for.
    pub prev_kvs: Vec<KeyValue>,
}

/// What a range read (or a get inside a transaction) found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeReply {
    /// The revision the read saw.
    pub revision: u64,
    /// The pairs, in key order.
    pub kvs: Vec<KeyValue>,
    /// Whether the limit left pairs out.
    pub more: bool,
}

/// What a transaction did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnReply {
    /// Whether every compare held (so `success` ran).
    pub succeeded: bool,
    /// One reply per op of the branch that ran, in order.
    pub responses: Vec<OpReply>,
}

/// The reply to one op of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpReply {
    /// A put.
    Put(PutReply),
    /// A delete.
    Delete(DeleteReply),
    /// A get.
    Get(RangeReply),
}

/// Whether an event wrote or removed its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// The key was created or changed.
    Put,
    /// The key was deleted (by a delete, or by its lease ending).
    Delete,
}

/// One change to one key, as a watcher receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// The key after the change; for a delete, only the key and `mod_revision` (the
    /// revision of the delete) are set, as in etcd.
    pub kv: KeyValue,
    /// The key before the change, if it existed.
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision that made the change.
    pub fn revision(&self) -> u64 {
        self.kv.mod_revision
    }
}

/// A lease as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The lease.
    pub id: LeaseId,
    /// Its TTL.
    pub ttl_ms: u64,
    /// When it ends by the leader's clock (see `LeaseExpire`); `None` until the first
    /// expiry tick after its grant or last keep-alive starts the countdown.
    pub deadline_ms: Option<u64>,
    /// The keys attached to it, in order.
    pub keys: Vec<Vec<u8>>,
}
