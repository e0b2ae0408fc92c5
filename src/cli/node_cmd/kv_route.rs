//! `POST /api/v1/kv`: the store as `weft_resources::kinds::Kv` sees it (writes through
//! the leader, linearizable reads), over HTTP, so a node without a controller of its own
//! (a worker) can run what needs a `Kv`, its Cells' replicas above all
//! (`remote_kv::Remote` is the other end).
//!
//! The body is a JSON [`KvRequest`]; the answer is the write's `Reply`, the pairs of a
//! range, or a count, as JSON. A body that is not a request, or is longer than
//! [`BODY_LEN_MAX`], is a 4xx with `{"error": reason}`; a write the store refuses is a
//! 422 with the reason; a request the group could not take in time is a 503. Commands
//! only the raft layer proposes (`LeaseExpire`, `LeaseRestart`, `Batch`) are refused:
//! they are the leader's to make.

use super::api::{error, Node};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use weft_resources::Command;

/// The longest body the route takes: a transaction of a few values of the store's
/// largest size, JSON-encoded (a byte as up to four characters).
pub const BODY_LEN_MAX: usize = 32 << 20;

/// One call of `Kv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum KvRequest {
    /// `Kv::write`: answered with the `Reply`.
    Write(Command),
    /// `Kv::range`: answered with the pairs, in key order.
    Range {
        prefix: Vec<u8>,
        limit: Option<usize>,
    },
    /// `Kv::count`: answered with the number.
    Count { prefix: Vec<u8> },
}

pub async fn route(State(node): State<Arc<Node>>, request: axum::extract::Request) -> Response {
    let body = match axum::body::to_bytes(request.into_body(), BODY_LEN_MAX).await {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body could not be read ({e}); it takes at most {BODY_LEN_MAX} bytes"),
            )
        }
    };
    let request: KvRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a Kv request: {e}")),
    };
    match request {
        KvRequest::Write(command) => write(&node, command).await,
        KvRequest::Range { prefix, limit } => {
            let read = node
                .controller
                .read(|s| s.range(&prefix, None, limit).map(|r| r.kvs))
                .await;
            answer(read)
        }
        KvRequest::Count { prefix } => answer(node.controller.read(|s| s.count(&prefix)).await),
    }
}

async fn write(node: &Node, command: Command) -> Response {
    if matches!(
        command,
        Command::LeaseExpire { .. } | Command::LeaseRestart | Command::Batch(_)
    ) {
        return error(
            StatusCode::BAD_REQUEST,
            "LeaseExpire, LeaseRestart and Batch are proposed by the leader itself, not taken from clients"
                .into(),
        );
    }
    match node.controller.write(command).await {
        Ok(Ok(reply)) => Json(reply).into_response(),
        Ok(Err(rejected)) => error(StatusCode::UNPROCESSABLE_ENTITY, rejected.to_string()),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// A linearizable read's answer: its value, a store error (500), or the group not
/// taking the read in time (503).
fn answer<T: Serialize>(
    read: Result<Result<T, weft_resources::StoreError>, weft_resources::raft::ControllerError>,
) -> Response {
    match read {
        Ok(Ok(value)) => Json(value).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}
