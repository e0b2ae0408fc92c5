//! Versions of the program on a node and how agents move between them: `Node::patch`
//! records a new version and makes it current; each active agent then moves to it at a
//! turn boundary (the turn in flight finishes under the old code, calls that arrive
//! meanwhile wait), its lanes migrated, its new `on start` run and its timers registered
//! again, all committed in one batch. If the migration or `on start` traps, the agent
//! keeps its old code and old state, and the failure is reported. Agents that are not
//! active move when next activated, through every version since the one that stored
//! them (`0x04` in the store), one step at a time.
//!
//! A step from version `n - 1` to `n` follows `weft_hotswap::check` between the two
//! manifests; a step into an undo (`weft rollout undo`) runs the step it undoes
//! backwards, with the `undo` half of each migration.

use super::{lock, Held, Lanes, Node, Refused, Slot, Version};
use crate::store::{VersionRecord, Write};
use crate::value::{self, Conversion};
use std::collections::HashMap;
use std::sync::Arc;
use weft_compiler::manifest::{AgentDesc, TypeDesc};
use weft_compiler::Artifact;
use weft_hotswap::{LaneAction, Report};

/// The versions loaded so far, by number, and the steps between them.
pub(crate) struct Versions {
    by_number: HashMap<u64, Arc<Version>>,
    /// The step into version `n`, by `n`.
    steps: HashMap<u64, Arc<Step>>,
}

impl Versions {
    pub fn new(first: Arc<Version>) -> Versions {
        Versions {
            by_number: HashMap::from([(first.number, first)]),
            steps: HashMap::new(),
        }
    }
}

/// How every agent type's lanes move from `from` to `to` (the next version).
struct Step {
    from: Arc<Version>,
    to: Arc<Version>,
    /// `check(from, to)`, or for an undo, `check(to, from)` run backwards.
    report: Report,
    undo: bool,
}

/// What happens to one lane of the version moved to.
enum Move {
    /// The lane of that index before, as it is.
    Keep(usize),
    /// Starts at its initial value.
    Unset,
    /// As stored (a lane an undone patch had removed).
    Restore,
    /// Lane `old` converted by shape, from its type in the old version's table to the
    /// new one's.
    Convert {
        old: usize,
        from: TypeDesc,
        to: TypeDesc,
    },
    /// Lane `old` through an export of `runner`.
    Migrate {
        old: usize,
        export: String,
        runner: Arc<Version>,
    },
}

/// A patch the node took: the version it made, the classified changes, and which active
/// agents moved and which could not.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Patched {
    pub version: VersionRecord,
    pub report: Report,
    /// Active agents that moved to the new version.
    pub swapped: usize,
    /// Active agents that could not (they keep the old code): URI and why.
    pub failed: Vec<(String, String)>,
    /// Why `main`, run again after the swap, failed, if it did.
    pub main_error: Option<String>,
    /// How long each active agent was held to move it (the pause its callers saw), in
    /// microseconds: median, 99th percentile and longest.
    pub pause_us: [u64; 3],
    /// How long moving every active agent took, in milliseconds.
    pub swap_ms: u64,
}

/// Why a patch was not taken.
#[derive(Clone, Debug)]
pub enum PatchError {
    /// It changes what the running version depends on; `--force` takes it anyway.
    Breaking(Report),
    /// It cannot be taken at all: not a Weft module, nothing to undo, an undo whose
    /// migrations have no way back, stored data the new types cannot hold.
    Refused(String),
    /// The node failed (its store).
    Failed(String),
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatchError::Breaking(r) => write!(
                f,
                "the patch breaks the running version (use --force to apply it anyway):\n{}",
                r.render()
            ),
            PatchError::Refused(m) | PatchError::Failed(m) => f.write_str(m),
        }
    }
}

/// How many agents a swap moves and commits together (a larger batch shares a flush
/// among more agents and holds each longer).
const SWAP_BATCH: usize = 64;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn agent_index(version: &Version, name: &str) -> Option<usize> {
    version
        .manifest()
        .agents
        .iter()
        .position(|a| a.name == name)
}

