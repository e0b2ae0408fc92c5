//! A linearizability check of the replicated store. Clients read, write and
//! compare-and-swap keys through different members while the leader is killed (SIGKILL)
//! and brought back by `weft cluster up`; the history they record is checked by the small
//! checker here: Wing & Gong's search as Lowe refined it, with porcupine's memo of
//! (operations placed, value). Each key is a register checked on its own, since
//! linearizability composes per object. The checker is ours (no new dependency) and is
//! tested on its own, without processes, by the `checker_*` tests.

use super::support::{scratch_dir, text, weft};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The checker.

/// What one operation did to its key, as its client saw it.
#[derive(Clone, Debug)]
enum Effect {
    /// A read that answered this value (`None`: no such key).
    Read(Option<String>),
    /// A write of this value.
    Write(String),
    /// A compare-and-swap that wrote `new` because the value was `expect`.
    Swap { expect: String, new: String },
    /// A compare-and-swap that wrote nothing because the value, `current`, was not `expect`.
    NoSwap {
        expect: String,
        current: Option<String>,
    },
}

/// One operation of a history.
#[derive(Clone, Debug)]
struct Op {
    client: usize,
    key: String,
    /// When the client sent it, in ns since the history began.
    call_ns: u64,
    /// When its answer came; `None` when the client cannot know whether it took effect (a
    /// timeout, a 503, a cut connection): it may take effect at any time after its call,
    /// or never. Only a write or a swap is ever unknown; a read without an answer is left
    /// out of the history.
    return_ns: Option<u64>,
    effect: Effect,
}

/// The most (operations placed, value) states the search of one key may remember.
const STATES_MAX: usize = 1_000_000;

/// The most words the remembered states' bitsets may hold together (256 MiB), whatever
/// the number of operations on a key.
const MEMO_WORDS_MAX: usize = 32 << 20;

/// Checks each key of `history` on its own: the states the searches remembered, or why a
/// key is not linearizable (or could not be decided within `states_max` states), for a
/// human.
fn check(history: &[Op], states_max: usize) -> Result<usize, String> {
    let mut keys: BTreeMap<&str, Vec<&Op>> = BTreeMap::new();
    for op in history {
        assert!(
            op.return_ns.is_some() || matches!(op.effect, Effect::Write(_) | Effect::Swap { .. }),
            "only a write or a swap can have an unknown outcome: {op:?}"
        );
        assert!(op.return_ns.is_none_or(|r| r >= op.call_ns), "{op:?}");
        keys.entry(&op.key).or_default().push(op);
    }
    let mut states = 0;
    for (key, ops) in keys {
        states += check_key(key, &observed_only(ops), states_max)?;
    }
    Ok(states)
}

/// `ops` without the unknown writes and swaps whose value no operation observed. Such a
/// write changes nothing another operation could see, so the history
/// is linearizable with it exactly when it is without it; each one left out halves the
/// search.
fn observed_only<'h>(mut ops: Vec<&'h Op>) -> Vec<&'h Op> {
    loop {
        let seen: HashSet<&'h str> = ops
            .iter()
            .filter_map(|&op: &&'h Op| match &op.effect {
                Effect::Read(v) | Effect::NoSwap { current: v, .. } => v.as_deref(),
                Effect::Swap { expect, .. } => Some(expect.as_str()),
                Effect::Write(_) => None,
            })
            .collect();
        let before = ops.len();
        ops.retain(|op| match &op.effect {
            Effect::Write(v) | Effect::Swap { new: v, .. } => {
                op.return_ns.is_some() || seen.contains(v.as_str())
            }
            _ => true,
        });
        if ops.len() == before {
            return ops;
        }
    }
}

/// An operation as the search runs it, its values numbered (0 is "no such key").
#[derive(Clone, Copy, Debug)]
enum Step {
    Read(u32),
    Write(u32),
    Swap { expect: u32, new: u32 },
    NoSwap { expect: u32, current: u32 },
}

impl Step {
    /// The value after this step from `value`, if the step could have answered as it did.
    fn apply(self, value: u32) -> Option<u32> {
        match self {
            Step::Read(v) => (value == v).then_some(value),
            Step::Write(v) => Some(v),
            Step::Swap { expect, new } => (value == expect).then_some(new),
            Step::NoSwap { expect, current } => {
                (value != expect && value == current).then_some(value)
            }
        }
    }
}

