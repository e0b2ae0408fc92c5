//! How cubestore lays its state out in one sled tree, and the records it stores.
//!
//! Keys are led by a tag byte:
//! - `0x00 name` → bookkeeping: `format` (the format string), `state` (a [`MetaRecord`]:
//!   revision, compaction point, lease clock), `applied` (the raft layer's opaque
//!   last-applied record, written in the same batch as the commands it covers), `redo`
//!   (the writes of the last batch written without a sled batch, see `writes`; never in
//!   a snapshot);
//! - `0x01 key` → the key's current pair (a [`KvRecord`]): the live index, loaded into
//!   memory at open;
//! - `0x02 esc(key) 0x00 0x01 revision` → what `revision` did to the key (a
//!   [`HistEntry`]). `esc` writes each 0x00 byte as 0x00 0xFF, so the terminator ends the
//!   key unambiguously, keys sort as they do raw, one key's revisions are contiguous and
//!   in order, and every key with a raw prefix `p` lies under `0x02 esc(p)`;
//! - `0x03 revision` → the keys that revision changed, in the order it changed them
//!   (what watches replay and compaction walks);
//! - `0x04 lease` → a lease (a [`LeaseRecord`]); which keys it holds is read off the
//!   live index.
//!
//! Numbers in keys are 8 bytes big-endian, so they sort as numbers. Values are postcard.

use crate::command::LeaseId;
use crate::error::StoreError;
use crate::reply::KeyValue;
use serde::{Deserialize, Serialize};

pub(crate) const TAG_META: u8 = 0x00;
pub(crate) const TAG_KEY: u8 = 0x01;
pub(crate) const TAG_HIST: u8 = 0x02;
pub(crate) const TAG_REV: u8 = 0x03;
pub(crate) const TAG_LEASE: u8 = 0x04;

pub(crate) const FORMAT_KEY: &[u8] = b"\x00format";
pub(crate) const STATE_KEY: &[u8] = b"\x00state";
pub(crate) const APPLIED_KEY: &[u8] = b"\x00applied";
pub(crate) const REDO_KEY: &[u8] = b"\x00redo";

/// What the format key holds in a store this code reads and writes.
pub(crate) const FORMAT: &str = "cubestore 1";

/// The escape of a 0x00 byte inside a history key, and the end of the key.
const ESCAPED_ZERO: [u8; 2] = [0x00, 0xFF];
const TERMINATOR: [u8; 2] = [0x00, 0x01];

/// The store's counters, written with every batch that changes anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetaRecord {
    /// The current revision (0: nothing written yet).
    pub revision: u64,
    /// The oldest readable revision (0: nothing compacted).
    pub compacted: u64,
    /// The revision below which history is physically removed; behind `compacted` only
    /// between a compaction's two batches (a crash there is finished at open).
    pub purged: u64,
    /// The newest `LeaseExpire` clock seen, in ms (0: none yet).
    pub clock_ms: u64,
    /// Where the search for a free lease id starts.
    pub next_lease: u64,
}

/// A key's pair without the key: the live index's value and a history put.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KvRecord {
    pub value: Vec<u8>,
    pub create_revision: u64,
    pub mod_revision: u64,
    pub version: u64,
    pub lease: Option<LeaseId>,
}

impl KvRecord {
    pub fn of(kv: &KeyValue) -> KvRecord {
        KvRecord {
            value: kv.value.clone(),
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            lease: kv.lease,
        }
    }

    pub fn into_kv(self, key: Vec<u8>) -> KeyValue {
        KeyValue {
            key,
            value: self.value,
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
            version: self.version,
            lease: self.lease,
        }
    }
}

/// What one revision did to one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum HistEntry {
    /// The key was set to this.
    Put(KvRecord),
    /// The key was deleted.
    Delete,
}

/// A lease as stored. `deadline_ms` is `None` from a grant or keep-alive until the next
/// expiry tick starts its countdown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LeaseRecord {
    pub ttl_ms: u64,
    pub deadline_ms: Option<u64>,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(value).map_err(|e| StoreError::corrupt(format!("encoding: {e}")))
}

pub(crate) fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
}

/// The live index's key for `key`.
pub(crate) fn live_key(key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(TAG_KEY);
    out.extend_from_slice(key);
    out
}

/// Everything under the history tag for keys that start with `prefix`.
pub(crate) fn hist_prefix(prefix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + prefix.len() + 2);
    out.push(TAG_HIST);
    for &b in prefix {
        if b == 0 {
            out.extend_from_slice(&ESCAPED_ZERO);
        } else {
            out.push(b);
        }
    }
    out
}

