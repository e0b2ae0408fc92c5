//! Cells: the scheduler that places each Cell's replicas on the Ready nodes, and the
//! node agent that runs the replicas placed on its node.
//!
//! # Keys
//! - `/cells/assign/PROGRAM/NAME/R`: the node replica `R` of Cell `PROGRAM/NAME` runs on.
//!   Written by the scheduler, which runs on the leader: a replica without a node, or
//!   whose node's heartbeat lease is gone, goes to the Ready node with the fewest
//!   replicas of this Cell, then the fewest of all (spread); replicas beyond `replicas`
//!   go (scale in), and so do a released Cell's.
//! - `/cells/status/PROGRAM/NAME/R/NODE`: that replica's instance on `NODE` as its node
//!   agent reports it: state (created, running, stopping, dead), events handled and
//!   failed, restarts, the last error.
//!
//! An instance is a node of its own for the Cell's module (fetched from `/modules/ID`)
//! with the program's resources. It takes a message from each handler's queue in turn
//! and handles it as a turn (`Node::handle_event`): the turn's writes commit with the
//! message's acknowledgement; a trap commits nothing, so the message comes again after
//! the queue's visibility timeout, and the instance restarts after a back-off (100 ms,
//! doubling to 5 s). An idle instance polls its queues, from every 2 ms up to every
//! 100 ms.

use super::programs;
use super::registry;
use super::resources::Cluster;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use weft_resources::kinds::{self, CellSpec, Kv, Record};
use weft_resources::{Command, Compare, CompareOp, Keys, Op};
use weft_runtime::agents::{Node as ProgramNode, NodeSettings};
use weft_runtime::resources::ResourceWrite;
use weft_runtime::{Output, RunLimits};

pub const ASSIGN: &str = "/cells/assign/";
pub const STATUS: &str = "/cells/status/";

/// How often the scheduler and the node agent look again.
const TICK: Duration = Duration::from_millis(100);
/// The most replicas a Cell may ask for.
const REPLICAS_MAX: i64 = 1000;
/// How long one event may take.
const EVENT_TIME_LIMIT_MS: u64 = 1000;
/// The most memory an instance gets, whatever its Cell asks (the runtime's slot size).
const MEMORY_MAX: i64 = 256 << 20;
/// How often an instance reports its counters when they change.
const REPORT_EVERY: Duration = Duration::from_secs(1);

/// How many replicas a Cell asks for.
pub fn replicas(r: &Record) -> u32 {
    setting(r, "replicas", 1).clamp(0, REPLICAS_MAX) as u32
}

fn setting(r: &Record, name: &str, default: i64) -> i64 {
    r.settings
        .iter()
        .find(|(n, _)| n == name)
        .map_or(default, |(_, v)| *v)
}

/// The names of the nodes whose heartbeat lease lives.
fn ready_nodes(kv: &dyn Kv) -> Result<Vec<String>, String> {
    Ok(kv
        .range(registry::LEASES.as_bytes(), None)?
        .into_iter()
        .filter_map(|p| {
            String::from_utf8(p.key)
                .ok()?
                .strip_prefix(registry::LEASES)
                .map(String::from)
        })
        .collect())
}

/// One assignment: `(handle, replica)` → (node, mod revision).
type Assignments = BTreeMap<(String, u32), (String, u64)>;

fn assignments(kv: &dyn Kv) -> Result<Assignments, String> {
    let mut out = BTreeMap::new();
    for p in kv.range(ASSIGN.as_bytes(), None)? {
        let Ok(key) = String::from_utf8(p.key) else {
            continue;
        };
        let Some((handle, r)) = key
            .strip_prefix(ASSIGN)
            .and_then(|rest| rest.rsplit_once('/'))
        else {
            continue;
        };
        let (Ok(r), Ok(node)) = (r.parse(), String::from_utf8(p.value)) else {
            continue;
        };
        out.insert((handle.to_string(), r), (node, p.mod_revision));
    }
    Ok(out)
}

