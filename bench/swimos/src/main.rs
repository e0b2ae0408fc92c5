//! SwimOS peer for Weft's agent benchmark (benches/agents.rs): the same WARP link fan-out
//! and `incr` round trips, measured against a SwimOS 0.1.1 server run in this process.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use swimos::agent::agent_lifecycle::HandlerContext;
use swimos::agent::agent_model::AgentModel;
use swimos::agent::event_handler::{EventHandler, HandlerActionExt};
use swimos::agent::lanes::{CommandLane, ValueLane};
use swimos::agent::{lifecycle, projections, AgentLaneModel};
use swimos::route::RoutePattern;
use swimos::server::{Server, ServerBuilder};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How many fan-out clients: 1000, or `FAN_OUT=N` (as in benches/agents.rs).
static CLIENTS: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::env::var("FAN_OUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
});
const ROUNDS: usize = 50;
const FAN_NODE: &str = "/counters/fan";

/// The agent at `/counters/:id`.
#[projections]
#[derive(AgentLaneModel)]
pub struct Counter {
    /// A value lane, 0 when the agent starts (no persistence store is configured).
    n: ValueLane<i64>,
    /// Adds one to `n`.
    incr: CommandLane<()>,
    /// Does nothing; the lane forwards each command to its links as an event.
    ping: CommandLane<i64>,
}

#[derive(Clone)]
pub struct CounterLifecycle;

#[lifecycle(Counter)]
impl CounterLifecycle {
    #[on_command(incr)]
    pub fn on_incr(
        &self,
        context: HandlerContext<Counter>,
        _cmd: &(),
    ) -> impl EventHandler<Counter> {
        context
            .get_value(Counter::N)
            .and_then(move |n| context.set_value(Counter::N, n + 1))
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket connection to the server; SwimOS requires the `warp0` subprotocol.
async fn connect(addr: SocketAddr) -> Ws {
    let mut request = format!("ws://{addr}/")
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("warp0"));
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    ws
}

/// The next text frame.
async fn next_text(ws: &mut Ws) -> String {
    loop {
        match ws.next().await.expect("connection open").expect("frame") {
            Message::Text(t) => return t.to_string(),
            Message::Close(c) => panic!("closed by the server: {c:?}"),
            _ => {}
        }
    }
}

/// An envelope's body: what follows the header's closing parenthesis.
fn body(envelope: &str) -> &str {
    envelope.find(')').map_or("", |i| envelope[i + 1..].trim())
}

async fn send(ws: &mut Ws, text: String) {
    ws.send(Message::text(text)).await.expect("send");
}

/// Links to `lane` of `node` and reads until the link is complete. A value lane is
/// synced (`@sync`, up to `@synced`) and its state returned; a command lane, which has no
/// state, is linked (`@link`, up to `@linked`): SwimOS 0.1.1 never completes a sync on a
/// command lane (it sends nothing back, and the connection is later reset).
async fn link(ws: &mut Ws, node: &str, lane: &str, sync: bool) -> Option<i64> {
    let (verb, done) = if sync {
        ("sync", "@synced")
    } else {
        ("link", "@linked")
    };
    send(ws, format!("@{verb}(node:\"{node}\",lane:{lane})")).await;
    let mut state = None;
    loop {
        let t = next_text(ws).await;
        if t.starts_with("@event") {
            // Under load SwimOS sometimes sends an extra `@event` with no body here.
            if let Ok(v) = body(&t).parse() {
                state = Some(v);
            }
        } else if t.starts_with(done) {
            return state;
        } else if t.starts_with("@unlinked") {
            panic!("link refused: {t}");
        }
    }
}

/// Runs `f` to completion on a current-thread runtime in a thread of its own.
fn on_client_thread<F, T>(f: impl FnOnce() -> F + Send + 'static) -> std::thread::JoinHandle<T>
where
    F: std::future::Future<Output = T>,
    T: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime")
            .block_on(f())
    })
}

type Starts = Arc<Mutex<Vec<Option<Instant>>>>;

/// One client: links, counts itself ready, then times each round's event.
/// Returns the latencies and the number of events it did not get.
async fn fan_client(
    addr: SocketAddr,
    lane: &'static str,
    starts: Starts,
    ready: Arc<AtomicUsize>,
) -> (Vec<Duration>, usize) {
    let mut ws = connect(addr).await;
    let state = link(&mut ws, FAN_NODE, lane, lane == "n").await;
    // The event's value, less this, is the round's number.
    let offset = match lane {
        "n" => state.expect("the value lane's state") + 1,
        _ => 0,
    };
    ready.fetch_add(1, Ordering::SeqCst);
    let mut lat = Vec::with_capacity(ROUNDS);
    while lat.len() < ROUNDS {
        let Ok(t) = tokio::time::timeout(Duration::from_secs(10), next_text(&mut ws)).await else {
            break;
        };
        let now = Instant::now();
        if !t.starts_with("@event") {
            continue;
        }
        let Ok(v) = body(&t).parse::<i64>() else {
            continue;
        };
        let start = starts.lock().unwrap()[(v - offset) as usize].expect("round started");
        lat.push(now - start);
    }
    let missed = ROUNDS - lat.len();
    (lat, missed)
}

