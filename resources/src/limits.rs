//! Every bound cubestore puts on its inputs and queues, in one place (units last).
//!
//! The request bounds follow etcd's defaults where etcd has one, so a client written for
//! etcd meets the same limits here.

/// The longest key, in bytes.
pub const KEY_LEN_MAX: usize = 4 * 1024;

/// The longest value, in bytes (etcd's default request limit, 1.5 MiB).
pub const VALUE_LEN_MAX: usize = 1536 * 1024;

/// The most compares, and the most ops in each branch, of one transaction (etcd's
/// `--max-txn-ops` default).
pub const TXN_OPS_MAX: usize = 128;

/// The longest lease TTL: one year.
pub const LEASE_TTL_MS_MAX: u64 = 365 * 24 * 60 * 60 * 1000;

/// The most events a live watcher's queue holds; a revision whose events do not fit
/// ends the watcher with a `Lagged` delivery instead of dropping any.
pub const WATCH_QUEUE_LEN_MAX: usize = 1024;

/// The most watchers one store serves at once.
pub const WATCHERS_MAX: usize = 10_000;

/// The most revisions a watcher catching up reads from history in one step (between two
/// looks at its deadline).
pub const WATCH_CATCH_UP_REVISIONS_MAX: u64 = 256;

/// The most commands one raft log entry (a `Command::Batch`) holds. The state machine
/// refuses a longer batch, so this bound may grow from one release to the next but never
/// shrink: a log written under a larger one would apply differently.
pub const BATCH_LEN_MAX: usize = 256;

/// About the most bytes of commands (`Command::len_bytes_estimate`) the raft layer puts
/// in one batch; a command larger than this goes in an entry of its own. With openraft's
/// 64 entries per append, an append stays well under the raft routes' body limit.
pub const BATCH_BYTES_MAX: usize = 256 * 1024;

/// How many batches the raft layer has proposed and not yet seen applied at once: while
/// they are appended, replicated and applied, the next batch gathers.
pub const PROPOSALS_IN_FLIGHT_MAX: usize = 2;

/// The most writes waiting to be proposed on one controller; a write that finds the
/// queue full waits for room, within its own deadline.
pub const PROPOSE_QUEUE_LEN_MAX: usize = 4096;