fn check_key<'h>(key: &str, ops: &[&'h Op], states_max: usize) -> Result<usize, String> {
    let mut names: Vec<Option<&'h str>> = vec![None];
    let mut numbers: HashMap<&'h str, u32> = HashMap::new();
    let mut number = |v: Option<&'h str>| match v {
        None => 0,
        Some(v) => *numbers.entry(v).or_insert_with(|| {
            names.push(Some(v));
            u32::try_from(names.len() - 1).expect("fewer than 2^32 values")
        }),
    };
    let steps: Vec<Step> = ops
        .iter()
        .map(|&op: &&'h Op| match &op.effect {
            Effect::Read(v) => Step::Read(number(v.as_deref())),
            Effect::Write(v) => Step::Write(number(Some(v))),
            Effect::Swap { expect, new } => Step::Swap {
                expect: number(Some(expect)),
                new: number(Some(new)),
            },
            Effect::NoSwap { expect, current } => Step::NoSwap {
                expect: number(Some(expect)),
                current: number(current.as_deref()),
            },
        })
        .collect();
    let calls: Vec<u64> = ops.iter().map(|op| op.call_ns).collect();
    let returns: Vec<Option<u64>> = ops.iter().map(|op| op.return_ns).collect();
    match search(&steps, &calls, &returns, states_max) {
        Verdict::Linearizable { states } => Ok(states),
        Verdict::GaveUp { states } => Err(format!(
            "key `{key}`: gave up after {states} states of the search (its {} operations \
             overlap too much to decide in bounded time)",
            ops.len()
        )),
        Verdict::Stuck(stuck) => Err(stuck_report(key, ops, &names, &stuck)),
    }
}

/// What the search of one key found.
enum Verdict {
    Linearizable {
        states: usize,
    },
    /// No order fits; where the search got furthest.
    Stuck(Stuck),
    /// The search remembered `states_max` states without an answer.
    GaveUp {
        states: usize,
    },
}

/// The furthest the search got: the operations it placed, in order, the value then, and
/// the operation that returned before any of the rest could be placed.
struct Stuck {
    placed: Vec<usize>,
    value: u32,
    stuck: usize,
}

/// The call and return events in time order, as a doubly linked list (node 0 is the head,
/// node `len + 1` the tail) that operations are lifted out of and put back in, LIFO.
struct Events {
    /// (time, is a return, operation) per node 1..=len.
    events: Vec<(u64, bool, usize)>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Each operation's return node, if it has one.
    return_node: Vec<Option<usize>>,
}

impl Events {
    fn new(calls: &[u64], returns: &[Option<u64>]) -> Events {
        let n = calls.len();
        let mut events: Vec<(u64, bool, usize)> = (0..n)
            .map(|i| (calls[i], false, i))
            .chain((0..n).filter_map(|i| returns[i].map(|r| (r, true, i))))
            .collect();
        // A call sorts before a return at the same instant: the two overlap.
        events.sort_unstable();
        let len = events.len();
        let mut return_node = vec![None; n];
        for (k, &(_, is_return, op)) in events.iter().enumerate() {
            if is_return {
                return_node[op] = Some(k + 1);
            }
        }
        Events {
            events,
            next: (1..=len + 1).chain([len + 1]).collect(),
            prev: [0].into_iter().chain(0..=len).collect(),
            return_node,
        }
    }

    fn tail(&self) -> usize {
        self.events.len() + 1
    }

    /// (is a return, operation) of `node`.
    fn at(&self, node: usize) -> (bool, usize) {
        let (_, is_return, op) = self.events[node - 1];
        (is_return, op)
    }

