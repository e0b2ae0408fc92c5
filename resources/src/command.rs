//! What a client asks cubestore to change: the commands that go through the replicated
//! log, and the transaction parts (compares and ops) they are built from.
//!
//! A command is plain data (serde) so the raft layer can carry it in a log entry as it
//! is. Everything that can be checked without the store's state is checked here
//! ([`Command::validate`]), so a bad command is refused the same way on every replica
//! before it touches anything; what needs the state (a lease that must exist, a
//! revision that must not be compacted) is checked by the store when it applies.

use crate::error::Rejection;
use crate::limits::{BATCH_LEN_MAX, KEY_LEN_MAX, LEASE_TTL_MS_MAX, TXN_OPS_MAX, VALUE_LEN_MAX};
use crate::reply::KeyValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A lease's id. Ids are never 0, so etcd clients' "0 means no lease" cannot collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LeaseId(pub u64);

impl std::fmt::Display for LeaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

/// Which keys a delete or a get covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Keys {
    /// Exactly this key (never empty).
    One(Vec<u8>),
    /// Every key that starts with these bytes; the empty prefix is every key.
    Prefix(Vec<u8>),
}

impl Keys {
    /// Whether `key` is among these keys.
    pub fn contains(&self, key: &[u8]) -> bool {
        match self {
            Keys::One(one) => one == key,
            Keys::Prefix(prefix) => key.starts_with(prefix),
        }
    }

    fn validate(&self) -> Result<(), Rejection> {
        match self {
            Keys::One(key) => validate_key(key),
            Keys::Prefix(prefix) => validate_key_len(prefix),
        }
    }
}

/// One change to the store, applied atomically; every command that changes keys makes
/// exactly one new revision, whatever number of keys it changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Sets `key` to `value`, attached to `lease` (or to none: a put without a lease
    /// detaches the key from the lease it had). Replies with the previous pair when
    /// `prev_kv`.
    Put {
        /// The key, not empty.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
        /// The lease the key lives and dies with; it must exist.
        lease: Option<LeaseId>,
        /// Whether the reply carries the pair as it was before.
        prev_kv: bool,
    },
    /// Deletes the keys that exist among `keys`; nothing to delete makes no revision.
    Delete {
        /// The key or prefix.
        keys: Keys,
        /// Whether the reply carries the deleted pairs.
        prev_kv: bool,
    },
    /// If every compare holds, runs `success`, else `failure`; all its writes share one
    /// revision. Within one branch no key may be written twice.
    Txn {
        /// Conditions on the state before any op runs.
        compare: Vec<Compare>,
        /// The ops run when every compare holds.
        success: Vec<Op>,
        /// The ops run otherwise.
        failure: Vec<Op>,
    },
    /// Creates a lease, with the given id or the next free one. Its countdown starts at
    /// the next [`Command::LeaseExpire`], so a lease never ends early by the leader's
    /// clock.
    LeaseGrant {
        /// The id wanted; refused if taken.
        id: Option<LeaseId>,
        /// How long the lease lives without a keep-alive.
        ttl_ms: u64,
    },
    /// Ends a lease now, deleting its keys in one revision.
    LeaseRevoke {
        /// The lease.
        id: LeaseId,
    },
    /// Restarts a lease's countdown (from the next [`Command::LeaseExpire`]).
    LeaseKeepAlive {
        /// The lease.
        id: LeaseId,
    },
    /// The leader's clock, proposed through the log so every replica expires the same
    /// leases: starts the countdown of leases granted or kept alive since the last one,
    /// and ends every lease whose deadline is at or before `now_ms`, deleting all their
    /// keys in one revision. The store's clock only moves forward: an older `now_ms`
    /// counts as the newest seen.
    LeaseExpire {
        /// Milliseconds on the proposing leader's clock.
        now_ms: u64,
    },
    /// Drops the history before `revision`: reads below it and watches from below it
    /// are refused with [`Rejection::Compacted`]; reads at it and after still work.
    Compact {
        /// The oldest revision that stays readable.
        revision: u64,
    },
    /// Several commands in one raft log entry, applied in order, each exactly as if it
    /// were an entry of its own: its own revision (if it changes keys), its own reply or
    /// rejection, its own watch events. The raft layer groups concurrent writes into one
    /// so they share one log append and its flush. Never empty, never nested, at most
    /// [`BATCH_LEN_MAX`] commands ([`Command::check_batch`]). Only the raft state machine
    /// unpacks a batch: given to the store as one command, it is refused
    /// ([`Rejection::NestedBatch`]). After the variants that came before it, so their
    /// encoding is what it was before batches.
    Batch(Vec<Command>),
    /// Restarts every lease's countdown from the next [`Command::LeaseExpire`], as a
    /// keep-alive of each would: what a new leader proposes before its first tick, so
    /// that the time no leader could take keep-alives (an election) is not held against
    /// the leases (etcd's lease promotion). Added last: the encoding of every earlier
    /// variant is unchanged.
    LeaseRestart,
}

