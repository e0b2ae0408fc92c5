//! `weft node`: one node of the cluster in this process, a controller or a worker.
//!
//! A controller (`--controller`) is a raft voter holding the replicated store: it serves
//! its raft routes on `--listen` and the public API (`api`) on `--api`. A group starts
//! from a static `--members` map (the member with the lowest id initializes it when its
//! store is empty), or a controller joins a running group with `--join URL --token
//! TOKEN` and becomes a voter by joint consensus. A worker (no `--controller`) joins with
//! `--join URL --token TOKEN` and serves its API on `--listen` (`worker`). Every node keeps
//! a heartbeat lease (`registry`); the leader ends the leases nobody renews, and a node
//! without one is NotReady. What a node was given by the cluster (its id and role) is
//! kept in `DATA/node.json`, so a restart comes back as the same node. Ctrl-C or SIGTERM
//! shuts down cleanly.

mod api;
pub mod cells;
pub mod embedded;
mod kv_route;
pub mod lb;
pub mod programs;
mod registry;
mod remote_kv;
pub mod resources;
pub mod secrets;
mod watch;
mod worker;

use crate::{Exit, Io};
use registry::{Record, Role};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use weft_resources::raft::{BasicNode, Controller};
use weft_resources::{Command, Compare, CompareOp, Op};

/// How long a join request may take (a controller's catch-up included).
const JOIN_TIMEOUT: Duration = Duration::from_secs(45);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the node keeps its data (created if need be).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// A controller's raft address (its address in the group); a worker's API address.
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// The address a controller's public API (`/api/v1/`) listens on.
    #[arg(long, value_name = "ADDR")]
    pub api: Option<String>,
    /// Run a controller (a member of the replicated store); else a worker.
    #[arg(long)]
    pub controller: bool,
    /// A controller's id in a group started from `--members` (not 0).
    #[arg(long, value_name = "N")]
    pub id: Option<u64>,
    /// Every member, `ID=RAFT_ADDR[@API_ADDR]`, comma-separated (default: this node alone).
    #[arg(long, value_name = "MEMBERS")]
    pub members: Option<String>,
    /// Join the cluster whose controller API is at URL (several, comma-separated).
    #[arg(long, value_name = "URL")]
    pub join: Option<String>,
    /// The bootstrap token: what joining nodes must present (given to the first
    /// controllers, it becomes the cluster's).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The heartbeat lease's TTL in milliseconds: a node unheard of this long is
    /// NotReady.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub lease_ttl_ms: u64,
    /// Run a load balancer provider here, in front of every exposed HttpService's ready
    /// endpoints: `nginx` (found on PATH; its files under `DATA/lb/`).
    #[arg(long, value_name = "PROVIDER")]
    pub lb: Option<String>,
    /// The CPU this node offers code placed on it, in thousandths of a core (default:
    /// its cores).
    #[arg(long, value_name = "MILLI")]
    pub cpu_milli: Option<u64>,
    /// The memory this node offers code placed on it, in MiB (default: its memory).
    #[arg(long, value_name = "MIB")]
    pub memory_mib: Option<u64>,
    /// The address the load balancer listens on, at each service's `port`.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub lb_host: String,
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

/// What the cluster gave this node, kept in `DATA/node.json`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Identity {
    id: u64,
    role: Role,
}

fn identity_path(data: &Path) -> PathBuf {
    data.join("node.json")
}

fn load_identity(data: &Path) -> Result<Option<Identity>, String> {
    match std::fs::read(identity_path(data)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", identity_path(data).display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", identity_path(data).display())),
    }
}

