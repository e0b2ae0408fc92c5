//! `QueueService<T>` on cubestore: each message a key under the queue's prefix, taken with
//! a compare-and-swap that hides it for the visibility timeout, acknowledged by deleting
//! it, delivered again when the timeout passes unacknowledged, and moved to the
//! dead-letter prefix once it has been taken `attempts` times without an acknowledgement.
//!
//! A [`Receiver`] (one replica's end of a queue) takes several messages per store round
//! trip: one read finds the visible messages, and one compare-and-swap takes a batch of
//! them; each is then handled and acknowledged on its own. Messages a receiver took and
//! does not handle go back ([`Receiver::release`]), or come again after the visibility
//! timeout as any unacknowledged message does, so delivery stays at least once.

use super::{data_prefix, now_ms, Kv, Record};
use crate::{Command, Compare, CompareOp, KeyValue, Keys, Op, Outcome};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many messages one receive looks at for one that is visible.
const SCAN_MAX: usize = 256;
/// The most messages one take hands a receiver.
pub const BATCH_MAX: usize = 32;
/// The handling time each message of a batch is allowed within the visibility timeout:
/// a batch is at most `visibility / HANDLING_BUDGET_MS` messages, so that none of them
/// comes again while it waits its turn.
const HANDLING_BUDGET_MS: u64 = 100;
/// How many times one take reads the queue again after losing a race for a message.
const TAKE_TRIES_MAX: usize = 4;

/// A taken message's proof: its key and the revision that took it. Acknowledging with a
/// stale receipt (the message was delivered again meanwhile) does nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The message's key.
    pub key: Vec<u8>,
    /// The revision of the write that took it.
    pub revision: u64,
}

impl Receipt {
    /// The receipt as bytes: the revision (little-endian), then the key.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.revision.to_le_bytes().to_vec();
        bytes.extend_from_slice(&self.key);
        bytes
    }

    /// The receipt of [`Receipt::to_bytes`]'s bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Receipt, String> {
        let revision = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or("a receipt cut short")?;
        Ok(Receipt {
            key: bytes[8..].to_vec(),
            revision,
        })
    }
}

/// Where a queue's messages are, by its handle.
pub fn messages(handle: &str) -> Vec<u8> {
    let mut p = data_prefix(handle);
    p.extend_from_slice(b"m/");
    p
}

/// Where a queue's dead letters are, by its handle.
pub fn dead(handle: &str) -> Vec<u8> {
    let mut p = data_prefix(handle);
    p.extend_from_slice(b"dead/");
    p
}

/// A message's stored form: when it is visible again, how many times it was taken, and
/// its wire bytes.
fn encode(visible_ms: u64, attempts: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(12 + body.len());
    v.extend_from_slice(&visible_ms.to_le_bytes());
    v.extend_from_slice(&attempts.to_le_bytes());
    v.extend_from_slice(body);
    v
}

fn decode(v: &[u8]) -> Option<(u64, u32, &[u8])> {
    let visible = u64::from_le_bytes(v.get(..8)?.try_into().ok()?);
    let attempts = u32::from_le_bytes(v.get(8..12)?.try_into().ok()?);
    Some((visible, attempts, &v[12..]))
}

/// A new message id: ordered by time, then by a per-process counter; unique across
/// processes by the process id and a clock reading in nanoseconds.
fn message_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{:016x}{:010x}{:08x}{:08x}",
        now_ms(),
        n,
        std::process::id(),
        nanos
    )
}

/// The write that enqueues `body` (the message's wire bytes).
pub fn send(handle: &str, body: &[u8]) -> Op {
    let mut key = messages(handle);
    key.extend_from_slice(message_id().as_bytes());
    Op::Put {
        key,
        value: encode(0, 0, body),
        lease: None,
        prev_kv: false,
    }
}

fn setting(record: &Record, name: &str, default: i64) -> i64 {
    record
        .settings
        .iter()
        .find(|(n, _)| n == name)
        .map_or(default, |(_, v)| *v)
}

