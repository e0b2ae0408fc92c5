//! Links: which connections watch which lanes, and the WARP frames a committed turn
//! sends them.
//!
//! A connection hands the node a [`Sink`], its outbound side. Linking happens
//! while the node holds the agent, as turns do, so a link sees the lane's state as of one
//! turn boundary and then exactly the changes of every later turn, in commit order; no
//! change is missed or seen twice.
//!
//! A committed turn's events come from what it wrote, compared with the lanes before it:
//! - a value lane sends its new value;
//! - a map lane sends `@update(key:K) V` for each key written that is present afterwards
//!   and `@remove(key:K)` for each that is gone (a whole-map assignment sends `@clear`
//!   and then every entry);
//! - a list lane sends the difference between the old and the new list (the shortest
//!   edit script; a deletion and an insertion at one place are one update in place) as
//!   Swim's list events `@update(index:I,key:K) V` and `@remove(index:I,key:K)`. `K`
//!   identifies an element for as long as it stays in the list; the node mints keys while
//!   the lane is
//!   watched and forgets them when its last link goes.
//!
//! Frames are printed once and shared by every sink; a committed turn hands them, with
//! the sinks linked at that moment, to the fan-out thread (`sink.rs`), which writes them
//! in commit order. A sink whose queue is full is cut off (its connection is told and
//! closes) rather than slowing the agent down.

use super::diff;
use super::lanes::Lanes;
use super::sink::{self, FanOut, Frame, Job, Sink};
use crate::store::Write;
use crate::value::{self, Value};
use crate::warp::{self, Envelope, Item, MapEvent};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use weft_compiler::manifest::{AdtDesc, AgentDesc, LaneDesc, LaneKind, TypeDesc};

/// The most insertions and deletions a list lane's change is described by; a bigger
/// change is sent as updates in place (`list_diff_edits_max`).
const LIST_DIFF_EDITS_MAX: usize = 256;

#[derive(Default)]
struct LaneLinks {
    /// Copied on change, so a turn's frames take the sinks of the moment with them.
    sinks: Arc<Vec<Sink>>,
    /// A list lane's element keys, in list order.
    keys: Vec<i64>,
    next_key: i64,
}

impl LaneLinks {
    fn mint(&mut self) -> i64 {
        self.next_key += 1;
        self.next_key
    }
}

/// Every link on the node: agent URI -> lane name -> its sinks.
#[derive(Default)]
pub(crate) struct Links {
    agents: Mutex<HashMap<String, HashMap<String, LaneLinks>>>,
    count: AtomicUsize,
    /// Started with the first frames there are sinks for.
    fan_out: OnceLock<Option<FanOut>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn frame(env: Envelope) -> Frame {
    Frame::text(&env.to_text())
}

/// The Recon of the value of type `ty` in `bytes`.
fn recon(bytes: &[u8], ty: &TypeDesc, types: &[AdtDesc]) -> Result<warp::Value, String> {
    let v = value::decode(bytes, ty, types).map_err(|e| format!("a malformed value: {e}"))?;
    Ok(value::to_recon(&v, ty, types))
}

fn list_event(tag: &str, index: usize, key: i64, body: warp::Value) -> warp::Value {
    let header = warp::Value::Record(vec![
        Item::slot("index", warp::Value::Int(index as i64)),
        Item::slot("key", warp::Value::Int(key)),
    ]);
    warp::Value::of_attr(tag, header).concat(body)
}

impl Links {
    /// How many links are open on the node.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether anything links to a lane of the agent at `uri`.
    pub fn watched(&self, uri: &str) -> bool {
        self.count() > 0 && lock(&self.agents).contains_key(uri)
    }

    /// Whether anything links to lane `lane` of the agent at `uri`.
    pub fn lane_watched(&self, uri: &str, lane: &str) -> bool {
        self.count() > 0
            && lock(&self.agents)
                .get(uri)
                .is_some_and(|l| l.contains_key(lane))
    }