    fn unlink(&mut self, x: usize) {
        let (p, n) = (self.prev[x], self.next[x]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    fn relink(&mut self, x: usize) {
        let (p, n) = (self.prev[x], self.next[x]);
        self.next[p] = x;
        self.prev[n] = x;
    }

    /// Takes the operation whose call is `node` out of the list.
    fn lift(&mut self, node: usize) {
        let op = self.at(node).1;
        self.unlink(node);
        if let Some(r) = self.return_node[op] {
            self.unlink(r);
        }
    }

    /// Puts back the operation lifted last, whose call is `node`.
    fn unlift(&mut self, node: usize) {
        let op = self.at(node).1;
        if let Some(r) = self.return_node[op] {
            self.relink(r);
        }
        self.relink(node);
    }
}

/// Lowe's search: walk the events; at a call, place the operation if the register allows
/// it and (placed set, value) is new, then start again from the head; at a return (an
/// operation that ended unplaced), undo the last placement and try the next call after it.
/// An unknown operation has no return, so it need never be placed; the history is
/// linearizable once every answered operation is.
fn search(steps: &[Step], calls: &[u64], returns: &[Option<u64>], states_max: usize) -> Verdict {
    let n = steps.len();
    let mut list = Events::new(calls, returns);
    let words = n.div_ceil(64).max(1);
    let states_max = states_max.min(MEMO_WORDS_MAX / words);
    let mut placed = vec![0u64; words];
    let mut memo: HashSet<(Vec<u64>, u32)> = HashSet::new();
    // (call node, value before) per placed operation.
    let mut stack: Vec<(usize, u32)> = Vec::new();
    let mut value = 0u32;
    let mut answered_left = returns.iter().filter(|r| r.is_some()).count();
    let mut deepest: Option<Stuck> = None;
    let mut cur = list.next[0];
    while answered_left > 0 {
        // Every unplaced answered operation's return is still in the list.
        assert_ne!(cur, list.tail(), "the walk passed an unplaced return");
        let (is_return, op) = list.at(cur);
        if !is_return {
            if let Some(after) = steps[op].apply(value) {
                placed[op / 64] |= 1 << (op % 64);
                if memo.insert((placed.clone(), after)) {
                    if memo.len() > states_max {
                        return Verdict::GaveUp { states: memo.len() };
                    }
                    stack.push((cur, value));
                    value = after;
                    answered_left -= usize::from(returns[op].is_some());
                    list.lift(cur);
                    cur = list.next[0];
                    continue;
                }
                placed[op / 64] &= !(1 << (op % 64));
            }
            cur = list.next[cur];
        } else {
            if deepest
                .as_ref()
                .is_none_or(|d| stack.len() > d.placed.len())
            {
                deepest = Some(Stuck {
                    placed: stack.iter().map(|&(node, _)| list.at(node).1).collect(),
                    value,
                    stuck: op,
                });
            }
            let Some((node, before)) = stack.pop() else {
                return Verdict::Stuck(deepest.expect("set just above"));
            };
            let undone = list.at(node).1;
            placed[undone / 64] &= !(1 << (undone % 64));
            value = before;
            answered_left += usize::from(returns[undone].is_some());
            list.unlift(node);
            cur = list.next[node];
        }
    }
    Verdict::Linearizable { states: memo.len() }
}

/// How many operations a report shows before and after the stuck one, by invocation.
const WINDOW_BEFORE: usize = 12;
const WINDOW_AFTER: usize = 6;

/// How many of the last operations placed a report shows.
const PLACED_SHOWN: usize = 6;

/// Where the search of `key` got furthest, for a human.
fn stuck_report(key: &str, ops: &[&Op], names: &[Option<&str>], stuck: &Stuck) -> String {
    let place: HashMap<usize, usize> = stuck
        .placed
        .iter()
        .enumerate()
        .map(|(k, &op)| (op, k + 1))
        .collect();
    let mut out = format!(
        "key `{key}` is not linearizable. The search placed at most {} of its {} operations \
         (the value then {}), and could place none of the rest before this one returned:\n  \
         {}\nthe last it placed, in their order:\n",
        stuck.placed.len(),
        ops.len(),
        shown(names[stuck.value as usize]),
        describe(ops[stuck.stuck]),
    );
    let from = stuck.placed.len().saturating_sub(PLACED_SHOWN);
    for (k, &op) in stuck.placed.iter().enumerate().skip(from) {
        out.push_str(&format!("  {:>5}. {}\n", k + 1, describe(ops[op])));
    }
    out.push_str(
        "the operations invoked around it, by invocation (> the stuck one, N. placed Nth):\n",
    );
    let mut by_call: Vec<usize> = (0..ops.len()).collect();
    by_call.sort_by_key(|&i| (ops[i].call_ns, i));
    let at = by_call.iter().position(|&i| i == stuck.stuck).unwrap_or(0);
    let window = &by_call[at.saturating_sub(WINDOW_BEFORE)..(at + WINDOW_AFTER + 1).min(ops.len())];
    for &i in window {
        let mark = match place.get(&i) {
            _ if i == stuck.stuck => ">".to_string(),
            Some(k) => format!("{k}."),
            None => String::new(),
        };
        out.push_str(&format!("  {mark:>6} {}\n", describe(ops[i])));
    }
    out
}

fn shown(value: Option<&str>) -> String {
    value.map_or("<none>".to_string(), |v| format!("{v:?}"))
}

/// One operation for a human: its interval (ms since the history began), client and effect.
fn describe(op: &Op) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
    let what = match &op.effect {
        Effect::Read(v) => format!("read -> {}", shown(v.as_deref())),
        Effect::Write(v) => format!("write {v:?}"),
        Effect::Swap { expect, new } => format!("cas {expect:?} -> {new:?}"),
        Effect::NoSwap { expect, current } => {
            format!(
                "cas {expect:?} -> refused, value {}",
                shown(current.as_deref())
            )
        }
    };
    match op.return_ns {
        Some(r) => format!(
            "[{:>10.3} .. {:>10.3} ms] c{} {what}",
            ms(op.call_ns),
            ms(r),
            op.client
        ),
        None => format!(
            "[{:>10.3} .. {:>10} ms] c{} {what} (outcome unknown)",
            ms(op.call_ns),
            "?",
            op.client
        ),
    }
}

// ---------------------------------------------------------------------------------------
// The checker's own tests: hand-made histories on one key `k`, times in ns.

/// An operation of client 0 on `k` from `call` to `ret` (`None`: unknown).
fn op(call: u64, ret: Option<u64>, effect: Effect) -> Op {
    Op {
        client: 0,
        key: "k".into(),
        call_ns: call,
        return_ns: ret,
        effect,
    }
}

fn read(call: u64, ret: u64, v: Option<&str>) -> Op {
    op(call, Some(ret), Effect::Read(v.map(String::from)))
}

fn write(call: u64, ret: Option<u64>, v: &str) -> Op {
    op(call, ret, Effect::Write(v.into()))
}

fn swap(call: u64, ret: Option<u64>, expect: &str, new: &str) -> Op {
    let (expect, new) = (expect.into(), new.into());
    op(call, ret, Effect::Swap { expect, new })
}

fn no_swap(call: u64, ret: u64, expect: &str, current: Option<&str>) -> Op {
    let (expect, current) = (expect.into(), current.map(String::from));
    op(call, Some(ret), Effect::NoSwap { expect, current })
}

fn fails(history: &[Op]) -> String {
    match check(history, STATES_MAX) {
        Ok(_) => panic!("passed, but is not linearizable: {history:#?}"),
        Err(why) => why,
    }
}

#[test]
fn checker_passes_sequential_histories() {
    let history = [
        read(0, 1, None),
        write(2, Some(3), "a"),
        read(4, 5, Some("a")),
        swap(6, Some(7), "a", "b"),
        no_swap(8, 9, "a", Some("b")),
        read(10, 11, Some("b")),
        write(12, Some(13), "c"),
    ];
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
    check(&[], STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn checker_fails_a_stale_read_after_a_completed_write() {
    let why = fails(&[
        write(0, Some(1), "a"),
        write(2, Some(3), "b"),
        read(4, 5, Some("a")),
    ]);
    assert!(why.contains("key `k` is not linearizable"), "{why}");
    assert!(why.contains("read -> \"a\""), "{why}");
    eprintln!("{why}");
}

#[test]
fn checker_passes_an_overlapping_write_and_read_either_way() {
    for seen in ["a", "b"] {
        let history = [
            write(0, Some(1), "a"),
            write(2, Some(6), "b"),
            read(3, 5, Some(seen)),
        ];
        check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{seen}: {e}"));
    }
    // A read overlapping two writes sees either, in either order.
    let history = [
        write(0, Some(10), "a"),
        write(1, Some(10), "b"),
        read(2, 3, Some("b")),
        read(4, 12, Some("a")),
    ];
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn checker_fails_impossible_swaps() {
    // The value was `b`, not `a`, when the swap ran.
    fails(&[
        write(0, Some(1), "a"),
        write(2, Some(3), "b"),
        swap(4, Some(5), "a", "c"),
    ]);
    // Two swaps from `a` cannot both succeed.
    fails(&[
        write(0, Some(1), "a"),
        swap(2, Some(5), "a", "b"),
        swap(2, Some(5), "a", "c"),
    ]);
    // A refused swap saw `a`, which it expected.
    fails(&[write(0, Some(1), "a"), no_swap(2, 3, "a", Some("a"))]);
    // Overlapping, the two swaps can run one after the other.
    let history = [
        write(0, Some(1), "a"),
        swap(2, Some(5), "a", "b"),
        swap(2, Some(5), "b", "c"),
        read(6, 7, Some("c")),
    ];
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn checker_passes_an_unknown_write_that_a_later_read_sees() {
    let history = [
        write(0, Some(1), "a"),
        write(2, None, "b"),
        read(3, 4, Some("a")),
        read(10, 11, Some("b")),
        read(12, 13, Some("b")),
    ];
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
    // So does an unknown swap.
    let history = [
        write(0, Some(1), "a"),
        swap(2, None, "a", "b"),
        read(10, 11, Some("b")),
    ];
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
    // But not before it was sent, nor going back once seen.
    fails(&[read(0, 1, Some("b")), write(2, None, "b")]);
    fails(&[
        write(0, Some(1), "a"),
        write(2, None, "b"),
        read(3, 4, Some("b")),
        read(5, 6, Some("a")),
    ]);
}

#[test]
fn checker_passes_an_unknown_write_never_observed() {
    let history = [
        write(0, Some(1), "a"),
        write(2, None, "b"),
        swap(3, None, "b", "c"),
        read(3, 4, Some("a")),
        read(20, 21, Some("a")),
    ];
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn checker_fails_reads_whose_order_contradicts_real_time() {
    let why = fails(&[
        write(0, Some(1), "a"),
        write(2, Some(10), "b"),
        read(3, 4, Some("b")),
        read(5, 6, Some("a")),
    ]);
    assert!(why.contains("the operations invoked around it"), "{why}");
}

#[test]
fn checker_keeps_keys_apart_and_names_the_bad_one() {
    let mut history = vec![write(0, Some(1), "a"), read(2, 3, Some("a"))];
    let mut other = write(0, Some(1), "a");
    other.key = "j".into();
    history.push(other);
    check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
    let mut stale = read(4, 5, None);
    stale.key = "j".into();
    history.push(stale);
    let why = fails(&history);
    assert!(why.starts_with("key `j` is not linearizable"), "{why}");
}

/// A xorshift64* generator: the test needs varied, repeatable choices, not good randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A history of `clients` clients doing `ops` operations on a real register: each takes
/// effect at a point inside its interval; one write in `unknown_in` is unknown, and half
/// of those never take effect.
fn simulated(clients: usize, ops: usize, unknown_in: u64, seed: u64) -> Vec<Op> {
    let mut rng = Rng(seed);
    let mut free_at = vec![0u64; clients];
    // (effect point, op index, effect as sent, unknown).
    let mut planned = Vec::new();
    for i in 0..ops {
        let client = rng.below(clients as u64) as usize;
        let call = free_at[client] + rng.below(50);
        let ret = call + 1 + rng.below(400);
        free_at[client] = ret + 1;
        let point = call + rng.below(ret - call + 1);
        planned.push((
            point,
            i,
            client,
            call,
            ret,
            rng.below(3),
            rng.below(unknown_in) == 0,
        ));
    }
    planned.sort();
    let mut value: Option<String> = None;
    let mut history = Vec::new();
    for (_, i, client, call, ret, kind, unknown) in planned {
        let mut effect = match (kind, &value) {
            (0, _) => Effect::Read(value.clone()),
            (1, Some(current)) if i % 2 == 0 => Effect::Swap {
                expect: current.clone(),
                new: format!("v{i}"),
            },
            (1, Some(current)) => Effect::NoSwap {
                expect: format!("v{}", i + 1_000_000),
                current: Some(current.clone()),
            },
            _ => Effect::Write(format!("v{i}")),
        };
        let unknown = unknown && matches!(effect, Effect::Write(_));
        if unknown && rng.below(2) == 0 {
            effect = Effect::Write(format!("lost{i}"));
        } else if let Effect::Write(v) | Effect::Swap { new: v, .. } = &effect {
            value = Some(v.clone());
        }
        let return_ns = (!unknown).then_some(ret);
        history.push(Op {
            client,
            key: "k".into(),
            call_ns: call,
            return_ns,
            effect,
        });
    }
    history
}

#[test]
fn checker_decides_long_simulated_histories_in_bounded_time() {
    for seed in 1..=4 {
        let history = simulated(6, 3000, 40, seed);
        let started = Instant::now();
        let states = check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "seed {seed}: {} operations, {states} states, {:?}",
            history.len(),
            started.elapsed()
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    // A bound too small to decide in: a clear refusal, not a hang.
    let history = simulated(6, 500, 10, 9);
    let why = check(&history, 10).expect_err("cannot be decided in 10 states");
    assert!(why.contains("gave up after"), "{why}");
}

#[test]
fn checker_finds_a_stale_read_in_a_long_history() {
    let mut history = simulated(6, 2000, 40, 7);
    // Make a late read answer the first value written: long overwritten by then.
    let first = history
        .iter()
        .find_map(|op| match (&op.effect, op.return_ns) {
            (Effect::Write(v), Some(_)) => Some(v.clone()),
            _ => None,
        })
        .expect("a write");
    let late = history
        .iter()
        .rposition(|op| matches!(op.effect, Effect::Read(Some(ref v)) if *v != first))
        .expect("a read");
    history[late].effect = Effect::Read(Some(first));
    let why = fails(&history);
    eprintln!("{why}");
}

/// Whether some order of `ops` fits a register, trying every order and every subset of
/// the unknown ones: the definition, for small histories.
fn brute_force(ops: &[Op], placed: &mut [bool], value: Option<&str>) -> bool {
    let unplaced = |placed: &[bool], j: usize| !placed[j] && ops[j].return_ns.is_some();
    if !(0..ops.len()).any(|j| unplaced(placed, j)) {
        return true;
    }
    for i in 0..ops.len() {
        // `i` may go next when every unplaced answered operation returned after its call.
        let blocked = (0..ops.len())
            .any(|j| j != i && unplaced(placed, j) && ops[j].return_ns < Some(ops[i].call_ns));
        if placed[i] || blocked {
            continue;
        }
        let after = match &ops[i].effect {
            Effect::Read(v) => (v.as_deref() == value).then_some(value),
            Effect::Write(v) => Some(Some(v.as_str())),
            Effect::Swap { expect, new } => {
                (Some(expect.as_str()) == value).then_some(Some(new.as_str()))
            }
            Effect::NoSwap { expect, current } => {
                (Some(expect.as_str()) != value && current.as_deref() == value).then_some(value)
            }
        };
        if let Some(after) = after {
            placed[i] = true;
            if brute_force(ops, placed, after) {
                return true;
            }
            placed[i] = false;
        }
    }
    false
}

#[test]
fn checker_agrees_with_brute_force_on_small_histories() {
    let mut rng = Rng(42);
    let values = [None, Some("a"), Some("b"), Some("c")];
    let value = |rng: &mut Rng| values[rng.below(4) as usize].map(String::from);
    let some = |v: Option<String>| v.unwrap_or_else(|| "a".into());
    let mut verdicts = [0, 0];
    for _ in 0..5000 {
        let history: Vec<Op> = (0..1 + rng.below(7))
            .map(|_| {
                let call = rng.below(20);
                let mut ret = Some(call + rng.below(10));
                let effect = match rng.below(4) {
                    0 => Effect::Read(value(&mut rng)),
                    1 => Effect::Write(some(value(&mut rng))),
                    2 => Effect::Swap {
                        expect: some(value(&mut rng)),
                        new: some(value(&mut rng)),
                    },
                    _ => Effect::NoSwap {
                        expect: some(value(&mut rng)),
                        current: value(&mut rng),
                    },
                };
                if matches!(effect, Effect::Write(_) | Effect::Swap { .. }) && rng.below(4) == 0 {
                    ret = None;
                }
                op(call, ret, effect)
            })
            .collect();
        let expected = brute_force(&history, &mut vec![false; history.len()], None);
        let got = check(&history, STATES_MAX).is_ok();
        assert_eq!(got, expected, "{history:#?}");
        verdicts[usize::from(got)] += 1;
    }
    eprintln!(
        "{} not linearizable, {} linearizable",
        verdicts[0], verdicts[1]
    );
    assert!(verdicts.iter().all(|&n| n > 500), "{verdicts:?}");
}

// ---------------------------------------------------------------------------------------
// The process test: a 3-node cluster on loopback, 6 clients, the leader killed and
// restarted.

/// How many clients run, each bound to member `client % 3 + 1`.
const CLIENTS: usize = 6;

/// The keys the clients share.
const KEYS: [&str; 3] = ["lin-x", "lin-y", "lin-z"];

/// The clients' HTTP timeout: past it, a write's outcome is unknown.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long after the clients start the leader is killed, and how long it stays down.
const KILL_AFTER: Duration = Duration::from_secs(2);
const DOWN_FOR: Duration = Duration::from_millis(1500);

/// How long the clients run at least, at least after the restart, and at most (a slow
/// restart stretches the run so that operations go through the restarted member too).
const RUN_MIN: Duration = Duration::from_secs(8);
const RUN_AFTER_RESTART_MIN: Duration = Duration::from_secs(2);
const RUN_MAX: Duration = Duration::from_secs(25);

/// How long the test looks for the leader before it gives up.
const LEADER_WAIT_MAX: Duration = Duration::from_secs(5);

/// How long a client pauses after a request that got no answer, so that clients of a
/// node that is down do not spin.
const UNANSWERED_PAUSE: Duration = Duration::from_millis(50);

/// How many values a client remembers per key, to expect in a swap.
const SEEN_MAX: usize = 3;

/// The cluster's directory; kills (SIGKILL) every node pid recorded there when dropped,
/// however the test ends (a restarted node records its new pid).
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn node_file(&self, id: usize, name: &str) -> Option<String> {
        let path = self.dir.join(format!("node-{id}")).join(name);
        Some(std::fs::read_to_string(path).ok()?.trim().to_string())
    }

    fn url(&self, id: usize) -> String {
        self.node_file(id, "url").expect("the node's url file")
    }

    fn pid(&self, id: usize) -> Option<i32> {
        self.node_file(id, "pid")?.parse().ok()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for pid in (1..=3).filter_map(|id| self.pid(id)) {
            // SAFETY: a plain signal to a pid this test's cluster recorded.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Tells the clients to stop when dropped, so a failing test leaves none running.
struct Stop(Arc<AtomicBool>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What one client recorded.
#[derive(Default)]
struct Log {
    ops: Vec<Op>,
    /// Reads that got no answer (left out of the history).
    reads_lost: usize,
    /// Requests that failed to connect (their node was down), recorded as unknown.
    refused: usize,
    /// Answers the API does not give: a bug of the node or of this test.
    odd: Vec<String>,
}

/// One client's loop: random reads, writes and swaps over [`KEYS`] through `base` until
/// `stop`.
fn run_client(client: usize, base: String, origin: Instant, stop: Arc<AtomicBool>) -> Log {
    let http = reqwest::blocking::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("an HTTP client");
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ (client as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut seen: HashMap<&str, Vec<String>> = HashMap::new();
    let mut log = Log::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let key = KEYS[rng.below(KEYS.len() as u64) as usize];
        let url = format!("{base}/api/v1/store/{key}");
        let known = seen.get(key).filter(|s| !s.is_empty());
        n += 1;
        let new = format!("c{client}-{n}");
        let roll = rng.below(10);
        let call_ns = at(origin);
        let (effect, answered) = if roll < 4 {
            match read_once(&http, &url, &mut log) {
                Some(value) => (Effect::Read(value), true),
                None => {
                    std::thread::sleep(UNANSWERED_PAUSE);
                    continue;
                }
            }
        } else if roll < 7 || known.is_none() {
            (
                Effect::Write(new.clone()),
                write_once(&http, &url, new, &mut log),
            )
        } else {
            let known = known.expect("checked above");
            // Mostly the last value seen; now and then an older one, to be refused.
            let expect = if rng.below(4) == 0 {
                known[rng.below(known.len() as u64) as usize].clone()
            } else {
                known[known.len() - 1].clone()
            };
            match swap_once(&http, &url, expect, new, &mut log) {
                Some(done) => done,
                None => continue,
            }
        };
        let return_ns = answered.then(|| at(origin));
        if !answered {
            std::thread::sleep(UNANSWERED_PAUSE);
        }
        let observed = match &effect {
            _ if !answered => None,
            Effect::Read(v) | Effect::NoSwap { current: v, .. } => v.clone(),
            Effect::Write(v) | Effect::Swap { new: v, .. } => Some(v.clone()),
        };
        if let Some(v) = observed {
            let values = seen.entry(key).or_default();
            values.push(v);
            if values.len() > SEEN_MAX {
                values.remove(0);
            }
        }
        let key = key.to_string();
        log.ops.push(Op {
            client,
            key,
            call_ns,
            return_ns,
            effect,
        });
    }
    log
}

/// ns since `origin`.
fn at(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_nanos()).expect("a test shorter than 584 years")
}

/// A read's value (`None`: no such key), or nothing when it got no answer.
fn read_once(http: &reqwest::blocking::Client, url: &str, log: &mut Log) -> Option<Option<String>> {
    let Ok(got) = http.get(url).send() else {
        log.reads_lost += 1;
        return None;
    };
    let status = got.status().as_u16();
    let json = got.json::<Value>();
    match (status, json) {
        (404, _) => Some(None),
        (200, Ok(json)) if json["value"].is_string() => {
            json["value"].as_str().map(|v| Some(v.to_string()))
        }
        (200 | 503, _) => {
            log.reads_lost += 1;
            None
        }
        (status, json) => {
            log.odd.push(format!("a read answered {status}: {json:?}"));
            None
        }
    }
}

/// Writes `new`: whether it was answered (else its outcome is unknown).
fn write_once(http: &reqwest::blocking::Client, url: &str, new: String, log: &mut Log) -> bool {
    match answer(http.put(url).body(new).send(), log) {
        Answer::Ok(_) => true,
        Answer::Refused(json) => {
            log.odd.push(format!("a plain write was refused: {json}"));
            false
        }
        Answer::Unknown => false,
    }
}

/// Swaps `expect` for `new`: what it did and whether it was answered, or nothing when
/// its answer makes no sense (then it wrote nothing).
fn swap_once(
    http: &reqwest::blocking::Client,
    url: &str,
    expect: String,
    new: String,
    log: &mut Log,
) -> Option<(Effect, bool)> {
    let sent = http
        .put(format!("{url}?if_value={}", percent(&expect)))
        .body(new.clone())
        .send();
    Some(match answer(sent, log) {
        Answer::Ok(json) if json["succeeded"] == true => (Effect::Swap { expect, new }, true),
        Answer::Refused(json) if json["succeeded"] == false => {
            let current = match json.get("current") {
                Some(Value::Null) => None,
                Some(kv) if kv["value"].is_string() => kv["value"].as_str().map(String::from),
                _ => {
                    log.odd.push(format!("a refused swap said {json}"));
                    return None;
                }
            };
            (Effect::NoSwap { expect, current }, true)
        }
        Answer::Ok(json) | Answer::Refused(json) => {
            log.odd.push(format!("a swap said {json}"));
            (Effect::Swap { expect, new }, false)
        }
        Answer::Unknown => (Effect::Swap { expect, new }, false),
    })
}

/// How a write or swap ended, as far as its client can tell.
enum Answer {
    /// 200, with its body (null if it did not parse).
    Ok(Value),
    /// 409, with its body.
    Refused(Value),
    /// A timeout, a cut connection, a 503 or an answer the API does not give: it may
    /// have taken effect or not.
    Unknown,
}

fn answer(sent: reqwest::Result<reqwest::blocking::Response>, log: &mut Log) -> Answer {
    let got = match sent {
        Ok(got) => got,
        Err(e) => {
            log.refused += usize::from(e.is_connect());
            return Answer::Unknown;
        }
    };
    let status = got.status().as_u16();
    let json = got.json::<Value>().unwrap_or(Value::Null);
    match status {
        200 => Answer::Ok(json),
        409 => Answer::Refused(json),
        503 => Answer::Unknown,
        _ => {
            log.odd.push(format!("a write answered {status}: {json}"));
            Answer::Unknown
        }
    }
}

/// `text` percent-encoded for a query parameter.
fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Kills the leader (SIGKILL), waits [`DOWN_FOR`] and brings it back with `weft cluster
/// up`: the leader's id, and when `up` returned (ns since `origin`).
fn kill_and_restart_leader(cluster: &Cluster, urls: &[String], origin: Instant) -> (usize, u64) {
    let killed = leader(urls);
    let pid = cluster.pid(killed).expect("the leader's pid");
    // SAFETY: a plain signal to the pid the cluster recorded for its leader.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let killed_ns = at(origin);
    std::thread::sleep(DOWN_FOR);
    let again = weft(&["cluster", "up", "--nodes", "3", "--dir", path(&cluster.dir)]);
    let restarted_ns = at(origin);
    eprintln!(
        "killed node-{killed} (pid {pid}) at {:.3} s; `cluster up` brought it back by {:.3} s",
        killed_ns as f64 / 1e9,
        restarted_ns as f64 / 1e9
    );
    assert!(
        again.status.success(),
        "restarting: {}",
        text(&again.stderr)
    );
    (killed, restarted_ns)
}

/// The member that leads, as the first member that answers says.
fn leader(urls: &[String]) -> usize {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("an HTTP client");
    let until = Instant::now() + LEADER_WAIT_MAX;
    while Instant::now() < until {
        for url in urls {
            let got = http.get(format!("{url}/api/v1/nodes")).send();
            let Ok(Value::Array(rows)) = got.and_then(|r| r.json::<Value>()) else {
                continue;
            };
            if let Some(id) = rows
                .iter()
                .find(|r| r["role"] == "leader")
                .and_then(|r| r["id"].as_u64())
            {
                return usize::try_from(id).expect("a small id");
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no member named a leader within {LEADER_WAIT_MAX:?}");
}

#[test]
fn reads_writes_and_swaps_stay_linearizable_while_the_leader_restarts() {
    let started = Instant::now();
    let dir = scratch_dir("weft-linearizable", "three");
    let cluster = Cluster { dir: dir.clone() };
    let up = weft(&["cluster", "up", "--nodes", "3", "--dir", path(&dir)]);
    assert!(up.status.success(), "{}", text(&up.stderr));
    eprintln!("cluster up: {:?}", started.elapsed());
    let urls: Vec<String> = (1..=3).map(|id| cluster.url(id)).collect();

    let stop = Stop(Arc::new(AtomicBool::new(false)));
    let origin = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (url, stop) = (urls[c % 3].clone(), stop.0.clone());
            std::thread::spawn(move || run_client(c, url, origin, stop))
        })
        .collect();

    std::thread::sleep(KILL_AFTER);
    let (killed, restarted_ns) = kill_and_restart_leader(&cluster, &urls, origin);
    let end = (origin + RUN_MIN)
        .max(Instant::now() + RUN_AFTER_RESTART_MIN)
        .min(origin + RUN_MAX);
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    stop.0.store(true, Ordering::Relaxed);
    let logs: Vec<Log> = clients
        .into_iter()
        .map(|c| c.join().expect("a client panicked"))
        .collect();

    let odd: Vec<&String> = logs.iter().flat_map(|l| &l.odd).collect();
    assert!(odd.is_empty(), "answers the API does not give: {odd:#?}");
    let history: Vec<Op> = logs.iter().flat_map(|l| l.ops.iter().cloned()).collect();
    print_summary(&history, &logs);
    let checking = Instant::now();
    let states = check(&history, STATES_MAX).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("checked in {:?} ({states} states)", checking.elapsed());

    let ok = history.iter().filter(|op| op.return_ns.is_some()).count();
    assert!(ok > 200, "only {ok} operations succeeded");
    let after: Vec<&Op> = history
        .iter()
        .filter(|op| op.return_ns.is_some() && op.call_ns > restarted_ns)
        .collect();
    let through_restarted = after
        .iter()
        .filter(|op| op.client % 3 + 1 == killed)
        .count();
    eprintln!(
        "after the restart: {} succeeded, {through_restarted} through node-{killed}",
        after.len()
    );
    assert!(!after.is_empty(), "nothing succeeded after the restart");
    assert!(
        through_restarted > 0,
        "nothing went through the restarted node-{killed}"
    );
    eprintln!("the whole test: {:?}", started.elapsed());
}

/// Prints how many operations of each kind were answered and unknown, and the longest
/// time no client got an answer.
fn print_summary(history: &[Op], logs: &[Log]) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for op in history {
        let kind = match (&op.effect, op.return_ns.is_some()) {
            (Effect::Read(_), _) => "read ok",
            (Effect::Write(_), true) => "write ok",
            (Effect::Write(_), false) => "write unknown",
            (Effect::Swap { .. }, true) => "cas swapped",
            (Effect::Swap { .. }, false) => "cas unknown",
            (Effect::NoSwap { .. }, _) => "cas refused",
        };
        *counts.entry(kind).or_default() += 1;
    }
    let lost: usize = logs.iter().map(|l| l.reads_lost).sum();
    let refused: usize = logs.iter().map(|l| l.refused).sum();
    eprintln!(
        "{} operations: {counts:?}; reads without an answer (left out): {lost}; writes \
         not connected (unknown): {refused}",
        history.len()
    );
    let mut returns: Vec<u64> = history.iter().filter_map(|op| op.return_ns).collect();
    returns.sort_unstable();
    let stall_ns = returns.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    eprintln!(
        "the longest time with no answer to any client: {:.3} s",
        stall_ns as f64 / 1e9
    );
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}
