//! Watches: events from history then live, in revision order with previous pairs; a
//! watcher from a compacted revision is refused; a watcher that falls behind is told to
//! resync with the revision to resume from, after every event it did get.

use crate::support::*;
use std::time::Duration;
use weft_resources::limits::WATCH_QUEUE_LEN_MAX;
use weft_resources::{Command, Delivery, EventKind, Keys, RecvError, Rejection, StoreError};

#[test]
fn a_watch_from_history_then_live_misses_nothing() {
    let f = fresh();
    put(&f.store, "app/a", "1");
    put(&f.store, "other", "x");
    put(&f.store, "app/a", "2");
    delete(&f.store, "app/a");
    let watcher = f.store.watch(b"app/", 1).unwrap();
    put(&f.store, "app/b", "1");
    let described: Vec<String> = drain(&watcher).iter().map(describe).collect();
    assert_eq!(
        described,
        [
            "put app/a=1@1",
            "put app/a=2@3",
            "delete app/a@4",
            "put app/b=1@5"
        ]
    );
    put(&f.store, "other", "y");
    put(&f.store, "app/c", "1");
    let event = next_event(&watcher);
    assert_eq!(describe(&event), "put app/c=1@7");
    assert_eq!(watcher.next_revision(), 8);
    assert_eq!(
        watcher.recv_timeout(Duration::from_millis(20)),
        Err(RecvError::Timeout)
    );
}

#[test]
fn events_carry_the_pairs_and_previous_pairs_alike_from_history_and_live() {
    let f = fresh();
    let live = f.store.watch(b"", 0).unwrap();
    assert_eq!(live.try_recv(), Err(RecvError::Timeout), "now live");
    put(&f.store, "k", "1");
    put(&f.store, "k", "2");
    delete(&f.store, "k");
    let from_live = drain(&live);
    let from_history = drain(&f.store.watch(b"", 1).unwrap());
    assert_eq!(from_live, from_history);
    assert_eq!(from_live.len(), 3);
    let second = &from_live[1];
    assert_eq!(second.kind, EventKind::Put);
    assert_eq!(second.kv.version, 2);
    assert_eq!(second.prev_kv.as_ref().unwrap().value, b"1");
    let deleted = &from_live[2];
    assert_eq!(deleted.kind, EventKind::Delete);
    assert_eq!((deleted.kv.mod_revision, deleted.kv.version), (3, 0));
    assert_eq!(deleted.prev_kv.as_ref().unwrap().value, b"2");
    assert_eq!(from_live[0].prev_kv, None);
}

#[test]
fn a_txn_s_events_share_a_revision_in_op_order() {
    let f = fresh();
    put(&f.store, "z", "old");
    let watcher = f.store.watch(b"", 2).unwrap();
    assert_eq!(watcher.try_recv(), Err(RecvError::Timeout), "now live");
    let txn = Command::Txn {
        compare: vec![],
        success: vec![
            weft_resources::Op::Put {
                key: "z".into(),
                value: "new".into(),
                lease: None,
                prev_kv: false,
            },
            weft_resources::Op::Put {
                key: "a".into(),
                value: "1".into(),
                lease: None,
                prev_kv: false,
            },
        ],
        failure: vec![],
    };
    apply(&f.store, txn);
    let described: Vec<String> = drain(&watcher).iter().map(describe).collect();
    assert_eq!(described, ["put z=new@2", "put a=1@2"]);
    let replayed: Vec<String> = drain(&f.store.watch(b"", 2).unwrap())
        .iter()
        .map(describe)
        .collect();
    assert_eq!(replayed, described);
}

#[test]
fn a_watch_from_a_compacted_revision_is_refused_and_from_the_point_works() {
    let f = fresh();
    for i in 0..10 {
        put(&f.store, "k", &format!("{i}"));
    }
    apply(&f.store, Command::Compact { revision: 6 });
    match f.store.watch(b"", 5) {
        Err(StoreError::Rejected(Rejection::Compacted { compacted_at: 6 })) => {}
        other => panic!("{other:?}"),
    }
    let watcher = f.store.watch(b"", 6).unwrap();
    let events = drain(&watcher);
    let revisions: Vec<u64> = events.iter().map(|e| e.revision()).collect();
    assert_eq!(revisions, [6, 7, 8, 9, 10]);
    assert_eq!(events[0].prev_kv.as_ref().unwrap().value, b"4");
}

