//! Shared test helpers: temporary directories that clean up after themselves, and
//! short ways to apply commands and read replies.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weft_resources::{
    Command, Delivery, Event, KeyValue, LeaseId, Outcome, RecvError, Reply, Store, Watcher,
};

/// How long a test waits for something that should come at once.
pub const WAIT: Duration = Duration::from_secs(5);

/// A fresh directory under the system's temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("weft-cubestore-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store in a fresh directory (the directory goes when the pair is dropped, store
/// first).
pub struct Fixture {
    pub store: Store,
    pub dir: TempDir,
}

pub fn fresh() -> Fixture {
    let dir = TempDir::new();
    let store = open(&dir);
    Fixture { store, dir }
}

pub fn open(dir: &TempDir) -> Store {
    Store::open(&dir.0).unwrap_or_else(|e| panic!("open {}: {e}", dir.0.display()))
}

pub fn apply(store: &Store, command: Command) -> Reply {
    store
        .apply(&command)
        .unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

pub fn put(store: &Store, key: &str, value: &str) -> u64 {
    apply(store, Command::put(key, value)).revision
}

pub fn put_on(store: &Store, key: &str, value: &str, lease: LeaseId) -> u64 {
    let command = Command::Put {
        key: key.into(),
        value: value.into(),
        lease: Some(lease),
        prev_kv: false,
    };
    apply(store, command).revision
}

pub fn delete(store: &Store, key: &str) -> u64 {
    apply(store, Command::delete(key)).revision
}

pub fn grant(store: &Store, ttl_ms: u64) -> LeaseId {
    match apply(store, Command::LeaseGrant { id: None, ttl_ms }).outcome {
        Outcome::LeaseGrant { id, .. } => id,
        other => panic!("grant: {other:?}"),
    }
}

pub fn get(store: &Store, key: &str) -> Option<KeyValue> {
    store
        .get(key.as_bytes(), None)
        .unwrap_or_else(|e| panic!("get {key}: {e}"))
}

pub fn value(store: &Store, key: &str) -> Option<String> {
    get(store, key).map(|kv| text(&kv.value))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn keys(kvs: &[KeyValue]) -> Vec<String> {
    kvs.iter().map(|kv| text(&kv.key)).collect()
}

/// The next event, failing the test on anything else.
pub fn next_event(watcher: &Watcher) -> Event {
    match watcher.recv_timeout(WAIT) {
        Ok(Delivery::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

/// Every event the watcher has ready now (without waiting for more).
pub fn drain(watcher: &Watcher) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        match watcher.recv_timeout(Duration::from_millis(50)) {
            Ok(Delivery::Event(event)) => events.push(event),
            Err(RecvError::Timeout) => return events,
            other => panic!("expected events, got {other:?}"),
        }
    }
}

/// A short description of an event: `put key=value@rev` or `delete key@rev`.
pub fn describe(event: &Event) -> String {
    match event.kind {
        weft_resources::EventKind::Put => format!(
            "put {}={}@{}",
            text(&event.kv.key),
            text(&event.kv.value),
            event.revision()
        ),
        weft_resources::EventKind::Delete => {
            format!("delete {}@{}", text(&event.kv.key), event.revision())
        }
    }
}
