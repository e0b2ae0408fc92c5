//! Agents on one node: activation on first use, one turn at a time per agent, lanes kept
//! by the host and stored in sled, typed calls, one-way sends and timers.
//!
//! A turn runs an agent member's exported entry in a fresh instance. It works on its own
//! copy of the agent's lanes; when it returns, its writes are committed to the store in one
//! durable batch, then the copy replaces the agent's lanes and its sends are queued. When
//! it traps, the copy and the sends are dropped, the trap is reported, and the agent keeps
//! serving. `on start` runs at each activation, before any message.
//!
//! A synchronous call waits for the target agent to be free. A call that would wait for
//! itself, directly or through a chain of waiting calls on other threads, fails at once
//! ("call cycle") instead of deadlocking. Each agent admits at most `mailbox_max` waiting
//! calls; beyond that a call fails with "mailbox full" (the caller's back-pressure).
//! One-way sends and timer ticks are queued per target (`agents/queue.rs`) and delivered
//! by a few dispatcher threads, in order for each target.
//!
//! The node runs one program, in versions (`Version`): a patch makes a new one current,
//! and each agent moves to it at its next turn boundary (`agents/swap.rs`), so a turn
//! always runs whole under one version's code.

mod args;
mod diff;
mod dispatch;
mod lanes;
mod links;
mod queue;
mod sink;
mod swap;
mod turn;

use crate::output::Output;
use crate::store::{Store, Write};
use crate::{RunError, RunLimits, Runtime};
use args::{args_from_recon, args_recon};
pub use lanes::Lanes;
use links::Links;
use queue::{Msg, Queue};
pub use sink::{Flush, Frame, Sink, Wire};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};
pub use swap::{PatchError, Patched};
use weft_compiler::manifest::{AgentDesc, Manifest};
use weft_compiler::Artifact;

/// The default `send_queue_max`.
pub const SEND_QUEUE_MAX: usize = 100_000;
/// The default `sends_per_turn_max`.
pub const SENDS_PER_TURN_MAX: usize = 100_000;

/// How a node runs its agents. Every bound is named here and reported when hit.
#[derive(Clone, Debug)]
pub struct NodeSettings {
    /// Where the lanes are stored.
    pub data_dir: PathBuf,
    /// Limits of each turn: `deadline_ms` is the per-turn time limit (`turn_time_limit_ms`).
    pub turn_limits: RunLimits,
    /// The most calls that may wait for one agent (`mailbox_max`).
    pub mailbox_max: usize,
    /// The most one-way messages (sends and timer ticks) that may wait for one agent
    /// (`send_queue_max`). A turn's send to a fuller mailbox fails the turn; `main` waits
    /// for room; a timer tick is skipped. Turns in flight may each add up to
    /// `sends_per_turn_max` past it.
    pub send_queue_max: usize,
    /// The most one-way sends one turn may make (`sends_per_turn_max`).
    pub sends_per_turn_max: usize,
    /// The longest a call waits for a busy agent (`call_wait_max`).
    pub call_wait_max: Duration,
    /// How many threads deliver one-way messages at once, each to a different agent
    /// (`dispatch_workers`).
    pub dispatch_workers: usize,
    /// The program's name, as `weft rollout` names it.
    pub program: String,
    /// Limits of `main` when a patch runs it again.
    pub main_limits: RunLimits,
    /// The host capabilities its code may use (bit `i` for `tir::CAPABILITIES[i]`);
    /// `None`: every one (a node that is not a Cell's instance).
    pub capabilities: Option<i64>,
    /// The Secrets (by handle) its code may read: a Cell's instance's grants. No other
    /// node reads any.
    pub secrets: Vec<String>,
}

impl NodeSettings {
    pub fn new(data_dir: PathBuf) -> NodeSettings {
        NodeSettings {
            data_dir,
            turn_limits: RunLimits {
                deadline_ms: Some(1000),
                ..RunLimits::default()
            },
            mailbox_max: 1000,
            send_queue_max: SEND_QUEUE_MAX,
            sends_per_turn_max: SENDS_PER_TURN_MAX,
            call_wait_max: Duration::from_secs(30),
            dispatch_workers: 32,
            program: "main".into(),
            main_limits: RunLimits::default(),
            capabilities: None,
            secrets: vec![],
        }
    }
}

/// A node hosting one program's agents. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    rt: Arc<Runtime>,
    /// The version new turns run (each agent moves to it at its next turn boundary).
    current: RwLock<Arc<Version>>,
    /// Its number, for the check every turn makes.
    current_number: std::sync::atomic::AtomicU64,
    /// Versions loaded from the store, by number, and the cached plans between them.
    versions: Mutex<swap::Versions>,
    /// Held while a patch is applied: one at a time.
    patching: Mutex<()>,
    /// The program's name: as its history first recorded it, else `settings.program`.
    program: Mutex<String>,
    output: Output,
    errors: Output,
    settings: NodeSettings,
    store: OnceLock<Result<Store, String>>,
    agents: Mutex<HashMap<String, Arc<Slot>>>,
    /// Which thread holds which agent, and which agent each blocked thread waits for.
    graph: Mutex<WaitGraph>,
    queue: Mutex<Queue>,
    queue_cv: Condvar,
    /// Each active agent's timers, by URI.
    timers: Mutex<HashMap<String, Vec<Timer>>>,
    links: Links,
    /// The cluster the program's resources live in, once given.
    resources: OnceLock<Arc<dyn crate::resources::Resources>>,
}

