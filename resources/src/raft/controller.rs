//! A controller: one member of the replicated control plane. It runs the raft storage of
//! its data directory ([`super::open`]), a [`Raft`] on the HTTP [`Network`], and the
//! raft routes ([`super::server`]) on a listener it is given.
//!
//! Any controller takes writes and reads. A write goes through the local raft if this
//! node leads (by way of its [`Proposer`], which puts the writes waiting together in one
//! log entry), else it is forwarded once to the leader (`POST /raft/write`, where it
//! joins the leader's proposer); a read asks
//! the leader for a read index (its own `ensure_linearizable`, or `POST /raft/read-index`
//! on the leader), waits until the local state machine has applied that far, and reads
//! the local store: linearizable either way. Both retry, within [`REQUEST_TIMEOUT`],
//! while no leader is known or the leader cannot be reached; a write is retried only
//! when it was certainly not taken (this node or the one it was sent to said it does not
//! lead, or the connection was never made).
//!
//! Everything runs on the tokio runtime the async methods are called on; a controller
//! must be started and shut down on the same one.

use super::network::{self, Network};
use super::propose::Proposer;
use super::server::{self, Refused, READ_INDEX, WRITE};
use super::{NodeId, TypeConfig};
use crate::command::Command;
use crate::error::{Rejection, StoreError};
use crate::reply::Reply;
use crate::store::Store;
use openraft::error::{InitializeError, RaftError};
use openraft::{BasicNode, Config, LogId, Raft, RaftMetrics};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long a write or a read may take, retries included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a retry waits for the cluster to settle (an election, a restart).
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// How long a membership change may take (a new member's catch-up included).
pub const MEMBERSHIP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for the HTTP server's open requests before it cuts them off.
const SERVER_DRAIN: Duration = Duration::from_secs(2);

/// Why a controller could not start, or could not serve a request.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The listener or the HTTP client failed.
    #[error("io: {0}")]
    Io(String),
    /// The storage failed to open.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Raft failed to start, to initialize, or to shut down.
    #[error("raft: {0}")]
    Raft(String),
    /// No leader took the request in time; the leader last known, if any.
    #[error("no leader took the request in time: {0}")]
    NotLeader(Refused),
    /// The leader could not be reached, or gave no answer, in time.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// One member of the control plane.
