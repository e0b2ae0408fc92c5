//! `cargo bench --bench cluster` (or `bench/cluster-vs-etcd`, which installs etcd first):
//! writes to Weft's replicated store next to the same writes to etcd on the same machine,
//! each a 3-member cluster on loopback whose writes are fsynced on a majority before the
//! reply, printed as figures in one run and then as Weft's ratios of etcd's:
//! - single-client latency: 2,000 sequential writes (after 200 to warm up), p50 and p99;
//! - throughput: 64 clients, each on a keep-alive connection of its own, writing for 5 s
//!   (and the latency of those writes);
//!
//! values of 64 bytes over 1,000 keys. Both are driven over HTTP/JSON by the same client
//! code, so the client's cost is alike: etcd through its gRPC gateway (`POST /v3/kv/put`,
//! base64 key and value), Weft through `PUT /api/v1/store/{key}`, and both to the leader.
//! Each cluster runs alone: etcd's is stopped before Weft's starts. Without `etcd` on
//! PATH, Weft is measured alone; `-- weft` or `-- etcd` measures one side only.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MEMBERS: usize = 3;
const WARM_UP_WRITES: usize = 200;
const LATENCY_WRITES: usize = 2_000;
const CLIENTS: usize = 64;
const THROUGHPUT_MS: u64 = 5_000;
const KEYS: usize = 1_000;
const VALUE_BYTES: usize = 64;
/// How long a cluster may take to elect a leader and answer on every member.
const READY_MAX: Duration = Duration::from_secs(30);
/// How long one write may take before the run fails.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the etcd members get to exit after SIGTERM.
const TERM_MAX: Duration = Duration::from_secs(5);

/// One store's leader, with every write the benchmark sends it ready-made, so the client
/// does the same work per write for either store.
#[derive(Clone)]
struct Target {
    /// How the figures are labelled: `etcd 3.4.23`, `weft`.
    name: String,
    /// `PUT` for Weft, `POST` for etcd's gateway.
    method: reqwest::Method,
    /// JSON for etcd's gateway; Weft's body is the value itself.
    content_type: &'static str,
    /// Per key: the URL and the body of its write.
    writes: Vec<(String, String)>,
}

/// What one store did.
struct Figures {
    /// Single client, sequential writes.
    alone: Vec<Duration>,
    /// Writes per second from [`CLIENTS`] clients.
    rate: f64,
    /// The latencies of those writes.
    loaded: Vec<Duration>,
}

