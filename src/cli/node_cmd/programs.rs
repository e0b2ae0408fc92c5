//! Programs deployed to the cluster. `weft deploy` sends a module here; the controller
//! that takes it runs `main` with the cluster's resources (each `new` an ensure), then
//! stores the module content-addressed (`/modules/ID`) and the program's record
//! (`/programs/NAME`: version, module, what `main` allocated, history). A worker passes
//! these requests on to a controller like any other.
//!
//! - `POST /api/v1/programs/{name}` (the module's bytes): deploys. The same module again
//!   changes nothing (`main` does not run again); a `new` whose resource the cluster
//!   holds with another kind or type is a 409 with each conflicting site's index and why;
//!   a `main` that fails is a 422 with what it printed, and nothing is recorded.
//! - `GET /api/v1/programs`, `GET /api/v1/programs/{name}`: the records.
//! - `DELETE /api/v1/programs/{name}[?prune=true]`: releases the program's resources
//!   (their data goes) and its record; with `prune`, only its orphaned resources.

use super::api::{error, Node};
use super::resources::{Cluster, Local};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use weft_compiler::Artifact;
use weft_resources::kinds::{self, Kv};
use weft_resources::{Command, Compare, CompareOp, Op};
use weft_runtime::agents::{Node as ProgramNode, NodeSettings};
use weft_runtime::{Output, RunLimits, Runtime};

/// Where program records live.
pub const PROGRAMS: &str = "/programs/";
/// Where modules live, by id.
pub const MODULES: &str = "/modules/";

/// How long `main` may run on the cluster.
const MAIN_TIME_LIMIT: Duration = Duration::from_secs(30);
/// The most memory `main` may use on the cluster.
const MAIN_MEMORY_MIB: u64 = 256;
/// The most versions a record remembers.
const HISTORY_MAX: usize = 50;
/// The largest module a deploy takes (a value in the store is at most 1.5 MiB).
pub const MODULE_MAX: usize = weft_resources::limits::VALUE_LEN_MAX;

/// A deployed program, as `weft get programs` shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Program {
    pub name: String,
    /// 1 for the first module deployed, one more for each different one.
    pub version: u64,
    /// The module's id (blake3 of its bytes, hex).
    pub module: String,
    /// Where it was deployed from: the root file's name.
    pub file: String,
    /// When (ms since the epoch) and through which node.
    pub deployed_ms: u64,
    pub deployed_on: String,
    /// The resources its `main` allocated, by name.
    pub resources: Vec<String>,
    /// Every version deployed, oldest first: (version, module, ms).
    pub history: Vec<(u64, String, u64)>,
}

fn program_key(name: &str) -> Vec<u8> {
    format!("{PROGRAMS}{name}").into_bytes()
}

fn module_key(id: &str) -> Vec<u8> {
    format!("{MODULES}{id}").into_bytes()
}

/// Why `name` cannot name a program, if it cannot.
pub fn name_problem(name: &str) -> Option<String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 {
        Some("a program's name has 1 to 64 characters".into())
    } else if !name.chars().all(ok) || name.starts_with('.') {
        Some(format!(
            "`{name}` is not a program name (letters, digits, `-`, `_` and `.`, not first)"
        ))
    } else {
        None
    }
}

/// The record of program `name`, with its mod revision.
pub fn get(kv: &dyn Kv, name: &str) -> Result<Option<(Program, u64)>, String> {
    let Some(pair) = kinds::get_key(kv, &program_key(name))? else {
        return Ok(None);
    };
    let program = serde_json::from_slice(&pair.value)
        .map_err(|e| format!("the record of program `{name}` is damaged: {e}"))?;
    Ok(Some((program, pair.mod_revision)))
}

/// Every program's record.
pub fn list(kv: &dyn Kv) -> Result<Vec<Program>, String> {
    Ok(kv
        .range(PROGRAMS.as_bytes(), None)?
        .iter()
        .filter_map(|p| serde_json::from_slice(&p.value).ok())
        .collect())
}

