//! Revisions, puts and deletes: every command that changes keys moves the revision by
//! one, keys carry their create and mod revisions and version, and replies carry the
//! revision and the previous pairs when asked.

use crate::support::*;
use weft_resources::limits::{KEY_LEN_MAX, VALUE_LEN_MAX};
use weft_resources::{Command, Keys, Outcome, PutReply, Rejection, StoreError};

#[test]
fn a_fresh_store_is_empty_at_revision_zero() {
    let f = fresh();
    assert_eq!(f.store.revision(), 0);
    assert_eq!(f.store.compacted(), 0);
    assert_eq!(get(&f.store, "a"), None);
    let all = f.store.range(b"", None, None).unwrap();
    assert_eq!((all.revision, all.kvs.len(), all.more), (0, 0, false));
}

#[test]
fn each_put_makes_one_revision_and_versions_count_puts() {
    let f = fresh();
    assert_eq!(put(&f.store, "a", "1"), 1);
    assert_eq!(put(&f.store, "b", "1"), 2);
    assert_eq!(put(&f.store, "a", "2"), 3);
    let a = get(&f.store, "a").unwrap();
    assert_eq!((a.create_revision, a.mod_revision, a.version), (1, 3, 2));
    assert_eq!(a.value, b"2");
    let b = get(&f.store, "b").unwrap();
    assert_eq!((b.create_revision, b.mod_revision, b.version), (2, 2, 1));
    // The same value again is still a change (as in etcd).
    assert_eq!(put(&f.store, "b", "1"), 4);
    assert_eq!(get(&f.store, "b").unwrap().version, 2);
}

#[test]
fn a_put_returns_the_previous_pair_only_when_asked() {
    let f = fresh();
    put(&f.store, "k", "old");
    let reply = apply(
        &f.store,
        Command::Put {
            key: "k".into(),
            value: "new".into(),
            lease: None,
            prev_kv: true,
        },
    );
    let Outcome::Put(PutReply {
        prev_kv: Some(prev),
    }) = reply.outcome
    else {
        panic!("{reply:?}");
    };
    assert_eq!((prev.value.as_slice(), prev.mod_revision), (&b"old"[..], 1));
    assert_eq!(reply.revision, 2);
    let reply = apply(&f.store, Command::put("k", "newer"));
    assert_eq!(reply.outcome, Outcome::Put(PutReply { prev_kv: None }));
}

#[test]
fn a_delete_of_a_prefix_is_one_revision_and_a_delete_of_nothing_is_none() {
    let f = fresh();
    for key in ["app/a", "app/b", "app/c", "apple", "b"] {
        put(&f.store, key, "v");
    }
    let reply = apply(
        &f.store,
        Command::Delete {
            keys: Keys::Prefix(b"app/".to_vec()),
            prev_kv: true,
        },
    );
    assert_eq!(reply.revision, 6);
    let Outcome::Delete(deleted) = reply.outcome else {
        panic!("{reply:?}");
    };
    assert_eq!(deleted.deleted, 3);
    assert_eq!(keys(&deleted.prev_kvs), ["app/a", "app/b", "app/c"]);
    assert_eq!(
        keys(&f.store.range(b"", None, None).unwrap().kvs),
        ["apple", "b"]
    );

    let reply = apply(&f.store, Command::delete("missing"));
    assert_eq!(reply.revision, 6, "deleting nothing makes no revision");
    assert_eq!(f.store.revision(), 6);
}

#[test]
fn a_key_deleted_and_put_again_starts_over() {
    let f = fresh();
    put(&f.store, "k", "1");
    put(&f.store, "k", "2");
    delete(&f.store, "k");
    assert_eq!(get(&f.store, "k"), None);
    assert_eq!(put(&f.store, "k", "3"), 4);
    let kv = get(&f.store, "k").unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (4, 4, 1));
}

#[test]
fn range_is_by_prefix_in_key_order_with_a_limit() {
    let f = fresh();
    for key in ["n/3", "n/1", "m", "n/2", "o", "n"] {
        put(&f.store, key, "v");
    }
    let all = f.store.range(b"n", None, None).unwrap();
    assert_eq!(keys(&all.kvs), ["n", "n/1", "n/2", "n/3"]);
    assert!(!all.more);
    let two = f.store.range(b"n/", None, Some(2)).unwrap();
    assert_eq!(keys(&two.kvs), ["n/1", "n/2"]);
    assert!(two.more);
    assert_eq!(two.revision, 6);
    let exact = f.store.range(b"n/", None, Some(3)).unwrap();
    assert!(!exact.more);
    assert_eq!(f.store.range(b"", None, None).unwrap().kvs.len(), 6);
}

