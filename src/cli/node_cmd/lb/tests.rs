//! Tests of the nginx provider: the rendering and the reading without a store or nginx,
//! then the process and the loop against the real nginx binary (skipped, with a note,
//! when `nginx` is not on PATH).

use super::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Mutex;
use weft_resources::{Command, KeyValue, Reply};

/// How long a test waits for nginx to show a change.
const SETTLE_WAIT_MS: u64 = 5000;
/// How long one request through nginx may take.
const REQUEST_WAIT_MS: u64 = 2000;

fn record(program: &str, name: &str, kind: &str, port: i64, expose: i64) -> Record {
    Record {
        kind: kind.to_string(),
        name: name.to_string(),
        program: program.to_string(),
        ty: kind.to_string(),
        args: vec![],
        types: vec![],
        settings: vec![("port".to_string(), port), ("expose".to_string(), expose)],
        at: "main.weft:1:1".to_string(),
        placement: String::new(),
        status: "Ready".to_string(),
        created_ms: 0,
        events: vec![],
        cell: None,
    }
}

fn endpoint(handle: &str, node: &str, address: &str, ready: bool) -> (String, Endpoint) {
    let e = Endpoint {
        node: node.to_string(),
        address: address.to_string(),
        ready,
    };
    (handle.to_string(), e)
}

fn alive(nodes: &[&str]) -> BTreeSet<String> {
    nodes.iter().map(|n| n.to_string()).collect()
}

fn setup(dir: &Path) -> Setup {
    Setup::new(dir, "127.0.0.1").expect("a plain directory and host")
}

#[test]
fn collect_keeps_ready_endpoints_of_live_nodes_of_exposed_services() {
    let records = vec![
        record("p", "web", "HttpService", 8080, 1),
        record("p", "internal", "HttpService", 8081, 0),
        record("p", "jobs", "QueueService", 8082, 1),
        record("p", "empty", "HttpService", 8083, 1),
        record("p", "badport", "HttpService", 70000, 1),
    ];
    let endpoints = vec![
        endpoint("p/web", "node-2", "127.0.0.1:2002", true),
        endpoint("p/web", "node-1", "127.0.0.1:2001", true),
        endpoint("p/web", "node-1", "127.0.0.1:2001", true),
        endpoint("p/web", "node-1", "127.0.0.1:2003", false),
        endpoint("p/web", "node-9", "127.0.0.1:2009", true),
        endpoint("p/web", "node-1", "127.0.0.1:1 ; evil", true),
        endpoint("p/empty", "node-1", "127.0.0.1:2004", false),
        endpoint("p/internal", "node-1", "127.0.0.1:2005", true),
    ];
    let services = collect(&records, &endpoints, &alive(&["node-1", "node-2"]));
    let expected = vec![
        Service {
            handle: "p/empty".into(),
            port: 8083,
            endpoints: vec![],
        },
        Service {
            handle: "p/web".into(),
            port: 8080,
            endpoints: vec!["127.0.0.1:2001".into(), "127.0.0.1:2002".into()],
        },
    ];
    assert_eq!(services, expected);
}