/// Records `artifact` as program `name`'s current version (a new version unless it is
/// the module already recorded), with the resources its `main` allocated. Refused when
/// the record changed since `before` was read (another deploy got there first). The
/// module is stored already ([`store_module`], before `main` ran).
pub fn record(
    kv: &dyn Kv,
    name: &str,
    artifact: &Artifact,
    allocated: Vec<String>,
    before: Option<(Program, u64)>,
    node: &str,
) -> Result<Program, String> {
    let now = kinds::now_ms();
    let module = artifact.id.to_string();
    let (revision, program) = match before {
        Some((mut p, revision)) => {
            if p.module != module {
                p.version += 1;
                p.module = module.clone();
                p.history.push((p.version, module.clone(), now));
                let extra = p.history.len().saturating_sub(HISTORY_MAX);
                p.history.drain(..extra);
            }
            p.deployed_ms = now;
            p.deployed_on = node.to_string();
            p.resources = allocated;
            p.file = root_file(artifact);
            (revision, p)
        }
        None => (
            0,
            Program {
                name: name.to_string(),
                version: 1,
                module: module.clone(),
                file: root_file(artifact),
                deployed_ms: now,
                deployed_on: node.to_string(),
                resources: allocated,
                history: vec![(1, module.clone(), now)],
            },
        ),
    };
    let value = serde_json::to_vec(&program).map_err(|e| e.to_string())?;
    let reply = kv.write(Command::Txn {
        compare: vec![Compare::mod_revision(
            program_key(name),
            CompareOp::Equal,
            revision,
        )],
        success: vec![Op::Put {
            key: program_key(name),
            value,
            lease: None,
            prev_kv: false,
        }],
        failure: vec![],
    })?;
    match reply.outcome {
        weft_resources::Outcome::Txn(t) if !t.succeeded => Err(format!(
            "program `{name}` was deployed by someone else meanwhile: deploy again"
        )),
        _ => Ok(program),
    }
}

/// Stores `artifact`'s module at `/modules/ID` (unless it is there): the Cells its
/// `main` allocates run it.
pub fn store_module(kv: &dyn Kv, artifact: &Artifact) -> Result<(), String> {
    let key = module_key(&artifact.id.to_string());
    kv.write(Command::Txn {
        compare: vec![Compare::mod_revision(key.clone(), CompareOp::Equal, 0)],
        success: vec![Op::Put {
            key,
            value: artifact.wasm.clone(),
            lease: None,
            prev_kv: false,
        }],
        failure: vec![],
    })
    .map(|_| ())
}

/// The module stored under `id`.
pub fn load_module(kv: &dyn Kv, id: &str) -> Result<Artifact, String> {
    let pair = kinds::get_key(kv, &module_key(id))?
        .ok_or_else(|| format!("no module {id} in the cluster"))?;
    Artifact::from_wasm(pair.value)
}

fn root_file(artifact: &Artifact) -> String {
    artifact
        .sources
        .first()
        .map(|(f, _)| f.clone())
        .unwrap_or_default()
}

/// What [`destroy`] released.
#[derive(Debug, Default, Serialize)]
pub struct Released {
    /// Whether the program has a record.
    pub known: bool,
    /// The resources released, by name.
    pub resources: Vec<String>,
    /// Whether the program's record went (not with `prune`).
    pub program: bool,
}

/// Releases program `name`'s resources and record, or with `prune` only its orphaned
/// resources; a module no program's history names any more goes too.
pub fn destroy(kv: &dyn Kv, name: &str, prune: bool) -> Result<Released, String> {
    let found = get(kv, name)?;
    let mut released = Released {
        known: found.is_some(),
        resources: kinds::release(kv, name, prune)?,
        program: false,
    };
    let (Some((program, revision)), false) = (found, prune) else {
        return Ok(released);
    };
    let kept: std::collections::HashSet<String> = list(kv)?
        .into_iter()
        .filter(|p| p.name != name)
        .flat_map(|p| p.history.into_iter().map(|(_, m, _)| m))
        .collect();
    let mut modules: Vec<String> = program
        .history
        .iter()
        .map(|(_, m, _)| m.clone())
        .chain([program.module.clone()])
        .filter(|m| !kept.contains(m))
        .collect();
    modules.sort();
    modules.dedup();
    let mut success: Vec<Op> = modules
        .iter()
        .map(|m| Op::Delete {
            keys: weft_resources::Keys::One(module_key(m)),
            prev_kv: false,
        })
        .collect();
    success.push(Op::Delete {
        keys: weft_resources::Keys::One(program_key(name)),
        prev_kv: false,
    });
    kv.write(Command::Txn {
        compare: vec![Compare::mod_revision(
            program_key(name),
            CompareOp::Equal,
            revision,
        )],
        success,
        failure: vec![],
    })?;
    released.program = true;
    Ok(released)
}

