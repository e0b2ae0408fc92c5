//! The snapshot format: the whole store at one revision, as one byte string the raft
//! layer can ship to a replica that is too far behind for the log.
//!
//! A snapshot is every pair of the store's sled tree (the live index, the leases, the
//! counters, the raft layer's `applied` record, and the history kept since the last
//! compaction; not the redo record, which is this replica's own bookkeeping), so a restored replica is the same state machine byte for byte, and its
//! watchers can resume from any revision the source could still serve. Layout:
//!
//! ```text
//! "CUBESNAP" format:u32be | revision compacted (varints) | applied: 0 | 1 len bytes
//! | count (varint) | count × (key_len key value_len value) | checksum:u64be
//! ```
//!
//! Lengths are LEB128 varints; the checksum is FNV-1a 64 over everything before it.
//! Parsing checks every length against what is left, the order of the keys, that every
//! pair decodes as its tag says, and that the header agrees with the counters, so no
//! input makes it panic or allocate more than its own size, and a bad snapshot is
//! refused whole.

use crate::error::StoreError;
use crate::store::layout::{
    decode, split_hist_key, split_tagged_number, HistEntry, KvRecord, LeaseRecord, MetaRecord,
    APPLIED_KEY, FORMAT, FORMAT_KEY, REDO_KEY, STATE_KEY, TAG_HIST, TAG_KEY, TAG_LEASE, TAG_META,
    TAG_REV,
};

const MAGIC: &[u8; 8] = b"CUBESNAP";
const SNAPSHOT_FORMAT: u32 = 1;
const CHECKSUM_LEN: usize = 8;

/// What a snapshot's header says, readable without restoring it: the raft layer takes
/// its last-applied record from here, so it always matches the data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The store's revision in the snapshot.
    pub revision: u64,
    /// Its oldest readable revision.
    pub compacted: u64,
    /// The raft layer's `applied` record at that point, if one was written.
    pub applied: Option<Vec<u8>>,
}

/// A parsed and checked snapshot.
pub(crate) struct Parsed {
    pub meta: MetaRecord,
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Writes a snapshot of `tree`, whose counters are `meta`. The caller keeps writers out
/// while it runs.
pub(crate) fn write(tree: &sled::Tree, meta: &MetaRecord) -> Result<Vec<u8>, StoreError> {
    let mut pairs = Vec::new();
    let mut count: u64 = 0;
    let mut applied = None;
    for item in tree.iter() {
        let (key, value) = item?;
        if key.as_ref() == REDO_KEY {
            // This replica's bookkeeping of its own writes, not state.
            continue;
        }
        if key.as_ref() == APPLIED_KEY {
            applied = Some(value.to_vec());
        }
        put_bytes(&mut pairs, &key);
        put_bytes(&mut pairs, &value);
        count += 1;
    }
    let mut out = Vec::with_capacity(pairs.len() + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SNAPSHOT_FORMAT.to_be_bytes());
    put_varint(&mut out, meta.revision);
    put_varint(&mut out, meta.compacted);
    match &applied {
        Some(applied) => {
            out.push(1);
            put_bytes(&mut out, applied);
        }
        None => out.push(0),
    }
    put_varint(&mut out, count);
    out.extend_from_slice(&pairs);
    let checksum = fnv1a(&out);
    out.extend_from_slice(&checksum.to_be_bytes());
    Ok(out)
}

/// Reads a snapshot's header (after checking its checksum).
pub fn header(bytes: &[u8]) -> Result<SnapshotHeader, StoreError> {
    let mut reader = Reader::new(checked_body(bytes)?);
    read_header(&mut reader)
}

/// Parses and checks a whole snapshot.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, StoreError> {
    let mut reader = Reader::new(checked_body(bytes)?);
    let header = read_header(&mut reader)?;
    let count = reader.varint()?;
    let mut pairs = Vec::new();
    let mut meta = None;
    let mut applied = None;
    for _ in 0..count {
        let key = reader.bytes()?.to_vec();
        let value = reader.bytes()?.to_vec();
        if pairs
            .last()
            .is_some_and(|(prev, _): &(Vec<u8>, Vec<u8>)| *prev >= key)
        {
            return Err(bad("keys out of order"));
        }
        match key.as_slice() {
            STATE_KEY => meta = Some(decode::<MetaRecord>(&value, "the counters").map_err(to_bad)?),
            APPLIED_KEY => applied = Some(value.clone()),
            _ => check_pair(&key, &value).map_err(to_bad)?,
        }
        pairs.push((key, value));
    }
    if !reader.rest.is_empty() {
        return Err(bad("bytes after the last pair"));
    }
    if !pairs.iter().any(|(key, _)| key == FORMAT_KEY) {
        return Err(bad("no format"));
    }
    let meta = meta.ok_or_else(|| bad("no counters"))?;
    if meta.revision != header.revision
        || meta.compacted != header.compacted
        || applied != header.applied
    {
        return Err(bad("the header disagrees with the data"));
    }
    Ok(Parsed { meta, pairs })
}

