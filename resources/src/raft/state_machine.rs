//! The state machine: cubestore under openraft. Each `apply` call is one atomic store
//! batch carrying the new `applied` record; snapshots are the store's own, their meta
//! read back from the record in their header; the current one is kept on disk.
//!
//! An apply is not flushed ([`Store::apply_batch_logged`]): openraft applies only
//! entries committed in this node's log, flushed there before they were acknowledged,
//! so the log already makes them durable. After a crash the store holds a prefix of its
//! batches, each with its record, and openraft applies the log again from that record
//! on. That needs the log to still hold everything after the record: the log is purged
//! only behind a snapshot, so building one flushes the store first (an installed one
//! is flushed by the restore), and the store is never behind the last snapshot on disk.
//!
//! An entry holding a [`Command::Batch`] is unpacked into the same store batch as the
//! other entries of the call, so its commands get exactly the revisions, replies and
//! watch events they would get as entries of their own.
//!
//! The store's calls block (sled and fsync), so they run on tokio's blocking pool.

use super::applied::Applied;
use super::snapshot_file::{Meta, SnapshotFile};
use super::{NodeId, Response, StorageError, TypeConfig};
use crate::command::Command;
use crate::error::{Rejection, StoreError};
use crate::reply::Reply;
use crate::store::Store;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, Entry, EntryPayload, LogId, RaftSnapshotBuilder, SnapshotMeta,
    StorageIOError, StoredMembership,
};
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// cubestore as openraft's state machine. Opened over a shared [`Store`], which the
/// application reads while raft writes it.
pub struct StateMachine {
    store: Arc<Store>,
    /// The record of the last `apply` or install (what the store holds).
    applied: Applied,
    snapshots: Arc<Snapshots>,
}

/// The current snapshot's file, and its meta, behind one lock so a snapshot built while
/// another is installed never replaces a newer one.
#[derive(Debug)]
struct Snapshots {
    file: SnapshotFile,
    current: Mutex<Option<Meta>>,
}

/// Builds a snapshot of the store and makes it the current one.
pub struct SnapshotBuilder {
    store: Arc<Store>,
    snapshots: Arc<Snapshots>,
}

impl StateMachine {
    /// The state machine over `store`, keeping the current snapshot in `snapshot_dir`.
    pub fn open(store: Arc<Store>, snapshot_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let applied = Applied::decode(store.applied()?.as_deref()).map_err(StoreError::corrupt)?;
        let file =
            SnapshotFile::open(snapshot_dir.as_ref()).map_err(|message| StoreError::Open {
                dir: snapshot_dir.as_ref().to_path_buf(),
                message,
            })?;
        let current = file.load_meta().map_err(StoreError::corrupt)?;
        Ok(StateMachine {
            store,
            applied,
            snapshots: Arc::new(Snapshots {
                file,
                current: Mutex::new(current),
            }),
        })
    }

