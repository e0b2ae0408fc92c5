//! Resource kinds on cubestore: the records of what programs allocated with `new`
//! (kind, type, owner, settings, status, events), the check of a program's types against
//! them, and the data of queues and tables, all as keys in the replicated store.
//!
//! # Keys
//! - `/resources/PROGRAM/NAME`: a [`Record`] (JSON).
//! - `/data/PROGRAM/NAME/m/ID`: a queue's message ([`queue`]); `/data/PROGRAM/NAME/dead/ID`
//!   its dead letters.
//! - `/data/PROGRAM/NAME/k/KEY`: a table's row ([`table`]).
//!
//! Everything goes through [`Kv`], the store as a client sees it (linearizable reads,
//! writes through the leader), so the same code runs inside `weft run`'s one-member
//! group and against a cluster.

pub mod queue;
pub mod table;

use crate::{Command, Compare, CompareOp, KeyValue, Op, Outcome, Reply};
use serde::{Deserialize, Serialize};
use weft_compiler::manifest::{AdtDesc, ResourceDesc, TypeDesc};

/// The store as a resource sees it.
pub trait Kv: Send + Sync {
    /// Applies `command` through the leader: its reply, or why it was refused.
    fn write(&self, command: Command) -> Result<Reply, String>;
    /// The pairs under `prefix`, in key order (at most `limit`), read linearizably.
    fn range(&self, prefix: &[u8], limit: Option<usize>) -> Result<Vec<KeyValue>, String>;
    /// How many keys are under `prefix`, read linearizably.
    fn count(&self, prefix: &[u8]) -> Result<u64, String>;
}

/// A Volume's placement until the first replica that uses it binds it to its node
/// (then the placement is that node's name).
pub const VOLUME_UNBOUND: &str = "not bound yet";

/// Where records live.
pub const RECORDS: &str = "/resources/";
/// Where data lives.
pub const DATA: &str = "/data/";
/// The most events a record keeps (the oldest go first).
pub const EVENTS_MAX: usize = 20;

/// One resource, as `weft get resources` and `weft describe resource` show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `QueueService`, `Table`.
    pub kind: String,
    /// Its name within its program.
    pub name: String,
    /// The program that allocated it first, and owns it.
    pub program: String,
    /// As written: `QueueService<Job>`.
    pub ty: String,
    /// The type arguments, with their records and enums in `types`.
    pub args: Vec<TypeDesc>,
    /// The records and enums `args` reach.
    pub types: Vec<AdtDesc>,
    /// The settings, by name (`attempts`, `visibility`: an Int, or a Duration in ns).
    pub settings: Vec<(String, i64)>,
    /// Where the owner allocates it: `file:line:col`.
    pub at: String,
    /// Where it runs: for queues and tables, the control plane's replicas.
    pub placement: String,
    /// `Ready`, or `Orphaned` when the owner's latest run of `main` did not allocate it.
    pub status: String,
    /// When it was created (ms since the epoch).
    pub created_ms: u64,
    /// What happened to it, oldest first: (ms since the epoch, what).
    pub events: Vec<(u64, String)>,
    /// The code a Cell, an HttpService or a Timer runs: what its instances run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<CellSpec>,
}

/// What the instances of a Cell, an HttpService or a Timer run: the module (by id)
/// and each event handler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellSpec {
    /// The module's id: its bytes are at `/modules/ID`.
    pub module: String,
    /// The handlers, in the body's order.
    pub handlers: Vec<HandlerSpec>,
    /// The Volumes (handles) its handlers captured: it runs where they live.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
}

/// One handler: a Cell's `on SOURCE |msg| { }`, an HttpService's `|req| { }`, a
/// Timer's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerSpec {
    /// The module's export that handles one event.
    pub export: String,
    /// What it handles: `queue`, `http` or `tick`.
    #[serde(default = "queue_event")]
    pub event: String,
    /// A Cell's `every` timer's period in nanoseconds; 0 otherwise (a Timer's period is
    /// its `every` setting).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub period_ns: i64,
    /// The queue's handle (`PROGRAM/NAME`) for a queue's messages; empty otherwise.
    pub source: String,
    /// The values the handler captured, wire-encoded: its first arguments.
    pub captures: Vec<u8>,
}

