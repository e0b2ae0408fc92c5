//! Watches: every change under a prefix from a revision on, first from history, then
//! live, in revision order, with nothing skipped.
//!
//! A watcher starts catching up: its own `recv` reads history (a bounded span of
//! revisions at a time) on the caller's thread, so a watcher far behind costs the
//! writer nothing. Once it has read up to the newest durable revision it turns live,
//! atomically with respect to publishing (both under the hub's lock), and from then on
//! the store pushes each applied batch's events into its queue after the flush.
//!
//! The queue is bounded ([`WATCH_QUEUE_LEN_MAX`](crate::limits::WATCH_QUEUE_LEN_MAX)).
//! A live watcher whose queue cannot take a revision's events whole gets none of them:
//! it ends, and after the events already queued its reader gets
//! [`Delivery::Lagged`] with the first revision it did not get, then
//! [`RecvError::Closed`]. Watching again from that revision resumes exactly there (or
//! is refused as compacted, and the client lists again). The same happens when
//! compaction overtakes a watcher catching up, and to every watcher when the store is
//! restored from a snapshot. A watcher catching up queues one span of at most
//! [`WATCH_CATCH_UP_REVISIONS_MAX`](crate::limits::WATCH_CATCH_UP_REVISIONS_MAX)
//! revisions at a time, and only when its queue is empty; a watcher nobody reads costs
//! nothing. Everything here is synchronous: a mutex and a condvar per watcher, and every
//! wait has a timeout.

use crate::error::{Rejection, StoreError};
use crate::limits::{WATCHERS_MAX, WATCH_CATCH_UP_REVISIONS_MAX, WATCH_QUEUE_LEN_MAX};
use crate::reply::Event;
use crate::store::Inner;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

/// What a watcher receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The next change.
    Event(Event),
    /// The watcher fell behind (or history it needed was compacted, or the store was
    /// restored) and has ended: no event from `resume_from` on was delivered. Watch
    /// again from `resume_from`, or list and watch from after the list's revision.
    Lagged {
        /// The first revision the watcher did not deliver.
        resume_from: u64,
    },
}

/// Why [`Watcher::recv_timeout`] returned without a delivery.
#[derive(thiserror::Error, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Nothing arrived in time; the watcher is still open.
    #[error("no event within the timeout")]
    Timeout,
    /// The watcher has ended (after `Lagged`, or because the store was dropped or
    /// failed); it will deliver nothing more.
    #[error("the watcher has ended")]
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Reading history on its reader's thread; the hub does not push to it.
    CatchingUp,
    /// Caught up; the hub pushes every batch's events.
    Live,
    /// Ended behind; delivers what is queued, then `Lagged`.
    Lagged(u64),
    /// Ended; delivers what is queued, then nothing.
    Closed,
}

struct Queue {
    events: VecDeque<Event>,
    /// The first revision whose events are neither queued nor delivered.
    next_revision: u64,
    mode: Mode,
}

/// One watcher's state, shared by its reader and the hub.
pub(crate) struct Shared {
    prefix: Vec<u8>,
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ends the watcher (keeping what is queued) unless it has ended already.
    fn end(&self, mode: Mode) {
        let mut queue = self.lock();
        if matches!(queue.mode, Mode::CatchingUp | Mode::Live) {
            queue.mode = mode;
        }
        self.ready.notify_all();
    }

    /// Queues one applied batch's events for a live watcher; `durable` is the revision
    /// the batch ends at.
    fn offer(&self, events: &[Event], durable: u64) {
        let mut queue = self.lock();
        if queue.mode != Mode::Live {
            return;
        }
        for group in events.chunk_by(|a, b| a.revision() == b.revision()) {
            let Some(revision) = group.first().map(Event::revision) else {
                continue;
            };
            if revision < queue.next_revision {
                continue;
            }
            let matching = group.iter().filter(|e| e.kv.key.starts_with(&self.prefix));
            if queue.events.len() + matching.clone().count() > WATCH_QUEUE_LEN_MAX {
                queue.mode = Mode::Lagged(revision);
                self.ready.notify_all();
                return;
            }
            queue.events.extend(matching.cloned());
            queue.next_revision = revision.saturating_add(1);
        }
        queue.next_revision = queue.next_revision.max(durable.saturating_add(1));
        self.ready.notify_all();
    }
}

/// The store's registry of watchers and the newest revision they may see.
pub(crate) struct Hub {
    state: Mutex<HubState>,
}

struct HubState {
    /// The newest flushed revision: what catching up may read and publishing has
    /// pushed.
    durable: u64,
    watchers: Vec<Arc<Shared>>,
    closed: bool,
}