    /// The store this state machine writes.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

impl std::fmt::Debug for StateMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateMachine")
            .field("store", &self.store)
            .field("last_applied", &self.applied.last_applied)
            .finish()
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError> {
        Ok((self.applied.last_applied, self.applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut applied = self.applied.clone();
        let mut commands = Vec::new();
        // For each entry in order: what it carried, so its replies can be taken back out.
        let mut carried = Vec::new();
        for entry in entries {
            applied.last_applied = Some(entry.log_id);
            match entry.payload {
                EntryPayload::Blank => carried.push(Carried::Nothing),
                EntryPayload::Normal(Command::Batch(batch)) => match Command::check_batch(&batch) {
                    Ok(()) => {
                        carried.push(Carried::Batch(batch.len()));
                        commands.extend(batch);
                    }
                    Err(rejection) => carried.push(Carried::Refused(rejection)),
                },
                EntryPayload::Normal(command) => {
                    commands.push(command);
                    carried.push(Carried::One);
                }
                EntryPayload::Membership(membership) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), membership);
                    carried.push(Carried::Nothing);
                }
            }
        }
        if carried.is_empty() {
            return Ok(Vec::new());
        }
        let record = applied.encode().map_err(write_state_machine)?;
        let store = self.store.clone();
        let replies = blocking(move || store.apply_batch_logged(&commands, &record))
            .await
            .map_err(write_state_machine)?
            .map_err(|e| write_state_machine(e.to_string()))?;
        self.applied = applied;
        responses(carried, replies).map_err(write_state_machine)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        SnapshotBuilder {
            store: self.store.clone(),
            snapshots: self.snapshots.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let failed = |message: String| -> StorageError {
            StorageIOError::write_snapshot(Some(meta.signature()), AnyError::error(message)).into()
        };
        let bytes = snapshot.into_inner();
        let header = Store::snapshot_header(&bytes).map_err(|e| failed(e.to_string()))?;
        let applied = Applied::decode(header.applied.as_deref()).map_err(failed)?;
        if applied.last_applied != meta.last_log_id || applied.membership != meta.last_membership {
            return Err(failed(format!(
                "the snapshot holds log id {:?} and membership {:?}, its meta says {:?} and {:?}",
                applied.last_applied, applied.membership, meta.last_log_id, meta.last_membership
            )));
        }
        let store = self.store.clone();
        let bytes = blocking(move || store.restore(&bytes).map(|()| bytes))
            .await
            .map_err(failed)?
            .map_err(|e| failed(e.to_string()))?;
        self.applied = applied;
        let snapshots = self.snapshots.clone();
        let meta = meta.clone();
        blocking(move || snapshots.save(meta, &bytes, true))
            .await
            .map_err(failed)?
            .map_err(failed)
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let snapshots = self.snapshots.clone();
        let loaded = blocking(move || snapshots.file.load())
            .await
            .and_then(|loaded| loaded)
            .map_err(|e| -> StorageError {
                StorageIOError::read_snapshot(None, AnyError::error(e)).into()
            })?;
        Ok(loaded.map(|(meta, data)| Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        }))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let failed = |message: String| -> StorageError {
            StorageIOError::write_snapshot(None, AnyError::error(message)).into()
        };
        let store = self.store.clone();
        // Flushed after it is taken: the store on disk is then at least as far as the
        // snapshot, so the log openraft purges behind it is never needed again.
        let bytes = blocking(move || store.snapshot().and_then(|b| store.flush().map(|()| b)))
            .await
            .map_err(failed)?
            .map_err(|e| failed(e.to_string()))?;
        let header = Store::snapshot_header(&bytes).map_err(|e| failed(e.to_string()))?;
        let applied = Applied::decode(header.applied.as_deref()).map_err(failed)?;
        let snapshot_id = match &applied.last_applied {
            Some(log_id) => format!("{log_id}-r{}", header.revision),
            None => format!("none-r{}", header.revision),
        };
        let meta = SnapshotMeta {
            last_log_id: applied.last_applied,
            last_membership: applied.membership,
            snapshot_id,
        };
        let snapshots = self.snapshots.clone();
        let saved = meta.clone();
        let bytes = blocking(move || snapshots.save(saved, &bytes, false).map(|()| bytes))
            .await
            .and_then(|saved| saved)
            .map_err(failed)?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

impl std::fmt::Debug for SnapshotBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotBuilder")
            .field("store", &self.store)
            .finish()
    }
}

impl Snapshots {
    /// Makes `meta` and `data` the current snapshot, unless the current one is newer (a
    /// snapshot built while a newer one was installed); `installed` ones always replace
    /// it, since the state machine now holds exactly them.
    fn save(&self, meta: Meta, data: &[u8], installed: bool) -> Result<(), String> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if !installed {
            if let Some(current) = current.as_ref() {
                if current.last_log_id > meta.last_log_id {
                    return Ok(());
                }
            }
        }
        self.file.save(&meta, data)?;
        *current = Some(meta);
        Ok(())
    }
}

/// What one applied entry carried, to take its replies back out of the store batch.
enum Carried {
    /// One command: one reply.
    One,
    /// A batch of this many commands: as many replies.
    Batch(usize),
    /// A batch of the wrong shape, refused whole: no reply.
    Refused(Rejection),
    /// A blank or membership entry: no reply.
    Nothing,
}

/// Each entry's response, from the store's replies to the commands in entry order.
fn responses(
    carried: Vec<Carried>,
    replies: Vec<Result<Reply, Rejection>>,
) -> Result<Vec<Response>, String> {
    let got = replies.len();
    let mut replies = replies.into_iter();
    let mut responses = Vec::with_capacity(carried.len());
    for entry in carried {
        responses.push(match entry {
            Carried::One => Response::Command(replies.next().ok_or("a command got no reply")?),
            Carried::Batch(len) => {
                let batch: Vec<_> = replies.by_ref().take(len).collect();
                if batch.len() != len {
                    return Err(format!("a batch of {len} got {} replies", batch.len()));
                }
                Response::Batch(batch)
            }
            Carried::Refused(rejection) => Response::Command(Err(rejection)),
            Carried::Nothing => Response::Internal,
        });
    }
    if replies.next().is_some() {
        return Err(format!("{got} replies is more than the entries' commands"));
    }
    Ok(responses)
}

/// Runs a blocking store call on tokio's blocking pool; a panic in it comes back as an
/// error.
async fn blocking<T, F>(f: F) -> Result<T, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("a store call failed: {e}"))
}

fn write_state_machine(message: String) -> StorageError {
    StorageIOError::write_state_machine(AnyError::error(message)).into()
}
