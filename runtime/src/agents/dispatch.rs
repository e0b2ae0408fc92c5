//! The node's timers and one-way messages: timers due are queued as ticks, and a few
//! dispatcher threads deliver sends and ticks, one at a time per target agent.

use super::{lock, CallError, Frame, Held, Lanes, Msg, Node, Queue, Slot, Timer, Write};
use std::cell::RefCell;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

impl Node {
    /// Runs timers due until `stop` says to stop (checked every few milliseconds).
    pub fn serve(&self, stop: &dyn Fn() -> bool) {
        while !stop() {
            let now = Instant::now();
            let mut due = vec![];
            let mut next = now + Duration::from_millis(50);
            {
                let mut timers = lock(&self.inner.timers);
                for (uri, ts) in timers.iter_mut() {
                    for t in ts {
                        if t.next <= now {
                            due.push(Msg::Tick {
                                uri: uri.clone(),
                                version: t.version,
                                timer: t.timer,
                            });
                            t.next = now + t.every;
                        }
                        next = next.min(t.next);
                    }
                }
            }
            for m in due {
                // A tick for a full mailbox is skipped: the next one comes a period later.
                let _ = self.enqueue_if_room(m);
            }
            std::thread::sleep(
                next.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(20)),
            );
        }
    }

    /// (Re)registers the agent's timers for the version it now runs; a timer whose
    /// period did not change keeps its next tick.
    pub(super) fn set_timers(&self, uri: &str, held: &Held) {
        let now = Instant::now();
        let mut timers = lock(&self.inner.timers);
        let before = timers.remove(uri).unwrap_or_default();
        let ts: Vec<Timer> = held
            .desc()
            .timers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let every = Duration::from_nanos(t.every_ns.max(1) as u64);
                let next = before
                    .get(i)
                    .filter(|b| b.every == every)
                    .map_or(now + every, |b| b.next);
                Timer {
                    version: held.version.number,
                    timer: i,
                    every,
                    next,
                }
            })
            .collect();
        if !ts.is_empty() {
            timers.insert(uri.to_string(), ts);
        }
    }

    /// Runs timer `timer` (of the agent's type in `version`) as a turn of the agent at
    /// `uri`; a tick queued before the agent moved to another version is dropped (its
    /// timers were registered again for the new one).
    pub(super) fn tick(&self, uri: &str, version: u64, timer: usize) -> Result<(), CallError> {
        let slot = self.slot(uri).map_err(CallError::NotFound)?;
        let what = || format!("{uri} timer");
        self.with_agent(&slot, |node, held| {
            if held.version.number != version {
                return Ok(());
            }
            let Some(t) = held.desc().timers.get(timer) else {
                return Ok(());
            };
            let export = t.export.clone();
            node.turn(&slot, held, &export, &what, vec![])?;
            Ok(())
        })
    }

    /// Whether `uri`'s mailbox has room for one more one-way message (`send_queue_max`).
    pub(super) fn room_for(&self, uri: &str) -> Result<(), String> {
        self.room_in(&lock(&self.inner.queue), uri)
    }

    fn room_in(&self, q: &Queue, uri: &str) -> Result<(), String> {
        let waiting = q.waiting_for(uri);
        if waiting >= self.inner.settings.send_queue_max {
            return Err(format!(
                "mailbox full: {waiting} messages already wait for `{uri}` (send_queue_max)"
            ));
        }
        Ok(())
    }

    /// Queues `m` if its target's mailbox has room (checked and queued under one lock).
    fn enqueue_if_room(&self, m: Msg) -> Result<(), String> {
        let mut q = lock(&self.inner.queue);
        self.room_in(&q, m.target())?;
        self.push(&mut q, m);
        Ok(())
    }

    /// Queues `m` once its target's mailbox has room, waiting at most `call_wait_max`:
    /// the back-pressure on a sender that holds no agent (`main`, a test).
    pub(super) fn enqueue_when_room(&self, m: Msg) -> Result<(), String> {
        let until = Instant::now() + self.inner.settings.call_wait_max;
        let mut q = lock(&self.inner.queue);
        while let Err(full) = self.room_in(&q, m.target()) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "{full} for longer than {:?} (call_wait_max)",
                    self.inner.settings.call_wait_max
                ));
            }
            q = self
                .inner
                .queue_cv
                .wait_timeout(q, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        self.push(&mut q, m);
        Ok(())
    }

    pub(super) fn enqueue(&self, m: Msg) {
        self.push(&mut lock(&self.inner.queue), m);
    }

    /// Queues `m` on the locked queue, starting another worker when every live one is
    /// busy and there is room for one more, and wakes the workers.
    fn push(&self, q: &mut Queue, m: Msg) {
        q.push(m);
        if q.workers < self.inner.settings.dispatch_workers.max(1) && q.busy >= q.workers {
            q.workers += 1;
            let node = self.clone();
            let started = std::thread::Builder::new()
                .name("weft-dispatch".into())
                .spawn(move || node.dispatch());
            if started.is_err() {
                q.workers -= 1;
            }
        }
        self.inner.queue_cv.notify_all();
    }

    /// A dispatcher worker: delivers messages, one target at a time, until none has come
    /// for a while (then the thread ends and lets the node go; the next message starts
    /// another). It takes up to [`DISPATCH_BATCH_MAX`] messages at once (each target's in
    /// order) and commits their sends' turns together (see [`Node::send_deferred`]).
    fn dispatch(&self) {
        loop {
            let (msgs, targets) = {
                let mut q = lock(&self.inner.queue);
                if !q.has_ready() && !q.stopping {
                    q = self
                        .inner
                        .queue_cv
                        .wait_timeout(q, Duration::from_millis(200))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                let mut msgs = vec![];
                let mut targets = vec![];
                while msgs.len() < DISPATCH_BATCH_MAX {
                    let Some(m) = q.take() else { break };
                    let target = m.target().to_string();
                    let more = q.take_more(&target, DISPATCH_BATCH_MAX - msgs.len() - 1);
                    targets.push((target, 1 + more.len()));
                    msgs.push(m);
                    msgs.extend(more);
                }
                if msgs.is_empty() {
                    q.workers -= 1;
                    self.inner.queue_cv.notify_all();
                    return;
                }
                (msgs, targets)
            };
            // Failures were reported by the turn; a send has nobody to answer to.
            for m in msgs {
                match m {
                    Msg::Send { uri, method, args } => self.send_deferred(&uri, &method, args),
                    Msg::Tick {
                        uri,
                        version,
                        timer,
                    } => {
                        commit_batch();
                        let _ = self.tick(&uri, version, timer);
                    }
                }
            }
            commit_batch();
            let mut q = lock(&self.inner.queue);
            for (t, n) in &targets {
                q.done(t, *n);
            }
            self.inner.queue_cv.notify_all();
        }
    }

    /// Runs a one-way send as a turn whose commit waits in this thread's batch: the
    /// agent stays held, its lanes and links unchanged and its sends unsent, until
    /// [`commit_batch`] makes the batch durable with one store commit. A later send to
    /// the same agent in the batch runs on the lanes the earlier one left (nobody else
    /// can see them: the agent is held). A thread holding such agents never waits for
    /// another agent: it commits its batch first when the next target is busy, and
    /// before a turn calls another agent ([`Node::call_from_turn`]), so batching adds no
    /// wait-for edge a cycle could close.
    fn send_deferred(&self, uri: &str, method: &str, args: Vec<u8>) {
        let Ok(slot) = self.slot(uri) else {
            return;
        };
        // Taken out while its turn runs: the turn may commit the rest of the batch.
        let earlier = BATCH.with(|b| {
            let mut b = b.borrow_mut();
            let at = b.iter().position(|d| Arc::ptr_eq(&d.slot, &slot))?;
            Some(b.swap_remove(at))
        });
        let mut d = match earlier {
            Some(d) => d,
            None => {
                let got = match self.try_acquire(&slot) {
                    Some(got) => got,
                    None => {
                        commit_batch();
                        match self.acquire(&slot) {
                            Ok(got) => got,
                            Err(_) => return,
                        }
                    }
                };
                let Ok(held) = self.held_now(&slot, got) else {
                    return;
                };
                Deferred {
                    node: self.clone(),
                    committed: held.lanes.clone(),
                    slot,
                    held,
                    writes: vec![],
                    frames: vec![],
                    sends: vec![],
                }
            }
        };
        self.run_deferred(&mut d, uri, method, args);
        BATCH.with(|b| b.borrow_mut().push(d));
    }

    /// Runs one send's turn on the agent `d` holds and adds what it did to `d`; a turn
    /// that fails leaves `d` as it was.
    fn run_deferred(&self, d: &mut Deferred, uri: &str, method: &str, args: Vec<u8>) {
        let desc = d.held.desc();
        let Some(index) = desc.methods.iter().position(|m| m.name == method) else {
            return;
        };
        let echo = self.command_echo(uri, &d.held, index, &args);
        let export = desc.methods[index].export.clone();
        let what = || format!("{uri} {method}");
        let Ok(mut turn) = self.exec(&d.slot, &d.held, &export, &what, args) else {
            return;
        };
        // Writes to resources commit now, before the turn's lanes, as a turn's own
        // commit does; if they are refused the turn fails.
        if let Err(e) = self.commit_resources(&mut turn, &what) {
            self.report(&format!("error: {e}\n"));
            return;
        }
        d.frames
            .extend(self.frames(&d.slot, &d.held, &turn, &[], &[]));
        d.frames.extend(echo.map(|f| (method.to_string(), f)));
        d.held.lanes = std::mem::take(&mut turn.lanes);
        if !turn.writes.is_empty() {
            // Demand lanes follow every turn that changes the agent, as after a call.
            d.frames.extend(self.demand_frames(&d.slot, &d.held));
        }
        d.writes.append(&mut turn.writes);
        d.sends.append(&mut turn.sends);
    }
}

