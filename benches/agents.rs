//! `cargo bench --bench agents`: what a node does per second and how fast links hear of
//! changes, printed as figures in one run.
//!
//! - read-only turns: a method that returns a lane, called in a loop, from one thread and
//!   from one thread per core on different agents;
//! - lane-writing turns: a method that increments a value lane, each turn durable before
//!   its reply, from many threads on different agents (commits grouped when they overlap);
//! - link fan-out: 1,000 WebSocket clients (`FAN_OUT=N` for another number) linked to one value lane over WARP; the time
//!   from the start of the call that changes it to each client's receipt of the event
//!   (p50, p99, max).

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
    node::start(&artifact, data, limits, &io).unwrap_or_else(|_| panic!("{}", io.err.take()))
}

fn method(node: &Node, name: &str) -> usize {
    node.manifest().agents[0]
        .methods
        .iter()
        .position(|m| m.name == name)
        .expect("method")
}

/// Calls `method` on agent `/counters/{t}` from each of `threads` threads for `dur`;
/// returns calls per second.
fn throughput(node: &Node, method: usize, threads: usize, dur: Duration) -> f64 {
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
        fan_out(&node, incr);
        return;
    }
    println!("agent turns on one node ({cores} cores), {:?} each:", dur);
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
    std::io::stdout().flush().ok();
    // `cargo bench --bench agents -- turns` skips the links.
    if !std::env::args().any(|a| a == "turns") {
        fan_out(&node, incr);
    }
    node.stop(Duration::from_secs(10));
}

/// 1,000 WARP links to one lane; the latency of each event, measured from the start of
/// the call that causes it. The clients are tasks on one thread of their own (as a
/// browser tab or a Node.js process would hold many links), not one thread each.
fn fan_out(node: &Node, incr: usize) {
    // `FAN_OUT=N` links N clients instead.
    let clients: usize = std::env::var("FAN_OUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    const ROUNDS: usize = 50;
    let api = Api::start(node.clone(), "127.0.0.1:0").expect("api");
    let addr = api.addr();
    let uri = "/counters/fan";
    node.call(uri, incr, vec![]).expect("activate");
    let base = node.call(uri, method(node, "get"), vec![]).expect("get");
    let base = i64::from_le_bytes(base.try_into().expect("an Int"));
    let started = Arc::new(std::sync::Mutex::new(vec![None::<Instant>; ROUNDS]));
    let ready = Arc::new(AtomicUsize::new(0));
    let (st, rd, n) = (started.clone(), ready.clone(), clients);
    let linked = std::thread::Builder::new()
        .name("clients".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let tasks: Vec<_> = (0..n)
                    .map(|_| tokio::spawn(client(addr, uri, base, ROUNDS, st.clone(), rd.clone())))
                    .collect();
                let mut all = vec![];
                for t in tasks {
                    all.extend(t.await.expect("client"));
                }
                all
            })
        })
        .expect("spawn");
    let until = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < clients {
        assert!(Instant::now() < until, "the clients did not all link");
        std::thread::sleep(Duration::from_millis(10));
    }
    for r in 0..ROUNDS {
        started.lock().expect("lock")[r] = Some(Instant::now());
        node.call(uri, incr, vec![]).expect("incr");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut all = linked.join().expect("clients");
    all.sort();
    let q = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "link fan-out to {clients} WebSocket clients, {ROUNDS} changes: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        q(0.5).as_secs_f64() * 1e3,
        q(0.99).as_secs_f64() * 1e3,
        all[all.len() - 1].as_secs_f64() * 1e3
    );
    api.stop();
}

/// One linked client: syncs, says it is ready, then times `rounds` events.
async fn client(
    addr: std::net::SocketAddr,
    uri: &'static str,
    base: i64,
    rounds: usize,
    started: Arc<std::sync::Mutex<Vec<Option<Instant>>>>,
    ready: Arc<AtomicUsize>,
) -> Vec<Duration> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("connect");
    ws.send(Message::text(format!("@sync(node:\"{uri}\",lane:n)")))
        .await
        .expect("send");
    // @linked, the state, @synced.
    for _ in 0..3 {
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
        let s = started.lock().expect("lock")[(v - base - 1) as usize].expect("started");
        lat.push(t - s);
    }
    lat
}
