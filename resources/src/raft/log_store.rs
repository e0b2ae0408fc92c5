//! The raft log on sled: a database of its own (not cubestore's), with one tree holding
//! the vote, the committed log id, the last purged log id, and the entries keyed by
//! `l` + their big-endian index, so the tree's order is the log's order.
//!
//! Every record is postcard. The vote, appends, truncations and purges are flushed
//! before openraft hears they are done; the committed log id is written without a
//! flush of its own (it rides on the next one: the state machine reports how far it
//! got, so a lost committed id only means less is re-applied eagerly at start). A purge
//! records the purged log id and deletes the entries in one atomic batch.
//!
//! An append is plain inserts and one flush, so one write to disk: a sled batch would
//! cost two more (sled writes out its buffer before a batch and again after the batch's
//! header), each a wake-up of sled's IO threads. No batch is needed: sled recovers a
//! prefix of its writes (recovery stops at the first torn one), so a crash during an
//! append keeps a prefix of its entries, none of them acknowledged yet. Flushes run on
//! tokio's blocking pool rather than through sled's own `flush_async`, which would hand
//! each one to sled's thread pool (waking all its idle threads) on top of the write.

use super::{StorageError, TypeConfig};
use crate::error::StoreError;
use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{AnyError, Entry, LogId, StorageIOError, Vote};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::{Path, PathBuf};

/// The name of the tree the log lives in.
const TREE: &str = "raft-log";
/// The format marker, checked at open.
const FORMAT_KEY: &[u8] = b"f";
const FORMAT: &[u8] = b"weft-raft-log/1";
const VOTE_KEY: &[u8] = b"v";
const COMMITTED_KEY: &[u8] = b"c";
const PURGED_KEY: &[u8] = b"p";
/// The first byte of every entry's key.
const TAG_ENTRY: u8 = b'l';
/// About how many bytes of entries one `limited_get_log_entries` returns.
const MAX_READ_BYTES: usize = 4 << 20;

/// The raft log and vote of one node, in a sled database in its own directory. Clones
/// share the database; one is the log reader openraft's replication tasks use.
#[derive(Clone)]
pub struct LogStore {
    db: sled::Db,
    tree: sled::Tree,
    dir: PathBuf,
}

impl LogStore {
    /// Opens the log in `dir`, creating the directory and an empty log if needed.
    pub fn open(dir: impl AsRef<Path>) -> Result<LogStore, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        let db = crate::error::open_sled(&dir)?;
        let tree = db.open_tree(TREE)?;
        match tree.get(FORMAT_KEY)? {
            None if tree.is_empty() => {
                tree.insert(FORMAT_KEY, FORMAT)?;
                db.flush()?;
            }
            None => return Err(StoreError::corrupt("the raft log has data but no format")),
            Some(found) if found.as_ref() != FORMAT => {
                return Err(StoreError::Format {
                    found: String::from_utf8_lossy(&found).into_owned(),
                    expected: String::from_utf8_lossy(FORMAT).into_owned(),
                })
            }
            Some(_) => {}
        }
        Ok(LogStore { db, tree, dir })
    }

    /// The directory the log lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads and decodes one of the single records.
    fn read_record<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, String> {
        match self.tree.get(key).map_err(|e| e.to_string())? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some),
        }
    }

    fn last_purged(&self) -> Result<Option<LogId<u64>>, String> {
        self.read_record(PURGED_KEY)
    }

    /// The log id of the last entry present, if any.
    fn last_entry(&self) -> Result<Option<LogId<u64>>, String> {
        match self.tree.scan_prefix([TAG_ENTRY]).next_back() {
            None => Ok(None),
            Some(item) => {
                let (key, value) = item.map_err(|e| e.to_string())?;
                Ok(Some(decode_entry(&key, &value)?.log_id))
            }
        }
    }

    /// Flushes everything written so far to disk, on tokio's blocking pool.
    async fn flush(&self) -> Result<(), String> {
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(flushed) => flushed.map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(format!("a flush of the raft log failed: {e}")),
        }
    }
}

impl Debug for LogStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStore").field("dir", &self.dir).finish()
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(&i) => Bound::Included(entry_key(i)),
            Bound::Excluded(&i) => Bound::Excluded(entry_key(i)),
            Bound::Unbounded => Bound::Included(entry_key(0)),
        };
        let end = match range.end_bound() {
            Bound::Included(&i) => Bound::Included(entry_key(i)),
            Bound::Excluded(&i) => Bound::Excluded(entry_key(i)),
            Bound::Unbounded => Bound::Included(entry_key(u64::MAX)),
        };
        if is_empty_range(&start, &end) {
            return Ok(Vec::new());
        }
        self.read_range(start, end, usize::MAX).map_err(read_logs)
    }

    /// As `try_get_log_entries(start..end)`, but stops after about
    /// [`MAX_READ_BYTES`] of entries (at least one), so one replication message stays
    /// bounded.
    async fn limited_get_log_entries(
        &mut self,
        start: u64,
        end: u64,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.read_range(
            Bound::Included(entry_key(start)),
            Bound::Excluded(entry_key(end)),
            MAX_READ_BYTES,
        )
        .map_err(read_logs)
    }
}