/// Takes the oldest visible message: its bytes and receipt, or `None` when there is none.
pub fn receive(kv: &dyn Kv, record: &Record) -> Result<Option<(Vec<u8>, Receipt)>, String> {
    let handle = record.handle();
    let (waiting, dead_letters) = (messages(&handle), dead(&handle));
    let attempts_max = setting(record, "attempts", 5).max(1) as u32;
    let visibility_ms = visibility_ms(record);
    loop {
        let now = now_ms();
        let mut raced = false;
        for pair in kv.range(&waiting, Some(SCAN_MAX))? {
            let Some((visible, attempts, body)) = decode(&pair.value) else {
                continue;
            };
            if visible > now {
                continue;
            }
            let unchanged =
                Compare::mod_revision(pair.key.clone(), CompareOp::Equal, pair.mod_revision);
            if attempts >= attempts_max {
                // Taken `attempts_max` times and never acknowledged: a dead letter.
                bury(kv, &waiting, &dead_letters, &pair)?;
                continue;
            }
            let reply = kv.write(Command::Txn {
                compare: vec![unchanged],
                success: vec![Op::Put {
                    key: pair.key.clone(),
                    value: encode(now + visibility_ms, attempts + 1, body),
                    lease: None,
                    prev_kv: false,
                }],
                failure: vec![],
            })?;
            if matches!(&reply.outcome, Outcome::Txn(t) if t.succeeded) {
                let receipt = Receipt {
                    key: pair.key,
                    revision: reply.revision,
                };
                return Ok(Some((body.to_vec(), receipt)));
            }
            // Someone else took it first: look again from the start.
            raced = true;
            break;
        }
        if !raced {
            return Ok(None);
        }
    }
}

/// A message a [`Receiver`] took: its wire bytes and receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    /// The message's wire bytes.
    pub body: Vec<u8>,
    /// What acknowledges it.
    pub receipt: Receipt,
    /// How many times it had been taken before, to put back on [`Receiver::release`].
    attempts: u32,
}

/// One replica's end of a queue (see the module's description). The replicas of one
/// Cell split the messages into lanes by a hash of their ids: each takes a batch from
/// its own lane, oldest first, and only when its lane is empty one message from the
/// others', newest first, so that two replicas seldom race for one message.
pub struct Receiver {
    waiting: Vec<u8>,
    dead_letters: Vec<u8>,
    attempts_max: u32,
    visibility_ms: u64,
    batch_max: usize,
    lane: u64,
    lanes: u64,
    /// The visible messages the last read found that no take has tried since, taken
    /// from before reading again: a take compares each one's revision, so a message
    /// changed meanwhile only fails that take.
    seen: Vec<KeyValue>,
}

impl Receiver {
    /// The receiving end of `record`'s queue for replica `lane` of `lanes`.
    pub fn new(record: &Record, lane: u32, lanes: u32) -> Receiver {
        let handle = record.handle();
        let visibility_ms = visibility_ms(record);
        let lanes = u64::from(lanes.max(1));
        Receiver {
            waiting: messages(&handle),
            dead_letters: dead(&handle),
            attempts_max: setting(record, "attempts", 5).max(1) as u32,
            visibility_ms,
            batch_max: ((visibility_ms / HANDLING_BUDGET_MS) as usize).clamp(1, BATCH_MAX),
            lane: u64::from(lane) % lanes,
            lanes,
            seen: vec![],
        }
    }

    /// The most messages one take hands out.
    pub fn batch_max(&self) -> usize {
        self.batch_max
    }

    /// Takes a batch of visible messages (at most [`Receiver::batch_max`]), or none
    /// when there is none. Reads the queue only when the last read's messages of this
    /// receiver's lane are all tried; takes from other lanes only what a fresh read
    /// found.
    pub fn take(&mut self, kv: &dyn Kv) -> Result<Vec<Taken>, String> {
        for _ in 0..TAKE_TRIES_MAX {
            if !self.seen.iter().any(|p| self.mine(&p.key)) {
                self.read(kv)?;
            }
            let picked = self.pick();
            if picked.is_empty() {
                return Ok(vec![]);
            }
            if let Some(taken) = self.take_batch(kv, picked)? {
                return Ok(taken);
            }
            // Another replica took one of them first: read again.
            self.seen.clear();
        }
        Ok(vec![])
    }

