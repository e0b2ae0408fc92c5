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
//! An instance is a node of its own for the module (fetched from `/modules/ID` and kept,
//! `cells/modules.rs`) with the program's resources; each event is a turn
//! (`Node::handle_event`). Instances hand their statuses to their agent's reporter
//! (`cells/report.rs`), which writes them behind their backs.

mod http;
pub mod instance;
pub mod kick;
mod modules;
mod report;
pub mod volumes;

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

/// What the scheduler's last full pass saw, with what it placed since: a kicked pass
/// places the Cells just ensured on it without reading everything again. A full pass
/// (every tick) reads it all again.
#[derive(Default)]
struct View {
    ready: Vec<String>,
    /// What each node offers: thousandths of a core, bytes.
    capacity: HashMap<String, (u64, u64)>,
    /// What one instance of each Cell asks, by handle.
    requests: HashMap<String, (u64, u64)>,
    current: Assignments,
    /// The node each bound Volume lives on, by handle.
    bound: HashMap<String, String>,
}

/// One pass of the scheduler (see the module's description).
pub fn schedule(kv: &dyn Kv) -> Result<(), String> {
    full_pass(kv).map(|_| ())
}

/// Reads every record, node and assignment, and places, moves and drops replicas.
fn full_pass(kv: &dyn Kv) -> Result<View, String> {
    let records = kinds::list(kv, None)?;
    let bound: HashMap<String, String> = records
        .iter()
        .filter(|r| r.kind == "Volume" && r.placement != kinds::VOLUME_UNBOUND)
        .map(|r| (r.handle(), r.placement.clone()))
        .collect();
    let cells: Vec<Record> = records.into_iter().filter(|r| r.cell.is_some()).collect();
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
    let mut view = View {
        requests: cells.iter().map(|c| (c.handle(), request(c))).collect(),
        ready,
        current,
        bound,
        ..View::default()
    };
    if !view.ready.is_empty() {
        view.capacity = registry::records(&kv.range(registry::NODES.as_bytes(), None)?)
            .into_iter()
            .map(|n| (n.name, (n.cpu_milli, n.memory_bytes)))
            .collect();
        let mut placements = vec![];
        let mut changed = false;
        for cell in &cells {
            let placed = place(kv, cell, &mut view)?;
            changed |= placed.changed;
            placements.push((cell, placement_text(cell, &view, placed.pending)));
        }
        if changed {
            kick::PLACED.kick();
        }
        // What the records say, after the placements are written and handed over.
        for (cell, text) in placements {
            if cell.placement != text {
                kinds::set_placement(kv, &cell.handle(), &text)?;
            }
        }
    }
    forget_statuses(kv, &view.ready, &view.current)?;
    Ok(view)
}

/// Places the replicas of the Cells `handles` (just ensured in this process) that
/// `view` has no live node for; whether all went as `view` expected (else it is stale).
/// Their placement texts wait for the next full pass.
fn kicked_pass(kv: &dyn Kv, view: &mut View, handles: &[String]) -> Result<bool, String> {
    if view.ready.is_empty() {
        return Ok(true);
    }
    let mut expected = true;
    for h in handles {
        let cell = kinds::by_handle(kv, h)?;
        if cell.cell.is_none() {
            continue;
        }
        view.requests.insert(h.clone(), request(&cell));
        expected &= !place(kv, &cell, view)?.raced;
    }
    Ok(expected)
}

/// What [`place`] did for one Cell.
struct Placing {
    /// A replica was given a node.
    changed: bool,
    /// Replicas that fit on no Ready node.
    pending: u32,
    /// A placement was not written: the assignment changed since it was read.
    raced: bool,
}

/// Places the replicas of `cell` without a live node (see the module's description),
/// handing each to this process's agent as soon as it is written.
fn place(kv: &dyn Kv, cell: &Record, view: &mut View) -> Result<Placing, String> {
    let h = cell.handle();
    let mut placing = Placing {
        changed: false,
        pending: 0,
        raced: false,
    };
    for r in 0..replicas(cell) {
        let seen = view.current.get(&(h.clone(), r)).cloned();
        if seen.as_ref().is_some_and(|(n, _)| view.ready.contains(n)) {
            continue;
        }
        let Some(node) = best_node(cell, &h, view) else {
            placing.pending += 1;
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
            bind_volumes(kv, cell, &node, view)?;
            kick::placed((h.clone(), r), &node, cell);
        } else {
            placing.raced = true;
        }
        view.current.insert((h.clone(), r), (node, reply.revision));
        placing.changed = true;
    }
    Ok(placing)
}

/// Binds the Volumes `cell` uses that are not bound yet to `node`, where it was placed.
fn bind_volumes(kv: &dyn Kv, cell: &Record, node: &str, view: &mut View) -> Result<(), String> {
    for v in cell.cell.iter().flat_map(|c| &c.volumes) {
        if !view.bound.contains_key(v) {
            kinds::set_placement(kv, v, node)?;
            view.bound.insert(v.clone(), node.to_string());
        }
    }
    Ok(())
}