    /// Adds `sink` to the lane's links (once, however often it links) and, with `sync`,
    /// adds the lane's current state to `frames`, for the caller to send before anything
    /// else reaches the link. `lanes` are the agent's committed lanes; the caller holds
    /// the agent.
    #[allow(clippy::too_many_arguments)]
    pub fn link_lane(
        &self,
        uri: &str,
        l: &LaneDesc,
        i: usize,
        lanes: &Lanes,
        types: &[AdtDesc],
        sink: &Sink,
        sync: bool,
        frames: &mut Vec<Frame>,
    ) -> Result<(), String> {
        self.add(uri, &l.name, sink, |links| {
            let bytes = lanes.get(i, l)?;
            if l.kind == LaneKind::List && links.sinks.is_empty() {
                let n = list_len(&bytes);
                links.keys = (0..n).map(|_| links.mint()).collect();
            }
            if sync {
                for body in state_bodies(l, &bytes, &links.keys, types)? {
                    frames.push(frame(Envelope::event(uri, &l.name, body)));
                }
            }
            Ok(())
        })
    }

    /// Adds `sink` to the links of a lane without state (a command or demand lane).
    pub fn link_stateless(&self, uri: &str, lane: &str, sink: &Sink) {
        let _ = self.add(uri, lane, sink, |_| Ok(()));
    }

