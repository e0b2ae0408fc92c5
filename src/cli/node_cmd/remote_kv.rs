//! [`Remote`]: the store as a worker reaches it, a `weft_resources::kinds::Kv` over the
//! controllers' `POST /api/v1/kv` (`kv_route`), so a worker's node agent runs Cells as a
//! controller's does.
//!
//! Its callers are plain threads (the agent and each replica's instance): every call
//! blocks its thread on the node's runtime, and refuses, rather than panics, when made
//! on a thread that already runs inside a runtime. A request goes to the next controller
//! only when the connection could not be made (`worker::Upstream::send`), so a write cut
//! short after it was sent is an error, never a second, silent application; the caller
//! tries again on its own terms (the agent on its next tick).

use super::kv_route::KvRequest;
use super::worker::Upstream;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use weft_resources::kinds::Kv;
use weft_resources::{Command, KeyValue, Reply};

/// The path of the controllers' Kv route.
const PATH: &str = "/api/v1/kv";
/// How long one call may take: a controller gives up on a request after 5 s
/// (`raft::REQUEST_TIMEOUT`), and the answer must still come back.
const CALL_TIMEOUT_MS: u64 = 10_000;
/// The longest answer read: a range over a large table, JSON-encoded.
const ANSWER_LEN_MAX: usize = 256 << 20;

/// The store through the controllers' API, blocking on `handle`.
pub struct Remote {
    pub upstream: Arc<Upstream>,
    pub handle: tokio::runtime::Handle,
}

impl Kv for Remote {
    fn write(&self, command: Command) -> Result<Reply, String> {
        self.call(&KvRequest::Write(command))
    }

    fn range(&self, prefix: &[u8], limit: Option<usize>) -> Result<Vec<KeyValue>, String> {
        self.call(&KvRequest::Range {
            prefix: prefix.to_vec(),
            limit,
        })
    }

    fn count(&self, prefix: &[u8]) -> Result<u64, String> {
        self.call(&KvRequest::Count {
            prefix: prefix.to_vec(),
        })
    }
}

impl Remote {
    /// Sends `request` to a controller and decodes its answer, blocking this thread.
    fn call<T: DeserializeOwned>(&self, request: &KvRequest) -> Result<T, String> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err("the store over HTTP blocks: call it off the runtime's threads".into());
        }
        let body = serde_json::to_vec(request).map_err(|e| format!("encoding: {e}"))?;
        self.handle.block_on(async {
            let timeout = Duration::from_millis(CALL_TIMEOUT_MS);
            let answer = self
                .upstream
                .send_within(reqwest::Method::POST, PATH, body.into(), timeout)
                .await?;
            let status = answer.status();
            let bytes = read_bounded(answer).await?;
            if status.is_success() {
                return serde_json::from_slice(&bytes)
                    .map_err(|e| format!("the controller's answer is not understood: {e}"));
            }
            let reason = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"].as_str().map(String::from))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            Err(format!("{status}: {reason}"))
        })
    }
}

/// The answer's body, refused past [`ANSWER_LEN_MAX`] bytes.
async fn read_bounded(mut answer: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {e}"))?
    {
        if out.len() + chunk.len() > ANSWER_LEN_MAX {
            return Err(format!("the answer is longer than {ANSWER_LEN_MAX} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
