//! The node's API on one port: HTTP/JSON for calls and listings, and WARP links over
//! WebSocket (any path, as Swim servers accept them), served by axum on a tokio runtime
//! of its own so the node itself stays synchronous.
//!
//! | request | answer |
//! |---|---|
//! | `GET /api/v1/node` | `{"agent_types": [..], "links": N}` |
//! | `GET /api/v1/agents` | `[{"uri", "agent", "active"}]`, in URI order |
//! | `GET /api/v1/manifest` | the program's manifest: agent types, lanes, methods, type descriptors |
//! | `POST /api/v1/call` `{"uri", "method", "args": ["literal", ..]}` | `{"value": "shown", "recon": "..."}` |
//! | `POST /api/v1/patch[?force=true]` with a compiled module as the body | the patch taken (`patch.rs`) |
//! | `POST /api/v1/patch/check` with a module | what a patch would change, without taking it |
//! | `GET /api/v1/versions` | the program's versions, oldest first |
//! | `GET /api/v1/module` | the module the node runs (with its sources), for a REPL |
//! | `POST /api/v1/eval?export=E` with a module | runs its entry `E` with the node's agents (`eval.rs`) |
//! | `POST /api/v1/undo` | back to the code of the version before the current one |
//! | WebSocket upgrade on any path | WARP (`link.rs`) |
//!
//! Every refusal is JSON `{"error": reason}`: 400 for a malformed request or arguments
//! that do not read as the parameters' types, 404 for an agent type, method or endpoint
//! that does not exist, 503 when the agent's mailbox is full or it stays busy too long
//! (retry later), 500 when the method itself failed (its trap is on the node's stderr),
//! 409 for a patch that breaks the running version (with the classified diff) or cannot
//! be taken, 422 for an evaluation that trapped (with its output).
//! Calls and links run the node's blocking work on tokio's blocking pool.

mod eval;
mod link;
mod patch;

use crate::agents::{CallError, Node};
use crate::value;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The most frames a connection's outbound queue holds before the connection is cut off
/// as too slow (`link_queue_max`).
pub const LINK_QUEUE_MAX: usize = 4096;

/// The most links and commands from one connection that may wait for its worker
/// (`link_ops_max`); past it the connection stops reading its socket until one is done,
/// so a client that sends faster than its commands run is held back by TCP.
pub const LINK_OPS_MAX: usize = 1024;

/// The longest one WARP frame from a client may be, in bytes (`frame_bytes_max`).
pub const FRAME_BYTES_MAX: usize = 1 << 20;

/// How much one read of a WebSocket connection takes; client frames are small.
const READ_BUFFER_BYTES: usize = 4096;

/// A running API server. Dropping it stops it.
pub struct Api {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    interrupted: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone)]
struct App {
    node: Node,
    stop: watch::Receiver<bool>,
}

impl Api {
    /// Binds `addr` and serves `node` on it from a thread of its own.
    pub fn start(node: Node, addr: &str) -> Result<Api, String> {
        Api::start_with(node, addr, Router::new())
    }