impl Node {
    /// Records the node's program in its data directory's history: the first version
    /// when there is none, nothing when the latest is the same module, and otherwise a
    /// patch from the latest (refused when breaking, unless `force`). Call once, before
    /// the node serves.
    pub fn deploy(&self, force: bool) -> Result<Option<Patched>, PatchError> {
        let wanted = self.current().artifact.clone();
        let store = self.store().map_err(PatchError::Failed)?;
        let records = store
            .versions()
            .map_err(|e| PatchError::Failed(e.to_string()))?;
        let Some(latest) = records.last() else {
            let _g = lock(&self.inner.patching);
            let record = self.record(1, &wanted, None, false)?;
            self.make_current(Arc::new(Version {
                number: record.number,
                artifact: wanted,
                undoes: None,
            }));
            return Ok(None);
        };
        *lock(&self.inner.program) = latest.program.clone();
        let running = self.version(latest.number).map_err(PatchError::Failed)?;
        self.make_current(running.clone());
        if running.artifact.id == wanted.id {
            return Ok(None);
        }
        // `weft run` runs `main` itself once the node is up.
        self.patch_with(wanted, force, false).map(Some)
    }

    /// The recorded versions of the program, oldest first.
    pub fn history(&self) -> Result<Vec<VersionRecord>, String> {
        self.store()?.versions().map_err(|e| e.to_string())
    }

    /// What [`Node::patch`] would say about `artifact`, without taking it.
    pub fn check_patch(&self, artifact: &Artifact) -> Report {
        weft_hotswap::check(self.current().manifest(), &artifact.manifest)
    }

    /// Takes a new version of the program: checks it against the current one (refusing a
    /// breaking change unless `force`), records it, moves every active agent to it at a
    /// turn boundary, and runs `main` again.
    pub fn patch(&self, artifact: Arc<Artifact>, force: bool) -> Result<Patched, PatchError> {
        self.patch_with(artifact, force, true)
    }

    fn patch_with(
        &self,
        artifact: Arc<Artifact>,
        force: bool,
        main: bool,
    ) -> Result<Patched, PatchError> {
        let _g = lock(&self.inner.patching);
        let current = self.deployed()?;
        let report = weft_hotswap::check(current.manifest(), &artifact.manifest);
        if report.breaking() && !force {
            return Err(PatchError::Breaking(report));
        }
        if artifact.id == current.artifact.id {
            return Err(PatchError::Refused(format!(
                "version {} already runs this module ({})",
                current.number, artifact.id
            )));
        }
        self.check_stored(&current, &artifact, &report)?;
        let record = self.record(current.number + 1, &artifact, None, report.breaking())?;
        self.take(record, artifact, None, report, main)
    }

    /// Goes back to the code of the version before the current one, reversing the lane
    /// migrations the current version made (refused when one of them has no `undo`).
    pub fn undo(&self) -> Result<Patched, PatchError> {
        let _g = lock(&self.inner.patching);
        let current = self.deployed()?;
        if current.number <= 1 {
            return Err(PatchError::Refused(format!(
                "nothing to undo: version {} is the program's first",
                current.number
            )));
        }
        if let Some(k) = current.undoes {
            return Err(PatchError::Refused(format!(
                "version {} already undoes version {k}; patch forward instead",
                current.number
            )));
        }
        let before = self
            .version(current.number - 1)
            .map_err(PatchError::Failed)?;
        let forward = weft_hotswap::check(before.manifest(), current.manifest());
        let mut missing = vec![];
        for a in &forward.agents {
            for l in &a.lanes {
                if let LaneAction::Migrate { undo: None, .. } = l.action {
                    missing.push(format!("`{}.{}`", a.agent, l.lane));
                }
            }
        }
        if !missing.is_empty() {
            return Err(PatchError::Refused(format!(
                "cannot undo version {}: its migration of {} declares no `undo`, so the \
                 lanes cannot go back; patch forward instead",
                current.number,
                missing.join(", ")
            )));
        }
        let artifact = before.artifact.clone();
        let report = weft_hotswap::check(current.manifest(), &artifact.manifest);
        let record = self.record(current.number + 1, &artifact, Some(current.number), false)?;
        self.take(record, artifact, Some(current.number), report, true)
    }

