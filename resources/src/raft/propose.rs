//! The proposer: groups the client writes that arrive while earlier entries are being
//! appended into one raft log entry, so concurrent writes share one append and its flush.
//!
//! openraft 0.9's core makes every `client_write` an entry of its own and appends (and
//! flushes) each before it looks at the next, so writes one at a time cost one flush
//! each however many clients wait. Here every write goes into a queue instead; one task
//! takes what is waiting (at most [`BATCH_LEN_MAX`] commands, about [`BATCH_BYTES_MAX`]
//! bytes) and proposes it as one entry: a lone command as itself, several as a
//! [`Command::Batch`]. At most [`PROPOSALS_IN_FLIGHT_MAX`] entries are proposed and not
//! yet applied at once, so the next batch gathers while the previous ones are flushed
//! and replicated. A client alone is proposed at once, as before batching.
//!
//! Each waiter gets its own command's result from the entry's response, and keeps its
//! own deadline: a write not yet proposed when its deadline passes is dropped unproposed,
//! and a proposal gives up at the latest deadline of its waiters. A refusal of the whole
//! entry (this node does not lead, raft failed, no answer in time) goes to every waiter
//! of the batch as the same [`Refused`] a write alone would get, so a caller retries or
//! forwards its own command as before (see `Controller::write`). A leader that steps
//! down with the entry appended answers [`Refused::SteppedDown`], never retried: the
//! entry may still be committed by the next leader.

use super::server::Refused;
use super::{Response, TypeConfig};
use crate::command::Command;
use crate::error::Rejection;
use crate::limits::{
    BATCH_BYTES_MAX, BATCH_LEN_MAX, PROPOSALS_IN_FLIGHT_MAX, PROPOSE_QUEUE_LEN_MAX,
};
use crate::reply::Reply;
use openraft::error::{ClientWriteError, RaftError};
use openraft::Raft;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// What a write came to: the store's reply or rejection, or why it was not written.
pub type Written = Result<Result<Reply, Rejection>, Refused>;

/// The handle writes go through: the local raft and the proposer's queue. Clones share
/// the queue; the proposer's task ends when the last clone is dropped.
#[derive(Clone)]
pub struct Proposer {
    raft: Raft<TypeConfig>,
    queue: mpsc::Sender<Waiter>,
}

/// One write waiting to be proposed.
struct Waiter {
    command: Command,
    len_bytes: usize,
    deadline: Instant,
    answer: oneshot::Sender<Written>,
}

impl Proposer {
    /// Starts the proposer for `raft` on the current tokio runtime.
    pub fn start(raft: Raft<TypeConfig>) -> Proposer {
        let (queue, waiting) = mpsc::channel(PROPOSE_QUEUE_LEN_MAX);
        tokio::spawn(run(raft.clone(), waiting));
        Proposer { raft, queue }
    }

    /// The local raft.
    pub fn raft(&self) -> &Raft<TypeConfig> {
        &self.raft
    }

    /// Proposes `command` (not a batch: the caller refuses those) with whatever other
    /// writes are waiting, and waits for its result, by `deadline`.
    pub(crate) async fn write(&self, command: Command, deadline: Instant) -> Written {
        let (answer, answered) = oneshot::channel();
        let waiter = Waiter {
            len_bytes: command.len_bytes_estimate(),
            command,
            deadline,
            answer,
        };
        match tokio::time::timeout_at(deadline, self.queue.send(waiter)).await {
            Err(_) => return Err(Refused::TimedOut),
            Ok(Err(_)) => return Err(Refused::Failed("the proposer has stopped".into())),
            Ok(Ok(())) => {}
        }
        match tokio::time::timeout_at(deadline, answered).await {
            Err(_) => Err(Refused::TimedOut),
            Ok(Err(_)) => Err(Refused::Failed(
                "the proposer dropped the write without an answer".into(),
            )),
            Ok(Ok(written)) => written,
        }
    }
}

