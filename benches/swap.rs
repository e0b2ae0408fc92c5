//! `cargo bench --bench swap`: hot swap on one node with 100,000 live agents
//! (`SWAP_AGENTS=N` for another number), printed as figures in one run:
//! - the pause each agent sees while it moves to the new version (median, p99, longest),
//!   for a patch without a migration and for one that migrates a lane `Int -> Float`;
//! - the total time to move every live agent;
//! - calls per second from two threads calling random agents, during the swap, next to
//!   the same load in an equal window without one.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::cli::node::{self, DataDir};
use weft::Io;
use weft_runtime::agents::Node;
use weft_runtime::RunLimits;

const V1: &str = r#"
agent Counter at "/counters/:id" {
  value n: Int = 0
  fn get() -> Int { n }
}
fn main() {}
"#;

/// Adds a method: no lane changes.
const V2: &str = r#"
agent Counter at "/counters/:id" {
  value n: Int = 0
  fn get() -> Int { n }
  fn twice() -> Int { n * 2 }
}
fn main() {}
"#;

/// Migrates the lane to `Float`.
const V3: &str = r#"
agent Counter at "/counters/:id" {
  value n: Float = 0.0
  migrate n(old: Int) -> Float { old.to_float() }
  fn get() -> Float { n }
  fn twice() -> Float { n * 2.0 }
}
fn main() {}
"#;

fn compile(name: &str, text: &str) -> weft_compiler::Artifact {
    let io = Io::buffers();
    let path = std::env::temp_dir().join(format!(
        "weft-bench-swap-{}-{name}.weft",
        std::process::id()
    ));
    std::fs::write(&path, text).expect("write the program");
    let checked = weft::cli::check(&path.to_string_lossy(), &io)
        .unwrap_or_else(|_| panic!("{}", io.err.take()));
    weft::cli::compile(&checked, &io).unwrap_or_else(|_| panic!("{}", io.err.take()))
}

/// Calls `get` on random agents from `threads` threads until `stop`; counts the calls.
fn load(
    node: &Node,
    agents: usize,
    threads: usize,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicUsize>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..threads)
        .map(|t| {
            let (node, stop, count) = (node.clone(), stop.clone(), count.clone());
            std::thread::spawn(move || {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (t as u64 + 1);
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let uri = format!("/counters/{}", x as usize % agents);
                    node.call(&uri, "get", vec![]).expect("call");
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect()
}

/// Calls per second of the load over `window`, with `during` run at its start (a patch)
/// or nothing; and what `during` returned.
fn measured<T>(
    node: &Node,
    agents: usize,
    during: impl FnOnce() -> T,
    window: Option<Duration>,
) -> (f64, T, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let threads = load(node, agents, 2, stop.clone(), count.clone());
    std::thread::sleep(Duration::from_millis(200));
    let before = count.load(Ordering::Relaxed);
    let start = Instant::now();
    let r = during();
    if let Some(w) = window {
        std::thread::sleep(w.saturating_sub(start.elapsed()));
    }
    let took = start.elapsed();
    let calls = count.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().expect("load thread");
    }
    (calls as f64 / took.as_secs_f64(), r, took)
}

fn main() {
    let agents: usize = std::env::var("SWAP_AGENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let data = DataDir::given_or_temporary(None);
    let io = Io::buffers();
    let v1 = compile("v1", V1);
    let limits = node::turn_limits(1000, &RunLimits::default());
    let node = node::start(&v1, &data, limits.clone(), &limits, "bench", &io, |_| {})
        .unwrap_or_else(|_| panic!("{}", io.err.take()));
    node.deploy(false).expect("deploy");

    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let activators: Vec<_> = (0..32)
        .map(|_| {
            let (node, next) = (node.clone(), next.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= agents {
                    return;
                }
                node.call(&format!("/counters/{i}"), "get", vec![])
                    .expect("activate");
            })
        })
        .collect();
    for a in activators {
        a.join().expect("activator");
    }
    println!(
        "hot swap on one node, {agents} live agents (activated in {:.1} s):",
        start.elapsed().as_secs_f64()
    );

    for (name, text) in [("adds a method", V2), ("migrates Int -> Float", V3)] {
        let artifact = Arc::new(compile(name, text));
        let (during, patched, took) = measured(
            &node,
            agents,
            || node.patch(artifact, false).expect("patch"),
            None,
        );
        let (without, (), _) = measured(&node, agents, || (), Some(took));
        let [p50, p99, max] = patched.pause_us;
        println!("  patch that {name}:");
        println!(
            "    swap of {} agents            {:>10} ms ({} failed)",
            patched.swapped,
            patched.swap_ms,
            patched.failed.len()
        );
        println!("    pause per agent            p50 {p50} µs, p99 {p99} µs, max {max} µs");
        println!(
            "    calls during the swap      {:>10.0}/s vs {:.0}/s without one ({:.2}x)",
            during,
            without,
            during / without
        );
    }
    node.stop(Duration::from_secs(10));
}
