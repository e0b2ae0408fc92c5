//! Transactions: compares on mod and create revision, version, value and lease; the
//! branch that runs; one revision for all the writes; gets that see earlier ops; and
//! etcd's rule that a branch writes no key twice.

use crate::support::*;
use weft_resources::limits::TXN_OPS_MAX;
use weft_resources::{
    Command, Compare, CompareOp, Keys, Op, OpReply, Outcome, Rejection, StoreError, Target,
    TxnReply,
};

fn txn(compare: Vec<Compare>, success: Vec<Op>, failure: Vec<Op>) -> Command {
    Command::Txn {
        compare,
        success,
        failure,
    }
}

fn op_put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
        lease: None,
        prev_kv: true,
    }
}

fn op_get(key: &str) -> Op {
    Op::Get {
        keys: Keys::One(key.into()),
        limit: None,
    }
}

fn run(store: &weft_resources::Store, command: Command) -> (u64, TxnReply) {
    let reply = apply(store, command);
    match reply.outcome {
        Outcome::Txn(txn) => (reply.revision, txn),
        other => panic!("{other:?}"),
    }
}

/// Compare-and-swap on the mod revision, as a controller updates an object.
fn cas(store: &weft_resources::Store, key: &str, seen: u64, value: &str) -> bool {
    let (_, reply) = run(
        store,
        txn(
            vec![Compare::mod_revision(key, CompareOp::Equal, seen)],
            vec![op_put(key, value)],
            vec![],
        ),
    );
    reply.succeeded
}

#[test]
fn compare_and_swap_on_mod_revision() {
    let f = fresh();
    assert!(cas(&f.store, "k", 0, "created"), "mod revision 0: absent");
    assert!(!cas(&f.store, "k", 0, "again"), "it exists now");
    let seen = get(&f.store, "k").unwrap().mod_revision;
    put(&f.store, "other", "x");
    assert!(cas(&f.store, "k", seen, "second"));
    assert!(!cas(&f.store, "k", seen, "stale"), "a stale writer loses");
    assert_eq!(value(&f.store, "k").as_deref(), Some("second"));
    assert_eq!(f.store.revision(), 3, "failed swaps make no revision");
}

#[test]
fn the_failure_branch_runs_when_a_compare_fails() {
    let f = fresh();
    put(&f.store, "k", "v1");
    let (revision, reply) = run(
        &f.store,
        txn(
            vec![Compare::value("k", CompareOp::Equal, "other")],
            vec![op_put("k", "won")],
            vec![op_get("k"), op_put("lost", "yes")],
        ),
    );
    assert!(!reply.succeeded);
    assert_eq!(revision, 2);
    let OpReply::Get(got) = &reply.responses[0] else {
        panic!("{reply:?}");
    };
    assert_eq!(got.kvs[0].value, b"v1");
    assert_eq!(value(&f.store, "lost").as_deref(), Some("yes"));
    assert_eq!(value(&f.store, "k").as_deref(), Some("v1"));
}

#[test]
fn all_writes_of_a_txn_share_one_revision_and_gets_see_earlier_ops() {
    let f = fresh();
    put(&f.store, "gone", "x");
    let (revision, reply) = run(
        &f.store,
        txn(
            vec![],
            vec![
                op_put("a", "1"),
                op_get("a"),
                op_put("b", "2"),
                Op::Delete {
                    keys: Keys::One("gone".into()),
                    prev_kv: true,
                },
                Op::Get {
                    keys: Keys::Prefix(Vec::new()),
                    limit: Some(1),
                },
            ],
            vec![],
        ),
    );
    assert!(reply.succeeded);
    assert_eq!(revision, 2);
    assert_eq!(f.store.revision(), 2);
    assert_eq!(get(&f.store, "a").unwrap().mod_revision, 2);
    assert_eq!(get(&f.store, "b").unwrap().mod_revision, 2);
    let OpReply::Get(got) = &reply.responses[1] else {
        panic!("{reply:?}");
    };
    assert_eq!(got.kvs[0].value, b"1");
    let OpReply::Delete(deleted) = &reply.responses[3] else {
        panic!("{reply:?}");
    };
    assert_eq!(deleted.deleted, 1);
    let OpReply::Get(first) = &reply.responses[4] else {
        panic!("{reply:?}");
    };
    assert_eq!(
        (keys(&first.kvs), first.more),
        (vec!["a".to_string()], true)
    );
    assert_eq!(f.store.get(b"gone", Some(1)).unwrap().unwrap().value, b"x");
}

#[test]
fn a_read_only_txn_makes_no_revision() {
    let f = fresh();
    put(&f.store, "k", "v");
    let (revision, reply) = run(&f.store, txn(vec![], vec![op_get("k")], vec![]));
    assert!(reply.succeeded);
    assert_eq!((revision, f.store.revision()), (1, 1));
}

