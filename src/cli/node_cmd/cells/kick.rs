//! Wake-ups within one process: a change this process makes (a Cell ensured, a replica
//! placed, a message sent) wakes the loop that acts on it at once, instead of at its
//! next poll. Changes made by other processes are still found by polling.
//!
//! A kick may carry what changed (the Cell ensured, the replica placed with its record),
//! so that the loop woken acts on it before, or instead of, reading the store.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use weft_resources::kinds::Record;

/// A generation counter that waiters sleep on.
pub struct Kick {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Default for Kick {
    fn default() -> Kick {
        Kick::new()
    }
}

impl Kick {
    pub const fn new() -> Kick {
        Kick {
            generation: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    /// Wakes every waiter.
    pub fn kick(&self) {
        let mut g = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *g = g.wrapping_add(1);
        self.changed.notify_all();
    }

    /// The current generation, to wait for a later one.
    pub fn seen(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until a kick after generation `seen`, or `max`; the generation then.
    pub fn wait(&self, seen: u64, max: Duration) -> u64 {
        let until = Instant::now() + max;
        let mut g = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *g == seen {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            g = self
                .changed
                .wait_timeout(g, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *g
    }
}

/// A code-running resource was ensured: the scheduler looks again.
pub static SCHEDULE: Kick = Kick::new();
/// A replica was placed or removed: the node agent looks again.
pub static PLACED: Kick = Kick::new();
/// A message was sent: idle instances look at their queues.
pub static SENT: Kick = Kick::new();

/// Cells (by handle) ensured in this process that its scheduler has not looked at yet
/// (bounded: the oldest go first; the scheduler's full pass finds them anyway).
static ENSURED: Mutex<Vec<String>> = Mutex::new(Vec::new());
const ENSURED_MAX: usize = 1024;

/// Tells this process's scheduler that the code-running resource `handle` was ensured.
pub fn ensured(handle: &str) {
    let mut all = ENSURED.lock().unwrap_or_else(PoisonError::into_inner);
    if all.len() >= ENSURED_MAX {
        all.remove(0);
    }
    if !all.iter().any(|h| h == handle) {
        all.push(handle.to_string());
    }
    drop(all);
    SCHEDULE.kick();
}

/// The Cells ensured in this process since last asked, oldest first.
pub fn take_ensured() -> Vec<String> {
    std::mem::take(&mut *ENSURED.lock().unwrap_or_else(PoisonError::into_inner))
}

/// A replica placed by this process's scheduler: `(handle, replica)`, node, record.
type JustPlaced = ((String, u32), String, Record);

/// Placements this process's scheduler made and no agent here has taken yet (bounded:
/// the oldest go first; the agent finds them by reading anyway).
static PLACED_HERE: Mutex<Vec<JustPlaced>> = Mutex::new(Vec::new());
const PLACED_MAX: usize = 1024;

/// Tells this process's node agent of a placement, before it reads it.
pub fn placed(replica: (String, u32), node: &str, record: &Record) {
    let mut all = PLACED_HERE.lock().unwrap_or_else(PoisonError::into_inner);
    if all.len() >= PLACED_MAX {
        all.remove(0);
    }
    all.push((replica, node.to_string(), record.clone()));
    drop(all);
    PLACED.kick();
}

/// The placements on node `me` made by this process's scheduler since last asked.
pub fn take_placed(me: &str) -> Vec<((String, u32), Record)> {
    let mut all = PLACED_HERE.lock().unwrap_or_else(PoisonError::into_inner);
    let (mine, rest): (Vec<JustPlaced>, Vec<JustPlaced>) =
        all.drain(..).partition(|(_, node, _)| node == me);
    *all = rest;
    mine.into_iter().map(|(k, _, r)| (k, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::Kick;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_kick_wakes_a_waiter_and_a_wait_without_one_times_out() {
        let k = Arc::new(Kick::new());
        let seen = k.seen();
        let start = Instant::now();
        assert_eq!(k.wait(seen, Duration::from_millis(30)), seen);
        assert!(start.elapsed() >= Duration::from_millis(30));
        let k2 = k.clone();
        let t = std::thread::spawn(move || k2.wait(seen, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        k.kick();
        assert_eq!(t.join().ok(), Some(seen + 1));
        // A kick before the wait is not missed.
        k.kick();
        assert_eq!(k.wait(seen + 1, Duration::from_secs(10)), seen + 2);
    }
}
