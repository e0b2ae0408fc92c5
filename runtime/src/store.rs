//! The node's durable lane store, on sled: each agent's lane values, its map lanes
//! entry by entry in key order, and the list of agents that exist, so a node that
//! restarts finds every agent as its last committed turn left it.
//!
//! Everything a turn changes is committed as one sled batch and flushed before the turn
//! counts as done: after a crash the store holds all of a commit or none of it. Commits
//! that arrive while a flush is under way are grouped: the next committer to find the
//! store idle applies all of them as one batch with one flush, and each returns once the
//! flush that holds its writes is done (group commit), so concurrent turns share the
//! cost of a flush instead of queueing for one each. A commit
//! is atomic for recovery and for single reads, but two reads are not a snapshot: the
//! node serializes an agent's turns, so nothing reads an agent's lanes while they are
//! being committed.
//!
//! # Keys
//! One sled tree, keys led by a tag byte; strings are length-prefixed (8 bytes,
//! big-endian), so any URI and lane name, including ones that are prefixes of each other
//! or contain any separator, gives distinct keys, and no (uri, lane) key prefix is a
//! prefix of another's:
//! - `0x00 "version"` → the format version;
//! - `0x01 uri lane` → a value or list lane's wire bytes;
//! - `0x02 uri lane sort_key` → a map entry: the key's wire bytes (length-prefixed), then
//!   the value's. One lane's entries are the contiguous range under `0x02 uri lane`, in
//!   sort-key order, which is the key values' order (`value::sort_key`);
//! - `0x03 uri` (not prefixed: it ends the key) → the agent's type name, so agents list
//!   in URI order;
//! - `0x04 uri` → the program version (8 bytes, big-endian) whose lane types the agent's
//!   stored lanes have, written when the agent is created and whenever a patch migrates
//!   it; an agent without one was stored by version 1;
//! - `0x05 number` (8 bytes, big-endian) → a program version's record (JSON, see
//!   [`VersionRecord`]); `0x06 number` → its module's bytes.
//!
//! It does not know lane types or decode values (that is `value`), and it keeps no
//! history: a write replaces what was there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

const TAG_VERSION: u8 = 0x00;
const TAG_LANE: u8 = 0x01;
const TAG_MAP_ENTRY: u8 = 0x02;
const TAG_AGENT: u8 = 0x03;
const TAG_AGENT_VERSION: u8 = 0x04;
const TAG_PROGRAM_VERSION: u8 = 0x05;
const TAG_PROGRAM_MODULE: u8 = 0x06;

/// What the version key holds in a store this code reads and writes.
const FORMAT_VERSION: &str = "weft-store 1";

/// The length prefix of strings and map keys inside keys and entries.
const LEN_BYTES: usize = 8;

/// A map lane entry: (key wire bytes, value wire bytes).
pub type MapEntry = (Vec<u8>, Vec<u8>);

/// The node's lane store: one sled database in one directory.
pub struct Store {
    db: sled::Db,
    dir: PathBuf,
    group: Mutex<Group>,
    flushes: AtomicU64,
}

/// Commits waiting to be made durable, in arrival order, and whether a committer is
/// applying and flushing a group now.
#[derive(Default)]
struct Group {
    pending: Vec<(Vec<Write>, Arc<Waiter>)>,
    flushing: bool,
}

/// One waiting commit: woken alone, when its group is done or when it is to lead the
/// next one, so a flush wakes its own committers and nobody else.
#[derive(Default)]
struct Waiter {
    state: Mutex<WaitState>,
    cv: Condvar,
}

