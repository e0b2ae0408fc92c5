//! Writes grouped into one raft entry: a `Command::Batch` entry applies exactly as its
//! commands would as entries of their own (replies, revisions, compare-and-swap, watch
//! events, the state left), a batch of the wrong shape is refused whole, and concurrent
//! writes through controllers (a member alone, and a group of three through a follower
//! and the leader) all succeed with distinct revisions, share entries, and survive a
//! snapshot and a restart.

use crate::cluster::{agreed_leader, group, loopback, runtime, shutdown_all};
use crate::support::{drain, value, TempDir};
use openraft::storage::RaftStateMachine;
use openraft::testing::log_id;
use openraft::{Entry, EntryPayload};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use weft_resources::limits::BATCH_LEN_MAX;
use weft_resources::raft::{self, Controller, NodeId, Response};
use weft_resources::{
    Command, Compare, CompareOp, Event, KeyValue, LeaseId, Op, Outcome, Rejection, Reply, Store,
    StoreError,
};

/// How long a lone controller may take to become leader.
const LEADER: Duration = Duration::from_secs(10);

fn entry(index: u64, command: Command) -> Entry<raft::TypeConfig> {
    Entry {
        log_id: log_id(1, 1, index),
        payload: EntryPayload::Normal(command),
    }
}

fn put_on(key: &str, value: &str, lease: Option<LeaseId>) -> Command {
    Command::Put {
        key: key.into(),
        value: value.into(),
        lease,
        prev_kv: true,
    }
}

/// Compare-and-swap: `key` becomes `new` if its mod revision is `at`.
fn cas(key: &str, at: u64, new: &str) -> Command {
    Command::Txn {
        compare: vec![Compare::mod_revision(key, CompareOp::Equal, at)],
        success: vec![Op::Put {
            key: key.into(),
            value: new.into(),
            lease: None,
            prev_kv: true,
        }],
        failure: vec![Op::Get {
            keys: weft_resources::Keys::One(key.into()),
            limit: None,
        }],
    }
}

/// Commands of every kind, with refusals and compare-and-swaps that race.
fn mixed_commands() -> Vec<Command> {
    let lease = LeaseId(7);
    vec![
        Command::LeaseGrant {
            id: Some(lease),
            ttl_ms: 1_000,
        },
        put_on("a", "1", Some(lease)),
        put_on("b", "1", None),
        // Two compare-and-swaps on `b` at its revision (2; a grant makes none): the
        // first wins.
        cas("b", 2, "first"),
        cas("b", 2, "second"),
        put_on("c", "1", Some(LeaseId(99))),
        Command::delete("missing"),
        Command::Delete {
            keys: weft_resources::Keys::Prefix(b"b".to_vec()),
            prev_kv: true,
        },
        Command::put("", "empty key"),
        Command::LeaseKeepAlive { id: lease },
        Command::LeaseExpire { now_ms: 10 },
        put_on("a", "2", None),
        Command::LeaseRevoke { id: lease },
        // Not past the watchers' start (revision 1), which would end them as lagged.
        Command::Compact { revision: 1 },
        Command::Compact { revision: 1 },
        put_on("d", "1", None),
    ]
}

/// What a store holds: revision, compaction point, every live pair, and the leases.
fn state(store: &Store) -> (u64, u64, Vec<KeyValue>, Vec<LeaseId>) {
    let range = store.range(b"", None, None).expect("range");
    (
        store.revision(),
        store.compacted(),
        range.kvs,
        store.lease_ids(),
    )
}

#[test]
fn a_batch_entry_applies_as_its_commands_would_as_entries() {
    let (one, two) = (TempDir::new(), TempDir::new());
    runtime().block_on(async {
        let commands = mixed_commands();

        let (_log, mut apart, apart_store) = raft::open(&one.0).expect("open");
        let apart_watch = apart_store.watch(b"", 1).expect("watch");
        // Apart: each command an entry, each entry an `apply` (a store batch) of its own.
        let mut want: Vec<Result<Reply, Rejection>> = Vec::new();
        for (i, command) in (1..).zip(commands.clone()) {
            let mut responses = apart.apply([entry(i, command)]).await.expect("apply");
            match (responses.pop(), responses.is_empty()) {
                (Some(Response::Command(result)), true) => want.push(result),
                other => panic!("{other:?}"),
            }
        }

        let (_log, mut batched, batched_store) = raft::open(&two.0).expect("open");
        let batched_watch = batched_store.watch(b"", 1).expect("watch");
        let responses = batched
            .apply([entry(1, Command::Batch(commands))])
            .await
            .expect("apply batched");
        let got = match responses.as_slice() {
            [Response::Batch(got)] => got.clone(),
            other => panic!("{other:?}"),
        };

        assert_eq!(got, want);
        // The race on `b`: exactly one compare-and-swap won, the first.
        let won = |r: &Result<Reply, Rejection>| match r {
            Ok(Reply {
                outcome: Outcome::Txn(txn),
                ..
            }) => txn.succeeded,
            other => panic!("{other:?}"),
        };
        assert!(won(&got[3]));
        assert!(!won(&got[4]));
        let revisions: Vec<u64> = got.iter().flatten().map(|r| r.revision).collect();
        assert!(revisions.windows(2).all(|w| w[0] <= w[1]), "{revisions:?}");
        assert!(
            got.iter().any(Result::is_err),
            "the refusals are in their places"
        );
        assert_eq!(state(&batched_store), state(&apart_store));
        let events: Vec<Event> = drain(&batched_watch);
        assert!(!events.is_empty());
        assert_eq!(events, drain(&apart_watch));
    });
}