/// `CLIENTS` clients linked to `lane` of `/counters/fan`; 50 rounds, each one command sent
/// over a driver connection, timed from just before the send to each client's receipt.
fn fan_out(
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    label: &str,
    lane: &'static str,
    what: &str,
) {
    let starts: Starts = Arc::new(Mutex::new(vec![None; ROUNDS]));
    let ready = Arc::new(AtomicUsize::new(0));
    let (st, rd) = (starts.clone(), ready.clone());
    let clients = on_client_thread(move || async move {
        let tasks: Vec<_> = (0..*CLIENTS)
            .map(|_| tokio::spawn(fan_client(addr, lane, st.clone(), rd.clone())))
            .collect();
        let (mut all, mut missed) = (vec![], 0);
        for t in tasks {
            let (lat, m) = t.await.expect("client");
            all.extend(lat);
            missed += m;
        }
        (all, missed)
    });
    let until = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::SeqCst) < *CLIENTS {
        assert!(
            Instant::now() < until && !clients.is_finished(),
            "the clients did not all link"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut driver = rt.block_on(connect(addr));
    for r in 0..ROUNDS {
        let cmd = match lane {
            "n" => format!("@command(node:\"{FAN_NODE}\",lane:incr)"),
            _ => format!("@command(node:\"{FAN_NODE}\",lane:ping) {r}"),
        };
        starts.lock().unwrap()[r] = Some(Instant::now());
        rt.block_on(send(&mut driver, cmd));
        std::thread::sleep(Duration::from_millis(50));
    }
    let (mut all, missed) = clients.join().expect("clients");
    all.sort();
    let q = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1e3;
    let note = if missed > 0 {
        format!(" ({missed} events not received)")
    } else {
        String::new()
    };
    println!(
        "swimos{label} fan-out to {} clients, {ROUNDS} events on {what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms{note}",
        *CLIENTS,
        q(0.5),
        q(0.99),
        q(1.0)
    );
}

/// `k` connections, each linked to `n` of its own agent, each sending `incr` and waiting
/// for the resulting event before the next, for `dur`. Returns round trips per second.
fn incr_round_trips(addr: SocketAddr, k: usize, dur: Duration) -> f64 {
    on_client_thread(move || async move {
        let mut conns = vec![];
        for i in 0..k {
            let node = format!("/counters/t{i}");
            let mut ws = connect(addr).await;
            let n = link(&mut ws, &node, "n", true)
                .await
                .expect("the value lane's state");
            conns.push((ws, node, n));
        }
        let start = Instant::now();
        let deadline = start + dur;
        let tasks: Vec<_> = conns
            .into_iter()
            .map(|(mut ws, node, mut n)| {
                tokio::spawn(async move {
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        send(&mut ws, format!("@command(node:\"{node}\",lane:incr)")).await;
                        loop {
                            let t = next_text(&mut ws).await;
                            if t.starts_with("@event")
                                && body(&t).parse::<i64>().ok() == Some(n + 1)
                            {
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
            total += t.await.expect("connection task");
        }
        total as f64 / start.elapsed().as_secs_f64()
    })
    .join()
    .expect("round trips")
}

/// Sets TCP_NODELAY on the listening socket of this process bound to `port`; Linux
/// copies it to each connection the listener accepts. SwimOS 0.1.1 leaves Nagle's
/// algorithm on, and writes each WebSocket frame's header and payload separately, so
/// without this every event it sends waits for the client's delayed ACK (about 40 ms).
fn listener_nodelay(port: u16) {
    let mut done = 0;
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let Ok(fd) = entry
            .expect("fd")
            .file_name()
            .to_string_lossy()
            .parse::<i32>()
        else {
            continue;
        };
        // SAFETY: plain socket calls on a descriptor this process holds; a descriptor that
        // is not an IPv4 socket makes getsockname fail or report another family.
        unsafe {
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            if libc::getsockname(fd, &mut addr as *mut _ as *mut libc::sockaddr, &mut len) == 0
                && addr.sin_family as i32 == libc::AF_INET
                && u16::from_be(addr.sin_port) == port
            {
                let one: libc::c_int = 1;
                let r = libc::setsockopt(
                    fd,
                    libc::IPPROTO_TCP,
                    libc::TCP_NODELAY,
                    &one as *const _ as *const libc::c_void,
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
                assert_eq!(r, 0, "setsockopt TCP_NODELAY");
                done += 1;
            }
        }
    }
    assert_eq!(done, 1, "one listening socket on port {port}");
}

/// Starts a server, runs every measurement against it, and stops it. `label` goes
/// after "swimos" in each line printed.
fn suite(label: &str, nodelay: bool) {
    // The server gets a two-worker runtime, as Weft's node gets the machine's two cores;
    // the clients run on a current-thread runtime in a thread of their own.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let (addr, mut handle) = rt.block_on(async {
        let agent = AgentModel::new(Counter::default, CounterLifecycle.into_lifecycle());
        let server = ServerBuilder::with_plane_name("bench")
            .set_bind_addr("127.0.0.1:0".parse().unwrap())
            .add_route(
                RoutePattern::parse_str("/counters/:id").expect("route"),
                agent,
            )
            .build()
            .await
            .expect("server");
        let (task, mut handle) = server.run();
        tokio::spawn(task);
        let addr = handle.bound_addr().await.expect("bound address");
        (addr, handle)
    });
    if nodelay {
        listener_nodelay(addr.port());
    }

    fan_out(&rt, addr, label, "n", "a value lane");
    fan_out(&rt, addr, label, "ping", "a command lane");
    for k in [1, 16, 64] {
        let r = incr_round_trips(addr, k, Duration::from_secs(2));
        println!("swimos{label} incr round trips, {k} connections: {r:.0}/s");
    }
    handle.stop();
    rt.shutdown_timeout(Duration::from_secs(5));
}

fn main() {
    // SwimOS as it ships, then with TCP_NODELAY on its sockets (as Weft's server sets).
    suite("", false);
    suite(" (server TCP_NODELAY)", true);
}
