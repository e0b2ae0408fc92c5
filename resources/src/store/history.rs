//! Reading the past: pairs as they were at an older revision, the events of a span of
//! revisions (what a watcher catching up replays), and purging what compaction made
//! unreachable.
//!
//! What compaction to revision `c` keeps, per key: every history entry at `c` or after,
//! and the newest one before `c` unless it is a delete. That is exactly enough for a
//! read at any revision from `c` on (the newest entry at or before it) and for the
//! events of every revision from `c` on with their previous pairs (the newest entry
//! before each). Callers check the compaction point first, under the head's lock;
//! purging removes only entries no such read can reach, so it may run beside them.

use crate::error::StoreError;
use crate::reply::{Event, EventKind, KeyValue};
use crate::store::apply::tombstone;
use crate::store::layout::{
    decode, encode, hist_key, hist_prefix, rev_key, split_hist_key, split_tagged_number, HistEntry,
    MetaRecord, STATE_KEY, TAG_REV,
};
use crate::store::writes::Writes;
use std::collections::BTreeSet;

/// The pair of `key` as it was at `revision`.
pub(crate) fn get(
    tree: &sled::Tree,
    key: &[u8],
    revision: u64,
) -> Result<Option<KeyValue>, StoreError> {
    let newest = tree
        .range(hist_key(key, 0)..=hist_key(key, revision))
        .next_back()
        .transpose()?;
    match newest {
        Some((_, value)) => match decode(&value, "a history entry")? {
            HistEntry::Put(record) => Ok(Some(record.into_kv(key.to_vec()))),
            HistEntry::Delete => Ok(None),
        },
        None => Ok(None),
    }
}

/// The pairs under `prefix` as they were at `revision`, in key order, at most `limit`
/// of them, and whether there were more. It walks every kept entry of every key under
/// the prefix: compaction is what keeps that short.
pub(crate) fn range(
    tree: &sled::Tree,
    prefix: &[u8],
    revision: u64,
    limit: Option<usize>,
) -> Result<(Vec<KeyValue>, bool), StoreError> {
    let limit = limit.unwrap_or(usize::MAX);
    let mut kvs = Vec::new();
    // The key being walked and its newest entry at or before `revision`.
    let mut current: Option<(Vec<u8>, Option<HistEntry>)> = None;
    for item in tree.scan_prefix(hist_prefix(prefix)) {
        let (sled_key, value) = item?;
        let (key, entry_revision) =
            split_hist_key(&sled_key).ok_or_else(|| StoreError::corrupt("a history key"))?;
        if current.as_ref().is_none_or(|(k, _)| *k != key) {
            if let Some(kv) = finish(current.take()) {
                if kvs.len() == limit {
                    return Ok((kvs, true));
                }
                kvs.push(kv);
            }
            current = Some((key, None));
        }
        if entry_revision <= revision {
            if let Some((_, newest)) = current.as_mut() {
                *newest = Some(decode(&value, "a history entry")?);
            }
        }
    }
    if let Some(kv) = finish(current) {
        if kvs.len() == limit {
            return Ok((kvs, true));
        }
        kvs.push(kv);
    }
    Ok((kvs, false))
}

fn finish(walked: Option<(Vec<u8>, Option<HistEntry>)>) -> Option<KeyValue> {
    match walked? {
        (key, Some(HistEntry::Put(record))) => Some(record.into_kv(key)),
        _ => None,
    }
}

/// Every event of revisions `from..=to` on keys under `prefix`, in revision order and,
/// within a revision, in the order the command made them: the same events, with the
/// same previous pairs, that the store delivered live.
pub(crate) fn events(
    tree: &sled::Tree,
    prefix: &[u8],
    from: u64,
    to: u64,
) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    if from > to {
        return Ok(events);
    }
    for item in tree.range(rev_key(from)..=rev_key(to)) {
        let (sled_key, value) = item?;
        let revision = split_tagged_number(TAG_REV, &sled_key)
            .ok_or_else(|| StoreError::corrupt("a revision log key"))?;
        let keys: Vec<Vec<u8>> = decode(&value, "a revision log entry")?;
        for key in keys.into_iter().filter(|k| k.starts_with(prefix)) {
            events.push(event(tree, key, revision)?);
        }
    }
    Ok(events)
}

fn event(tree: &sled::Tree, key: Vec<u8>, revision: u64) -> Result<Event, StoreError> {
    let entry = tree
        .get(hist_key(&key, revision))?
        .ok_or_else(|| StoreError::corrupt(format!("no history for a change at {revision}")))?;
    let prev_kv = match revision.checked_sub(1) {
        Some(before) => get(tree, &key, before)?,
        None => None,
    };
    Ok(match decode(&entry, "a history entry")? {
        HistEntry::Put(record) => Event {
            kind: EventKind::Put,
            kv: record.into_kv(key),
            prev_kv,
        },
        HistEntry::Delete => Event {
            kind: EventKind::Delete,
            kv: tombstone(&key, revision),
            prev_kv,
        },
    })
}

/// Removes the history that compaction to `meta.compacted` made unreachable (from
/// `meta.purged` on), in one atomic batch with the counters saying so; returns them.
pub(crate) fn purge(tree: &sled::Tree, meta: MetaRecord) -> Result<MetaRecord, StoreError> {
    let mut batch = Writes::default();
    let mut keys = BTreeSet::new();
    for item in tree.range(rev_key(meta.purged)..rev_key(meta.compacted)) {
        let (sled_key, value) = item?;
        let changed: Vec<Vec<u8>> = decode(&value, "a revision log entry")?;
        keys.extend(changed);
        batch.remove(sled_key);
    }
    for key in keys {
        let mut entries = tree
            .range(hist_key(&key, 0)..hist_key(&key, meta.compacted))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some((_, newest)) = entries.last() {
            if let HistEntry::Put(_) = decode(newest, "a history entry")? {
                entries.pop();
            }
        }
        for (sled_key, _) in entries {
            batch.remove(sled_key);
        }
    }
    let purged = MetaRecord {
        purged: meta.compacted,
        ..meta
    };
    batch.insert(STATE_KEY, encode(&purged)?);
    batch.apply_atomic(tree)?;
    Ok(purged)
}
