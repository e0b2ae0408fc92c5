//! One WARP connection: reads envelopes from the client, links and unlinks its lanes,
//! runs its commands, and writes what the node sends it.
//!
//! The socket loop never blocks a thread: linking (which may activate an agent) and
//! commands (turns) go, in the order they arrived, to one worker per connection that runs
//! them on tokio's blocking pool. When [`super::LINK_OPS_MAX`] of them wait, the loop
//! leaves the socket unread until one is done, so TCP holds a client back that sends
//! faster than its commands run. Everything the client receives goes through the connection's
//! [`Sink`], which the node's fan-out thread writes events to straight away; this
//! connection's writer only sends what had to wait for the socket. A client that reads
//! too slowly for its queue ([`super::LINK_QUEUE_MAX`]), or sends anything but WARP
//! envelopes in WebSocket text messages, is disconnected with a close frame saying why.

use crate::agents::{Flush, Frame, LinkError, Node, Sink, Wire};
use crate::warp::{Envelope, LaneAddressed, LinkAddressed, Value};
use crate::ws::{self, Message};
use std::io::{self, IoSlice};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

/// How long a closing connection waits for its close frame (and what was queued before
/// it) to leave, in milliseconds (`close_wait_ms`).
const CLOSE_WAIT_MS: u64 = 1000;

/// What the worker does for the client, in order.
enum Op {
    Link { addr: LinkAddressed, sync: bool },
    Unlink(LaneAddressed),
    Command(LaneAddressed),
}

impl Wire for TcpStream {
    fn try_write(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.try_write_vectored(bufs)
    }
}

