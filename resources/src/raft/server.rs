//! The raft routes a controller serves (axum): the peers' RPCs, handed to the local
//! [`Raft`], and the two requests another controller forwards to the leader.
//!
//! - `POST /raft/append`, `/raft/vote`, `/raft/snapshot`: a postcard body holding
//!   openraft's request; the answer is the postcard encoding of the `Raft` method's
//!   `Result` (see [`super::network`]).
//! - `POST /raft/write`: a postcard [`Command`]; the answer is a postcard
//!   `Result<Result<Reply, Rejection>, Refused>`. It is written here only, through this
//!   node's [`Proposer`] (so it shares an entry with the other writes waiting here): a
//!   node that is not the leader answers [`Refused::NotLeader`] and never forwards again.
//! - `POST /raft/read-index` (an empty body): the leader confirms it still leads
//!   (`ensure_linearizable`) and answers the log id a linearizable read must wait for,
//!   as a postcard `Result<Option<LogId>, Refused>`.
//!
//! Bodies are bounded by [`BODY_MAX`] (larger ones get a `413`); a body that does not
//! decode gets a `400` with the reason; an RPC that finds raft stopped (shutting down)
//! gets a `503`.

use super::network::{APPEND, CONTENT_TYPE, SNAPSHOT, VOTE};
use super::propose::{Proposer, Written};
use super::{NodeId, TypeConfig};
use crate::command::Command;
use crate::error::Rejection;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use axum::Router;
use openraft::error::{CheckIsLeaderError, ForwardToLeader, RaftError};
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use openraft::{BasicNode, LogId, Raft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::time::Instant;

/// How long the leader works on a forwarded write or read index before it gives up.
pub const FORWARDED_TIMEOUT: Duration = Duration::from_secs(5);

/// Route of a write forwarded to the leader.
pub const WRITE: &str = "/raft/write";
/// Route of a read index asked of the leader.
pub const READ_INDEX: &str = "/raft/read-index";

/// The largest body any raft route takes: room for a full append of the largest values.
pub const BODY_MAX: usize = 64 * 1024 * 1024;

/// Why a node did not take a write or give a read index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refused {
    /// This node is not the leader; the leader it knows of, if any.
    #[error("not the leader; {}", leader_text(*.leader, .addr.as_deref()))]
    NotLeader {
        /// The leader's id, if one is known.
        leader: Option<NodeId>,
        /// The leader's address, if known.
        addr: Option<String>,
    },
    /// The leader could not hear from a quorum.
    #[error("no quorum: {0}")]
    NoQuorum(String),
    /// No answer in time: a write may or may not have been committed.
    #[error("no answer in time (a write may or may not have been committed)")]
    TimedOut,
    /// Raft failed (it is shutting down, or its storage failed).
    #[error("raft failed: {0}")]
    Failed(String),
    /// This node led when the write was proposed and no longer does: the entry may have
    /// reached a quorum, and a new leader may still commit it. Never retried, so a write
    /// cannot apply twice (etcd's "leader changed").
    #[error("the leader stepped down with the write pending (it may or may not be committed)")]
    SteppedDown,
}

fn leader_text(leader: Option<NodeId>, addr: Option<&str>) -> String {
    match (leader, addr) {
        (Some(id), Some(addr)) => format!("the leader is {id} at {addr}"),
        (Some(id), None) => format!("the leader is {id} (address unknown)"),
        (None, _) => "no leader is known".to_string(),
    }
}

impl Refused {
    pub(crate) fn not_leader(forward: &ForwardToLeader<NodeId, BasicNode>) -> Refused {
        Refused::NotLeader {
            leader: forward.leader_id,
            addr: forward.leader_node.as_ref().map(|n| n.addr.clone()),
        }
    }
}

/// The raft routes over the proposer's raft; forwarded writes go through `proposer`.
pub fn router(proposer: Proposer) -> Router {
    Router::new()
        .route(APPEND, post(append))
        .route(VOTE, post(vote))
        .route(SNAPSHOT, post(snapshot))
        .route(WRITE, post(write))
        .route(READ_INDEX, post(read_index))
        .layer(DefaultBodyLimit::max(BODY_MAX))
        .with_state(proposer)
}

