//! Leases in the state machine: grant, keep-alive, revoke, and expiry by the clock the
//! leader proposes.
//!
//! Apply never reads a clock. Time enters only through `LeaseExpire { now_ms }`: the
//! store keeps the newest `now_ms` it has seen (never moving back), and a lease's
//! deadline is set at the first tick after its grant or last keep-alive, as that tick's
//! `now_ms` plus the TTL. So a lease lives at least its TTL by the leader's clock (and
//! at most one tick interval more), and every replica ends the same leases at the same
//! point of the log. All the keys of all the leases one tick ends are deleted in one
//! revision.

use crate::command::LeaseId;
use crate::error::{Rejection, StoreError};
use crate::reply::Outcome;
use crate::store::apply::Work;
use crate::store::head::LeaseState;
use crate::store::layout::{encode, lease_key, LeaseRecord};
use std::collections::BTreeSet;

impl Work<'_> {
    pub(super) fn lease_grant(
        &mut self,
        id: Option<LeaseId>,
        ttl_ms: u64,
    ) -> Result<Outcome, StoreError> {
        let (id, chosen) = match id {
            Some(id) if self.head.leases.contains_key(&id) => {
                return Err(Rejection::LeaseExists { id }.into())
            }
            Some(id) => (id, false),
            None => (self.free_lease_id()?, true),
        };
        self.touch();
        if chosen {
            self.head.meta.next_lease = id.0.checked_add(1).unwrap_or(1);
        }
        let record = LeaseRecord {
            ttl_ms,
            deadline_ms: None,
        };
        self.write_lease(id, record)?;
        self.head.leases.insert(
            id,
            LeaseState {
                record,
                keys: BTreeSet::new(),
            },
        );
        Ok(Outcome::LeaseGrant { id, ttl_ms })
    }

    /// The first id from `next_lease` on that is not taken (ids wrap, skipping 0).
    fn free_lease_id(&self) -> Result<LeaseId, StoreError> {
        let mut candidate = self.head.meta.next_lease.max(1);
        for _ in 0..=self.head.leases.len() {
            if !self.head.leases.contains_key(&LeaseId(candidate)) {
                return Ok(LeaseId(candidate));
            }
            candidate = candidate.checked_add(1).unwrap_or(1);
        }
        Err(StoreError::corrupt("no free lease id"))
    }

    pub(super) fn lease_keep_alive(&mut self, id: LeaseId) -> Result<Outcome, StoreError> {
        let Some(state) = self.head.leases.get(&id) else {
            return Err(Rejection::LeaseNotFound { id }.into());
        };
        let record = LeaseRecord {
            ttl_ms: state.record.ttl_ms,
            deadline_ms: None,
        };
        self.touch();
        self.write_lease(id, record)?;
        if let Some(state) = self.head.leases.get_mut(&id) {
            state.record = record;
        }
        Ok(Outcome::LeaseKeepAlive {
            id,
            ttl_ms: record.ttl_ms,
        })
    }

    /// A keep-alive of every lease whose countdown runs.
    pub(super) fn lease_restart(&mut self) -> Result<Outcome, StoreError> {
        if self.set_deadlines(|d| d.is_some(), |_| None)? > 0 {
            self.touch();
        }
        Ok(Outcome::LeaseRestart {
            leases: self.head.leases.len() as u64,
        })
    }

    pub(super) fn lease_revoke(&mut self, id: LeaseId) -> Result<Outcome, StoreError> {
        self.check_lease(id)?;
        let deleted = self.end_lease(id)?;
        Ok(Outcome::LeaseRevoke { deleted })
    }

    pub(super) fn lease_expire(&mut self, now_ms: u64) -> Result<Outcome, StoreError> {
        self.touch();
        let clock_ms = self.head.meta.clock_ms.max(now_ms);
        self.head.meta.clock_ms = clock_ms;
        // Countdowns start: leases granted or kept alive since the last tick.
        self.set_deadlines(
            |d| d.is_none(),
            |ttl_ms| Some(clock_ms.saturating_add(ttl_ms)),
        )?;
        let expired: Vec<LeaseId> = self
            .head
            .leases
            .iter()
            .filter(|(_, state)| state.record.deadline_ms.is_some_and(|d| d <= clock_ms))
            .map(|(id, _)| *id)
            .collect();
        let mut deleted = 0;
        for id in &expired {
            deleted += self.end_lease(*id)?;
        }
        Ok(Outcome::LeaseExpire { expired, deleted })
    }

    /// Deletes a lease's keys (in the current command's revision) and the lease.
    fn end_lease(&mut self, id: LeaseId) -> Result<u64, StoreError> {
        self.touch();
        let keys: Vec<Vec<u8>> = self
            .head
            .leases
            .get(&id)
            .map(|state| state.keys.iter().cloned().collect())
            .unwrap_or_default();
        let mut deleted = 0;
        for key in keys {
            if self.write_delete(&key)?.is_some() {
                deleted += 1;
            }
        }
        self.head.leases.remove(&id);
        self.batch.remove(lease_key(id));
        Ok(deleted)
    }

    /// Gives every lease whose deadline `pick` chooses the deadline `deadline(ttl_ms)`;
    /// how many it changed.
    fn set_deadlines(
        &mut self,
        pick: impl Fn(Option<u64>) -> bool,
        deadline: impl Fn(u64) -> Option<u64>,
    ) -> Result<usize, StoreError> {
        let changed: Vec<(LeaseId, LeaseRecord)> = self
            .head
            .leases
            .iter()
            .filter(|(_, state)| pick(state.record.deadline_ms))
            .map(|(id, state)| {
                let ttl_ms = state.record.ttl_ms;
                let deadline_ms = deadline(ttl_ms);
                (
                    *id,
                    LeaseRecord {
                        ttl_ms,
                        deadline_ms,
                    },
                )
            })
            .collect();
        for (id, record) in &changed {
            self.write_lease(*id, *record)?;
            if let Some(state) = self.head.leases.get_mut(id) {
                state.record = *record;
            }
        }
        Ok(changed.len())
    }

    fn write_lease(&mut self, id: LeaseId, record: LeaseRecord) -> Result<(), StoreError> {
        self.batch.insert(lease_key(id), encode(&record)?);
        Ok(())
    }
}