/// The history key of `key` at `revision`.
pub(crate) fn hist_key(key: &[u8], revision: u64) -> Vec<u8> {
    let mut out = hist_prefix(key);
    out.extend_from_slice(&TERMINATOR);
    out.extend_from_slice(&revision.to_be_bytes());
    out
}

/// The key and revision of a history key; `None` if it is not one.
pub(crate) fn split_hist_key(bytes: &[u8]) -> Option<(Vec<u8>, u64)> {
    let rest = bytes.strip_prefix(&[TAG_HIST])?;
    let mut key = Vec::with_capacity(rest.len());
    let mut i = 0;
    loop {
        let b = *rest.get(i)?;
        if b != 0 {
            key.push(b);
            i += 1;
            continue;
        }
        match *rest.get(i + 1)? {
            0xFF => {
                key.push(0);
                i += 2;
            }
            0x01 => break,
            _ => return None,
        }
    }
    let revision: [u8; 8] = rest.get(i + 2..)?.try_into().ok()?;
    Some((key, u64::from_be_bytes(revision)))
}

/// The revision log's key for `revision`.
pub(crate) fn rev_key(revision: u64) -> [u8; 9] {
    tagged_number(TAG_REV, revision)
}

/// The lease table's key for `id`.
pub(crate) fn lease_key(id: LeaseId) -> [u8; 9] {
    tagged_number(TAG_LEASE, id.0)
}

/// The number after `tag` in a 9-byte key; `None` if it is not one.
pub(crate) fn split_tagged_number(tag: u8, bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_prefix(&[tag])?;
    let number: [u8; 8] = rest.try_into().ok()?;
    Some(u64::from_be_bytes(number))
}

fn tagged_number(tag: u8, number: u64) -> [u8; 9] {
    let mut out = [0u8; 9];
    out[0] = tag;
    out[1..].copy_from_slice(&number.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&[u8]] = &[
        b"",
        b"\x00",
        b"\x00\x00",
        b"\x00\x01",
        b"\x00\xff",
        b"\x01",
        b"a",
        b"a\x00",
        b"a\x00b",
        b"a\x01",
        b"ab",
        b"b",
        b"\xff",
        b"\xff\x00",
    ];

    #[test]
    fn history_keys_round_trip() {
        for key in KEYS {
            for revision in [0, 1, 255, 256, u64::MAX] {
                let encoded = hist_key(key, revision);
                assert_eq!(split_hist_key(&encoded), Some((key.to_vec(), revision)));
            }
        }
    }

    #[test]
    fn history_keys_sort_by_key_then_revision() {
        let mut pairs: Vec<(&[u8], u64)> = Vec::new();
        for key in KEYS {
            for revision in [1, 2, 300] {
                pairs.push((key, revision));
            }
        }
        let mut encoded: Vec<Vec<u8>> = pairs.iter().map(|(k, r)| hist_key(k, *r)).collect();
        encoded.sort();
        let mut raw = pairs.clone();
        raw.sort();
        let decoded: Vec<(Vec<u8>, u64)> =
            encoded.iter().filter_map(|e| split_hist_key(e)).collect();
        let expected: Vec<(Vec<u8>, u64)> = raw.iter().map(|(k, r)| (k.to_vec(), *r)).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn a_history_prefix_covers_exactly_the_keys_with_the_raw_prefix() {
        for prefix in KEYS {
            let under = hist_prefix(prefix);
            for key in KEYS {
                let encoded = hist_key(key, 7);
                assert_eq!(
                    encoded.starts_with(&under),
                    key.starts_with(prefix),
                    "prefix {prefix:?} key {key:?}"
                );
            }
        }
    }

    #[test]
    fn malformed_history_keys_are_refused() {
        for bad in [
            &b""[..],
            b"\x02",
            b"\x02a",
            b"\x02a\x00",
            b"\x02a\x00\x02\x00\x01",
            b"\x02a\x00\x01\x00",
            b"\x02a\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
            b"\x01a\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00",
        ] {
            assert_eq!(split_hist_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tagged_numbers_round_trip() {
        assert_eq!(split_tagged_number(TAG_REV, &rev_key(42)), Some(42));
        assert_eq!(
            split_tagged_number(TAG_LEASE, &lease_key(LeaseId(7))),
            Some(7)
        );
        assert_eq!(split_tagged_number(TAG_REV, &lease_key(LeaseId(7))), None);
        assert_eq!(split_tagged_number(TAG_REV, &[TAG_REV, 1, 2]), None);
    }
}