#[test]
fn a_watch_from_the_future_waits_for_its_revision() {
    let f = fresh();
    put(&f.store, "k", "1");
    let watcher = f.store.watch(b"", 3).unwrap();
    put(&f.store, "k", "2");
    assert_eq!(
        watcher.recv_timeout(Duration::from_millis(20)),
        Err(RecvError::Timeout)
    );
    put(&f.store, "k", "3");
    assert_eq!(describe(&next_event(&watcher)), "put k=3@3");
}

#[test]
fn a_slow_watcher_is_told_to_resync_after_every_event_it_got() {
    let f = fresh();
    let watcher = f.store.watch(b"", 0).unwrap();
    assert!(matches!(watcher.try_recv(), Err(RecvError::Timeout)));
    let total = WATCH_QUEUE_LEN_MAX + 100;
    let commands: Vec<Command> = (0..total)
        .map(|i| Command::put(format!("k{i}"), "v"))
        .collect();
    f.store.apply_batch(&commands).unwrap();
    let mut got = 0;
    let resume_from = loop {
        match watcher.recv_timeout(WAIT) {
            Ok(Delivery::Event(event)) => {
                got += 1;
                assert_eq!(event.revision(), got);
            }
            Ok(Delivery::Lagged { resume_from }) => break resume_from,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(got, WATCH_QUEUE_LEN_MAX as u64);
    assert_eq!(resume_from, got + 1);
    assert_eq!(watcher.try_recv(), Err(RecvError::Closed));
    assert_eq!(f.store.watcher_count(), 0, "an ended watcher is dropped");
    // Resuming where it said picks up exactly the rest.
    let again = f.store.watch(b"", resume_from).unwrap();
    let rest = drain(&again);
    assert_eq!(rest.len(), total - WATCH_QUEUE_LEN_MAX);
    assert_eq!(rest[0].revision(), resume_from);
    put(&f.store, "live", "v");
    assert_eq!(
        describe(&next_event(&again)),
        format!("put live=v@{}", total + 1)
    );
}

/// Reads deliveries until `Lagged`, returning the events before it and where to resume.
fn until_lagged(watcher: &weft_resources::Watcher) -> (Vec<weft_resources::Event>, u64) {
    let mut events = Vec::new();
    loop {
        match watcher.recv_timeout(WAIT) {
            Ok(Delivery::Event(event)) => events.push(event),
            Ok(Delivery::Lagged { resume_from }) => return (events, resume_from),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_revision_that_does_not_fit_the_queue_is_not_delivered_in_part() {
    let f = fresh();
    let watcher = f.store.watch(b"big/", 0).unwrap();
    assert_eq!(watcher.try_recv(), Err(RecvError::Timeout), "now live");
    // One revision per key fills the queue exactly...
    let commands: Vec<Command> = (0..WATCH_QUEUE_LEN_MAX)
        .map(|i| Command::put(format!("big/{i:05}"), "v"))
        .collect();
    f.store.apply_batch(&commands).unwrap();
    // ...so the delete of them all, one revision, cannot fit.
    let delete_all = Command::Delete {
        keys: Keys::Prefix(b"big/".to_vec()),
        prev_kv: false,
    };
    let delete_revision = apply(&f.store, delete_all).revision;
    let (events, resume_from) = until_lagged(&watcher);
    assert_eq!(events.len(), WATCH_QUEUE_LEN_MAX);
    assert!(events.iter().all(|e| e.kind == EventKind::Put));
    assert_eq!(resume_from, delete_revision);
    // The whole revision comes through a new watcher's catch-up.
    let again = f.store.watch(b"big/", resume_from).unwrap();
    let rest = drain(&again);
    assert_eq!(rest.len(), WATCH_QUEUE_LEN_MAX);
    assert!(rest.iter().all(|e| e.revision() == delete_revision));
}

#[test]
fn a_revision_bigger_than_the_queue_lags_an_idle_watcher_and_replays_whole() {
    let f = fresh();
    let commands: Vec<Command> = (0..=WATCH_QUEUE_LEN_MAX)
        .map(|i| Command::put(format!("big/{i:05}"), "v"))
        .collect();
    f.store.apply_batch(&commands).unwrap();
    let watcher = f.store.watch(b"big/", f.store.revision() + 1).unwrap();
    assert_eq!(watcher.try_recv(), Err(RecvError::Timeout), "now live");
    let delete_all = Command::Delete {
        keys: Keys::Prefix(b"big/".to_vec()),
        prev_kv: false,
    };
    let delete_revision = apply(&f.store, delete_all).revision;
    let (events, resume_from) = until_lagged(&watcher);
    assert!(events.is_empty());
    assert_eq!(resume_from, delete_revision);
    let again = f.store.watch(b"big/", resume_from).unwrap();
    let rest = drain(&again);
    assert_eq!(rest.len(), WATCH_QUEUE_LEN_MAX + 1);
    assert!(rest.iter().all(|e| e.kind == EventKind::Delete));
}

#[test]
fn a_long_history_is_read_in_steps_not_refused() {
    let f = fresh();
    let total = 3 * WATCH_QUEUE_LEN_MAX;
    let commands: Vec<Command> = (0..total)
        .map(|i| Command::put(format!("k{}", i % 7), format!("{i}")))
        .collect();
    f.store.apply_batch(&commands).unwrap();
    let watcher = f.store.watch(b"", 1).unwrap();
    let events = drain(&watcher);
    assert_eq!(events.len(), total);
    assert!(events
        .windows(2)
        .all(|w| w[0].revision() + 1 == w[1].revision()));
}

#[test]
fn compaction_overtaking_a_watcher_catching_up_ends_it_as_lagged() {
    let f = fresh();
    let commands: Vec<Command> = (0..2000)
        .map(|i| Command::put("k", format!("{i}")))
        .collect();
    f.store.apply_batch(&commands).unwrap();
    let watcher = f.store.watch(b"", 1).unwrap();
    let first = next_event(&watcher);
    assert_eq!(first.revision(), 1);
    apply(&f.store, Command::Compact { revision: 1500 });
    let mut last = first.revision();
    let resume_from = loop {
        match watcher.recv_timeout(WAIT) {
            Ok(Delivery::Event(event)) => {
                assert_eq!(event.revision(), last + 1);
                last = event.revision();
            }
            Ok(Delivery::Lagged { resume_from }) => break resume_from,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(resume_from, last + 1);
    assert!(matches!(
        f.store.watch(b"", resume_from),
        Err(StoreError::Rejected(Rejection::Compacted {
            compacted_at: 1500
        }))
    ));
}

#[test]
fn watchers_on_other_threads_see_a_concurrent_writer_in_order() {
    let f = fresh();
    let total: u64 = 300;
    std::thread::scope(|scope| {
        let store = &f.store;
        let readers: Vec<_> = (0..3u64)
            .map(|n| {
                let watcher = store.watch(b"", n * 50).unwrap();
                scope.spawn(move || {
                    let mut revisions = Vec::new();
                    while (revisions.len() as u64) < total - (n * 50).saturating_sub(1) {
                        match watcher.recv_timeout(WAIT) {
                            Ok(Delivery::Event(e)) => revisions.push(e.revision()),
                            other => panic!("{other:?}"),
                        }
                    }
                    revisions
                })
            })
            .collect();
        for i in 0..total {
            put(store, &format!("k{}", i % 10), "v");
        }
        for (n, reader) in readers.into_iter().enumerate() {
            let revisions = reader.join().unwrap();
            let start = (n as u64 * 50).max(1);
            let expected: Vec<u64> = (start..=total).collect();
            assert_eq!(revisions, expected);
        }
    });
}

#[test]
fn a_watch_started_while_writes_go_on_neither_skips_nor_repeats() {
    let f = fresh();
    std::thread::scope(|scope| {
        let store = &f.store;
        let writer = scope.spawn(move || {
            for i in 0..500 {
                put(store, "k", &format!("{i}"));
            }
        });
        let mut watchers = Vec::new();
        for from in [1, 100, 200, 300] {
            while store.revision() < from {
                std::thread::yield_now();
            }
            watchers.push((from, store.watch(b"", from).unwrap()));
        }
        writer.join().unwrap();
        for (from, watcher) in watchers {
            let revisions: Vec<u64> = drain(&watcher).iter().map(|e| e.revision()).collect();
            let expected: Vec<u64> = (from..=500).collect();
            assert_eq!(revisions, expected, "from {from}");
        }
    });
}

#[test]
fn dropping_the_store_ends_its_watchers_and_dropping_a_watcher_unregisters_it() {
    let f = fresh();
    let kept = f.store.watch(b"", 0).unwrap();
    let dropped = f.store.watch(b"", 0).unwrap();
    assert_eq!(kept.try_recv(), Err(RecvError::Timeout), "now live");
    assert_eq!(f.store.watcher_count(), 2);
    drop(dropped);
    assert_eq!(f.store.watcher_count(), 1);
    put(&f.store, "k", "v");
    let Fixture { store, dir } = f;
    drop(store);
    assert_eq!(describe(&next_event(&kept)), "put k=v@1");
    assert_eq!(kept.recv_timeout(WAIT), Err(RecvError::Closed));
    drop(dir);
}