#[test]
fn every_compare_target_and_operator() {
    let f = fresh();
    let lease = grant(&f.store, 10_000);
    put(&f.store, "k", "b");
    put_on(&f.store, "k", "m", lease);
    // k: create 1, mod 2, version 2, value "m", lease.
    let holds = |target: Target, op: CompareOp| {
        let compare = Compare {
            key: "k".into(),
            op,
            target,
        };
        run(&f.store, txn(vec![compare], vec![], vec![]))
            .1
            .succeeded
    };
    use CompareOp::*;
    assert!(holds(Target::Version(2), Equal));
    assert!(holds(Target::Version(1), Greater));
    assert!(holds(Target::Version(3), Less));
    assert!(holds(Target::Version(3), NotEqual));
    assert!(!holds(Target::Version(2), NotEqual));
    assert!(holds(Target::CreateRevision(1), Equal));
    assert!(holds(Target::ModRevision(2), Equal));
    assert!(!holds(Target::ModRevision(2), Greater));
    assert!(holds(Target::Value(b"a".to_vec()), Greater));
    assert!(holds(Target::Value(b"z".to_vec()), Less));
    assert!(holds(Target::Value(b"m".to_vec()), Equal));
    assert!(holds(Target::Lease(Some(lease)), Equal));
    assert!(holds(Target::Lease(None), Greater));
    // A missing key: versions and revisions are 0, values never compare.
    let missing = |target: Target, op: CompareOp| {
        let compare = Compare {
            key: "missing".into(),
            op,
            target,
        };
        run(&f.store, txn(vec![compare], vec![], vec![]))
            .1
            .succeeded
    };
    assert!(missing(Target::Version(0), Equal));
    assert!(missing(Target::CreateRevision(0), Equal));
    assert!(missing(Target::Lease(None), Equal));
    assert!(!missing(Target::Value(Vec::new()), Equal));
    assert!(!missing(Target::Value(Vec::new()), NotEqual));
    // Several compares: all must hold.
    let both = txn(
        vec![
            Compare::mod_revision("k", Equal, 2),
            Compare::value("k", Equal, "nope"),
        ],
        vec![],
        vec![],
    );
    assert!(!run(&f.store, both).1.succeeded);
}

#[test]
fn a_branch_may_not_write_a_key_twice() {
    let f = fresh();
    let twice = txn(vec![], vec![op_put("k", "1"), op_put("k", "2")], vec![]);
    let covered = txn(
        vec![],
        vec![],
        vec![
            op_put("dir/k", "1"),
            Op::Delete {
                keys: Keys::Prefix("dir/".into()),
                prev_kv: false,
            },
        ],
    );
    for command in [twice, covered] {
        match f.store.apply(&command) {
            Err(StoreError::Rejected(Rejection::DuplicateKey { .. })) => {}
            other => panic!("{other:?}"),
        }
    }
    // Two deletes that overlap are fine, and so is a put in one branch and a delete of
    // the same key in the other.
    put(&f.store, "dir/a", "x");
    let ok = txn(
        vec![],
        vec![
            Op::Delete {
                keys: Keys::Prefix("dir/".into()),
                prev_kv: false,
            },
            Op::Delete {
                keys: Keys::One("dir/a".into()),
                prev_kv: false,
            },
        ],
        vec![op_put("dir/a", "y")],
    );
    let (revision, reply) = run(&f.store, ok);
    assert!(reply.succeeded);
    assert_eq!(revision, 2);
    assert_eq!(get(&f.store, "dir/a"), None);
}

#[test]
fn a_txn_with_a_missing_lease_in_the_branch_taken_changes_nothing() {
    let f = fresh();
    let command = txn(
        vec![],
        vec![
            op_put("a", "1"),
            Op::Put {
                key: "b".into(),
                value: "2".into(),
                lease: Some(weft_resources::LeaseId(77)),
                prev_kv: false,
            },
        ],
        vec![],
    );
    match f.store.apply(&command) {
        Err(StoreError::Rejected(Rejection::LeaseNotFound { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(f.store.revision(), 0);
    assert_eq!(get(&f.store, "a"), None);
}

#[test]
fn too_many_ops_are_refused() {
    let f = fresh();
    let ops: Vec<Op> = (0..=TXN_OPS_MAX)
        .map(|i| op_put(&format!("k{i}"), "v"))
        .collect();
    match f.store.apply(&txn(vec![], ops, vec![])) {
        Err(StoreError::Rejected(Rejection::TooManyOps { len, max })) => {
            assert_eq!((len, max), (TXN_OPS_MAX + 1, TXN_OPS_MAX));
        }
        other => panic!("{other:?}"),
    }
}
