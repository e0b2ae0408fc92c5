//! One replica's instance on this node: a node of its own for the module, and the loop
//! that feeds it events, one turn each: messages of a Cell's queues, requests to an
//! HttpService's endpoint, ticks of a Timer.
//!
//! A queue message's turn commits with its acknowledgement; a trap commits nothing, so
//! the message comes again after the queue's visibility timeout, and the instance backs
//! off (100 ms, doubling to 5 s). A request's trap answers 500. Ticks fall on the
//! multiples of the period since the epoch, so a Timer placed again keeps its rhythm.
//! An idle instance polls its queues from every 2 ms up to every 100 ms; requests wake
//! it at once.

use super::http::{self, HttpEvent};
use super::report::Reports;
use super::{sleep_unless, Status};
use crate::cli::node_cmd::programs;
use crate::cli::node_cmd::resources::Cluster;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_compiler::manifest::{HandlerDesc, ResourceDesc};
use weft_compiler::Artifact;
use weft_resources::kinds::queue::{self, Taken};
use weft_resources::kinds::{self, CellSpec, HandlerSpec, Kv, Record};
use weft_resources::{Command, Compare, CompareOp, Op};
use weft_runtime::agents::{Node as ProgramNode, NodeSettings};
use weft_runtime::resources::ResourceWrite;
use weft_runtime::{Output, RunLimits};

/// How long one event may take.
const EVENT_TIME_LIMIT_MS: u64 = 1000;
/// The most memory an instance gets, whatever its resource asks (the runtime's slot
/// size).
const MEMORY_MAX: i64 = 256 << 20;
/// How often an instance reports its counters when they change.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// The longest an idle instance waits before it looks at its queues and its stop flag.
const IDLE_MAX: Duration = Duration::from_millis(100);
/// The shortest period of a Timer.
const PERIOD_MIN_NS: i64 = 1_000_000;
/// Where endpoints are recorded: `/endpoints/PROGRAM/NAME/R`.
pub const ENDPOINTS: &str = "/endpoints/";

/// What an instance is started with.
pub struct Placed {
    pub kv: Arc<dyn Kv>,
    pub handle: String,
    pub replica: u32,
    pub spec: CellSpec,
    pub record: Record,
    /// This node's name.
    pub me: String,
    /// The host its endpoints listen on.
    pub host: String,
    pub output: Output,
    /// Where its statuses go.
    pub reports: Reports,
}

/// The instance's running parts.
struct Running {
    node: ProgramNode,
    artifact: Arc<Artifact>,
    /// The endpoint, with its requests, for an HttpService.
    endpoint: Option<(http::Endpoint, Receiver<HttpEvent>, Vec<u8>)>,
}

/// Runs the instance until `stop` (see the module's description).
pub fn run(p: Placed, stop: Arc<AtomicBool>) {
    let mut status = Status {
        cell: p.handle.clone(),
        replica: p.replica,
        node: p.me.clone(),
        state: "created".into(),
        since_ms: kinds::now_ms(),
        ..Status::default()
    };
    p.reports.send(&status);
    let Some(mut running) = start(&p, &stop, &mut status) else {
        return;
    };
    status.state = "running".into();
    status.since_ms = kinds::now_ms();
    p.reports.send(&status);
    serve(&p, &mut running, &stop, &mut status);
    status.state = "stopping".into();
    p.reports.send(&status);
    if let Some((_, _, mine)) = running.endpoint.take() {
        unpublish(&*p.kv, &p.handle, p.replica, mine);
    }
    running.node.stop(Duration::from_secs(5));
    status.state = "dead".into();
    status.since_ms = kinds::now_ms();
    p.reports.send(&status);
}

