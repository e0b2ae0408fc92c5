//! The store: a sled database in a directory, the head in memory, the watch hub, and
//! the locks that keep them in step.
//!
//! One writer at a time (the `writer` mutex) applies a batch: it changes the head and
//! writes the sled batch under the head's write lock, so readers see the head and the
//! tree change together; then it purges history if the batch compacted, flushes, and
//! only then publishes the batch's events, so no watcher ever sees a change that a crash
//! could take back. A read concurrent with a batch may see that batch's changes before
//! its flush ends; `apply` itself returns only after the flush.
//!
//! Under raft the log is what makes a change durable: every command reaches the store
//! only once it is committed in the log, on this node's disk among others. So the raft
//! layer applies with [`Store::apply_batch_logged`], which does not flush: a crash may
//! take back the last batches, each whole and with its `applied` record (sled recovers
//! a prefix of its writes, a batch atomically), and raft applies them again from the
//! log. Their events may already have been published then, which is harmless: they are
//! committed, and applying them again gives the same revisions. [`Store::flush`] makes
//! everything applied so far durable, which the raft layer does before it lets the log
//! be purged behind a snapshot. Such a batch is not a sled batch but a redo record and
//! plain writes (`writes`), which costs sled no extra writes of its buffer.
//!
//! A compaction only moves the compaction point inside the batch; the history it made
//! unreachable is removed by a second batch right after (`history::purge`), before the
//! same flush. The counters record how far purging got, so a crash between the two is
//! finished at the next open; nothing can read the leftovers meanwhile.
//!
//! The head holds every live pair in memory (etcd keeps only its index there; values
//! here too, so reads at the current revision never touch sled). Reads at older
//! revisions go to sled's history under the head's read lock, which is what keeps a
//! compaction from moving under them.
//!
//! If a write to sled fails half-way, memory and disk may disagree: the store is
//! poisoned and refuses everything until it is reopened (under raft, the log brings it
//! back).

pub(crate) mod apply;
pub(crate) mod head;
pub(crate) mod history;
pub(crate) mod layout;
mod lease;
pub(crate) mod snapshot;
mod writes;

use crate::command::{Command, LeaseId};
use crate::error::{Rejection, StoreError};
use crate::reply::{Event, KeyValue, LeaseInfo, RangeReply, Reply};
use crate::watch::{Hub, Watcher};
use apply::Work;
use head::Head;
use layout::{
    decode, encode, MetaRecord, APPLIED_KEY, FORMAT, FORMAT_KEY, STATE_KEY, TAG_KEY, TAG_LEASE,
};
use snapshot::SnapshotHeader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The name of the sled tree cubestore keeps everything in.
const TREE: &str = "cubestore";

/// cubestore: an MVCC key-value store with a revision, leases and watches, on sled.
/// Open one per directory; share it between threads by reference (it is `Sync`).
pub struct Store {
    inner: Arc<Inner>,
}

/// What the store and its watchers share.
pub(crate) struct Inner {
    db: sled::Db,
    tree: sled::Tree,
    head: RwLock<Head>,
    writer: Mutex<()>,
    pub(crate) hub: Hub,
    poisoned: AtomicBool,
    dir: PathBuf,
}

/// Whether a batch is flushed before its events are published and it returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// Flushed: the batch is durable when `apply` returns.
    Now,
    /// Left to sled's own flushes or a later [`Store::flush`].
    Later,
}

/// Which state a read sees.
enum At {
    Head,
    Past(u64),
}