    /// The current version, recording it as the first when the node was never deployed.
    fn deployed(&self) -> Result<Arc<Version>, PatchError> {
        let current = self.current();
        if current.number > 0 {
            return Ok(current);
        }
        let record = self.record(1, &current.artifact, None, false)?;
        let v = Arc::new(Version {
            number: record.number,
            artifact: current.artifact.clone(),
            undoes: None,
        });
        self.make_current(v.clone());
        Ok(v)
    }

    /// Writes version `number`'s record and module to the store.
    fn record(
        &self,
        number: u64,
        artifact: &Artifact,
        undoes: Option<u64>,
        forced: bool,
    ) -> Result<VersionRecord, PatchError> {
        let record = VersionRecord {
            number,
            program: self.program(),
            module: artifact.id.to_string(),
            applied_ms: now_ms(),
            undoes,
            forced,
        };
        let store = self.store().map_err(PatchError::Failed)?;
        store
            .commit(vec![Write::Version {
                record: record.clone(),
                wasm: artifact.wasm.clone(),
            }])
            .map_err(|e| PatchError::Failed(e.to_string()))?;
        Ok(record)
    }

    fn make_current(&self, v: Arc<Version>) {
        lock(&self.inner.versions)
            .by_number
            .insert(v.number, v.clone());
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.inner
            .current_number
            .store(v.number, std::sync::atomic::Ordering::Release);
        *current = v;
    }

