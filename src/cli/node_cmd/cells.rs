//! Code on the cluster: the scheduler that places the replicas of each Cell,
//! HttpService and Timer on the Ready nodes, and the node agent that runs the replicas
//! placed on its node (`cells/instance.rs`; an HttpService's endpoint in
//! `cells/http.rs`).
//!
//! # Keys
//! - `/cells/assign/PROGRAM/NAME/R`: the node replica `R` of `PROGRAM/NAME` runs on.
//!   Written by the scheduler, which runs on the leader: a replica without a node, or
//!   whose node's heartbeat lease is gone, goes to the Ready node with the fewest
//!   replicas of this resource, then the fewest of all (spread); replicas beyond
//!   `replicas` go (scale in), and so do a released resource's.
//! - `/cells/status/PROGRAM/NAME/R/NODE`: that replica's instance on `NODE` as its node
//!   agent reports it: state (created, running, stopping, dead), events handled and
//!   failed, restarts, the last error.
//! - `/endpoints/PROGRAM/NAME/R`: an HttpService replica's endpoint, `{node, address,
//!   ready}`, written by its instance once it serves and removed when it stops (or by
//!   the scheduler with its replica). The load balancer provider (`lb.rs`) reads them.
//!
//! An instance is a node of its own for the module (fetched from `/modules/ID`) with the
//! program's resources; each event is a turn (`Node::handle_event`).

mod http;
pub mod instance;
pub mod kick;

use super::registry;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use weft_resources::kinds::{self, CellSpec, Kv, Record};
use weft_resources::{Command, Compare, CompareOp, Keys, Op, Outcome};
use weft_runtime::Output;

pub const ASSIGN: &str = "/cells/assign/";
pub const STATUS: &str = "/cells/status/";

/// How often the scheduler and the node agent look again.
const TICK: Duration = Duration::from_millis(100);
/// The most replicas a Cell may ask for.
const REPLICAS_MAX: i64 = 1000;

/// How many replicas a Cell asks for.
pub fn replicas(r: &Record) -> u32 {
    setting(r, "replicas", 1).clamp(0, REPLICAS_MAX) as u32
}

pub(super) fn setting(r: &Record, name: &str, default: i64) -> i64 {
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
        .filter(|r| r.cell.is_some())
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
    if !gone.is_empty() {
        kick::PLACED.kick();
    }
    for (h, r) in gone {
        for key in [assign_key(&h, r), instance::endpoint_key(&h, r)] {
            kv.write(Command::Delete {
                keys: Keys::One(key),
                prev_kv: false,
            })?;
        }
        current.remove(&(h, r));
    }
    if !ready.is_empty() {
        let capacity: HashMap<String, (u64, u64)> =
            registry::records(&kv.range(registry::NODES.as_bytes(), None)?)
                .into_iter()
                .map(|n| (n.name, (n.cpu_milli, n.memory_bytes)))
                .collect();
        place(kv, &cells, &ready, &capacity, &mut current)?;
    }
    forget_statuses(kv, &ready, &current)
}