impl Store {
    /// Opens the store in `dir`, creating the directory and an empty store if needed,
    /// and finishing a compaction a crash interrupted.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let db = crate::error::open_sled(&dir)?;
        let tree = db.open_tree(TREE)?;
        writes::replay(&db, &tree)?;
        let mut meta = initialize_or_check(&db, &tree)?;
        if meta.purged < meta.compacted {
            meta = history::purge(&tree, meta)?;
            db.flush()?;
        }
        let scan = |tag: u8| {
            tree.scan_prefix([tag])
                .map(|item| item.map_err(StoreError::from))
        };
        let head = Head::load(meta, scan(TAG_KEY), scan(TAG_LEASE))?;
        let inner = Inner {
            hub: Hub::new(head.meta.revision),
            head: RwLock::new(head),
            writer: Mutex::new(()),
            poisoned: AtomicBool::new(false),
            db,
            tree,
            dir,
        };
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Applies one command, durably: the reply comes after the flush. A refused command
    /// is `Err(StoreError::Rejected(_))` and changed nothing.
    pub fn apply(&self, command: &Command) -> Result<Reply, StoreError> {
        let mut replies = self
            .inner
            .apply(std::slice::from_ref(command), None, Flush::Now)?;
        match replies.pop() {
            Some(reply) => Ok(reply?),
            None => Err(StoreError::corrupt("a command got no reply")),
        }
    }

    /// Applies commands in order, all in one sled batch with one flush. A refused
    /// command gets its rejection in its place and the others still apply; only a
    /// storage failure fails the whole batch (and poisons the store).
    pub fn apply_batch(
        &self,
        commands: &[Command],
    ) -> Result<Vec<Result<Reply, Rejection>>, StoreError> {
        self.inner.apply(commands, None, Flush::Now)
    }

    /// As [`Store::apply_batch`], and stores `applied` (the raft layer's record of the
    /// last applied log id and membership) in the same atomic batch, so after a crash
    /// the record and the state always agree. [`Store::applied`] reads it back, and
    /// snapshots carry it.
    pub fn apply_batch_recording(
        &self,
        commands: &[Command],
        applied: &[u8],
    ) -> Result<Vec<Result<Reply, Rejection>>, StoreError> {
        self.inner.apply(commands, Some(applied), Flush::Now)
    }

    /// As [`Store::apply_batch_recording`], but without the flush: the batch (with its
    /// record) is atomic (a redo record finishes it at open if a crash cut it short),
    /// and a crash keeps a prefix of the batches applied, but the last ones may be lost.
    /// For a caller whose own log holds the commands durably and applies them again
    /// from the record after a crash (the raft layer). The batch's
    /// events are published at once.
    pub fn apply_batch_logged(
        &self,
        commands: &[Command],
        applied: &[u8],
    ) -> Result<Vec<Result<Reply, Rejection>>, StoreError> {
        self.inner.apply(commands, Some(applied), Flush::Later)
    }

