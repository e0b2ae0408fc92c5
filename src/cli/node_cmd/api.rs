//! A controller's public API (HTTP/JSON under `/api/v1/`): the nodes, joins and
//! membership changes, the store, leases, and watches over WebSocket.
//!
//! - `GET /api/v1/status`: this node's own view (id, role, leader, term, ready).
//! - `GET /api/v1/nodes`: every node the registry or the raft membership knows, with
//!   role (leader / follower / learner / worker), state (Ready while its heartbeat lease
//!   lives and, for a controller, while it answers) and lease age.
//! - `DELETE /api/v1/nodes/{name}`: removes a node: a controller leaves the raft group
//!   by joint consensus; its record and heartbeat go.
//! - `POST /api/v1/join` `{token, role, api, raft?, id?}`: a node asks for an id (or
//!   presents the one it has) with the bootstrap token; answers `{id, name, controllers}`.
//! - `POST /api/v1/members` `{token, id}`: the joined controller `id` becomes a voter.
//! - `GET /api/v1/store?prefix=P`, `GET|PUT|DELETE /api/v1/store/{key}`; a PUT may carry
//!   `if_value=V` or `if_revision=N` (compare-and-swap: 409 with the current key when it
//!   fails; revision 0 means "does not exist") and `lease=ID`.
//! - `POST /api/v1/leases` `{ttl_ms}`, `POST /api/v1/leases/{id}/keepalive`.
//! - `GET /api/v1/watch?prefix=P&from=R`: a WebSocket of events (see `watch`).
//!
//! Membership changes run on the leader: another controller forwards the request to the
//! leader's API as it came. Every refusal is a 4xx with `{"error": reason}`; a request
//! the group could not take in time is a 503.

use super::registry::{self, Failed, Record, Role};
use super::watch;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use weft_resources::raft::{Controller, ControllerError};
use weft_resources::{Command, Compare, CompareOp, KeyValue, LeaseId, Op, OpReply, Outcome};

/// How long `nodes` waits for each member's own view.
const STATUS_TIMEOUT: Duration = Duration::from_millis(800);

/// The most keys one listing returns.
const LIST_MAX: usize = 1000;

/// A controller, as its API sees it.
pub struct Node {
    pub controller: Arc<Controller>,
    /// API URLs of the members named by `--members`, by id.
    pub apis: BTreeMap<u64, String>,
    pub client: reqwest::Client,
}

pub fn router(node: Arc<Node>) -> Router {
    routes(node).fallback(|| async { error(StatusCode::NOT_FOUND, "no such route".into()) })
}

/// The routes, without a fallback (to serve beside others).
pub fn routes(node: Arc<Node>) -> Router {
    Router::new()
        .route("/api/v1/nodes", get(nodes))
        .route("/api/v1/nodes/{name}", delete(delete_node))
        .route("/api/v1/status", get(status))
        .route("/api/v1/join", post(join))
        .route("/api/v1/members", post(add_member))
        .route("/api/v1/store", get(list))
        .route(
            "/api/v1/store/{*key}",
            get(get_key).put(put_key).delete(delete_key),
        )
        .route("/api/v1/leases", post(grant))
        .route("/api/v1/leases/{id}/keepalive", post(keepalive))
        .route("/api/v1/kv", post(super::kv_route::route))
        .route("/api/v1/watch", get(watch::route))
        .route("/api/v1/resources", get(super::resources::list_route))
        .route(
            "/api/v1/resources/{program}/{name}",
            get(super::resources::get_route),
        )
        .route("/api/v1/programs", get(super::programs::list_route))
        .route("/api/v1/cells", get(super::programs::cells_route))
        .route(
            "/api/v1/secrets/{program}/{name}",
            axum::routing::put(super::secrets::set_route),
        )
        .route(
            "/api/v1/programs/{name}",
            get(super::programs::get_route)
                .post(super::programs::deploy_route)
                .delete(super::programs::destroy_route)
                .layer(axum::extract::DefaultBodyLimit::max(
                    super::programs::MODULE_MAX + 1,
                )),
        )
        .with_state(node)
}

pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(weft_resources::raft::MEMBERSHIP_TIMEOUT + Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())
}

