//! cubestore's errors: [`Rejection`], a request refused the same way on every replica
//! (plain data, so it can travel back to the proposer), and [`StoreError`], which adds
//! what can go wrong with this replica's disk.

use crate::command::LeaseId;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A request refused because of what it asks or of the store's state. A refused command
/// changes nothing; every replica refuses it alike, so it is an answer, not a failure.
#[derive(thiserror::Error, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rejection {
    /// A key was empty where one key is meant.
    #[error("the key is empty")]
    EmptyKey,
    /// A key was longer than the limit.
    #[error("the key is {len} bytes long; the limit is {max}")]
    KeyTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A value was longer than the limit.
    #[error("the value is {len} bytes long; the limit is {max}")]
    ValueTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A transaction had too many compares or ops in a branch.
    #[error("the transaction has {len} compares or ops in one part; the limit is {max}")]
    TooManyOps {
        /// How many.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A transaction branch wrote one key twice (two puts, or a put and a delete).
    #[error(
        "the transaction writes the key {} twice",
        String::from_utf8_lossy(key)
    )]
    DuplicateKey {
        /// The key.
        key: Vec<u8>,
    },
    /// The lease does not exist (never granted, revoked or expired).
    #[error("lease {id} not found")]
    LeaseNotFound {
        /// The lease.
        id: LeaseId,
    },
    /// A grant asked for an id that is taken.
    #[error("lease {id} already exists")]
    LeaseExists {
        /// The lease.
        id: LeaseId,
    },
    /// A grant asked for lease id 0, which means "no lease".
    #[error("lease id 0 is not a lease")]
    InvalidLeaseId,
    /// A grant's TTL was 0 or above the limit.
    #[error("a lease TTL of {ttl_ms} ms is out of range (1 to {max_ms} ms)")]
    InvalidTtl {
        /// The TTL asked for.
        ttl_ms: u64,
        /// The limit.
        max_ms: u64,
    },
    /// The revision asked for is below the compaction point: its history is gone.
    #[error("revision compacted: the oldest readable revision is {compacted_at}")]
    Compacted {
        /// The oldest readable revision.
        compacted_at: u64,
    },
    /// A batch of commands held no command.
    #[error("the batch holds no command")]
    EmptyBatch,
    /// A batch held more commands than the limit.
    #[error("the batch holds {len} commands; the limit is {max}")]
    BatchTooLong {
        /// How many.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A batch was found where one command is meant: inside another batch, given to the
    /// store as one command, or sent by a client (only the raft layer makes and unpacks
    /// batches).
    #[error("a batch of commands is not a command: it may only be a raft log entry")]
    NestedBatch,
    /// The revision asked for is after the store's current revision.
    #[error("revision {revision} is in the future: the current revision is {current}")]
    FutureRevision {
        /// The revision asked for.
        revision: u64,
        /// The current revision.
        current: u64,
    },
}

/// What can go wrong with a store: a refused request, a refused watch or snapshot, or
/// trouble with this replica's storage (see [`StoreError::is_fatal`]).
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// The request was refused; the store is unchanged and fine.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The store already serves as many watchers as it may; transient.
    #[error("too many watchers (the limit is {max})")]
    TooManyWatchers {
        /// The limit.
        max: usize,
    },
    /// Snapshot bytes given to restore are not a whole, valid snapshot; the store is
    /// unchanged.
    #[error("not a valid snapshot: {reason}")]
    BadSnapshot {
        /// What is wrong with it.
        reason: String,
    },
    /// Another process (or store in this one) has the directory open.
    #[error("the store in {dir} is in use by another process")]
    Locked {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory could not be opened as a sled database.
    #[error("cannot open the store in {dir}: {message}")]
    Open {
        /// The directory.
        dir: PathBuf,
        /// Why.
        message: String,
    },
    /// The directory holds a store in another format (or something else).
    #[error("the store holds format {found:?}, not {expected:?}")]
    Format {
        /// What it holds.
        found: String,
        /// What this code reads.
        expected: String,
    },
    /// sled failed to read or write.
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
    /// Stored data does not decode, or contradicts itself.
    #[error("the store is corrupt: {what}")]
    Corrupt {
        /// What is wrong.
        what: String,
    },
    /// An earlier write failed half-way, so memory and disk may disagree; this store
    /// refuses everything until it is reopened.
    #[error("an earlier write failed; reopen the store")]
    Poisoned,
}

impl StoreError {
    /// Whether the store can no longer be trusted: reopen it (and, under raft, let the
    /// log or a snapshot bring it back). Rejections, too many watchers and a bad
    /// snapshot leave the store as it was.
    pub fn is_fatal(&self) -> bool {
        match self {
            StoreError::Rejected(_)
            | StoreError::TooManyWatchers { .. }
            | StoreError::BadSnapshot { .. }
            | StoreError::Locked { .. } => false,
            StoreError::Open { .. }
            | StoreError::Format { .. }
            | StoreError::Storage(_)
            | StoreError::Corrupt { .. }
            | StoreError::Poisoned => true,
        }
    }

    /// The rejection, if this is one.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            StoreError::Rejected(r) => Some(r),
            _ => None,
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
        StoreError::Corrupt { what: what.into() }
    }
}

/// How long opening a store waits for another to let its directory go, in milliseconds.
pub const LOCK_WAIT_MS: u64 = 2000;

/// Opens (creating if needed) the sled database in `dir`, telling a directory another
/// store holds (`Locked`) from one that cannot be opened. A held lock is waited for up
/// to [`LOCK_WAIT_MS`]: sled lets it go from background threads a moment after a store
/// in this process is dropped, so a controller started again on the same directory
/// would otherwise find it in use.
pub(crate) fn open_sled(dir: &std::path::Path) -> Result<sled::Db, StoreError> {
    let open_error = |message: String| StoreError::Open {
        dir: dir.to_path_buf(),
        message,
    };
    std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
    let until = std::time::Instant::now() + std::time::Duration::from_millis(LOCK_WAIT_MS);
    loop {
        match sled::Config::new().path(dir).open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if io.to_string().contains("could not acquire lock") => {
                if std::time::Instant::now() >= until {
                    return Err(StoreError::Locked {
                        dir: dir.to_path_buf(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(open_error(e.to_string())),
        }
    }
}