pub struct Controller {
    id: NodeId,
    addr: SocketAddr,
    dir: PathBuf,
    raft: Raft<TypeConfig>,
    /// Where writes go: grouped into entries of the local raft.
    proposer: Proposer,
    store: Arc<Store>,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Controller {
    /// The raft configuration for controllers on one host or a LAN: a heartbeat every
    /// 100 ms, elections after 300 to 600 ms of silence, a snapshot every 10 000 entries.
    pub fn config() -> Config {
        Config {
            cluster_name: "weft".into(),
            heartbeat_interval: 100,
            election_timeout_min: 300,
            election_timeout_max: 600,
            max_payload_entries: 64,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(10_000),
            ..Default::default()
        }
    }

    /// Starts the controller `id` on the data in `dir` (created if need be), serving the
    /// raft routes on `listener`, whose address is the node's address in the group.
    pub async fn start(
        id: NodeId,
        dir: impl Into<PathBuf>,
        listener: std::net::TcpListener,
    ) -> Result<Controller, ControllerError> {
        Controller::start_with(id, dir, listener, Controller::config()).await
    }

    /// [`Controller::start`] with another raft configuration.
    pub async fn start_with(
        id: NodeId,
        dir: impl Into<PathBuf>,
        listener: std::net::TcpListener,
        config: Config,
    ) -> Result<Controller, ControllerError> {
        let dir = dir.into();
        let config = Arc::new(
            config
                .validate()
                .map_err(|e| ControllerError::Raft(e.to_string()))?,
        );
        let io = |e: std::io::Error| ControllerError::Io(e.to_string());
        let addr = listener.local_addr().map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(io)?;
        let client = network::client().map_err(|e| ControllerError::Io(e.to_string()))?;

        let opened = dir.clone();
        let (log, machine, store) = tokio::task::spawn_blocking(move || super::open(opened))
            .await
            .map_err(|e| ControllerError::Io(e.to_string()))??;
        let network = Network::with_client(id, client.clone());
        let raft = Raft::new(id, config, network, log, machine)
            .await
            .map_err(|e| ControllerError::Raft(e.to_string()))?;

        let (stop, stopped) = oneshot::channel::<()>();
        let proposer = Proposer::start(raft.clone());
        let app = server::router(proposer.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Controller {
            id,
            addr,
            dir,
            raft,
            proposer,
            store,
            client,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The address the raft routes are served on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// This node as a member of the group: its address.
    pub fn node(&self) -> BasicNode {
        BasicNode::new(self.addr.to_string())
    }

    /// The data directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The local raft.
    pub fn raft(&self) -> &Raft<TypeConfig> {
        &self.raft
    }

    /// The local store, as far as this node has applied the log (not a linearizable read:
    /// see [`Controller::read`]).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Makes a new group of `members` (this node among them). Done once, on one node;
    /// a group that is already initialized refuses it.
    pub async fn initialize(
        &self,
        members: BTreeMap<NodeId, BasicNode>,
    ) -> Result<(), ControllerError> {
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            Err(RaftError::APIError(InitializeError::NotAllowed(e))) => Err(ControllerError::Raft(
                format!("the group is already initialized: {e}"),
            )),
            Err(e) => Err(ControllerError::Raft(e.to_string())),
        }
    }

    /// The leader this node knows of.
    pub fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// The local raft's metrics.
    pub fn metrics(&self) -> RaftMetrics<NodeId, BasicNode> {
        self.raft.metrics().borrow().clone()
    }

    /// Writes `command` through the leader: the store's reply, or the [`Rejection`] the
    /// state gives (the same on every replica). Errors mean the write did not go through
    /// the log in time, or it is unknown whether it did ([`ControllerError::Unavailable`]).
    /// A [`Command::Batch`] is refused ([`Rejection::NestedBatch`]): writes are grouped
    /// into batches here, not by the caller.
    pub async fn write(
        &self,
        command: Command,
    ) -> Result<Result<Reply, Rejection>, ControllerError> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let body = postcard::to_allocvec(&command)
            .map_err(|e| ControllerError::Unavailable(format!("encoding the command: {e}")))?;
        loop {
            let refused = match server::write_local(&self.proposer, command.clone(), deadline).await
            {
                Ok(result) => return Ok(result),
                Err(refused @ Refused::NotLeader { .. }) => refused,
                Err(other) => return Err(ControllerError::Unavailable(other.to_string())),
            };
            let refused = match &refused {
                Refused::NotLeader {
                    leader: Some(leader),
                    addr: Some(addr),
                } if *leader != self.id => {
                    match self
                        .forward::<Result<Reply, Rejection>>(addr, WRITE, body.clone(), deadline)
                        .await
                    {
                        Forwarded::Answer(Ok(result)) => return Ok(result),
                        Forwarded::Answer(Err(again @ Refused::NotLeader { .. })) => again,
                        Forwarded::Answer(Err(e)) => {
                            return Err(ControllerError::Unavailable(e.to_string()))
                        }
                        Forwarded::NotSent(e) => Refused::NotLeader {
                            leader: Some(*leader),
                            addr: Some(format!("{addr} (unreachable: {e})")),
                        },
                        Forwarded::Unknown(e) => return Err(ControllerError::Unavailable(e)),
                    }
                }
                _ => refused,
            };
            pause(deadline, refused).await?;
        }
    }

    /// Runs `read` on the local store once it holds everything committed before this
    /// call (a linearizable read: the leader confirms it leads, and this node waits until
    /// it has applied the leader's commit point).
    pub async fn read<T>(&self, read: impl FnOnce(&Store) -> T) -> Result<T, ControllerError> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let index = self.read_index(deadline).await?;
        if let Some(index) = index {
            let left = deadline.saturating_duration_since(Instant::now());
            self.raft
                .wait(Some(left))
                .applied_index_at_least(Some(index.index), "the read index")
                .await
                .map_err(|e| {
                    ControllerError::Unavailable(format!("applying to the read index: {e}"))
                })?;
        }
        Ok(read(&self.store))
    }

    /// The leader's read index: from the local raft if it leads, else asked of the leader.
    async fn read_index(
        &self,
        deadline: Instant,
    ) -> Result<Option<LogId<NodeId>>, ControllerError> {
        loop {
            let refused = match server::read_index_local(&self.raft, deadline).await {
                Ok(index) => return Ok(index),
                Err(refused @ (Refused::NotLeader { .. } | Refused::NoQuorum(_))) => refused,
                Err(other) => return Err(ControllerError::Unavailable(other.to_string())),
            };
            let refused = match &refused {
                Refused::NotLeader {
                    leader: Some(leader),
                    addr: Some(addr),
                } if *leader != self.id => {
                    match self
                        .forward::<Option<LogId<NodeId>>>(addr, READ_INDEX, Vec::new(), deadline)
                        .await
                    {
                        Forwarded::Answer(Ok(index)) => return Ok(index),
                        Forwarded::Answer(Err(
                            again @ (Refused::NotLeader { .. } | Refused::NoQuorum(_)),
                        )) => again,
                        Forwarded::Answer(Err(other)) => {
                            return Err(ControllerError::Unavailable(other.to_string()))
                        }
                        Forwarded::NotSent(e) | Forwarded::Unknown(e) => Refused::NotLeader {
                            leader: Some(*leader),
                            addr: Some(format!("{addr} (unreachable: {e})")),
                        },
                    }
                }
                _ => refused,
            };
            pause(deadline, refused).await?;
        }
    }

    /// POSTs `body` to `path` on the controller at `addr`, within `deadline`.
    async fn forward<T: DeserializeOwned>(
        &self,
        addr: &str,
        path: &str,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Forwarded<T> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Forwarded::NotSent("out of time".into());
        }
        let sent = self
            .client
            .post(format!("http://{addr}{path}"))
            .header(reqwest::header::CONTENT_TYPE, network::CONTENT_TYPE)
            .timeout(left)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Forwarded::NotSent(e.to_string()),
            Err(e) => return Forwarded::Unknown(e.to_string()),
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return Forwarded::Unknown(e.to_string()),
        };
        if !status.is_success() {
            let reason = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned();
            return Forwarded::Unknown(format!("{addr}{path}: {status}: {reason}"));
        }
        match postcard::from_bytes(&bytes) {
            Ok(answer) => Forwarded::Answer(answer),
            Err(e) => Forwarded::Unknown(format!("{addr}{path}: the answer does not decode: {e}")),
        }
    }

    /// The group's membership as this node last applied it: the voters and the
    /// learners, each with its raft address.
    pub fn membership(&self) -> Membership {
        let metrics = self.metrics();
        let config = metrics.membership_config.membership();
        let addr = |id: NodeId| config.get_node(&id).map(|n| n.addr.clone());
        Membership {
            voters: config.voter_ids().map(|id| (id, addr(id))).collect(),
            learners: config.learner_ids().map(|id| (id, addr(id))).collect(),
        }
    }

    /// Adds `id` at `addr` as a voter, on the leader only: first as a learner, waiting
    /// until it has caught up with the log, then a membership change to the voters with
    /// it (openraft commits the joint configuration, then the new one).
    pub async fn add_voter(&self, id: NodeId, addr: String) -> Result<(), ControllerError> {
        self.leads()?;
        bounded(
            "catching the new member up",
            self.raft.add_learner(id, BasicNode::new(addr), true),
        )
        .await?;
        let ids = std::collections::BTreeSet::from([id]);
        bounded(
            "the membership change",
            self.raft
                .change_membership(openraft::ChangeMembers::AddVoterIds(ids), false),
        )
        .await
    }

    /// Removes the voter `id` from the group (joint consensus, as [`Self::add_voter`]),
    /// on the leader only. The last voter cannot be removed.
    pub async fn remove_voter(&self, id: NodeId) -> Result<(), ControllerError> {
        self.leads()?;
        let voters = self.membership().voters;
        if !voters.contains_key(&id) {
            return Err(ControllerError::Raft(format!("{id} is not a voter")));
        }
        if voters.len() == 1 {
            return Err(ControllerError::Raft(
                "the last controller cannot be removed".into(),
            ));
        }
        let ids = std::collections::BTreeSet::from([id]);
        bounded(
            "the membership change",
            self.raft
                .change_membership(openraft::ChangeMembers::RemoveVoters(ids), false),
        )
        .await
    }

    /// `Ok` when this node leads; else the leader it knows of, as a refusal.
    fn leads(&self) -> Result<(), ControllerError> {
        let metrics = self.metrics();
        if metrics.state.is_leader() {
            return Ok(());
        }
        let leader = metrics.current_leader;
        let addr = leader.and_then(|l| {
            metrics
                .membership_config
                .membership()
                .get_node(&l)
                .map(|n| n.addr.clone())
        });
        Err(ControllerError::NotLeader(Refused::NotLeader {
            leader,
            addr,
        }))
    }

    /// Stops raft, then the HTTP server (waiting a little for open requests), and closes
    /// the storage: the data directory can be opened again once this returns.
    pub async fn shutdown(mut self) -> Result<(), ControllerError> {
        let stopped = self
            .raft
            .shutdown()
            .await
            .map_err(|e| ControllerError::Raft(format!("shutting down: {e}")));
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(SERVER_DRAIN, &mut server)
                .await
                .is_err()
            {
                server.abort();
                let _ = server.await;
            }
        }
        stopped
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// The group's members, by id, with their raft addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Membership {
    /// The voters.
    pub voters: BTreeMap<NodeId, Option<String>>,
    /// The learners (members that receive the log but do not vote).
    pub learners: BTreeMap<NodeId, Option<String>>,
}