fn main() {
    let only = |side: &str| {
        let sides = ["weft", "etcd"];
        let asked: Vec<String> = std::env::args()
            .filter(|a| sides.contains(&a.as_str()))
            .collect();
        asked.is_empty() || asked.iter().any(|a| a == side)
    };
    println!(
        "cluster writes, {MEMBERS} members on loopback, fsync on, {} cores; values of \
         {VALUE_BYTES} bytes over {KEYS} keys (`bench/cluster-vs-etcd`, or `cargo bench \
         --bench cluster` with etcd on PATH)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let root = std::env::temp_dir().join(format!("weft-bench-cluster-{}", std::process::id()));
    let etcd = match (only("etcd"), etcd_version()) {
        (false, _) => None,
        (true, None) => {
            println!("etcd is not installed (no `etcd` on PATH): measuring Weft alone");
            None
        }
        (true, Some(version)) => {
            let cluster = Etcd::start(&root.join("etcd"));
            let target = cluster.target(format!("etcd {version}"));
            let figures = measure(&rt, &target);
            drop(cluster);
            Some(figures)
        }
    };
    let weft = only("weft").then(|| {
        let cluster = Weft::start(&root.join("weft"));
        let target = cluster.target();
        let figures = measure(&rt, &target);
        drop(cluster);
        figures
    });
    let _ = std::fs::remove_dir_all(&root);
    if let (Some(e), Some(w)) = (&etcd, &weft) {
        ratios(e, w);
    }
}

/// Runs both measurements against `target` and prints them.
fn measure(rt: &tokio::runtime::Runtime, target: &Target) -> Figures {
    let alone = rt.block_on(sequential(target));
    println!(
        "{:<12} 1 client, {LATENCY_WRITES} sequential writes: p50 {:.2} ms, p99 {:.2} ms",
        target.name,
        ms(quantile(&alone, 0.5)),
        ms(quantile(&alone, 0.99))
    );
    let (rate, loaded) = rt.block_on(concurrent(target));
    println!(
        "{:<12} {CLIENTS} clients for {:.0} s: {rate:.0} writes/s (their latency p50 {:.2} ms, \
         p99 {:.2} ms)",
        target.name,
        THROUGHPUT_MS as f64 / 1e3,
        ms(quantile(&loaded, 0.5)),
        ms(quantile(&loaded, 0.99))
    );
    Figures {
        alone,
        rate,
        loaded,
    }
}

/// Prints Weft's figures as ratios of etcd's, next to the goals.
fn ratios(etcd: &Figures, weft: &Figures) {
    let r = |q: f64, w: &[Duration], e: &[Duration]| ms(quantile(w, q)) / ms(quantile(e, q));
    println!(
        "weft/etcd, 1 client latency: p50 {:.2}, p99 {:.2} (below 1 is faster; goal: at most 1.5)",
        r(0.5, &weft.alone, &etcd.alone),
        r(0.99, &weft.alone, &etcd.alone)
    );
    println!(
        "weft/etcd, {CLIENTS} clients throughput: {:.2} (above 1 is more; goal: at least 1); \
         their latency p50 {:.2}, p99 {:.2}",
        weft.rate / etcd.rate,
        r(0.5, &weft.loaded, &etcd.loaded),
        r(0.99, &weft.loaded, &etcd.loaded)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The `q` quantile of `all` (sorted here).
fn quantile(all: &[Duration], q: f64) -> Duration {
    let mut all = all.to_vec();
    all.sort();
    assert!(!all.is_empty(), "no writes were measured");
    all[((all.len() as f64 * q) as usize).min(all.len() - 1)]
}

/// A client with one keep-alive connection.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

/// Sends write `i` (key `i % KEYS`) and reads its whole answer; panics unless it is a 2xx.
async fn write(client: &reqwest::Client, target: &Target, i: usize) {
    let (url, body) = &target.writes[i % KEYS];
    let response = client
        .request(target.method.clone(), url)
        .header("content-type", target.content_type)
        .body(body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: write to {url}: {e}", target.name));
    let status = response.status();
    let answer = response.bytes().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "{}: write to {url}: {status} {}",
        target.name,
        String::from_utf8_lossy(&answer)
    );
}

/// [`LATENCY_WRITES`] writes one after another from one client, after a warm-up.
async fn sequential(target: &Target) -> Vec<Duration> {
    let client = client();
    for i in 0..WARM_UP_WRITES {
        write(&client, target, i).await;
    }
    let mut all = Vec::with_capacity(LATENCY_WRITES);
    for i in 0..LATENCY_WRITES {
        let start = Instant::now();
        write(&client, target, i).await;
        all.push(start.elapsed());
    }
    all
}

/// [`CLIENTS`] clients, each writing its own run of keys one write after another, for
/// [`THROUGHPUT_MS`]; returns writes per second and every write's latency.
async fn concurrent(target: &Target) -> (f64, Vec<Duration>) {
    let target = std::sync::Arc::new(target.clone());
    // Every client opens its connection with one write before the clock starts.
    let mut warm = Vec::with_capacity(CLIENTS);
    for c in 0..CLIENTS {
        let target = target.clone();
        warm.push(tokio::spawn(async move {
            let client = client();
            write(&client, &target, c * KEYS / CLIENTS).await;
            client
        }));
    }
    let mut clients = Vec::with_capacity(CLIENTS);
    for w in warm {
        clients.push(w.await.expect("warm-up"));
    }
    let start = Instant::now();
    let deadline = start + Duration::from_millis(THROUGHPUT_MS);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(c, client)| {
            let target = target.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = c * KEYS / CLIENTS;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    write(&client, &target, i).await;
                    lat.push(t.elapsed());
                    i += 1;
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    (all.len() as f64 / start.elapsed().as_secs_f64(), all)
}

/// The value written to key `k`: [`VALUE_BYTES`] printable bytes.
fn value(k: usize) -> String {
    let v: String = format!("value-{k}-")
        .chars()
        .cycle()
        .take(VALUE_BYTES)
        .collect();
    assert_eq!(v.len(), VALUE_BYTES);
    v
}

/// Standard base64 with padding, as etcd's gateway takes bytes.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ABC[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A blocking client for setting up, outside the runtime.
fn setup_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client")
}

/// The installed etcd's version, or `None` when there is no `etcd` to run.
fn etcd_version() -> Option<String> {
    let out = Command::new("etcd").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with("etcd Version:"))?;
    Some(line.trim_start_matches("etcd Version:").trim().to_string())
}

/// A 3-member etcd cluster on loopback, its data under `dir`; dropping it kills the
/// members and removes `dir`, also when the benchmark panics.
struct Etcd {
    dir: PathBuf,
    members: Vec<Child>,
    /// Each member's client URL.
    urls: Vec<String>,
}

impl Etcd {
    fn start(dir: &Path) -> Etcd {
        std::fs::create_dir_all(dir).expect("etcd dir");
        // Hold every port until all are chosen, so no two members get the same one.
        let held: Vec<_> = (0..2 * MEMBERS)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let ports: Vec<u16> = held
            .iter()
            .map(|l| l.local_addr().expect("addr").port())
            .collect();
        drop(held);
        let peer = |i: usize| format!("http://127.0.0.1:{}", ports[2 * i + 1]);
        let initial = (0..MEMBERS)
            .map(|i| format!("m{i}={}", peer(i)))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Etcd {
            dir: dir.to_path_buf(),
            members: vec![],
            urls: vec![],
        };
        for i in 0..MEMBERS {
            let url = format!("http://127.0.0.1:{}", ports[2 * i]);
            let log = std::fs::File::create(dir.join(format!("m{i}.log"))).expect("log");
            // fsync stays on: no `--unsafe-no-fsync`.
            let child = Command::new("etcd")
                .args(["--name", &format!("m{i}")])
                .arg("--data-dir")
                .arg(dir.join(format!("m{i}")))
                .args([
                    "--listen-client-urls",
                    &url,
                    "--advertise-client-urls",
                    &url,
                ])
                .args(["--listen-peer-urls", &peer(i)])
                .args(["--initial-advertise-peer-urls", &peer(i)])
                .args([
                    "--initial-cluster",
                    &initial,
                    "--initial-cluster-state",
                    "new",
                ])
                .args(["--initial-cluster-token", "weft-bench"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("start etcd");
            cluster.members.push(child);
            cluster.urls.push(url);
        }
        cluster
    }

    /// Waits (at most [`READY_MAX`]) until every member names the same leader; returns
    /// the leader's writes.
    fn target(&self, name: String) -> Target {
        let client = setup_client();
        let until = Instant::now() + READY_MAX;
        let mut last = String::from("no answer yet");
        while Instant::now() < until {
            match self.leader(&client) {
                Ok((url, prefix)) => {
                    let writes = (0..KEYS)
                        .map(|k| {
                            let key = base64(format!("bench-k{k}").as_bytes());
                            let body = serde_json::json!({ "key": key, "value": base64(value(k).as_bytes()) });
                            (format!("{url}{prefix}/kv/put"), body.to_string())
                        })
                        .collect();
                    return Target {
                        name,
                        method: reqwest::Method::POST,
                        content_type: "application/json",
                        writes,
                    };
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // The logs go with the directory when the guard drops, so their ends go here.
        let mut logs = String::new();
        for i in 0..MEMBERS {
            let log = std::fs::read_to_string(self.dir.join(format!("m{i}.log")));
            let log = log.unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            logs.push_str(&format!(
                "\nm{i}: {}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        panic!("etcd was not ready within {READY_MAX:?}: {last}{logs}");
    }

    /// The leader's client URL and the gateway's path prefix (`/v3`, else `/v3beta`), once
    /// every member answers and names the same leader.
    fn leader(&self, client: &reqwest::blocking::Client) -> Result<(String, &'static str), String> {
        let mut leader = None;
        let mut found = None;
        for url in &self.urls {
            let status = ["/v3", "/v3beta"].into_iter().find_map(|prefix| {
                let r = client
                    .post(format!("{url}{prefix}/maintenance/status"))
                    .body("{}")
                    .send()
                    .ok()?;
                let v: Value = r.error_for_status().ok()?.json().ok()?;
                Some((prefix, v))
            });
            let Some((prefix, v)) = status else {
                return Err(format!("{url}: no answer to maintenance/status"));
            };
            let (me, says) = (v["header"]["member_id"].as_str(), v["leader"].as_str());
            match (me, says) {
                (Some(me), Some(says)) if says != "0" => {
                    if leader.get_or_insert(says.to_string()) != says {
                        return Err("the members name different leaders".into());
                    }
                    if me == says {
                        found = Some((url.clone(), prefix));
                    }
                }
                _ => return Err(format!("{url}: no leader yet: {v}")),
            }
        }
        found.ok_or_else(|| "no member is the leader the others name".into())
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        for m in &self.members {
            // SAFETY: a plain signal to a child of this process.
            unsafe { libc::kill(m.id() as i32, libc::SIGTERM) };
        }
        let until = Instant::now() + TERM_MAX;
        for m in &mut self.members {
            while Instant::now() < until && matches!(m.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = m.kill();
            let _ = m.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A 3-member Weft cluster of this build's `weft`, brought up by `weft cluster up` in
/// `dir`; dropping it runs `weft cluster down`, kills any recorded pid still alive and
/// removes `dir`, also when the benchmark panics.
struct Weft {
    dir: PathBuf,
    /// Node 1's API URL, as `up` printed it.
    url: String,
}

impl Weft {
    fn start(dir: &Path) -> Weft {
        let mut cluster = Weft {
            dir: dir.to_path_buf(),
            url: String::new(),
        };
        let out = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["cluster", "up", "--nodes", &MEMBERS.to_string(), "--dir"])
            .arg(dir)
            .stdin(Stdio::null())
            .output()
            .expect("run weft cluster up");
        assert!(
            out.status.success(),
            "weft cluster up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        cluster
    }

    /// The leader's writes, the leader as `GET /api/v1/nodes` names it.
    fn target(&self) -> Target {
        let rows: Value = setup_client()
            .get(format!("{}/api/v1/nodes", self.url))
            .send()
            .and_then(|r| r.json())
            .expect("GET /api/v1/nodes");
        let leader = rows
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["role"] == "leader"))
            .and_then(|r| r["api"].as_str())
            .unwrap_or_else(|| panic!("no leader with an API address in {rows}"))
            .to_string();
        let writes = (0..KEYS)
            .map(|k| (format!("{leader}/api/v1/store/bench-k{k}"), value(k)))
            .collect();
        Target {
            name: "weft".into(),
            method: reqwest::Method::PUT,
            content_type: "text/plain",
            writes,
        }
    }
}

impl Drop for Weft {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["cluster", "down", "--dir"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .status();
        for (_, pid) in weft::cli::cluster::recorded_pids(&self.dir) {
            if weft::cli::cluster::alive(pid) {
                // SAFETY: a plain signal to a node this benchmark started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
