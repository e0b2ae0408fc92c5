//! Snapshots: the whole store round-trips into another store (same reads at every kept
//! revision, same leases, same history for watches, same bytes), restore replaces what
//! was there and ends watchers as lagged, and bad bytes are refused with the store
//! unchanged.

use crate::support::*;
use weft_resources::{Command, Delivery, RecvError, Rejection, Store, StoreError};

fn populated() -> Fixture {
    let f = fresh();
    let lease = grant(&f.store, 2_000);
    for i in 0..20 {
        put(&f.store, &format!("k{}", i % 5), &format!("{i}"));
    }
    put_on(&f.store, "leased", "v", lease);
    delete(&f.store, "k1");
    apply(&f.store, Command::LeaseExpire { now_ms: 50 });
    apply(&f.store, Command::Compact { revision: 10 });
    f.store
        .apply_batch_recording(&[Command::put("last", "x")], b"applied-record")
        .unwrap();
    f
}

#[test]
fn a_snapshot_round_trips_into_another_store() {
    let source = populated();
    let bytes = source.store.snapshot().unwrap();
    let header = Store::snapshot_header(&bytes).unwrap();
    assert_eq!(header.revision, source.store.revision());
    assert_eq!(header.compacted, 10);
    assert_eq!(header.applied.as_deref(), Some(&b"applied-record"[..]));

    let target = fresh();
    put(&target.store, "to-be-replaced", "v");
    target.store.restore(&bytes).unwrap();
    assert_eq!(target.store.revision(), source.store.revision());
    assert_eq!(target.store.compacted(), 10);
    assert_eq!(target.store.clock_ms(), 50);
    assert_eq!(
        target.store.applied().unwrap(),
        source.store.applied().unwrap()
    );
    assert_eq!(get(&target.store, "to-be-replaced"), None);
    for at in 10..=source.store.revision() {
        assert_eq!(
            target.store.range(b"", Some(at), None).unwrap(),
            source.store.range(b"", Some(at), None).unwrap(),
            "at {at}"
        );
    }
    assert!(matches!(
        target.store.get(b"k0", Some(9)),
        Err(StoreError::Rejected(Rejection::Compacted { .. }))
    ));
    for id in source.store.lease_ids() {
        assert_eq!(target.store.lease(id), source.store.lease(id));
    }
    let from_source = drain(&source.store.watch(b"", 10).unwrap());
    let from_target = drain(&target.store.watch(b"", 10).unwrap());
    assert_eq!(from_source, from_target);
    assert_eq!(target.store.snapshot().unwrap(), bytes);
    // Both go on identically.
    for store in [&source.store, &target.store] {
        apply(store, Command::LeaseExpire { now_ms: 10_000 });
        put(store, "after", "1");
    }
    assert_eq!(
        target.store.snapshot().unwrap(),
        source.store.snapshot().unwrap()
    );
}

#[test]
fn a_restored_store_survives_a_reopen() {
    let source = populated();
    let bytes = source.store.snapshot().unwrap();
    let dir = TempDir::new();
    {
        let store = open(&dir);
        store.restore(&bytes).unwrap();
    }
    let store = open(&dir);
    assert_eq!(store.snapshot().unwrap(), bytes);
}

#[test]
fn restore_ends_watchers_as_lagged_at_their_position() {
    let source = populated();
    let bytes = source.store.snapshot().unwrap();
    let target = fresh();
    put(&target.store, "a", "1");
    let watcher = target.store.watch(b"", 1).unwrap();
    assert_eq!(describe(&next_event(&watcher)), "put a=1@1");
    target.store.restore(&bytes).unwrap();
    assert_eq!(
        watcher.recv_timeout(WAIT),
        Ok(Delivery::Lagged { resume_from: 2 })
    );
    assert_eq!(watcher.try_recv(), Err(RecvError::Closed));
    assert_eq!(target.store.watcher_count(), 0);
}

#[test]
fn bad_snapshots_are_refused_and_change_nothing() {
    let source = populated();
    let bytes = source.store.snapshot().unwrap();
    let target = fresh();
    put(&target.store, "mine", "v");
    let before = target.store.snapshot().unwrap();
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let bad_inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"CUBESNAP".to_vec(),
        bytes[..bytes.len() - 1].to_vec(),
        bytes[..bytes.len() / 2].to_vec(),
        flipped,
        vec![0xff; 64],
    ];
    for bad in &bad_inputs {
        match target.store.restore(bad) {
            Err(StoreError::BadSnapshot { .. }) => {}
            other => panic!("{} bytes: {other:?}", bad.len()),
        }
        assert!(Store::snapshot_header(bad).is_err());
    }
    assert_eq!(target.store.snapshot().unwrap(), before);
}

#[test]
fn every_truncation_and_bit_flip_is_refused_without_a_panic() {
    let f = fresh();
    put(&f.store, "k", "v");
    let bytes = f.store.snapshot().unwrap();
    let target = fresh();
    for len in 0..bytes.len() {
        assert!(
            target.store.restore(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[i] ^= bit;
            assert!(target.store.restore(&bad).is_err(), "flip at {i}");
        }
    }
    assert_eq!(target.store.revision(), 0);
}
