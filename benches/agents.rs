//! `cargo bench --bench agents`: what a node does per second and how fast links hear of
//! changes, printed as figures in one run.
//!
//! - read-only turns: a method that returns a lane, called in a loop, from one thread and
//!   from one thread per core on different agents;
//! - lane-writing turns: a method that increments a value lane, each turn durable before
//!   its reply, from many threads on different agents (commits grouped when they overlap;
//!   `-- writes` runs only these);
//! - one-way sends: one turn sends 100,000 increments to 1 or to 64 agents; the time until
//!   all were handled, each a lane-writing turn durable before its effects are seen (a
//!   dispatcher runs up to 64 at once, an agent's in order, and commits them together);
//! - link fan-out: 1,000 WebSocket clients (`FAN_OUT=N` for another number) linked over
//!   WARP, the time from the start of a call to each client's receipt of its event (p50,
//!   p99, max): to a value lane the call changes (the event leaves once the change is
//!   durable, so the flush's time is in it), and to a command lane whose command writes
//!   nothing (the node's fan-out alone), next to the same clients on a bare
//!   tokio-tungstenite broadcast server and on plain sockets written in a loop (the
//!   kernel's floor);
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
    node::start(
        &artifact,
        data,
        limits.clone(),
        &limits,
        "bench",
        &io,
        |_| {},
    )
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
        fan_out_floor();
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
        println!("  one-way sends to {targets:>2} agents      {:>10.0}/s  (lane-writing turns, committed in batches)", w);
    }
    std::io::stdout().flush().ok();
    // `cargo bench --bench agents -- turns` skips the links.
    if !std::env::args().any(|a| a == "turns") {
        fan_out(&node, Watch::Lane);
        fan_out(&node, Watch::Command);
        fan_out_peer();
        fan_out_floor();
        round_trips(&node);
    }
    node.stop(Duration::from_secs(10));
}