pub fn error(status: StatusCode, reason: String) -> Response {
    (status, Json(json!({ "error": reason }))).into_response()
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

fn failed(e: Failed) -> Response {
    match e {
        Failed::Refused(r) => error(StatusCode::BAD_REQUEST, r.to_string()),
        Failed::Unavailable(e) => unavailable(e),
    }
}

/// This node's own view: its id, whether it leads, the leader it knows of, Ready when it
/// runs and knows a leader.
fn own_status(node: &Node) -> Value {
    let m = node.controller.metrics();
    let ready = m.running_state.is_ok() && m.current_leader.is_some();
    json!({
        "id": m.id,
        "name": registry::name(m.id),
        "role": "controller",
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

/// The registry's records and heartbeat keys, read linearizably, with the store's clock.
async fn registry_view(node: &Node) -> Result<(Vec<Record>, Vec<KeyValue>, u64), Response> {
    let read = node
        .controller
        .read(|s| {
            let records = s.range(registry::NODES.as_bytes(), None, None)?;
            let leases = s.range(registry::LEASES.as_bytes(), None, None)?;
            Ok::<_, weft_resources::StoreError>((records.kvs, leases.kvs, s.clock_ms()))
        })
        .await;
    match read {
        Ok(Ok((records, leases, clock))) => Ok((registry::records(&records), leases, clock)),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(unavailable(e)),
    }
}

async fn nodes(State(node): State<Arc<Node>>) -> Response {
    let (records, leases, clock) = match registry_view(&node).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let me = node.controller.id();
    let leader = node.controller.leader();
    let membership = node.controller.membership();
    // Every node: the records, and members without one (a member that never started).
    let mut all: BTreeMap<u64, Record> = records.into_iter().map(|r| (r.id, r)).collect();
    for (id, addr) in membership.voters.iter().chain(&membership.learners) {
        all.entry(*id).or_insert_with(|| Record {
            id: *id,
            name: registry::name(*id),
            role: Role::Controller,
            raft: addr.clone(),
            api: node.apis.get(id).cloned().unwrap_or_default(),
            cpu_milli: 0,
            memory_bytes: 0,
        });
    }
    let mut asks = Vec::new();
    for record in all.into_values() {
        let client = node.client.clone();
        let own = (record.id == me).then(|| own_status(&node));
        asks.push(tokio::spawn(async move {
            let view = match own {
                Some(view) => Some(view),
                None if record.role == Role::Controller && !record.api.is_empty() => {
                    let got = client
                        .get(format!("{}/api/v1/status", record.api))
                        .timeout(STATUS_TIMEOUT)
                        .send()
                        .await;
                    match got {
                        Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
                        _ => None,
                    }
                }
                None => None,
            };
            (record, view)
        }));
    }
    let mut rows = Vec::new();
    for ask in asks {
        let Ok((record, view)) = ask.await else {
            continue;
        };
        let heartbeat = leases
            .iter()
            .find(|kv| kv.key == registry::lease_key(&record.name).as_bytes());
        let lease_age = heartbeat
            .and_then(|kv| kv.lease)
            .and_then(|id| node.controller.store().lease(id))
            // A lease renewed since the last expiry tick has no deadline yet: it is new.
            .map(|info| match info.deadline_ms {
                Some(deadline) => clock.saturating_sub(deadline.saturating_sub(info.ttl_ms)),
                None => 0,
            });
        let answers = match record.role {
            Role::Controller => view
                .as_ref()
                .and_then(|v| v.get("ready"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            Role::Worker => true,
        };
        let role = match record.role {
            Role::Worker => "worker",
            Role::Controller if leader == Some(record.id) => "leader",
            Role::Controller if membership.voters.contains_key(&record.id) => "follower",
            Role::Controller if membership.learners.contains_key(&record.id) => "learner",
            Role::Controller => "removed",
        };
        let ready = heartbeat.is_some() && answers;
        rows.push(json!({
            "id": record.id,
            "name": record.name,
            "address": record.raft.clone().unwrap_or_else(|| {
                record.api.trim_start_matches("http://").to_string()
            }),
            "api": record.api,
            "role": role,
            "state": if ready { "Ready" } else { "NotReady" },
            "lease_age_ms": lease_age,
            "lease_age": lease_age.map_or("-".to_string(), |ms| format!("{:.1}s", ms as f64 / 1000.0)),
        }));
    }
    Json(Value::Array(rows)).into_response()
}

/// Another node's answer, passed back as it came (status and JSON body).
pub async fn relay(answer: reqwest::Response) -> Response {
    let status =
        StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match answer.bytes().await {
        Ok(bytes) => (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::BAD_GATEWAY,
            format!("the answer broke off: {e}"),
        ),
    }
}

/// A query string, or why it is refused, saying what the route takes.
pub fn query<T>(
    query: Result<Query<T>, axum::extract::rejection::QueryRejection>,
    takes: &str,
) -> Result<T, String> {
    query
        .map(|Query(q)| q)
        .map_err(|e| format!("{} ({takes})", e.body_text()))
}

/// Sends the request on to the leader's API when this node does not lead; `None` when
/// this node leads and should handle it.
async fn to_leader(node: &Node, method: Method, path: &str, body: Bytes) -> Option<Response> {
    let metrics = node.controller.metrics();
    if metrics.state.is_leader() {
        return None;
    }
    let Some(leader) = metrics.current_leader else {
        return Some(unavailable("no leader is known; try again"));
    };
    let api = match registry_view(node).await {
        Ok((records, _, _)) => records
            .into_iter()
            .find(|r| r.id == leader)
            .map(|r| r.api)
            .or_else(|| node.apis.get(&leader).cloned()),
        Err(response) => return Some(response),
    };
    let Some(api) = api else {
        return Some(unavailable(format!(
            "the leader's ({leader}) API is unknown"
        )));
    };
    let sent = node
        .client
        .request(method, format!("{api}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    Some(match sent {
        Ok(r) => relay(r).await,
        Err(e) => unavailable(format!("the leader ({api}): {e}")),
    })
}

/// Checks `token` against the cluster's.
async fn check_token(node: &Node, token: &str) -> Result<(), Response> {
    let stored = node
        .controller
        .read(|s| s.get(registry::TOKEN.as_bytes(), None))
        .await;
    match stored {
        Ok(Ok(Some(kv))) if kv.value == registry::token_hash(token).as_bytes() => Ok(()),
        Ok(Ok(Some(_))) => Err(error(
            StatusCode::FORBIDDEN,
            "the join token is not this cluster's".into(),
        )),
        Ok(Ok(None)) => Err(error(
            StatusCode::FORBIDDEN,
            "this cluster takes no joins: its first controller was started without --token".into(),
        )),
        Ok(Err(e)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        Err(e) => Err(unavailable(e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Join {
    token: String,
    role: Role,
    api: String,
    #[serde(default)]
    raft: Option<String>,
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    cpu_milli: u64,
    #[serde(default)]
    memory_bytes: u64,
}

async fn join(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    let join: Join = match serde_json::from_slice(&body) {
        Ok(j) => j,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a join request: {e}")),
    };
    if let Err(response) = check_token(&node, &join.token).await {
        return response;
    }
    if !join.api.starts_with("http://") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`api` must be an http:// URL, not `{}`", join.api),
        );
    }
    if (join.role == Role::Controller) != join.raft.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "a controller joins with its raft address, a worker without one".into(),
        );
    }
    for _ in 0..8 {
        let (records, _, _) = match registry_view(&node).await {
            Ok(view) => view,
            Err(response) => return response,
        };
        let (id, claim) = match join.id {
            Some(id) => match records.iter().find(|r| r.id == id) {
                Some(r) if r.role == join.role => (id, false),
                Some(r) => {
                    return error(
                        StatusCode::CONFLICT,
                        format!(
                            "{} is a {}, not a {}",
                            r.name,
                            r.role.as_str(),
                            join.role.as_str()
                        ),
                    )
                }
                None => {
                    return error(
                        StatusCode::NOT_FOUND,
                        format!(
                            "no node {} in this cluster (was it deleted?)",
                            registry::name(id)
                        ),
                    )
                }
            },
            None => {
                let given = node
                    .controller
                    .read(|s| s.range(registry::IDS.as_bytes(), None, None))
                    .await;
                let given = match given {
                    Ok(Ok(range)) => range.kvs,
                    Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                    Err(e) => return unavailable(e),
                };
                let members = node.controller.membership();
                let ids = members
                    .voters
                    .keys()
                    .chain(members.learners.keys())
                    .copied();
                (registry::next_id(&given, ids), true)
            }
        };
        let record = Record {
            id,
            name: registry::name(id),
            role: join.role,
            raft: join.raft.clone(),
            api: join.api.trim_end_matches('/').to_string(),
            cpu_milli: join.cpu_milli,
            memory_bytes: join.memory_bytes,
        };
        match registry::put_record(&node.controller, &record, claim).await {
            Ok(true) => {
                let mut controllers: Vec<String> = records
                    .iter()
                    .filter(|r| r.role == Role::Controller && !r.api.is_empty())
                    .map(|r| r.api.clone())
                    .collect();
                controllers.sort();
                controllers.dedup();
                return Json(json!({
                    "id": id,
                    "name": record.name,
                    "controllers": controllers,
                }))
                .into_response();
            }
            Ok(false) => continue,
            Err(e) => return failed(e),
        }
    }
    unavailable("could not claim an id: too many nodes joining at once; try again")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMember {
    token: String,
    id: u64,
}

async fn add_member(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    let add: AddMember = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("not a member request: {e}"),
            )
        }
    };
    if let Err(response) = check_token(&node, &add.token).await {
        return response;
    }
    if let Some(forwarded) = to_leader(&node, Method::POST, "/api/v1/members", body).await {
        return forwarded;
    }
    let record = match registry_view(&node).await {
        Ok((records, _, _)) => records.into_iter().find(|r| r.id == add.id),
        Err(response) => return response,
    };
    let Some(Record {
        role: Role::Controller,
        raft: Some(raft),
        ..
    }) = record
    else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{} has not joined as a controller", registry::name(add.id)),
        );
    };
    if node.controller.membership().voters.contains_key(&add.id) {
        return Json(json!({ "id": add.id, "voter": true })).into_response();
    }
    match node.controller.add_voter(add.id, raft).await {
        Ok(()) => Json(json!({ "id": add.id, "voter": true })).into_response(),
        Err(e) => membership_error(e),
    }
}

fn membership_error(e: ControllerError) -> Response {
    match e {
        ControllerError::Raft(reason) => error(StatusCode::CONFLICT, reason),
        other => unavailable(other),
    }
}

async fn delete_node(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    let Some(id) = registry::id_of(&name) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`{name}` is not a node name (node-N)"),
        );
    };
    let (records, leases, _) = match registry_view(&node).await {
        Ok(view) => view,
        Err(response) => return response,
    };
    let record = records.iter().find(|r| r.id == id);
    let voter = node.controller.membership().voters.contains_key(&id);
    if record.is_none() && !voter {
        return error(StatusCode::NOT_FOUND, format!("no node `{name}`"));
    }
    if voter {
        let path = format!("/api/v1/nodes/{name}");
        if let Some(forwarded) = to_leader(&node, Method::DELETE, &path, Bytes::new()).await {
            return forwarded;
        }
        if let Err(e) = node.controller.remove_voter(id).await {
            return membership_error(e);
        }
    }
    // The record goes; so does the heartbeat's lease, with its key.
    let lease = leases
        .iter()
        .find(|kv| kv.key == registry::lease_key(&name).as_bytes())
        .and_then(|kv| kv.lease);
    if let Some(lease) = lease {
        let _ = registry::write(&node.controller, Command::LeaseRevoke { id: lease }).await;
    }
    match registry::write(
        &node.controller,
        Command::delete(registry::record_key(&name)),
    )
    .await
    {
        Ok(_) => Json(json!({ "deleted": name })).into_response(),
        Err(e) => failed(e),
    }
}

pub fn kv_json(kv: &KeyValue) -> Value {
    json!({
        "key": String::from_utf8_lossy(&kv.key),
        "value": String::from_utf8_lossy(&kv.value),
        "create_revision": kv.create_revision,
        "mod_revision": kv.mod_revision,
        "version": kv.version,
        "lease": kv.lease.map(|l| l.0),
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

/// The query a PUT takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutQuery {
    if_value: Option<String>,
    if_revision: Option<u64>,
    lease: Option<u64>,
}

async fn put_key(
    State(node): State<Arc<Node>>,
    Path(key): Path<String>,
    put: Result<Query<PutQuery>, axum::extract::rejection::QueryRejection>,
    value: Bytes,
) -> Response {
    let query = match query(put, "a PUT takes if_value, if_revision and lease") {
        Ok(q) => q,
        Err(why) => return error(StatusCode::BAD_REQUEST, why),
    };
    let compare = match (query.if_value, query.if_revision) {
        (Some(_), Some(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "give if_value or if_revision, not both".into(),
            )
        }
        (Some(v), None) => vec![Compare::value(key.clone(), CompareOp::Equal, v)],
        (None, Some(r)) => vec![Compare::mod_revision(key.clone(), CompareOp::Equal, r)],
        (None, None) => vec![],
    };
    let lease = query.lease.map(LeaseId);
    let command = if compare.is_empty() {
        Command::Put {
            key: key.clone().into_bytes(),
            value: value.to_vec(),
            lease,
            prev_kv: false,
        }
    } else {
        Command::Txn {
            compare,
            success: vec![Op::Put {
                key: key.clone().into_bytes(),
                value: value.to_vec(),
                lease,
                prev_kv: false,
            }],
            failure: vec![Op::Get {
                keys: weft_resources::Keys::One(key.clone().into_bytes()),
                limit: Some(1),
            }],
        }
    };
    match node.controller.write(command).await {
        Ok(Ok(reply)) => match reply.outcome {
            Outcome::Txn(txn) if !txn.succeeded => {
                let current = txn.responses.iter().find_map(|r| match r {
                    OpReply::Get(range) => range.kvs.first().map(kv_json),
                    _ => None,
                });
                (
                    StatusCode::CONFLICT,
                    Json(json!({
                        "error": format!("the compare failed: `{key}` {}", match &current {
                            Some(kv) => format!("is at revision {} with another value", kv["mod_revision"]),
                            None => "does not exist".to_string(),
                        }),
                        "succeeded": false,
                        "current": current,
                    })),
                )
                    .into_response()
            }
            Outcome::Txn(_) => {
                Json(json!({ "revision": reply.revision, "succeeded": true })).into_response()
            }
            _ => Json(json!({ "revision": reply.revision })).into_response(),
        },
        Ok(Err(rejection)) => error(StatusCode::BAD_REQUEST, rejection.to_string()),
        Err(e) => unavailable(e),
    }
}

async fn delete_key(State(node): State<Arc<Node>>, Path(key): Path<String>) -> Response {
    match registry::write(&node.controller, Command::delete(key.clone())).await {
        Ok(Outcome::Delete(d)) if d.deleted == 0 => {
            error(StatusCode::NOT_FOUND, format!("no key `{key}`"))
        }
        Ok(_) => Json(json!({ "deleted": 1 })).into_response(),
        Err(e) => failed(e),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    ttl_ms: u64,
}

async fn grant(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    let grant: Grant = match serde_json::from_slice(&body) {
        Ok(g) => g,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a lease request: {e}")),
    };
    let command = Command::LeaseGrant {
        id: None,
        ttl_ms: grant.ttl_ms,
    };
    match registry::write(&node.controller, command).await {
        Ok(Outcome::LeaseGrant { id, ttl_ms }) => {
            Json(json!({ "id": id.0, "ttl_ms": ttl_ms })).into_response()
        }
        Ok(other) => unavailable(format!("unexpected answer {other:?}")),
        Err(e) => failed(e),
    }
}

async fn keepalive(State(node): State<Arc<Node>>, Path(id): Path<u64>) -> Response {
    match registry::write(
        &node.controller,
        Command::LeaseKeepAlive { id: LeaseId(id) },
    )
    .await
    {
        Ok(Outcome::LeaseKeepAlive { id, ttl_ms }) => {
            Json(json!({ "id": id.0, "ttl_ms": ttl_ms })).into_response()
        }
        Ok(other) => unavailable(format!("unexpected answer {other:?}")),
        Err(Failed::Refused(r)) => error(StatusCode::NOT_FOUND, r.to_string()),
        Err(e) => failed(e),
    }
}
