//! HttpService and Timer on `weft run`'s embedded cluster: the service answers at the
//! endpoint `weft describe resource` lists (a trap answers 500 and it keeps serving),
//! and the Timer's body runs every period.

use super::support::{ready_endpoints, scratch_dir, text, write, Served};
use std::time::{Duration, Instant};

const PROGRAM: &str = r#"use std::http::{ok, text, not_found, respond, json}

fn main() {
  let hits = new Table<String, Int>("hits")
  let pulses = new Table<String, Int>("pulses")
  new Cell("pulse") {
    every 100ms { pulses.put("p{now() / 100}", 1) }
  }
  let greeting = "hello"
  new HttpService("api", port: 18080, replicas: 2) |req| {
    match req.path {
      "/hello" => ok(text("{greeting} {req.method} {req.query} {req.body}")),
      "/ticks" => ok(json("{hits.len()}")),
      "/pulses" => ok(json("{pulses.len()}")),
      "/boom" => { let x = [1][3]; ok(text("never")) },
      "/teapot" => respond(418, text("short and stout")).with_header("x-kind", "teapot"),
      _ => not_found(),
    }
  }
  new Timer("tick", every: 200ms) { hits.put("t{now() / 200}", 1) }
}
"#;

/// Waits (at most `max`) until `f` gives something.
fn until<T>(max: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < max {
        if let Some(t) = f() {
            return Some(t);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_service_answers_at_its_endpoints_and_a_timer_ticks() {
    let dir = scratch_dir("services", "run");
    let file = write(&dir, "svc.weft", PROGRAM);
    let node = Served::start(&file, &dir.join("data"), &[]);
    let found = until(Duration::from_secs(30), || {
        let e = ready_endpoints(&node, "api");
        (e.len() == 2).then_some(e)
    });
    let Some(endpoints) = found else {
        panic!("no two ready endpoints: {}", node.stderr_so_far());
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    for e in &endpoints {
        let r = client
            .post(format!("{e}/hello?a=1"))
            .body("hi there")
            .send()
            .expect("a request");
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()["content-type"].to_str().ok(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(r.text().ok().as_deref(), Some("hello POST a=1 hi there"));
    }
    let e = &endpoints[0];
    let boom = client.get(format!("{e}/boom")).send().expect("a request");
    assert_eq!(boom.status().as_u16(), 500);
    assert!(boom.text().unwrap_or_default().contains("out of bounds"));
    let teapot = client.get(format!("{e}/teapot")).send().expect("a request");
    assert_eq!(teapot.status().as_u16(), 418);
    assert_eq!(teapot.headers()["x-kind"].to_str().ok(), Some("teapot"));
    let missing = client.get(format!("{e}/nope")).send().expect("a request");
    assert_eq!(missing.status().as_u16(), 404);
    // The Timer keeps ticking: every 200 ms a new row.
    let ticks = |c: &reqwest::blocking::Client| -> i64 {
        c.get(format!("{e}/ticks"))
            .send()
            .ok()
            .and_then(|r| r.text().ok())
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0)
    };
    let first = until(Duration::from_secs(10), || {
        let n = ticks(&client);
        (n >= 1).then_some(n)
    })
    .expect("the timer never ran");
    let later = until(Duration::from_secs(10), || {
        let n = ticks(&client);
        (n >= first + 3).then_some(n)
    });
    assert!(later.is_some(), "the timer stopped at {first} ticks");
    // And so does the Cell's own timer, every 100 ms.
    let pulses = until(Duration::from_secs(10), || {
        let n: i64 = client
            .get(format!("{e}/pulses"))
            .send()
            .ok()
            .and_then(|r| r.text().ok())
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        (n >= 5).then_some(n)
    });
    assert!(pulses.is_some(), "the Cell's timer did not tick");
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

const TOO_BIG: &str = r#"
fn main() {
  let q = new QueueService<Int>("q")
  let t = new Table<Int, Int>("t")
  new Cell("huge", memory: 100000000 * MiB) { on q |n| { t.put(n, 1) } }
  new Cell("greedy", cpu: 1000000 * milli) { on q |n| { t.put(n, 2) } }
  new Cell("small", memory: 16 * MiB) { on q |n| { t.put(n, 3) } }
}
"#;

/// `weft describe resource NAME`'s placement line.
fn placement(node: &Served, name: &str) -> String {
    let out = node.weft(&["describe", "resource", name]);
    text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Placement:"))
        .unwrap_or("")
        .trim()
        .to_string()
}

#[test]
fn a_cell_is_placed_only_where_its_cpu_and_memory_fit() {
    let dir = scratch_dir("services", "fit");
    let file = write(&dir, "fit.weft", TOO_BIG);
    let node = Served::start(&file, &dir.join("data"), &[]);
    let placed = until(Duration::from_secs(30), || {
        let p = placement(&node, "small");
        (p == "node-1").then_some(p)
    });
    assert!(placed.is_some(), "small: {}", placement(&node, "small"));
    let huge = placement(&node, "huge");
    assert_eq!(
        huge, "1 pending: no Ready node has 100m CPU and 100000000 MiB free",
        "{huge}"
    );
    let greedy = placement(&node, "greedy");
    assert!(
        greedy.starts_with("1 pending: no Ready node has 1000000m CPU"),
        "{greedy}"
    );
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn weft_run_puts_nginx_in_front_of_an_exposed_service() {
    super::support::require_nginx();
    let dir = scratch_dir("services", "lb");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let program = format!(
        r#"use std::http::{{lb, ok, text}}

fn main() {{
  new HttpService("web", port: {port}, expose: lb("nginx"), replicas: 2) |req| {{
    let from = req.header("x-forwarded-for").unwrap_or("?")
    ok(text("via {{from}}"))
  }}
}}
"#
    );
    let file = write(&dir, "web.weft", &program);
    let node = Served::start(&file, &dir.join("data"), &["--lb", "nginx"]);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let answer = until(Duration::from_secs(30), || {
        let r = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .ok()?;
        let server = r.headers().get("server")?.to_str().ok()?.to_string();
        (r.status().as_u16() == 200).then(|| (server, r.text().unwrap_or_default()))
    });
    let Some((server, body)) = answer else {
        panic!("nginx never served web: {}", node.stderr_so_far());
    };
    assert!(server.starts_with("nginx"), "{server}");
    assert_eq!(body, "via 127.0.0.1");
    drop(node);
    let gone = until(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .is_err()
            .then_some(())
    });
    assert!(gone.is_some(), "nginx outlived its node");
    let _ = std::fs::remove_dir_all(&dir);
}
