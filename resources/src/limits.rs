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