    /// Whether the message at `key` is in this receiver's lane.
    fn mine(&self, key: &[u8]) -> bool {
        fnv1a(key) % self.lanes == self.lane
    }

    /// Reads the oldest messages, keeping the visible ones; those taken `attempts`
    /// times and never acknowledged move to the dead letters.
    fn read(&mut self, kv: &dyn Kv) -> Result<(), String> {
        let now = now_ms();
        self.seen.clear();
        for pair in kv.range(&self.waiting, Some(SCAN_MAX))? {
            let Some((visible, attempts, _)) = decode(&pair.value) else {
                continue;
            };
            if visible > now {
                continue;
            }
            if attempts >= self.attempts_max {
                bury(kv, &self.waiting, &self.dead_letters, &pair)?;
                continue;
            }
            self.seen.push(pair);
        }
        Ok(())
    }

    /// The next batch from this receiver's lane, or else one message from another's.
    fn pick(&mut self) -> Vec<KeyValue> {
        let mine: Vec<usize> = (0..self.seen.len())
            .filter(|&i| self.mine(&self.seen[i].key))
            .take(self.batch_max)
            .collect();
        if mine.is_empty() {
            return self.seen.pop().into_iter().collect();
        }
        let mut picked = Vec::with_capacity(mine.len());
        for i in mine.into_iter().rev() {
            picked.push(self.seen.remove(i));
        }
        picked.reverse();
        picked
    }

    /// Takes `picked` in one compare-and-swap: the messages, or `None` when one of them
    /// changed since it was read.
    fn take_batch(
        &mut self,
        kv: &dyn Kv,
        picked: Vec<KeyValue>,
    ) -> Result<Option<Vec<Taken>>, String> {
        let now = now_ms();
        let mut compare = Vec::with_capacity(picked.len());
        let mut success = Vec::with_capacity(picked.len());
        let mut taken = Vec::with_capacity(picked.len());
        for pair in picked {
            let Some((_, attempts, body)) = decode(&pair.value) else {
                continue;
            };
            let body = body.to_vec();
            compare.push(Compare::mod_revision(
                pair.key.clone(),
                CompareOp::Equal,
                pair.mod_revision,
            ));
            success.push(Op::Put {
                key: pair.key.clone(),
                value: encode(now + self.visibility_ms, attempts + 1, &body),
                lease: None,
                prev_kv: false,
            });
            taken.push((pair.key, attempts, body));
        }
        let reply = kv.write(Command::Txn {
            compare,
            success,
            failure: vec![],
        })?;
        if !matches!(&reply.outcome, Outcome::Txn(t) if t.succeeded) {
            return Ok(None);
        }
        let revision = reply.revision;
        Ok(Some(
            taken
                .into_iter()
                .map(|(key, attempts, body)| Taken {
                    body,
                    receipt: Receipt { key, revision },
                    attempts,
                })
                .collect(),
        ))
    }

    /// Puts messages this receiver took and will not handle back, visible at once and
    /// as often taken as before; if one of them was delivered again meanwhile, none
    /// goes back (they come again after the visibility timeout).
    pub fn release(&self, kv: &dyn Kv, taken: &[Taken]) -> Result<(), String> {
        if taken.is_empty() {
            return Ok(());
        }
        let compare = taken
            .iter()
            .map(|t| {
                let k = t.receipt.key.clone();
                Compare::mod_revision(k, CompareOp::Equal, t.receipt.revision)
            })
            .collect();
        let success = taken
            .iter()
            .map(|t| Op::Put {
                key: t.receipt.key.clone(),
                value: encode(0, t.attempts, &t.body),
                lease: None,
                prev_kv: false,
            })
            .collect();
        kv.write(Command::Txn {
            compare,
            success,
            failure: vec![],
        })?;
        Ok(())
    }
}

