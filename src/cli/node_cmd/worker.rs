//! A worker node: it joins with the bootstrap token, holds a heartbeat lease through the
//! controllers' API, and serves an API of its own on `--listen`: its status, watches
//! passed through to a controller (`watch`), and every other `/api/v1/` request passed
//! on to a controller (the next one when a controller cannot be reached), so a client
//! may talk to any node.

mod watch;

use super::api::error;
use super::registry::Heart;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_resources::LeaseId;

/// How long a request passed on to a controller may take.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(40);

/// The controllers a worker talks to, tried in turn from the last one that answered.
pub struct Upstream {
    controllers: Mutex<Vec<String>>,
    next: AtomicUsize,
    client: reqwest::Client,
}

impl Upstream {
    pub fn new(controllers: Vec<String>) -> Result<Upstream, String> {
        let client = reqwest::Client::builder()
            .timeout(UPSTREAM_TIMEOUT)
            .connect_timeout(Duration::from_secs(1))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Upstream {
            controllers: Mutex::new(controllers),
            next: AtomicUsize::new(0),
            client,
        })
    }

    fn controllers(&self) -> Vec<String> {
        self.controllers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Sends a request to a controller: each in turn while the connection cannot be
    /// made (the request was then certainly not handled).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Bytes,
    ) -> Result<reqwest::Response, String> {
        self.send_within(method, path_and_query, body, UPSTREAM_TIMEOUT)
            .await
    }

    /// As [`Upstream::send`], each attempt given at most `timeout` (its answer's body
    /// included).
    pub async fn send_within(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Bytes,
        timeout: Duration,
    ) -> Result<reqwest::Response, String> {
        let controllers = self.controllers();
        if controllers.is_empty() {
            return Err("no controller is known".into());
        }
        let start = self.next.load(Ordering::Relaxed);
        let mut last = String::new();
        for i in 0..controllers.len() {
            let k = (start + i) % controllers.len();
            let sent = self
                .client
                .request(
                    method.clone(),
                    format!("{}{path_and_query}", controllers[k]),
                )
                .header("content-type", "application/json")
                .timeout(timeout)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) => {
                    self.next.store(k, Ordering::Relaxed);
                    return Ok(r);
                }
                Err(e) if e.is_connect() => last = format!("{}: {e}", controllers[k]),
                Err(e) => return Err(format!("{}: {e}", controllers[k])),
            }
        }
        Err(format!("no controller could be reached (last: {last})"))
    }

    /// Learns the controllers' API URLs from the cluster's node list.
    pub async fn refresh(&self) {
        let Ok(r) = self
            .send(reqwest::Method::GET, "/api/v1/nodes", Bytes::new())
            .await
        else {
            return;
        };
        let Ok(Value::Array(rows)) = r.json::<Value>().await else {
            return;
        };
        let mut apis: Vec<String> = rows
            .iter()
            .filter(|r| matches!(r["role"].as_str(), Some("leader" | "follower")))
            .filter_map(|r| {
                r["api"]
                    .as_str()
                    .filter(|a| !a.is_empty())
                    .map(String::from)
            })
            .collect();
        apis.sort();
        if !apis.is_empty() {
            *self
                .controllers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = apis;
        }
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<(u16, Value), String> {
        let r = self
            .send(method, path, Bytes::from(body.to_string()))
            .await?;
        let status = r.status().as_u16();
        let value = r.json::<Value>().await.map_err(|e| e.to_string())?;
        Ok((status, value))
    }
}

impl Heart for Arc<Upstream> {
    async fn grant(&self, ttl_ms: u64) -> Result<LeaseId, String> {
        let (status, v) = self
            .json(
                reqwest::Method::POST,
                "/api/v1/leases",
                json!({ "ttl_ms": ttl_ms }),
            )
            .await?;
        match v["id"].as_u64() {
            Some(id) if status == 200 => Ok(LeaseId(id)),
            _ => Err(format!("{status}: {}", v["error"])),
        }
    }

    async fn renew(&self, lease: LeaseId) -> Result<bool, String> {
        let path = format!("/api/v1/leases/{}/keepalive", lease.0);
        let (status, v) = self.json(reqwest::Method::POST, &path, json!({})).await?;
        match status {
            200 => Ok(true),
            404 => Ok(false),
            _ => Err(format!("{status}: {}", v["error"])),
        }
    }

    async fn hold(&self, key: String, value: Vec<u8>, lease: LeaseId) -> Result<(), String> {
        let path = format!(
            "/api/v1/store/{}?lease={}",
            crate::cli::store_cmd::encode(&key, true),
            lease.0
        );
        let r = self
            .send(reqwest::Method::PUT, &path, Bytes::from(value))
            .await?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                r.status(),
                r.text().await.unwrap_or_default()
            ))
        }
    }
}

/// A worker, as its API sees it.
pub struct Worker {
    pub id: u64,
    pub upstream: Arc<Upstream>,
    /// How many watches it passes on now (at most `watch::WATCHES_MAX`).
    pub watches: AtomicUsize,
}

pub fn router(worker: Arc<Worker>) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/watch", get(watch::route))
        .fallback(pass_on)
        .with_state(worker)
}

async fn status(State(worker): State<Arc<Worker>>) -> Response {
    Json(json!({
        "id": worker.id,
        "name": super::registry::name(worker.id),
        "role": "worker",
        "controllers": worker.upstream.controllers(),
        "ready": true,
    }))
    .into_response()
}

/// Any other request goes to a controller as it came.
async fn pass_on(State(worker): State<Arc<Worker>>, request: Request) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    if !path.starts_with("/api/v1/") {
        return error(StatusCode::NOT_FOUND, "no such route".into());
    }
    let method = request.method().clone();
    let body = match axum::body::to_bytes(request.into_body(), 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return error(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
    };
    let Ok(method) = reqwest::Method::from_bytes(method.as_str().as_bytes()) else {
        return error(StatusCode::METHOD_NOT_ALLOWED, "no such method".into());
    };
    match worker.upstream.send(method, &path, body).await {
        Ok(r) => super::api::relay(r).await,
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}
