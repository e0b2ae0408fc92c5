//! What a node asks of the cluster for the resources its program allocates with `new`:
//! the [`Resources`] a node is given (the control plane, local or remote), and the writes
//! a turn holds until it commits.

use weft_compiler::manifest::ResourceDesc;
use weft_lang::tir::ResourceOp;

/// A message taken from a queue: its wire bytes, and the receipt that acknowledges it.
pub type Received = (Vec<u8>, Vec<u8>);

/// A Cell's queue handler as `new` passes it: its source's handle and its wire-encoded
/// captures.
pub type Handler = (String, Vec<u8>);

/// The cluster, as the resources of one program see it. Values cross as wire bytes.
pub trait Resources: Send + Sync {
    /// Ensures the resource of `site` with these settings (in the site's order) and, for
    /// a Cell, each handler's source handle and wire-encoded captures; its handle.
    fn ensure(
        &self,
        site: &ResourceDesc,
        settings: &[i64],
        handlers: &[Handler],
    ) -> Result<String, String>;
    /// A read (`QueueLen`, `TableGet`, `TableScan`, `TableLen`) with its wire-encoded
    /// argument; the result's wire bytes.
    fn read(&self, handle: &str, op: ResourceOp, arg: &[u8]) -> Result<Vec<u8>, String>;
    /// Takes a message: its wire bytes and the receipt that acknowledges it.
    fn receive(&self, handle: &str) -> Result<Option<Received>, String>;
    /// Applies the writes, all or none.
    fn commit(&self, writes: Vec<ResourceWrite>) -> Result<(), String>;
}

/// A write to a resource, held by a turn until it commits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceWrite {
    /// `QueueSend` (`a` the message), `TablePut` (`a` the key, `b` the value),
    /// `TableDelete` (`a` the key).
    Op {
        handle: String,
        op: ResourceOp,
        a: Vec<u8>,
        b: Vec<u8>,
    },
    /// Acknowledges a message taken with `receive`.
    Ack { handle: String, receipt: Vec<u8> },
}