/// Places the replicas of `cells` without a live node (see the module's description).
fn place(
    kv: &dyn Kv,
    cells: &[Record],
    ready: &[String],
    capacity: &HashMap<String, (u64, u64)>,
    current: &mut Assignments,
) -> Result<(), String> {
    let requests: HashMap<String, (u64, u64)> =
        cells.iter().map(|c| (c.handle(), request(c))).collect();
    for cell in cells {
        let h = cell.handle();
        let mut changed = false;
        let mut pending = 0;
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
            // Fit: the node has room for one more instance.
            let fits = |node: &&String| {
                let Some(&(cpu_max, memory_max)) = capacity.get(*node) else {
                    return true;
                };
                let (mut cpu, mut memory) = request(cell);
                for ((ch, _), (n, _)) in current.iter() {
                    if n == *node {
                        let (c, m) = requests.get(ch).copied().unwrap_or_default();
                        cpu += c;
                        memory += m;
                    }
                }
                (cpu_max == 0 || cpu <= cpu_max) && (memory_max == 0 || memory <= memory_max)
            };
            let Some(node) = ready.iter().filter(fits).min_by_key(|n| load(n)).cloned() else {
                pending += 1;
                continue;
            };
            let revision = seen.as_ref().map_or(0, |(_, rev)| *rev);
            let reply = kv.write(Command::Txn {
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
            if matches!(reply.outcome, Outcome::Txn(ref t) if t.succeeded) {
                kick::placed((h.clone(), r), &node, cell);
            }
            current.insert((h.clone(), r), (node, revision + 1));
            changed = true;
        }
        let nodes: Vec<String> = current
            .iter()
            .filter(|((ch, _), _)| *ch == h)
            .map(|(_, (n, _))| n.clone())
            .collect();
        let (cpu, memory) = request(cell);
        let pending = if pending == 0 {
            String::new()
        } else {
            format!(
                "{pending} pending: no Ready node has {cpu}m CPU and {} MiB free",
                memory >> 20
            )
        };
        let placement = if nodes.is_empty() && !pending.is_empty() {
            pending
        } else if nodes.is_empty() {
            "no replicas".to_string()
        } else if !pending.is_empty() {
            format!("{}; {pending}", spread_text(&nodes))
        } else {
            spread_text(&nodes)
        };
        if changed {
            kick::PLACED.kick();
        }
        if changed || cell.placement != placement {
            kinds::set_placement(kv, &h, &placement)?;
        }
    }
    Ok(())
}

/// What one instance of `r` asks of its node: thousandths of a core, bytes.
fn request(r: &Record) -> (u64, u64) {
    let cpu = setting(r, "cpu", 100).max(0) as u64;
    let memory = setting(r, "memory", 64 << 20).max(0) as u64;
    (cpu, memory)
}

/// `node-1, node-2 x2`: the nodes, with how many replicas each has when more than one.
fn spread_text(nodes: &[String]) -> String {
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for n in nodes {
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
}

/// Forgets the statuses of instances that ended, or whose node is gone, once their
/// replica runs elsewhere (or not at all).
fn forget_statuses(kv: &dyn Kv, ready: &[String], current: &Assignments) -> Result<(), String> {
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
            let mut seen = kick::SCHEDULE.seen();
            while !flag.load(Ordering::Relaxed) {
                if leads() {
                    let _ = schedule(&*kv);
                }
                seen = kick::SCHEDULE.wait(seen, TICK);
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

pub(super) fn report(kv: &dyn Kv, s: &Status) {
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
    settings: Vec<(String, i64)>,
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
            let mut seen = kick::PLACED.seen();
            while !flag.load(Ordering::Relaxed) {
                // What this process's scheduler just placed here starts at once.
                let placed = kick::take_placed(&me);
                start_missing(&kv, &me, &output, &mut running, placed);
                if let Ok(mine) = placed_here(&*kv, &me) {
                    reconcile(&kv, &me, &output, &mut running, mine);
                }
                seen = kick::PLACED.wait(seen, TICK);
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
                .is_none_or(|r| r.cell.as_ref() != Some(&i.spec) || r.settings != i.settings)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in stale {
        if let Some(i) = running.remove(&k) {
            i.stop.store(true, Ordering::Relaxed);
            let _ = i.thread.join();
        }
    }
    start_missing(kv, me, output, running, wanted);
}

/// Starts an instance for each of `wanted` not running yet.
fn start_missing(
    kv: &Arc<dyn Kv>,
    me: &str,
    output: &Output,
    running: &mut HashMap<(String, u32), Instance>,
    wanted: impl IntoIterator<Item = Placed>,
) {
    for (k, record) in wanted {
        if running.contains_key(&k) {
            continue;
        }
        let Some(spec) = record.cell.clone() else {
            continue;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (handle, replica) = k.clone();
        let settings = record.settings.clone();
        let placed = instance::Placed {
            kv: kv.clone(),
            handle,
            replica,
            spec: spec.clone(),
            record,
            me: me.to_string(),
            host: endpoint_host(),
            output: output.clone(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("cell {}/{replica}", placed.handle))
            .spawn(move || instance::run(placed, flag));
        if let Ok(thread) = thread {
            running.insert(
                k,
                Instance {
                    spec,
                    settings,
                    stop,
                    thread,
                },
            );
        }
    }
}

/// The host endpoints listen on (`127.0.0.1` unless set).
static ENDPOINT_HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the host this process's endpoints listen on, once.
pub fn set_endpoint_host(host: String) {
    let _ = ENDPOINT_HOST.set(host);
}

fn endpoint_host() -> String {
    ENDPOINT_HOST
        .get()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1".into())
}

pub(super) fn sleep_unless(stop: &AtomicBool, d: Duration) {
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