#[test]
fn a_batch_of_the_wrong_shape_is_refused_whole() {
    let dir = TempDir::new();
    runtime().block_on(async {
        let (_log, mut machine, store) = raft::open(&dir.0).expect("open");
        let too_long = vec![Command::put("k", "v"); BATCH_LEN_MAX + 1];
        let nested = vec![
            Command::put("k", "v"),
            Command::Batch(vec![Command::put("j", "v")]),
        ];
        let responses = machine
            .apply([
                entry(1, Command::Batch(Vec::new())),
                entry(2, Command::Batch(nested)),
                entry(3, Command::Batch(too_long)),
                entry(4, Command::Batch(vec![Command::put("after", "v")])),
            ])
            .await
            .expect("apply");
        assert_eq!(
            responses[..3],
            [
                Response::Command(Err(Rejection::EmptyBatch)),
                Response::Command(Err(Rejection::NestedBatch)),
                Response::Command(Err(Rejection::BatchTooLong {
                    len: BATCH_LEN_MAX + 1,
                    max: BATCH_LEN_MAX
                })),
            ]
        );
        assert!(
            matches!(&responses[3], Response::Batch(r) if r.len() == 1 && r[0].is_ok()),
            "{:?}",
            responses[3]
        );
        assert_eq!(store.revision(), 1);
        assert_eq!(value(&store, "k"), None);
        match store.apply(&Command::Batch(vec![Command::put("k", "v")])) {
            Err(StoreError::Rejected(Rejection::NestedBatch)) => {}
            other => panic!("{other:?}"),
        }
    });
}

/// A one-member group in `dir`, leading.
async fn alone(dir: &TempDir) -> Controller {
    let controller = Controller::start(1, &dir.0, loopback())
        .await
        .expect("start");
    let members = BTreeMap::from([(1, controller.node())]);
    if let Err(e) = controller.initialize(members).await {
        // Started again on its data: already a group.
        assert!(e.to_string().contains("already initialized"), "{e}");
    }
    agreed_leader(&[&controller], LEADER).await;
    controller
}

/// Writes `count` puts `{prefix}{i}` = `v{i}` from as many tasks at once; returns each
/// write's revision by `i`.
async fn concurrent_puts(controller: &Arc<Controller>, prefix: &str, count: usize) -> Vec<u64> {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let controller = controller.clone();
            let command = Command::put(format!("{prefix}{i}"), format!("v{i}"));
            tokio::spawn(async move { controller.write(command).await })
        })
        .collect();
    let mut revisions = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.expect("task") {
            Ok(Ok(reply)) => revisions.push(reply.revision),
            other => panic!("put {prefix}{i}: {other:?}"),
        }
    }
    revisions
}

/// Every revision of `revisions` distinct, together exactly `from + 1..=from + len`.
fn assert_distinct_and_dense(revisions: &[u64], from: u64) {
    let set: BTreeSet<u64> = revisions.iter().copied().collect();
    assert_eq!(
        set.len(),
        revisions.len(),
        "revisions repeat: {revisions:?}"
    );
    let want: BTreeSet<u64> = (from + 1..=from + revisions.len() as u64).collect();
    assert_eq!(set, want);
}

