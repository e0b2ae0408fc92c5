//! The state machine: how one command changes the in-memory [`Head`] and what it adds to
//! the batch of writes that makes the change durable, with the events watchers will get.
//!
//! Every command is checked before it changes anything: [`Command::validate`] for what
//! needs no state, then the handler's own checks (leases that must exist, revisions
//! that must not be compacted) before its first write. So a refused command leaves no
//! trace, and a batch can go on after it. Nothing here reads a clock or anything but
//! the head and the command: every replica that applies the same commands to the same
//! state ends in the same state, byte for byte.
//!
//! A command that writes keys opens one revision at its first write and closes it at
//! its end, recording the keys it changed, in order, under the revision.

use crate::command::{Command, Keys, LeaseId, Op};
use crate::error::{Rejection, StoreError};
use crate::reply::{
    DeleteReply, Event, EventKind, KeyValue, OpReply, Outcome, PutReply, RangeReply, Reply,
    TxnReply,
};
use crate::store::head::Head;
use crate::store::layout::{
    encode, hist_key, live_key, rev_key, HistEntry, KvRecord, APPLIED_KEY, STATE_KEY,
};
use crate::store::writes::Writes;
use std::collections::BTreeSet;

/// The revision the current command writes under, and the keys it has written.
struct OpenRevision {
    revision: u64,
    keys: Vec<Vec<u8>>,
    seen: BTreeSet<Vec<u8>>,
}

/// One batch of commands being applied to the head.
pub(crate) struct Work<'a> {
    pub(super) head: &'a mut Head,
    pub(super) batch: Writes,
    events: Vec<Event>,
    open: Option<OpenRevision>,
    /// Whether the current command has changed anything yet.
    touched: bool,
    /// Whether any command of the batch changed anything.
    changed: bool,
    /// Whether a command moved the compaction point (so history must be purged).
    compacted: bool,
}

/// What a finished batch leaves to do: write `batch`, then purge history if
/// `compacted`, flush, and deliver `events`.
pub(crate) struct Finished {
    pub batch: Writes,
    pub events: Vec<Event>,
    pub compacted: bool,
    pub changed: bool,
}