    /// Adds `sink` to the lane's links (once) after `prepare` succeeds on them; leaves no
    /// empty entry behind when it fails.
    fn add(
        &self,
        uri: &str,
        lane: &str,
        sink: &Sink,
        prepare: impl FnOnce(&mut LaneLinks) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut agents = lock(&self.agents);
        let watched = agents.entry(uri.to_string()).or_default();
        let links = watched.entry(lane.to_string()).or_default();
        let r = prepare(links);
        if r.is_ok() && !links.sinks.iter().any(|s| s.id() == sink.id()) {
            Arc::make_mut(&mut links.sinks).push(sink.clone());
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        if links.sinks.is_empty() {
            watched.remove(lane);
            if watched.is_empty() {
                agents.remove(uri);
            }
        }
        r
    }

    /// Removes `sink`'s link to the lane; true when there was one.
    pub fn unlink(&self, uri: &str, lane: &str, sink: u64) -> bool {
        let mut agents = lock(&self.agents);
        let removed = remove_sink(&mut agents, uri, Some(lane), sink);
        self.count.fetch_sub(removed, Ordering::Relaxed);
        removed > 0
    }

    /// Removes every link of `sink` (its connection closed).
    pub fn unlink_all(&self, sink: u64) {
        let mut agents = lock(&self.agents);
        let uris: Vec<String> = agents.keys().cloned().collect();
        let mut removed = 0;
        for uri in uris {
            removed += remove_sink(&mut agents, &uri, None, sink);
        }
        self.count.fetch_sub(removed, Ordering::Relaxed);
    }

    /// The frames a committed turn of the agent at `uri` sends, by lane: `old` are its
    /// lanes before the turn, `new` after, `writes` what it wrote. Call only when
    /// [`Links::watched`]; list keys move on with the lists.
    pub fn turn_frames(
        &self,
        uri: &str,
        desc: &AgentDesc,
        types: &[AdtDesc],
        (old, new): (&Lanes, &Lanes),
        writes: &[Write],
        rewritten: &[String],
    ) -> Vec<(String, Frame)> {
        let mut agents = lock(&self.agents);
        let Some(watched) = agents.get_mut(uri) else {
            return vec![];
        };
        let mut frames = vec![];
        for (i, l) in desc.lanes.iter().enumerate() {
            let Some(links) = watched.get_mut(&l.name) else {
                continue;
            };
            let mut mine = writes
                .iter()
                .filter(|w| write_lane(w) == Some(&l.name))
                .peekable();
            if mine.peek().is_none() {
                continue;
            }
            let bodies = match l.kind {
                LaneKind::Value => new
                    .get(i, l)
                    .and_then(|b| recon(&b, &l.ty, types))
                    .map(|v| vec![v]),
                LaneKind::Map => map_bodies(l, i, old, new, mine, types),
                LaneKind::List => {
                    let fresh = rewritten.contains(&l.name);
                    list_bodies(l, i, old, new, links, types, fresh)
                }
            };
            match bodies {
                Ok(bodies) => frames.extend(
                    bodies
                        .into_iter()
                        .map(|b| (l.name.clone(), frame(Envelope::event(uri, &l.name, b)))),
                ),
                // The lanes were checked when written; a value that does not read back
                // is a bug in this node, reported to the linked clients as a lost link.
                Err(e) => frames.push((
                    l.name.clone(),
                    frame(Envelope::unlinked(
                        uri,
                        &l.name,
                        warp::Value::of_attr("error", warp::Value::text(e)),
                    )),
                )),
            }
        }
        frames
    }

    /// Sends each frame to the sinks linked to its lane now, after every frame of
    /// earlier turns, from the fan-out thread. A sink that is gone or cut off stays
    /// linked until its connection unlinks it.
    pub fn deliver(&self, uri: &str, frames: Vec<(String, Frame)>) {
        if frames.is_empty() {
            return;
        }
        let job: Job = {
            let agents = lock(&self.agents);
            let Some(watched) = agents.get(uri) else {
                return;
            };
            frames
                .into_iter()
                .filter_map(|(lane, f)| watched.get(&lane).map(|l| (f, l.sinks.clone())))
                .collect()
        };
        self.send(job);
    }

    /// Sends `frames` to `sink` after every frame already on its way.
    pub fn send_after_events(&self, sink: &Sink, frames: Vec<Frame>) {
        let to = Arc::new(vec![sink.clone()]);
        self.send(frames.into_iter().map(|f| (f, to.clone())).collect());
    }

    fn send(&self, job: Job) {
        if job.is_empty() {
            return;
        }
        match self.fan_out.get_or_init(FanOut::start) {
            Some(f) => f.send(job),
            None => sink::write_job(&job),
        }
    }
}

/// Removes `sink` from one lane (or every lane) of `uri`; returns how many links went.
fn remove_sink(
    agents: &mut HashMap<String, HashMap<String, LaneLinks>>,
    uri: &str,
    lane: Option<&str>,
    sink: u64,
) -> usize {
    let Some(watched) = agents.get_mut(uri) else {
        return 0;
    };
    let mut removed = 0;
    watched.retain(|name, links| {
        if lane.is_none_or(|l| l == name) {
            let before = links.sinks.len();
            if links.sinks.iter().any(|s| s.id() == sink) {
                Arc::make_mut(&mut links.sinks).retain(|s| s.id() != sink);
            }
            removed += before - links.sinks.len();
        }
        !links.sinks.is_empty()
    });
    if watched.is_empty() {
        agents.remove(uri);
    }
    removed
}

fn write_lane(w: &Write) -> Option<&String> {
    match w {
        Write::Lane { lane, .. }
        | Write::MapPut { lane, .. }
        | Write::MapRemove { lane, .. }
        | Write::MapClear { lane, .. } => Some(lane),
        Write::Agent { .. } | Write::AgentVersion { .. } | Write::Version { .. } => None,
    }
}

/// The element count of a list's wire bytes.
fn list_len(bytes: &[u8]) -> usize {
    bytes
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .unwrap_or(0)
}

/// The event bodies that give a new link the lane's whole state.
fn state_bodies(
    l: &LaneDesc,
    bytes: &[u8],
    keys: &[i64],
    types: &[AdtDesc],
) -> Result<Vec<warp::Value>, String> {
    let v = value::decode(bytes, &l.ty, types).map_err(|e| format!("a malformed value: {e}"))?;
    Ok(match (&l.kind, &l.ty, v) {
        (LaneKind::Map, TypeDesc::Map(kt, vt), Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| {
                MapEvent::Update {
                    key: value::to_recon(k, kt, types),
                    value: value::to_recon(v, vt, types),
                }
                .to_value()
            })
            .collect(),
        (LaneKind::List, TypeDesc::List(et), Value::List(items)) => items
            .iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (v, &k))| list_event("update", i, k, value::to_recon(v, et, types)))
            .collect(),
        (_, ty, v) => vec![value::to_recon(&v, ty, types)],
    })
}

