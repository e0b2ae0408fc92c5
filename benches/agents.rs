//! `cargo bench --bench agents`: what a node does per second and how fast links hear of
//! changes, printed as figures in one run.
//!
//! - read-only turns: a method that returns a lane, called in a loop, from one thread and
//!   from one thread per core on different agents;
//! - lane-writing turns: a method that increments a value lane, each turn durable before
//!   its reply, from many threads on different agents (commits grouped when they overlap;
//!   `-- writes` runs only these);
//! - one-way sends: one turn sends 20,000 increments to 1 or to 64 agents; the time until
//!   all were handled (one agent's messages go one at a time; different agents' at once);
//! - link fan-out: 1,000 WebSocket clients (`FAN_OUT=N` for another number) linked over
//!   WARP, the time from the start of a call to each client's receipt of its event (p50,
//!   p99, max): to a value lane the call changes (the event leaves once the change is
//!   durable, so the flush's time is in it), and to a command lane whose command writes
//!   nothing (the node's fan-out alone), next to the same clients on a bare
//!   tokio-tungstenite broadcast server;
//! - command round trips over WARP from 1, 16 and 64 connections (send, wait for the
//!   change's event, repeat), the workload `bench/swimos` runs on SwimOS.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use weft::cli::node::{self, DataDir};
use weft::Io;
use weft_runtime::agents::Node;
use weft_runtime::api::Api;
use weft_runtime::RunLimits;

const PROGRAM: &str = r#"
agent Counter at "/counters/:id" {
  value n: Int = 0
  fn get() -> Int { n }
  fn incr() -> Int { n += 1; n }
  command ping(round: Int) {}
  command bump() { n += 1 }
}

agent Fan at "/fans/:id" {
  /// Sends `incr` to `n` counters, `targets` different ones in turn.
  fn go(n: Int, targets: Int) {
    for i in 0..n { send Counter("/counters/s{i % targets}").incr() }
  }
}
fn main() {}
"#;

fn start(data: &DataDir) -> Node {
    let io = Io::buffers();
    let path = std::env::temp_dir().join(format!("weft-bench-agents-{}.weft", std::process::id()));
    std::fs::write(&path, PROGRAM).expect("write the program");
    let checked = weft::cli::check(&path.to_string_lossy(), &io)
        .unwrap_or_else(|_| panic!("{}", io.err.take()));
    let artifact =
        weft::cli::compile(&checked, &io).unwrap_or_else(|_| panic!("{}", io.err.take()));
    let limits = node::turn_limits(1000, &RunLimits::default());
    node::start(&artifact, data, limits.clone(), &limits, "bench", &io)
        .unwrap_or_else(|_| panic!("{}", io.err.take()))
}

fn method(node: &Node, name: &str) -> &'static str {
    let v = node.current();
    let m = v.manifest().agents[0]
        .methods
        .iter()
        .find(|m| m.name == name)
        .expect("method");
    Box::leak(m.name.clone().into_boxed_str())
}

/// Calls `method` on agent `/counters/{t}` from each of `threads` threads for `dur`;
/// returns calls per second.
fn throughput(node: &Node, method: &'static str, threads: usize, dur: Duration) -> f64 {
    let count = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (node, count, barrier) = (node.clone(), count.clone(), barrier.clone());
            std::thread::spawn(move || {
                let uri = format!("/counters/{t}");
                node.call(&uri, method, vec![]).expect("warm-up call");
                barrier.wait();
                let start = Instant::now();
                let mut n = 0;
                while start.elapsed() < dur {
                    for _ in 0..16 {
                        node.call(&uri, method, vec![]).expect("call");
                    }
                    n += 16;
                }
                count.fetch_add(n, Ordering::Relaxed);
                start.elapsed()
            })
        })
        .collect();
    let elapsed = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .max()
        .unwrap_or(dur);
    count.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
}