/// One turn sends 100,000 `incr`s to `targets` counters; returns sends handled per second,
/// from the call until the node's queue is empty (each is a lane-writing turn).
fn sends(node: &Node, targets: i64) -> f64 {
    const N: i64 = 100_000;
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

/// How many clients a fan-out links: 1,000, or `FAN_OUT=N`.
fn fan_out_clients() -> usize {
    std::env::var("FAN_OUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
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
    let clients = fan_out_clients();
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
    let clients = fan_out_clients();
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

/// The floor: the same clients and rounds against plain sockets that get the frame's
/// bytes written to each of them, split between one thread per core as the node's
/// fan-out splits it, with nothing else running: what the kernel's loopback writes cost
/// on this machine.
fn fan_out_floor() {
    use std::io::{Read, Write};
    let clients = fan_out_clients();
    const ROUNDS: usize = 50;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accept = std::thread::spawn(move || {
        (0..clients)
            .map(|_| {
                let (mut tcp, _) = listener.accept().expect("accept");
                tcp.set_nodelay(true).expect("nodelay");
                let mut head = vec![];
                let mut b = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = tcp.read(&mut b).expect("handshake");
                    assert!(n > 0, "a client left");
                    head.extend_from_slice(&b[..n]);
                }
                tcp.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                    .expect("answer");
                tcp.set_nonblocking(true).expect("non-blocking");
                tcp
            })
            .collect::<Vec<_>>()
    });
    let link = Link {
        addr,
        uri: "/floor",
        lane: "x",
        sync_frames: 0,
        offset: 0,
        rounds: ROUNDS,
    };
    let (linked, started, ready) = spawn_clients(link, clients);
    let sockets = Arc::new(accept.join().expect("accept"));
    let until = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < clients {
        assert!(Instant::now() < until, "the clients did not all connect");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    for r in 0..ROUNDS {
        let text = format!("@event(node:\"/floor\",lane:x) {r}");
        let mut frame = vec![0x81, text.len() as u8];
        frame.extend_from_slice(text.as_bytes());
        let frame = Arc::new(frame);
        started.lock().expect("lock")[r] = Some(Instant::now());
        let writers: Vec<_> = (0..cores)
            .map(|t| {
                let (sockets, frame) = (sockets.clone(), frame.clone());
                std::thread::spawn(move || {
                    let n = sockets.len();
                    for mut s in &sockets[n * t / cores..n * (t + 1) / cores] {
                        s.write_all(&frame).expect("a floor write");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let label = format!(
        "floor: plain writes of one frame to {clients} sockets from {cores} threads, {ROUNDS} frames:"
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

/// Starts `n` clients of `link` on a thread of their own; returns the thread (which ends
/// with every latency measured), the rounds' start times to fill in, and the count of
/// clients ready.
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
        .spawn(move || clients::run(link, n, &st, &rd))
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

/// The clients: plain WebSocket (RFC 6455) over non-blocking sockets, all on one thread
/// that waits on epoll. Each connects, shakes hands, sends its `@sync` as a masked text
/// frame, reads its sync frames, and then takes the time of every read that completes
/// an event frame. The same clients measure the node and the bare peer, so their cost,
/// which shares the machine with the server, is the same on both sides; it is kept low
/// (a read per ready socket, no per-frame allocation beyond the text) so that the
/// server, not the clients, is what a fan-out measures.
mod clients {
    use super::{Link, Started};
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    struct Conn {
        tcp: TcpStream,
        buf: Vec<u8>,
        lat: Vec<Duration>,
    }

    pub fn run(link: Link, n: usize, started: &Started, ready: &AtomicUsize) -> Vec<Duration> {
        let mut conns: Vec<Conn> = (0..n).map(|_| connect(&link)).collect();
        for c in &mut conns {
            for _ in 0..link.sync_frames {
                while frame(&mut c.buf).is_none() {
                    read_some(&mut c.tcp, &mut c.buf);
                }
            }
            ready.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: epoll over sockets this function owns until it returns.
        let ep = unsafe { libc::epoll_create1(0) };
        assert!(ep >= 0, "epoll_create1");
        for (i, c) in conns.iter().enumerate() {
            c.tcp.set_nonblocking(true).expect("non-blocking");
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: i as u64,
            };
            // SAFETY: a valid epoll fd, a valid socket fd and event.
            let r = unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, c.tcp.as_raw_fd(), &mut ev) };
            assert_eq!(r, 0, "epoll_ctl");
        }
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        let mut done = conns.iter().filter(|c| c.lat.len() >= link.rounds).count();
        let until = Instant::now() + Duration::from_secs(120);
        while done < n {
            assert!(
                Instant::now() < until,
                "the clients did not get every event"
            );
            // SAFETY: `events` has room for its length.
            let k = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, 100) };
            for e in events.iter().take(k.max(0) as usize) {
                let c = &mut conns[e.u64 as usize];
                read_some(&mut c.tcp, &mut c.buf);
                let at = Instant::now();
                while let Some(text) = frame(&mut c.buf) {
                    let v: i64 = text
                        .rsplit(' ')
                        .next()
                        .and_then(|v| v.trim().parse().ok())
                        .expect("a value event");
                    let s =
                        started.lock().expect("lock")[(v - link.offset) as usize].expect("started");
                    c.lat.push(at - s);
                    if c.lat.len() == link.rounds {
                        done += 1;
                    }
                }
            }
        }
        // SAFETY: closing the epoll fd made above.
        unsafe { libc::close(ep) };
        conns.into_iter().flat_map(|c| c.lat).collect()
    }

    fn connect(link: &Link) -> Conn {
        let mut tcp = TcpStream::connect(link.addr).expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let hello = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            link.addr
        );
        tcp.write_all(hello.as_bytes()).expect("handshake");
        let mut buf = vec![];
        let end = loop {
            read_some(&mut tcp, &mut buf);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        assert!(buf.starts_with(b"HTTP/1.1 101"), "not upgraded");
        buf.drain(..end);
        let sync = format!("@sync(node:\"{}\",lane:{})", link.uri, link.lane);
        tcp.write_all(&masked_text(sync.as_bytes())).expect("sync");
        Conn {
            tcp,
            buf,
            lat: Vec::with_capacity(link.rounds),
        }
    }

    /// A client's text frame: FIN, opcode 1, masked (with a zero key: the payload as it
    /// is), for payloads under 64 KiB.
    fn masked_text(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x81];
        if payload.len() < 126 {
            f.push(0x80 | payload.len() as u8);
        } else {
            f.push(0x80 | 126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    /// Reads what is there (blocking sockets: at least a byte).
    fn read_some(tcp: &mut TcpStream, buf: &mut Vec<u8>) {
        let mut chunk = [0u8; 4096];
        loop {
            match tcp.read(&mut chunk) {
                Ok(0) => panic!("the server closed a client"),
                Ok(k) => {
                    buf.extend_from_slice(&chunk[..k]);
                    if k < chunk.len() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("a client's read: {e}"),
            }
        }
    }

    /// The next complete text frame's text, taken off `buf` (other frames are skipped).
    fn frame(buf: &mut Vec<u8>) -> Option<String> {
        loop {
            if buf.len() < 2 {
                return None;
            }
            let op = buf[0] & 0x0f;
            let (len, head) = match buf[1] & 0x7f {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                127 if buf.len() >= 10 => {
                    let b: [u8; 8] = buf[2..10].try_into().expect("8 bytes");
                    (u64::from_be_bytes(b) as usize, 10)
                }
                126 | 127 => return None,
                l => (l as usize, 2),
            };
            if buf.len() < head + len {
                return None;
            }
            let payload: Vec<u8> = buf.drain(..head + len).skip(head).collect();
            assert_ne!(op, 8, "the server closed a client");
            if op == 1 {
                return Some(String::from_utf8(payload).expect("text"));
            }
        }
    }
}