/// The proposer's task: takes the first waiting write, waits for a free slot, gathers
/// what else is waiting by then, and proposes it; until every [`Proposer`] is dropped.
async fn run(raft: Raft<TypeConfig>, mut waiting: mpsc::Receiver<Waiter>) {
    let slots = Arc::new(Semaphore::new(PROPOSALS_IN_FLIGHT_MAX));
    // A write taken from the queue that did not fit the last batch's byte budget.
    let mut held: Option<Waiter> = None;
    loop {
        let first = match held.take() {
            Some(first) => first,
            None => match waiting.recv().await {
                Some(first) => first,
                None => return,
            },
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = Vec::with_capacity(16);
        let mut len_bytes = 0;
        let mut next = Some(first);
        while let Some(waiter) = next.take() {
            if !batch.is_empty() && len_bytes + waiter.len_bytes > BATCH_BYTES_MAX {
                held = Some(waiter);
                break;
            }
            // A write whose caller has given up is dropped unproposed.
            if waiter.deadline > Instant::now() && !waiter.answer.is_closed() {
                len_bytes += waiter.len_bytes;
                batch.push(waiter);
            }
            if batch.len() < BATCH_LEN_MAX {
                next = waiting.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            tokio::spawn(propose(raft.clone(), batch, slot));
        }
    }
}

/// Proposes `batch` as one entry and answers each waiter; `_slot` is held until the
/// entry is applied (or given up on).
async fn propose(raft: Raft<TypeConfig>, batch: Vec<Waiter>, _slot: OwnedSemaphorePermit) {
    let Some(deadline) = batch.iter().map(|w| w.deadline).max() else {
        return;
    };
    let mut answers = Vec::with_capacity(batch.len());
    let mut commands = Vec::with_capacity(batch.len());
    for waiter in batch {
        answers.push(waiter.answer);
        commands.push(waiter.command);
    }
    let results = match super::server::quorum_heard(&raft) {
        Err(refused) => Err(refused),
        Ok(()) => write_entry(&raft, commands, deadline).await,
    };
    match results {
        Ok(results) => {
            for (answer, result) in answers.into_iter().zip(results) {
                let _ = answer.send(Ok(result));
            }
        }
        Err(refused) => {
            for answer in answers {
                let _ = answer.send(Err(refused.clone()));
            }
        }
    }
}

/// Writes `commands` as one entry (a lone command as itself) by `deadline`: one result
/// per command, in order, or why the entry was not written.
async fn write_entry(
    raft: &Raft<TypeConfig>,
    mut commands: Vec<Command>,
    deadline: Instant,
) -> Result<Vec<Result<Reply, Rejection>>, Refused> {
    let len = commands.len();
    let entry = match commands.pop() {
        Some(lone) if commands.is_empty() => lone,
        Some(last) => {
            commands.push(last);
            Command::Batch(commands)
        }
        None => return Ok(Vec::new()),
    };
    // openraft answers ForwardToLeader both when it refused the entry (this node did not
    // lead) and when it appended it and then lost the leadership; only the first may be
    // sent again. Metrics lag the core, so a leader that just stepped down may still
    // count as one here: its refusal is then reported as unknown, which is safe.
    let leading = raft.metrics().borrow().state.is_leader();
    let written = tokio::time::timeout_at(deadline, raft.client_write(entry))
        .await
        .map_err(|_| Refused::TimedOut)?;
    let response = match written {
        Ok(written) => written.data,
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) if leading => {
            return Err(Refused::SteppedDown)
        }
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward))) => {
            return Err(Refused::not_leader(&forward))
        }
        Err(e) => return Err(Refused::Failed(e.to_string())),
    };
    match response {
        Response::Command(result) if len == 1 => Ok(vec![result]),
        // A batch refused whole: every command gets the rejection (none ran).
        Response::Command(Err(rejection)) => Ok(vec![Err(rejection); len]),
        Response::Batch(results) if results.len() == len => Ok(results),
        other => Err(Refused::Failed(format!(
            "an entry of {len} commands answered {other:?}"
        ))),
    }
}