fn main() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let data = DataDir::given_or_temporary(None);
    let node = start(&data);
    let (get, incr) = (method(&node, "get"), method(&node, "incr"));
    let dur = Duration::from_secs(2);
    // `cargo bench --bench agents -- fan-out` measures the links only.
    if std::env::args().any(|a| a == "fan-out") {
        fan_out(&node, Watch::Lane);
        fan_out(&node, Watch::Command);
        fan_out_peer();
        round_trips(&node);
        return;
    }
    println!("agent turns on one node ({cores} cores), {:?} each:", dur);
    // `cargo bench --bench agents -- writes` measures lane-writing turns only.
    if std::env::args().any(|a| a == "writes") {
        for threads in [64, 256] {
            let w = throughput(&node, incr, threads, dur);
            println!(
                "  lane-writing turns, {threads:>2} threads     {:>10.0}/s",
                w
            );
        }
        return;
    }
    let one = throughput(&node, get, 1, dur);
    println!("  read-only turns, 1 thread          {:>10.0}/s", one);
    let all = throughput(&node, get, cores, dur);
    println!(
        "  read-only turns, {cores} threads         {:>10.0}/s  ({:.0}/s per core)",
        all,
        all / cores as f64
    );
    for threads in [1, 16, 64, 256] {
        let w = throughput(&node, incr, threads, dur);
        println!(
            "  lane-writing turns, {threads:>2} threads     {:>10.0}/s",
            w
        );
    }
    for targets in [1, 64] {
        let w = sends(&node, targets);
        println!("  one-way sends to {targets:>2} agents      {:>10.0}/s", w);
    }
    std::io::stdout().flush().ok();
    // `cargo bench --bench agents -- turns` skips the links.
    if !std::env::args().any(|a| a == "turns") {
        fan_out(&node, Watch::Lane);
        fan_out(&node, Watch::Command);
        fan_out_peer();
        round_trips(&node);
    }
    node.stop(Duration::from_secs(10));
}

/// One turn sends 20,000 `incr`s to `targets` counters; returns sends handled per second,
/// from the call until the node's queue is empty (each is a lane-writing turn).
fn sends(node: &Node, targets: i64) -> f64 {
    const N: i64 = 20_000;
    let mut args = N.to_le_bytes().to_vec();
    args.extend_from_slice(&targets.to_le_bytes());
    let start = Instant::now();
    node.call("/fans/a", "go", args).expect("go");
    assert!(
        node.drain(Duration::from_secs(300)),
        "the sends did not finish"
    );
    N as f64 / start.elapsed().as_secs_f64()
}

/// What the fan-out clients link to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// The value lane `n`, changed by `incr` (durable before its event).
    Lane,
    /// The command lane `ping`, run with the round's number and writing nothing.
    Command,
}

