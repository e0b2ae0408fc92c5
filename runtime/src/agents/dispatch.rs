//! The node's timers and one-way messages: timers due are queued as ticks, and a few
//! dispatcher threads deliver sends and ticks, one at a time per target agent.

use super::{lock, CallError, Held, Msg, Node, Timer};
use std::sync::PoisonError;
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
                self.enqueue(m);
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

    pub(super) fn enqueue(&self, m: Msg) {
        let mut q = lock(&self.inner.queue);
        q.push(m);
        // Another worker when every live one is busy and there is room for one more.
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
    /// another).
    fn dispatch(&self) {
        loop {
            let m = {
                let mut q = lock(&self.inner.queue);
                if !q.has_ready() && !q.stopping {
                    q = self
                        .inner
                        .queue_cv
                        .wait_timeout(q, Duration::from_millis(200))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                match q.take() {
                    Some(m) => m,
                    None => {
                        q.workers -= 1;
                        self.inner.queue_cv.notify_all();
                        return;
                    }
                }
            };
            let target = m.target().to_string();
            // Failures were reported by the turn; a send has nobody to answer to.
            match m {
                Msg::Send { uri, method, args } => {
                    let _ = self.call(&uri, &method, args);
                }
                Msg::Tick {
                    uri,
                    version,
                    timer,
                } => {
                    let _ = self.tick(&uri, version, timer);
                }
            }
            let mut q = lock(&self.inner.queue);
            q.done(&target);
            self.inner.queue_cv.notify_all();
        }
    }
}
