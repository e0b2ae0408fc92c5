//! Leases: granted with a TTL, keys attached by put, the countdown started by the
//! leader's expiry ticks, keep-alive restarting it, and expiry or revoke deleting every
//! attached key in one revision.

use crate::support::*;
use weft_resources::{Command, EventKind, LeaseId, Outcome, Rejection, StoreError};

fn expire(store: &weft_resources::Store, now_ms: u64) -> (u64, Vec<LeaseId>, u64) {
    let reply = apply(store, Command::LeaseExpire { now_ms });
    match reply.outcome {
        Outcome::LeaseExpire { expired, deleted } => (reply.revision, expired, deleted),
        other => panic!("{other:?}"),
    }
}

fn rejection(result: Result<weft_resources::Reply, StoreError>) -> Rejection {
    match result {
        Err(StoreError::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn grants_choose_free_ids_and_make_no_revision() {
    let f = fresh();
    let a = grant(&f.store, 1000);
    let b = grant(&f.store, 1000);
    assert_eq!((a, b), (LeaseId(1), LeaseId(2)));
    let chosen = Command::LeaseGrant {
        id: Some(LeaseId(3)),
        ttl_ms: 500,
    };
    apply(&f.store, chosen.clone());
    assert_eq!(
        rejection(f.store.apply(&chosen)),
        Rejection::LeaseExists { id: LeaseId(3) }
    );
    assert_eq!(grant(&f.store, 1000), LeaseId(4), "taken ids are skipped");
    assert_eq!(f.store.revision(), 0);
    assert_eq!(
        rejection(f.store.apply(&Command::LeaseGrant {
            id: Some(LeaseId(0)),
            ttl_ms: 1
        })),
        Rejection::InvalidLeaseId
    );
    assert!(matches!(
        rejection(f.store.apply(&Command::LeaseGrant {
            id: None,
            ttl_ms: 0
        })),
        Rejection::InvalidTtl { .. }
    ));
    assert_eq!(
        f.store.lease_ids(),
        [LeaseId(1), LeaseId(2), LeaseId(3), LeaseId(4)]
    );
}

#[test]
fn expiry_deletes_all_attached_keys_in_one_revision() {
    let f = fresh();
    let short = grant(&f.store, 1_000);
    let long = grant(&f.store, 60_000);
    put_on(&f.store, "node/a", "up", short);
    put_on(&f.store, "node/b", "up", short);
    put_on(&f.store, "node/c", "up", long);
    put(&f.store, "plain", "v");
    let watcher = f.store.watch(b"node/", 5).unwrap();
    // The first tick starts every countdown; nothing ends yet.
    let (revision, expired, _) = expire(&f.store, 10_000);
    assert_eq!((revision, expired.len()), (4, 0));
    assert_eq!(f.store.lease(short).unwrap().deadline_ms, Some(11_000));
    assert_eq!(expire(&f.store, 10_999).1, []);
    let (revision, expired, deleted) = expire(&f.store, 11_000);
    assert_eq!((revision, expired, deleted), (5, vec![short], 2));
    assert_eq!(
        keys(&f.store.range(b"", None, None).unwrap().kvs),
        ["node/c", "plain"]
    );
    assert_eq!(f.store.lease(short), None);
    let events = drain(&watcher);
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.kind == EventKind::Delete && e.revision() == 5));
    // The lease is gone: keep-alive and put on it are refused.
    assert_eq!(
        rejection(f.store.apply(&Command::LeaseKeepAlive { id: short })),
        Rejection::LeaseNotFound { id: short }
    );
}

#[test]
fn leases_ending_on_one_tick_share_its_revision() {
    let f = fresh();
    let a = grant(&f.store, 100);
    let b = grant(&f.store, 200);
    put_on(&f.store, "a", "1", a);
    put_on(&f.store, "b", "1", b);
    expire(&f.store, 1_000);
    let (revision, expired, deleted) = expire(&f.store, 5_000);
    assert_eq!((revision, expired, deleted), (3, vec![a, b], 2));
}

#[test]
fn keep_alive_restarts_the_countdown_from_the_next_tick() {
    let f = fresh();
    let lease = grant(&f.store, 1_000);
    put_on(&f.store, "k", "v", lease);
    expire(&f.store, 0);
    assert_eq!(f.store.lease(lease).unwrap().deadline_ms, Some(1_000));
    expire(&f.store, 900);
    let reply = apply(&f.store, Command::LeaseKeepAlive { id: lease });
    assert_eq!(
        reply.outcome,
        Outcome::LeaseKeepAlive {
            id: lease,
            ttl_ms: 1_000
        }
    );
    assert_eq!(f.store.lease(lease).unwrap().deadline_ms, None);
    assert_eq!(expire(&f.store, 1_100).1, [], "counted again from 1100");
    assert_eq!(f.store.lease(lease).unwrap().deadline_ms, Some(2_100));
    assert_eq!(expire(&f.store, 2_099).1, []);
    assert_eq!(expire(&f.store, 2_100).1, [lease]);
    assert_eq!(get(&f.store, "k"), None);
}

/// A new leader restarts every countdown before its first tick, so a lease whose
/// keep-alives could not get through during an election is not ended for them.
#[test]
fn a_restart_counts_every_lease_again_from_the_next_tick() {
    let f = fresh();
    let (a, b) = (grant(&f.store, 1_000), grant(&f.store, 5_000));
    put_on(&f.store, "k", "v", a);
    expire(&f.store, 0);
    let before = f.store.revision();
    let reply = apply(&f.store, Command::LeaseRestart);
    assert_eq!(reply.outcome, Outcome::LeaseRestart { leases: 2 });
    assert_eq!(f.store.revision(), before, "no key changed");
    assert_eq!(f.store.lease(a).unwrap().deadline_ms, None);
    assert_eq!(f.store.lease(b).unwrap().deadline_ms, None);
    // The old leader would have ended `a` at 1000; the new one's first tick is at 1500.
    assert_eq!(expire(&f.store, 1_500).1, [], "counted again from 1500");
    assert_eq!(f.store.lease(a).unwrap().deadline_ms, Some(2_500));
    assert_eq!(expire(&f.store, 2_500).1, [a]);
    assert_eq!(get(&f.store, "k"), None);
}

#[test]
fn the_clock_never_moves_back() {
    let f = fresh();
    let lease = grant(&f.store, 1_000);
    expire(&f.store, 5_000);
    assert_eq!(f.store.clock_ms(), 5_000);
    // A stale leader's tick counts as the newest clock seen.
    assert_eq!(expire(&f.store, 10).1, []);
    assert_eq!(f.store.clock_ms(), 5_000);
    assert_eq!(expire(&f.store, 6_000).1, [lease]);
}

#[test]
fn revoke_deletes_the_keys_at_once() {
    let f = fresh();
    let lease = grant(&f.store, 60_000);
    put_on(&f.store, "a", "1", lease);
    put_on(&f.store, "b", "1", lease);
    let reply = apply(&f.store, Command::LeaseRevoke { id: lease });
    assert_eq!(reply.outcome, Outcome::LeaseRevoke { deleted: 2 });
    assert_eq!(reply.revision, 3);
    assert_eq!(f.store.range(b"", None, None).unwrap().kvs.len(), 0);
    let empty = grant(&f.store, 60_000);
    let reply = apply(&f.store, Command::LeaseRevoke { id: empty });
    assert_eq!(
        reply.revision, 3,
        "a lease without keys ends without a revision"
    );
    assert_eq!(
        rejection(f.store.apply(&Command::LeaseRevoke { id: empty })),
        Rejection::LeaseNotFound { id: empty }
    );
}

#[test]
fn a_put_moves_a_key_between_leases_or_off_them() {
    let f = fresh();
    let first = grant(&f.store, 60_000);
    let second = grant(&f.store, 60_000);
    put_on(&f.store, "moved", "1", first);
    put_on(&f.store, "moved", "2", second);
    put_on(&f.store, "freed", "1", first);
    put(&f.store, "freed", "2");
    assert_eq!(f.store.lease(first).unwrap().keys, Vec::<Vec<u8>>::new());
    assert_eq!(f.store.lease(second).unwrap().keys, [b"moved".to_vec()]);
    apply(&f.store, Command::LeaseRevoke { id: first });
    assert_eq!(value(&f.store, "moved").as_deref(), Some("2"));
    assert_eq!(value(&f.store, "freed").as_deref(), Some("2"));
    assert_eq!(get(&f.store, "moved").unwrap().lease, Some(second));
    // A key deleted by hand leaves its lease too.
    delete(&f.store, "moved");
    assert!(f.store.lease(second).unwrap().keys.is_empty());
}