async fn append(State(proposer): State<Proposer>, body: Bytes) -> HttpResponse {
    match decode::<AppendEntriesRequest<TypeConfig>>(&body) {
        Ok(request) => answer(proposer.raft().append_entries(request).await),
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

async fn vote(State(proposer): State<Proposer>, body: Bytes) -> HttpResponse {
    match decode::<VoteRequest<NodeId>>(&body) {
        Ok(request) => answer(proposer.raft().vote(request).await),
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

async fn snapshot(State(proposer): State<Proposer>, body: Bytes) -> HttpResponse {
    match decode::<InstallSnapshotRequest<TypeConfig>>(&body) {
        Ok(request) => answer(proposer.raft().install_snapshot(request).await),
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

async fn write(State(proposer): State<Proposer>, body: Bytes) -> HttpResponse {
    match decode::<Command>(&body) {
        Ok(command) => {
            encode(&write_local(&proposer, command, Instant::now() + FORWARDED_TIMEOUT).await)
        }
        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
    }
}

async fn read_index(State(proposer): State<Proposer>) -> HttpResponse {
    encode(&read_index_local(proposer.raft(), Instant::now() + FORWARDED_TIMEOUT).await)
}

/// How long a leader may go without hearing from a majority before it refuses requests
/// at once (ten heartbeats; an election would have begun elsewhere by then).
pub const QUORUM_LOST: Duration = Duration::from_millis(1000);

/// Refuses at once, on a leader that has not heard from a majority of the voters for
/// [`QUORUM_LOST`]: it is in a minority, and a request would only wait for its timeout.
/// A write refused here was never proposed.
pub(crate) fn quorum_heard(raft: &Raft<TypeConfig>) -> Result<(), Refused> {
    let metrics = raft.metrics().borrow().clone();
    match metrics.millis_since_quorum_ack {
        Some(ms) if metrics.state.is_leader() && ms > QUORUM_LOST.as_millis() as u64 => {
            let voters = metrics.membership_config.membership().voter_ids().count();
            Err(Refused::NoQuorum(format!(
                "this node leads but has heard from no majority of the {voters} controllers \
                 for {ms} ms: it is in a minority, and takes no request until a majority is \
                 back (nothing was written)"
            )))
        }
        _ => Ok(()),
    }
}

/// Writes `command` through the local raft, if it is the leader, by `deadline` (a
/// leader cut off from its quorum would wait for ever), in one entry with the other
/// writes waiting in `proposer`. A batch from a client is refused: only the proposer
/// makes batches.
pub(crate) async fn write_local(
    proposer: &Proposer,
    command: Command,
    deadline: Instant,
) -> Written {
    if matches!(command, Command::Batch(_)) {
        return Ok(Err(Rejection::NestedBatch));
    }
    quorum_heard(proposer.raft())?;
    proposer.write(command, deadline).await
}

/// The log id a linearizable read must see applied, if the local `raft` is the leader
/// and hears from a quorum by `deadline`.
pub(crate) async fn read_index_local(
    raft: &Raft<TypeConfig>,
    deadline: Instant,
) -> Result<Option<LogId<NodeId>>, Refused> {
    quorum_heard(raft)?;
    let checked = tokio::time::timeout_at(deadline, raft.ensure_linearizable())
        .await
        .map_err(|_| Refused::TimedOut)?;
    match checked {
        Ok(log_id) => Ok(log_id),
        Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(forward))) => {
            Err(Refused::not_leader(&forward))
        }
        Err(RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(e))) => {
            Err(Refused::NoQuorum(e.to_string()))
        }
        Err(e) => Err(Refused::Failed(e.to_string())),
    }
}

/// Decodes a request body (all of it), or says why it does not decode.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(format!("the body has {} bytes after its end", rest.len())),
        Err(e) => Err(format!("the body does not decode: {e}")),
    }
}

/// A `Raft` method's answer: a `200` with its result, or a `503` once raft has stopped
/// (the peer backs off as from an unreachable node).
fn answer<T: Serialize, E: std::error::Error + Serialize>(
    result: Result<T, RaftError<NodeId, E>>,
) -> HttpResponse {
    match result {
        Err(RaftError::Fatal(fatal)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("raft has stopped: {fatal}"),
        )
            .into_response(),
        result => encode(&result),
    }
}

/// A `200` with the postcard encoding of `value`.
fn encode<T: Serialize>(value: &T) -> HttpResponse {
    match postcard::to_allocvec(value) {
        Ok(bytes) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], bytes).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the answer does not encode: {e}"),
        )
            .into_response(),
    }
}