#[test]
fn render_is_deterministic_and_complete() {
    let dir = Path::new("/tmp/weft-lb-render");
    let records = vec![
        record("p", "web", "HttpService", 8080, 1),
        record("p", "empty", "HttpService", 8083, 1),
    ];
    let mut endpoints = vec![
        endpoint("p/web", "node-1", "127.0.0.1:2001", true),
        endpoint("p/web", "node-2", "127.0.0.1:2002", true),
    ];
    let live = alive(&["node-1", "node-2"]);
    let one = render(&setup(dir), &collect(&records, &endpoints, &live));
    endpoints.reverse();
    let reversed: Vec<Record> = records.iter().rev().cloned().collect();
    let two = render(&setup(dir), &collect(&reversed, &endpoints, &live));
    assert_eq!(one, two, "the same set gives the same text");
    for want in [
        "worker_processes 1;",
        "daemon off;",
        "pid \"/tmp/weft-lb-render/nginx.pid\";",
        "error_log \"/tmp/weft-lb-render/error.log\"",
        "access_log \"/tmp/weft-lb-render/access.log\";",
        "client_body_temp_path \"/tmp/weft-lb-render/tmp/client_body\";",
        "proxy_temp_path \"/tmp/weft-lb-render/tmp/proxy\";",
        "uwsgi_temp_path",
        "upstream weft_p_web_8080 {",
        "server 127.0.0.1:2001 ",
        "server 127.0.0.1:2002 ",
        "listen 127.0.0.1:8080;",
        "proxy_pass http://weft_p_web_8080;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_next_upstream error timeout;",
        "proxy_connect_timeout",
        "listen 127.0.0.1:8083;",
        "return 503 \"no ready endpoint for p/empty\\n\";",
    ] {
        assert!(one.contains(want), "missing `{want}` in:\n{one}");
    }
    assert!(
        !one.contains("/etc/nginx") && !one.contains("/var/"),
        "{one}"
    );
    assert!(!one.contains("user "), "no user unless run as root");
    let a = one.find("2001").unwrap_or(usize::MAX);
    let b = one.find("2002").unwrap_or(0);
    assert!(a < b, "endpoints in address order");
}

#[test]
fn render_leaves_out_taken_ports_and_bounds_services() {
    let dir = Path::new("/tmp/weft-lb-render");
    let services: Vec<Service> = (0..render::SERVICES_MAX + 3)
        .map(|i| Service {
            handle: format!("p/s{i:04}"),
            port: if i == 1 { 9000 } else { 9000 + i as u16 },
            endpoints: vec![],
        })
        .collect();
    let text = render(&setup(dir), &services);
    assert_eq!(text.matches("listen ").count(), render::SERVICES_MAX - 1);
    assert!(text.contains("# p/s0001: left out, port 9000 taken"));
    assert!(text.contains(&format!("beyond {} services", render::SERVICES_MAX)));
}

#[test]
fn setup_refuses_what_nginx_could_misread() {
    assert!(Setup::new(Path::new("/tmp/a;b"), "127.0.0.1").is_err());
    assert!(Setup::new(Path::new("/tmp/a\"b"), "127.0.0.1").is_err());
    assert!(Setup::new(Path::new("/tmp/ok"), "localhost; evil").is_err());
    let v6 = Setup::new(Path::new("/tmp/ok"), "::1").expect("an IPv6 host");
    let text = render(
        &v6,
        &[Service {
            handle: "p/web".into(),
            port: 81,
            endpoints: vec![],
        }],
    );
    assert!(text.contains("listen [::1]:81;"), "{text}");
}

/// A store over a map: only what the reading needs (range, count); writes are refused.
#[derive(Default)]
struct MapKv {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MapKv {
    fn put(&self, key: &str, value: impl Into<Vec<u8>>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(key.as_bytes().to_vec(), value.into());
    }

    fn delete(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key.as_bytes());
    }

    fn put_record(&self, r: &Record) {
        let value = serde_json::to_vec(r).expect("a record serializes");
        self.put(&format!("/resources/{}/{}", r.program, r.name), value);
    }

    fn put_endpoint(&self, handle: &str, replica: u32, node: &str, address: &str, ready: bool) {
        let value = serde_json::json!({"node": node, "address": address, "ready": ready});
        self.put(&format!("/endpoints/{handle}/{replica}"), value.to_string());
    }
}

impl Kv for MapKv {
    fn write(&self, _: Command) -> Result<Reply, String> {
        Err("the test store takes no writes".into())
    }

    fn range(&self, prefix: &[u8], limit: Option<usize>) -> Result<Vec<KeyValue>, String> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        Ok(map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit.unwrap_or(usize::MAX))
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: v.clone(),
                create_revision: 1,
                mod_revision: 1,
                version: 1,
                lease: None,
            })
            .collect())
    }

    fn count(&self, prefix: &[u8]) -> Result<u64, String> {
        Ok(self.range(prefix, None)?.len() as u64)
    }
}

