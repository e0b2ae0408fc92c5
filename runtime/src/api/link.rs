//! One WARP connection: reads envelopes from the client, links and unlinks its lanes,
//! runs its commands, and writes what the node queues for it.
//!
//! The socket loop never blocks: linking (which may activate an agent) and commands
//! (turns) go, in the order they arrived, to one worker per connection that runs them on
//! tokio's blocking pool. Everything the client receives goes through the connection's
//! [`Sink`], so `@linked`, the state, `@synced` and later events arrive in order. A
//! client that reads too slowly for its queue ([`super::LINK_QUEUE_MAX`]) or sends a
//! frame that is not a WARP envelope is disconnected with a close frame saying why.

use crate::agents::{LinkError, Node, Sink};
use crate::warp::{Envelope, LaneAddressed, LinkAddressed, Value};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// What the worker does for the client, in order.
enum Op {
    Link { addr: LinkAddressed, sync: bool },
    Unlink(LaneAddressed),
    Command(LaneAddressed),
}

pub(super) async fn connection(node: Node, mut socket: WebSocket, mut stop: watch::Receiver<bool>) {
    let (sink, mut out, overflow) = Sink::new(super::LINK_QUEUE_MAX);
    let (ops, ops_rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(work(node.clone(), sink.clone(), ops_rx));
    // Made once, not per frame: each would register with its notifier again.
    let overflowed = overflow.notified();
    let stopping = stopped(&mut stop);
    tokio::pin!(overflowed, stopping);
    let close = loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(text))) => match Envelope::parse(text.as_str()) {
                    Ok(env) => {
                        if let Some(reply) = handle(env, &ops) {
                            sink.push(Arc::from(reply.to_text()));
                        }
                    }
                    Err(e) => break Some((1007, format!("not a WARP envelope: {e}"))),
                },
                Some(Ok(Message::Binary(_))) => {
                    break Some((1003, "WARP envelopes are text frames".to_string()))
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                Some(Ok(_)) => {}
            },
            frame = out.recv() => {
                let Some(frame) = frame else { break None };
                if socket.send(Message::Text(frame.as_ref().into())).await.is_err() {
                    break None;
                }
            }
            _ = &mut overflowed => {
                break Some((1008, format!(
                    "too slow: more than {} frames waited for this client (link_queue_max)",
                    super::LINK_QUEUE_MAX
                )));
            }
            _ = &mut stopping => break Some((1001, "the node is stopping".to_string())),
        }
    };
    drop(ops);
    node.unlink_all(sink.id());
    if let Some((code, reason)) = close {
        // A close reason is at most 123 bytes.
        let mut reason = reason;
        while reason.len() > 123 {
            reason.pop();
        }
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
    let _ = worker.await;
    node.unlink_all(sink.id());
}

/// Resolves once the node is stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Queues the work an envelope asks for; returns an immediate reply, if any.
fn handle(env: Envelope, ops: &mpsc::UnboundedSender<Op>) -> Option<Envelope> {
    let op = match env {
        Envelope::Link(addr) => Op::Link { addr, sync: false },
        Envelope::Sync(addr) => Op::Link { addr, sync: true },
        Envelope::Unlink(addr) => Op::Unlink(addr),
        Envelope::Command(addr) => Op::Command(addr),
        // No credentials are checked yet: every client is accepted as it is.
        Envelope::Auth(_) => return Some(Envelope::Authed(Value::Absent)),
        Envelope::Deauth(_) => return Some(Envelope::Deauthed(Value::Absent)),
        // Envelopes only a server sends mean nothing here.
        _ => return None,
    };
    let _ = ops.send(op);
    None
}

/// Runs the connection's links and commands one after another.
async fn work(node: Node, sink: Sink, mut ops: mpsc::UnboundedReceiver<Op>) {
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
                Arc::from(linked.to_text()),
                Arc::from(synced.to_text()),
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
        sink.push(Arc::from(reply.to_text()));
    }
}