fn queue_event() -> String {
    "queue".into()
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Record {
    /// `PROGRAM/NAME`, the handle a program holds.
    pub fn handle(&self) -> String {
        format!("{}/{}", self.program, self.name)
    }

    fn event(&mut self, now_ms: u64, what: impl Into<String>) {
        self.events.push((now_ms, what.into()));
        let extra = self.events.len().saturating_sub(EVENTS_MAX);
        self.events.drain(..extra);
    }

    /// The settings as `name value` text, Durations as written.
    pub fn settings_text(&self) -> String {
        let parts: Vec<String> = self
            .settings
            .iter()
            .map(|(n, v)| match n.as_str() {
                "visibility" | "every" => format!("{n}: {}", duration_text(*v)),
                "capabilities" => {
                    let names: Vec<String> = weft_compiler::CAPABILITIES
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| v & (1 << i) != 0)
                        .map(|(_, c)| format!("\"{c}\""))
                        .collect();
                    format!("{n}: [{}]", names.join(", "))
                }
                "expose" if *v == 1 => format!("{n}: lb(\"nginx\")"),
                _ => format!("{n}: {v}"),
            })
            .collect();
        parts.join(", ")
    }
}

fn duration_text(ns: i64) -> String {
    match ns {
        n if n % 1_000_000_000 == 0 => format!("{}s", n / 1_000_000_000),
        n if n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n => format!("{n}ns"),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `(program, name)` of what `name` written in `program` refers to: its own resource, or
/// another program's when written `other/name`.
pub fn resolve<'a>(program: &'a str, name: &'a str) -> (&'a str, &'a str) {
    match name.split_once('/') {
        Some((p, n)) => (p, n),
        None => (program, name),
    }
}

fn record_key(program: &str, name: &str) -> Vec<u8> {
    format!("{RECORDS}{program}/{name}").into_bytes()
}

/// The prefix of a resource's data, by its handle (`PROGRAM/NAME`).
pub fn data_prefix(handle: &str) -> Vec<u8> {
    format!("{DATA}{handle}/").into_bytes()
}

/// The pair at exactly `key`, if there is one.
pub fn get_key(kv: &dyn Kv, key: &[u8]) -> Result<Option<KeyValue>, String> {
    Ok(kv.range(key, Some(1))?.into_iter().find(|p| p.key == key))
}

/// The record of `program`'s resource `name`, with its mod revision.
pub fn get(kv: &dyn Kv, program: &str, name: &str) -> Result<Option<(Record, u64)>, String> {
    match get_key(kv, &record_key(program, name))? {
        Some(pair) => {
            let r: Record = serde_json::from_slice(&pair.value)
                .map_err(|e| format!("the record of {program}/{name} is unreadable: {e}"))?;
            Ok(Some((r, pair.mod_revision)))
        }
        None => Ok(None),
    }
}

/// Every record (of one program, when given), by program and name.
pub fn list(kv: &dyn Kv, program: Option<&str>) -> Result<Vec<Record>, String> {
    let prefix = match program {
        Some(p) => format!("{RECORDS}{p}/"),
        None => RECORDS.to_string(),
    };
    kv.range(prefix.as_bytes(), None)?
        .into_iter()
        .map(|pair| {
            serde_json::from_slice(&pair.value).map_err(|e| {
                let key = String::from_utf8_lossy(&pair.key).into_owned();
                format!("the record at {key} is unreadable: {e}")
            })
        })
        .collect()
}

/// Why a site cannot attach to the resource recorded under its name, if it cannot: another
/// kind, or another type (compared structurally, record by record).
pub fn conflict(record: &Record, site: &ResourceDesc) -> Option<String> {
    if record.kind != site.kind {
        return Some(format!(
            "`{}` is a `{}` of program `{}`, not a `{}`",
            record.name, record.ty, record.program, site.kind
        ));
    }
    let same = record.args.len() == site.args.len()
        && record
            .args
            .iter()
            .zip(&site.args)
            .all(|(a, b)| weft_hotswap::same_type(&record.types, a, &site.types, b));
    if same {
        return None;
    }
    let shown = |types: &[AdtDesc], args: &[TypeDesc]| {
        let parts: Vec<String> = args.iter().map(|t| describe_type(types, t)).collect();
        parts.join("; ")
    };
    Some(format!(
        "`{}` of program `{}` holds `{}` ({}); this program's `{}` is ({})",
        record.name,
        record.program,
        record.ty,
        shown(&record.types, &record.args),
        site.ty,
        shown(&site.types, &site.args),
    ))
}

/// A type with its records' fields spelled out: `Job = { id: Int, url: String }`.
fn describe_type(types: &[AdtDesc], ty: &TypeDesc) -> String {
    let name = weft_hotswap::show_type(types, ty);
    let TypeDesc::Adt(i) = ty else {
        return name;
    };
    let Some(def) = types.get(*i as usize) else {
        return name;
    };
    match &def.shape {
        weft_compiler::manifest::AdtShape::Record(fields) => {
            let fs: Vec<String> = fields
                .iter()
                .map(|(n, t)| format!("{n}: {}", weft_hotswap::show_type(types, t)))
                .collect();
            format!("{name} = {{ {} }}", fs.join(", "))
        }
        weft_compiler::manifest::AdtShape::Enum(vs) => {
            let names: Vec<&str> = vs.iter().map(|(n, _)| n.as_str()).collect();
            format!("{name} = {}", names.join(" | "))
        }
    }
}

/// Each site of `sites` (a program's manifest) that cannot attach to what is recorded
/// under its name: its index and why. Run before `main`, so a mismatch is refused before
/// anything runs.
pub fn check_sites(
    kv: &dyn Kv,
    program: &str,
    sites: &[ResourceDesc],
) -> Result<Vec<(usize, String)>, String> {
    let mut out = vec![];
    for (i, site) in sites.iter().enumerate() {
        let (p, n) = resolve(program, &site.name);
        match get(kv, p, n)? {
            Some((record, _)) => {
                if let Some(why) = conflict(&record, site) {
                    out.push((i, why));
                }
            }
            None if p != program => out.push((
                i,
                format!("program `{p}` has no resource `{n}` to attach to"),
            )),
            None => {}
        }
    }
    Ok(out)
}

/// Ensures the resource of `site` (written in `program`) exists with `settings`: creates
/// it, or re-attaches to it, recording a change of settings; returns its handle. Another
/// program's resource is attached to as it is.
pub fn ensure(
    kv: &dyn Kv,
    program: &str,
    site: &ResourceDesc,
    settings: &[i64],
    cell: Option<CellSpec>,
) -> Result<String, String> {
    let (p, n) = resolve(program, &site.name);
    let settings: Vec<(String, i64)> = site
        .settings
        .iter()
        .cloned()
        .zip(settings.iter().copied())
        .collect();
    for _ in 0..CAS_TRIES {
        let now = now_ms();
        let (record, revision) = match get(kv, p, n)? {
            Some((mut r, rev)) => {
                if let Some(why) = conflict(&r, site) {
                    return Err(why);
                }
                if p != program {
                    return Ok(r.handle());
                }
                let before = r.clone();
                if r.settings != settings {
                    let old = r.settings_text();
                    r.settings = settings.clone();
                    let new = r.settings_text();
                    r.event(now, format!("settings changed: {old} -> {new}"));
                }
                if r.status != "Ready" {
                    r.status = "Ready".into();
                    r.event(now, "allocated again by its program");
                }
                if r.cell != cell {
                    if r.cell.as_ref().map(|c| &c.module) != cell.as_ref().map(|c| &c.module) {
                        r.event(now, "new code: its instances restart with it");
                    } else {
                        r.event(now, "its handlers changed: its instances restart");
                    }
                    r.cell = cell.clone();
                }
                r.at = site.at.clone();
                if r == before {
                    return Ok(r.handle());
                }
                (r, rev)
            }
            None if p != program => {
                return Err(format!("program `{p}` has no resource `{n}` to attach to"));
            }
            None => {
                let mut r = Record {
                    kind: site.kind.clone(),
                    name: n.to_string(),
                    program: p.to_string(),
                    ty: site.ty.clone(),
                    args: site.args.clone(),
                    types: site.types.clone(),
                    settings: settings.clone(),
                    at: site.at.clone(),
                    placement: if cell.is_some() {
                        "not placed yet".into()
                    } else if site.kind == "Volume" {
                        VOLUME_UNBOUND.into()
                    } else {
                        "control plane (replicated)".into()
                    },
                    status: "Ready".into(),
                    created_ms: now,
                    events: vec![],
                    cell: cell.clone(),
                };
                r.event(now, format!("created by {} at {}", p, site.at));
                (r, 0)
            }
        };
        if put_if(kv, &record_key(p, n), &record, revision)? {
            return Ok(record.handle());
        }
    }
    Err(format!("{p}/{n} kept changing while it was being ensured"))
}

/// Sets where a resource runs (a Cell's nodes), with an event when it changes; nothing
/// when the record is gone or says so already.
pub fn set_placement(kv: &dyn Kv, handle: &str, placement: &str) -> Result<(), String> {
    let (p, n) = handle.split_once('/').ok_or("a handle without a program")?;
    for _ in 0..CAS_TRIES {
        let Some((mut r, rev)) = get(kv, p, n)? else {
            return Ok(());
        };
        if r.placement == placement {
            return Ok(());
        }
        r.placement = placement.to_string();
        r.event(now_ms(), format!("placed: {placement}"));
        if put_if(kv, &record_key(p, n), &r, rev)? {
            return Ok(());
        }
    }
    Err(format!("{handle} kept changing while it was being placed"))
}

/// How many times a compare-and-swap of a record is tried before giving up.
const CAS_TRIES: usize = 16;

/// Writes `record` at `key` if the key's mod revision is still `revision` (0: absent).
fn put_if(kv: &dyn Kv, key: &[u8], record: &Record, revision: u64) -> Result<bool, String> {
    let value = serde_json::to_vec(record).map_err(|e| e.to_string())?;
    let reply = kv.write(Command::Txn {
        compare: vec![Compare::mod_revision(
            key.to_vec(),
            CompareOp::Equal,
            revision,
        )],
        success: vec![Op::Put {
            key: key.to_vec(),
            value,
            lease: None,
            prev_kv: false,
        }],
        failure: vec![],
    })?;
    Ok(matches!(reply.outcome, Outcome::Txn(t) if t.succeeded))
}

/// Marks `program`'s resources that its latest run of `main` did not allocate (not in
/// `allocated`, by name) as orphaned: reported, never deleted. Returns their names.
pub fn mark_orphans(
    kv: &dyn Kv,
    program: &str,
    allocated: &[String],
) -> Result<Vec<String>, String> {
    let mut orphans = vec![];
    for _ in 0..CAS_TRIES {
        let mut again = false;
        orphans.clear();
        for pair in kv.range(format!("{RECORDS}{program}/").as_bytes(), None)? {
            let Ok(mut r) = serde_json::from_slice::<Record>(&pair.value) else {
                continue;
            };
            if allocated.contains(&r.name) {
                continue;
            }
            orphans.push(r.name.clone());
            if r.status == "Orphaned" {
                continue;
            }
            r.status = "Orphaned".into();
            r.event(
                now_ms(),
                "orphaned: the program's latest run of main did not allocate it (kept; `weft destroy --prune` releases it)",
            );
            if !put_if(kv, &pair.key, &r, pair.mod_revision)? {
                again = true;
            }
        }
        if !again {
            return Ok(orphans);
        }
    }
    Err(format!("the records of {program} kept changing"))
}

/// Deletes `program`'s resources (all of them, or only the orphaned ones) with their
/// data; returns their names.
pub fn release(kv: &dyn Kv, program: &str, orphans_only: bool) -> Result<Vec<String>, String> {
    let mut released = vec![];
    for r in list(kv, Some(program))? {
        if orphans_only && r.status != "Orphaned" {
            continue;
        }
        kv.write(Command::Txn {
            compare: vec![],
            success: vec![
                Op::Delete {
                    keys: crate::Keys::Prefix(data_prefix(&r.handle())),
                    prev_kv: false,
                },
                Op::Delete {
                    keys: crate::Keys::One(record_key(&r.program, &r.name)),
                    prev_kv: false,
                },
            ],
            failure: vec![],
        })?;
        released.push(r.name);
    }
    Ok(released)
}

/// A resource's record by handle, for its operations: cached by the caller.
pub fn by_handle(kv: &dyn Kv, handle: &str) -> Result<Record, String> {
    let (p, n) = handle
        .split_once('/')
        .ok_or_else(|| format!("`{handle}` is no resource handle"))?;
    match get(kv, p, n)? {
        Some((r, _)) => Ok(r),
        None => Err(format!("the resource {handle} does not exist (released?)")),
    }
}
