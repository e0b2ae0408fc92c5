//! `weft node --controller`: one controller of the control plane in this process. The
//! controller serves its raft routes on `--listen`; the public API (HTTP/JSON under
//! `/api/v1/`) is served on a second listener, `--api`, because the controller owns its
//! listener and router. The member with the lowest id initializes the group from the
//! static `--members` map when its store is empty. Ctrl-C or SIGTERM shuts down cleanly.
//!
//! Routes: `GET /api/v1/nodes` (every member as this node sees it), `GET /api/v1/status`
//! (this node's own raft view, which `nodes` asks every member for), `GET
//! /api/v1/store?prefix=P`, `GET /api/v1/store/{key}`, `PUT /api/v1/store/{key}` (the body
//! is the value).

use crate::{Exit, Io};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use weft_resources::raft::BasicNode;
use weft_resources::raft::{Controller, ControllerError};
use weft_resources::{Command, KeyValue};

/// How long `nodes` waits for each member's own view.
const STATUS_TIMEOUT: Duration = Duration::from_millis(800);

/// The most keys one listing returns.
const LIST_MAX: usize = 1000;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the node keeps its raft log and store (created if need be).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The address the raft routes listen on: the node's address in the group.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// The address the public API (`/api/v1/`) listens on.
    #[arg(long, value_name = "ADDR")]
    pub api: String,
    /// Run a controller (a member of the replicated store); the only kind for now.
    #[arg(long, required = true)]
    pub controller: bool,
    /// This node's id in the group (not 0).
    #[arg(long, value_name = "N")]
    pub id: u64,
    /// Every member, `ID=RAFT_ADDR[@API_ADDR]`, comma-separated (default: this node alone).
    #[arg(long, value_name = "MEMBERS")]
    pub members: Option<String>,
}

/// One member as `--members` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub raft: String,
    pub api: Option<String>,
}

/// Parses `1=ADDR[@API],2=ADDR[@API]`.
pub fn parse_members(text: &str) -> Result<BTreeMap<u64, Member>, String> {
    let mut members = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not ID=ADDR"))?;
        let id: u64 = id
            .trim()
            .parse()
            .ok()
            .filter(|&id| id != 0)
            .ok_or_else(|| format!("`{id}` in `{part}` is not a node id (1, 2, ...)"))?;
        let (raft, api) = match addr.split_once('@') {
            Some((raft, api)) => (raft.trim(), Some(api.trim().to_string())),
            None => (addr.trim(), None),
        };
        if raft.is_empty() {
            return Err(format!("`{part}` has no address"));
        }
        if members
            .insert(
                id,
                Member {
                    raft: raft.to_string(),
                    api,
                },
            )
            .is_some()
        {
            return Err(format!("node {id} is named twice in --members"));
        }
    }
    if members.is_empty() {
        return Err("--members names no node".into());
    }
    Ok(members)
}

struct Node {
    controller: Controller,
    members: BTreeMap<u64, Member>,
    client: reqwest::Client,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let fail = |what: String| {
        io.error(&format!("error: {what}\n"));
        Exit::Error
    };
    if args.id == 0 {
        return fail("--id must not be 0".into());
    }
    let members = match &args.members {
        Some(text) => match parse_members(text) {
            Ok(m) => m,
            Err(e) => return fail(format!("--members: {e}")),
        },
        None => BTreeMap::from([(
            args.id,
            Member {
                raft: args.listen.clone(),
                api: Some(args.api.clone()),
            },
        )]),
    };
    if !members.contains_key(&args.id) {
        return fail(format!("--members does not name this node ({})", args.id));
    }
    let raft = match TcpListener::bind(&args.listen) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    let api = match TcpListener::bind(&args.api) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}: {e}", args.api)),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match rt.block_on(serve(args, members, raft, api, io)) {
        Ok(()) => Exit::Success,
        Err(e) => fail(e),
    }
}