/// The runtime deployed programs' `main`s and Cells run on: one per process, made on
/// first use.
pub fn runtime() -> Result<Arc<Runtime>, String> {
    static RUNTIME: OnceLock<Result<Arc<Runtime>, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            crate::cli::node::runtime(&main_limits())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
}

fn main_limits() -> RunLimits {
    RunLimits {
        deadline_ms: Some(MAIN_TIME_LIMIT.as_millis() as u64),
        memory_max_bytes: (MAIN_MEMORY_MIB << 20) as usize,
        ..RunLimits::default()
    }
}

/// A deploy that did not go through: the status and the answer's body.
pub(super) type Refused = (StatusCode, Value);

pub(super) fn refused(status: StatusCode, reason: impl Into<String>) -> Refused {
    (status, json!({ "error": reason.into() }))
}

/// Deploys `artifact` as program `name` through `kv` (see the module's description);
/// blocks while `main` runs.
pub fn deploy(
    kv: Arc<dyn Kv>,
    name: &str,
    artifact: Artifact,
    data: &std::path::Path,
    node_name: &str,
) -> Result<Value, Refused> {
    let unavailable = |e: String| refused(StatusCode::SERVICE_UNAVAILABLE, e);
    let Some(main) = artifact.main_export.clone() else {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the program has no `fn main()`",
        ));
    };
    if let Some(agent) = artifact.manifest.agents.first() {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the program declares agents (`{}`), and agents are not placed on a cluster yet: run it with `weft run`",
                agent.name
            ),
        ));
    }
    let before = get(&*kv, name).map_err(unavailable)?;
    let module = artifact.id.to_string();
    if let Some((p, _)) = before.as_ref().filter(|(p, _)| p.module == module) {
        return Ok(json!({
            "program": name,
            "version": p.version,
            "module": module,
            "unchanged": true,
        }));
    }
    let cluster = Arc::new(Cluster::new(kv.clone(), name));
    cluster.set_module(module.clone());
    let conflicts = cluster
        .check(&artifact.manifest.resources)
        .map_err(unavailable)?;
    if !conflicts.is_empty() {
        let sites: Vec<Value> = conflicts
            .iter()
            .map(|(i, why)| {
                let at = artifact.manifest.resources.get(*i).map(|s| s.at.clone());
                json!({ "site": i, "at": at, "why": why })
            })
            .collect();
        return Err((
            StatusCode::CONFLICT,
            json!({
                "error": format!(
                    "{} of the program's resources would not fit the cluster's",
                    conflicts.len()
                ),
                "conflicts": sites,
            }),
        ));
    }
    let rt = runtime().map_err(|e| refused(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    store_module(&*kv, &artifact).map_err(unavailable)?;
    let (out, errors) = (Output::buffer(), Output::buffer());
    let mut settings = NodeSettings::new(data.join("programs").join(name));
    settings.program = name.to_string();
    settings.main_limits = main_limits();
    let node = ProgramNode::new(
        rt,
        Arc::new(artifact.clone()),
        out.clone(),
        errors.clone(),
        settings,
    );
    node.set_resources(cluster.clone());
    let ran = node.run_main(&main, &main_limits());
    node.stop(MAIN_TIME_LIMIT);
    if let Err(e) = ran {
        // The module goes unless a version of the program runs it.
        let named = before
            .as_ref()
            .is_some_and(|(p, _)| p.history.iter().any(|(_, m, _)| *m == module));
        if !named {
            let _ = kv.write(Command::Delete {
                keys: weft_resources::Keys::One(module_key(&module)),
                prev_kv: false,
            });
        }
        let mut said = errors.take();
        said.push_str(&format!("{e}\n"));
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "error": "`main` failed, and nothing was recorded",
                "output": out.take(),
                "errors": said,
            }),
        ));
    }
    let allocated = cluster.allocated();
    let orphans = cluster.finish_main().map_err(unavailable)?;
    let program = record(&*kv, name, &artifact, allocated, before, node_name)
        .map_err(|e| refused(StatusCode::CONFLICT, e))?;
    Ok(json!({
        "program": name,
        "version": program.version,
        "module": module,
        "resources": program.resources,
        "orphans": orphans,
        "output": out.take(),
        "errors": errors.take(),
    }))
}