impl<'a> Work<'a> {
    pub fn new(head: &'a mut Head) -> Work<'a> {
        Work {
            head,
            batch: Writes::default(),
            events: Vec::new(),
            open: None,
            touched: false,
            changed: false,
            compacted: false,
        }
    }

    /// Applies one command. The outer error is fatal (the head may be half-changed);
    /// the inner one a refusal that changed nothing.
    pub fn command(&mut self, command: &Command) -> Result<Result<Reply, Rejection>, StoreError> {
        self.touched = false;
        if let Err(rejection) = command.validate() {
            return Ok(Err(rejection));
        }
        let outcome = match self.execute(command) {
            Ok(outcome) => outcome,
            Err(StoreError::Rejected(rejection)) if !self.touched => return Ok(Err(rejection)),
            Err(StoreError::Rejected(rejection)) => {
                return Err(StoreError::corrupt(format!(
                    "a command was refused after it changed the state: {rejection}"
                )))
            }
            Err(fatal) => return Err(fatal),
        };
        self.close_revision()?;
        Ok(Ok(Reply {
            revision: self.head.meta.revision,
            outcome,
        }))
    }

    /// Ends the batch: the counters (and the raft layer's `applied` record, if given)
    /// join the batch.
    pub fn finish(mut self, applied: Option<&[u8]>) -> Result<Finished, StoreError> {
        if self.changed || applied.is_some() {
            self.batch.insert(STATE_KEY, encode(&self.head.meta)?);
        }
        if let Some(applied) = applied {
            self.batch.insert(APPLIED_KEY, applied);
        }
        Ok(Finished {
            batch: self.batch,
            events: self.events,
            compacted: self.compacted,
            changed: self.changed || applied.is_some(),
        })
    }

    fn execute(&mut self, command: &Command) -> Result<Outcome, StoreError> {
        match command {
            Command::Put {
                key,
                value,
                lease,
                prev_kv,
            } => Ok(Outcome::Put(self.put(key, value, *lease, *prev_kv)?)),
            Command::Delete { keys, prev_kv } => Ok(Outcome::Delete(self.delete(keys, *prev_kv)?)),
            Command::Txn {
                compare,
                success,
                failure,
            } => {
                let succeeded = compare.iter().all(|c| c.holds(self.head.keys.get(&c.key)));
                let ops = if succeeded { success } else { failure };
                let responses = self.txn_ops(ops)?;
                Ok(Outcome::Txn(TxnReply {
                    succeeded,
                    responses,
                }))
            }
            Command::LeaseGrant { id, ttl_ms } => self.lease_grant(*id, *ttl_ms),
            Command::LeaseRevoke { id } => self.lease_revoke(*id),
            Command::LeaseKeepAlive { id } => self.lease_keep_alive(*id),
            Command::LeaseExpire { now_ms } => self.lease_expire(*now_ms),
            Command::LeaseRestart => self.lease_restart(),
            Command::Compact { revision } => self.compact(*revision),
            // Refused by `validate` already; the raft state machine unpacks batches.
            Command::Batch(_) => Err(Rejection::NestedBatch.into()),
        }
    }

    fn txn_ops(&mut self, ops: &[Op]) -> Result<Vec<OpReply>, StoreError> {
        for op in ops {
            if let Op::Put {
                lease: Some(id), ..
            } = op
            {
                self.check_lease(*id)?;
            }
        }
        let mut responses = Vec::with_capacity(ops.len());
        for op in ops {
            let response = match op {
                Op::Put {
                    key,
                    value,
                    lease,
                    prev_kv,
                } => OpReply::Put(self.put(key, value, *lease, *prev_kv)?),
                Op::Delete { keys, prev_kv } => OpReply::Delete(self.delete(keys, *prev_kv)?),
                Op::Get { keys, limit } => OpReply::Get(self.get(keys, *limit)),
            };
            responses.push(response);
        }
        Ok(responses)
    }

    fn get(&self, keys: &Keys, limit: Option<usize>) -> RangeReply {
        let (kvs, more) = match keys {
            Keys::One(key) => (
                self.head.keys.get(key).cloned().into_iter().collect(),
                false,
            ),
            Keys::Prefix(prefix) => self.head.range(prefix, limit),
        };
        RangeReply {
            revision: self.head.meta.revision,
            kvs,
            more,
        }
    }

    pub(super) fn check_lease(&self, id: LeaseId) -> Result<(), Rejection> {
        if self.head.leases.contains_key(&id) {
            Ok(())
        } else {
            Err(Rejection::LeaseNotFound { id })
        }
    }

    fn put(
        &mut self,
        key: &[u8],
        value: &[u8],
        lease: Option<LeaseId>,
        prev_kv: bool,
    ) -> Result<PutReply, StoreError> {
        if let Some(id) = lease {
            self.check_lease(id)?;
        }
        let prev = self.write_put(key, value, lease)?;
        Ok(PutReply {
            prev_kv: prev.filter(|_| prev_kv),
        })
    }

    pub(super) fn delete(&mut self, keys: &Keys, prev_kv: bool) -> Result<DeleteReply, StoreError> {
        let mut reply = DeleteReply {
            deleted: 0,
            prev_kvs: Vec::new(),
        };
        for key in self.head.existing(keys) {
            if let Some(prev) = self.write_delete(&key)? {
                reply.deleted += 1;
                if prev_kv {
                    reply.prev_kvs.push(prev);
                }
            }
        }
        Ok(reply)
    }

    fn compact(&mut self, revision: u64) -> Result<Outcome, StoreError> {
        let meta = &self.head.meta;
        if revision > meta.revision {
            return Err(Rejection::FutureRevision {
                revision,
                current: meta.revision,
            }
            .into());
        }
        if revision <= meta.compacted {
            return Err(Rejection::Compacted {
                compacted_at: meta.compacted,
            }
            .into());
        }
        self.touch();
        self.head.meta.compacted = revision;
        self.compacted = true;
        Ok(Outcome::Compact {
            compacted_at: revision,
        })
    }

    /// Notes that the current command changes the state.
    pub(super) fn touch(&mut self) {
        self.touched = true;
        self.changed = true;
    }

    /// The revision the current command writes keys under, opened at its first write.
    fn write_revision(&mut self, key: &[u8]) -> Result<u64, StoreError> {
        self.touch();
        let open =
            match &mut self.open {
                Some(open) => open,
                None => {
                    let revision =
                        self.head.meta.revision.checked_add(1).ok_or_else(|| {
                            StoreError::corrupt("the revision counter is exhausted")
                        })?;
                    self.head.meta.revision = revision;
                    self.open.insert(OpenRevision {
                        revision,
                        keys: Vec::new(),
                        seen: BTreeSet::new(),
                    })
                }
            };
        if !open.seen.insert(key.to_vec()) {
            return Err(StoreError::corrupt(format!(
                "key {:?} written twice in revision {}",
                String::from_utf8_lossy(key),
                open.revision
            )));
        }
        open.keys.push(key.to_vec());
        Ok(open.revision)
    }

    fn close_revision(&mut self) -> Result<(), StoreError> {
        if let Some(open) = self.open.take() {
            self.batch
                .insert(rev_key(open.revision), encode(&open.keys)?);
        }
        Ok(())
    }

    /// Sets `key`, returning its previous pair.
    fn write_put(
        &mut self,
        key: &[u8],
        value: &[u8],
        lease: Option<LeaseId>,
    ) -> Result<Option<KeyValue>, StoreError> {
        let revision = self.write_revision(key)?;
        let prev = self.head.keys.get(key).cloned();
        let kv = KeyValue {
            key: key.to_vec(),
            value: value.to_vec(),
            create_revision: prev.as_ref().map_or(revision, |p| p.create_revision),
            mod_revision: revision,
            version: prev.as_ref().map_or(1, |p| p.version.saturating_add(1)),
            lease,
        };
        let record = KvRecord::of(&kv);
        self.batch.insert(live_key(key), encode(&record)?);
        self.batch
            .insert(hist_key(key, revision), encode(&HistEntry::Put(record))?);
        let prev_lease = prev.as_ref().and_then(|p| p.lease);
        if prev_lease != lease {
            self.detach(key, prev_lease);
            if let Some(id) = lease {
                if let Some(state) = self.head.leases.get_mut(&id) {
                    state.keys.insert(key.to_vec());
                }
            }
        }
        self.head.keys.insert(key.to_vec(), kv.clone());
        self.events.push(Event {
            kind: EventKind::Put,
            kv,
            prev_kv: prev.clone(),
        });
        Ok(prev)
    }

    /// Deletes `key` if it exists, returning its pair.
    pub(super) fn write_delete(&mut self, key: &[u8]) -> Result<Option<KeyValue>, StoreError> {
        if !self.head.keys.contains_key(key) {
            return Ok(None);
        }
        let revision = self.write_revision(key)?;
        let Some(prev) = self.head.keys.remove(key) else {
            return Ok(None);
        };
        self.batch.remove(live_key(key));
        self.batch
            .insert(hist_key(key, revision), encode(&HistEntry::Delete)?);
        self.detach(key, prev.lease);
        self.events.push(Event {
            kind: EventKind::Delete,
            kv: tombstone(key, revision),
            prev_kv: Some(prev.clone()),
        });
        Ok(Some(prev))
    }

    fn detach(&mut self, key: &[u8], lease: Option<LeaseId>) {
        if let Some(state) = lease.and_then(|id| self.head.leases.get_mut(&id)) {
            state.keys.remove(key);
        }
    }
}

/// A delete event's pair: the key and the revision of the delete, as etcd sends it.
pub(crate) fn tombstone(key: &[u8], revision: u64) -> KeyValue {
    KeyValue {
        key: key.to_vec(),
        value: Vec::new(),
        create_revision: 0,
        mod_revision: revision,
        version: 0,
        lease: None,
    }
}
