//! The node registry in cubestore: each node's record, its heartbeat lease, the join
//! token's hash, and the two loops that keep them: a node's heartbeat and the leader's
//! lease-expiry tick.
//!
//! Keys (values are JSON):
//! - `/registry/nodes/NAME`: the node's [`Record`] (id, name, role, addresses); written
//!   when it joins or starts, deleted only by `weft delete node`.
//! - `/registry/leases/NAME`: held by the node's lease, renewed by its heartbeat. While it
//!   exists the node is Ready; when the lease expires cubestore deletes it and the node
//!   is NotReady (placement leaves it out from then on).
//! - `/registry/ids/ID`: written with the node's first record and never deleted, so an id
//!   is never given twice (a removed node's process may still run).
//! - `/cluster/token`: the blake3 hash of the bootstrap token joins must present.
//!
//! Ids are chosen by the cluster: the lowest id above every one ever given and every
//! raft member's, claimed with a transaction that holds only while its `ids` key does
//! not exist.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use weft_resources::raft::Controller;
use weft_resources::{Command, Compare, CompareOp, KeyValue, LeaseId, Op, Outcome, Rejection};

/// Where node records live.
pub const NODES: &str = "/registry/nodes/";
/// Where the ids ever given are kept.
pub const IDS: &str = "/registry/ids/";
/// Where heartbeat keys live.
pub const LEASES: &str = "/registry/leases/";
/// The join token's hash.
pub const TOKEN: &str = "/cluster/token";

/// How often the leader proposes a lease-expiry tick.
pub const TICK: Duration = Duration::from_millis(250);

/// What a node is in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A raft voter: holds the store.
    Controller,
    /// Holds a lease; runs what the cluster places on it.
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Controller => "controller",
            Role::Worker => "worker",
        }
    }
}

/// One node as the registry records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: u64,
    pub name: String,
    pub role: Role,
    /// The raft address (controllers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft: Option<String>,
    /// The API's base URL, `http://HOST:PORT`.
    pub api: String,
    /// What it offers the code placed on it: thousandths of a core (0: not said, no
    /// limit).
    #[serde(default)]
    pub cpu_milli: u64,
    /// And bytes of memory (0: not said, no limit).
    #[serde(default)]
    pub memory_bytes: u64,
}

/// This machine's capacity unless given: its cores and its memory (`MemTotal`).
pub fn capacity(cpu_milli: Option<u64>, memory_mib: Option<u64>) -> (u64, u64) {
    let cpu = cpu_milli.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1000, |n| n.get() as u64 * 1000)
    });
    let memory = memory_mib.map(|m| m << 20).unwrap_or_else(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| {
                let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kib << 10)
            })
            .unwrap_or(0)
    });
    (cpu, memory)
}

/// The name of node `id`.
pub fn name(id: u64) -> String {
    format!("node-{id}")
}

/// The id in a node name, `node-ID`.
pub fn id_of(name: &str) -> Option<u64> {
    name.strip_prefix("node-")?
        .parse()
        .ok()
        .filter(|&id| id != 0)
}

pub fn record_key(name: &str) -> String {
    format!("{NODES}{name}")
}

pub fn lease_key(name: &str) -> String {
    format!("{LEASES}{name}")
}

/// The hash a token is kept as.
pub fn token_hash(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// Milliseconds since the Unix epoch by this host's clock (the leader's, for ticks).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The records in a listing of [`NODES`] (entries that do not parse are skipped).
pub fn records(kvs: &[KeyValue]) -> Vec<Record> {
    kvs.iter()
        .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
        .collect()
}

/// What a registry write through the controller did not do.
#[derive(Debug)]
pub enum Failed {
    /// The store refused the command (the same on every replica).
    Refused(Rejection),
    /// The command did not get through the group in time.
    Unavailable(String),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Refused(r) => write!(f, "{r}"),
            Failed::Unavailable(e) => write!(f, "{e}"),
        }
    }
}

/// Writes `command` through the group.
pub async fn write(controller: &Controller, command: Command) -> Result<Outcome, Failed> {
    match controller.write(command).await {
        Ok(Ok(reply)) => Ok(reply.outcome),
        Ok(Err(rejection)) => Err(Failed::Refused(rejection)),
        Err(e) => Err(Failed::Unavailable(e.to_string())),
    }
}

