//! The node agent's status reporter: instances hand it their latest status and go on
//! with their work; a thread of its own writes what changed, the latest status of each
//! instance only, every few milliseconds in one write. So a starting instance does not
//! wait for the store to learn it was created and is running before it takes its first
//! event, and twenty instances starting at once make one write, not forty.
//!
//! Statuses are written in the order they were handed in, the last of an instance
//! winning; what is pending when the reporter is dropped (an agent stopping, its
//! instances' `dead`) is written before the drop returns.

use super::{status_key, Status};
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use weft_resources::kinds::Kv;
use weft_resources::{Command, Op};

/// How long the reporter gathers statuses before it writes them.
const GATHER_MS: u64 = 10;
/// The most statuses one write carries (the rest go in the next).
const WRITE_STATUSES_MAX: usize = weft_resources::limits::TXN_OPS_MAX;

/// Statuses waiting to be written, by key, and whether the reporter is stopping.
#[derive(Default)]
struct Pending {
    latest: BTreeMap<Vec<u8>, Vec<u8>>,
    stopping: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    changed: Condvar,
}

/// Where an instance hands its status. Cheap to clone.
#[derive(Clone)]
pub struct Reports {
    shared: Arc<Shared>,
}

impl Reports {
    /// Hands in `s`, the instance's status now, to be written soon.
    pub fn send(&self, s: &Status) {
        let Ok(value) = serde_json::to_vec(s) else {
            return;
        };
        let mut p = lock(&self.shared.pending);
        p.latest
            .insert(status_key(&s.cell, s.replica, &s.node), value);
        drop(p);
        self.shared.changed.notify_all();
    }
}

/// The reporter's thread; it writes what is pending and ends when dropped.
pub struct Reporter {
    reports: Reports,
    thread: Option<JoinHandle<()>>,
}

impl Reporter {
    /// A reporter writing to `kv`.
    pub fn start(kv: Arc<dyn Kv>) -> Reporter {
        let reports = Reports {
            shared: Arc::new(Shared::default()),
        };
        let shared = reports.shared.clone();
        let thread = std::thread::Builder::new()
            .name("weft-cells-report".into())
            .spawn(move || write_loop(&*kv, &shared))
            .ok();
        Reporter { reports, thread }
    }

    /// Where instances hand their statuses.
    pub fn reports(&self) -> Reports {
        self.reports.clone()
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        lock(&self.reports.shared.pending).stopping = true;
        self.reports.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Waits for statuses, gathers them for [`GATHER_MS`] and writes them, until stopped
/// with nothing pending.
fn write_loop(kv: &dyn Kv, shared: &Shared) {
    loop {
        let mut p = lock(&shared.pending);
        while p.latest.is_empty() && !p.stopping {
            p = shared
                .changed
                .wait(p)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if p.latest.is_empty() {
            return;
        }
        let stopping = p.stopping;
        drop(p);
        if !stopping {
            std::thread::sleep(Duration::from_millis(GATHER_MS));
        }
        let batch: Vec<(Vec<u8>, Vec<u8>)> = {
            let mut p = lock(&shared.pending);
            let keys: Vec<Vec<u8>> = p.latest.keys().take(WRITE_STATUSES_MAX).cloned().collect();
            keys.into_iter()
                .filter_map(|k| p.latest.remove_entry(&k))
                .collect()
        };
        let success = batch
            .into_iter()
            .map(|(key, value)| Op::Put {
                key,
                value,
                lease: None,
                prev_kv: false,
            })
            .collect();
        // A status that cannot be written now is superseded by the instance's next.
        let _ = kv.write(Command::Txn {
            compare: vec![],
            success,
            failure: vec![],
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