async fn serve(
    args: &Args,
    members: BTreeMap<u64, Member>,
    raft: TcpListener,
    api: TcpListener,
    io: &Io,
) -> Result<(), String> {
    let raft_addr = raft.local_addr().map_err(|e| e.to_string())?;
    let api_addr = api.local_addr().map_err(|e| e.to_string())?;
    let controller = Controller::start(args.id, &args.data, raft)
        .await
        .map_err(|e| format!("cannot start the controller: {e}"))?;
    let lowest = members.keys().next().copied() == Some(args.id);
    if lowest && controller.metrics().last_log_index.is_none() {
        let group = members
            .iter()
            .map(|(id, m)| (*id, BasicNode::new(m.raft.clone())))
            .collect();
        if let Err(e) = controller.initialize(group).await {
            io.error(&format!("warning: initializing the group: {e}\n"));
        }
    }
    let client = reqwest::Client::builder()
        .timeout(STATUS_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let node = Arc::new(Node {
        controller,
        members,
        client,
    });
    api.set_nonblocking(true).map_err(|e| e.to_string())?;
    let api = tokio::net::TcpListener::from_std(api).map_err(|e| e.to_string())?;
    io.error(&format!(
        "node {}: raft {raft_addr}, api: http://{api_addr}\n",
        args.id
    ));
    let app = router(node.clone());
    let served = axum::serve(api, app)
        .with_graceful_shutdown(stop_signal())
        .await;
    if let Err(e) = served {
        io.error(&format!("error: the API server: {e}\n"));
    }
    // The server is done, so its handlers have dropped their references.
    let node = Arc::try_unwrap(node).map_err(|_| "the API still holds the node".to_string())?;
    node.controller
        .shutdown()
        .await
        .map_err(|e| format!("shutting down: {e}"))?;
    io.error(&format!("node {}: stopped\n", args.id));
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/api/v1/nodes", get(nodes))
        .route("/api/v1/status", get(status))
        .route("/api/v1/store", get(list))
        .route("/api/v1/store/{*key}", get(get_key).put(put_key))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route".into()) })
        .with_state(node)
}

fn error(status: StatusCode, reason: String) -> Response {
    (status, Json(json!({ "error": reason }))).into_response()
}

fn unavailable(e: ControllerError) -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// This node's own view: its id, whether it leads, the leader it knows of, Ready when it
/// runs and knows a leader.
fn own_status(node: &Node) -> Value {
    let m = node.controller.metrics();
    let ready = m.running_state.is_ok() && m.current_leader.is_some();
    json!({
        "id": m.id,
        "leader": m.current_leader,
        "is_leader": m.state.is_leader(),
        "term": m.current_term,
        "last_applied": m.last_applied.map(|l| l.index),
        "ready": ready,
    })
}

async fn status(State(node): State<Arc<Node>>) -> Response {
    Json(own_status(&node)).into_response()
}

async fn nodes(State(node): State<Arc<Node>>) -> Response {
    let me = node.controller.id();
    let leader = node.controller.leader();
    let mut asks = Vec::new();
    for (id, member) in &node.members {
        let (id, member, client) = (*id, member.clone(), node.client.clone());
        let own = (id == me).then(|| own_status(&node));
        asks.push(tokio::spawn(async move {
            let view = match (own, &member.api) {
                (Some(view), _) => Some(view),
                (None, Some(api)) => {
                    let got = client
                        .get(format!("http://{api}/api/v1/status"))
                        .send()
                        .await;
                    match got {
                        Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
                        _ => None,
                    }
                }
                (None, None) => None,
            };
            (id, member, view)
        }));
    }
    let mut rows = Vec::new();
    for ask in asks {
        let Ok((id, member, view)) = ask.await else {
            continue;
        };
        let ready = view
            .as_ref()
            .and_then(|v| v.get("ready"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let role = if leader == Some(id) {
            "leader"
        } else {
            "follower"
        };
        rows.push(json!({
            "id": id,
            "name": format!("node-{id}"),
            "address": member.raft,
            "api": member.api.as_ref().map(|a| format!("http://{a}")),
            "role": role,
            "state": if ready { "Ready" } else { "NotReady" },
            "lease_age": "-",
        }));
    }
    Json(Value::Array(rows)).into_response()
}

fn kv_json(kv: &KeyValue) -> Value {
    json!({
        "key": String::from_utf8_lossy(&kv.key),
        "value": String::from_utf8_lossy(&kv.value),
        "create_revision": kv.create_revision,
        "mod_revision": kv.mod_revision,
        "version": kv.version,
    })
}

async fn get_key(State(node): State<Arc<Node>>, Path(key): Path<String>) -> Response {
    let read = node
        .controller
        .read(|store| store.get(key.as_bytes(), None))
        .await;
    match read {
        Ok(Ok(Some(kv))) => Json(kv_json(&kv)).into_response(),
        Ok(Ok(None)) => error(StatusCode::NOT_FOUND, format!("no key `{key}`")),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => unavailable(e),
    }
}

async fn put_key(
    State(node): State<Arc<Node>>,
    Path(key): Path<String>,
    value: String,
) -> Response {
    match node.controller.write(Command::put(key, value)).await {
        Ok(Ok(reply)) => Json(json!({ "revision": reply.revision })).into_response(),
        Ok(Err(rejection)) => error(StatusCode::BAD_REQUEST, rejection.to_string()),
        Err(e) => unavailable(e),
    }
}

async fn list(
    State(node): State<Arc<Node>>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Response {
    if let Some(other) = query.keys().find(|k| k.as_str() != "prefix") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown parameter `{other}` (only `prefix`)"),
        );
    }
    let prefix = query.get("prefix").cloned().unwrap_or_default();
    let read = node
        .controller
        .read(|store| store.range(prefix.as_bytes(), None, Some(LIST_MAX)))
        .await;
    match read {
        Ok(Ok(range)) => Json(json!({
            "revision": range.revision,
            "kvs": range.kvs.iter().map(kv_json).collect::<Vec<_>>(),
            "more": range.more,
        }))
        .into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => unavailable(e),
    }
}