/// Records `record`, claiming its id when `claim` (fails with `Ok(false)` when the id was
/// taken meanwhile), or overwriting the node's record otherwise.
pub async fn put_record(
    controller: &Controller,
    record: &Record,
    claim: bool,
) -> Result<bool, Failed> {
    let key = record_key(&record.name);
    let id_key = format!("{IDS}{}", record.id);
    let value = serde_json::to_vec(record).expect("a record encodes");
    let compare = if claim {
        vec![Compare::mod_revision(id_key.clone(), CompareOp::Equal, 0)]
    } else {
        vec![]
    };
    let put = |key: String, value: Vec<u8>| Op::Put {
        key: key.into_bytes(),
        value,
        lease: None,
        prev_kv: false,
    };
    let txn = Command::Txn {
        compare,
        success: vec![put(id_key, vec![]), put(key, value)],
        failure: vec![],
    };
    match write(controller, txn).await? {
        Outcome::Txn(reply) => Ok(reply.succeeded),
        other => Err(Failed::Unavailable(format!("unexpected answer {other:?}"))),
    }
}

/// The lowest id above every one in `given` (the keys under [`IDS`]) and every raft
/// member's.
pub fn next_id(given: &[KeyValue], members: impl Iterator<Item = u64>) -> u64 {
    given
        .iter()
        .filter_map(|kv| std::str::from_utf8(kv.key.strip_prefix(IDS.as_bytes())?).ok())
        .filter_map(|id| id.parse::<u64>().ok())
        .chain(members)
        .max()
        .unwrap_or(0)
        + 1
}

/// What a heartbeat talks to: the local controller, or a controller's API over HTTP.
pub trait Heart: Send + Sync + 'static {
    /// Grants a lease of `ttl_ms`.
    fn grant(
        &self,
        ttl_ms: u64,
    ) -> impl std::future::Future<Output = Result<LeaseId, String>> + Send;
    /// Renews `lease`: `Ok(false)` when the lease no longer exists.
    fn renew(
        &self,
        lease: LeaseId,
    ) -> impl std::future::Future<Output = Result<bool, String>> + Send;
    /// Puts `key` held by `lease`.
    fn hold(
        &self,
        key: String,
        value: Vec<u8>,
        lease: LeaseId,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

impl Heart for std::sync::Arc<Controller> {
    async fn grant(&self, ttl_ms: u64) -> Result<LeaseId, String> {
        match write(self, Command::LeaseGrant { id: None, ttl_ms }).await {
            Ok(Outcome::LeaseGrant { id, .. }) => Ok(id),
            Ok(other) => Err(format!("unexpected answer {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn renew(&self, lease: LeaseId) -> Result<bool, String> {
        match write(self, Command::LeaseKeepAlive { id: lease }).await {
            Ok(_) => Ok(true),
            Err(Failed::Refused(_)) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn hold(&self, key: String, value: Vec<u8>, lease: LeaseId) -> Result<(), String> {
        let put = Command::Put {
            key: key.into_bytes(),
            value,
            lease: Some(lease),
            prev_kv: false,
        };
        write(self, put)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Keeps `name`'s heartbeat key alive: grants a lease of `ttl`, puts the key under it,
/// renews it every third of the TTL; when the lease was lost (it expired while the node
/// could not reach the group), starts over with a new one. Runs until aborted.
pub async fn heartbeat(heart: impl Heart, name: String, ttl: Duration) {
    let ttl_ms = ttl.as_millis() as u64;
    let every = ttl / 3;
    let key = lease_key(&name);
    let mut lease: Option<LeaseId> = None;
    let mut said = false;
    loop {
        let result = match lease {
            Some(id) => match heart.renew(id).await {
                Ok(true) => Ok(()),
                Ok(false) => {
                    lease = None;
                    continue;
                }
                Err(e) => Err(e),
            },
            None => match heart.grant(ttl_ms).await {
                Ok(id) => {
                    let value = serde_json::to_vec(&serde_json::json!({ "lease": id.0 }))
                        .expect("json encodes");
                    match heart.hold(key.clone(), value, id).await {
                        Ok(()) => {
                            lease = Some(id);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => said = false,
            Err(e) if !said => {
                eprintln!("{name}: heartbeat: {e} (retrying)");
                said = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
}

/// On the leader, proposes a lease-expiry tick with this host's time every [`TICK`]
/// while any lease exists. A leader starts its term by restarting every lease's
/// countdown (`LeaseRestart`): keep-alives sent while no leader could take them must not
/// count as missed. Runs until aborted.
pub async fn expire_leases(controller: std::sync::Arc<Controller>) {
    // The term whose leases this node restarted, as its leader.
    let mut restarted = None;
    loop {
        tokio::time::sleep(TICK).await;
        let metrics = controller.metrics();
        if !metrics.state.is_leader() || controller.store().lease_ids().is_empty() {
            continue;
        }
        if restarted != Some(metrics.current_term) {
            if write(&controller, Command::LeaseRestart).await.is_ok() {
                restarted = Some(metrics.current_term);
            }
            continue;
        }
        let _ = write(&controller, Command::LeaseExpire { now_ms: now_ms() }).await;
    }
}