/// The queue's visibility timeout in milliseconds (its setting is in nanoseconds).
fn visibility_ms(record: &Record) -> u64 {
    (setting(record, "visibility", 30_000_000_000) / 1_000_000).max(1) as u64
}

/// Moves `pair` (a message of the queue at `waiting`) to the dead letters, unless it
/// changed since it was read.
fn bury(kv: &dyn Kv, waiting: &[u8], dead_letters: &[u8], pair: &KeyValue) -> Result<(), String> {
    let mut to = dead_letters.to_vec();
    to.extend_from_slice(pair.key.get(waiting.len()..).unwrap_or_default());
    kv.write(Command::Txn {
        compare: vec![Compare::mod_revision(
            pair.key.clone(),
            CompareOp::Equal,
            pair.mod_revision,
        )],
        success: vec![
            Op::Delete {
                keys: Keys::One(pair.key.clone()),
                prev_kv: false,
            },
            Op::Put {
                key: to,
                value: pair.value.clone(),
                lease: None,
                prev_kv: false,
            },
        ],
        failure: vec![],
    })?;
    Ok(())
}

/// The 64-bit FNV-1a hash of `bytes`: which lane a message is in.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The compare and write that acknowledge a taken message: the delete, if the message
/// is still as this receipt took it.
pub fn ack(receipt: &Receipt) -> (Compare, Op) {
    (
        Compare::mod_revision(receipt.key.clone(), CompareOp::Equal, receipt.revision),
        Op::Delete {
            keys: Keys::One(receipt.key.clone()),
            prev_kv: false,
        },
    )
}

/// Messages waiting or taken and not yet acknowledged.
pub fn len(kv: &dyn Kv, record: &Record) -> Result<u64, String> {
    kv.count(&messages(&record.handle()))
}

#[cfg(test)]
mod tests {
    use super::{ack, len, receive, send, Receipt, Receiver};
    use crate::kinds::{Kv, Record};
    use crate::{Command, KeyValue, Reply, Store};

    /// A store in a directory of its own, as a [`Kv`]; the directory goes with it.
    struct Scratch(Store, std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("weft-queue-test-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Scratch(Store::open(&dir).expect("a store"), dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.1);
        }
    }

    impl Kv for Scratch {
        fn write(&self, command: Command) -> Result<Reply, String> {
            self.0.apply(&command).map_err(|e| e.to_string())
        }
        fn range(&self, prefix: &[u8], limit: Option<usize>) -> Result<Vec<KeyValue>, String> {
            Ok(self
                .0
                .range(prefix, None, limit)
                .map_err(|e| e.to_string())?
                .kvs)
        }
        fn count(&self, prefix: &[u8]) -> Result<u64, String> {
            self.0.count(prefix).map_err(|e| e.to_string())
        }
    }

    fn queue(settings: &[(&str, i64)]) -> Record {
        Record {
            kind: "QueueService".into(),
            name: "q".into(),
            program: "p".into(),
            ty: "QueueService<Int>".into(),
            args: vec![],
            types: vec![],
            settings: settings.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            at: "p.weft:1:1".into(),
            placement: String::new(),
            status: "Ready".into(),
            created_ms: 0,
            events: vec![],
            cell: None,
        }
    }

    fn send_all(kv: &Scratch, n: u8) {
        for i in 0..n {
            kv.write(Command::Txn {
                compare: vec![],
                success: vec![send("p/q", &[i])],
                failure: vec![],
            })
            .expect("a send");
        }
    }

    fn acknowledge(kv: &Scratch, receipt: &Receipt) {
        let (compare, op) = ack(receipt);
        kv.write(Command::Txn {
            compare: vec![compare],
            success: vec![op],
            failure: vec![],
        })
        .expect("an ack");
    }