impl Hub {
    pub fn new(durable: u64) -> Hub {
        Hub {
            state: Mutex::new(HubState {
                durable,
                watchers: Vec::new(),
                closed: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn durable(&self) -> u64 {
        self.lock().durable
    }

    /// How many watchers are open.
    pub fn len(&self) -> usize {
        self.lock().watchers.len()
    }

    fn register(&self, prefix: &[u8], from: u64) -> Result<Arc<Shared>, StoreError> {
        let mut state = self.lock();
        if state.closed {
            return Err(StoreError::Poisoned);
        }
        if state.watchers.len() >= WATCHERS_MAX {
            return Err(StoreError::TooManyWatchers { max: WATCHERS_MAX });
        }
        let shared = Arc::new(Shared {
            prefix: prefix.to_vec(),
            queue: Mutex::new(Queue {
                events: VecDeque::new(),
                next_revision: from,
                mode: Mode::CatchingUp,
            }),
            ready: Condvar::new(),
        });
        state.watchers.push(Arc::clone(&shared));
        Ok(shared)
    }

    fn unregister(&self, shared: &Arc<Shared>) {
        self.lock().watchers.retain(|w| !Arc::ptr_eq(w, shared));
    }

    /// Turns a watcher that has read all durable history live; false if it has not.
    fn go_live(&self, shared: &Shared) -> bool {
        let state = self.lock();
        let mut queue = shared.lock();
        if queue.mode == Mode::CatchingUp && queue.next_revision > state.durable {
            queue.mode = Mode::Live;
            return true;
        }
        false
    }

    /// Delivers a flushed batch's events (in revision order) to the live watchers and
    /// moves the durable revision to `durable`; drops the watchers that ended.
    pub fn publish(&self, events: &[Event], durable: u64) {
        let mut state = self.lock();
        state.durable = state.durable.max(durable);
        for watcher in &state.watchers {
            watcher.offer(events, durable);
        }
        state
            .watchers
            .retain(|w| matches!(w.lock().mode, Mode::CatchingUp | Mode::Live));
    }

    /// After a restore: every watcher ends as lagged at its position, and the durable
    /// revision becomes the restored one.
    pub fn reset(&self, durable: u64) {
        let mut state = self.lock();
        state.durable = durable;
        for watcher in state.watchers.drain(..) {
            let next = watcher.lock().next_revision;
            watcher.end(Mode::Lagged(next));
        }
    }

    /// The store is going away: every watcher ends.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        for watcher in state.watchers.drain(..) {
            watcher.end(Mode::Closed);
        }
    }
}

/// A watch on a prefix: [`recv_timeout`](Watcher::recv_timeout) returns its events one
/// by one. Dropping it ends the watch.
pub struct Watcher {
    shared: Arc<Shared>,
    store: Weak<Inner>,
}

impl Watcher {
    /// Registers a watcher of `prefix` from revision `from` (the caller has checked
    /// that `from` is not compacted).
    pub(crate) fn start(
        inner: &Arc<Inner>,
        prefix: &[u8],
        from: u64,
    ) -> Result<Watcher, StoreError> {
        let shared = inner.hub.register(prefix, from)?;
        Ok(Watcher {
            shared,
            store: Arc::downgrade(inner),
        })
    }

    /// The prefix watched.
    pub fn prefix(&self) -> &[u8] {
        &self.shared.prefix
    }

    /// The first revision whose events the watcher has neither queued nor delivered.
    pub fn next_revision(&self) -> u64 {
        self.shared.lock().next_revision
    }

    /// The next delivery, waiting at most `timeout` for one.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Delivery, RecvError> {
        let start = Instant::now();
        let mut read_history = false;
        loop {
            let mut queue = self.shared.lock();
            if let Some(event) = queue.events.pop_front() {
                return Ok(Delivery::Event(event));
            }
            match queue.mode {
                Mode::Lagged(resume_from) => {
                    queue.mode = Mode::Closed;
                    return Ok(Delivery::Lagged { resume_from });
                }
                Mode::Closed => return Err(RecvError::Closed),
                Mode::Live => {
                    let left = timeout.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        return Err(RecvError::Timeout);
                    }
                    drop(self.shared.ready.wait_timeout(queue, left));
                }
                Mode::CatchingUp => {
                    drop(queue);
                    if read_history && start.elapsed() >= timeout {
                        return Err(RecvError::Timeout);
                    }
                    read_history = true;
                    self.catch_up();
                }
            }
        }
    }

    /// The next delivery if one is ready (reading one span of history if catching up).
    pub fn try_recv(&self) -> Result<Delivery, RecvError> {
        self.recv_timeout(Duration::ZERO)
    }

    /// One step of catching up: queues the events of the next span of revisions, and
    /// turns live once history is read up to the durable revision.
    fn catch_up(&self) {
        let Some(inner) = self.store.upgrade() else {
            self.shared.end(Mode::Closed);
            return;
        };
        if inner.hub.go_live(&self.shared) {
            return;
        }
        let next = {
            let queue = self.shared.lock();
            if queue.mode != Mode::CatchingUp {
                return;
            }
            queue.next_revision
        };
        let durable = inner.hub.durable();
        if next > durable {
            return;
        }
        let to = durable.min(next.saturating_add(WATCH_CATCH_UP_REVISIONS_MAX - 1));
        match inner.history_events(&self.shared.prefix, next, to) {
            Ok(events) => {
                {
                    let mut queue = self.shared.lock();
                    if queue.mode != Mode::CatchingUp || queue.next_revision != next {
                        return;
                    }
                    queue.events.extend(events);
                    queue.next_revision = to.saturating_add(1);
                }
                if to == durable {
                    inner.hub.go_live(&self.shared);
                }
            }
            Err(error) => {
                let mode = match error.rejection() {
                    Some(Rejection::Compacted { .. }) => Mode::Lagged(next),
                    _ => Mode::Closed,
                };
                self.shared.end(mode);
                inner.hub.unregister(&self.shared);
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(inner) = self.store.upgrade() {
            inner.hub.unregister(&self.shared);
        }
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("prefix", &String::from_utf8_lossy(&self.shared.prefix))
            .field("next_revision", &self.next_revision())
            .finish()
    }
}