#[derive(Default)]
struct WaitGraph {
    /// Which agent each blocked thread (by [`thread_key`]) waits for. Who holds an agent
    /// is its slot's `holder`.
    waits_for: HashMap<u64, Arc<str>>,
}

/// A number for the calling thread, never 0 (0 is "nobody" in `Slot::holder`).
fn thread_key() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static KEY: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    KEY.with(|k| *k)
}

/// One version of the program on the node.
pub struct Version {
    /// 0 for a program whose history is not recorded (a node that was never deployed);
    /// otherwise 1 for the first version and one more for each patch.
    pub number: u64,
    pub artifact: Arc<Artifact>,
    /// The version this one undoes (its code is the version before that one's).
    pub undoes: Option<u64>,
}

impl Version {
    pub fn manifest(&self) -> &Manifest {
        &self.artifact.manifest
    }
}

struct Timer {
    version: u64,
    timer: usize,
    every: Duration,
    next: Instant,
}

struct Slot {
    uri: Arc<str>,
    /// The agent's type, by name (the same in every version that has it).
    agent: Arc<str>,
    state: Mutex<SlotState>,
    cv: Condvar,
    /// The thread holding the agent ([`thread_key`]), 0 when free: read without locks by
    /// the cycle check, which only follows threads that are blocked and so cannot move.
    holder: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct SlotState {
    busy: Option<u64>,
    waiting: usize,
    /// The committed lanes and the version they belong to, once activated.
    held: Option<Held>,
    /// A version this agent could not move to (its migration or `on start` trapped): it
    /// keeps running the code it has until the next patch.
    failed: Option<u64>,
    /// Why it could not.
    failed_why: Option<String>,
}

/// An active agent: the version whose code it runs, its type's index in that version's
/// manifest, and its committed lanes.
pub(crate) struct Held {
    version: Arc<Version>,
    agent: usize,
    lanes: Lanes,
}

impl Held {
    fn desc(&self) -> &AgentDesc {
        &self.version.manifest().agents[self.agent]
    }
}

/// Why a call returned no result. Its text is the message a caller sees (`String::from`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No agent type serves the URI, or it has no such method: the request was wrong.
    NotFound(String),
    /// The agent's mailbox is full (`mailbox_max`) or it stayed busy past
    /// `call_wait_max`: worth retrying later.
    Busy(String),
    /// The call ran and failed: a trap, a call cycle, a store that would not commit.
    Failed(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NotFound(m) | CallError::Busy(m) | CallError::Failed(m) => f.write_str(m),
        }
    }
}

impl From<CallError> for String {
    fn from(e: CallError) -> String {
        e.to_string()
    }
}

/// Why a link was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// No agent type serves the URI (WARP's `@nodeNotFound`).
    NodeNotFound,
    /// The agent has no lane, demand or command lane of that name (`@laneNotFound`).
    LaneNotFound,
    /// The agent could not be reached or the link's queue overflowed.
    Failed(String),
}

/// What can be linked to: a stored lane (index and description), a demand lane, or a
/// command lane.
enum Linkable<'a> {
    Lane(usize, &'a weft_compiler::manifest::LaneDesc),
    Demand(&'a weft_compiler::manifest::DemandDesc),
    Command,
}

/// One agent, as `weft get agents` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentInfo {
    pub uri: String,
    /// Its agent type.
    pub agent: String,
    /// Whether it is active in memory now (otherwise only its lanes are stored).
    pub active: bool,
}