fn assign_key(handle: &str, r: u32) -> Vec<u8> {
    format!("{ASSIGN}{handle}/{r}").into_bytes()
}

/// One pass of the scheduler (see the module's description).
pub fn schedule(kv: &dyn Kv) -> Result<(), String> {
    let cells: Vec<Record> = kinds::list(kv, None)?
        .into_iter()
        .filter(|r| r.kind == "Cell")
        .collect();
    let ready = ready_nodes(kv)?;
    let mut current = assignments(kv)?;
    let wanted: HashMap<String, u32> = cells.iter().map(|c| (c.handle(), replicas(c))).collect();
    // Replicas nobody wants any more.
    let gone: Vec<(String, u32)> = current
        .keys()
        .filter(|(h, r)| wanted.get(h).is_none_or(|n| r >= n))
        .cloned()
        .collect();
    for (h, r) in gone {
        kv.write(Command::Delete {
            keys: Keys::One(assign_key(&h, r)),
            prev_kv: false,
        })?;
        current.remove(&(h, r));
    }
    // Statuses of instances that ended, or whose node is gone, once their replica runs
    // elsewhere (or not at all).
    for s in statuses(kv)? {
        let here = current
            .get(&(s.cell.clone(), s.replica))
            .map(|(n, _)| n.as_str());
        if here != Some(s.node.as_str()) && (s.state == "dead" || !ready.contains(&s.node)) {
            kv.write(Command::Delete {
                keys: Keys::One(status_key(&s.cell, s.replica, &s.node)),
                prev_kv: false,
            })?;
        }
    }
    if ready.is_empty() {
        return Ok(());
    }
    for cell in &cells {
        let h = cell.handle();
        let mut changed = false;
        for r in 0..replicas(cell) {
            let seen = current.get(&(h.clone(), r)).cloned();
            if seen.as_ref().is_some_and(|(n, _)| ready.contains(n)) {
                continue;
            }
            // Spread: the fewest replicas of this Cell, then the fewest of all.
            let load = |node: &String| {
                let mine = current
                    .iter()
                    .filter(|((ch, _), (n, _))| *ch == h && n == node)
                    .count();
                let all = current.values().filter(|(n, _)| n == node).count();
                (mine, all, node.clone())
            };
            let Some(node) = ready.iter().min_by_key(|n| load(n)).cloned() else {
                break;
            };
            let revision = seen.as_ref().map_or(0, |(_, rev)| *rev);
            kv.write(Command::Txn {
                compare: vec![Compare::mod_revision(
                    assign_key(&h, r),
                    CompareOp::Equal,
                    revision,
                )],
                success: vec![Op::Put {
                    key: assign_key(&h, r),
                    value: node.clone().into_bytes(),
                    lease: None,
                    prev_kv: false,
                }],
                failure: vec![],
            })?;
            current.insert((h.clone(), r), (node, revision + 1));
            changed = true;
        }
        let nodes: Vec<String> = current
            .iter()
            .filter(|((ch, _), _)| *ch == h)
            .map(|(_, (n, _))| n.clone())
            .collect();
        let placement = if nodes.is_empty() {
            "no replicas".to_string()
        } else {
            let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
            for n in &nodes {
                *counted.entry(n).or_default() += 1;
            }
            let parts: Vec<String> = counted
                .iter()
                .map(|(n, c)| {
                    if *c == 1 {
                        n.to_string()
                    } else {
                        format!("{n} x{c}")
                    }
                })
                .collect();
            parts.join(", ")
        };
        if changed || cell.placement != placement {
            kinds::set_placement(kv, &h, &placement)?;
        }
    }
    Ok(())
}

/// A running loop on a thread of its own, ended when dropped.
pub struct Looping {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Looping {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Runs the scheduler every tick while `leads()` says this node leads.
pub fn start_scheduler(kv: Arc<dyn Kv>, leads: impl Fn() -> bool + Send + 'static) -> Looping {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("weft-scheduler".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if leads() {
                    let _ = schedule(&*kv);
                }
                std::thread::sleep(TICK);
            }
        })
        .ok();
    Looping { stop, thread }
}