    /// Makes every batch applied so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.check_poisoned()?;
        self.inner.db.flush()?;
        Ok(())
    }

    /// The last record given to [`Store::apply_batch_recording`] or
    /// [`Store::apply_batch_logged`] (or restored with a snapshot).
    pub fn applied(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.check_poisoned()?;
        Ok(self.inner.tree.get(APPLIED_KEY)?.map(|v| v.to_vec()))
    }

    /// The current revision (0 before the first write).
    pub fn revision(&self) -> u64 {
        self.inner.read_head().meta.revision
    }

    /// The oldest readable revision (0 before the first compaction).
    pub fn compacted(&self) -> u64 {
        self.inner.read_head().meta.compacted
    }

    /// The newest clock a `LeaseExpire` brought, in ms.
    pub fn clock_ms(&self) -> u64 {
        self.inner.read_head().meta.clock_ms
    }

    /// How many watchers are open.
    pub fn watcher_count(&self) -> usize {
        self.inner.hub.len()
    }

    /// `key` at revision `at` (`None`: the current one).
    pub fn get(&self, key: &[u8], at: Option<u64>) -> Result<Option<KeyValue>, StoreError> {
        self.inner.check_poisoned()?;
        let head = self.inner.read_head();
        match resolve(&head, at)? {
            At::Head => Ok(head.keys.get(key).cloned()),
            At::Past(revision) => history::get(&self.inner.tree, key, revision),
        }
    }

    /// The keys under `prefix` (the empty prefix: all) at revision `at` (`None`: the
    /// current one), in key order, at most `limit` of them.
    pub fn range(
        &self,
        prefix: &[u8],
        at: Option<u64>,
        limit: Option<usize>,
    ) -> Result<RangeReply, StoreError> {
        self.inner.check_poisoned()?;
        let head = self.inner.read_head();
        let (revision, (kvs, more)) = match resolve(&head, at)? {
            At::Head => (head.meta.revision, head.range(prefix, limit)),
            At::Past(revision) => (
                revision,
                history::range(&self.inner.tree, prefix, revision, limit)?,
            ),
        };
        Ok(RangeReply {
            revision,
            kvs,
            more,
        })
    }

    /// How many live keys start with `prefix` now (their pairs are not copied).
    pub fn count(&self, prefix: &[u8]) -> Result<u64, StoreError> {
        self.inner.check_poisoned()?;
        Ok(self.inner.read_head().count(prefix))
    }

    /// A lease, if it exists.
    pub fn lease(&self, id: LeaseId) -> Option<LeaseInfo> {
        let head = self.inner.read_head();
        head.leases.get(&id).map(|state| LeaseInfo {
            id,
            ttl_ms: state.record.ttl_ms,
            deadline_ms: state.record.deadline_ms,
            keys: state.keys.iter().cloned().collect(),
        })
    }

    /// The ids of every lease, in order.
    pub fn lease_ids(&self) -> Vec<LeaseId> {
        self.inner.read_head().leases.keys().copied().collect()
    }

    /// Watches `prefix` (the empty prefix: every key) from `from_revision` on: every
    /// event of that revision and after, from history, then live. Refused with
    /// [`Rejection::Compacted`] if `from_revision` is below the compaction point; a
    /// revision after the current one is allowed (its events come when it does).
    pub fn watch(&self, prefix: &[u8], from_revision: u64) -> Result<Watcher, StoreError> {
        self.inner.check_poisoned()?;
        {
            let head = self.inner.read_head();
            if from_revision < head.meta.compacted {
                return Err(Rejection::Compacted {
                    compacted_at: head.meta.compacted,
                }
                .into());
            }
        }
        Watcher::start(&self.inner, prefix, from_revision)
    }

    /// The whole store at its current revision: the live state, the leases, the
    /// `applied` record, and the history kept since the last compaction, as checksummed
    /// bytes for [`Store::restore`]. Applies wait while it is taken.
    pub fn snapshot(&self) -> Result<Vec<u8>, StoreError> {
        let _writer = self.inner.lock_writer();
        self.inner.check_poisoned()?;
        let meta = self.inner.read_head().meta;
        snapshot::write(&self.inner.tree, &meta)
    }

    /// What a snapshot's header says (its revision and `applied` record), checked but
    /// not restored.
    pub fn snapshot_header(bytes: &[u8]) -> Result<SnapshotHeader, StoreError> {
        snapshot::header(bytes)
    }

    /// Replaces the whole store with a snapshot, atomically and durably. The bytes are
    /// checked whole first: a bad snapshot is refused and the store is unchanged.
    /// Every watcher ends with `Lagged` at its position, to watch again on the new
    /// state.
    pub fn restore(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let parsed = snapshot::parse(bytes)?;
        let pick = |tag: u8| {
            parsed
                .pairs
                .iter()
                .filter(move |(key, _)| key.first() == Some(&tag))
                .map(|(key, value)| Ok((key.as_slice(), value.as_slice())))
        };
        let head = Head::load(parsed.meta, pick(TAG_KEY), pick(TAG_LEASE)).map_err(|e| {
            StoreError::BadSnapshot {
                reason: e.to_string(),
            }
        })?;
        let _writer = self.inner.lock_writer();
        self.inner.check_poisoned()?;
        let result = self.inner.restore(&parsed.pairs, head);
        self.inner.poison_if_fatal(result)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.inner.hub.close();
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("revision", &self.revision())
            .finish()
    }
}

