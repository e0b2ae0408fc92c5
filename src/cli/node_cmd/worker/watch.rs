//! A worker's `GET /api/v1/watch`: the watch passed through to a controller, so a client
//! may watch through any node. The worker opens the same watch on a controller (the
//! next one while a connection cannot be made) before it takes the client's upgrade, so
//! a refusal (a bad query, a compacted revision, no quorum) reaches the client as the
//! controller's own HTTP answer; then every frame the controller sends is sent on as it
//! came, and its close (`4000` when the watcher fell behind) too.
//!
//! The WebSocket to the controller is synchronous (tungstenite): a blocking task reads
//! it, looking every [`POLL`] whether the client has gone, and hands frames to the
//! client's task through a bounded channel; either side ending ends the other. A worker
//! passes on at most [`WATCHES_MAX`] watches at once.

use super::Worker;
use crate::cli::node_cmd::api::error;
use crate::cli::node_cmd::watch::pump;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The most watches one worker passes on at once.
pub const WATCHES_MAX: usize = 256;
/// How many frames wait between the controller's socket and the client's.
const BUFFER_LEN_MAX: usize = 256;
/// How often the reading task looks whether the client has gone.
const POLL: Duration = Duration::from_millis(200);
/// How long connecting to one controller may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the controller may take to answer the WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type Upstream = tungstenite::WebSocket<TcpStream>;

/// One frame from the controller, for the client.
enum Frame {
    Text(String),
    Close(u16, String),
}

/// One of the [`WATCHES_MAX`] watches, given back when dropped.
struct Slot(Arc<Worker>);

impl Slot {
    fn take(worker: &Arc<Worker>) -> Option<Slot> {
        worker
            .watches
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < WATCHES_MAX).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(worker.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.watches.fetch_sub(1, Ordering::AcqRel);
    }
}

pub async fn route(
    State(worker): State<Arc<Worker>>,
    uri: Uri,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(ws) = ws else {
        return error(
            StatusCode::BAD_REQUEST,
            "a watch is a WebSocket: connect with an Upgrade request".into(),
        );
    };
    let Some(slot) = Slot::take(&worker) else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "this worker passes on {WATCHES_MAX} watches already: watch through a controller"
            ),
        );
    };
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/api/v1/watch".into());
    let mut controllers = worker.upstream.controllers();
    let start = worker.upstream.next.load(Ordering::Relaxed);
    if !controllers.is_empty() {
        let start = start % controllers.len();
        controllers.rotate_left(start);
    }
    let opened = tokio::task::spawn_blocking(move || open(&controllers, &path)).await;
    match opened {
        Ok(Ok(upstream)) => ws.on_upgrade(move |socket| relay(socket, upstream, slot)),
        Ok(Err(refused)) => *refused,
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The watch at `path` on the first controller that can be reached; or the answer for
/// the client: the controller's refusal as it came, or why none could be asked.
fn open(controllers: &[String], path: &str) -> Result<Upstream, Box<Response>> {
    if controllers.is_empty() {
        return Err(Box::new(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no controller is known".into(),
        )));
    }
    let mut last = String::new();
    for url in controllers {
        let authority = url.trim_start_matches("http://");
        let authority = authority.split('/').next().unwrap_or(authority);
        match connect(authority) {
            Ok(stream) => return handshake(stream, authority, path, url),
            Err(e) => last = format!("{url}: {e}"),
        }
    }
    Err(Box::new(error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("no controller could be reached (last: {last})"),
    )))
}

fn connect(authority: &str) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::other("no address");
    for addr in authority.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn handshake(
    stream: TcpStream,
    authority: &str,
    path: &str,
    url: &str,
) -> Result<Upstream, Box<Response>> {
    let broke = |e: String| Box::new(error(StatusCode::BAD_GATEWAY, format!("{url}: {e}")));
    stream
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(HANDSHAKE_TIMEOUT)))
        .map_err(|e| broke(e.to_string()))?;
    match tungstenite::client(format!("ws://{authority}{path}"), stream) {
        Ok((ws, _)) => {
            // From now on a read gives up every POLL, to look whether the client went.
            ws.get_ref()
                .set_read_timeout(Some(POLL))
                .map_err(|e| broke(e.to_string()))?;
            Ok(ws)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(answer))) => {
            let status =
                StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = answer.body().clone().unwrap_or_default();
            Err(Box::new(
                (
                    status,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
                    .into_response(),
            ))
        }
        Err(e) => Err(broke(format!("the WebSocket handshake failed: {e}"))),
    }
}

async fn relay(mut socket: WebSocket, upstream: Upstream, slot: Slot) {
    let (tx, mut rx) = mpsc::channel::<Frame>(BUFFER_LEN_MAX);
    let reader = tokio::task::spawn_blocking(move || read_upstream(upstream, tx));
    let ended = "the controller's watch broke off";
    pump(&mut socket, &mut rx, ended, |frame| match frame {
        Frame::Text(text) => (Some(text), None),
        Frame::Close(code, reason) => (None, Some((code, reason))),
    })
    .await;
    drop(rx);
    let _ = reader.await;
    drop(slot);
}

/// Reads the controller's frames into `tx` until either side ends.
fn read_upstream(mut ws: Upstream, tx: mpsc::Sender<Frame>) {
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(text)) => {
                if tx
                    .blocking_send(Frame::Text(text.as_str().to_string()))
                    .is_err()
                {
                    break;
                }
            }
            Ok(tungstenite::Message::Close(frame)) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.as_str().to_string()))
                    .unwrap_or((1000, String::new()));
                let _ = tx.blocking_send(Frame::Close(code, reason));
                return;
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if tx.is_closed() {
                    break;
                }
            }
            Err(_) => return,
        }
    }
    // The client went: end the controller's watch too.
    let _ = ws.close(None);
    let _ = ws.flush();
}