    /// Makes the recorded version current, moves the active agents to it and runs `main`.
    fn take(
        &self,
        record: VersionRecord,
        artifact: Arc<Artifact>,
        undoes: Option<u64>,
        report: Report,
        main: bool,
    ) -> Result<Patched, PatchError> {
        let v = Arc::new(Version {
            number: record.number,
            artifact,
            undoes,
        });
        self.make_current(v.clone());
        let started = std::time::Instant::now();
        let active: Vec<Arc<Slot>> = lock(&self.inner.agents).values().cloned().collect();
        let (mut swapped, mut failed) = (0, vec![]);
        let mut pauses = Vec::with_capacity(active.len());
        // Agents whose lanes change and that are free now move in batches, each batch
        // committed at once (sharing one flush); the rest move one at a time: those whose
        // lanes stay as they are (nothing to commit, so the pause is shortest alone), busy
        // ones, and those whose new `on start` may call other agents (which must not wait
        // for a batch).
        let rewrites = |agent: &str| {
            report.agents.iter().any(|a| {
                a.agent == agent
                    && a.lanes
                        .iter()
                        .any(|l| !matches!(l.action, LaneAction::Keep | LaneAction::Remove))
            })
        };
        let mut one_by_one = vec![];
        for chunk in active.chunks(SWAP_BATCH) {
            let began = std::time::Instant::now();
            let mut batch = vec![];
            for slot in chunk {
                let alone = !rewrites(&slot.agent)
                    || v.manifest()
                        .agent(&slot.agent)
                        .is_some_and(|a| a.on_start.is_some());
                if alone {
                    // Later, one at a time, if active (activation moves the others).
                    let st = lock(&slot.state);
                    if st.held.is_some() || st.busy.is_some() {
                        one_by_one.push(slot.clone());
                    }
                    continue;
                }
                match self.try_acquire(slot) {
                    Some((Some(h), f)) if h.version.number == v.number || f == Some(v.number) => {
                        self.release(slot, Some(h));
                        one_by_one.push(slot.clone());
                    }
                    Some((Some(h), _)) => batch.push((slot.clone(), h)),
                    // Not active: activation moves it.
                    Some((None, _)) => self.release(slot, None),
                    None => one_by_one.push(slot.clone()),
                }
            }
            for (slot, r) in self.swap_batch(batch, &v) {
                let moved = match r {
                    Ok(h) => {
                        let n = h.version.number;
                        self.release(&slot, Some(h));
                        Ok(n)
                    }
                    Err(e) => {
                        self.release(&slot, None);
                        if matches!(e, Refused::NotFound(_)) {
                            lock(&self.inner.agents).remove(&*slot.uri);
                        }
                        Err(super::CallError::from(e))
                    }
                };
                pauses.push(began.elapsed().as_micros() as u64);
                self.tally(&slot, moved, v.number, &mut swapped, &mut failed);
            }
        }
        for slot in one_by_one {
            // Holding the agent moves it (see `with_agent`); its failure stays recorded.
            let began = std::time::Instant::now();
            let r = self.with_agent(&slot, |_, held| Ok(held.version.number));
            pauses.push(began.elapsed().as_micros() as u64);
            self.tally(&slot, r, v.number, &mut swapped, &mut failed);
        }
        let swap_ms = started.elapsed().as_millis() as u64;
        pauses.sort_unstable();
        let at = |q: usize| {
            pauses
                .get((pauses.len() * q / 100).min(pauses.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        let pause_us = [at(50), at(99), pauses.last().copied().unwrap_or(0)];
        let main_error = match v.artifact.main_export.as_ref().filter(|_| main) {
            Some(main) => self
                .run_main(main, &self.inner.settings.main_limits)
                .err()
                .map(|e| e.to_string()),
            None => None,
        };
        Ok(Patched {
            version: record,
            report,
            swapped,
            failed,
            main_error,
            pause_us,
            swap_ms,
        })
    }

    /// Counts an agent's move to version `to` as done or failed (and why).
    fn tally(
        &self,
        slot: &Slot,
        r: Result<u64, super::CallError>,
        to: u64,
        swapped: &mut usize,
        failed: &mut Vec<(String, String)>,
    ) {
        match r {
            Ok(n) if n == to => *swapped += 1,
            Ok(_) => {
                let why = lock(&slot.state).failed_why.clone().unwrap_or_default();
                failed.push((slot.uri.to_string(), why));
            }
            // Its type is gone from the new version (a warning in the report): the agent
            // is no longer served, and its stored lanes stay.
            Err(super::CallError::NotFound(_)) => {}
            Err(e) => failed.push((slot.uri.to_string(), e.to_string())),
        }
    }

    /// Refuses a patch whose types cannot hold the data stored now: a lane converted by
    /// shape whose stored value uses an enum variant the new version removed.
    fn check_stored(
        &self,
        current: &Arc<Version>,
        new: &Artifact,
        report: &Report,
    ) -> Result<(), PatchError> {
        let converts: HashMap<&str, Vec<(&str, &TypeDesc, &TypeDesc)>> = report
            .agents
            .iter()
            .map(|a| {
                let lanes = a.lanes.iter().filter_map(|l| match &l.action {
                    LaneAction::Convert { from, to } => Some((l.lane.as_str(), from, to)),
                    _ => None,
                });
                (a.agent.as_str(), lanes.collect::<Vec<_>>())
            })
            .filter(|(_, ls)| !ls.is_empty())
            .collect();
        if converts.is_empty() {
            return Ok(());
        }
        let store = self.store().map_err(PatchError::Failed)?;
        let failed = |e: crate::store::StoreError| PatchError::Failed(e.to_string());
        for (uri, agent) in store.agents().map_err(failed)? {
            let Some(lanes) = converts.get(agent.as_str()) else {
                continue;
            };
            // Stored by an older version than the current one: it moves through the
            // steps between when activated, and is checked then.
            if store.agent_version(&uri).map_err(failed)? != current.number {
                continue;
            }
            let Some(desc) = current.manifest().agent(&agent) else {
                continue;
            };
            let types = &current.manifest().types;
            let stored = Lanes::load(store, &uri, desc, types).map_err(PatchError::Failed)?;
            for (lane, from, to) in lanes {
                let Some((i, l)) = desc.lane(lane) else {
                    continue;
                };
                if !stored.is_set(i) {
                    continue;
                }
                let bytes = stored.get(i, l).map_err(PatchError::Failed)?;
                let v = value::decode(&bytes, from, types)
                    .map_err(|e| PatchError::Failed(e.to_string()))?;
                let mut c = Conversion {
                    from_types: types,
                    to_types: &new.manifest.types,
                    default: &mut |_, _| Ok(value::Value::Unit),
                };
                if let Err(e) = c.convert(v, from, to) {
                    return Err(PatchError::Refused(format!(
                        "lane `{lane}` of {uri} cannot take the new type: {e}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Version `number`, from the store when not loaded yet.
    pub(super) fn version(&self, number: u64) -> Result<Arc<Version>, String> {
        if let Some(v) = lock(&self.inner.versions).by_number.get(&number) {
            return Ok(v.clone());
        }
        let store = self.store()?;
        let record = store
            .versions()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|r| r.number == number)
            .ok_or_else(|| format!("program version {number} is not recorded"))?;
        let wasm = store
            .version_module(number)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the module of program version {number} is missing"))?;
        let artifact = Artifact::from_wasm(wasm)
            .map_err(|e| format!("program version {number}'s module: {e}"))?;
        let v = Arc::new(Version {
            number,
            artifact: Arc::new(artifact),
            undoes: record.undoes,
        });
        lock(&self.inner.versions)
            .by_number
            .insert(number, v.clone());
        Ok(v)
    }

    /// The step into version `n`.
    fn step(&self, n: u64) -> Result<Arc<Step>, String> {
        if let Some(s) = lock(&self.inner.versions).steps.get(&n) {
            return Ok(s.clone());
        }
        let (from, to) = (self.version(n - 1)?, self.version(n)?);
        let step = match to.undoes {
            // `to` has the code of the version before `from`: the step into `from`, run
            // backwards.
            Some(_) => Step {
                report: weft_hotswap::check(to.manifest(), from.manifest()),
                from,
                to,
                undo: true,
            },
            None => Step {
                report: weft_hotswap::check(from.manifest(), to.manifest()),
                from,
                to,
                undo: false,
            },
        };
        let step = Arc::new(step);
        lock(&self.inner.versions).steps.insert(n, step.clone());
        Ok(step)
    }

    /// Moves an agent's lanes from version `held.version` to `to`, one step at a time;
    /// the writes that store the result go to `writes`, and the names of lanes whose
    /// values were rewritten (rather than kept) to `rewritten`.
    fn migrate(
        &self,
        uri: &str,
        held: &Held,
        to: &Arc<Version>,
        writes: &mut Vec<Write>,
        rewritten: &mut Vec<String>,
    ) -> Result<(usize, Lanes), String> {
        let name = held.desc().name.clone();
        let mut lanes = held.lanes.clone();
        let mut agent = held.agent;
        for n in held.version.number + 1..=to.number {
            let step = self.step(n)?;
            let (from_desc, to_desc) = match (
                step.from.manifest().agent(&name),
                step.to.manifest().agent(&name),
            ) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(format!("agent type `{name}` is not in version {n}")),
            };
            let moves = moves(&step, from_desc, to_desc)?;
            lanes = self.move_lanes(
                uri, &step, from_desc, to_desc, moves, &lanes, writes, rewritten,
            )?;
            agent = agent_index(&step.to, &name).unwrap_or(agent);
        }
        Ok((agent, lanes))
    }

    #[allow(clippy::too_many_arguments)]
    fn move_lanes(
        &self,
        uri: &str,
        step: &Step,
        from_desc: &AgentDesc,
        to_desc: &AgentDesc,
        moves: Vec<Move>,
        lanes: &Lanes,
        writes: &mut Vec<Write>,
        rewritten: &mut Vec<String>,
    ) -> Result<Lanes, String> {
        let (from_types, to_types) = (&step.from.manifest().types, &step.to.manifest().types);
        let mut out = Lanes::default();
        for (j, (mv, l)) in moves.into_iter().zip(&to_desc.lanes).enumerate() {
            let old = match &mv {
                Move::Convert { old, .. } | Move::Migrate { old, .. } => Some(*old),
                _ => None,
            };
            if let Some(old) = old {
                if !lanes.is_set(old) {
                    continue;
                }
            }
            let old_bytes = |i: usize| lanes.get(i, &from_desc.lanes[i]);
            let bytes = match mv {
                Move::Keep(i) => {
                    out.share(j, lanes, i);
                    continue;
                }
                Move::Unset => continue,
                Move::Restore => {
                    out.restore(j, self.store()?, uri, l, to_types)?;
                    continue;
                }
                Move::Convert { old, from, to } => {
                    let v = value::decode(&old_bytes(old)?, &from, from_types)
                        .map_err(|e| format!("lane `{}`: {e}", l.name))?;
                    let mut default =
                        |adt: u32, field: &str| self.field_default(&step.to, adt, field);
                    let mut c = Conversion {
                        from_types,
                        to_types,
                        default: &mut default,
                    };
                    let v = c
                        .convert(v, &from, &to)
                        .map_err(|e| format!("lane `{}`: {e}", l.name))?;
                    let mut bytes = vec![];
                    value::encode(&v, &mut bytes);
                    bytes
                }
                Move::Migrate {
                    old,
                    export,
                    runner,
                } => {
                    let what = || format!("{uri} migration of lane `{}`", l.name);
                    self.run_export(uri, &runner, &to_desc.name, &export, &what, old_bytes(old)?)?
                }
            };
            out.set(j, l, bytes, to_types, uri, writes)?;
            rewritten.push(l.name.clone());
        }
        Ok(out)
    }

    /// The default of field `field` of record `adt` (an index into `v`'s types).
    fn field_default(
        &self,
        v: &Arc<Version>,
        adt: u32,
        field: &str,
    ) -> Result<value::Value, String> {
        let types = &v.manifest().types;
        let desc = types
            .get(adt as usize)
            .ok_or_else(|| format!("no type {adt} in version {}", v.number))?;
        let export = desc
            .defaults
            .iter()
            .find(|d| d.field == field)
            .map(|d| d.export.clone())
            .ok_or_else(|| format!("field `{field}` of `{}` has no default", desc.name))?;
        let weft_compiler::manifest::AdtShape::Record(fields) = &desc.shape else {
            return Err(format!("`{}` is not a record", desc.name));
        };
        let ty = fields
            .iter()
            .find(|(n, _)| n == field)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| format!("`{}` has no field `{field}`", desc.name))?;
        let agent = v
            .manifest()
            .agents
            .first()
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let what = || format!("the default of `{}.{field}`", desc.name);
        let bytes = self.run_export("", v, &agent, &export, &what, vec![])?;
        value::decode(&bytes, &ty, types).map_err(|e| format!("{}: {e}", what()))
    }

    /// Runs `export` of version `v` (a migration, a field default: code that touches no
    /// lanes) with `args`, and gives its result.
    fn run_export(
        &self,
        uri: &str,
        v: &Arc<Version>,
        agent: &str,
        export: &str,
        what: &dyn Fn() -> String,
        args: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        let held = Held {
            version: v.clone(),
            agent: agent_index(v, agent).unwrap_or(0),
            lanes: Lanes::default(),
        };
        let turn = self.exec_in(&Arc::from(uri), &held, export, what, args)?;
        Ok(turn.result.unwrap_or_default())
    }

    /// Loads an agent that is not active: its stored lanes in the version that stored
    /// them, moved to `current` when that is another (a swap), or else given initial
    /// values for lanes never stored, with its timers registered and `on start` run.
    pub(super) fn activate(&self, slot: &Slot, current: &Arc<Version>) -> Result<Held, Refused> {
        let store = self.store()?;
        let stored_as = store
            .agent_type(&slot.uri)
            .map_err(|e| Refused::Failed(e.to_string()))?;
        let number = match stored_as {
            Some(_) if current.number > 0 => store
                .agent_version(&slot.uri)
                .map_err(|e| Refused::Failed(e.to_string()))?,
            _ => current.number,
        };
        let version = if number == current.number {
            current.clone()
        } else {
            self.version(number)?
        };
        let agent = agent_index(&version, &slot.agent).ok_or_else(|| {
            Refused::NotFound(format!(
                "agent type `{}` is not in version {} of the program",
                slot.agent, version.number
            ))
        })?;
        let desc = &version.manifest().agents[agent];
        let lanes = Lanes::load(store, &slot.uri, desc, &version.manifest().types)?;
        let held = Held {
            version,
            agent,
            lanes,
        };
        if held.version.number != current.number {
            return self.swap(slot, held, current);
        }
        self.start(slot, held).map_err(|(_, e)| Refused::Failed(e))
    }

    /// Moves an active agent to version `to`. When that fails, the agent keeps its
    /// version and lanes (and is not tried again until the next patch).
    pub(super) fn swap(&self, slot: &Slot, old: Held, to: &Arc<Version>) -> Result<Held, Refused> {
        let mut ready = match self.prepare_swap(slot, old, to)? {
            Ok(ready) => ready,
            Err(old) => return Ok(old),
        };
        let what = || format!("{} on start", slot.uri);
        let writes = std::mem::take(&mut ready.writes);
        let mut held = ready.held;
        match self.commit_with(slot, &mut held, ready.turn, writes, &ready.rewritten, &what) {
            Ok(()) => {
                self.set_timers(&slot.uri, &held);
                Ok(held)
            }
            Err(e) => Ok(self.stay(slot, ready.old, to, e)),
        }
    }

    /// Everything of moving an agent to `to` but committing it: `Ok(Err(old))` when the
    /// move failed (reported; the agent stays as it was).
    fn prepare_swap(
        &self,
        slot: &Slot,
        old: Held,
        to: &Arc<Version>,
    ) -> Result<Result<Ready, Held>, Refused> {
        let Some(agent) = agent_index(to, &slot.agent) else {
            return Err(Refused::NotFound(format!(
                "agent type `{}` is not in version {} of the program",
                slot.agent, to.number
            )));
        };
        let mut writes = vec![];
        let mut rewritten = vec![];
        let moved = self.migrate(&slot.uri, &old, to, &mut writes, &mut rewritten);
        let lanes = match moved {
            Ok((_, lanes)) => lanes,
            Err(e) => return Ok(Err(self.stay(slot, old, to, e))),
        };
        let held = Held {
            version: to.clone(),
            agent,
            lanes,
        };
        match self.prepare_start(slot, held, writes, true) {
            Ok((held, turn, writes)) => Ok(Ok(Ready {
                old,
                held,
                turn,
                writes,
                rewritten,
            })),
            Err((_, e)) => Ok(Err(self.stay(slot, old, to, e))),
        }
    }

    /// Moves agents already held by the caller to `to`, committing all their moves in one
    /// batch (each agent's move is whole in it); gives each agent back held as it is now.
    pub(super) fn swap_batch(
        &self,
        agents: Vec<(Arc<Slot>, Held)>,
        to: &Arc<Version>,
    ) -> Vec<(Arc<Slot>, Result<Held, Refused>)> {
        let mut out = vec![];
        let mut ready = vec![];
        for (slot, old) in agents {
            match self.prepare_swap(&slot, old, to) {
                Ok(Ok(r)) => ready.push((slot, r)),
                Ok(Err(old)) => out.push((slot, Ok(old))),
                Err(e) => out.push((slot, Err(e))),
            }
        }
        let mut writes = vec![];
        let mut frames = vec![];
        for (slot, r) in &ready {
            frames.push(self.frames(slot, &r.held, &r.turn, &r.writes, &r.rewritten));
            writes.extend(r.writes.iter().cloned());
            writes.extend(r.turn.writes.iter().cloned());
        }
        let committed = match self.store() {
            Ok(store) => store.commit(writes).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        for ((slot, r), frames) in ready.into_iter().zip(frames) {
            if let Err(e) = &committed {
                let why = format!("cannot commit: {e}");
                let old = self.stay(&slot, r.old, to, why);
                out.push((slot, Ok(old)));
                continue;
            }
            let mut held = r.held;
            let wrote = !r.writes.is_empty() || !r.turn.writes.is_empty();
            self.finish(&slot, &mut held, r.turn, frames, wrote);
            self.set_timers(&slot.uri, &held);
            out.push((slot, Ok(held)));
        }
        out
    }

    /// Keeps the agent on its old version after a failed move to `to`.
    fn stay(&self, slot: &Slot, old: Held, to: &Version, why: String) -> Held {
        self.report(&format!(
            "error: {} stays on version {}: it could not move to version {}: {why}\n",
            slot.uri, old.version.number, to.number
        ));
        self.mark_failed(slot, to.number, why);
        self.set_timers(&slot.uri, &old);
        old
    }

    /// Starts an agent in `held`'s version: initial values for lanes never set, `writes`
    /// (a migration's) and the record of the agent's version committed in one batch with
    /// `on start`'s turn, timers registered. A failing `on start` is reported; the agent
    /// still serves.
    fn start(&self, slot: &Slot, held: Held) -> Result<Held, (Held, String)> {
        let (mut held, turn, writes) = self.prepare_start(slot, held, vec![], false)?;
        let what = || format!("{} on start", slot.uri);
        if let Err(e) = self.commit_with(slot, &mut held, turn, writes, &[], &what) {
            return Err((held, e));
        }
        self.set_timers(&slot.uri, &held);
        Ok(held)
    }

    /// What starting an agent commits: its lanes' initial values and the record of its
    /// version (after `writes`), and `on start`'s finished turn. With `strict` (a swap), a
    /// trap in an initial value or `on start` fails it.
    fn prepare_start(
        &self,
        slot: &Slot,
        mut held: Held,
        mut writes: Vec<Write>,
        strict: bool,
    ) -> Result<(Held, super::Turn, Vec<Write>), (Held, String)> {
        let version = held.version.clone();
        let desc = &version.manifest().agents[held.agent];
        let types = &version.manifest().types;
        for (i, l) in desc.lanes.iter().enumerate() {
            if held.lanes.is_set(i) {
                continue;
            }
            let bytes = match &l.init {
                Some(export) => {
                    let what = || format!("{} initial value of `{}`", slot.uri, l.name);
                    match self.compute(slot, &held, export, &what, vec![]) {
                        Ok(b) => b,
                        Err(e) => return Err((held, e)),
                    }
                }
                None => super::lanes::empty(l),
            };
            if let Err(e) = held.lanes.init(i, l, bytes, types, &slot.uri, &mut writes) {
                return Err((held, e));
            }
        }
        if !writes.is_empty() {
            writes.push(Write::Agent {
                uri: slot.uri.to_string(),
                agent: desc.name.clone(),
            });
            if held.version.number > 0 {
                writes.push(Write::AgentVersion {
                    uri: slot.uri.to_string(),
                    version: held.version.number,
                });
            }
        }
        let what = || format!("{} on start", slot.uri);
        let turn = match &desc.on_start {
            Some(export) => match self.exec(slot, &held, export, &what, vec![]) {
                Ok(t) => Some(t),
                Err(e) if strict => return Err((held, e)),
                // A failing `on start` is reported; the agent still serves.
                Err(_) => None,
            },
            None => None,
        };
        let turn = turn.unwrap_or_else(|| self.idle_turn(slot, &held));
        Ok((held, turn, writes))
    }
}

/// A move prepared and not committed yet: the agent as it was, as it will be (lanes
/// before `on start`), `on start`'s turn, the migration's writes and the lanes it
/// rewrote whole.
struct Ready {
    old: Held,
    held: Held,
    turn: super::Turn,
    writes: Vec<Write>,
    rewritten: Vec<String>,
}

/// How each lane of `to_desc` comes from the lanes of `from_desc` in `step`.
fn moves(step: &Step, from_desc: &AgentDesc, to_desc: &AgentDesc) -> Result<Vec<Move>, String> {
    let plan = step.report.agents.iter().find(|a| a.agent == to_desc.name);
    let action = |lane: &str| {
        plan.and_then(|p| p.lanes.iter().find(|l| l.lane == lane))
            .map(|l| &l.action)
    };
    let mut out = vec![];
    for l in &to_desc.lanes {
        let old = from_desc.lane(&l.name).map(|(i, _)| i);
        let mv = match (action(&l.name), old) {
            (Some(LaneAction::Keep), Some(i)) | (None, Some(i)) => Move::Keep(i),
            (Some(LaneAction::Convert { from, to }), Some(i)) => {
                let (from, to) = if step.undo {
                    (to.clone(), from.clone())
                } else {
                    (from.clone(), to.clone())
                };
                Move::Convert { old: i, from, to }
            }
            (Some(LaneAction::Migrate { export, undo, .. }), Some(i)) => {
                let (export, runner) = if step.undo {
                    let u = undo.clone().ok_or_else(|| {
                        format!(
                            "the migration of lane `{}` in version {} has no `undo`",
                            l.name, step.from.number
                        )
                    })?;
                    (u, step.from.clone())
                } else {
                    (export.clone(), step.to.clone())
                };
                Move::Migrate {
                    old: i,
                    export,
                    runner,
                }
            }
            // Going back over a patch that removed the lane: its data was kept.
            (Some(LaneAction::Remove), None) if step.undo => Move::Restore,
            (_, None) if step.undo => Move::Restore,
            _ => Move::Unset,
        };
        out.push(mv);
    }
    Ok(out)
}
