//! The store's state at its current revision, kept in memory: every live key with its
//! pair, every lease with the keys it holds, and the counters. Reads at the current
//! revision and everything `apply` decides come from here; sled holds the same state
//! (and the history) for restarts and for reads at older revisions.
//!
//! Loaded from the live index and the lease table at open (or from a snapshot's pairs
//! before a restore), and checked on the way: a pair attached to a lease that does not
//! exist is corruption.

use crate::command::{Keys, LeaseId};
use crate::error::StoreError;
use crate::reply::KeyValue;
use crate::store::layout::{
    decode, split_tagged_number, KvRecord, LeaseRecord, MetaRecord, TAG_KEY, TAG_LEASE,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// A lease and the keys attached to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeaseState {
    pub record: LeaseRecord,
    pub keys: BTreeSet<Vec<u8>>,
}

/// The current state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub meta: MetaRecord,
    pub keys: BTreeMap<Vec<u8>, KeyValue>,
    pub leases: BTreeMap<LeaseId, LeaseState>,
}

impl Head {
    /// A fresh store's state.
    pub fn new() -> Head {
        Head {
            meta: MetaRecord {
                next_lease: 1,
                ..MetaRecord::default()
            },
            ..Head::default()
        }
    }

    /// Builds the state from the counters, the live index's pairs (sled keys led by
    /// `TAG_KEY`) and the lease table's (led by `TAG_LEASE`), in any order.
    pub fn load<K, V>(
        meta: MetaRecord,
        live: impl IntoIterator<Item = Result<(K, V), StoreError>>,
        leases: impl IntoIterator<Item = Result<(K, V), StoreError>>,
    ) -> Result<Head, StoreError>
    where
        K: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        if meta.compacted > meta.revision || meta.purged > meta.compacted {
            return Err(StoreError::corrupt(format!("counters {meta:?}")));
        }
        let mut head = Head {
            meta,
            ..Head::default()
        };
        for pair in leases {
            let (key, value) = pair?;
            let id = split_tagged_number(TAG_LEASE, key.as_ref())
                .ok_or_else(|| StoreError::corrupt("a lease key"))?;
            let record: LeaseRecord = decode(value.as_ref(), "a lease")?;
            let state = LeaseState {
                record,
                keys: BTreeSet::new(),
            };
            head.leases.insert(LeaseId(id), state);
        }
        for pair in live {
            let (key, value) = pair?;
            let key = key
                .as_ref()
                .strip_prefix(&[TAG_KEY])
                .ok_or_else(|| StoreError::corrupt("a live key"))?
                .to_vec();
            let record: KvRecord = decode(value.as_ref(), "a live pair")?;
            let kv = record.into_kv(key);
            if kv.mod_revision > meta.revision || kv.create_revision > kv.mod_revision {
                return Err(StoreError::corrupt("a live pair's revisions"));
            }
            if let Some(id) = kv.lease {
                let lease = head
                    .leases
                    .get_mut(&id)
                    .ok_or_else(|| StoreError::corrupt(format!("a pair on missing lease {id}")))?;
                lease.keys.insert(kv.key.clone());
            }
            head.keys.insert(kv.key.clone(), kv);
        }
        Ok(head)
    }

    /// The live keys that start with `prefix`, in order, at most `limit` of them, and
    /// whether there were more.
    pub fn range(&self, prefix: &[u8], limit: Option<usize>) -> (Vec<KeyValue>, bool) {
        let mut matching = self
            .keys
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(_, kv)| kv);
        let limit = limit.unwrap_or(usize::MAX);
        let kvs: Vec<KeyValue> = matching.by_ref().take(limit).cloned().collect();
        let more = matching.next().is_some();
        (kvs, more)
    }

    /// How many live keys start with `prefix`.
    pub fn count(&self, prefix: &[u8]) -> u64 {
        self.keys
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .count() as u64
    }

    /// The keys `keys` names that exist, in order.
    pub fn existing(&self, keys: &Keys) -> Vec<Vec<u8>> {
        match keys {
            Keys::One(key) => self
                .keys
                .get_key_value(key)
                .map(|(k, _)| k.clone())
                .into_iter()
                .collect(),
            Keys::Prefix(prefix) => self
                .keys
                .range::<[u8], _>((Bound::Included(prefix.as_slice()), Bound::Unbounded))
                .take_while(|(key, _)| key.starts_with(prefix))
                .map(|(key, _)| key.clone())
                .collect(),
        }
    }
}
