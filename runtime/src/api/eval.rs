//! What a REPL needs from a node: `GET /api/v1/module` gives the module the node runs (it
//! carries the program's sources, so a client can put the program in scope), and
//! `POST /api/v1/eval?export=E` runs entry `E` of a module compiled from that program
//! plus the client's input, with the node's agents, and answers its result (wire bytes,
//! hex) and what it printed.

use super::{App, Refusal};
use crate::RunLimits;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;
use weft_compiler::Artifact;

/// The longest one evaluation may run (`eval_time_limit`).
pub const EVAL_TIME_LIMIT_MS: u64 = 10_000;

pub async fn module(State(app): State<App>) -> Response {
    let v = app.node.current();
    (
        [(header::CONTENT_TYPE, "application/wasm")],
        v.artifact.wasm.clone(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct EvalQuery {
    export: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn eval(
    State(app): State<App>,
    Query(q): Query<EvalQuery>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let artifact = Artifact::from_wasm(body.to_vec())
        .map(Arc::new)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, e))?;
    if !artifact
        .manifest
        .entries
        .iter()
        .any(|e| e.export == q.export)
    {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            format!("the module has no entry `{}`", q.export),
        ));
    }
    let node = app.node.clone();
    let limits = RunLimits {
        deadline_ms: Some(EVAL_TIME_LIMIT_MS),
        ..node.settings().turn_limits.clone()
    };
    let r = tokio::task::spawn_blocking(move || node.eval(artifact, &q.export, &limits))
        .await
        .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(match r {
        Ok((result, output)) => {
            Json(serde_json::json!({ "result": hex(&result), "output": output })).into_response()
        }
        Err((e, output)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "error": e.to_string(), "output": output })),
        )
            .into_response(),
    })
}