#[test]
fn read_and_upstreams_follow_the_keys() {
    let kv = MapKv::default();
    kv.put_record(&record("p", "web", "HttpService", 8080, 1));
    kv.put_record(&record("p", "web2", "HttpService", 8081, 1));
    kv.put("/registry/leases/node-1", "1");
    kv.put_endpoint("p/web", 0, "node-1", "127.0.0.1:2001", true);
    kv.put_endpoint("p/web", 1, "node-2", "127.0.0.1:2002", true);
    kv.put_endpoint("p/web2", 0, "node-1", "127.0.0.1:2003", true);
    kv.put("/endpoints/p/web/2", "not json");
    let services = read(&kv).expect("readable");
    assert_eq!(services.len(), 2);
    assert_eq!(services[0].endpoints, vec!["127.0.0.1:2001".to_string()]);
    assert_eq!(
        upstreams(&kv, "p/web"),
        Ok(vec!["127.0.0.1:2001".to_string()])
    );
    kv.put("/registry/leases/node-2", "1");
    let both = vec!["127.0.0.1:2001".to_string(), "127.0.0.1:2002".to_string()];
    assert_eq!(upstreams(&kv, "p/web"), Ok(both));
}

// ---- against the real nginx ----

/// The nginx on PATH, or None (with a note) when there is none.
fn nginx_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("note: nginx is not on PATH; skipping the test against the real nginx");
    }
    found
}

/// A fresh directory for one test's nginx, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("weft-lb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tiny HTTP server on 127.0.0.1 answering every request with its name.
struct Backend {
    address: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    fn start(name: &'static str) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let address = listener.local_addr().expect("bound").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(s) = stream {
                    answer(s, name);
                }
            }
        });
        Backend {
            address,
            stop,
            thread: Some(thread),
        }
    }
}

fn answer(mut s: TcpStream, name: &str) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(REQUEST_WAIT_MS)));
    let mut got = vec![];
    let mut buf = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") && got.len() < 16384 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let body = format!("backend {name}\n");
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(reply.as_bytes());
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept so the thread sees the flag.
        let _ = TcpStream::connect(&self.address);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("bound").port()
}

/// `(status, body)` of `GET /` on `127.0.0.1:port`, or why there was none.
fn get(port: u16) -> Result<(u16, String), String> {
    let timeout = Duration::from_millis(REQUEST_WAIT_MS);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&address, timeout).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(timeout));
    s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status in {text:?}"))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, body.to_string()))
}

/// Waits until `want` holds of eight requests in a row; panics with what was seen.
fn settle(port: u16, what: &str, want: impl Fn(&[(u16, String)]) -> bool) {
    let deadline = Instant::now() + Duration::from_millis(SETTLE_WAIT_MS);
    let mut seen = vec![];
    while Instant::now() < deadline {
        seen = (0..8)
            .map(|_| get(port).unwrap_or((0, String::new())))
            .collect();
        if want(&seen) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: not within {SETTLE_WAIT_MS} ms; saw {seen:?}");
}

/// Whether a live (not zombie) process is left in the group `pid` led, from `/proc`.
fn group_alive(pid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // `PID (COMM) STATE PPID PGRP ...`; COMM may hold spaces, so split after `)`.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pid.to_string()
    })
}

fn web(endpoints: &[&str], port: u16) -> Vec<Service> {
    vec![Service {
        handle: "p/web".into(),
        port,
        endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
    }]
}