#[test]
fn keys_and_values_may_hold_any_bytes() {
    let f = fresh();
    let odd: Vec<Vec<u8>> = vec![
        vec![0],
        vec![0, 0],
        vec![0, 1],
        vec![0, 0xff],
        vec![1],
        vec![0xff],
        vec![0xff, 0],
        b"a\0b".to_vec(),
    ];
    for key in &odd {
        let command = Command::put(key.clone(), key.clone());
        f.store.apply(&command).unwrap();
    }
    for key in &odd {
        let kv = f.store.get(key, None).unwrap().unwrap();
        assert_eq!(&kv.value, key);
        // And at an older revision, through the history's key encoding.
        let at = f.store.get(key, Some(kv.mod_revision)).unwrap().unwrap();
        assert_eq!(&at.value, key);
    }
    let under_zero = f
        .store
        .range(&[0], Some(f.store.revision() - 1), None)
        .unwrap();
    assert_eq!(under_zero.kvs.len(), 4);
    let under_zero_now = f.store.range(&[0], None, None).unwrap();
    assert_eq!(under_zero_now.kvs.len(), 4);
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let f = fresh();
    put(&f.store, "k", "v");
    let long_key = vec![b'k'; KEY_LEN_MAX + 1];
    let long_value = vec![b'v'; VALUE_LEN_MAX + 1];
    let cases = [
        (Command::put("", "v"), Rejection::EmptyKey),
        (
            Command::put(long_key.clone(), "v"),
            Rejection::KeyTooLong {
                len: KEY_LEN_MAX + 1,
                max: KEY_LEN_MAX,
            },
        ),
        (
            Command::put("k", long_value),
            Rejection::ValueTooLong {
                len: VALUE_LEN_MAX + 1,
                max: VALUE_LEN_MAX,
            },
        ),
        (Command::delete(""), Rejection::EmptyKey),
        (
            Command::Put {
                key: "k".into(),
                value: "v".into(),
                lease: Some(weft_resources::LeaseId(9)),
                prev_kv: false,
            },
            Rejection::LeaseNotFound {
                id: weft_resources::LeaseId(9),
            },
        ),
        (
            Command::Compact { revision: 5 },
            Rejection::FutureRevision {
                revision: 5,
                current: 1,
            },
        ),
    ];
    for (command, expected) in cases {
        match f.store.apply(&command) {
            Err(StoreError::Rejected(rejection)) => assert_eq!(rejection, expected),
            other => panic!("{command:?}: {other:?}"),
        }
    }
    assert_eq!(f.store.revision(), 1);
    assert_eq!(value(&f.store, "k").as_deref(), Some("v"));
}

#[test]
fn a_batch_applies_in_order_and_a_refused_command_does_not_stop_it() {
    let f = fresh();
    let replies = f
        .store
        .apply_batch(&[
            Command::put("a", "1"),
            Command::put("", "x"),
            Command::put("a", "2"),
            Command::delete("a"),
        ])
        .unwrap();
    let revisions: Vec<Result<u64, Rejection>> = replies
        .into_iter()
        .map(|r| r.map(|reply| reply.revision))
        .collect();
    assert_eq!(revisions, [Ok(1), Err(Rejection::EmptyKey), Ok(2), Ok(3)]);
    assert_eq!(get(&f.store, "a"), None);
    assert_eq!(f.store.get(b"a", Some(2)).unwrap().unwrap().value, b"2");
}

#[test]
fn commands_and_replies_travel_as_json() {
    let f = fresh();
    let command = Command::Txn {
        compare: vec![weft_resources::Compare::mod_revision(
            "k",
            weft_resources::CompareOp::Equal,
            0,
        )],
        success: vec![weft_resources::Op::Put {
            key: b"k\0\xff".to_vec(),
            value: vec![0, 1, 2],
            lease: None,
            prev_kv: true,
        }],
        failure: vec![],
    };
    let json = serde_json::to_string(&command).unwrap();
    let back: Command = serde_json::from_str(&json).unwrap();
    assert_eq!(back, command);
    let reply = apply(&f.store, back);
    let json = serde_json::to_string(&reply).unwrap();
    let back: weft_resources::Reply = serde_json::from_str(&json).unwrap();
    assert_eq!(back, reply);
    let rejection = Rejection::Compacted { compacted_at: 3 };
    let json = serde_json::to_string(&rejection).unwrap();
    assert_eq!(serde_json::from_str::<Rejection>(&json).unwrap(), rejection);
}