    /// [`Api::start`] with more routes served beside the node's (`extra` has its state
    /// and no fallback; its paths must not be the node's own).
    pub fn start_with(node: Node, addr: &str, extra: Router) -> Result<Api, String> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("weft-api")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the API: {e}"))?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = interrupted.clone();
        let app = App {
            node,
            stop: stop_rx.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("weft-api".into())
            .spawn(move || {
                rt.block_on(async move {
                    tokio::spawn(async move {
                        interrupt().await;
                        flag.store(true, Ordering::SeqCst);
                    });
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    // Events are small frames that should leave at once (no Nagle delay).
                    let listener = listener.tap_io(|tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    let mut stop = stop_rx;
                    let _ = axum::serve(listener, router(app, extra))
                        .with_graceful_shutdown(async move {
                            let _ = stop.wait_for(|s| *s).await;
                        })
                        .await;
                });
                // In-flight calls finish on the blocking pool before this returns.
                rt.shutdown_timeout(Duration::from_secs(30));
            })
            .map_err(|e| format!("cannot start the API: {e}"))?;
        Ok(Api {
            addr: bound,
            stop: stop_tx,
            interrupted,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the process got Ctrl-C (SIGINT) or SIGTERM since the API started.
    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Stops accepting requests, closes links, and waits for calls in flight.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Resolves at the first SIGINT (Ctrl-C) or SIGTERM (what `kill` and process managers
/// send to ask for a clean stop).
async fn interrupt() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn router(app: App, extra: Router) -> Router {
    let own = Router::new()
        .route("/api/v1/node", get(node_info))
        .route("/api/v1/agents", get(agents))
        .route("/api/v1/manifest", get(manifest))
        .route("/api/v1/call", post(call))
        .route("/api/v1/patch", post(patch::patch))
        .route("/api/v1/patch/check", post(patch::check))
        .route("/api/v1/undo", post(patch::undo))
        .route("/api/v1/versions", get(patch::versions))
        .route("/api/v1/module", get(eval::module))
        .route("/api/v1/eval", post(eval::eval))
        .layer(axum::extract::DefaultBodyLimit::max(
            patch::MODULE_BYTES_MAX,
        ))
        .route("/api/{*rest}", axum::routing::any(not_found))
        .fallback(warp_upgrade)
        .with_state(app);
    extra.merge(own)
}

/// A refusal: a status and a reason, as JSON.
pub(crate) struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

async fn not_found() -> Refusal {
    Refusal(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /api/v1/node, /api/v1/agents, /api/v1/call".into(),
    )
}

/// Answers a WebSocket opening handshake (RFC 6455) and serves WARP on the connection
/// once it is upgraded. The handshake is answered here rather than by axum's
/// `WebSocketUpgrade` because the link needs the TCP socket itself: the node writes each
/// event straight to it from one thread (`agents/sink.rs`).
async fn warp_upgrade(State(app): State<App>, mut req: axum::extract::Request) -> Response {
    let accept = match handshake(&req) {
        Ok(accept) => accept,
        Err(refusal) => return refusal.into_response(),
    };
    // Swim's servers speak `warp0`; a client that asks for it (as SwimOS's own clients
    // and browsers given a protocol list do) must get it back.
    let warp0 = header_tokens(&req, "sec-websocket-protocol").any(|p| p == "warp0");
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        // axum serves through hyper-util's protocol detection, which wraps the socket.
        type Io = hyper_util::rt::TokioIo<tokio::net::TcpStream>;
        match hyper_util::server::conn::auto::upgrade::downcast::<Io>(upgraded) {
            Ok(parts) => {
                link::connection(app.node, parts.io.into_inner(), &parts.read_buf, app.stop).await
            }
            Err(_) => app
                .node
                .report("error: a WebSocket link did not come over a TCP socket\n"),
        }
    });
    let mut response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("sec-websocket-accept", accept);
    if warp0 {
        response = response.header("sec-websocket-protocol", "warp0");
    }
    response
        .body(axum::body::Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The `Sec-WebSocket-Accept` for a WebSocket opening handshake, or why `req` is none.
fn handshake(req: &axum::extract::Request) -> Result<String, Refusal> {
    let not_ws = || {
        Refusal(
            StatusCode::BAD_REQUEST,
            "this path speaks WARP over WebSocket; HTTP requests go to /api/v1/...".into(),
        )
    };
    if req.method() != axum::http::Method::GET
        || !header_tokens(req, "upgrade").any(|t| t.eq_ignore_ascii_case("websocket"))
        || !header_tokens(req, "connection").any(|t| t.eq_ignore_ascii_case("upgrade"))
    {
        return Err(not_ws());
    }
    if !header_tokens(req, "sec-websocket-version").any(|v| v == "13") {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "WebSocket version 13 is the one spoken here (Sec-WebSocket-Version: 13)".into(),
        ));
    }
    let Some(key) = req.headers().get("sec-websocket-key") else {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "a WebSocket handshake needs a Sec-WebSocket-Key".into(),
        ));
    };
    Ok(crate::ws::accept_key(key.as_bytes()))
}

/// The comma-separated tokens of every `name` header of `req`, trimmed.
fn header_tokens<'a>(
    req: &'a axum::extract::Request,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

#[derive(Serialize)]
struct NodeInfo {
    /// The program's name and the version the node runs (0 when not recorded).
    program: String,
    version: u64,
    module: String,
    agent_types: Vec<AgentType>,
    links: usize,
}

#[derive(Serialize)]
struct AgentType {
    name: String,
    route: String,
}

async fn node_info(State(app): State<App>) -> Json<NodeInfo> {
    let v = app.node.current();
    Json(NodeInfo {
        program: app.node.program(),
        version: v.number,
        module: v.artifact.id.to_string(),
        agent_types: v
            .manifest()
            .agents
            .iter()
            .map(|a| AgentType {
                name: a.name.clone(),
                route: a.route.clone(),
            })
            .collect(),
        links: app.node.link_count(),
    })
}

async fn manifest(State(app): State<App>) -> Json<weft_compiler::manifest::Manifest> {
    Json(app.node.current().manifest().clone())
}

#[derive(Serialize)]
struct AgentRow {
    uri: String,
    agent: String,
    active: bool,
}

async fn agents(State(app): State<App>) -> Result<Json<Vec<AgentRow>>, Refusal> {
    let node = app.node.clone();
    let rows = blocking(move || node.agents()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| AgentRow {
                uri: a.uri,
                agent: a.agent,
                active: a.active,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
    uri: String,
    method: String,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Serialize)]
struct CallResult {
    /// The result as Weft shows it.
    value: String,
    /// The result in Recon, as a link would carry it.
    recon: String,
}

async fn call(
    State(app): State<App>,
    req: Result<Json<CallRequest>, JsonRejection>,
) -> Result<Json<CallResult>, Refusal> {
    let Json(req) = req.map_err(|e| Refusal(StatusCode::BAD_REQUEST, e.body_text()))?;
    let version = app.node.current();
    let manifest = version.manifest();
    let types = &manifest.types;
    let (desc, _) = manifest.route(&req.uri).ok_or_else(|| {
        Refusal(
            StatusCode::NOT_FOUND,
            format!("no agent type serves `{}`", req.uri),
        )
    })?;
    let m = desc
        .methods
        .iter()
        .find(|m| m.name == req.method)
        .ok_or_else(|| {
            let names: Vec<&str> = desc.methods.iter().map(|m| m.name.as_str()).collect();
            Refusal(
                StatusCode::NOT_FOUND,
                format!(
                    "agent `{}` has no method `{}` (it has: {})",
                    desc.name,
                    req.method,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })?;
    // Parameters with defaults come last; the method's entry fills in those left out.
    let required = m.params.iter().take_while(|p| !p.default).count();
    if req.args.len() < required || req.args.len() > m.params.len() {
        let params: Vec<String> = m
            .params
            .iter()
            .map(|p| match p.default {
                true => format!("{} = ...", p.name),
                false => p.name.clone(),
            })
            .collect();
        let count = if required == m.params.len() {
            required.to_string()
        } else {
            format!("{required} to {}", m.params.len())
        };
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            format!(
                "`{}` takes {count} argument{} ({}), not {}",
                m.name,
                if m.params.len() == 1 { "" } else { "s" },
                params.join(", "),
                req.args.len()
            ),
        ));
    }
    let mut args = vec![];
    for (text, p) in req.args.iter().zip(&m.params) {
        let v = value::parse_literal(text, &p.ty, types).map_err(|e| {
            Refusal(
                StatusCode::BAD_REQUEST,
                format!("argument `{}`: {e}", p.name),
            )
        })?;
        value::encode(&v, &mut args);
    }
    let node = app.node.clone();
    let uri = req.uri.clone();
    let method = m.name.clone();
    let (bytes, answered) =
        tokio::task::spawn_blocking(move || node.call_typed(&uri, &method, args))
            .await
            .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| {
                let status = match &e {
                    CallError::NotFound(_) => StatusCode::NOT_FOUND,
                    // A bound was hit: worth retrying later.
                    CallError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
                    CallError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                Refusal(status, e.into())
            })?;
    // The version that answered types the result (it may be newer than the one the
    // arguments were read against).
    let types = &answered.manifest().types;
    let result = answered
        .manifest()
        .route(&req.uri)
        .and_then(|(d, _)| d.method(&req.method))
        .map_or(&m.result, |m| &m.result);
    let v = value::decode(&bytes, result, types).map_err(|e| {
        Refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("a malformed result: {e}"),
        )
    })?;
    Ok(Json(CallResult {
        value: value::show_top(&v, result, types),
        recon: crate::warp::print(&value::to_recon(&v, result, types)),
    }))
}

/// Runs blocking node work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e))
}
