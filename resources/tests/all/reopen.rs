//! Durability: a store dropped and opened again holds every key, revision, lease,
//! compaction point and history it had, and a second open of a directory in use is
//! refused.

use crate::support::*;
use weft_resources::{Command, Rejection, Store, StoreError};

#[test]
fn reopening_keeps_everything() {
    let dir = TempDir::new();
    let (lease, snapshot) = {
        let store = open(&dir);
        let lease = grant(&store, 5_000);
        put(&store, "a", "1");
        put_on(&store, "b", "1", lease);
        put(&store, "a", "2");
        delete(&store, "a");
        put(&store, "c", "1");
        apply(&store, Command::LeaseExpire { now_ms: 1_000 });
        apply(&store, Command::Compact { revision: 2 });
        store
            .apply_batch_recording(&[Command::put("d", "1")], b"raft: log 7")
            .unwrap();
        (lease, store.snapshot().unwrap())
    };
    let store = open(&dir);
    assert_eq!(store.revision(), 6);
    assert_eq!(store.compacted(), 2);
    assert_eq!(store.clock_ms(), 1_000);
    assert_eq!(
        store.applied().unwrap().as_deref(),
        Some(&b"raft: log 7"[..])
    );
    assert_eq!(value(&store, "b").as_deref(), Some("1"));
    assert_eq!(get(&store, "a"), None);
    assert_eq!(store.get(b"a", Some(3)).unwrap().unwrap().value, b"2");
    assert!(matches!(
        store.get(b"a", Some(1)),
        Err(StoreError::Rejected(Rejection::Compacted { .. }))
    ));
    let info = store.lease(lease).unwrap();
    assert_eq!(
        (info.deadline_ms, info.keys),
        (Some(6_000), vec![b"b".to_vec()])
    );
    assert_eq!(
        store.snapshot().unwrap(),
        snapshot,
        "the same state, byte for byte"
    );
    // And it goes on from there: the next revision, the next lease id.
    assert_eq!(put(&store, "e", "1"), 7);
    assert_eq!(grant(&store, 1_000), weft_resources::LeaseId(2));
    let events = drain(&store.watch(b"", 3).unwrap());
    assert_eq!(events.len(), 5);
}

#[test]
fn a_directory_in_use_is_refused() {
    let f = fresh();
    match Store::open(&f.dir.0) {
        Err(StoreError::Locked { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_directory_with_another_sled_tree_layout_is_refused() {
    let dir = TempDir::new();
    {
        let db = sled::open(&dir.0).unwrap();
        let tree = db.open_tree("cubestore").unwrap();
        tree.insert(b"\x00format", &b"cubestore 99"[..]).unwrap();
        db.flush().unwrap();
    }
    match Store::open(&dir.0) {
        Err(StoreError::Format { found, .. }) => assert_eq!(found, "cubestore 99"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_path_that_cannot_be_a_directory_is_refused() {
    let dir = TempDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("a-file");
    std::fs::write(&file, b"not a store").unwrap();
    match Store::open(file.join("store")) {
        Err(error @ StoreError::Open { .. }) => assert!(error.is_fatal()),
        other => panic!("{other:?}"),
    }
}
