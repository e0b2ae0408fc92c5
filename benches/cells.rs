//! `cargo bench --bench cells`: code on the cluster, on `weft run`'s embedded one-member
//! control plane (raft over sled, the same scheduler and node agent as a cluster's), in
//! one process. Printed as figures, each with the store's own write latency measured in
//! the same run as the peer it is a ratio of:
//! - **first event**: `main` allocates a queue holding one message, a table and a Cell
//!   whose handler puts the message into the table; the time from `main` returning (its
//!   last statement is the Cell's `new`, committed) to the row being there, p50 and p99
//!   over [`FIRST_EVENT_RUNS`] programs (each released after);
//! - **instantiation**: [`BATCH_CELLS`] Cells allocated by one `main`, each with one
//!   message waiting: the time until every one has handled it, per Cell;
//! - **queue throughput**: [`MESSAGES`] messages sent to a queue that a 2-replica Cell
//!   moves into a table, end to end (sent, taken, handled, written with the
//!   acknowledgement), in messages per second.

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft::cli::node_cmd::embedded::Embedded;
use weft::cli::node_cmd::{programs, resources::Cluster};
use weft::Io;
use weft_resources::kinds::{self, table, Kv};
use weft_resources::{Command, Op, Store};
use weft_runtime::agents::{Node as ProgramNode, NodeSettings};
use weft_runtime::{Output, RunLimits};

const FIRST_EVENT_RUNS: usize = 40;
const BATCH_CELLS: usize = 20;
const MESSAGES: usize = 2_000;
const STORE_WRITES: usize = 500;
/// The longest any one wait of the benchmark may take.
const WAIT_MAX: Duration = Duration::from_secs(60);

const ONE: &str = r#"
fn main() {
  let q = new QueueService<Int>("q")
  let t = new Table<Int, Int>("t")
  q.send(1)
  new Cell("c") { on q |n| { t.put(n, 1) } }
}
"#;

fn batch_program() -> String {
    let mut s = String::from("fn main() {\n  let t = new Table<Int, Int>(\"t\")\n");
    for i in 0..BATCH_CELLS {
        s += &format!(
            "  let q{i} = new QueueService<Int>(\"q{i}\")\n  q{i}.send({i})\n  new Cell(\"c{i}\") {{ on q{i} |n| {{ t.put(n, 1) }} }}\n"
        );
    }
    s + "}\n"
}

const FLOW: &str = r#"
fn main() {
  let q = new QueueService<Int>("q")
  let t = new Table<Int, Int>("t")
  new Cell("c", replicas: 2) { on q |n| { t.put(n, 1) } }
}
"#;

fn compile(name: &str, text: &str) -> weft_compiler::Artifact {
    let io = Io::buffers();
    let path = std::env::temp_dir().join(format!("weft-bench-{name}-{}.weft", std::process::id()));
    std::fs::write(&path, text).expect("write the program");
    let checked = weft::cli::check(&path.to_string_lossy(), &io)
        .unwrap_or_else(|_| panic!("{}", io.err.take()));
    let a = weft::cli::compile(&checked, &io).unwrap_or_else(|_| panic!("{}", io.err.take()));
    let _ = std::fs::remove_file(&path);
    a
}

/// Runs `artifact`'s `main` as program `program` on the cluster; when it returned.
fn run_main(kv: &Arc<dyn Kv>, program: &str, artifact: &weft_compiler::Artifact) -> Instant {
    programs::store_module(&**kv, artifact).expect("store the module");
    let cluster = Arc::new(Cluster::new(kv.clone(), program));
    cluster.set_module(artifact.id.to_string());
    let mut settings = NodeSettings::new(std::env::temp_dir().join("weft-bench-cells"));
    settings.program = program.to_string();
    let rt = programs::runtime().expect("a runtime");
    let node = ProgramNode::new(
        rt,
        Arc::new(artifact.clone()),
        Output::buffer(),
        Output::buffer(),
        settings,
    );
    node.set_resources(cluster);
    let main = artifact.main_export.clone().expect("main");
    node.run_main(&main, &RunLimits::default())
        .unwrap_or_else(|e| panic!("main: {e}"));
    let done = Instant::now();
    node.stop(Duration::from_secs(5));
    done
}