impl LogStore {
    /// The entries whose keys are in `start..end`, stopping once more than `max_bytes`
    /// of them are read.
    fn read_range(
        &self,
        start: Bound<[u8; 9]>,
        end: Bound<[u8; 9]>,
        max_bytes: usize,
    ) -> Result<Vec<Entry<TypeConfig>>, String> {
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        for item in self.tree.range::<[u8; 9], _>((start, end)) {
            let (key, value) = item.map_err(|e| e.to_string())?;
            entries.push(decode_entry(&key, &value)?);
            bytes = bytes.saturating_add(value.len());
            if bytes > max_bytes {
                break;
            }
        }
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id = self.last_purged().map_err(read_logs)?;
        let last_log_id = match self.last_entry().map_err(read_logs)? {
            Some(last) => Some(last),
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), StorageError> {
        let write_vote = |e: String| StorageIOError::write_vote(AnyError::error(e)).into();
        let bytes = encode(vote).map_err(write_vote)?;
        self.tree
            .insert(VOTE_KEY, bytes)
            .map_err(|e| write_vote(e.to_string()))?;
        self.flush().await.map_err(write_vote)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, StorageError> {
        self.read_record(VOTE_KEY)
            .map_err(|e| StorageIOError::read_vote(AnyError::error(e)).into())
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), StorageError> {
        let result = match committed {
            Some(committed) => encode(&committed).and_then(|bytes| {
                self.tree
                    .insert(COMMITTED_KEY, bytes)
                    .map_err(|e| e.to_string())
            }),
            None => self.tree.remove(COMMITTED_KEY).map_err(|e| e.to_string()),
        };
        result.map(|_| ()).map_err(write_logs)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, StorageError> {
        self.read_record(COMMITTED_KEY).map_err(read_logs)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        for entry in entries {
            let bytes = encode(&entry)
                .map_err(|e| StorageIOError::write_log_entry(entry.log_id, AnyError::error(e)))?;
            self.tree
                .insert(entry_key(entry.log_id.index), bytes)
                .map_err(|e| write_logs(e.to_string()))?;
        }
        match self.flush().await {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(message) => {
                callback.log_io_completed(Err(std::io::Error::other(message.clone())));
                Err(write_logs(message))
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        let from = entry_key(log_id.index);
        for key in self.tree.range(from..=entry_key(u64::MAX)).keys() {
            batch.remove(key.map_err(|e| write_logs(e.to_string()))?);
        }
        self.tree
            .apply_batch(batch)
            .map_err(|e| write_logs(e.to_string()))?;
        self.flush().await.map_err(write_logs)
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), StorageError> {
        if self
            .last_purged()
            .map_err(read_logs)?
            .is_some_and(|purged| purged >= log_id)
        {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        batch.insert(PURGED_KEY, encode(&log_id).map_err(write_logs)?);
        for key in self
            .tree
            .range(entry_key(0)..=entry_key(log_id.index))
            .keys()
        {
            batch.remove(key.map_err(|e| write_logs(e.to_string()))?);
        }
        self.tree
            .apply_batch(batch)
            .map_err(|e| write_logs(e.to_string()))?;
        self.flush().await.map_err(write_logs)
    }
}

/// The key of the entry at `index`.
fn entry_key(index: u64) -> [u8; 9] {
    let mut key = [TAG_ENTRY; 9];
    key[1..].copy_from_slice(&index.to_be_bytes());
    key
}

/// Whether a range of keys holds nothing (sled refuses a range whose start is after its
/// end).
fn is_empty_range(start: &Bound<[u8; 9]>, end: &Bound<[u8; 9]>) -> bool {
    match (start, end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        _ => false,
    }
}

/// Decodes an entry and checks it sits under its own index.
fn decode_entry(key: &[u8], value: &[u8]) -> Result<Entry<TypeConfig>, String> {
    let entry: Entry<TypeConfig> = decode(value)?;
    if key != entry_key(entry.log_id.index) {
        return Err(format!(
            "the log entry {} is stored under another index",
            entry.log_id
        ));
    }
    Ok(entry)
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(value).map_err(|e| e.to_string())
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok(_) => Err("a raft log record has trailing bytes".into()),
        Err(e) => Err(format!("a raft log record does not decode: {e}")),
    }
}

fn read_logs(message: String) -> StorageError {
    StorageIOError::read_logs(AnyError::error(message)).into()
}

fn write_logs(message: String) -> StorageError {
    StorageIOError::write_logs(AnyError::error(message)).into()
}