/// A replica's instance as its node agent reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub cell: String,
    pub replica: u32,
    pub node: String,
    /// `created`, `running`, `stopping`, `dead`.
    pub state: String,
    pub handled: u64,
    pub failed: u64,
    pub restarts: u64,
    pub since_ms: u64,
    #[serde(default)]
    pub last_error: String,
}

fn status_key(handle: &str, r: u32, node: &str) -> Vec<u8> {
    format!("{STATUS}{handle}/{r}/{node}").into_bytes()
}

fn report(kv: &dyn Kv, s: &Status) {
    let Ok(value) = serde_json::to_vec(s) else {
        return;
    };
    let _ = kv.write(Command::Put {
        key: status_key(&s.cell, s.replica, &s.node),
        value,
        lease: None,
        prev_kv: false,
    });
}

struct Instance {
    spec: CellSpec,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// Runs, on node `me`, the replicas the scheduler placed there; their prints go to
/// `output`.
pub fn start_agent(kv: Arc<dyn Kv>, me: String, output: Output) -> Looping {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("weft-cells".into())
        .spawn(move || {
            let mut running: HashMap<(String, u32), Instance> = HashMap::new();
            while !flag.load(Ordering::Relaxed) {
                if let Ok(mine) = placed_here(&*kv, &me) {
                    reconcile(&kv, &me, &output, &mut running, mine);
                }
                std::thread::sleep(TICK);
            }
            for (_, i) in running.drain() {
                i.stop.store(true, Ordering::Relaxed);
                let _ = i.thread.join();
            }
        })
        .ok();
    Looping { stop, thread }
}

/// A replica (its Cell's handle, its number) and its Cell's record.
type Placed = ((String, u32), Record);

/// The replicas placed on `me`, with their Cells' records.
fn placed_here(kv: &dyn Kv, me: &str) -> Result<Vec<Placed>, String> {
    let mut out = vec![];
    let mut records: HashMap<String, Option<Record>> = HashMap::new();
    for ((h, r), (node, _)) in assignments(kv)? {
        if node != me {
            continue;
        }
        let record = match records.get(&h) {
            Some(r) => r.clone(),
            None => {
                let found = kinds::by_handle(kv, &h).ok();
                records.insert(h.clone(), found.clone());
                found
            }
        };
        if let Some(record) = record {
            out.push(((h, r), record));
        }
    }
    Ok(out)
}

fn reconcile(
    kv: &Arc<dyn Kv>,
    me: &str,
    output: &Output,
    running: &mut HashMap<(String, u32), Instance>,
    mine: Vec<Placed>,
) {
    let wanted: HashMap<(String, u32), Record> = mine.into_iter().collect();
    // Stop what is no longer placed here, or runs other code now.
    let stale: Vec<(String, u32)> = running
        .iter()
        .filter(|(k, i)| {
            wanted
                .get(*k)
                .and_then(|r| r.cell.as_ref())
                .is_none_or(|spec| *spec != i.spec)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in stale {
        if let Some(i) = running.remove(&k) {
            i.stop.store(true, Ordering::Relaxed);
            let _ = i.thread.join();
        }
    }
    for (k, record) in wanted {
        if running.contains_key(&k) {
            continue;
        }
        let Some(spec) = record.cell.clone() else {
            continue;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (kv, me, output, flag) = (kv.clone(), me.to_string(), output.clone(), stop.clone());
        let (handle, r) = k.clone();
        let memory = setting(&record, "memory", 64 << 20).clamp(1 << 20, MEMORY_MAX);
        let spec2 = spec.clone();
        let thread = std::thread::Builder::new()
            .name(format!("cell {handle}/{r}"))
            .spawn(move || instance(kv, handle, r, spec2, memory, me, output, flag));
        if let Ok(thread) = thread {
            running.insert(k, Instance { spec, stop, thread });
        }
    }
}

/// One replica's instance, until `stop` (see the module's description).
#[allow(clippy::too_many_arguments)]
fn instance(
    kv: Arc<dyn Kv>,
    handle: String,
    r: u32,
    spec: CellSpec,
    memory: i64,
    me: String,
    output: Output,
    stop: Arc<AtomicBool>,
) {
    let mut status = Status {
        cell: handle.clone(),
        replica: r,
        node: me.clone(),
        state: "created".into(),
        since_ms: kinds::now_ms(),
        ..Status::default()
    };
    report(&*kv, &status);
    let program = handle.split('/').next().unwrap_or_default().to_string();
    // The module and a runtime, tried again (with back-off) until they come.
    let mut backoff = Duration::from_millis(100);
    let node = loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let made = programs::load_module(&*kv, &spec.module).and_then(|artifact| {
            let rt = programs::runtime()?;
            let mut settings = NodeSettings::new(std::env::temp_dir().join("weft-cells"));
            settings.program = program.clone();
            settings.turn_limits = RunLimits {
                deadline_ms: Some(EVENT_TIME_LIMIT_MS),
                memory_max_bytes: memory as usize,
                ..RunLimits::default()
            };
            Ok(ProgramNode::new(
                rt,
                Arc::new(artifact),
                output.clone(),
                output.clone(),
                settings,
            ))
        });
        match made {
            Ok(node) => break node,
            Err(e) => {
                status.last_error = e;
                report(&*kv, &status);
                sleep_unless(&stop, backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    };
    let cluster = Arc::new(Cluster::new(kv.clone(), &program));
    node.set_resources(cluster.clone());
    status.state = "running".into();
    status.since_ms = kinds::now_ms();
    report(&*kv, &status);
    let mut reported = status.clone();
    let mut last_report = Instant::now();
    let mut idle = Duration::from_millis(2);
    let mut backoff = Duration::from_millis(100);
    use weft_runtime::resources::Resources;
    while !stop.load(Ordering::Relaxed) {
        let mut any = false;
        for h in &spec.handlers {
            let taken = match cluster.receive(&h.source) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(e) => {
                    status.last_error = e;
                    continue;
                }
            };
            any = true;
            let (msg, receipt) = taken;
            let mut args = h.captures.clone();
            args.extend_from_slice(&msg);
            let ack = ResourceWrite::Ack {
                handle: h.source.clone(),
                receipt,
            };
            match node.handle_event(&h.export, args, ack) {
                Ok(()) => {
                    status.handled += 1;
                    backoff = Duration::from_millis(100);
                }
                Err(e) => {
                    status.failed += 1;
                    status.restarts += 1;
                    status.last_error = e.lines().next().unwrap_or("").to_string();
                    let _ = output.write_str(&format!(
                        "error: in cell {handle} replica {r} on {}: {e}\n",
                        h.source
                    ));
                    report(&*kv, &status);
                    reported = status.clone();
                    sleep_unless(&stop, backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        if status != reported && last_report.elapsed() >= REPORT_EVERY {
            report(&*kv, &status);
            reported = status.clone();
            last_report = Instant::now();
        }
        if any {
            idle = Duration::from_millis(2);
        } else {
            sleep_unless(&stop, idle);
            idle = (idle * 2).min(Duration::from_millis(100));
        }
    }
    status.state = "stopping".into();
    report(&*kv, &status);
    node.stop(Duration::from_secs(5));
    status.state = "dead".into();
    status.since_ms = kinds::now_ms();
    report(&*kv, &status);
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(20)));
    }
}

/// Every instance's status, for `weft get cells`.
pub fn statuses(kv: &dyn Kv) -> Result<Vec<Status>, String> {
    Ok(kv
        .range(STATUS.as_bytes(), None)?
        .iter()
        .filter_map(|p| serde_json::from_slice(&p.value).ok())
        .collect())
}