/// The module, a node for it and, for a service, its endpoint: tried again (with
/// back-off) until they come or the instance is stopped.
fn start(p: &Placed, stop: &AtomicBool, status: &mut Status) -> Option<Running> {
    let program = p.handle.split('/').next().unwrap_or_default().to_string();
    let memory = super::setting(&p.record, "memory", 64 << 20).clamp(1 << 20, MEMORY_MAX);
    let mut backoff = Duration::from_millis(100);
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let made = super::modules::load(&*p.kv, &p.spec.module).and_then(|artifact| {
            let rt = programs::runtime()?;
            let mut settings = NodeSettings::new(std::env::temp_dir().join("weft-cells"));
            settings.program = program.clone();
            settings.turn_limits = RunLimits {
                deadline_ms: Some(EVENT_TIME_LIMIT_MS),
                memory_max_bytes: memory as usize,
                ..RunLimits::default()
            };
            settings.capabilities = p
                .record
                .settings
                .iter()
                .find(|(n, _)| n == "capabilities")
                .map(|(_, mask)| *mask);
            settings.secrets = granted_secrets(&artifact, &p.spec);
            let node = ProgramNode::new(
                rt,
                artifact.clone(),
                p.output.clone(),
                p.output.clone(),
                settings,
            );
            let cluster = Arc::new(Cluster::new(p.kv.clone(), &program));
            if !p.spec.volumes.is_empty() {
                cluster.set_volumes(super::volumes::Access::claim(
                    super::volumes::sizes(&*p.kv, &p.spec.volumes)?,
                    super::volumes::next_token(),
                ));
            }
            node.set_resources(cluster.clone());
            let endpoint = if p.spec.handlers.iter().any(|h| h.event == "http") {
                let (endpoint, requests) = http::serve(&p.host)?;
                let mine = publish(&*p.kv, p, &endpoint.address)?;
                let _ = p.output.write_str(&format!(
                    "service {} replica {}: http://{}\n",
                    p.handle, p.replica, endpoint.address
                ));
                Some((endpoint, requests, mine))
            } else {
                None
            };
            Ok(Running {
                node,
                artifact,
                endpoint,
            })
        });
        match made {
            Ok(r) => return Some(r),
            Err(e) => {
                status.last_error = e;
                p.reports.send(status);
                sleep_unless(stop, backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Records the endpoint, ready: the module is loaded and the port listens.
fn publish(kv: &dyn Kv, p: &Placed, address: &str) -> Result<Vec<u8>, String> {
    let value = serde_json::to_vec(&serde_json::json!({
        "node": p.me,
        "address": address,
        "ready": true,
    }))
    .map_err(|e| e.to_string())?;
    kv.write(Command::Put {
        key: endpoint_key(&p.handle, p.replica),
        value: value.clone(),
        lease: None,
        prev_kv: false,
    })?;
    Ok(value)
}

/// Removes the endpoint's record, unless another instance has written its own since.
fn unpublish(kv: &dyn Kv, handle: &str, r: u32, mine: Vec<u8>) {
    let key = endpoint_key(handle, r);
    let _ = kv.write(Command::Txn {
        compare: vec![Compare::value(key.clone(), CompareOp::Equal, mine)],
        success: vec![Op::Delete {
            keys: weft_resources::Keys::One(key),
            prev_kv: false,
        }],
        failure: vec![],
    });
}

pub fn endpoint_key(handle: &str, r: u32) -> Vec<u8> {
    format!("{ENDPOINTS}{handle}/{r}").into_bytes()
}

/// Where the endpoints of service `handle` are.
pub fn endpoints_prefix(handle: &str) -> Vec<u8> {
    format!("{ENDPOINTS}{handle}/").into_bytes()
}

/// The Secrets the handlers captured (as values of their own, not inside others): what
/// this instance may read.
fn granted_secrets(artifact: &Artifact, spec: &CellSpec) -> Vec<String> {
    let mut out = vec![];
    for h in &spec.handlers {
        if let Some((r, d)) = desc(artifact, &h.export) {
            out.extend(super::volumes::captured_handles(
                &r.types,
                &d.captures,
                &h.captures,
                "Secret",
            ));
        }
    }
    out
}

/// The handler's description in the module's manifest, with its resource's.
fn desc<'a>(artifact: &'a Artifact, export: &str) -> Option<(&'a ResourceDesc, &'a HandlerDesc)> {
    artifact
        .manifest
        .resources
        .iter()
        .flat_map(|r| r.handlers.iter().map(move |h| (r, h)))
        .find(|(_, h)| h.export == export)
}

/// The next multiple of `period_ns` after now, as an instant.
fn next_tick(period_ns: i64) -> Instant {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let wait = period_ns - now_ns.rem_euclid(period_ns);
    Instant::now() + Duration::from_nanos(wait as u64)
}

/// The event loop, until `stop`.
fn serve(p: &Placed, running: &mut Running, stop: &AtomicBool, status: &mut Status) {
    // Each timer with its period (a Cell's own, else the Timer's `every`) and next tick.
    let every = super::setting(&p.record, "every", 0);
    let mut ticks: Vec<(&HandlerSpec, i64, Instant)> = p
        .spec
        .handlers
        .iter()
        .filter(|h| h.event == "tick")
        .map(|h| {
            let period = if h.period_ns > 0 { h.period_ns } else { every };
            let period = period.max(PERIOD_MIN_NS);
            (h, period, next_tick(period))
        })
        .collect();
    let mut reported = status.clone();
    let mut last_report = Instant::now();
    let mut idle = Duration::from_millis(2);
    let mut backoff = Duration::from_millis(100);
    let mut sent = super::kick::SENT.seen();
    let mut receivers: Vec<(&HandlerSpec, Option<queue::Receiver>)> = p
        .spec
        .handlers
        .iter()
        .filter(|h| h.event == "queue")
        .map(|h| (h, None))
        .collect();
    while !stop.load(Ordering::Relaxed) {
        let mut any = false;
        if let Some((_, requests, _)) = &running.endpoint {
            while let Ok(e) = requests.try_recv() {
                request(p, running, e, status);
                any = true;
            }
        }
        for (h, period, at) in &mut ticks {
            if Instant::now() >= *at {
                let _ = event(p, running, h, h.captures.clone(), None, status);
                *at = next_tick(*period);
                any = true;
            }
        }
        any |= queues(p, running, &mut receivers, stop, status, &mut backoff);
        if *status != reported && last_report.elapsed() >= REPORT_EVERY {
            p.reports.send(status);
            reported = status.clone();
            last_report = Instant::now();
        }
        if any {
            idle = Duration::from_millis(2);
            continue;
        }
        let mut wait = idle.min(IDLE_MAX);
        if let Some(first) = ticks.iter().map(|(_, _, at)| *at).min() {
            wait = wait.min(first.saturating_duration_since(Instant::now()));
        }
        match &running.endpoint {
            Some((_, requests, _)) => match requests.recv_timeout(wait) {
                Ok(e) => request(p, running, e, status),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
            },
            None => {
                sent = super::kick::SENT.wait(sent, wait);
            }
        }
        idle = (idle * 2).min(IDLE_MAX);
    }
}

/// Takes a batch from each of the instance's queues (its receiving end made on first
/// use) and handles it; whether there were messages.
fn queues(
    p: &Placed,
    running: &Running,
    receivers: &mut [(&HandlerSpec, Option<queue::Receiver>)],
    stop: &AtomicBool,
    status: &mut Status,
    backoff: &mut Duration,
) -> bool {
    let mut any = false;
    for (h, receiver) in receivers.iter_mut() {
        if receiver.is_none() {
            match kinds::by_handle(&*p.kv, &h.source) {
                Ok(r) => {
                    let lanes = super::replicas(&p.record);
                    *receiver = Some(queue::Receiver::new(&r, p.replica, lanes));
                }
                Err(e) => {
                    status.last_error = e;
                    continue;
                }
            }
        }
        let Some(receiver) = receiver.as_mut() else {
            continue;
        };
        match receiver.take(&*p.kv) {
            Ok(taken) if taken.is_empty() => {}
            Ok(taken) => {
                any = true;
                batch(p, running, h, receiver, taken, stop, status, backoff);
            }
            Err(e) => status.last_error = e,
        }
    }
    any
}

/// Handles taken messages one turn each, each committed with its acknowledgement. The
/// ones left when the instance stops, or after a trap (which backs it off), go back to
/// the queue.
#[allow(clippy::too_many_arguments)]
fn batch(
    p: &Placed,
    running: &Running,
    h: &HandlerSpec,
    receiver: &queue::Receiver,
    taken: Vec<Taken>,
    stop: &AtomicBool,
    status: &mut Status,
    backoff: &mut Duration,
) {
    let mut left = taken.into_iter();
    while let Some(t) = left.next() {
        if stop.load(Ordering::Relaxed) {
            let rest: Vec<Taken> = std::iter::once(t).chain(left).collect();
            let _ = receiver.release(&*p.kv, &rest);
            return;
        }
        let mut args = h.captures.clone();
        args.extend_from_slice(&t.body);
        let ack = ResourceWrite::Ack {
            handle: h.source.clone(),
            receipt: t.receipt.to_bytes(),
        };
        if event(p, running, h, args, Some(ack), status).is_ok() {
            *backoff = Duration::from_millis(100);
            continue;
        }
        let rest: Vec<Taken> = left.collect();
        let _ = receiver.release(&*p.kv, &rest);
        p.reports.send(status);
        sleep_unless(stop, *backoff);
        *backoff = (*backoff * 2).min(Duration::from_secs(5));
        return;
    }
}

/// Runs one event's turn; counts it, and reports a trap.
fn event(
    p: &Placed,
    running: &Running,
    h: &HandlerSpec,
    args: Vec<u8>,
    ack: Option<ResourceWrite>,
    status: &mut Status,
) -> Result<Vec<u8>, String> {
    match running.node.handle_event(&h.export, args, ack) {
        Ok(reply) => {
            status.handled += 1;
            Ok(reply)
        }
        Err(e) => {
            status.failed += 1;
            status.restarts += 1;
            status.last_error = e.lines().next().unwrap_or("").to_string();
            let on = if h.source.is_empty() {
                &h.event
            } else {
                &h.source
            };
            let _ = p.output.write_str(&format!(
                "error: in {} replica {} on {on}: {e}\n",
                p.handle, p.replica
            ));
            Err(e)
        }
    }
}

/// Handles one request and answers it.
fn request(p: &Placed, running: &Running, e: HttpEvent, status: &mut Status) {
    let Some(h) = p.spec.handlers.iter().find(|h| h.event == "http") else {
        return;
    };
    let Some((r, d)) = desc(&running.artifact, &h.export) else {
        let _ = e
            .reply
            .send((500, vec![], "the handler is not in the module".into()));
        return;
    };
    let mut args = h.captures.clone();
    args.extend(http::encode_request(&e));
    let answer = event(p, running, h, args, None, status)
        .and_then(|bytes| http::decode_response(&bytes, &d.reply, &r.types));
    let answer = match answer {
        Ok(a) => a,
        Err(why) => {
            let text = format!("the service failed: {}\n", why.lines().next().unwrap_or(""));
            (500, vec![], text)
        }
    };
    let _ = e.reply.send(answer);
}
