//! Random command sequences, checked three ways against the store's own current state:
//! reads at every kept revision from history agree with the state recorded when that
//! revision was current, replaying watch events over a kept state reproduces every later
//! one, and applying the same commands in batches of any size to another store gives the
//! same replies and the same bytes (the determinism raft needs).

use crate::support::*;
use std::collections::BTreeMap;
use weft_resources::{
    Command, Compare, CompareOp, Event, EventKind, KeyValue, Keys, LeaseId, Op, Rejection, Reply,
    Store,
};

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn key(&mut self) -> Vec<u8> {
        let dirs = ["a/", "b/", "a/x/", ""];
        let dir = dirs[self.below(dirs.len() as u64) as usize];
        format!("{dir}{}", self.below(4)).into_bytes()
    }
}

type State = BTreeMap<Vec<u8>, KeyValue>;

fn random_command(rng: &mut Rng, store: &Store, clock_ms: &mut u64) -> Command {
    let lease = |rng: &mut Rng| LeaseId(1 + rng.below(6));
    match rng.below(21) {
        0..=6 => Command::Put {
            key: rng.key(),
            value: rng.next().to_string().into_bytes(),
            lease: (rng.below(3) == 0).then(|| lease(rng)),
            prev_kv: rng.below(2) == 0,
        },
        7 => Command::delete(rng.key()),
        8 => Command::Delete {
            keys: Keys::Prefix(if rng.below(2) == 0 {
                b"a/".to_vec()
            } else {
                b"b/".to_vec()
            }),
            prev_kv: true,
        },
        9..=11 => {
            let key = rng.key();
            let seen = store
                .get(&key, None)
                .ok()
                .flatten()
                .map_or(0, |kv| kv.mod_revision);
            let seen = if rng.below(3) == 0 { seen + 1 } else { seen };
            Command::Txn {
                compare: vec![Compare::mod_revision(key.clone(), CompareOp::Equal, seen)],
                success: vec![
                    Op::Put {
                        key,
                        value: b"swapped".to_vec(),
                        lease: None,
                        prev_kv: true,
                    },
                    Op::Delete {
                        keys: Keys::One(rng.key()),
                        prev_kv: false,
                    },
                ],
                failure: vec![Op::Get {
                    keys: Keys::Prefix(Vec::new()),
                    limit: Some(3),
                }],
            }
        }
        12 => Command::LeaseGrant {
            id: (rng.below(2) == 0).then(|| lease(rng)),
            ttl_ms: 100 + rng.below(400),
        },
        13 => Command::LeaseKeepAlive { id: lease(rng) },
        14 => Command::LeaseRevoke { id: lease(rng) },
        15..=17 => {
            *clock_ms += rng.below(200);
            Command::LeaseExpire { now_ms: *clock_ms }
        }
        18 => Command::LeaseRestart,
        _ => {
            let (compacted, revision) = (store.compacted(), store.revision());
            let span = revision.saturating_sub(compacted).max(1);
            Command::Compact {
                revision: compacted + 1 + rng.below(span),
            }
        }
    }
}

fn current(store: &Store) -> State {
    let all = store.range(b"", None, None).unwrap();
    all.kvs.into_iter().map(|kv| (kv.key.clone(), kv)).collect()
}

fn fold(state: &mut State, event: &Event) {
    match event.kind {
        EventKind::Put => {
            state.insert(event.kv.key.clone(), event.kv.clone());
        }
        EventKind::Delete => {
            state.remove(&event.kv.key);
        }
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let a = fresh();
    let b = fresh();
    let mut states: Vec<State> = vec![State::new()];
    let mut clock_ms = 0;
    let mut commands = Vec::new();
    let mut replies: Vec<Result<Reply, Rejection>> = Vec::new();
    for _ in 0..steps {
        let command = random_command(&mut rng, &a.store, &mut clock_ms);
        let reply = match a.store.apply(&command) {
            Ok(reply) => Ok(reply),
            Err(weft_resources::StoreError::Rejected(r)) => Err(r),
            Err(e) => panic!("{command:?}: {e}"),
        };
        replies.push(reply);
        commands.push(command);
        let revision = a.store.revision() as usize;
        if revision == states.len() {
            states.push(current(&a.store));
        }
        assert_eq!(
            states.len(),
            revision + 1,
            "one revision per changing command"
        );
    }
    let compacted = a.store.compacted();
    let last = a.store.revision();
    for at in compacted..=last {
        let from_history = a.store.range(b"", Some(at), None).unwrap();
        let expected: Vec<KeyValue> = states[at as usize].values().cloned().collect();
        assert_eq!(from_history.kvs, expected, "seed {seed} at {at}");
        for key in [&b"a/1"[..], b"b/2", b"3"] {
            let got = a.store.get(key, Some(at)).unwrap();
            assert_eq!(
                got.as_ref(),
                states[at as usize].get(key),
                "seed {seed} at {at}"
            );
        }
        let under_a = a.store.range(b"a/", Some(at), Some(2)).unwrap();
        let expected: Vec<KeyValue> = states[at as usize]
            .iter()
            .filter(|(k, _)| k.starts_with(b"a/"))
            .map(|(_, kv)| kv.clone())
            .take(2)
            .collect();
        assert_eq!(under_a.kvs, expected, "seed {seed} at {at}");
    }
    // Replaying the watch from the compaction point over the state before it.
    let start = compacted.max(1);
    let mut replayed = states[start as usize - 1].clone();
    let events = drain(&a.store.watch(b"", start).unwrap());
    for event in &events {
        let before = &states[event.revision() as usize - 1];
        assert_eq!(
            event.prev_kv.as_ref(),
            before.get(&event.kv.key),
            "seed {seed}"
        );
        fold(&mut replayed, event);
    }
    assert_eq!(replayed, states[last as usize], "seed {seed}");
    // The same commands in batches of random sizes: same replies, same bytes.
    let mut rest = commands.as_slice();
    let mut batched = Vec::new();
    while !rest.is_empty() {
        let n = (1 + rng.below(16) as usize).min(rest.len());
        batched.extend(b.store.apply_batch(&rest[..n]).unwrap());
        rest = &rest[n..];
    }
    assert_eq!(batched, replies, "seed {seed}");
    assert_eq!(
        b.store.snapshot().unwrap(),
        a.store.snapshot().unwrap(),
        "seed {seed}"
    );
}

#[test]
fn random_histories_agree_with_themselves_and_replay_deterministically() {
    for seed in 1..=12u64 {
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1, 400);
    }
}