#[test]
fn concurrent_writes_share_entries_keep_their_revisions_and_race_fairly() {
    let dir = TempDir::new();
    runtime().block_on(async {
        let controller = Arc::new(alone(&dir).await);
        let store = controller.store().clone();
        let watcher = store.watch(b"", store.revision() + 1).expect("watch");
        let entries_before = controller.metrics().last_log_index.unwrap_or(0);

        let count = 300;
        let revisions = concurrent_puts(&controller, "k", count).await;
        assert_distinct_and_dense(&revisions, 0);
        let entries = controller.metrics().last_log_index.unwrap_or(0) - entries_before;
        assert!(
            entries < count as u64,
            "{count} concurrent writes took {entries} entries"
        );
        // Each write's watch event is its own put, at its own revision, in order.
        let events = drain(&watcher);
        assert_eq!(events.len(), count);
        for (i, revision) in revisions.iter().enumerate() {
            let event = &events[(*revision - 1) as usize];
            assert_eq!(event.revision(), *revision);
            assert_eq!(event.kv.key, format!("k{i}").into_bytes());
            assert_eq!(event.kv.value, format!("v{i}").into_bytes());
        }

        // Compare-and-swaps on one key at one revision, all at once: exactly one wins.
        let at = concurrent_puts(&controller, "cas", 1).await[0];
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let controller = controller.clone();
                tokio::spawn(
                    async move { controller.write(cas("cas0", at, &format!("w{i}"))).await },
                )
            })
            .collect();
        let mut winners = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            match task.await.expect("task") {
                Ok(Ok(Reply {
                    outcome: Outcome::Txn(txn),
                    ..
                })) => {
                    if txn.succeeded {
                        winners.push(i);
                    }
                }
                other => panic!("cas {i}: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "winners: {winners:?}");
        assert_eq!(
            value(&store, "cas0"),
            Some(format!("w{}", winners[0])),
            "the winner's value"
        );

        // A batch from a client is refused, not nested.
        let batch = Command::Batch(vec![Command::put("x", "y")]);
        match controller.write(batch).await {
            Ok(Err(Rejection::NestedBatch)) => {}
            other => panic!("{other:?}"),
        }
        let controller = Arc::into_inner(controller).expect("the only handle");
        controller.shutdown().await.expect("shutdown");
    });
}

#[test]
fn batched_writes_survive_a_snapshot_and_a_restart() {
    let dir = TempDir::new();
    runtime().block_on(async {
        let before = {
            let controller = Arc::new(alone(&dir).await);
            concurrent_puts(&controller, "a", 200).await;
            let raft = controller.raft().clone();
            raft.trigger().snapshot().await.expect("trigger");
            let last = controller.metrics().last_applied;
            raft.wait(Some(Duration::from_secs(10)))
                .snapshot(last.expect("applied"), "snapshot")
                .await
                .expect("snapshot");
            raft.trigger()
                .purge_log(last.expect("applied").index)
                .await
                .expect("purge");
            let revisions = concurrent_puts(&controller, "b", 200).await;
            assert_distinct_and_dense(&revisions, 200);
            let store = controller.store().clone();
            let before = state(&store);
            let controller = Arc::into_inner(controller).expect("the only handle");
            controller.shutdown().await.expect("shutdown");
            before
        };
        assert_eq!(before.0, 400);

        let controller = Arc::new(alone(&dir).await);
        let store = controller.store().clone();
        // The restarted member applies its log again before it reads as before.
        controller.read(|_| ()).await.expect("read");
        assert_eq!(state(&store), before);
        for i in 0..200 {
            assert_eq!(value(&store, &format!("a{i}")), Some(format!("v{i}")));
            assert_eq!(value(&store, &format!("b{i}")), Some(format!("v{i}")));
        }
        let revisions = concurrent_puts(&controller, "c", 50).await;
        assert_distinct_and_dense(&revisions, 400);
        let controller = Arc::into_inner(controller).expect("the only handle");
        controller.shutdown().await.expect("shutdown");
    });
}

#[test]
fn concurrent_writes_through_a_follower_and_the_leader_all_go_through() {
    let dirs: Vec<TempDir> = (0..3).map(|_| TempDir::new()).collect();
    runtime().block_on(async {
        let controllers: Vec<Arc<Controller>> =
            group(&dirs).await.into_iter().map(Arc::new).collect();
        let all: Vec<&Controller> = controllers.iter().map(|c| c.as_ref()).collect();
        let leader: NodeId = agreed_leader(&all, LEADER).await;
        let (lead, follow) = {
            let lead = controllers.iter().find(|c| c.id() == leader);
            let follow = controllers.iter().find(|c| c.id() != leader);
            (
                lead.expect("leader").clone(),
                follow.expect("follower").clone(),
            )
        };
        let (through_leader, through_follower) = tokio::join!(
            concurrent_puts(&lead, "l", 100),
            concurrent_puts(&follow, "f", 100)
        );
        let mut revisions = through_leader;
        revisions.extend(through_follower);
        assert_distinct_and_dense(&revisions, 0);
        let want = lead.read(state).await.expect("read");
        for controller in &controllers {
            assert_eq!(controller.read(state).await.expect("read"), want);
        }
        drop((lead, follow));
        let controllers: Vec<Controller> = controllers
            .into_iter()
            .map(|c| Arc::into_inner(c).expect("the only handle"))
            .collect();
        shutdown_all(controllers).await;
    });
}