/// What came of a forwarded request.
enum Forwarded<T> {
    /// The other node's answer.
    Answer(Result<T, Refused>),
    /// The request never reached it (no connection).
    NotSent(String),
    /// It may or may not have been handled (a timeout, a broken answer).
    Unknown(String),
}

/// Runs one membership step for at most [`MEMBERSHIP_TIMEOUT`].
async fn bounded<T, E: std::fmt::Display>(
    what: &str,
    step: impl std::future::Future<Output = Result<T, E>>,
) -> Result<(), ControllerError> {
    match tokio::time::timeout(MEMBERSHIP_TIMEOUT, step).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(ControllerError::Raft(e.to_string())),
        Err(_) => Err(ControllerError::Unavailable(format!(
            "{what} took too long"
        ))),
    }
}

/// Waits a little before a retry, or gives up with `refused` if that would pass the
/// deadline.
async fn pause(deadline: Instant, refused: Refused) -> Result<(), ControllerError> {
    if Instant::now() + RETRY_PAUSE >= deadline {
        return Err(match refused {
            Refused::NotLeader { leader: None, .. } => ControllerError::Unavailable(format!(
                "no quorum: no leader was elected within {REQUEST_TIMEOUT:?} (a majority of \
                 the controllers must be up and reach each other); the request was not applied"
            )),
            refused => ControllerError::NotLeader(refused),
        });
    }
    tokio::time::sleep(RETRY_PAUSE).await;
    Ok(())
}
