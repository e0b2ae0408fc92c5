//! An HttpService instance's endpoint: an HTTP server on a port of its node that hands
//! each request to the instance's thread as an event and answers with what the
//! handler gave back (`std::http`'s `Request` in, `Response` out, as wire values).
//!
//! The server runs on a small tokio runtime of the instance's own; the instance thread
//! handles one event at a time, so requests queue (at most [`QUEUED_MAX`]; more get a
//! 503) and each waits at most [`REPLY_WAIT`] for its turn's answer.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;
use tokio::sync::oneshot;
use weft_compiler::manifest::{AdtDesc, TypeDesc};
use weft_runtime::value::{self, Value};

/// The most requests waiting for the instance.
pub const QUEUED_MAX: usize = 256;
/// How long a request waits for its answer.
const REPLY_WAIT: Duration = Duration::from_secs(10);
/// The largest request body taken.
const BODY_LEN_MAX: usize = 1 << 20;

/// One request, as the handler sees it, and where its answer goes.
pub struct HttpEvent {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub reply: oneshot::Sender<Answer>,
}

/// An answer: status, headers, body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// A running endpoint; dropping it stops the server.
pub struct Endpoint {
    pub address: String,
    _runtime: tokio::runtime::Runtime,
}

/// Starts serving on `host:0`; the requests arrive on the receiver.
pub fn serve(host: &str) -> Result<(Endpoint, Receiver<HttpEvent>), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("weft-endpoint")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let listener = std::net::TcpListener::bind((host, 0))
        .map_err(|e| format!("cannot listen on {host}: {e}"))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let address = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .to_string();
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUED_MAX);
    let app = axum::Router::new().fallback(move |r: Request| pass(tx.clone(), r));
    runtime.spawn(async move {
        if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
            let _ = axum::serve(listener, app).await;
        }
    });
    Ok((
        Endpoint {
            address,
            _runtime: runtime,
        },
        rx,
    ))
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, format!("{text}\n")).into_response()
}

/// Hands one request to the instance and waits for its answer.
async fn pass(tx: SyncSender<HttpEvent>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LEN_MAX).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large");
    };
    let (reply, answer) = oneshot::channel();
    let event = HttpEvent {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (k.as_str().to_string(), v)
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        reply,
    };
    match tx.try_send(event) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "the service is busy");
        }
        Err(TrySendError::Disconnected(_)) => {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "the service is stopping");
        }
    }
    match tokio::time::timeout(REPLY_WAIT, answer).await {
        Ok(Ok((status, headers, text))) => respond(status, headers, text),
        Ok(Err(_)) => plain(StatusCode::SERVICE_UNAVAILABLE, "the service is stopping"),
        Err(_) => plain(
            StatusCode::GATEWAY_TIMEOUT,
            "the service did not answer in time",
        ),
    }
}

fn respond(status: u16, headers: Vec<(String, String)>, text: String) -> Response {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

/// The request as `std::http::Request`'s wire bytes (its fields in declaration order).
pub fn encode_request(e: &HttpEvent) -> Vec<u8> {
    let headers = e
        .headers
        .iter()
        .map(|(k, v)| Value::Tuple(vec![Value::Str(k.clone()), Value::Str(v.clone())]))
        .collect();
    let v = Value::Record(vec![
        Value::Str(e.method.clone()),
        Value::Str(e.path.clone()),
        Value::Str(e.query.clone()),
        Value::List(headers),
        Value::Str(e.body.clone()),
    ]);
    let mut out = vec![];
    value::encode(&v, &mut out);
    out
}

/// The answer in a `std::http::Response`'s wire bytes.
pub fn decode_response(bytes: &[u8], ty: &TypeDesc, types: &[AdtDesc]) -> Result<Answer, String> {
    let v = value::decode(bytes, ty, types).map_err(|e| e.to_string())?;
    let Value::Record(fields) = v else {
        return Err("a handler's answer that is not a Response".into());
    };
    let [Value::Int(status), Value::List(headers), Value::Record(body)] = fields.as_slice() else {
        return Err("a handler's answer that is not a Response".into());
    };
    let [Value::Str(content_type), Value::Str(text)] = body.as_slice() else {
        return Err("a Response whose body is not a Body".into());
    };
    let status = match u16::try_from(*status) {
        Ok(s) if (100..=999).contains(&s) => s,
        _ => return Err(format!("{status} is not an HTTP status")),
    };
    let mut out = vec![("content-type".to_string(), content_type.clone())];
    for h in headers {
        if let Value::Tuple(kv) = h {
            if let [Value::Str(k), Value::Str(v)] = kv.as_slice() {
                out.push((k.clone(), v.clone()));
            }
        }
    }
    Ok((status, out, text.clone()))
}