/// Waits until table `handle` has `n` rows; when it had. It looks at the one member's
/// applied store, not through a linearizable read: a row is there once its write is
/// committed (the group has one member), and the looking does not queue on the raft
/// runtime beside the writes it measures.
fn rows(store: &Store, handle: &str, n: u64) -> Instant {
    let prefix = table::rows(handle);
    let start = Instant::now();
    loop {
        if store.count(&prefix).unwrap_or(0) >= n {
            return Instant::now();
        }
        assert!(
            start.elapsed() < WAIT_MAX,
            "{handle} never reached {n} rows"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("weft-bench-cells-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut control = Embedded::start(&dir).expect("the control plane");
    control.start_cells(Output::buffer());
    let local = control.kv();
    let controller = local.controller.upgrade().expect("the controller");
    let store = controller.store().clone();
    drop(controller);
    let kv: Arc<dyn Kv> = Arc::new(local);
    // The node is Ready once its heartbeat lease is.
    let start = Instant::now();
    while kv.count(b"/registry/leases/").unwrap_or(0) == 0 {
        assert!(start.elapsed() < WAIT_MAX, "the node never became Ready");
        std::thread::sleep(Duration::from_millis(10));
    }

    // The peer: one write to the store, committed.
    let mut writes = vec![];
    for i in 0..STORE_WRITES {
        let t = Instant::now();
        kv.write(Command::Put {
            key: format!("/bench/{i}").into_bytes(),
            value: vec![0; 64],
            lease: None,
            prev_kv: false,
        })
        .expect("a write");
        writes.push(t.elapsed());
    }
    writes.sort();
    let write_p50 = percentile(&writes, 0.5);
    println!("store write (committed): p50 {}", ms(write_p50));

    let one = compile("one", ONE);
    let mut firsts = vec![];
    for i in 0..=FIRST_EVENT_RUNS {
        let program = format!("f{i}");
        let returned = run_main(&kv, &program, &one);
        let handled = rows(&store, &format!("{program}/t"), 1);
        if i > 0 {
            // The first run compiles the module; the rest find it cached.
            firsts.push(handled - returned);
        }

        kinds::release(&*kv, &program, false).expect("release");
    }
    firsts.sort();
    let (p50, p99) = (percentile(&firsts, 0.5), percentile(&firsts, 0.99));
    println!(
        "first event after `new Cell` committed: p50 {} p99 {} ({:.1}x a store write)  [goal: p50 < 5 ms]",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / write_p50.as_secs_f64()
    );

    let batch = compile("batch", &batch_program());
    let t = Instant::now();
    let returned = run_main(&kv, "batch", &batch);
    let handled = rows(&store, "batch/t", BATCH_CELLS as u64);
    let per = (handled - returned) / BATCH_CELLS as u32;
    println!(
        "instantiation: {BATCH_CELLS} Cells each handling its first event, {} per Cell ({} with main); {:.1}x a store write",
        ms(per),
        ms((handled - t) / BATCH_CELLS as u32),
        per.as_secs_f64() / write_p50.as_secs_f64()
    );
    kinds::release(&*kv, "batch", false).expect("release");

    let flow = compile("flow", FLOW);
    run_main(&kv, "flow", &flow);
    let t = Instant::now();
    let ops: Vec<Op> = (0..MESSAGES)
        .map(|i| {
            let mut body = vec![];
            weft_runtime::value::encode(&weft_runtime::value::Value::Int(i as i64), &mut body);
            kinds::queue::send("flow/q", &body)
        })
        .collect();
    for chunk in ops.chunks(100) {
        kv.write(Command::Txn {
            compare: vec![],
            success: chunk.to_vec(),
            failure: vec![],
        })
        .expect("send");
        weft::cli::node_cmd::cells::kick::SENT.kick();
    }
    let done = rows(&store, "flow/t", MESSAGES as u64);
    let secs = (done - t).as_secs_f64();
    println!(
        "queue throughput end to end: {:.0} messages/s ({MESSAGES} messages, 2 replicas); {:.2}x the store's sequential writes/s",
        MESSAGES as f64 / secs,
        (MESSAGES as f64 / secs) * write_p50.as_secs_f64()
    );
    kinds::release(&*kv, "flow", false).expect("release");
    control.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