/// Checks that a pair other than the counters and `applied` decodes as its tag says.
fn check_pair(key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    match key.first().copied() {
        Some(TAG_META) if key == FORMAT_KEY => {
            if value != FORMAT.as_bytes() {
                return Err(StoreError::Format {
                    found: String::from_utf8_lossy(value).into_owned(),
                    expected: FORMAT.into(),
                });
            }
        }
        Some(TAG_KEY) => {
            decode::<KvRecord>(value, "a live pair")?;
        }
        Some(TAG_HIST) => {
            split_hist_key(key).ok_or_else(|| StoreError::corrupt("a history key"))?;
            decode::<HistEntry>(value, "a history entry")?;
        }
        Some(TAG_REV) => {
            split_tagged_number(TAG_REV, key)
                .ok_or_else(|| StoreError::corrupt("a revision log key"))?;
            decode::<Vec<Vec<u8>>>(value, "a revision log entry")?;
        }
        Some(TAG_LEASE) => {
            split_tagged_number(TAG_LEASE, key)
                .ok_or_else(|| StoreError::corrupt("a lease key"))?;
            decode::<LeaseRecord>(value, "a lease")?;
        }
        _ => return Err(StoreError::corrupt("an unknown key")),
    }
    Ok(())
}

fn read_header(reader: &mut Reader<'_>) -> Result<SnapshotHeader, StoreError> {
    if reader.take(MAGIC.len())? != MAGIC {
        return Err(bad("not a cubestore snapshot"));
    }
    let format = reader.take(4)?;
    if format != SNAPSHOT_FORMAT.to_be_bytes() {
        return Err(bad("an unknown snapshot format"));
    }
    let revision = reader.varint()?;
    let compacted = reader.varint()?;
    let applied = match reader.take(1)? {
        [0] => None,
        [1] => Some(reader.bytes()?.to_vec()),
        _ => return Err(bad("a bad applied flag")),
    };
    Ok(SnapshotHeader {
        revision,
        compacted,
        applied,
    })
}

/// The snapshot without its checksum, if the checksum matches.
fn checked_body(bytes: &[u8]) -> Result<&[u8], StoreError> {
    let split = bytes
        .len()
        .checked_sub(CHECKSUM_LEN)
        .ok_or_else(|| bad("too short"))?;
    let (body, checksum) = bytes.split_at(split);
    let checksum: [u8; CHECKSUM_LEN] = checksum.try_into().map_err(|_| bad("too short"))?;
    if u64::from_be_bytes(checksum) != fnv1a(body) {
        return Err(bad("the checksum does not match"));
    }
    Ok(body)
}

fn bad(reason: &str) -> StoreError {
    StoreError::BadSnapshot {
        reason: reason.into(),
    }
}

fn to_bad(error: StoreError) -> StoreError {
    StoreError::BadSnapshot {
        reason: error.to_string(),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A cursor over snapshot bytes whose every read is checked against what is left.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], StoreError> {
        if len > self.rest.len() {
            return Err(bad("truncated"));
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.take(1)?.first() else {
                return Err(bad("truncated"));
            };
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(bad("a number too large"));
            }
            n |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(bad("a number too long"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let len = usize::try_from(self.varint()?).map_err(|_| bad("a length too large"))?;
        self.take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for n in [
            0,
            1,
            127,
            128,
            300,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            let mut reader = Reader::new(&out);
            assert_eq!(reader.varint().ok(), Some(n));
            assert!(reader.rest.is_empty());
        }
    }

    #[test]
    fn overlong_varints_are_refused() {
        let mut reader = Reader::new(&[0xff; 11]);
        assert!(reader.varint().is_err());
        let mut reader = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
        assert!(reader.varint().is_err());
        let mut reader = Reader::new(&[0x80]);
        assert!(reader.varint().is_err());
    }

    #[test]
    fn short_and_garbage_input_is_refused() {
        for bytes in [&b""[..], b"CUBESNAP", b"\x00\x00\x00\x00\x00\x00\x00\x00"] {
            assert!(matches!(header(bytes), Err(StoreError::BadSnapshot { .. })));
            assert!(matches!(parse(bytes), Err(StoreError::BadSnapshot { .. })));
        }
    }
}