/// One step of a transaction branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// As [`Command::Put`].
    Put {
        /// The key, not empty.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
        /// The lease the key lives and dies with; it must exist.
        lease: Option<LeaseId>,
        /// Whether the reply carries the pair as it was before.
        prev_kv: bool,
    },
    /// As [`Command::Delete`].
    Delete {
        /// The key or prefix.
        keys: Keys,
        /// Whether the reply carries the deleted pairs.
        prev_kv: bool,
    },
    /// Reads the keys as the transaction has left them so far.
    Get {
        /// The key or prefix.
        keys: Keys,
        /// At most this many pairs (`None`: all).
        limit: Option<usize>,
    },
}

/// A condition on one key: `target`'s field of the key compared with `target`'s value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compare {
    /// The key.
    pub key: Vec<u8>,
    /// How the key's field is compared with the target (the field on the left).
    pub op: CompareOp,
    /// Which field, and the value it is compared with.
    pub target: Target,
}

/// The comparison of a [`Compare`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    /// The field equals the target.
    Equal,
    /// The field differs from the target.
    NotEqual,
    /// The field is greater than the target.
    Greater,
    /// The field is less than the target.
    Less,
}

/// The field a [`Compare`] looks at, with the value to compare it with. A missing key
/// has version, create and mod revision 0 and no lease (so `ModRevision(0)` with
/// `Equal` means "does not exist"); a compare on the value of a missing key never holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// The number of puts since the key was created.
    Version(u64),
    /// The revision that created the key.
    CreateRevision(u64),
    /// The revision that last changed the key.
    ModRevision(u64),
    /// The value (bytes, compared lexicographically).
    Value(Vec<u8>),
    /// The lease, `None` ordered before every id.
    Lease(Option<LeaseId>),
}

impl Compare {
    /// A compare on the key's mod revision (compare-and-swap's usual condition).
    pub fn mod_revision(key: impl Into<Vec<u8>>, op: CompareOp, revision: u64) -> Compare {
        Compare {
            key: key.into(),
            op,
            target: Target::ModRevision(revision),
        }
    }

    /// A compare on the key's value.
    pub fn value(key: impl Into<Vec<u8>>, op: CompareOp, value: impl Into<Vec<u8>>) -> Compare {
        Compare {
            key: key.into(),
            op,
            target: Target::Value(value.into()),
        }
    }

    /// Whether the condition holds for the key's current pair (`None`: missing).
    pub fn holds(&self, kv: Option<&KeyValue>) -> bool {
        use std::cmp::Ordering;
        let ordering: Ordering = match (&self.target, kv) {
            (Target::Value(_), None) => return false,
            (Target::Value(want), Some(kv)) => kv.value.as_slice().cmp(want.as_slice()),
            (Target::Version(want), kv) => kv.map_or(0, |kv| kv.version).cmp(want),
            (Target::CreateRevision(want), kv) => kv.map_or(0, |kv| kv.create_revision).cmp(want),
            (Target::ModRevision(want), kv) => kv.map_or(0, |kv| kv.mod_revision).cmp(want),
            (Target::Lease(want), kv) => kv.and_then(|kv| kv.lease).cmp(want),
        };
        match self.op {
            CompareOp::Equal => ordering == Ordering::Equal,
            CompareOp::NotEqual => ordering != Ordering::Equal,
            CompareOp::Greater => ordering == Ordering::Greater,
            CompareOp::Less => ordering == Ordering::Less,
        }
    }
}