/// 1,000 WARP links to one lane; the latency of each event, measured from the start of
/// the call that causes it. The clients are tasks on one thread of their own (as a
/// browser tab or a Node.js process would hold many links), not one thread each.
fn fan_out(node: &Node, watch: Watch) {
    // `FAN_OUT=N` links N clients instead.
    let clients: usize = std::env::var("FAN_OUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    const ROUNDS: usize = 50;
    let api = Api::start(node.clone(), "127.0.0.1:0").expect("api");
    let addr = api.addr();
    let uri = "/counters/fan";
    let (incr, ping) = (method(node, "incr"), method(node, "ping"));
    node.call(uri, incr, vec![]).expect("activate");
    let base = node.call(uri, method(node, "get"), vec![]).expect("get");
    let base = i64::from_le_bytes(base.try_into().expect("an Int"));
    // The event's value, less this, is the round's number; a sync sends this many frames.
    let (lane, offset, sync_frames) = match watch {
        Watch::Lane => ("n", base + 1, 3),
        Watch::Command => ("ping", 0, 2),
    };
    let link = Link {
        addr,
        uri,
        lane,
        sync_frames,
        offset,
        rounds: ROUNDS,
    };
    let (linked, started, ready) = spawn_clients(link, clients);
    let until = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < clients {
        assert!(Instant::now() < until, "the clients did not all link");
        std::thread::sleep(Duration::from_millis(10));
    }
    for r in 0..ROUNDS {
        started.lock().expect("lock")[r] = Some(Instant::now());
        match watch {
            Watch::Lane => node.call(uri, incr, vec![]).expect("incr"),
            Watch::Command => node
                .call(uri, ping, (r as i64).to_le_bytes().to_vec())
                .expect("ping"),
        };
        std::thread::sleep(Duration::from_millis(50));
    }
    let what = match watch {
        Watch::Lane => "a value lane (durable change)",
        Watch::Command => "a command lane (no write)",
    };
    let label = format!("link fan-out to {clients} WebSocket clients, {ROUNDS} events on {what}");
    report(&label, linked.join().expect("clients"));
    api.stop();
}

/// The peer: the same clients and rounds against a bare tokio-tungstenite server that
/// broadcasts each frame to every connection (a tokio broadcast channel, a task per
/// connection): the floor of WebSocket fan-out on this machine, with no node behind it.
fn fan_out_peer() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let clients: usize = std::env::var("FAN_OUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    const ROUNDS: usize = 50;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tx, _) = tokio::sync::broadcast::channel::<Arc<str>>(64);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let btx = tx.clone();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tcp.set_nodelay(true).ok();
            let mut rx = btx.subscribe();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let _ = ws.next().await;
                while let Ok(frame) = rx.recv().await {
                    if ws.send(Message::text(frame.as_ref())).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let link = Link {
        addr,
        uri: "/peer",
        lane: "x",
        sync_frames: 0,
        offset: 0,
        rounds: ROUNDS,
    };
    let (linked, started, ready) = spawn_clients(link, clients);
    let until = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < clients || tx.receiver_count() < clients {
        assert!(Instant::now() < until, "the clients did not all connect");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Every server task has read its client's first frame once the count settles.
    std::thread::sleep(Duration::from_millis(200));
    for r in 0..ROUNDS {
        started.lock().expect("lock")[r] = Some(Instant::now());
        let _ = tx.send(Arc::from(format!("@event(node:\"/peer\",lane:x) {r}")));
        std::thread::sleep(Duration::from_millis(50));
    }
    let label = format!(
        "peer: bare tokio-tungstenite broadcast to {clients} clients, {ROUNDS} frames:         "
    );
    report(&label, linked.join().expect("clients"));
}

/// Command round trips over WARP, as SwimOS's peer measures them (`bench/swimos`): K
/// connections, each linked to `n` of its own agent, each sending `@command(lane:bump)`
/// and waiting for the `n` event it causes before sending the next, for 2 seconds. Each
/// round trip is a lane-writing turn, durable before its event.
fn round_trips(node: &Node) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let api = Api::start(node.clone(), "127.0.0.1:0").expect("api");
    let addr = api.addr();
    for k in [1usize, 16, 64] {
        let rate = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut conns = vec![];
                for i in 0..k {
                    let uri = format!("/counters/rt{k}-{i}");
                    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
                        .await
                        .expect("connect");
                    ws.send(Message::text(format!("@sync(node:\"{uri}\",lane:n)")))
                        .await
                        .expect("send");
                    let mut n = 0;
                    loop {
                        let t = ws.next().await.expect("open").expect("frame");
                        let t = t.into_text().expect("text");
                        if t.starts_with("@synced") {
                            break;
                        }
                        if let Some(v) = event_int(&t) {
                            n = v;
                        }
                    }
                    conns.push((ws, uri, n));
                }
                let start = Instant::now();
                let deadline = start + Duration::from_secs(2);
                let tasks: Vec<_> = conns
                    .into_iter()
                    .map(|(mut ws, uri, mut n)| {
                        tokio::spawn(async move {
                            let mut count = 0u64;
                            let bump = format!("@command(node:\"{uri}\",lane:bump)");
                            while Instant::now() < deadline {
                                ws.send(Message::text(bump.as_str())).await.expect("send");
                                loop {
                                    let t = ws.next().await.expect("open").expect("frame");
                                    let t = t.into_text().expect("text");
                                    if event_int(&t) == Some(n + 1) {
                                        n += 1;
                                        break;
                                    }
                                }
                                count += 1;
                            }
                            count
                        })
                    })
                    .collect();
                let mut total = 0;
                for t in tasks {
                    total += t.await.expect("connection");
                }
                total as f64 / start.elapsed().as_secs_f64()
            })
        })
        .join()
        .expect("round trips");
        println!("command round trips over WARP, {k:>2} connections      {rate:>10.0}/s");
    }
    api.stop();
}