/// A map lane's events for one turn: each key it touched, as it is afterwards.
fn map_bodies<'a>(
    l: &LaneDesc,
    i: usize,
    old: &Lanes,
    new: &Lanes,
    writes: impl Iterator<Item = &'a Write>,
    types: &[AdtDesc],
) -> Result<Vec<warp::Value>, String> {
    let TypeDesc::Map(kt, vt) = &l.ty else {
        return Err(format!("lane `{}` is not a map", l.name));
    };
    let mut cleared = false;
    let mut touched = BTreeSet::new();
    for w in writes {
        match w {
            Write::MapClear { .. } => cleared = true,
            Write::MapPut { sort_key, .. } | Write::MapRemove { sort_key, .. } => {
                touched.insert(sort_key.as_slice());
            }
            _ => {}
        }
    }
    let mut out = vec![];
    if cleared {
        out.push(MapEvent::Clear.to_value());
        for (k, v) in new.map_entries(i) {
            out.push(
                MapEvent::Update {
                    key: recon(k, kt, types)?,
                    value: recon(v, vt, types)?,
                }
                .to_value(),
            );
        }
        return Ok(out);
    }
    for sk in touched {
        match (new.map_entry(i, sk), old.map_entry(i, sk)) {
            (Some((k, v)), _) => out.push(
                MapEvent::Update {
                    key: recon(k, kt, types)?,
                    value: recon(v, vt, types)?,
                }
                .to_value(),
            ),
            (None, Some((k, _))) => out.push(
                MapEvent::Remove {
                    key: recon(k, kt, types)?,
                }
                .to_value(),
            ),
            (None, None) => {}
        }
    }
    Ok(out)
}

