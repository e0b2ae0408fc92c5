//! `GET /api/v1/watch?prefix=P[&from=R]`: a watch over WebSocket. Each event is a text
//! frame `{"revision", "type": "put"|"delete", "key", "value", "mod_revision", ...}`;
//! without `from` the watch starts after the current revision (read linearizably).
//! A watcher that falls behind (or whose history was compacted) is never skipped past:
//! it gets `{"lagged": true, "resume_from": R, "error": ...}` and the socket closes with
//! code 4000, so the client lists again or watches from `R`.
//!
//! The store's watcher is synchronous: a blocking task reads it and hands events to the
//! socket's task through a bounded channel; either side ending ends the other.

use super::api::{error, kv_json, Node};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use weft_resources::{Delivery, EventKind, RecvError, Watcher};

/// How many events wait between the watcher's thread and the socket.
const BUFFER: usize = 256;

/// How often the watcher's thread looks whether the socket has gone.
const POLL: Duration = Duration::from_millis(200);

/// A watch's query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchQuery {
    #[serde(default)]
    prefix: String,
    from: Option<u64>,
}

pub async fn route(
    State(node): State<Arc<Node>>,
    query: Result<Query<WatchQuery>, axum::extract::rejection::QueryRejection>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let query = match super::api::query(query, "a watch takes prefix and from") {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let Ok(ws) = ws else {
        return error(
            StatusCode::BAD_REQUEST,
            "a watch is a WebSocket: connect with an Upgrade request".into(),
        );
    };
    let from = match query.from {
        Some(from) => from,
        None => match node.controller.read(|s| s.revision()).await {
            Ok(revision) => revision + 1,
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        },
    };
    let watcher = match node.controller.store().watch(query.prefix.as_bytes(), from) {
        Ok(w) => w,
        Err(e) => return error(StatusCode::GONE, e.to_string()),
    };
    ws.on_upgrade(move |socket| stream(socket, watcher))
}

fn event_json(delivery: Delivery) -> Value {
    match delivery {
        Delivery::Event(event) => {
            let mut frame = kv_json(&event.kv);
            frame["revision"] = json!(event.revision());
            frame["type"] = json!(match event.kind {
                EventKind::Put => "put",
                EventKind::Delete => "delete",
            });
            frame
        }
        Delivery::Lagged { resume_from } => json!({
            "lagged": true,
            "resume_from": resume_from,
            "error": format!(
                "the watch fell behind: nothing from revision {resume_from} on was sent; \
                 list again, or watch from {resume_from}"
            ),
        }),
    }
}

async fn stream(mut socket: WebSocket, watcher: Watcher) {
    let (tx, mut rx) = mpsc::channel::<Value>(BUFFER);
    let reader = tokio::task::spawn_blocking(move || loop {
        match watcher.recv_timeout(POLL) {
            Ok(delivery) => {
                let last = matches!(delivery, Delivery::Lagged { .. });
                if tx.blocking_send(event_json(delivery)).is_err() || last {
                    return;
                }
            }
            Err(RecvError::Timeout) if tx.is_closed() => return,
            Err(RecvError::Timeout) => {}
            Err(RecvError::Closed) => return,
        }
    });
    pump(
        &mut socket,
        &mut rx,
        "the store closed the watch",
        |frame| {
            let lagged = frame.get("lagged").is_some();
            let then = lagged.then(|| (4000, "fell behind; resync".to_string()));
            (Some(frame.to_string()), then)
        },
    )
    .await;
    drop(rx);
    let _ = reader.await;
}

/// Sends what `rx` gives to a watch's `socket` until either side ends: `step` turns each
/// item into the text to send and, if the watch ends there, the close to send after it;
/// `ended` is the close reason when `rx` itself ends. A client's close ends it too.
pub(super) async fn pump<T>(
    socket: &mut WebSocket,
    rx: &mut mpsc::Receiver<T>,
    ended: &str,
    step: impl Fn(T) -> (Option<String>, Option<(u16, String)>),
) {
    loop {
        tokio::select! {
            item = rx.recv() => {
                let Some(item) = item else {
                    let _ = socket.send(close(1011, ended)).await;
                    return;
                };
                let (text, then) = step(item);
                if let Some(text) = text {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                if let Some((code, reason)) = then {
                    let _ = socket.send(close(code, &reason)).await;
                    return;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

pub(super) fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