#[derive(Default)]
enum WaitState {
    #[default]
    Waiting,
    /// Apply and flush what is pending now.
    Lead,
    /// Durable, or failed with this message.
    Done(Result<(), String>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Waiter {
    fn set(&self, state: WaitState) {
        *lock(&self.state) = state;
        self.cv.notify_one();
    }

    /// Waits until told to lead (`None`) or done (`Some(result)`).
    fn wait(&self) -> Option<Result<(), String>> {
        let mut st = lock(&self.state);
        loop {
            match std::mem::take(&mut *st) {
                WaitState::Waiting => {}
                WaitState::Lead => return None,
                WaitState::Done(r) => return Some(r),
            }
            st = self.cv.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// One change in a [`Store::commit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// A value or list lane's whole value (wire bytes).
    Lane {
        uri: String,
        lane: String,
        bytes: Vec<u8>,
    },
    /// One entry of a map lane: `sort_key` orders it, `key` and `value` are wire bytes.
    MapPut {
        uri: String,
        lane: String,
        sort_key: Vec<u8>,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// Removes one entry of a map lane, if it is there.
    MapRemove {
        uri: String,
        lane: String,
        sort_key: Vec<u8>,
    },
    /// Removes every entry of a map lane.
    MapClear { uri: String, lane: String },
    /// Records that the agent at `uri` exists and has type `agent` (for listing agents).
    Agent { uri: String, agent: String },
    /// Records which program version's lane types the agent's stored lanes have.
    AgentVersion { uri: String, version: u64 },
    /// Records a version of the program and its module.
    Version {
        record: VersionRecord,
        wasm: Vec<u8>,
    },
}

/// One version of the program a node has run, as its history lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VersionRecord {
    /// 1 for the first; each patch (an undo too) takes the next.
    pub number: u64,
    /// The program's name (its file's stem).
    pub program: String,
    /// The module's content address (blake3, hex).
    pub module: String,
    /// When it was applied, in milliseconds since the Unix epoch.
    pub applied_ms: u64,
    /// The version this one undid (`weft rollout undo`), going back to the code of the
    /// version before that one.
    pub undoes: Option<u64>,
    /// Whether it was applied with `--force` over a breaking change.
    #[serde(default)]
    pub forced: bool,
}

/// What went wrong with the store. Each variant says whether it is fatal (see
/// [`StoreError::is_fatal`]): a fatal error will recur until someone fixes the
/// directory; a transient one may pass if retried.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory does not exist and cannot be created. Fatal.
    #[error("cannot create the store directory {}: {source}", dir.display())]
    Create {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// Another process (or another `Store` in this one) has the directory open.
    /// Transient: it is free once that one closes it.
    #[error("the store directory {} is in use by another process", dir.display())]
    Locked { dir: PathBuf },
    /// sled cannot open the directory: unreadable, or not a sled database. Fatal.
    #[error("cannot open the store directory {}: {message}", dir.display())]
    Open { dir: PathBuf, message: String },
    /// The directory holds a store of another format. Fatal.
    #[error(
        "the store directory {} holds format `{found}`, not `{FORMAT_VERSION}`",
        dir.display()
    )]
    Version { dir: PathBuf, found: String },
    /// A read, write or flush failed (a full disk, an IO error). Transient.
    #[error("the store in {} failed: {message}", dir.display())]
    Io { dir: PathBuf, message: String },
    /// A stored entry is not in this store's format. Fatal.
    #[error("the store in {} holds a corrupt entry: {message}", dir.display())]
    Corrupt { dir: PathBuf, message: String },
}

impl StoreError {
    /// True when retrying cannot succeed until the directory is repaired.
    pub fn is_fatal(&self) -> bool {
        match self {
            StoreError::Locked { .. } | StoreError::Io { .. } => false,
            StoreError::Create { .. }
            | StoreError::Open { .. }
            | StoreError::Version { .. }
            | StoreError::Corrupt { .. } => true,
        }
    }
}

/// How long opening a store waits for another to let its directory go, in milliseconds.
pub const LOCK_WAIT_MS: u64 = 2000;

impl Store {
    /// Opens the store in `dir`, creating the directory and an empty store if needed.
    /// A directory locked by another store is waited for up to [`LOCK_WAIT_MS`]: sled
    /// lets its lock go from background threads a moment after a store in this process
    /// is dropped, so a node started again on the same directory would otherwise find it
    /// in use.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let dir = dir.to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Create {
            dir: dir.clone(),
            source,
        })?;
        let until = std::time::Instant::now() + std::time::Duration::from_millis(LOCK_WAIT_MS);
        let db = loop {
            match sled::Config::new().path(&dir).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(io)) if io.to_string().contains("could not acquire lock") => {
                    if std::time::Instant::now() >= until {
                        return Err(StoreError::Locked { dir });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(StoreError::Open {
                        dir,
                        message: e.to_string(),
                    })
                }
            }
        };
        let store = Store {
            db,
            dir,
            group: Mutex::new(Group::default()),
            flushes: AtomicU64::new(0),
        };
        store.check_version()?;
        Ok(store)
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check_version(&self) -> Result<(), StoreError> {
        let key = version_key();
        match self.db.get(&key).map_err(|e| self.io(e))? {
            Some(found) if found.as_ref() == FORMAT_VERSION.as_bytes() => Ok(()),
            Some(found) => Err(StoreError::Version {
                dir: self.dir.clone(),
                found: String::from_utf8_lossy(&found).into_owned(),
            }),
            None => {
                self.db
                    .insert(key, FORMAT_VERSION.as_bytes())
                    .map_err(|e| self.io(e))?;
                self.db.flush().map_err(|e| self.io(e))?;
                Ok(())
            }
        }
    }

    /// A value or list lane's wire bytes, or `None` if it was never written.
    pub fn lane(&self, uri: &str, lane: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.db.get(lane_key(uri, lane)).map_err(|e| self.io(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    /// A map lane's entries in sort-key order: (key wire bytes, value wire bytes).
    pub fn map_lane(&self, uri: &str, lane: &str) -> Result<Vec<MapEntry>, StoreError> {
        let mut entries = Vec::new();
        for item in self.db.scan_prefix(map_prefix(uri, lane)) {
            let (key, entry) = item.map_err(|e| self.io(e))?;
            let (k, v) = split_entry(&entry).ok_or_else(|| StoreError::Corrupt {
                dir: self.dir.clone(),
                message: format!("the map entry at {key:?} is cut short"),
            })?;
            entries.push((k.to_vec(), v.to_vec()));
        }
        Ok(entries)
    }

    /// Applies all writes atomically and makes them durable (flush) before returning.
    /// Writes apply in order: a later write to the same lane or entry wins, and
    /// `MapClear` removes what earlier writes put. Concurrent commits are grouped into
    /// one batch and one flush; a failure fails every commit of its group.
    pub fn commit(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let me = Arc::new(Waiter::default());
        let lead = {
            let mut g = lock(&self.group);
            g.pending.push((writes, me.clone()));
            !std::mem::replace(&mut g.flushing, true)
        };
        if !lead {
            if let Some(r) = me.wait() {
                return r.map_err(|message| self.failed(message));
            }
        }
        // This committer leads: it applies everything pending (its own writes among
        // them) as one batch with one flush, tells each committer of the group, and hands
        // the lead to the first that arrived meanwhile.
        let group = std::mem::take(&mut lock(&self.group).pending);
        let (writes, waiters): (Vec<Vec<Write>>, Vec<Arc<Waiter>>) = group.into_iter().unzip();
        let r = self.apply(writes.into_iter().flatten().collect());
        let r = r.map_err(|e| match e {
            StoreError::Io { message, .. } => message,
            e => e.to_string(),
        });
        // The next group's flush starts before this one's committers are woken, so the
        // wake-ups (a syscall each) overlap the next flush instead of delaying it.
        {
            let mut g = lock(&self.group);
            match g.pending.first() {
                Some((_, next)) => next.set(WaitState::Lead),
                None => g.flushing = false,
            }
        }
        for w in &waiters {
            if !Arc::ptr_eq(w, &me) {
                w.set(WaitState::Done(r.clone()));
            }
        }
        r.map_err(|message| self.failed(message))
    }

    fn failed(&self, message: String) -> StoreError {
        StoreError::Io {
            dir: self.dir.clone(),
            message,
        }
    }

    /// How many flushes commits have made so far (fewer than commits when grouped).
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// Applies `writes` as one sled batch and flushes.
    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        // sled's batch keeps one operation per key; this map decides which, in order.
        let mut ops: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for write in writes {
            match write {
                Write::Lane { uri, lane, bytes } => {
                    ops.insert(lane_key(&uri, &lane), Some(bytes));
                }
                Write::MapPut {
                    uri,
                    lane,
                    sort_key,
                    key,
                    value,
                } => {
                    let mut entry = Vec::with_capacity(LEN_BYTES + key.len() + value.len());
                    push_len_prefixed(&mut entry, &key);
                    entry.extend_from_slice(&value);
                    ops.insert(entry_key(&uri, &lane, &sort_key), Some(entry));
                }
                Write::MapRemove {
                    uri,
                    lane,
                    sort_key,
                } => {
                    ops.insert(entry_key(&uri, &lane, &sort_key), None);
                }
                Write::MapClear { uri, lane } => self.clear_into(&mut ops, &uri, &lane)?,
                Write::Agent { uri, agent } => {
                    ops.insert(agent_key(&uri), Some(agent.into_bytes()));
                }
                Write::AgentVersion { uri, version } => {
                    let mut key = vec![TAG_AGENT_VERSION];
                    key.extend_from_slice(uri.as_bytes());
                    ops.insert(key, Some(version.to_be_bytes().to_vec()));
                }
                Write::Version { record, wasm } => {
                    let json = serde_json::to_vec(&record).expect("a record serializes");
                    ops.insert(numbered_key(TAG_PROGRAM_VERSION, record.number), Some(json));
                    ops.insert(numbered_key(TAG_PROGRAM_MODULE, record.number), Some(wasm));
                }
            }
        }
        let mut batch = sled::Batch::default();
        for (key, op) in ops {
            match op {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        self.db.apply_batch(batch).map_err(|e| self.io(e))?;
        self.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Turns every entry of the map lane, stored or pending in `ops`, into a removal.
    fn clear_into(
        &self,
        ops: &mut BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        uri: &str,
        lane: &str,
    ) -> Result<(), StoreError> {
        let prefix = map_prefix(uri, lane);
        for item in self.db.scan_prefix(&prefix) {
            let (key, _) = item.map_err(|e| self.io(e))?;
            ops.insert(key.to_vec(), None);
        }
        for (_, op) in ops
            .range_mut(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
        {
            *op = None;
        }
        Ok(())
    }

    /// The type of the agent at `uri`, if it was ever recorded with [`Write::Agent`].
    pub fn agent_type(&self, uri: &str) -> Result<Option<String>, StoreError> {
        let found = self.db.get(agent_key(uri)).map_err(|e| self.io(e))?;
        Ok(found.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Every agent recorded with [`Write::Agent`]: (uri, agent type), in uri order.
    pub fn agents(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut agents = Vec::new();
        for item in self.db.scan_prefix([TAG_AGENT]) {
            let (key, agent) = item.map_err(|e| self.io(e))?;
            let uri = std::str::from_utf8(&key[1..]);
            let agent = std::str::from_utf8(&agent);
            let (Ok(uri), Ok(agent)) = (uri, agent) else {
                return Err(StoreError::Corrupt {
                    dir: self.dir.clone(),
                    message: format!("the agent entry at {key:?} is not UTF-8"),
                });
            };
            agents.push((uri.to_string(), agent.to_string()));
        }
        Ok(agents)
    }

    /// The program version whose lane types the agent's stored lanes have (1 when none
    /// was recorded).
    pub fn agent_version(&self, uri: &str) -> Result<u64, StoreError> {
        let mut key = vec![TAG_AGENT_VERSION];
        key.extend_from_slice(uri.as_bytes());
        match self.db.get(key).map_err(|e| self.io(e))? {
            None => Ok(1),
            Some(b) => match <[u8; 8]>::try_from(b.as_ref()) {
                Ok(b) => Ok(u64::from_be_bytes(b)),
                Err(_) => Err(StoreError::Corrupt {
                    dir: self.dir.clone(),
                    message: format!("the version of agent `{uri}` is not 8 bytes"),
                }),
            },
        }
    }

    /// Every recorded program version, oldest first.
    pub fn versions(&self) -> Result<Vec<VersionRecord>, StoreError> {
        let mut out = vec![];
        for item in self.db.scan_prefix([TAG_PROGRAM_VERSION]) {
            let (key, json) = item.map_err(|e| self.io(e))?;
            let record = serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt {
                dir: self.dir.clone(),
                message: format!("the version record at {key:?} is malformed: {e}"),
            })?;
            out.push(record);
        }
        Ok(out)
    }

    /// The module of program version `number`.
    pub fn version_module(&self, number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self
            .db
            .get(numbered_key(TAG_PROGRAM_MODULE, number))
            .map_err(|e| self.io(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn io(&self, e: sled::Error) -> StoreError {
        StoreError::Io {
            dir: self.dir.clone(),
            message: e.to_string(),
        }
    }
}

fn push_len_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn version_key() -> Vec<u8> {
    let mut key = vec![TAG_VERSION];
    key.extend_from_slice(b"version");
    key
}

fn lane_key(uri: &str, lane: &str) -> Vec<u8> {
    let mut key = vec![TAG_LANE];
    push_len_prefixed(&mut key, uri.as_bytes());
    push_len_prefixed(&mut key, lane.as_bytes());
    key
}

/// The key prefix of all of one map lane's entries.
fn map_prefix(uri: &str, lane: &str) -> Vec<u8> {
    let mut key = vec![TAG_MAP_ENTRY];
    push_len_prefixed(&mut key, uri.as_bytes());
    push_len_prefixed(&mut key, lane.as_bytes());
    key
}

fn entry_key(uri: &str, lane: &str, sort_key: &[u8]) -> Vec<u8> {
    let mut key = map_prefix(uri, lane);
    key.extend_from_slice(sort_key);
    key
}

fn numbered_key(tag: u8, number: u64) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&number.to_be_bytes());
    key
}

fn agent_key(uri: &str) -> Vec<u8> {
    let mut key = vec![TAG_AGENT];
    key.extend_from_slice(uri.as_bytes());
    key
}

/// A stored map entry's key and value wire bytes, or `None` if it is cut short.
fn split_entry(entry: &[u8]) -> Option<(&[u8], &[u8])> {
    let len_bytes: [u8; LEN_BYTES] = entry.get(..LEN_BYTES)?.try_into().ok()?;
    let len = usize::try_from(u64::from_be_bytes(len_bytes)).ok()?;
    let rest = &entry[LEN_BYTES..];
    (len <= rest.len()).then(|| rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// A fresh directory under the system's temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("weft-store-test-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(dir: &TempDir) -> Store {
        Store::open(&dir.0).unwrap_or_else(|e| panic!("{e}"))
    }

    fn lane(uri: &str, lane: &str, bytes: &[u8]) -> Write {
        Write::Lane {
            uri: uri.into(),
            lane: lane.into(),
            bytes: bytes.to_vec(),
        }
    }

    fn put(uri: &str, lane: &str, sort_key: &[u8], value: &[u8]) -> Write {
        Write::MapPut {
            uri: uri.into(),
            lane: lane.into(),
            sort_key: sort_key.to_vec(),
            key: [b"k:", sort_key].concat(),
            value: value.to_vec(),
        }
    }

    fn remove(uri: &str, lane: &str, sort_key: &[u8]) -> Write {
        Write::MapRemove {
            uri: uri.into(),
            lane: lane.into(),
            sort_key: sort_key.to_vec(),
        }
    }

    fn clear(uri: &str, lane: &str) -> Write {
        Write::MapClear {
            uri: uri.into(),
            lane: lane.into(),
        }
    }

    fn agent(uri: &str, agent: &str) -> Write {
        Write::Agent {
            uri: uri.into(),
            agent: agent.into(),
        }
    }

    /// The values of a map lane, in order.
    fn values(store: &Store, uri: &str, name: &str) -> Vec<Vec<u8>> {
        let entries = store.map_lane(uri, name).unwrap_or_else(|e| panic!("{e}"));
        entries.into_iter().map(|(_, v)| v).collect()
    }

    fn ok<T>(r: Result<T, StoreError>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn round_trips() {
        let dir = TempDir::new();
        let store = open(&dir);
        assert_eq!(ok(store.lane("/a", "count")), None);
        assert_eq!(ok(store.map_lane("/a", "m")), vec![]);
        assert_eq!(ok(store.agents()), vec![]);
        ok(store.commit(vec![
            lane("/a", "count", &[1, 2, 3]),
            lane("/a", "empty", &[]),
            put("/a", "m", b"x", b"1"),
            agent("/a", "Counter"),
        ]));
        assert_eq!(ok(store.lane("/a", "count")), Some(vec![1, 2, 3]));
        assert_eq!(ok(store.lane("/a", "empty")), Some(vec![]));
        assert_eq!(
            ok(store.map_lane("/a", "m")),
            vec![(b"k:x".to_vec(), b"1".to_vec())]
        );
        assert_eq!(ok(store.agents()), vec![("/a".into(), "Counter".into())]);
        ok(store.commit(vec![lane("/a", "count", &[9]), put("/a", "m", b"x", b"2")]));
        assert_eq!(ok(store.lane("/a", "count")), Some(vec![9]));
        assert_eq!(values(&store, "/a", "m"), vec![b"2".to_vec()]);
        ok(store.commit(vec![remove("/a", "m", b"x"), remove("/a", "m", b"nothing")]));
        assert_eq!(ok(store.map_lane("/a", "m")), vec![]);
        ok(store.commit(vec![]));
    }

    #[test]
    fn concurrent_commits_share_flushes_and_all_land() {
        let dir = TempDir::new();
        let store = std::sync::Arc::new(open(&dir));
        let (threads, each) = (16, 50);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..each {
                        let uri = format!("/t{t}");
                        ok(store.commit(vec![
                            lane(&uri, "n", &[i as u8]),
                            put(&uri, "m", &[i as u8], b"v"),
                        ]));
                        // Durable and visible as soon as the commit returns.
                        assert_eq!(ok(store.lane(&uri, "n")), Some(vec![i as u8]));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap_or_else(|_| panic!("a committer panicked"));
        }
        for t in 0..threads {
            let uri = format!("/t{t}");
            assert_eq!(ok(store.lane(&uri, "n")), Some(vec![each as u8 - 1]));
            assert_eq!(ok(store.map_lane(&uri, "m")).len(), each);
        }
        let commits = (threads * each) as u64;
        assert!(store.flushes() <= commits, "{} flushes", store.flushes());
    }

    #[test]
    fn writes_in_one_commit_apply_in_order() {
        let dir = TempDir::new();
        let store = open(&dir);
        ok(store.commit(vec![put("/a", "m", b"old", b"0")]));
        ok(store.commit(vec![
            lane("/a", "v", b"first"),
            put("/a", "m", b"gone", b"1"),
            clear("/a", "m"),
            put("/a", "m", b"kept", b"2"),
            lane("/a", "v", b"second"),
            put("/a", "m", b"twice", b"3"),
            remove("/a", "m", b"twice"),
        ]));
        assert_eq!(ok(store.lane("/a", "v")), Some(b"second".to_vec()));
        assert_eq!(
            ok(store.map_lane("/a", "m")),
            vec![(b"k:kept".to_vec(), b"2".to_vec())]
        );
    }

    #[test]
    fn map_lanes_iterate_in_sort_key_order() {
        let dir = TempDir::new();
        let store = open(&dir);
        // Sort keys of Ints, as `value::sort_key` writes them.
        let key = |n: i64| {
            let mut out = Vec::new();
            crate::value::sort_key(&crate::value::Value::Int(n), &mut out);
            out
        };
        let ns = [5, -3, 1000, 0, i64::MIN, 42, i64::MAX, -1];
        let writes = ns
            .iter()
            .map(|n| put("/a", "m", &key(*n), &n.to_le_bytes()))
            .collect();
        ok(store.commit(writes));
        let mut sorted = ns;
        sorted.sort();
        let expected: Vec<Vec<u8>> = sorted.iter().map(|n| n.to_le_bytes().to_vec()).collect();
        assert_eq!(values(&store, "/a", "m"), expected);
        ok(store.commit(vec![clear("/a", "m")]));
        assert_eq!(ok(store.map_lane("/a", "m")), vec![]);
    }

    #[test]
    fn names_that_are_prefixes_of_each_other_do_not_mix() {
        let dir = TempDir::new();
        let store = open(&dir);
        let names = [
            ("/a", "b"),
            ("/a", "bc"),
            ("/ab", "c"),
            ("/a/", "b"),
            ("/a", "b\0"),
            ("", ""),
        ];
        for (i, (uri, name)) in names.iter().enumerate() {
            let i = i as u8;
            ok(store.commit(vec![
                lane(uri, name, &[i]),
                put(uri, name, &[i], &[i]),
                put(uri, name, &[i, 0], &[i]),
            ]));
        }
        for (i, (uri, name)) in names.iter().enumerate() {
            let i = i as u8;
            assert_eq!(ok(store.lane(uri, name)), Some(vec![i]), "{uri} {name}");
            assert_eq!(
                values(&store, uri, name),
                vec![vec![i], vec![i]],
                "{uri} {name}"
            );
        }
        ok(store.commit(vec![clear("/a", "b")]));
        assert_eq!(ok(store.map_lane("/a", "b")), vec![]);
        for (uri, name) in &names[1..] {
            assert_eq!(values(&store, uri, name).len(), 2, "{uri} {name}");
        }
        assert!(ok(store.lane("/a", "bcd")).is_none());
    }

    #[test]
    fn agents_list_in_uri_order() {
        let dir = TempDir::new();
        let store = open(&dir);
        ok(store.commit(vec![
            agent("/rooms/b", "Room"),
            agent("/counters/a", "Counter"),
            agent("/rooms/a", "Room"),
        ]));
        ok(store.commit(vec![agent("/counters/a", "Counter2")]));
        let uris: Vec<(String, String)> = ok(store.agents());
        assert_eq!(
            uris,
            vec![
                ("/counters/a".into(), "Counter2".into()),
                ("/rooms/a".into(), "Room".into()),
                ("/rooms/b".into(), "Room".into()),
            ]
        );
    }

    #[test]
    fn reopening_sees_everything_committed() {
        let dir = TempDir::new();
        {
            let store = open(&dir);
            ok(store.commit(vec![
                lane("/a", "v", b"1"),
                put("/a", "m", b"k", b"v"),
                agent("/a", "A"),
            ]));
        }
        let store = open(&dir);
        assert_eq!(ok(store.lane("/a", "v")), Some(b"1".to_vec()));
        assert_eq!(values(&store, "/a", "m"), vec![b"v".to_vec()]);
        assert_eq!(ok(store.agents()), vec![("/a".into(), "A".into())]);
    }

    #[test]
    fn a_second_open_is_refused_while_the_first_is_open() {
        let dir = TempDir::new();
        let store = open(&dir);
        let err = Store::open(&dir.0)
            .err()
            .map(|e| (e.to_string(), e.is_fatal()));
        let text = format!("{}", dir.0.display());
        assert!(
            matches!(&err, Some((msg, false)) if msg.contains("in use") && msg.contains(&text)),
            "{err:?}"
        );
        drop(store);
        assert!(Store::open(&dir.0).is_ok());
    }

    #[test]
    fn unusable_directories_are_named_in_the_error() {
        let dir = TempDir::new();
        ok(std::fs::create_dir_all(&dir.0).map_err(|e| StoreError::Io {
            dir: dir.0.clone(),
            message: e.to_string(),
        }));
        let file = dir.0.join("a-file");
        let written = std::fs::write(&file, b"not a directory");
        assert!(written.is_ok());
        let err = Store::open(&file.join("store"))
            .err()
            .map(|e| (e.to_string(), e.is_fatal()));
        let text = format!("{}", file.display());
        assert!(
            matches!(&err, Some((msg, true)) if msg.contains("cannot create") && msg.contains(&text)),
            "{err:?}"
        );
    }

    /// The child side of [`a_killed_writer_leaves_whole_commits`]: commits pairs of equal
    /// lanes until it is killed. Does nothing unless the parent set the directory.
    #[test]
    #[ignore = "run by a_killed_writer_leaves_whole_commits"]
    fn crash_child() {
        let Some(dir) = std::env::var_os("WEFT_STORE_CRASH_DIR") else {
            return;
        };
        let store = ok(Store::open(Path::new(&dir)));
        for n in 0u64.. {
            let bytes = n.to_le_bytes();
            ok(store.commit(vec![
                lane("/a", "x", &bytes),
                put("/a", "m", b"k", &bytes),
                lane("/b", "y", &bytes),
            ]));
            if n == 10 {
                let _ = std::fs::write(Path::new(&dir).join("started"), b"");
            }
        }
    }

    /// A process killed in the middle of committing leaves each commit whole.
    #[test]
    fn a_killed_writer_leaves_whole_commits() {
        let dir = TempDir::new();
        ok(std::fs::create_dir_all(&dir.0).map_err(|e| StoreError::Io {
            dir: dir.0.clone(),
            message: e.to_string(),
        }));
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
        let child = std::process::Command::new(exe)
            .args([
                "store::tests::crash_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("WEFT_STORE_CRASH_DIR", &dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let mut child = child.unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let started_max = Duration::from_secs(20);
        while !dir.0.join("started").exists() && started.elapsed() < started_max {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(150));
        let _ = child.kill();
        let _ = child.wait();
        assert!(dir.0.join("started").exists(), "the child never committed");
        let store = open(&dir);
        let x = ok(store.lane("/a", "x"));
        let y = ok(store.lane("/b", "y"));
        assert!(x.is_some());
        assert_eq!(x, y);
        assert_eq!(values(&store, "/a", "m"), vec![x.unwrap_or_default()]);
    }
}