/// A list lane's events for one turn: the old list turned into the new one.
fn list_bodies(
    l: &LaneDesc,
    i: usize,
    old: &Lanes,
    new: &Lanes,
    links: &mut LaneLinks,
    types: &[AdtDesc],
    fresh: bool,
) -> Result<Vec<warp::Value>, String> {
    let TypeDesc::List(et) = &l.ty else {
        return Err(format!("lane `{}` is not a list", l.name));
    };
    let items = |lanes: &Lanes| -> Result<Vec<Value>, String> {
        let bytes = lanes.get(i, l)?;
        match value::decode(&bytes, &l.ty, types) {
            Ok(Value::List(items)) => Ok(items),
            Ok(_) => Err(format!("lane `{}` is not a list", l.name)),
            Err(e) => Err(format!("a malformed value: {e}")),
        }
    };
    // A list rewritten whole (migrated to a new type): what the clients hold equals
    // nothing in the new one, so every element is replaced.
    let a = if fresh {
        vec![Value::Unit; links.keys.len()]
    } else {
        items(old)?
    };
    let b = items(new)?;
    if links.keys.len() != a.len() {
        // Cannot happen while the keys follow the lane; start over rather than lie.
        links.keys = (0..a.len()).map(|_| links.mint()).collect();
    }
    let mut out = vec![];
    // The element at `at` (keeping its key) is now `v`.
    let update = |links: &LaneLinks, at: usize, v: &Value, out: &mut Vec<warp::Value>| {
        out.push(list_event(
            "update",
            at,
            links.keys[at],
            value::to_recon(v, et, types),
        ));
    };
    let Some(script) = diff::diff(&a, &b, LIST_DIFF_EDITS_MAX) else {
        // Too different to be worth a shortest script: every element is rewritten in
        // place, then the tail removed or added.
        let common = a.len().min(b.len());
        for at in 0..common {
            if a[at] != b[at] {
                update(links, at, &b[at], &mut out);
            }
        }
        for at in (common..a.len()).rev() {
            let key = links.keys.remove(at);
            out.push(list_event("remove", at, key, warp::Value::Absent));
        }
        for (at, v) in b.iter().enumerate().skip(common) {
            let key = links.mint();
            links.keys.push(key);
            out.push(list_event("update", at, key, value::to_recon(v, et, types)));
        }
        return Ok(out);
    };
    // Walk the script over the list as the client holds it; a deletion followed by an
    // insertion at the same place is one update in place.
    let mut at = 0;
    let mut steps = script.iter().peekable();
    while let Some(step) = steps.next() {
        match *step {
            diff::Edit::Keep => at += 1,
            diff::Edit::Delete => {
                if let Some(&&diff::Edit::Insert(j)) = steps.peek() {
                    steps.next();
                    update(links, at, &b[j], &mut out);
                    at += 1;
                } else {
                    let key = links.keys.remove(at);
                    out.push(list_event("remove", at, key, warp::Value::Absent));
                }
            }
            diff::Edit::Insert(j) => {
                debug_assert_eq!(j, at);
                let key = links.mint();
                links.keys.insert(at, key);
                out.push(list_event(
                    "update",
                    at,
                    key,
                    value::to_recon(&b[j], et, types),
                ));
                at += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane() -> LaneDesc {
        LaneDesc {
            name: "xs".into(),
            kind: LaneKind::List,
            ty: TypeDesc::List(Box::new(TypeDesc::Int)),
            init: None,
            at: String::new(),
        }
    }

    fn lanes_of(xs: &[i64]) -> Lanes {
        let mut bytes = (xs.len() as u32).to_le_bytes().to_vec();
        for x in xs {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        let mut lanes = Lanes::default();
        lanes
            .set(0, &lane(), bytes, &[], "/a", &mut vec![])
            .unwrap_or_else(|e| panic!("{e}"));
        lanes
    }

    /// A client's list as `@swim/client` keeps it: (key, value), updated by the events
    /// the way `ListDownlinkModel.onEventMessage` does.
    fn apply(client: &mut Vec<(i64, i64)>, events: &[warp::Value]) {
        for e in events {
            let Some(warp::Item::Attr(tag, h)) = e.items().first() else {
                panic!("not an event: {e:?}")
            };
            let index = h.get("index").and_then(|v| v.as_f64()).expect("index") as usize;
            let key = match h.get("key") {
                Some(warp::Value::Int(k)) => *k,
                other => panic!("no key: {other:?}"),
            };
            let found = client.iter().position(|(k, _)| *k == key);
            let value = || match e.body() {
                warp::Value::Int(v) => v,
                other => panic!("no value: {other:?}"),
            };
            match (tag.as_str(), found) {
                ("update", Some(at)) => client[at].1 = value(),
                ("update", None) => client.insert(index, (key, value())),
                ("remove", Some(at)) => {
                    client.remove(at);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn list_events_take_a_client_from_the_old_list_to_the_new() {
        let mut seed = 11u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as i64
        };
        let mut links = LaneLinks::default();
        let mut old: Vec<i64> = vec![];
        let mut client: Vec<(i64, i64)> = vec![];
        for round in 0..500 {
            let mut new = old.clone();
            match next() % 4 {
                0 => new.push(next() % 10),
                1 if !new.is_empty() => {
                    new.remove(0);
                }
                2 if !new.is_empty() => {
                    let at = (next() as usize) % new.len();
                    new[at] = next() % 10;
                }
                _ => new = (0..next() % 12).map(|_| next() % 10).collect(),
            }
            let events = list_bodies(
                &lane(),
                0,
                &lanes_of(&old),
                &lanes_of(&new),
                &mut links,
                &[],
                // Now and then the list is rewritten whole, as a migration does.
                round % 5 == 0,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            apply(&mut client, &events);
            let values: Vec<i64> = client.iter().map(|(_, v)| *v).collect();
            assert_eq!(values, new, "round {round}: {old:?} -> {new:?}");
            let keys: Vec<i64> = client.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, links.keys, "round {round}");
            old = new;
        }
    }

    #[test]
    fn a_push_onto_a_full_window_is_one_remove_and_one_insert() {
        let mut links = LaneLinks::default();
        let old: Vec<i64> = (0..50).collect();
        links.keys = (0..50).map(|_| links.mint()).collect();
        let new: Vec<i64> = (1..51).collect();
        let events = list_bodies(
            &lane(),
            0,
            &lanes_of(&old),
            &lanes_of(&new),
            &mut links,
            &[],
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let printed: Vec<String> = events.iter().map(warp::print).collect();
        assert_eq!(
            printed,
            vec!["@remove(index:0,key:1)", "@update(index:49,key:51) 50"]
        );
    }
}