/// The most messages a dispatcher takes at once, their turns committed together
/// (`dispatch_batch_max`).
const DISPATCH_BATCH_MAX: usize = 64;

/// An agent held by a dispatcher with the turns it ran that wait for the batch's commit.
struct Deferred {
    node: Node,
    slot: Arc<Slot>,
    /// The agent, its lanes as its last turn left them.
    held: Held,
    /// Its lanes as last committed, which it keeps if the commit fails.
    committed: Lanes,
    writes: Vec<Write>,
    /// Its links' frames, in the order the turns made them.
    frames: Vec<(String, Frame)>,
    sends: Vec<Msg>,
}

thread_local! {
    /// The agents this dispatcher thread ran turns of and has not committed yet.
    static BATCH: RefCell<Vec<Deferred>> = const { RefCell::new(Vec::new()) };
}

/// Commits the turns waiting in this thread's batch with one store commit, then, as a
/// turn's own commit does, gives each agent its lanes, its links their frames and its
/// sends to the queue, and releases it. A failed commit fails every turn of the batch (reported; their agents
/// keep the lanes they had).
pub(super) fn commit_batch() {
    let mut batch = BATCH.with(|b| std::mem::take(&mut *b.borrow_mut()));
    let Some(first) = batch.first() else {
        return;
    };
    let node = first.node.clone();
    let mut writes = vec![];
    for d in &mut batch {
        writes.append(&mut d.writes);
    }
    let r = if writes.is_empty() {
        Ok(())
    } else {
        node.store()
            .and_then(|s| s.commit(writes).map_err(|e| e.to_string()))
    };
    for mut d in batch {
        match &r {
            Ok(()) => {
                d.node.inner.links.deliver(&d.slot.uri, d.frames);
                for m in d.sends {
                    d.node.enqueue(m);
                }
            }
            Err(e) => {
                d.held.lanes = d.committed;
                d.node.report(&format!(
                    "error: sends to {}: cannot commit: {e}\n",
                    d.slot.uri
                ));
            }
        }
        d.node.release(&d.slot, Some(d.held));
    }
}