/// The node the Volumes `cell` uses are bound to, if any is (sticky).
fn volume_node<'a>(cell: &Record, view: &'a View) -> Option<(&'a String, &'a String)> {
    cell.cell
        .iter()
        .flat_map(|c| &c.volumes)
        .find_map(|v| view.bound.get_key_value(v))
}

/// The Ready node with room for one more instance of `cell` (handle `h`) and the
/// fewest replicas of it, then of all (spread); only the node its Volumes live on, if
/// they are bound.
fn best_node(cell: &Record, h: &str, view: &View) -> Option<String> {
    let pinned = volume_node(cell, view).map(|(_, n)| n);
    let load = |node: &String| {
        let mine = view
            .current
            .iter()
            .filter(|((ch, _), (n, _))| ch == h && n == node)
            .count();
        let all = view.current.values().filter(|(n, _)| n == node).count();
        (mine, all, node.clone())
    };
    let fits = |node: &&String| {
        let Some(&(cpu_max, memory_max)) = view.capacity.get(*node) else {
            return true;
        };
        let (mut cpu, mut memory) = request(cell);
        for ((ch, _), (n, _)) in view.current.iter() {
            if n == *node {
                let (c, m) = view.requests.get(ch).copied().unwrap_or_default();
                cpu += c;
                memory += m;
            }
        }
        (cpu_max == 0 || cpu <= cpu_max) && (memory_max == 0 || memory <= memory_max)
    };
    view.ready
        .iter()
        .filter(|n| pinned.is_none_or(|p| p == *n))
        .filter(fits)
        .min_by_key(|n| load(n))
        .cloned()
}