fn save_identity(data: &Path, identity: &Identity) -> Result<(), String> {
    std::fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let path = identity_path(data);
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(identity).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let fail = |what: String| {
        io.error(&format!("error: {what}\n"));
        Exit::Error
    };
    if let Err(e) = check_args(args) {
        return fail(e);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let served = if args.controller {
        rt.block_on(controller(args, io))
    } else {
        rt.block_on(worker_node(args, io))
    };
    match served {
        Ok(()) => Exit::Success,
        Err(e) => fail(e),
    }
}

/// Refuses flags that do not go together, before anything starts.
fn check_args(args: &Args) -> Result<(), String> {
    if args.join.is_some() && args.token.is_none() {
        return Err("--join needs --token (the cluster's bootstrap token)".into());
    }
    if args.lease_ttl_ms < 300 || args.lease_ttl_ms > 600_000 {
        return Err(format!(
            "--lease-ttl-ms must be between 300 and 600000, not {}",
            args.lease_ttl_ms
        ));
    }
    if args.controller {
        if args.api.is_none() {
            return Err("a controller needs --api ADDR for its public API".into());
        }
        match (args.id, &args.join) {
            (Some(0), _) => return Err("--id must not be 0".into()),
            (Some(_), Some(_)) => return Err(
                "--id is for a group started from --members; a joining controller is given its id"
                    .into(),
            ),
            (None, None) => return Err("a controller needs --id (with --members) or --join".into()),
            _ => {}
        }
        if args.join.is_some() && args.members.is_some() {
            return Err("--members and --join do not go together".into());
        }
    } else {
        if args.join.is_none() {
            return Err("a worker needs --join URL --token TOKEN (or pass --controller)".into());
        }
        if args.id.is_some() || args.members.is_some() || args.api.is_some() {
            return Err("--id, --members and --api are for controllers; a worker serves its API on --listen".into());
        }
    }
    Ok(())
}

fn join_urls(args: &Args) -> Vec<String> {
    args.join
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .collect()
}

/// Asks the cluster at `--join` (each URL in turn while unreachable) to take this node as
/// `role` (presenting the id it was given before, if any), and keeps the id it answers in
/// `DATA/node.json`; the id and the whole answer.
async fn join(
    args: &Args,
    role: Role,
    api: &str,
    raft: Option<String>,
    id: Option<u64>,
) -> Result<(u64, Value), String> {
    let (cpu_milli, memory_bytes) = registry::capacity(args.cpu_milli, args.memory_mib);
    let body = json!({
        "token": args.token, "role": role, "api": api, "raft": raft, "id": id,
        "cpu_milli": cpu_milli, "memory_bytes": memory_bytes,
    });
    let upstream = worker::Upstream::new(join_urls(args))?;
    let until = tokio::time::Instant::now() + JOIN_TIMEOUT;
    loop {
        let sent = upstream
            .send(
                reqwest::Method::POST,
                "/api/v1/join",
                body.to_string().into(),
            )
            .await;
        let (status, answer) = match sent {
            Ok(r) => (r.status(), r.json::<Value>().await.unwrap_or(Value::Null)),
            Err(_) if tokio::time::Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => return Err(format!("joining: {e}")),
        };
        if status.is_success() {
            let id = answer["id"].as_u64().ok_or("the join answer has no id")?;
            save_identity(&args.data, &Identity { id, role })?;
            return Ok((id, answer));
        }
        let reason = answer["error"]
            .as_str()
            .unwrap_or("no reason given")
            .to_string();
        if status.as_u16() == 503 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        return Err(format!("the cluster refused the join ({status}): {reason}"));
    }
}

async fn controller(args: &Args, io: &Io) -> Result<(), String> {
    let api_addr = args.api.as_deref().unwrap_or_default();
    let raft = TcpListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let api =
        TcpListener::bind(api_addr).map_err(|e| format!("cannot listen on {api_addr}: {e}"))?;
    let raft_addr = raft.local_addr().map_err(|e| e.to_string())?;
    let api_addr = api.local_addr().map_err(|e| e.to_string())?;
    let api_url = format!("http://{api_addr}");
    let mut members = BTreeMap::new();
    let (id, joining) = match (args.id, load_identity(&args.data)?) {
        (Some(id), _) => {
            members = match &args.members {
                Some(text) => parse_members(text).map_err(|e| format!("--members: {e}"))?,
                None => BTreeMap::from([(
                    id,
                    Member {
                        raft: args.listen.clone(),
                        api: Some(api_addr.to_string()),
                    },
                )]),
            };
            if !members.contains_key(&id) {
                return Err(format!("--members does not name this node ({id})"));
            }
            (id, false)
        }
        (None, Some(identity)) if identity.role == Role::Controller => (identity.id, false),
        (None, Some(_)) => {
            return Err(format!(
                "{} holds a worker, not a controller",
                args.data.display()
            ))
        }
        (None, None) => {
            let raft = Some(raft_addr.to_string());
            let (id, _) = join(args, Role::Controller, &api_url, raft, None).await?;
            (id, true)
        }
    };
    let controller = Controller::start(id, &args.data, raft)
        .await
        .map_err(|e| format!("cannot start the controller: {e}"))?;
    let controller = Arc::new(controller);
    let lowest = members.keys().next().copied() == Some(id);
    if lowest && controller.metrics().last_log_index.is_none() {
        let group = members
            .iter()
            .map(|(id, m)| (*id, BasicNode::new(m.raft.clone())))
            .collect();
        if let Err(e) = controller.initialize(group).await {
            io.error(&format!("warning: initializing the group: {e}\n"));
        }
    }
    if joining {
        let upstream = worker::Upstream::new(join_urls(args))?;
        let body = json!({ "token": args.token, "id": id }).to_string();
        let added = upstream
            .send(reqwest::Method::POST, "/api/v1/members", body.into())
            .await?;
        if !added.status().is_success() {
            let status = added.status();
            let answer = added.json::<Value>().await.unwrap_or(Value::Null);
            return Err(format!(
                "the cluster did not make this node a voter ({status}): {}",
                answer["error"].as_str().unwrap_or("no reason given")
            ));
        }
    }
    let (cpu_milli, memory_bytes) = registry::capacity(args.cpu_milli, args.memory_mib);
    let record = Record {
        id,
        name: registry::name(id),
        role: Role::Controller,
        raft: Some(raft_addr.to_string()),
        api: api_url.clone(),
        cpu_milli,
        memory_bytes,
    };
    let apis = members
        .iter()
        .filter_map(|(id, m)| m.api.as_ref().map(|a| (*id, format!("http://{a}"))))
        .collect();
    let node = Arc::new(api::Node {
        controller: controller.clone(),
        apis,
        client: api::client()?,
    });
    let ttl = Duration::from_millis(args.lease_ttl_ms);
    let background = vec![
        tokio::spawn(register(
            controller.clone(),
            record,
            args.token.clone(),
            io.clone(),
        )),
        tokio::spawn(registry::heartbeat(
            controller.clone(),
            registry::name(id),
            ttl,
        )),
        tokio::spawn(registry::expire_leases(controller.clone())),
    ];
    io.error(&format!(
        "node {id}: controller, raft {raft_addr}, api: {api_url}\n"
    ));
    if let Some(token) = &args.token {
        secrets::key_from_token(token);
    }
    cells::volumes::set_root(args.data.join("volumes"));
    let kv: Arc<dyn weft_resources::kinds::Kv> = Arc::new(resources::Local {
        controller: Arc::downgrade(&controller),
        handle: tokio::runtime::Handle::current(),
    });
    let leader = Arc::downgrade(&controller);
    let loops = (
        cells::start_scheduler(kv.clone(), move || {
            leader
                .upgrade()
                .is_some_and(|c| c.metrics().state.is_leader())
        }),
        cells::start_agent(
            kv.clone(),
            registry::name(id),
            weft_runtime::Output::stdout(),
        ),
        start_lb(args, kv)?,
    );
    serve(api, api::router(node.clone()), background, io).await?;
    // The loops block on the store: end them off the runtime's threads.
    let _ = tokio::task::spawn_blocking(move || drop(loops)).await;
    // The server is done, so its handlers have dropped their references.
    drop(node);
    let controller =
        Arc::try_unwrap(controller).map_err(|_| "the API still holds the node".to_string())?;
    controller
        .shutdown()
        .await
        .map_err(|e| format!("shutting down: {e}"))?;
    io.error(&format!("node {id}: stopped\n"));
    Ok(())
}

/// Records the token's hash when the cluster has none yet, then this controller in the
/// registry; retried until the group takes them. The token goes first: once the record
/// shows the node ready (what `weft cluster up` waits for), a join must find it.
async fn register(controller: Arc<Controller>, record: Record, token: Option<String>, io: Io) {
    let mut said = false;
    loop {
        let mut done = Ok(());
        if let Some(token) = &token {
            let txn = Command::Txn {
                compare: vec![Compare::mod_revision(registry::TOKEN, CompareOp::Equal, 0)],
                success: vec![Op::Put {
                    key: registry::TOKEN.as_bytes().to_vec(),
                    value: registry::token_hash(token).into_bytes(),
                    lease: None,
                    prev_kv: false,
                }],
                failure: vec![],
            };
            done = registry::write(&controller, txn).await.map(|_| ());
        }
        if done.is_ok() {
            done = registry::put_record(&controller, &record, false)
                .await
                .map(|_| ());
        }
        match done {
            Ok(()) => return,
            Err(e) if !said => {
                io.error(&format!("{}: registering: {e} (retrying)\n", record.name));
                said = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn worker_node(args: &Args, io: &Io) -> Result<(), String> {
    let listener = TcpListener::bind(&args.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let url = format!("http://{addr}");
    let known = load_identity(&args.data)?;
    if let Some(identity) = &known {
        if identity.role != Role::Worker {
            return Err(format!(
                "{} holds a controller, not a worker",
                args.data.display()
            ));
        }
    }
    let (id, answer) = join(args, Role::Worker, &url, None, known.map(|k| k.id)).await?;
    let mut controllers: Vec<String> = answer["controllers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if controllers.is_empty() {
        controllers = join_urls(args);
    }
    let upstream = Arc::new(worker::Upstream::new(controllers)?);
    let ttl = Duration::from_millis(args.lease_ttl_ms);
    let refresher = upstream.clone();
    let background = vec![
        tokio::spawn(registry::heartbeat(
            upstream.clone(),
            registry::name(id),
            ttl,
        )),
        tokio::spawn(async move {
            loop {
                refresher.refresh().await;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }),
    ];
    // The Cells placed here run over the controllers' Kv route.
    if let Some(token) = &args.token {
        secrets::key_from_token(token);
    }
    cells::volumes::set_root(args.data.join("volumes"));
    let kv: Arc<dyn weft_resources::kinds::Kv> = Arc::new(remote_kv::Remote {
        upstream: upstream.clone(),
        handle: tokio::runtime::Handle::current(),
    });
    let agent = (
        cells::start_agent(
            kv.clone(),
            registry::name(id),
            weft_runtime::Output::stdout(),
        ),
        start_lb(args, kv)?,
    );
    let worker = Arc::new(worker::Worker {
        id,
        upstream,
        watches: Default::default(),
    });
    io.error(&format!("node {id}: worker, api: {url}\n"));
    serve(listener, worker::router(worker), background, io).await?;
    // The agent blocks on the controllers: end it off the runtime's threads.
    let _ = tokio::task::spawn_blocking(move || drop(agent)).await;
    io.error(&format!("node {id}: stopped\n"));
    Ok(())
}

/// The load balancer provider `--lb` names, started.
fn start_lb(args: &Args, kv: Arc<dyn weft_resources::kinds::Kv>) -> Result<Option<lb::Lb>, String> {
    match args.lb.as_deref() {
        None => Ok(None),
        Some("nginx") => lb::start(
            kv,
            args.data.join("lb"),
            PathBuf::from("nginx"),
            args.lb_host.clone(),
            weft_runtime::Output::stdout(),
        )
        .map(Some)
        .map_err(|e| format!("--lb nginx: {e}")),
        Some(other) => Err(format!(
            "--lb {other}: no such load balancer provider (there is: nginx)"
        )),
    }
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM, then ends the node's
/// `background` tasks.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    background: Vec<tokio::task::JoinHandle<()>>,
    io: &Io,
) -> Result<(), String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stop_signal())
        .await;
    if let Err(e) = served {
        io.error(&format!("error: the API server: {e}\n"));
    }
    for task in background {
        task.abort();
        let _ = task.await;
    }
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