/// Serves WARP on `stream`, upgraded to WebSocket already; `early` are bytes the client
/// sent right behind its handshake.
pub(super) async fn connection(
    node: Node,
    stream: TcpStream,
    early: &[u8],
    mut stop: watch::Receiver<bool>,
) {
    let stream = Arc::new(stream);
    let sink = Sink::new(super::LINK_QUEUE_MAX, stream.clone());
    let writer = tokio::spawn(write_queued(sink.clone(), stream.clone()));
    let (ops, ops_rx) = mpsc::channel(super::LINK_OPS_MAX);
    let worker = tokio::spawn(work(node.clone(), sink.clone(), ops_rx));
    let mut reader = ws::Reader::new(super::FRAME_BYTES_MAX);
    reader.feed(early);
    let mut chunk = vec![0u8; super::READ_BUFFER_BYTES];
    // Made once, not per read: each would register with its notifier again.
    let trouble = sink.trouble().notified();
    let stopping = stopped(&mut stop);
    tokio::pin!(trouble, stopping);
    let close = 'conn: loop {
        loop {
            let msg = match reader.message() {
                Ok(Some(msg)) => msg,
                Ok(None) => break,
                Err(e) => break 'conn Some((e.code(), e.to_string())),
            };
            match msg {
                Message::Text(text) => match Envelope::parse(&text) {
                    Ok(env) => match handle(env) {
                        Handled::Reply(reply) => {
                            sink.push(&Frame::text(&reply.to_text()));
                        }
                        // A full queue holds the socket unread (back-pressure), but not
                        // past the client's being cut off or the node's stopping.
                        Handled::Op(op) => tokio::select! {
                            sent = ops.send(op) => if sent.is_err() { break 'conn None },
                            _ = &mut trouble => break 'conn too_slow(&sink),
                            _ = &mut stopping => break 'conn Some(node_stopping()),
                        },
                        Handled::Nothing => {}
                    },
                    Err(e) => break 'conn Some((1007, format!("not a WARP envelope: {e}"))),
                },
                Message::Binary(_) => {
                    break 'conn Some((1003, "WARP envelopes are text frames".to_string()))
                }
                Message::Ping(payload) => {
                    sink.push(&Frame::pong(&payload));
                }
                Message::Pong => {}
                Message::Close(_) => break 'conn Some((1000, String::new())),
            }
        }
        tokio::select! {
            ready = stream.readable() => {
                if ready.is_err() {
                    break None;
                }
                match stream.try_read(&mut chunk) {
                    Ok(0) => break None,
                    Ok(n) => reader.feed(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => break None,
                }
            }
            _ = &mut trouble => break too_slow(&sink),
            _ = &mut stopping => break Some(node_stopping()),
        }
    };
    drop(ops);
    node.unlink_all(sink.id());
    sink.close(close.map(|(code, reason)| Frame::close(code, &reason)));
    let _ = tokio::time::timeout(Duration::from_millis(CLOSE_WAIT_MS), writer).await;
    let _ = worker.await;
    // A link the worker made while the connection was ending.
    node.unlink_all(sink.id());
}

/// The close for a node that is stopping.
fn node_stopping() -> (u16, String) {
    (1001, "the node is stopping".to_string())
}

/// The close for a client its sink cut off as too slow, or none if the socket failed.
fn too_slow(sink: &Sink) -> Option<(u16, String)> {
    sink.cut().then(|| {
        (
            1008,
            format!(
                "too slow: more than {} frames waited for this client (link_queue_max)",
                super::LINK_QUEUE_MAX
            ),
        )
    })
}

/// Writes what the sink queued while the socket was full, as the socket drains.
async fn write_queued(sink: Sink, stream: Arc<TcpStream>) {
    loop {
        match sink.flush() {
            Flush::Empty => sink.queued().await,
            Flush::Blocked => {
                if stream.writable().await.is_err() {
                    sink.close(None);
                    return;
                }
            }
            Flush::Done => return,
        }
    }
}

/// Resolves once the node is stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// What a client's envelope asks of the connection.
enum Handled {
    /// An answer at once.
    Reply(Envelope),
    /// Work for the connection's worker, in order.
    Op(Op),
    Nothing,
}

fn handle(env: Envelope) -> Handled {
    let op = match env {
        Envelope::Link(addr) => Op::Link { addr, sync: false },
        Envelope::Sync(addr) => Op::Link { addr, sync: true },
        Envelope::Unlink(addr) => Op::Unlink(addr),
        Envelope::Command(addr) => Op::Command(addr),
        // No credentials are checked yet: every client is accepted as it is.
        Envelope::Auth(_) => return Handled::Reply(Envelope::Authed(Value::Absent)),
        Envelope::Deauth(_) => return Handled::Reply(Envelope::Deauthed(Value::Absent)),
        // Envelopes only a server sends mean nothing here.
        _ => return Handled::Nothing,
    };
    Handled::Op(op)
}

/// Runs the connection's links and commands one after another.
async fn work(node: Node, sink: Sink, mut ops: mpsc::Receiver<Op>) {
    while let Some(op) = ops.recv().await {
        let (node, sink) = (node.clone(), sink.clone());
        let done = tokio::task::spawn_blocking(move || run(&node, &sink, op)).await;
        if done.is_err() {
            break;
        }
    }
}

fn run(node: &Node, sink: &Sink, op: Op) {
    let reply = match op {
        Op::Link { addr, sync } => {
            let linked = Envelope::Linked(LinkAddressed {
                body: Value::Absent,
                ..addr.clone()
            });
            let synced = Envelope::synced(addr.node.as_str(), addr.lane.as_str());
            match node.link(
                &addr.node,
                &addr.lane,
                sync,
                sink,
                Frame::text(&linked.to_text()),
                Frame::text(&synced.to_text()),
            ) {
                Ok(()) => None,
                Err(LinkError::NodeNotFound) => {
                    Some(Envelope::node_not_found(addr.node, addr.lane))
                }
                Err(LinkError::LaneNotFound) => {
                    Some(Envelope::lane_not_found(addr.node, addr.lane))
                }
                Err(LinkError::Failed(e)) => {
                    node.unlink(&addr.node, &addr.lane, sink.id());
                    Some(Envelope::unlinked(
                        addr.node,
                        addr.lane,
                        Value::of_attr("error", Value::text(e)),
                    ))
                }
            }
        }
        Op::Unlink(addr) => {
            node.unlink(&addr.node, &addr.lane, sink.id());
            Some(Envelope::unlinked(addr.node, addr.lane, Value::Absent))
        }
        Op::Command(addr) => {
            // A command has no reply in WARP: a failure is reported where turn failures
            // are, on the node's error output.
            if let Err(e) = node.command(&addr.node, &addr.lane, &addr.body) {
                node.report(&format!("error: a command over a link: {e}\n"));
            }
            None
        }
    };
    if let Some(reply) = reply {
        node.send_after_events(sink, vec![Frame::text(&reply.to_text())]);
    }
}
