//! `QueueService<T>` on cubestore: each message a key under the queue's prefix, taken with
//! a compare-and-swap that hides it for the visibility timeout, acknowledged by deleting
//! it, delivered again when the timeout passes unacknowledged, and moved to the
//! dead-letter prefix once it has been taken `attempts` times without an acknowledgement.

use super::{data_prefix, now_ms, Kv, Record};
use crate::{Command, Compare, CompareOp, Keys, Op, Outcome};
use std::sync::atomic::{AtomicU64, Ordering};

/// How many messages one receive looks at for one that is visible.
const SCAN_MAX: usize = 256;

/// A taken message's proof: its key and the revision that took it. Acknowledging with a
/// stale receipt (the message was delivered again meanwhile) does nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The message's key.
    pub key: Vec<u8>,
    /// The revision of the write that took it.
    pub revision: u64,
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
    let visibility_ms = (setting(record, "visibility", 30_000_000_000) / 1_000_000).max(1) as u64;
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
                let id = &pair.key[waiting.len()..];
                let mut to = dead_letters.clone();
                to.extend_from_slice(id);
                kv.write(Command::Txn {
                    compare: vec![unchanged],
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