/// Where `cell` runs, as its record says it: its nodes, and what is pending.
fn placement_text(cell: &Record, view: &View, pending: u32) -> String {
    let h = cell.handle();
    let nodes: Vec<String> = view
        .current
        .iter()
        .filter(|((ch, _), _)| *ch == h)
        .map(|(_, (n, _))| n.clone())
        .collect();
    let (cpu, memory) = request(cell);
    let pending = match volume_node(cell, view) {
        _ if pending == 0 => String::new(),
        Some((v, n)) if !view.ready.contains(n) => {
            format!("{pending} pending: its Volume {v} lives on {n}, which is not Ready")
        }
        Some((v, n)) => format!(
            "{pending} pending: {n}, where its Volume {v} lives, has not {cpu}m CPU and {} MiB free",
            memory >> 20
        ),
        None => format!(
            "{pending} pending: no Ready node has {cpu}m CPU and {} MiB free",
            memory >> 20
        ),
    };
    if nodes.is_empty() && !pending.is_empty() {
        pending
    } else if nodes.is_empty() {
        "no replicas".to_string()
    } else if !pending.is_empty() {
        format!("{}; {pending}", spread_text(&nodes))
    } else {
        spread_text(&nodes)
    }
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

/// Runs the scheduler every tick while `leads()` says this node leads, and at once for
/// the Cells this process ensures.
pub fn start_scheduler(kv: Arc<dyn Kv>, leads: impl Fn() -> bool + Send + 'static) -> Looping {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("weft-scheduler".into())
        .spawn(move || {
            let mut seen = kick::SCHEDULE.seen();
            let mut view: Option<View> = None;
            let mut full_at = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                let ensured = kick::take_ensured();
                if !leads() {
                    view = None;
                } else {
                    if let (Some(v), false) = (view.as_mut(), ensured.is_empty()) {
                        if !kicked_pass(&*kv, v, &ensured).unwrap_or(false) {
                            view = None;
                        }
                    }
                    if view.is_none() || full_at.elapsed() >= TICK {
                        view = full_pass(&*kv).ok();
                        full_at = Instant::now();
                    }
                }
                let wait = TICK.saturating_sub(full_at.elapsed());
                seen = kick::SCHEDULE.wait(seen, wait.max(Duration::from_millis(1)));
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

struct Instance {
    spec: CellSpec,
    settings: Vec<(String, i64)>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// An agent's instances: those running, and those told to stop whose threads have not
/// ended yet (a replica's next instance starts once its last one ended, so that their
/// statuses and endpoints do not cross).
#[derive(Default)]
struct Instances {
    running: HashMap<(String, u32), Instance>,
    stopping: HashMap<(String, u32), JoinHandle<()>>,
}

impl Instances {
    /// Tells the instance of `k` to stop, without waiting for it.
    fn stop(&mut self, k: &(String, u32)) {
        if let Some(i) = self.running.remove(k) {
            i.stop.store(true, Ordering::Relaxed);
            self.stopping.insert(k.clone(), i.thread);
        }
    }

    /// Joins the stopping instances that ended; whether any did.
    fn reap(&mut self) -> bool {
        let ended: Vec<(String, u32)> = self
            .stopping
            .iter()
            .filter(|(_, t)| t.is_finished())
            .map(|(k, _)| k.clone())
            .collect();
        for k in &ended {
            if let Some(t) = self.stopping.remove(k) {
                let _ = t.join();
            }
        }
        !ended.is_empty()
    }

    /// Stops every instance and waits for them all.
    fn stop_all(&mut self) {
        let keys: Vec<(String, u32)> = self.running.keys().cloned().collect();
        for k in &keys {
            self.stop(k);
        }
        kick::SENT.kick();
        for (_, t) in self.stopping.drain() {
            let _ = t.join();
        }
    }
}

/// How often the agent looks whether instances told to stop have ended.
const REAP_EVERY: Duration = Duration::from_millis(5);

/// Runs, on node `me`, the replicas the scheduler placed there; their prints go to
/// `output`. Placements this process's scheduler hands over start at once; the store is
/// read for the rest when kicked without one, and every tick. Instances told to stop
/// end on their own threads; the agent goes on meanwhile.
pub fn start_agent(kv: Arc<dyn Kv>, me: String, output: Output) -> Looping {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("weft-cells".into())
        .spawn(move || {
            let reporter = report::Reporter::start(kv.clone());
            let agent = Agent {
                kv,
                me,
                output,
                reports: reporter.reports(),
            };
            let mut instances = Instances::default();
            let mut seen = kick::PLACED.seen();
            let mut read_at: Option<Instant> = None;
            while !flag.load(Ordering::Relaxed) {
                // What this process's scheduler just placed here starts at once; the
                // store is read again at the next tick, not while it starts.
                let placed = kick::take_placed(&agent.me);
                let handed = !placed.is_empty();
                agent.start_missing(&mut instances, placed);
                // A replica whose last instance just ended may start its next.
                let ended = instances.reap();
                if ended || !handed || read_at.is_none_or(|t| t.elapsed() >= TICK) {
                    if let Ok(mine) = placed_here(&*agent.kv, &agent.me) {
                        agent.reconcile(&mut instances, mine);
                    }
                    read_at = Some(Instant::now());
                }
                let mut wait = read_at.map_or(TICK, |t| TICK.saturating_sub(t.elapsed()));
                if !instances.stopping.is_empty() {
                    wait = wait.min(REAP_EVERY);
                }
                seen = kick::PLACED.wait(seen, wait.max(Duration::from_millis(1)));
            }
            instances.stop_all();
            // The instances' last statuses are written as the reporter goes.
            drop(reporter);
        })
        .ok();
    Looping { stop, thread }
}

/// A replica (its Cell's handle, its number) and its Cell's record.
type Placed = ((String, u32), Record);

/// The replicas placed on `me`, with their Cells' records (read a program at a time).
fn placed_here(kv: &dyn Kv, me: &str) -> Result<Vec<Placed>, String> {
    let mine: Vec<(String, u32)> = assignments(kv)?
        .into_iter()
        .filter(|(_, (node, _))| node == me)
        .map(|(k, _)| k)
        .collect();
    let mut records: HashMap<String, Record> = HashMap::new();
    let programs: std::collections::BTreeSet<&str> = mine
        .iter()
        .filter_map(|(h, _)| h.split_once('/').map(|(p, _)| p))
        .collect();
    for p in programs {
        // An unreadable record spoils its program's list: read those one by one.
        let Ok(list) = kinds::list(kv, Some(p)) else {
            continue;
        };
        records.extend(list.into_iter().map(|r| (r.handle(), r)));
    }
    let mut out = vec![];
    for (h, r) in mine {
        let record = match records.get(&h) {
            Some(found) => Some(found.clone()),
            None => kinds::by_handle(kv, &h).ok(),
        };
        if let Some(record) = record {
            records.insert(h.clone(), record.clone());
            out.push(((h, r), record));
        }
    }
    Ok(out)
}

/// What the node agent starts instances with.
struct Agent {
    kv: Arc<dyn Kv>,
    me: String,
    output: Output,
    reports: report::Reports,
}

impl Agent {
    /// Stops what is no longer placed here, or runs other code now, and starts what is
    /// placed here and not running.
    fn reconcile(&self, instances: &mut Instances, mine: Vec<Placed>) {
        let wanted: HashMap<(String, u32), Record> = mine.into_iter().collect();
        let stale: Vec<(String, u32)> = instances
            .running
            .iter()
            .filter(|(k, i)| {
                wanted
                    .get(*k)
                    .is_none_or(|r| r.cell.as_ref() != Some(&i.spec) || r.settings != i.settings)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &stale {
            instances.stop(k);
        }
        if !stale.is_empty() {
            // Idle instances wait for messages: wake them to see that they stop.
            kick::SENT.kick();
        }
        self.start_missing(instances, wanted);
    }

    /// Starts an instance for each of `wanted` not running yet.
    fn start_missing(&self, instances: &mut Instances, wanted: impl IntoIterator<Item = Placed>) {
        for (k, record) in wanted {
            if instances.running.contains_key(&k) || instances.stopping.contains_key(&k) {
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
                kv: self.kv.clone(),
                handle,
                replica,
                spec: spec.clone(),
                record,
                me: self.me.clone(),
                host: endpoint_host(),
                output: self.output.clone(),
                reports: self.reports.clone(),
            };
            let thread = std::thread::Builder::new()
                .name(format!("cell {}/{replica}", placed.handle))
                .spawn(move || instance::run(placed, flag));
            if let Ok(thread) = thread {
                instances.running.insert(
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