#[test]
fn nginx_serves_reloads_refuses_and_stops() {
    let Some(binary) = nginx_binary() else {
        return;
    };
    let dir = TempDir::new("process");
    let setup = setup_for(&binary, &dir.0, "127.0.0.1").expect("nginx -V runs");
    let (a, b) = (Backend::start("a"), Backend::start("b"));
    let port = free_port();
    let both = render(&setup, &web(&[&a.address, &b.address], port));
    let mut nginx = Nginx::start(&binary, &dir.0, &both).expect("nginx starts");
    let pid = nginx.pid();
    settle(port, "both backends answer", |seen| {
        let ok = seen.iter().all(|(s, _)| *s == 200);
        ok && seen.iter().any(|(_, b)| b == "backend a\n")
            && seen.iter().any(|(_, b)| b == "backend b\n")
    });

    let only_b = render(&setup, &web(&[&b.address], port));
    nginx.apply(&only_b).expect("a reload to one endpoint");
    settle(port, "only b answers", |seen| {
        seen.iter().all(|(s, b)| *s == 200 && b == "backend b\n")
    });

    let none = render(&setup, &web(&[], port));
    nginx.apply(&none).expect("a reload to no endpoint");
    settle(port, "503 without endpoints", |seen| {
        seen.iter()
            .all(|(s, b)| *s == 503 && b.contains("no ready endpoint for p/web"))
    });

    nginx.apply(&only_b).expect("back to b");
    let bad = only_b.replace(
        "worker_processes 1;",
        "worker_processes 1;\nno_such_directive on;",
    );
    let refused = nginx.apply(&bad).expect_err("nginx -t refuses it");
    assert!(refused.contains("no_such_directive"), "{refused}");
    settle(port, "b still answers after a refused config", |seen| {
        seen.iter().all(|(s, b)| *s == 200 && b == "backend b\n")
    });
    assert!(nginx.exited().is_none(), "nginx still runs");

    // nginx -t does not bind, so a taken port fails only in the reload itself.
    let taken = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let taken_port = taken.local_addr().expect("bound").port();
    let mut clash = web(&[&b.address], port);
    clash.push(Service {
        handle: "p/clash".into(),
        port: taken_port,
        endpoints: vec![],
    });
    let refused = nginx
        .apply(&render(&setup, &clash))
        .expect_err("the port is taken");
    assert!(refused.contains("bind"), "{refused}");
    settle(port, "b still answers after a refused reload", |seen| {
        seen.iter().all(|(s, b)| *s == 200 && b == "backend b\n")
    });
    drop(taken);

    drop(nginx);
    assert!(!group_alive(pid), "no nginx process is left");
    assert!(get(port).is_err(), "nothing listens on {port} any more");
}

#[test]
fn loop_follows_the_store() {
    let Some(binary) = nginx_binary() else {
        return;
    };
    let dir = TempDir::new("loop");
    let a = Backend::start("a");
    let port = free_port();
    let kv = Arc::new(MapKv::default());
    kv.put_record(&record("p", "web", "HttpService", i64::from(port), 1));
    kv.put("/registry/leases/node-1", "1");
    kv.put_endpoint("p/web", 0, "node-1", &a.address, true);
    let output = Output::buffer();
    let lb = start(
        kv.clone(),
        dir.0.clone(),
        binary,
        "127.0.0.1".into(),
        output.clone(),
    )
    .expect("the loop starts");
    settle(port, "a answers through the loop", |seen| {
        seen.iter().all(|(s, b)| *s == 200 && b == "backend a\n")
    });
    let pid: u32 = std::fs::read_to_string(dir.0.join("nginx.pid"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .expect("nginx wrote its pid");

    // An nginx killed outright (its workers left running) is started again.
    let master = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: the pid is nginx's master, still running, a child of this process.
    unsafe { libc::kill(master, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_millis(SETTLE_WAIT_MS);
    let pid = loop {
        let now: Option<u32> = std::fs::read_to_string(dir.0.join("nginx.pid"))
            .ok()
            .and_then(|t| t.trim().parse().ok());
        match now {
            Some(p) if p != pid => break p,
            _ if Instant::now() >= deadline => panic!("nginx was not started again"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    assert!(
        !group_alive(master as u32),
        "the killed master's workers are gone"
    );
    settle(port, "a answers after nginx was started again", |seen| {
        seen.iter().all(|(s, b)| *s == 200 && b == "backend a\n")
    });

    kv.delete("/registry/leases/node-1");
    settle(port, "503 once the node is gone", |seen| {
        seen.iter().all(|(s, _)| *s == 503)
    });
    // The loop says what it serves once nginx took the configuration, so a client may
    // see the 503 a moment before the line is written.
    let deadline = Instant::now() + Duration::from_millis(SETTLE_WAIT_MS);
    while !output.contents().contains("(no ready endpoint)") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let said = output.contents();
    assert!(said.contains("lb nginx: serving p/web"), "{said}");
    assert!(said.contains("(no ready endpoint)"), "{said}");
    assert!(said.contains("nginx exited"), "{said}");

    drop(lb);
    assert!(!group_alive(pid), "no nginx process is left");
}