/// The integer body of an `@event` frame.
fn event_int(frame: &str) -> Option<i64> {
    if !frame.starts_with("@event") {
        return None;
    }
    frame.rsplit(')').next()?.trim().parse().ok()
}

type Started = Arc<std::sync::Mutex<Vec<Option<Instant>>>>;

/// Starts `n` clients of `link` as tasks on a thread of their own; returns the thread
/// (which ends with every latency measured), the rounds' start times to fill in, and the
/// count of clients ready.
fn spawn_clients(
    link: Link,
    n: usize,
) -> (
    std::thread::JoinHandle<Vec<Duration>>,
    Started,
    Arc<AtomicUsize>,
) {
    let started: Started = Arc::new(std::sync::Mutex::new(vec![None; link.rounds]));
    let ready = Arc::new(AtomicUsize::new(0));
    let (st, rd) = (started.clone(), ready.clone());
    let thread = std::thread::Builder::new()
        .name("clients".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let tasks: Vec<_> = (0..n)
                    .map(|_| tokio::spawn(client(link, st.clone(), rd.clone())))
                    .collect();
                let mut all = vec![];
                for t in tasks {
                    all.extend(t.await.expect("client"));
                }
                all
            })
        })
        .expect("spawn");
    (thread, started, ready)
}

/// Prints p50, p99 and the maximum of `all` after `label`.
fn report(label: &str, mut all: Vec<Duration>) {
    all.sort();
    let q = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{label}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        q(0.5).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        all[all.len() - 1].as_secs_f64() * 1e3
    );
}

/// Where a client links and how to read its events.
#[derive(Clone, Copy)]
struct Link {
    addr: std::net::SocketAddr,
    uri: &'static str,
    lane: &'static str,
    sync_frames: usize,
    offset: i64,
    rounds: usize,
}

/// One linked client: syncs, says it is ready, then times `rounds` events.
async fn client(link: Link, started: Started, ready: Arc<AtomicUsize>) -> Vec<Duration> {
    let Link {
        addr,
        uri,
        lane,
        sync_frames,
        offset,
        rounds,
    } = link;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    // A small read buffer, as the node's own side uses: tungstenite zeroes the whole
    // buffer on every read, and the 128 KiB default would make the clients, not the
    // server, the measure of a fan-out.
    let config =
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), Some(config), true)
            .await
            .expect("connect");
    ws.send(Message::text(format!("@sync(node:\"{uri}\",lane:{lane})")))
        .await
        .expect("send");
    // @linked, the state (if any), @synced.
    for _ in 0..sync_frames {
        ws.next().await.expect("open").expect("sync");
    }
    ready.fetch_add(1, Ordering::SeqCst);
    let mut lat = Vec::with_capacity(rounds);
    while lat.len() < rounds {
        let msg = ws.next().await.expect("open").expect("event");
        let t = Instant::now();
        let text = msg.into_text().expect("text");
        let v: i64 = text
            .rsplit(' ')
            .next()
            .and_then(|v| v.trim().parse().ok())
            .expect("a value event");
        let s = started.lock().expect("lock")[(v - offset) as usize].expect("started");
        lat.push(t - s);
    }
    lat
}
