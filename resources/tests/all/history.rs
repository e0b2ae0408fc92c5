//! Reads at older revisions and compaction: every revision stays readable until it is
//! compacted, reads below the compaction point and after the current revision are
//! refused, and compaction keeps exactly what reads from its point on need.

use crate::support::*;
use weft_resources::{Command, Keys, Outcome, Rejection, StoreError};

fn rejection(result: Result<impl std::fmt::Debug, StoreError>) -> Rejection {
    match result {
        Err(StoreError::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// Builds: 1 a=1, 2 b=1, 3 a=2, 4 delete b, 5 c=1, 6 a=3, 7 delete a.
fn build(store: &weft_resources::Store) {
    put(store, "a", "1");
    put(store, "b", "1");
    put(store, "a", "2");
    delete(store, "b");
    put(store, "c", "1");
    put(store, "a", "3");
    delete(store, "a");
}

fn values_at(store: &weft_resources::Store, at: u64) -> Vec<String> {
    store
        .range(b"", Some(at), None)
        .unwrap()
        .kvs
        .iter()
        .map(|kv| format!("{}={}", text(&kv.key), text(&kv.value)))
        .collect()
}

#[test]
fn every_revision_reads_as_it_was() {
    let f = fresh();
    build(&f.store);
    let expected: [&[&str]; 8] = [
        &[],
        &["a=1"],
        &["a=1", "b=1"],
        &["a=2", "b=1"],
        &["a=2"],
        &["a=2", "c=1"],
        &["a=3", "c=1"],
        &["c=1"],
    ];
    for (at, want) in expected.iter().enumerate() {
        assert_eq!(values_at(&f.store, at as u64), *want, "at {at}");
    }
    let a5 = f.store.get(b"a", Some(5)).unwrap().unwrap();
    assert_eq!((a5.create_revision, a5.mod_revision, a5.version), (1, 3, 2));
    assert_eq!(f.store.get(b"b", Some(4)).unwrap(), None);
    assert_eq!(f.store.range(b"", Some(6), None).unwrap().revision, 6);
}

#[test]
fn ranges_at_old_revisions_honour_the_limit() {
    let f = fresh();
    for i in 0..5 {
        put(&f.store, &format!("k{i}"), "v");
    }
    for i in 0..5 {
        put(&f.store, &format!("k{i}"), "w");
    }
    let two = f.store.range(b"k", Some(7), Some(2)).unwrap();
    assert_eq!(keys(&two.kvs), ["k0", "k1"]);
    assert_eq!(two.kvs[0].value, b"w");
    assert!(two.more);
    let five = f.store.range(b"k", Some(7), Some(5)).unwrap();
    assert_eq!(five.kvs.len(), 5);
    assert!(!five.more);
    assert_eq!(five.kvs[4].value, b"v");
}

#[test]
fn a_future_revision_is_refused() {
    let f = fresh();
    build(&f.store);
    assert_eq!(
        rejection(f.store.get(b"a", Some(8))),
        Rejection::FutureRevision {
            revision: 8,
            current: 7
        }
    );
    assert!(matches!(
        rejection(f.store.range(b"", Some(100), None)),
        Rejection::FutureRevision { .. }
    ));
}

#[test]
fn compaction_refuses_older_reads_and_keeps_newer_ones() {
    let f = fresh();
    build(&f.store);
    let before: Vec<Vec<String>> = (5..=7).map(|at| values_at(&f.store, at)).collect();
    let reply = apply(&f.store, Command::Compact { revision: 5 });
    assert_eq!(reply.outcome, Outcome::Compact { compacted_at: 5 });
    assert_eq!(reply.revision, 7, "compaction makes no revision");
    assert_eq!(f.store.compacted(), 5);
    for at in 0..5 {
        assert_eq!(
            rejection(f.store.get(b"a", Some(at))),
            Rejection::Compacted { compacted_at: 5 },
            "at {at}"
        );
        assert!(matches!(
            rejection(f.store.range(b"", Some(at), None)),
            Rejection::Compacted { .. }
        ));
    }
    let after: Vec<Vec<String>> = (5..=7).map(|at| values_at(&f.store, at)).collect();
    assert_eq!(after, before);
    let a5 = f.store.get(b"a", Some(5)).unwrap().unwrap();
    assert_eq!((a5.value.as_slice(), a5.version), (&b"2"[..], 2));
}

#[test]
fn compacting_twice_or_to_the_future_is_refused() {
    let f = fresh();
    build(&f.store);
    apply(&f.store, Command::Compact { revision: 4 });
    let again = f.store.apply(&Command::Compact { revision: 4 });
    assert_eq!(rejection(again), Rejection::Compacted { compacted_at: 4 });
    let older = f.store.apply(&Command::Compact { revision: 2 });
    assert_eq!(rejection(older), Rejection::Compacted { compacted_at: 4 });
    let future = f.store.apply(&Command::Compact { revision: 8 });
    assert!(matches!(
        rejection(future),
        Rejection::FutureRevision { .. }
    ));
    apply(&f.store, Command::Compact { revision: 7 });
    assert_eq!(values_at(&f.store, 7), ["c=1"]);
}

#[test]
fn compaction_physically_drops_superseded_history() {
    let f = fresh();
    for i in 0..100 {
        put(&f.store, "hot", &format!("{i}"));
    }
    put(&f.store, "gone", "x");
    delete(&f.store, "gone");
    let big = f.store.snapshot().unwrap().len();
    apply(&f.store, Command::Compact { revision: 102 });
    let small = f.store.snapshot().unwrap().len();
    assert!(
        small * 4 < big,
        "snapshot {big} bytes before, {small} after"
    );
    assert_eq!(value(&f.store, "hot").as_deref(), Some("99"));
    assert_eq!(
        f.store.get(b"hot", Some(102)).unwrap().unwrap().value,
        b"99"
    );
    assert_eq!(f.store.get(b"gone", Some(102)).unwrap(), None);
}

#[test]
fn compaction_inside_a_batch_sees_the_batch_writes() {
    let f = fresh();
    let replies = f
        .store
        .apply_batch(&[
            Command::put("k", "1"),
            Command::put("k", "2"),
            Command::put("j", "1"),
            Command::Delete {
                keys: Keys::One("j".into()),
                prev_kv: false,
            },
            Command::Compact { revision: 3 },
            Command::put("k", "3"),
        ])
        .unwrap();
    assert!(replies.iter().all(Result::is_ok), "{replies:?}");
    assert_eq!(f.store.get(b"k", Some(3)).unwrap().unwrap().value, b"2");
    assert_eq!(f.store.get(b"j", Some(3)).unwrap().unwrap().value, b"1");
    assert_eq!(f.store.get(b"j", Some(4)).unwrap(), None);
    assert_eq!(value(&f.store, "k").as_deref(), Some("3"));
    assert!(matches!(
        rejection(f.store.get(b"k", Some(2))),
        Rejection::Compacted { compacted_at: 3 }
    ));
}

#[test]
fn reads_at_old_revisions_stay_exact_while_compaction_runs_beside_them() {
    let f = fresh();
    // Revision r puts k = r, so a read of k at r must say r.
    put(&f.store, "k", "1");
    std::thread::scope(|scope| {
        let store = &f.store;
        let writer = scope.spawn(move || {
            for r in 2..=600u64 {
                assert_eq!(put(store, "k", &r.to_string()), r);
                if r % 50 == 0 {
                    apply(store, Command::Compact { revision: r - 20 });
                }
            }
        });
        let readers: Vec<_> = (0..2u64)
            .map(|n| {
                scope.spawn(move || {
                    let mut exact = 0;
                    let mut seed = n + 1;
                    while exact < 300 {
                        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                        let now = store.revision();
                        let at = now.saturating_sub(seed >> 58).max(1);
                        match store.get(b"k", Some(at)) {
                            Ok(Some(kv)) => {
                                assert_eq!(
                                    (text(&kv.value), kv.mod_revision),
                                    (at.to_string(), at)
                                );
                                exact += 1;
                            }
                            Err(StoreError::Rejected(Rejection::Compacted { .. })) => {}
                            other => panic!("at {at}: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        writer.join().unwrap();
        for reader in readers {
            reader.join().unwrap();
        }
    });
    assert_eq!(f.store.compacted(), 580);
}
