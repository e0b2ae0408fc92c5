//! The node's one-way messages (sends and timer ticks), queued per target agent: a target's
//! messages are delivered one at a time in the order they were queued, different targets'
//! at once by up to `workers_max` dispatcher threads. So one sender's messages to one agent
//! arrive in order (Erlang's guarantee between two processes), and turns of different
//! agents overlap, which lets their commits share flushes.

use std::collections::{HashMap, VecDeque};

/// A queued message.
pub(super) enum Msg {
    Send {
        uri: String,
        /// The method's name (the target may run another version than the sender).
        method: std::sync::Arc<str>,
        args: Vec<u8>,
    },
    /// Timer `timer` of the agent's type in program version `version`.
    Tick {
        uri: String,
        version: u64,
        timer: usize,
    },
}

impl Msg {
    pub fn target(&self) -> &str {
        match self {
            Msg::Send { uri, .. } | Msg::Tick { uri, .. } => uri,
        }
    }
}

#[derive(Default)]
pub(super) struct Queue {
    /// Each target's waiting messages, oldest first.
    waiting: HashMap<String, VecDeque<Msg>>,
    /// Targets with waiting messages that no worker is delivering to, in turn.
    ready: VecDeque<String>,
    /// Targets a worker is delivering to now, with how many of their messages it took.
    active: HashMap<String, usize>,
    /// How many messages wait.
    queued: usize,
    /// Messages taken by a worker and not finished.
    pub busy: usize,
    /// Dispatcher threads alive.
    pub workers: usize,
    /// Set by `Node::stop`: workers end as soon as nothing waits.
    pub stopping: bool,
}

impl Queue {
    /// Queues `m` behind its target's earlier messages.
    pub fn push(&mut self, m: Msg) {
        let target = m.target().to_string();
        let q = self.waiting.entry(target.clone()).or_default();
        q.push_back(m);
        self.queued += 1;
        // A target with earlier messages waiting is in `ready` already; one being
        // delivered to goes back there when its worker is done (`done`).
        if q.len() == 1 && !self.active.contains_key(&target) {
            self.ready.push_back(target);
        }
    }

    /// The next message for a target nobody is delivering to, if any.
    pub fn take(&mut self) -> Option<Msg> {
        let target = self.ready.pop_front()?;
        let m = self.waiting.get_mut(&target)?.pop_front()?;
        self.active.insert(target, 1);
        self.queued -= 1;
        self.busy += 1;
        Some(m)
    }

    /// Up to `max` more of `target`'s messages, oldest first, for the worker that took
    /// one with [`Queue::take`] (it is done with all of them at once).
    pub fn take_more(&mut self, target: &str, max: usize) -> Vec<Msg> {
        let Some(q) = self.waiting.get_mut(target) else {
            return vec![];
        };
        let n = q.len().min(max);
        let Some(taken) = self.active.get_mut(target) else {
            debug_assert!(false, "take_more for a target nobody took");
            return vec![];
        };
        *taken += n;
        self.queued -= n;
        self.busy += n;
        q.drain(..n).collect()
    }

    /// A worker finished `n` messages for `target`: the target's next one may go.
    pub fn done(&mut self, target: &str, n: usize) {
        self.busy -= n;
        let taken = self.active.remove(target);
        debug_assert_eq!(taken, Some(n), "done with other than what was taken");
        match self.waiting.get(target) {
            Some(q) if !q.is_empty() => self.ready.push_back(target.to_string()),
            _ => {
                self.waiting.remove(target);
            }
        }
    }

    /// How many of `target`'s messages are not done: waiting, or taken by a worker
    /// that has not finished them.
    pub fn waiting_for(&self, target: &str) -> usize {
        self.waiting.get(target).map_or(0, VecDeque::len)
            + self.active.get(target).copied().unwrap_or(0)
    }

    /// Whether nothing waits and nothing is being delivered.
    pub fn idle(&self) -> bool {
        self.queued == 0 && self.busy == 0
    }

    /// Whether a worker would find a message now.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(uri: &str, n: u8) -> Msg {
        Msg::Send {
            uri: uri.into(),
            method: "m".into(),
            args: vec![n],
        }
    }

    fn arg(m: &Msg) -> (String, u8) {
        match m {
            Msg::Send { uri, args, .. } => (uri.clone(), args[0]),
            Msg::Tick { uri, .. } => (uri.clone(), 0),
        }
    }

    #[test]
    fn one_target_at_a_time_in_order_and_targets_in_turn() {
        let mut q = Queue::default();
        for (uri, n) in [("/a", 1), ("/a", 2), ("/b", 1), ("/a", 3)] {
            q.push(send(uri, n));
        }
        let first = q.take().map(|m| arg(&m));
        assert_eq!(first, Some(("/a".into(), 1)));
        // While /a is being delivered to, only /b may go.
        let second = q.take().map(|m| arg(&m));
        assert_eq!(second, Some(("/b".into(), 1)));
        assert!(q.take().is_none());
        // A message for /a queued meanwhile waits behind the others.
        q.push(send("/a", 4));
        assert!(q.take().is_none());
        q.done("/a", 1);
        q.done("/b", 1);
        let rest: Vec<_> = std::iter::from_fn(|| {
            let m = q.take()?;
            let a = arg(&m);
            q.done(&a.0, 1);
            Some(a)
        })
        .collect();
        assert_eq!(
            rest,
            vec![("/a".into(), 2), ("/a".into(), 3), ("/a".into(), 4)]
        );
        assert!(q.idle());
    }

    #[test]
    fn a_worker_may_take_a_run_of_one_targets_messages() {
        let mut q = Queue::default();
        for n in 1..=5 {
            q.push(send("/a", n));
        }
        q.push(send("/b", 1));
        let first = q.take().map(|m| arg(&m));
        assert_eq!(first, Some(("/a".into(), 1)));
        let more: Vec<_> = q.take_more("/a", 3).iter().map(arg).collect();
        assert_eq!(
            more,
            vec![("/a".into(), 2), ("/a".into(), 3), ("/a".into(), 4)]
        );
        // /a stays with that worker until it is done with all four, and they count
        // as /a's until then.
        assert_eq!(q.waiting_for("/a"), 5);
        assert_eq!(q.take().map(|m| arg(&m)), Some(("/b".into(), 1)));
        assert!(q.take().is_none());
        q.done("/a", 4);
        assert_eq!(q.waiting_for("/a"), 1);
        assert_eq!(q.take().map(|m| arg(&m)), Some(("/a".into(), 5)));
        q.done("/a", 1);
        q.done("/b", 1);
        assert!(q.idle());
    }
}