fn local(node: &Node) -> Arc<dyn Kv> {
    Arc::new(Local {
        controller: Arc::downgrade(&node.controller),
        handle: tokio::runtime::Handle::current(),
    })
}

/// Runs `work` with the store on the blocking pool (the store is reached blocking).
pub(super) async fn blocking<T: Send + 'static>(
    node: &Node,
    work: impl FnOnce(Arc<dyn Kv>) -> Result<T, Refused> + Send + 'static,
) -> Result<T, Refused> {
    let kv = local(node);
    match tokio::task::spawn_blocking(move || work(kv)).await {
        Ok(r) => r,
        Err(e) => Err(refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

pub(super) fn answer(r: Result<Value, Refused>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err((status, body)) => (status, Json(body)).into_response(),
    }
}

/// One deploy at a time on a controller: `main`s of one program must not interleave.
static DEPLOYING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `POST /api/v1/programs/{name}`.
pub async fn deploy_route(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(problem) = name_problem(&name) {
        return error(StatusCode::BAD_REQUEST, problem);
    }
    if body.len() > MODULE_MAX {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the module has {} bytes; a deploy takes at most {MODULE_MAX}",
                body.len()
            ),
        );
    }
    let artifact = match Artifact::from_wasm(body.to_vec()) {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not a Weft module: {e}"),
            )
        }
    };
    let _one = DEPLOYING.lock().await;
    let data = node.controller.dir().to_path_buf();
    let me = super::registry::name(node.controller.id());
    answer(blocking(&node, move |kv| deploy(kv, &name, artifact, &data, &me)).await)
}

/// `GET /api/v1/programs`.
pub async fn list_route(State(node): State<Arc<Node>>) -> Response {
    answer(
        blocking(&node, |kv| {
            list(&*kv)
                .map(|l| json!(l))
                .map_err(|e| refused(StatusCode::SERVICE_UNAVAILABLE, e))
        })
        .await,
    )
}

/// `GET /api/v1/cells`: every Cell instance's status.
pub async fn cells_route(State(node): State<Arc<Node>>) -> Response {
    answer(
        blocking(&node, |kv| {
            super::cells::statuses(&*kv)
                .map(|l| json!(l))
                .map_err(|e| refused(StatusCode::SERVICE_UNAVAILABLE, e))
        })
        .await,
    )
}

/// `GET /api/v1/programs/{name}`.
pub async fn get_route(State(node): State<Arc<Node>>, Path(name): Path<String>) -> Response {
    answer(
        blocking(&node, move |kv| match get(&*kv, &name) {
            Ok(Some((p, _))) => Ok(json!(p)),
            Ok(None) => Err(refused(
                StatusCode::NOT_FOUND,
                format!("no program `{name}`"),
            )),
            Err(e) => Err(refused(StatusCode::SERVICE_UNAVAILABLE, e)),
        })
        .await,
    )
}

/// `DELETE /api/v1/programs/{name}[?prune=true]`.
pub async fn destroy_route(
    State(node): State<Arc<Node>>,
    Path(name): Path<String>,
    query: Result<Query<BTreeMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(other) = query.keys().find(|k| k.as_str() != "prune") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown parameter `{other}` (only `prune`)"),
        );
    }
    let prune = match query.get("prune").map(String::as_str) {
        None | Some("false") => false,
        Some("true") | Some("") => true,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("prune is true or false, not `{other}`"),
            )
        }
    };
    let _one = DEPLOYING.lock().await;
    answer(
        blocking(&node, move |kv| {
            let released = destroy(&*kv, &name, prune)
                .map_err(|e| refused(StatusCode::SERVICE_UNAVAILABLE, e))?;
            if !released.known && released.resources.is_empty() {
                return Err(refused(
                    StatusCode::NOT_FOUND,
                    format!("no program `{name}` and no resources of it"),
                ));
            }
            Ok(json!({ "program": name, "released": released.resources, "removed": released.program }))
        })
        .await,
    )
}