impl Command {
    /// A put of `value` at `key`, without a lease or the previous pair.
    pub fn put(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Command {
        Command::Put {
            key: key.into(),
            value: value.into(),
            lease: None,
            prev_kv: false,
        }
    }

    /// A delete of one key, without the previous pair.
    pub fn delete(key: impl Into<Vec<u8>>) -> Command {
        Command::Delete {
            keys: Keys::One(key.into()),
            prev_kv: false,
        }
    }

    /// Checks everything that does not depend on the store's state: key and value
    /// sizes, the number of compares and ops, no key written twice in one branch, and a
    /// lease grant's id and TTL.
    pub fn validate(&self) -> Result<(), Rejection> {
        match self {
            Command::Put { key, value, .. } => validate_put(key, value),
            Command::Delete { keys, .. } => keys.validate(),
            Command::Txn {
                compare,
                success,
                failure,
            } => validate_txn(compare, success, failure),
            Command::LeaseGrant { id, ttl_ms } => {
                if *id == Some(LeaseId(0)) {
                    return Err(Rejection::InvalidLeaseId);
                }
                if *ttl_ms == 0 || *ttl_ms > LEASE_TTL_MS_MAX {
                    return Err(Rejection::InvalidTtl {
                        ttl_ms: *ttl_ms,
                        max_ms: LEASE_TTL_MS_MAX,
                    });
                }
                Ok(())
            }
            Command::LeaseRevoke { .. }
            | Command::LeaseKeepAlive { .. }
            | Command::LeaseExpire { .. }
            | Command::LeaseRestart
            | Command::Compact { .. } => Ok(()),
            // A batch is a log entry's shape, not a command: the store applies its
            // commands one by one, never the batch as one.
            Command::Batch(_) => Err(Rejection::NestedBatch),
        }
    }

    /// Checks the shape of a [`Command::Batch`]'s commands: at least one, at most
    /// [`BATCH_LEN_MAX`], none of them a batch. Each command is checked on its own when
    /// it is applied, as any command is. A refused batch applies none of its commands.
    pub fn check_batch(commands: &[Command]) -> Result<(), Rejection> {
        if commands.is_empty() {
            return Err(Rejection::EmptyBatch);
        }
        if commands.len() > BATCH_LEN_MAX {
            return Err(Rejection::BatchTooLong {
                len: commands.len(),
                max: BATCH_LEN_MAX,
            });
        }
        if commands.iter().any(|c| matches!(c, Command::Batch(_))) {
            return Err(Rejection::NestedBatch);
        }
        Ok(())
    }

    /// About how many bytes the command takes in a log entry: its keys and values, and
    /// a little for everything else. What the raft layer counts a batch's size in.
    pub fn len_bytes_estimate(&self) -> usize {
        const FIXED: usize = 16;
        let keys = |keys: &Keys| match keys {
            Keys::One(key) | Keys::Prefix(key) => key.len() + FIXED,
        };
        let ops = |ops: &[Op]| -> usize {
            ops.iter()
                .map(|op| match op {
                    Op::Put { key, value, .. } => key.len() + value.len() + FIXED,
                    Op::Delete { keys: k, .. } | Op::Get { keys: k, .. } => keys(k),
                })
                .sum()
        };
        match self {
            Command::Put { key, value, .. } => key.len() + value.len() + FIXED,
            Command::Delete { keys: k, .. } => keys(k),
            Command::Txn {
                compare,
                success,
                failure,
            } => {
                let compares: usize = compare
                    .iter()
                    .map(|c| match &c.target {
                        Target::Value(value) => c.key.len() + value.len() + FIXED,
                        _ => c.key.len() + FIXED,
                    })
                    .sum();
                compares + ops(success) + ops(failure) + FIXED
            }
            Command::LeaseGrant { .. }
            | Command::LeaseRevoke { .. }
            | Command::LeaseKeepAlive { .. }
            | Command::LeaseExpire { .. }
            | Command::LeaseRestart
            | Command::Compact { .. } => FIXED,
            Command::Batch(commands) => {
                commands
                    .iter()
                    .map(Command::len_bytes_estimate)
                    .sum::<usize>()
                    + FIXED
            }
        }
    }
}

fn validate_key_len(key: &[u8]) -> Result<(), Rejection> {
    if key.len() > KEY_LEN_MAX {
        return Err(Rejection::KeyTooLong {
            len: key.len(),
            max: KEY_LEN_MAX,
        });
    }
    Ok(())
}

fn validate_key(key: &[u8]) -> Result<(), Rejection> {
    if key.is_empty() {
        return Err(Rejection::EmptyKey);
    }
    validate_key_len(key)
}

fn validate_value(value: &[u8]) -> Result<(), Rejection> {
    if value.len() > VALUE_LEN_MAX {
        return Err(Rejection::ValueTooLong {
            len: value.len(),
            max: VALUE_LEN_MAX,
        });
    }
    Ok(())
}

fn validate_put(key: &[u8], value: &[u8]) -> Result<(), Rejection> {
    validate_key(key)?;
    validate_value(value)
}

fn validate_count(len: usize) -> Result<(), Rejection> {
    if len > TXN_OPS_MAX {
        return Err(Rejection::TooManyOps {
            len,
            max: TXN_OPS_MAX,
        });
    }
    Ok(())
}

fn validate_txn(compare: &[Compare], success: &[Op], failure: &[Op]) -> Result<(), Rejection> {
    validate_count(compare.len())?;
    validate_count(success.len())?;
    validate_count(failure.len())?;
    for c in compare {
        validate_key_len(&c.key)?;
        if let Target::Value(value) = &c.target {
            validate_value(value)?;
        }
    }
    validate_branch(success)?;
    validate_branch(failure)
}

/// Each op on its own, then etcd's rule that a branch writes no key twice: no two puts
/// of one key, and no put of a key that a delete in the branch covers.
fn validate_branch(ops: &[Op]) -> Result<(), Rejection> {
    let mut puts = BTreeSet::new();
    for op in ops {
        match op {
            Op::Put { key, value, .. } => {
                validate_put(key, value)?;
                if !puts.insert(key.as_slice()) {
                    return Err(Rejection::DuplicateKey { key: key.clone() });
                }
            }
            Op::Delete { keys, .. } | Op::Get { keys, .. } => keys.validate()?,
        }
    }
    for op in ops {
        if let Op::Delete { keys, .. } = op {
            if let Some(key) = puts.iter().find(|key| keys.contains(key)) {
                return Err(Rejection::DuplicateKey { key: key.to_vec() });
            }
        }
    }
    Ok(())
}
