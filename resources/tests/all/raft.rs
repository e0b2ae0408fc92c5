//! The raft storage: openraft's own storage test suite against the sled log and the
//! cubestore state machine, what survives a reopen, and a one-member `Raft` that writes
//! commands through the log into the store, snapshots, and starts again from its data.

use crate::support::{value, TempDir, WAIT};
use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::testing::{log_id, StoreBuilder, Suite};
use openraft::{BasicNode, Config, Raft, RaftLogReader, RaftNetwork, RaftNetworkFactory, Vote};
use std::collections::BTreeMap;
use std::sync::Arc;
use weft_resources::raft::{self, LogStore, Response, StateMachine, StorageError, TypeConfig};
use weft_resources::{Command, LeaseId, Outcome};

/// Fresh storage in a temporary directory, which goes when the guard is dropped.
struct Fresh;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for Fresh {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError> {
        let dir = TempDir::new();
        let (log, machine, _store) = raft::open(&dir.0).unwrap_or_else(|e| panic!("open: {e}"));
        Ok((dir, log, machine))
    }
}

#[test]
fn openraft_storage_suite() {
    if let Err(e) = Suite::test_all(Fresh) {
        panic!("openraft's storage suite: {e}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The vote, the log, the applied record and the current snapshot are all where they
/// were after the storage is closed and opened again.
#[test]
fn storage_survives_a_reopen() {
    let dir = TempDir::new();
    runtime().block_on(async {
        let want_snapshot = {
            let (mut log, mut machine, store) = raft::open(&dir.0).expect("open");
            log.save_vote(&Vote::new(3, 1)).await.expect("vote");
            let entries: Vec<_> = (1..=3)
                .map(|i| openraft::Entry {
                    log_id: log_id(3, 1, i),
                    payload: openraft::EntryPayload::Normal(Command::put(
                        format!("k{i}"),
                        format!("v{i}"),
                    )),
                })
                .collect();
            let mut reader = log.get_log_reader().await;
            append(&mut log, entries.clone()).await;
            assert_eq!(reader.try_get_log_entries(1..4).await.expect("read"), entries);
            log.save_committed(Some(log_id(3, 1, 3)))
                .await
                .expect("committed");
            let replies = machine.apply(entries).await.expect("apply");
            assert_eq!(replies.len(), 3);
            for reply in replies {
                assert!(
                    matches!(&reply, Response::Command(Ok(r)) if matches!(r.outcome, Outcome::Put(_))),
                    "{reply:?}"
                );
            }
            log.purge(log_id(3, 1, 1)).await.expect("purge");
            let mut builder = machine.get_snapshot_builder().await;
            let snapshot = openraft::RaftSnapshotBuilder::build_snapshot(&mut builder)
                .await
                .expect("snapshot");
            assert_eq!(snapshot.meta.last_log_id, Some(log_id(3, 1, 3)));
            assert_eq!(value(&store, "k3").as_deref(), Some("v3"));
            snapshot.meta
        };

        let (mut log, mut machine, store) = raft::open(&dir.0).expect("reopen");
        assert_eq!(log.read_vote().await.expect("vote"), Some(Vote::new(3, 1)));
        assert_eq!(
            log.read_committed().await.expect("committed"),
            Some(log_id(3, 1, 3))
        );
        let state = log.get_log_state().await.expect("log state");
        assert_eq!(state.last_purged_log_id, Some(log_id(3, 1, 1)));
        assert_eq!(state.last_log_id, Some(log_id(3, 1, 3)));
        let kept = log.try_get_log_entries(..).await.expect("entries");
        assert_eq!(
            kept.iter().map(|e| e.log_id.index).collect::<Vec<_>>(),
            [2, 3]
        );
        let (applied, _) = machine.applied_state().await.expect("applied");
        assert_eq!(applied, Some(log_id(3, 1, 3)));
        let current = machine
            .get_current_snapshot()
            .await
            .expect("current snapshot")
            .expect("a current snapshot");
        assert_eq!(current.meta, want_snapshot);
        assert_eq!(value(&store, "k1").as_deref(), Some("v1"));
    });
}

/// A snapshot whose meta does not match what it holds is refused, and the state
/// machine keeps its state.
#[test]
fn a_snapshot_that_contradicts_its_meta_is_refused() {
    let (one, two) = (TempDir::new(), TempDir::new());
    runtime().block_on(async {
        let (_log, mut source, _store) = raft::open(&one.0).expect("open");
        let entry = openraft::Entry {
            log_id: log_id(1, 1, 1),
            payload: openraft::EntryPayload::Normal(Command::put("a", "1")),
        };
        source.apply([entry]).await.expect("apply");
        let mut builder = source.get_snapshot_builder().await;
        let snapshot = openraft::RaftSnapshotBuilder::build_snapshot(&mut builder)
            .await
            .expect("snapshot");

        let (_log, mut target, store) = raft::open(&two.0).expect("open");
        let mut meta = snapshot.meta.clone();
        meta.last_log_id = Some(log_id(1, 1, 9));
        let refused = target
            .install_snapshot(&meta, snapshot.snapshot.clone())
            .await;
        assert!(refused.is_err());
        let garbage = Box::new(std::io::Cursor::new(b"not a snapshot".to_vec()));
        assert!(target
            .install_snapshot(&snapshot.meta, garbage)
            .await
            .is_err());
        assert_eq!(target.applied_state().await.expect("applied").0, None);
        assert_eq!(value(&store, "a"), None);

        target
            .install_snapshot(&snapshot.meta, snapshot.snapshot)
            .await
            .expect("install");
        assert_eq!(value(&store, "a").as_deref(), Some("1"));
        assert_eq!(
            target.applied_state().await.expect("applied").0,
            Some(log_id(1, 1, 1))
        );
    });
}

/// A one-member group: it elects itself, writes commands through the log into the
/// store, snapshots and purges its log, and after a restart from the same directory is
/// leader again with everything in place.
#[test]
fn one_member_raft_writes_into_the_store() {
    let dir = TempDir::new();
    runtime().block_on(async {
        let config = Arc::new(
            Config {
                heartbeat_interval: 50,
                election_timeout_min: 150,
                election_timeout_max: 300,
                ..Default::default()
            }
            .validate()
            .expect("config"),
        );
        let node = BasicNode::new("127.0.0.1:0");

        let last = {
            let (log, machine, store) = raft::open(&dir.0).expect("open");
            let raft = Raft::new(1, config.clone(), NoNetwork, log, machine)
                .await
                .expect("raft");
            raft.initialize(BTreeMap::from([(1, node.clone())]))
                .await
                .expect("initialize");
            raft.wait(Some(WAIT))
                .current_leader(1, "leader")
                .await
                .expect("leader");
            for i in 1..=3u64 {
                let written = raft
                    .client_write(Command::put(format!("k{i}"), format!("v{i}")))
                    .await
                    .expect("write");
                match written.data {
                    Response::Command(Ok(reply)) => assert_eq!(reply.revision, i),
                    other => panic!("write {i}: {other:?}"),
                }
            }
            let refused = raft
                .client_write(Command::LeaseRevoke { id: LeaseId(42) })
                .await
                .expect("write");
            assert!(
                matches!(refused.data, Response::Command(Err(_))),
                "{:?}",
                refused.data
            );
            assert_eq!(value(&store, "k2").as_deref(), Some("v2"));

            raft.trigger().snapshot().await.expect("trigger");
            let last = refused.log_id;
            raft.wait(Some(WAIT))
                .snapshot(last, "snapshot")
                .await
                .expect("snapshot");
            raft.trigger().purge_log(last.index).await.expect("purge");
            raft.wait(Some(WAIT))
                .purged(Some(last), "purged")
                .await
                .expect("purged");
            raft.shutdown().await.expect("shutdown");
            last
        };

        let (log, machine, store) = raft::open(&dir.0).expect("reopen");
        let raft = Raft::new(1, config, NoNetwork, log, machine)
            .await
            .expect("raft");
        raft.wait(Some(WAIT))
            .current_leader(1, "leader again")
            .await
            .expect("leader again");
        let metrics = raft.metrics().borrow().clone();
        assert_eq!(metrics.snapshot, Some(last));
        assert!(metrics.last_applied >= Some(last));
        let written = raft
            .client_write(Command::put("k4", "v4"))
            .await
            .expect("write after restart");
        assert!(
            matches!(written.data, Response::Command(Ok(ref r)) if r.revision == 4),
            "{:?}",
            written.data
        );
        for i in 1..=4 {
            assert_eq!(
                value(&store, &format!("k{i}")),
                Some(format!("v{i}")),
                "k{i}"
            );
        }
        raft.shutdown().await.expect("shutdown");
    });
}

/// Appends and waits for the flush callback.
async fn append(log: &mut LogStore, entries: Vec<openraft::Entry<TypeConfig>>) {
    log.blocking_append(entries).await.expect("append");
}

/// The network of a group of one: every RPC fails, as none is ever needed.
struct NoNetwork;

fn unreachable<E: std::error::Error>() -> RPCError<u64, BasicNode, E> {
    RPCError::Unreachable(Unreachable::new(&std::io::Error::other(
        "a one-member group has no network",
    )))
}

impl RaftNetworkFactory<TypeConfig> for NoNetwork {
    type Network = NoNetwork;

    async fn new_client(&mut self, _target: u64, _node: &BasicNode) -> NoNetwork {
        NoNetwork
    }
}

impl RaftNetwork<TypeConfig> for NoNetwork {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        Err(unreachable())
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, BasicNode, RaftError<u64, InstallSnapshotError>>,
    > {
        Err(unreachable())
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<u64>,
        _option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, BasicNode, RaftError<u64>>> {
        Err(unreachable())
    }
}