    #[test]
    fn a_receiver_takes_a_batch_in_one_write_and_each_ack_deletes_one() {
        let kv = Scratch::new("batch");
        let q = queue(&[]);
        let mut r = Receiver::new(&q, 0, 1);
        let n = r.batch_max() as u8;
        send_all(&kv, n + 4);
        let first = r.take(&kv).expect("a take");
        let bodies: Vec<Vec<u8>> = first.iter().map(|t| t.body.clone()).collect();
        assert_eq!(bodies, (0..n).map(|i| vec![i]).collect::<Vec<_>>());
        // Taken messages are hidden from everyone else.
        let other = receive(&kv, &q).expect("a receive").map(|m| m.0);
        assert_eq!(other, Some(vec![n]));
        let rest = r.take(&kv).expect("a take");
        assert_eq!(rest.len(), 3, "the next was taken by the other receive");
        assert!(r.take(&kv).expect("a take").is_empty());
        for t in first.iter().chain(&rest) {
            acknowledge(&kv, &t.receipt);
        }
        assert_eq!(len(&kv, &q).expect("a count"), 1);
    }

    #[test]
    fn released_messages_come_again_at_once_and_count_no_attempt() {
        let kv = Scratch::new("release");
        let q = queue(&[("attempts", 1)]);
        send_all(&kv, 3);
        let mut r = Receiver::new(&q, 0, 1);
        let taken = r.take(&kv).expect("a take");
        assert_eq!(taken.len(), 3);
        r.release(&kv, &taken[1..]).expect("a release");
        let again = r.take(&kv).expect("a take");
        let bodies: Vec<Vec<u8>> = again.iter().map(|t| t.body.clone()).collect();
        assert_eq!(bodies, [vec![1], vec![2]]);
        // A receipt round-trips through its bytes.
        let bytes = again[0].receipt.to_bytes();
        assert_eq!(Receipt::from_bytes(&bytes), Ok(again[0].receipt.clone()));
        assert!(Receipt::from_bytes(&bytes[..7]).is_err());
    }

    #[test]
    fn lanes_split_the_messages_and_an_empty_lane_takes_from_the_others() {
        let kv = Scratch::new("lanes");
        let q = queue(&[]);
        send_all(&kv, 40);
        let (mut a, mut b) = (Receiver::new(&q, 0, 2), Receiver::new(&q, 1, 2));
        let (ta, tb) = (a.take(&kv).expect("a take"), b.take(&kv).expect("a take"));
        assert!(!ta.is_empty() && !tb.is_empty());
        let mut all: Vec<u8> = ta.iter().chain(&tb).map(|t| t.body[0]).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), ta.len() + tb.len(), "no message taken twice");
        // Until the queue is empty, every message is taken exactly once.
        let mut seen = all;
        loop {
            let more = a.take(&kv).expect("a take");
            if more.is_empty() {
                break;
            }
            seen.extend(more.iter().map(|t| t.body[0]));
        }
        seen.sort();
        assert_eq!(seen, (0..40u8).collect::<Vec<_>>());
    }

    #[test]
    fn a_short_visibility_takes_one_at_a_time_and_dead_letters_still_move() {
        let kv = Scratch::new("dead");
        // 50 ms: short enough to take one at a time, long enough that the second
        // message stays hidden between the last two takes on a slow machine.
        let q = queue(&[("visibility", 50_000_000), ("attempts", 1)]);
        send_all(&kv, 2);
        let mut r = Receiver::new(&q, 0, 1);
        assert_eq!(r.batch_max(), 1);
        assert_eq!(r.take(&kv).expect("a take").len(), 1);
        std::thread::sleep(std::time::Duration::from_millis(60));
        // The second, from the last read; then a read finds the first visible again,
        // taken once and unacknowledged: a dead letter now.
        let next = r.take(&kv).expect("a take");
        assert_eq!(
            next.iter().map(|t| t.body.clone()).collect::<Vec<_>>(),
            [vec![1]]
        );
        assert!(r.take(&kv).expect("a take").is_empty());
        assert_eq!(kv.count(&super::dead("p/q")).expect("a count"), 1);
    }
}
