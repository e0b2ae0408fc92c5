//! Hot swap over the API: `POST /api/v1/patch` takes a compiled module (its wasm bytes,
//! which carry its manifest) and swaps it into the running program; `/patch/check` says
//! what it would change; `/undo` goes back a version; `/versions` lists them.

use super::{blocking, App, Refusal};
use crate::agents::{PatchError, Patched};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use weft_compiler::Artifact;

/// The largest module a patch may send, in bytes (`module_bytes_max`).
pub const MODULE_BYTES_MAX: usize = 64 << 20;

#[derive(Deserialize)]
pub struct PatchQuery {
    #[serde(default)]
    force: bool,
}

fn module(body: Bytes) -> Result<Arc<Artifact>, Refusal> {
    if body.is_empty() {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "the request's body must be a compiled Weft module (`weft build`)".into(),
        ));
    }
    Artifact::from_wasm(body.to_vec())
        .map(Arc::new)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, e))
}

/// A refused patch: 409 with the reason and, for a breaking change, the report.
fn refused(e: PatchError) -> Response {
    match e {
        PatchError::Breaking(report) => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({
                "error": "the patch breaks the running version; --force applies it anyway",
                "report": report,
                "diff": report.render(),
            })),
        )
            .into_response(),
        PatchError::Refused(m) => Refusal(StatusCode::CONFLICT, m).into_response(),
        PatchError::Failed(m) => Refusal(StatusCode::INTERNAL_SERVER_ERROR, m).into_response(),
    }
}

async fn run(f: impl FnOnce() -> Result<Patched, PatchError> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(p)) => Json(p).into_response(),
        Ok(Err(e)) => refused(e),
        Err(e) => Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub async fn patch(State(app): State<App>, Query(q): Query<PatchQuery>, body: Bytes) -> Response {
    let artifact = match module(body) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    run(move || app.node.patch(artifact, q.force)).await
}

pub async fn check(State(app): State<App>, body: Bytes) -> Result<Response, Refusal> {
    let artifact = module(body)?;
    let report = app.node.check_patch(&artifact);
    Ok(Json(serde_json::json!({
        "breaking": report.breaking(),
        "diff": report.render(),
        "report": report,
    }))
    .into_response())
}

pub async fn undo(State(app): State<App>) -> Response {
    run(move || app.node.undo()).await
}

#[derive(Serialize)]
struct Versions {
    program: String,
    current: u64,
    versions: Vec<crate::store::VersionRecord>,
}

pub async fn versions(State(app): State<App>) -> Result<Response, Refusal> {
    let node = app.node.clone();
    let versions = blocking(move || node.history()).await?;
    Ok(Json(Versions {
        program: app.node.program(),
        current: app.node.current().number,
        versions,
    })
    .into_response())
}