impl Inner {
    fn read_head(&self) -> RwLockReadGuard<'_, Head> {
        self.head.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_head(&self) -> RwLockWriteGuard<'_, Head> {
        self.head.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check_poisoned(&self) -> Result<(), StoreError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(StoreError::Poisoned);
        }
        Ok(())
    }

    fn poison_if_fatal<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(error) = &result {
            if error.is_fatal() {
                self.poisoned.store(true, Ordering::Release);
            }
        }
        result
    }

    fn apply(
        &self,
        commands: &[Command],
        applied: Option<&[u8]>,
        flush: Flush,
    ) -> Result<Vec<Result<Reply, Rejection>>, StoreError> {
        let _writer = self.lock_writer();
        self.check_poisoned()?;
        let result = self.apply_locked(commands, applied, flush);
        self.poison_if_fatal(result)
    }

    fn apply_locked(
        &self,
        commands: &[Command],
        applied: Option<&[u8]>,
        flush: Flush,
    ) -> Result<Vec<Result<Reply, Rejection>>, StoreError> {
        let mut replies = Vec::with_capacity(commands.len());
        let (events, compacted, meta) = {
            let mut head = self.write_head();
            let mut work = Work::new(&mut head);
            for command in commands {
                replies.push(work.command(command)?);
            }
            let finished = work.finish(applied)?;
            if !finished.changed {
                return Ok(replies);
            }
            match flush {
                Flush::Now => finished.batch.apply_atomic(&self.tree)?,
                Flush::Later => finished.batch.apply_with_redo(&self.tree)?,
            }
            (finished.events, finished.compacted, head.meta)
        };
        if compacted {
            let purged = history::purge(&self.tree, meta)?;
            self.write_head().meta.purged = purged.purged;
        }
        if flush == Flush::Now {
            self.db.flush()?;
        }
        self.hub.publish(&events, meta.revision);
        Ok(replies)
    }

    fn restore(&self, pairs: &[(Vec<u8>, Vec<u8>)], head: Head) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for key in self.tree.iter().keys() {
            batch.remove(key?);
        }
        for (key, value) in pairs {
            batch.insert(key.as_slice(), value.as_slice());
        }
        let meta = head.meta;
        {
            let mut current = self.write_head();
            self.tree.apply_batch(batch)?;
            *current = head;
        }
        if meta.purged < meta.compacted {
            let purged = history::purge(&self.tree, meta)?;
            self.write_head().meta.purged = purged.purged;
        }
        self.db.flush()?;
        self.hub.reset(meta.revision);
        Ok(())
    }

    /// The events of revisions `from..=to` under `prefix`, for a watcher catching up;
    /// refused if `from` has been compacted meanwhile.
    pub(crate) fn history_events(
        &self,
        prefix: &[u8],
        from: u64,
        to: u64,
    ) -> Result<Vec<Event>, StoreError> {
        self.check_poisoned()?;
        let head = self.read_head();
        if from < head.meta.compacted {
            return Err(Rejection::Compacted {
                compacted_at: head.meta.compacted,
            }
            .into());
        }
        history::events(&self.tree, prefix, from, to)
    }
}

/// Which state a read at `at` sees, or why it cannot.
fn resolve(head: &Head, at: Option<u64>) -> Result<At, Rejection> {
    let meta = &head.meta;
    match at {
        None => Ok(At::Head),
        Some(at) if at == meta.revision => Ok(At::Head),
        Some(at) if at > meta.revision => Err(Rejection::FutureRevision {
            revision: at,
            current: meta.revision,
        }),
        Some(at) if at < meta.compacted => Err(Rejection::Compacted {
            compacted_at: meta.compacted,
        }),
        Some(at) => Ok(At::Past(at)),
    }
}

/// Writes the format and empty counters into a new store, or checks an existing one's
/// format; returns the counters.
fn initialize_or_check(db: &sled::Db, tree: &sled::Tree) -> Result<MetaRecord, StoreError> {
    match tree.get(FORMAT_KEY)? {
        None if tree.is_empty() => {
            let meta = Head::new().meta;
            let mut batch = sled::Batch::default();
            batch.insert(FORMAT_KEY, FORMAT.as_bytes());
            batch.insert(STATE_KEY, encode(&meta)?);
            tree.apply_batch(batch)?;
            db.flush()?;
            Ok(meta)
        }
        None => Err(StoreError::corrupt("the store has data but no format")),
        Some(found) if found.as_ref() != FORMAT.as_bytes() => Err(StoreError::Format {
            found: String::from_utf8_lossy(&found).into_owned(),
            expected: FORMAT.into(),
        }),
        Some(_) => {
            let state = tree
                .get(STATE_KEY)?
                .ok_or_else(|| StoreError::corrupt("no counters"))?;
            decode(&state, "the counters")
        }
    }
}