/// What a run on the node carries in its store: the agent it is a turn of (none for
/// `main`), its working lanes, the bytes staged for the module, its result, and the
/// writes and sends to commit when it ends.
pub struct Turn {
    pub(crate) node: Node,
    pub(crate) uri: Arc<str>,
    /// The version whose code runs.
    pub(crate) version: Arc<Version>,
    agent: Option<usize>,
    lanes: Lanes,
    pub(crate) staged: Vec<u8>,
    pub(crate) result: Option<Vec<u8>>,
    writes: Vec<Write>,
    sends: Vec<Msg>,
    /// Writes to resources (and acknowledgements of messages taken), committed with it.
    held: Vec<crate::resources::ResourceWrite>,
    /// Whether resource writes wait for the end of the turn (an agent's turn, a Cell's
    /// event) rather than going through at once (`main`, a test).
    hold: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Node {
    /// A node for `artifact`'s agents; its prints go to `output`, its reports to `errors`.
    /// The store is opened when the first agent is activated. The program's history is
    /// not recorded until [`Node::deploy`].
    pub fn new(
        rt: Arc<Runtime>,
        artifact: Arc<Artifact>,
        output: Output,
        errors: Output,
        settings: NodeSettings,
    ) -> Node {
        let current = Arc::new(Version {
            number: 0,
            artifact,
            undoes: None,
        });
        Node {
            inner: Arc::new(Inner {
                rt,
                versions: Mutex::new(swap::Versions::new(current.clone())),
                current_number: std::sync::atomic::AtomicU64::new(current.number),
                current: RwLock::new(current),
                patching: Mutex::new(()),
                program: Mutex::new(settings.program.clone()),
                output,
                errors,
                settings,
                store: OnceLock::new(),
                agents: Mutex::new(HashMap::new()),
                graph: Mutex::new(WaitGraph::default()),
                queue: Mutex::new(Queue::default()),
                queue_cv: Condvar::new(),
                timers: Mutex::new(HashMap::new()),
                links: Links::default(),
                resources: OnceLock::new(),
            }),
        }
    }

    pub fn settings(&self) -> &NodeSettings {
        &self.inner.settings
    }

    /// Gives the node the cluster its program's resources live in (once; later calls
    /// change nothing and say so).
    pub fn set_resources(&self, resources: Arc<dyn crate::resources::Resources>) -> bool {
        self.inner.resources.set(resources).is_ok()
    }

    /// The cluster the program's resources live in, if the node has one.
    pub fn resources(&self) -> Option<Arc<dyn crate::resources::Resources>> {
        self.inner.resources.get().cloned()
    }

    /// Writes `text` to the node's error output.
    pub fn report(&self, text: &str) {
        let _ = self.inner.errors.write_str(text);
    }

    /// The program's name, as `weft rollout` knows it.
    pub fn program(&self) -> String {
        lock(&self.inner.program).clone()
    }

    /// The version new turns run.
    pub fn current(&self) -> Arc<Version> {
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A run of `version`'s code that is no agent's turn (`main`, a test, a REPL input):
    /// no lanes, and its sends go out at once.
    fn outside_turn(&self, version: &Arc<Version>) -> Box<Turn> {
        Box::new(Turn::new(
            self.clone(),
            Arc::from(""),
            version.clone(),
            None,
            Lanes::default(),
        ))
    }

    /// Handles one event of a Cell, an HttpService or a Timer: runs entry `export` of
    /// the current version with `args` (the handler's captures, then the message, if
    /// any) as a turn whose resource writes are held, then commits them with `ack` (a
    /// queue message's acknowledgement) as one transaction; what the entry gave back
    /// (wire bytes; empty for `Unit`). A trap commits nothing, so a message is
    /// delivered again. The error is the trap with its stack trace, or why the commit
    /// failed.
    pub fn handle_event(
        &self,
        export: &str,
        args: Vec<u8>,
        ack: Option<crate::resources::ResourceWrite>,
    ) -> Result<Vec<u8>, String> {
        let version = self.current();
        let mut turn = self.outside_turn(&version);
        turn.hold = true;
        let len = i32::try_from(args.len()).map_err(|_| "an event too large".to_string())?;
        turn.staged = args;
        let (r, turn) = self.inner.rt.run_turn(
            &version.artifact,
            export,
            &self.inner.output,
            &self.inner.settings.turn_limits,
            turn,
            Some(len),
        );
        r.map_err(|e| e.to_string())?;
        let mut turn = turn;
        let mut held = std::mem::take(&mut turn.held);
        held.extend(ack);
        if !held.is_empty() {
            let resources = self.resources().ok_or("a Cell needs a cluster")?;
            resources.commit(held)?;
        }
        Ok(turn.result.take().unwrap_or_default())
    }

    /// Runs the `() -> ()` export `export` (`main`, a test) of the current version with
    /// this node for its agents.
    pub fn run_main(&self, export: &str, limits: &RunLimits) -> Result<(), RunError> {
        let version = self.current();
        let turn = self.outside_turn(&version);
        let (r, turn) = self.inner.rt.run_turn(
            &version.artifact,
            export,
            &self.inner.output,
            limits,
            turn,
            None,
        );
        debug_assert!(turn.sends.is_empty(), "main's sends go out at once");
        r
    }

    /// Runs entry `export` of `artifact` (a REPL input compiled with the program: its
    /// agent types name the node's by name) with this node for its agents, under
    /// `limits`: its wire-encoded result and what it printed.
    pub fn eval(
        &self,
        artifact: Arc<Artifact>,
        export: &str,
        limits: &RunLimits,
    ) -> Result<(Vec<u8>, String), (RunError, String)> {
        let version = Arc::new(Version {
            number: 0,
            artifact,
            undoes: None,
        });
        let turn = self.outside_turn(&version);
        let output = Output::buffer();
        let (r, turn) =
            self.inner
                .rt
                .run_turn(&version.artifact, export, &output, limits, turn, Some(0));
        match r {
            Ok(()) => Ok((turn.result.unwrap_or_default(), output.take())),
            Err(e) => Err((e, output.take())),
        }
    }

    /// Whether the node has work that keeps it alive: timers, or messages in flight.
    pub fn has_timers(&self) -> bool {
        !lock(&self.inner.timers).is_empty()
    }

    /// Waits until every queued message has been handled (or `max` passes).
    pub fn drain(&self, max: Duration) -> bool {
        let until = Instant::now() + max;
        let mut q = lock(&self.inner.queue);
        while !q.idle() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            q = self
                .inner
                .queue_cv
                .wait_timeout(q, left.min(Duration::from_millis(50)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Finishes the queued messages (waiting at most `max`) and ends the dispatcher, so
    /// the node, and with it the store, can be dropped.
    pub fn stop(&self, max: Duration) -> bool {
        let drained = self.drain(max);
        let until = Instant::now() + Duration::from_secs(5);
        let mut q = lock(&self.inner.queue);
        q.stopping = true;
        self.inner.queue_cv.notify_all();
        while q.workers > 0 && Instant::now() < until {
            q = self
                .inner
                .queue_cv
                .wait_timeout(q, Duration::from_millis(20))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drained
    }

    /// Checks that `uri` is served by agent type `agent` (an index into `version`'s
    /// manifest).
    pub(crate) fn check_ref(&self, version: &Version, agent: i32, uri: &str) -> Result<(), String> {
        let desc = agent_desc(version, agent)?;
        match weft_compiler::manifest::route_match(&desc.route, uri) {
            Some(_) if !uri.contains('\0') => Ok(()),
            _ => Err(format!(
                "`{uri}` is not a URI of agent `{}` (its route is `{}`)",
                desc.name, desc.route
            )),
        }
    }

    /// A call made by a running turn (or `main`) of `version`, naming the agent type and
    /// method by their indices in that version.
    pub(crate) fn call_from_turn(
        &self,
        version: &Version,
        agent: i32,
        method: i32,
        uri: &str,
        args: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        self.check_ref(version, agent, uri)?;
        let name = method_name(version, agent, method)?;
        // A dispatcher holding agents whose turns wait for a commit lets them go first:
        // it never waits for an agent while holding them.
        dispatch::commit_batch();
        Ok(self.call(uri, &name, args)?)
    }

    /// Calls method `method` of the agent at `uri` with wire-encoded arguments; returns
    /// the wire-encoded result.
    pub fn call(&self, uri: &str, method: &str, args: Vec<u8>) -> Result<Vec<u8>, CallError> {
        self.call_with(uri, method, args, |_| ())
            .map(|(bytes, ())| bytes)
    }

    /// [`Node::call`], also giving the version whose code answered (its manifest types the
    /// result).
    pub fn call_typed(
        &self,
        uri: &str,
        method: &str,
        args: Vec<u8>,
    ) -> Result<(Vec<u8>, Arc<Version>), CallError> {
        self.call_with(uri, method, args, |held| held.version.clone())
    }

    /// A call, and `also` of the agent as the call left it.
    fn call_with<T>(
        &self,
        uri: &str,
        method: &str,
        args: Vec<u8>,
        also: impl FnOnce(&Held) -> T,
    ) -> Result<(Vec<u8>, T), CallError> {
        let slot = self.slot(uri).map_err(CallError::NotFound)?;
        self.with_agent(&slot, |node, held| {
            let desc = held.desc();
            let Some(index) = desc.methods.iter().position(|m| m.name == method) else {
                return Err(Refused::NotFound(format!(
                    "agent `{}` has no method `{method}`",
                    desc.name
                )));
            };
            let echo = node.command_echo(uri, held, index, &args);
            let what = || format!("{uri} {method}");
            let r = node.turn_with(&slot, held, Entry::Method(index), &what, args)?;
            if let Some(f) = echo {
                node.inner.links.deliver(uri, vec![(method.to_string(), f)]);
            }
            Ok((r, also(held)))
        })
    }

    /// The event a command lane's links get for running method `index` with `args`, when
    /// that method is a linked command lane (Swim's command lanes tell their links every
    /// command they run).
    fn command_echo(&self, uri: &str, held: &Held, index: usize, args: &[u8]) -> Option<Frame> {
        let m = &held.desc().methods[index];
        if !m.command || !self.inner.links.lane_watched(uri, &m.name) {
            return None;
        }
        let body = args_recon(m, args, &held.version.manifest().types).ok()?;
        let env = crate::warp::Envelope::event(uri, m.name.as_str(), body);
        Some(Frame::text(&env.to_text()))
    }

    /// Links `sink` to lane `lane` of the agent at `uri` (activating the agent): queues
    /// `linked` (the `@linked` reply) and, with `sync`, the lane's state and `synced`,
    /// then every change. Command lanes stream the commands they run; demand lanes their
    /// value, computed again after every turn that changes the agent.
    pub fn link(
        &self,
        uri: &str,
        lane: &str,
        sync: bool,
        sink: &Sink,
        linked: Frame,
        synced: Frame,
    ) -> Result<(), LinkError> {
        if self.current().manifest().route(uri).is_none() {
            return Err(LinkError::NodeNotFound);
        }
        let slot = self.slot(uri).map_err(LinkError::Failed)?;
        let r = self.with_agent(&slot, |node, held| {
            let desc = held.desc().clone();
            let kind = if let Some((i, l)) = desc.lane(lane) {
                Linkable::Lane(i, l)
            } else if let Some(d) = desc.demands.iter().find(|d| d.name == lane) {
                Linkable::Demand(d)
            } else if desc.methods.iter().any(|m| m.command && m.name == lane) {
                Linkable::Command
            } else {
                return Err(Refused::NotFound(String::new()));
            };
            let mut frames = vec![linked];
            let links = &node.inner.links;
            match kind {
                Linkable::Lane(i, l) => {
                    let types = &held.version.manifest().types;
                    let lanes = &held.lanes;
                    links.link_lane(uri, l, i, lanes, types, sink, sync, &mut frames)?
                }
                Linkable::Demand(d) => {
                    if sync {
                        frames.push(node.demand_frame(&slot, held, d)?);
                    }
                    links.link_stateless(uri, lane, sink);
                }
                Linkable::Command => links.link_stateless(uri, lane, sink),
            }
            if sync {
                frames.push(synced);
            }
            // Behind the events already on their way to the sink, ahead of any later
            // turn's: the agent is held until they are queued.
            links.send_after_events(sink, frames);
            Ok(())
        });
        match r {
            Ok(()) => Ok(()),
            Err(CallError::NotFound(m)) if m.is_empty() => Err(LinkError::LaneNotFound),
            Err(CallError::NotFound(_)) => Err(LinkError::NodeNotFound),
            Err(e) => Err(LinkError::Failed(e.into())),
        }
    }

    /// Ends `sink`'s link to the lane; false when it had none.
    pub fn unlink(&self, uri: &str, lane: &str, sink: u64) -> bool {
        self.inner.links.unlink(uri, lane, sink)
    }

    /// Sends `frames` to `sink` behind every event already on its way to it (a reply
    /// that must follow the events of the link it answers for).
    pub fn send_after_events(&self, sink: &Sink, frames: Vec<Frame>) {
        self.inner.links.send_after_events(sink, frames)
    }

    /// Ends every link of `sink` (its connection closed).
    pub fn unlink_all(&self, sink: u64) {
        self.inner.links.unlink_all(sink)
    }

    /// How many links are open.
    pub fn link_count(&self) -> usize {
        self.inner.links.count()
    }

    /// Runs a command that arrived over a link: `body` (Recon) is read as the command's
    /// arguments (one parameter: its value; several: a record of them, by position or by
    /// name).
    pub fn command(&self, uri: &str, lane: &str, body: &crate::warp::Value) -> Result<(), String> {
        let version = self.current();
        let (desc, _) = version
            .manifest()
            .route(uri)
            .ok_or_else(|| format!("no agent type serves `{uri}`"))?;
        let m = desc
            .methods
            .iter()
            .find(|m| m.command && m.name == lane)
            .ok_or_else(|| {
                format!(
                    "agent `{}` has no command lane `{lane}`; links change an agent only \
                     through its commands",
                    desc.name
                )
            })?;
        let args = args_from_recon(m, body, &version.manifest().types)
            .map_err(|e| format!("command `{lane}` of {uri}: {e}"))?;
        self.call(uri, lane, args)?;
        Ok(())
    }

    /// Every agent the store knows (and those active without lanes): URI, type, active.
    pub fn agents(&self) -> Result<Vec<AgentInfo>, String> {
        let stored = self.store()?.agents().map_err(|e| e.to_string())?;
        let active: HashMap<String, Arc<str>> = lock(&self.inner.agents)
            .iter()
            .map(|(uri, slot)| (uri.clone(), slot.agent.clone()))
            .collect();
        let mut out: Vec<AgentInfo> = stored
            .into_iter()
            .map(|(uri, agent)| AgentInfo {
                active: active.contains_key(&uri),
                uri,
                agent,
            })
            .collect();
        for (uri, agent) in &active {
            if !out.iter().any(|a| &a.uri == uri) {
                out.push(AgentInfo {
                    uri: uri.clone(),
                    agent: agent.to_string(),
                    active: true,
                });
            }
        }
        out.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(out)
    }

    /// The agent's slot, created on first use.
    fn slot(&self, uri: &str) -> Result<Arc<Slot>, String> {
        if let Some(slot) = lock(&self.inner.agents).get(uri) {
            return Ok(slot.clone());
        }
        let version = self.current();
        let (desc, _) = version
            .manifest()
            .route(uri)
            .ok_or_else(|| format!("no agent type serves `{uri}`"))?;
        let mut agents = lock(&self.inner.agents);
        Ok(agents
            .entry(uri.to_string())
            .or_insert_with(|| {
                Arc::new(Slot {
                    uri: Arc::from(uri),
                    agent: Arc::from(desc.name.as_str()),
                    state: Mutex::new(SlotState::default()),
                    cv: Condvar::new(),
                    holder: std::sync::atomic::AtomicU64::new(0),
                })
            })
            .clone())
    }

    /// Runs `body` holding the agent (activating it, or moving it to the current version,
    /// first), then lets it go.
    fn with_agent<T>(
        &self,
        slot: &Arc<Slot>,
        body: impl FnOnce(&Node, &mut Held) -> Result<T, Refused>,
    ) -> Result<T, CallError> {
        let got = self.acquire(slot)?;
        let mut h = self.held_now(slot, got)?;
        let r = body(self, &mut h);
        self.release(slot, Some(h));
        r.map_err(CallError::from)
    }

    /// The agent just acquired, running the current version (moved to it or activated
    /// first when needed); on failure it is released.
    fn held_now(
        &self,
        slot: &Arc<Slot>,
        (held, failed): (Option<Held>, Option<u64>),
    ) -> Result<Held, CallError> {
        // The current version's number is read without a lock; the version itself only
        // when the agent has to move or start.
        let number = self
            .inner
            .current_number
            .load(std::sync::atomic::Ordering::Acquire);
        let held = match held {
            Some(h) if h.version.number == number || failed == Some(number) => Ok(h),
            Some(h) => self.swap(slot, h, &self.current()),
            None => self.activate(slot, &self.current()),
        };
        held.map_err(|e| {
            self.release(slot, None);
            if matches!(e, Refused::NotFound(_)) {
                // Its type is gone from the program: the next use finds no slot.
                lock(&self.inner.agents).remove(&*slot.uri);
            }
            e.into()
        })
    }

    /// Waits for the agent to be free and takes it (with its lanes, if activated, and the
    /// version it could not move to, if any).
    fn acquire(&self, slot: &Slot) -> Result<(Option<Held>, Option<u64>), CallError> {
        let me = thread_key();
        let mut st = lock(&slot.state);
        if st.busy.is_some() {
            if st.waiting >= self.inner.settings.mailbox_max {
                return Err(CallError::Busy(format!(
                    "mailbox full: {} calls already wait for `{}` (mailbox_max)",
                    st.waiting, slot.uri
                )));
            }
            self.check_cycle(&slot.uri, me).map_err(CallError::Failed)?;
            st.waiting += 1;
            let until = Instant::now() + self.inner.settings.call_wait_max;
            while st.busy.is_some() {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    st.waiting -= 1;
                    lock(&self.inner.graph).waits_for.remove(&me);
                    return Err(CallError::Busy(format!(
                        "`{}` stayed busy longer than {:?} (call_wait_max)",
                        slot.uri, self.inner.settings.call_wait_max
                    )));
                }
                st = slot
                    .cv
                    .wait_timeout(st, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            st.waiting -= 1;
            lock(&self.inner.graph).waits_for.remove(&me);
        }
        st.busy = Some(me);
        slot.holder.store(me, std::sync::atomic::Ordering::SeqCst);
        Ok((st.held.take(), st.failed))
    }

    /// Takes the agent if nobody holds it now; never waits.
    fn try_acquire(&self, slot: &Slot) -> Option<(Option<Held>, Option<u64>)> {
        let me = thread_key();
        let mut st = lock(&slot.state);
        if st.busy.is_some() {
            return None;
        }
        st.busy = Some(me);
        slot.holder.store(me, std::sync::atomic::Ordering::SeqCst);
        Some((st.held.take(), st.failed))
    }

    /// Fails when waiting for `uri` from thread `me` would wait for `me` itself.
    fn check_cycle(&self, uri: &Arc<str>, me: u64) -> Result<(), String> {
        let mut g = lock(&self.inner.graph);
        let mut at = uri.clone();
        let mut chain = vec![uri.clone()];
        for _ in 0..10_000 {
            let holder = lock(&self.inner.agents)
                .get(&*at)
                .map(|s| s.holder.load(std::sync::atomic::Ordering::SeqCst));
            let t = match holder {
                Some(t) if t != 0 => t,
                _ => break,
            };
            if t == me {
                return Err(format!(
                    "call cycle: waiting for {} would wait for this call itself",
                    chain.join(" -> ")
                ));
            }
            let Some(next) = g.waits_for.get(&t) else {
                break;
            };
            at = next.clone();
            chain.push(at.clone());
        }
        g.waits_for.insert(me, uri.clone());
        Ok(())
    }

    fn release(&self, slot: &Slot, held: Option<Held>) {
        let mut st = lock(&slot.state);
        st.busy = None;
        st.held = held;
        slot.holder.store(0, std::sync::atomic::Ordering::SeqCst);
        if st.waiting > 0 {
            slot.cv.notify_one();
        }
    }

    /// Records that the agent could not move to `version` (it keeps the code it has).
    fn mark_failed(&self, slot: &Slot, version: u64, why: String) {
        let mut st = lock(&slot.state);
        st.failed = Some(version);
        st.failed_why = Some(why);
    }

    fn store(&self) -> Result<&Store, String> {
        self.inner
            .store
            .get_or_init(|| Store::open(&self.inner.settings.data_dir).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Runs `export` of `held`'s version as a turn of the agent on a copy of its lanes and
    /// returns the finished turn, uncommitted; a trap is reported and returned as an error.
    fn exec(
        &self,
        slot: &Slot,
        held: &Held,
        export: &str,
        what: &dyn Fn() -> String,
        args: Vec<u8>,
    ) -> Result<Turn, String> {
        self.exec_in(&slot.uri, held, export, what, args)
    }

    /// [`Node::exec`] for the agent at `uri`.
    fn exec_in(
        &self,
        uri: &Arc<str>,
        held: &Held,
        export: &str,
        what: &dyn Fn() -> String,
        args: Vec<u8>,
    ) -> Result<Turn, String> {
        let mut turn = Box::new(Turn::new(
            self.clone(),
            uri.clone(),
            held.version.clone(),
            Some(held.agent),
            held.lanes.clone(),
        ));
        let len = i32::try_from(args.len()).map_err(|_| "arguments too large".to_string())?;
        turn.staged = args;
        let (r, turn) = self.inner.rt.run_turn(
            &held.version.artifact,
            export,
            &self.inner.output,
            &self.inner.settings.turn_limits,
            turn,
            Some(len),
        );
        if let Err(e) = r {
            let msg = e.to_string();
            let msg = msg
                .trim_end()
                .strip_prefix("error: ")
                .unwrap_or(msg.trim_end());
            let _ = self
                .inner
                .errors
                .write_str(&format!("error: in {}: {msg}\n", what()));
            let first = msg.lines().next().unwrap_or("");
            return Err(format!("{} failed: {first}", what()));
        }
        Ok(*turn)
    }

    /// A computation on the agent's lanes (an initial value, a demand lane): its result;
    /// its writes and sends are not kept.
    fn compute(
        &self,
        slot: &Slot,
        held: &Held,
        export: &str,
        what: &dyn Fn() -> String,
        args: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        Ok(self
            .exec(slot, held, export, what, args)?
            .result
            .unwrap_or_default())
    }

    /// One committed turn: runs `export` on a copy of the lanes, commits on success.
    fn turn(
        &self,
        slot: &Slot,
        held: &mut Held,
        export: &str,
        what: &dyn Fn() -> String,
        args: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        self.turn_with(slot, held, Entry::Export(export), what, args)
    }

    /// [`Node::turn`] of an entry named directly or found in the agent's version
    /// (borrowed from it, so a call copies nothing of its method's description).
    fn turn_with(
        &self,
        slot: &Slot,
        held: &mut Held,
        entry: Entry<'_>,
        what: &dyn Fn() -> String,
        args: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        let mut turn = {
            let export = match entry {
                Entry::Export(e) => e,
                Entry::Method(i) => held.desc().methods[i].export.as_str(),
            };
            self.exec(slot, held, export, what, args)?
        };
        let result = turn.result.take().unwrap_or_default();
        self.commit_with(slot, held, turn, vec![], &[], what)?;
        Ok(result)
    }

    /// A turn that ran nothing, on the agent's lanes as they are.
    fn idle_turn(&self, slot: &Slot, held: &Held) -> Turn {
        Turn::new(
            self.clone(),
            slot.uri.clone(),
            held.version.clone(),
            Some(held.agent),
            held.lanes.clone(),
        )
    }

    /// Commits a finished turn (with `before`, writes that go in the same batch ahead of
    /// its own, which rewrote the lanes named in `rewritten` whole): makes it durable,
    /// tells the links, then takes its lanes and queues its sends.
    fn commit_with(
        &self,
        slot: &Slot,
        held: &mut Held,
        mut turn: Turn,
        mut before: Vec<Write>,
        rewritten: &[String],
        what: &dyn Fn() -> String,
    ) -> Result<(), String> {
        self.commit_resources(&mut turn, what)?;
        let frames = self.frames(slot, held, &turn, &before, rewritten);
        let wrote = !turn.writes.is_empty() || !before.is_empty();
        if wrote {
            before.append(&mut turn.writes);
            self.store()?
                .commit(before)
                .map_err(|e| format!("{}: cannot commit: {e}", what()))?;
        }
        self.finish(slot, held, turn, frames, wrote);
        Ok(())
    }

    /// Commits what a finished turn wrote to resources, before its lanes: if they refuse,
    /// the turn fails and its lanes stay.
    fn commit_resources(&self, turn: &mut Turn, what: &dyn Fn() -> String) -> Result<(), String> {
        if turn.held.is_empty() {
            return Ok(());
        }
        let writes = std::mem::take(&mut turn.held);
        let resources = self
            .resources()
            .ok_or_else(|| format!("{}: resources need a cluster", what()))?;
        resources
            .commit(writes)
            .map_err(|e| format!("{}: cannot commit to resources: {e}", what()))
    }

    /// The frames the links of the agent get for a finished turn (see `commit_with`).
    fn frames(
        &self,
        slot: &Slot,
        held: &Held,
        turn: &Turn,
        before: &[Write],
        rewritten: &[String],
    ) -> Vec<(String, Frame)> {
        let wrote = !turn.writes.is_empty() || !before.is_empty();
        let links = &self.inner.links;
        if !wrote || !links.watched(&slot.uri) {
            return vec![];
        }
        let types = &held.version.manifest().types;
        let (lanes, desc) = ((&held.lanes, &turn.lanes), held.desc());
        if before.is_empty() {
            links.turn_frames(&slot.uri, desc, types, lanes, &turn.writes, rewritten)
        } else {
            let all: Vec<Write> = before.iter().chain(&turn.writes).cloned().collect();
            links.turn_frames(&slot.uri, desc, types, lanes, &all, rewritten)
        }
    }

    /// After a turn's writes are durable: the agent takes its lanes, the links their
    /// frames, and its sends go out.
    fn finish(
        &self,
        slot: &Slot,
        held: &mut Held,
        turn: Turn,
        frames: Vec<(String, Frame)>,
        wrote: bool,
    ) {
        held.lanes = turn.lanes;
        self.inner.links.deliver(&slot.uri, frames);
        if wrote {
            self.recompute_demands(slot, held);
        }
        for m in turn.sends {
            self.enqueue(m);
        }
    }

    /// Sends the linked demand lanes of the agent their values, computed afresh.
    fn recompute_demands(&self, slot: &Slot, held: &Held) {
        let frames = self.demand_frames(slot, held);
        self.inner.links.deliver(&slot.uri, frames);
    }

    /// The events of the agent's linked demand lanes, their values computed afresh.
    fn demand_frames(&self, slot: &Slot, held: &Held) -> Vec<(String, Frame)> {
        let demands = held.desc().demands.iter();
        demands
            .filter(|d| self.inner.links.lane_watched(&slot.uri, &d.name))
            .filter_map(|d| Some((d.name.clone(), self.demand_frame(slot, held, d).ok()?)))
            .collect()
    }

    /// The event carrying demand lane `d`'s value now.
    fn demand_frame(
        &self,
        slot: &Slot,
        held: &Held,
        d: &weft_compiler::manifest::DemandDesc,
    ) -> Result<Frame, String> {
        let what = || format!("{} demand `{}`", slot.uri, d.name);
        let bytes = self.compute(slot, held, &d.export, &what, vec![])?;
        let types = &held.version.manifest().types;
        let v = crate::value::decode(&bytes, &d.ty, types)
            .map_err(|e| format!("{}: a malformed value: {e}", what()))?;
        let body = crate::value::to_recon(&v, &d.ty, types);
        Ok(Frame::text(
            &crate::warp::Envelope::event(&*slot.uri, d.name.as_str(), body).to_text(),
        ))
    }
}

/// Which export a turn runs.
enum Entry<'a> {
    Export(&'a str),
    /// The agent's method of this index, in its version.
    Method(usize),
}

/// Why a body run while holding an agent gave up: the request named something the agent
/// lacks, or the work failed.
pub(crate) enum Refused {
    NotFound(String),
    Failed(String),
}

impl From<String> for Refused {
    fn from(e: String) -> Refused {
        Refused::Failed(e)
    }
}

impl From<Refused> for CallError {
    fn from(r: Refused) -> CallError {
        match r {
            Refused::NotFound(m) => CallError::NotFound(m),
            Refused::Failed(m) => CallError::Failed(m),
        }
    }
}

fn agent_desc(version: &Version, agent: i32) -> Result<&AgentDesc, String> {
    usize::try_from(agent)
        .ok()
        .and_then(|i| version.manifest().agents.get(i))
        .ok_or_else(|| format!("no agent type {agent}"))
}

/// The name of method `method` of agent type `agent` in `version`.
fn method_name(version: &Version, agent: i32, method: i32) -> Result<Arc<str>, String> {
    let desc = agent_desc(version, agent)?;
    usize::try_from(method)
        .ok()
        .and_then(|i| desc.methods.get(i))
        .map(|m| Arc::from(m.name.as_str()))
        .ok_or_else(|| format!("agent `{}` has no method {method}", desc.name))
}

#[cfg(test)]
mod tests;
