//! The raft network between controllers: every RPC is one HTTP `POST` of a postcard body
//! to the peer's address ([`BasicNode::addr`], `host:port`), answered by [`super::server`].
//!
//! A request body is the postcard encoding of openraft's request; a `200` answer is the
//! postcard encoding of `Result<response, RaftError>`, the peer's `Raft` method's result
//! as it stands, which comes back here as the response or a [`RemoteError`]. Anything
//! else is the network's failure: a peer that cannot be connected to, or whose raft has
//! stopped (a `503`), is [`Unreachable`] (openraft backs off before it tries again), an RPC that outlives its time is a
//! [`Timeout`], a body the peer refused as too large is [`PayloadTooLarge`] (openraft
//! sends fewer entries), and any other failure (a bad status, a body that does not
//! decode) is a [`NetworkError`].
//!
//! Every request has a connect timeout ([`CONNECT_TIMEOUT`]) and a request timeout: the
//! one openraft gives the RPC ([`RPCOption::hard_ttl`]), never more than
//! [`REQUEST_TIMEOUT`]. The clients share one connection pool.

use super::{NodeId, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError, Timeout,
    Unreachable,
};
use openraft::network::{Backoff, RPCOption, RPCTypes};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, RaftNetwork, RaftNetworkFactory};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// How long a connection to a peer may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// The longest any one RPC may take, whatever openraft allows it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long openraft waits before it tries an unreachable peer again.
pub const BACKOFF: Duration = Duration::from_millis(200);

/// The body's content type on every raft route.
pub const CONTENT_TYPE: &str = "application/postcard";

/// Route of [`RaftNetwork::append_entries`].
pub const APPEND: &str = "/raft/append";
/// Route of [`RaftNetwork::vote`].
pub const VOTE: &str = "/raft/vote";
/// Route of [`RaftNetwork::install_snapshot`] (one chunk per request).
pub const SNAPSHOT: &str = "/raft/snapshot";

/// The HTTP client for the peers of the node `id`: makes one [`Peer`] per target.
#[derive(Clone, Debug)]
pub struct Network {
    id: NodeId,
    client: reqwest::Client,
}

impl Network {
    /// The network of the node `id`, on a client of its own.
    pub fn new(id: NodeId) -> Result<Network, reqwest::Error> {
        Ok(Network::with_client(id, client()?))
    }

    /// The network of the node `id`, on `client` (which should have a connect timeout).
    pub fn with_client(id: NodeId, client: reqwest::Client) -> Network {
        Network { id, client }
    }
}

/// A client fit for the peers: a connect timeout, a request timeout, no proxy (the peers
/// are addressed directly).
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .no_proxy()
        .build()
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Peer {
        Peer {
            id: self.id,
            target,
            node: node.clone(),
            base: format!("http://{}", node.addr),
            client: self.client.clone(),
        }
    }
}

/// The connection to one peer.
#[derive(Clone, Debug)]
pub struct Peer {
    id: NodeId,
    target: NodeId,
    node: BasicNode,
    base: String,
    client: reqwest::Client,
}

/// Why an RPC did not bring back the peer's answer.
enum Failure {
    Unreachable(reqwest::Error),
    Stopped(String),
    Timeout(Duration),
    TooLarge,
    Network(String),
}

impl Peer {
    /// POSTs `request` to `path` and decodes the peer's `Result`.
    async fn call<Req, Resp, E>(
        &self,
        path: &str,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Result<Resp, E>, Failure>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: DeserializeOwned,
    {
        let body = postcard::to_allocvec(request)
            .map_err(|e| Failure::Network(format!("encoding the request: {e}")))?;
        let timeout = option.hard_ttl().min(REQUEST_TIMEOUT);
        let sent = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .timeout(timeout)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) if e.is_timeout() => return Err(Failure::Timeout(timeout)),
            Err(e) if e.is_connect() => return Err(Failure::Unreachable(e)),
            Err(e) => return Err(Failure::Network(e.to_string())),
        };
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) if e.is_timeout() => return Err(Failure::Timeout(timeout)),
            Err(e) => return Err(Failure::Network(e.to_string())),
        };
        if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
            return Err(Failure::TooLarge);
        }
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            let reason = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned();
            return Err(Failure::Stopped(format!("{path}: {status}: {reason}")));
        }
        if !status.is_success() {
            let reason = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned();
            return Err(Failure::Network(format!("{path}: {status}: {reason}")));
        }
        postcard::from_bytes(&bytes)
            .map_err(|e| Failure::Network(format!("{path}: the answer does not decode: {e}")))
    }

    /// Turns a call's outcome into openraft's result (openraft's error type, large as it is).
    #[allow(clippy::result_large_err)]
    fn answer<Resp, E: std::error::Error>(
        &self,
        action: RPCTypes,
        outcome: Result<Result<Resp, E>, Failure>,
        entries: u64,
    ) -> Result<Resp, RPCError<NodeId, BasicNode, E>> {
        match outcome {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(RPCError::RemoteError(RemoteError::new_with_node(
                self.target,
                self.node.clone(),
                e,
            ))),
            Err(Failure::Unreachable(e)) => Err(RPCError::Unreachable(Unreachable::new(&e))),
            Err(Failure::Stopped(reason)) => Err(RPCError::Unreachable(Unreachable::new(
                &std::io::Error::other(reason),
            ))),
            Err(Failure::Timeout(timeout)) => Err(RPCError::Timeout(Timeout {
                action,
                id: self.id,
                target: self.target,
                timeout,
            })),
            Err(Failure::TooLarge) if entries > 1 => Err(RPCError::PayloadTooLarge(
                PayloadTooLarge::new_entries_hint(entries / 2),
            )),
            Err(Failure::TooLarge) => Err(RPCError::Network(NetworkError::new(
                &std::io::Error::other(format!("{action}: the peer refused the body as too large")),
            ))),
            Err(Failure::Network(reason)) => Err(RPCError::Network(NetworkError::new(
                &std::io::Error::other(reason),
            ))),
        }
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let entries = rpc.entries.len() as u64;
        let outcome = self.call(APPEND, &rpc, &option).await;
        self.answer(RPCTypes::AppendEntries, outcome, entries)
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        let outcome = self.call(SNAPSHOT, &rpc, &option).await;
        self.answer(RPCTypes::InstallSnapshot, outcome, 0)
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let outcome = self.call(VOTE, &rpc, &option).await;
        self.answer(RPCTypes::Vote, outcome, 0)
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(std::iter::repeat(BACKOFF))
    }
}
