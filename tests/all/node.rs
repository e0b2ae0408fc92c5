//! A served node as its users reach it, each from a separate process: `weft call`,
//! `weft link` and `weft get agents`, raw HTTP requests good and bad, WARP over
//! WebSocket, kill -9 and restart, and Ctrl-C while a turn is running.

use super::support::{scratch_dir, text, wait_output, weft, Served};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use tungstenite::Message;

fn chat() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/chat.weft")
}

#[test]
fn calls_links_and_listings_reach_the_agents() {
    let node = chat_node("calls");

    let agents = node.weft(&["get", "agents"]);
    assert_eq!(
        text(&agents.stdout),
        "URI           AGENT  STATE\n/rooms/lobby  Room   active\n",
        "{}",
        text(&agents.stderr)
    );

    // A link prints the state, then the change another client makes.
    let link = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["link", "/rooms/lobby", "messages", "--events", "3"])
        .args(["--cluster", &node.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let post = node.weft(&["call", "/rooms/lobby", "post", "bob", "hey all"]);
    assert_eq!(text(&post.stdout), "3\n", "{}", text(&post.stderr));
    let linked = wait_output(link, Duration::from_secs(30));
    assert_eq!(
        text(&linked.stdout),
        "insert [0] Message { from: \"ada\", text: \"hello\" }\n\
         insert [1] Message { from: \"grace\", text: \"hi ada\" }\n\
         insert [2] Message { from: \"bob\", text: \"hey all\" }\n",
        "{}",
        text(&linked.stderr)
    );

    // Arguments are read against the parameters' types; results print in Weft syntax.
    let recent = node.weft(&["call", "/rooms/lobby", "recent", "1"]);
    assert_eq!(
        text(&recent.stdout),
        "[Message { from: \"bob\", text: \"hey all\" }]\n"
    );

    // Refusals: exit 2 and the node's reason.
    for (args, reason) in [
        (
            vec!["call", "/rooms/lobby", "nope"],
            "agent `Room` has no method `nope` (it has: post, say, leave, history, recent)",
        ),
        (
            vec!["call", "/rooms/lobby", "post", "ada"],
            "`post` takes 2 arguments (from, text), not 1",
        ),
        (
            vec!["call", "/rooms/lobby", "recent", "lots"],
            "argument `n`",
        ),
        (
            vec!["call", "/nowhere", "post"],
            "no agent type serves `/nowhere`",
        ),
    ] {
        let out = node.weft(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(reason),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }

    // A method that traps: exit 1, and the lanes are exactly as before the turn.
    let failed = node.weft(&["call", "/rooms/lobby", "post", "ada", ""]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(text(&failed.stderr).contains("an empty message"));
    let history = node.weft(&["call", "/rooms/lobby", "recent", "10"]);
    assert_eq!(text(&history.stdout).matches("Message {").count(), 3);

    // A map lane, in key order, and the same events as WARP carries them.
    let members = node.weft(&["link", "/rooms/lobby", "members", "--events", "3"]);
    assert_eq!(
        text(&members.stdout),
        "\"ada\": 1\n\"bob\": 1\n\"grace\": 1\n"
    );
    let recon = node.weft(&[
        "link",
        "/rooms/lobby",
        "members",
        "--events",
        "1",
        "--recon",
    ]);
    assert_eq!(text(&recon.stdout), "@update(key:ada) 1\n");

    // A lane that does not exist.
    let missing = node.weft(&["link", "/rooms/lobby", "nothing"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("has no lane `nothing`"));
}

#[test]
fn state_survives_kill_9_and_a_restart() {
    let dir = scratch_dir("weft-node", "kill");
    let data = dir.join("data");
    {
        let node = Served::start(&chat(), &data, &[]);
        let out = node.weft(&["call", "/rooms/kept", "post", "ada", "before the crash"]);
        assert_eq!(text(&out.stdout), "1\n", "{}", text(&out.stderr));
        // Dropping the node kills it with SIGKILL.
    }
    let node = Served::start(&chat(), &data, &[]);
    let out = node.weft(&["call", "/rooms/kept", "history"]);
    assert_eq!(
        text(&out.stdout),
        "[Message { from: \"ada\", text: \"before the crash\" }]\n"
    );
}

#[test]
fn a_client_that_cannot_reach_a_node_is_told_so() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://127.0.0.1:{port}");
    for args in [
        vec!["call", "/rooms/a", "history", "--cluster", &url],
        vec!["get", "agents", "--cluster", &url],
        vec!["link", "/rooms/a", "messages", "--cluster", &url],
    ] {
        let out = weft(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("cannot reach a node at"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the body.
fn http(authority: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(authority).unwrap_or_else(|e| panic!("{e}"));
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap_or_else(|e| panic!("{e}"));
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn bad_requests_get_a_4xx_with_a_reason() {
    let node = chat_node("http");
    let at = node.authority();
    for (method, path, body, status, reason) in [
        ("POST", "/api/v1/call", "{not json", 400, "error"),
        (
            "POST",
            "/api/v1/call",
            r#"{"uri": "/rooms/a"}"#,
            400,
            "method",
        ),
        (
            "POST",
            "/api/v1/call",
            r#"{"uri": "/rooms/a", "method": "recent", "args": ["1", "2"]}"#,
            400,
            "takes 1 argument (n), not 2",
        ),
        (
            "POST",
            "/api/v1/call",
            r#"{"uri": "/rooms/a", "method": "recent", "args": ["[1"]}"#,
            400,
            "argument `n`",
        ),
        ("GET", "/api/v1/nope", "", 404, "no such endpoint"),
        ("GET", "/", "", 400, "WARP over WebSocket"),
        ("GET", "/api/v1/call", "", 405, ""),
    ] {
        let (got, text) = http(at, method, path, body);
        assert_eq!(got, status, "{method} {path} {body}: {text}");
        assert!(text.contains(reason), "{method} {path} {body}: {text}");
    }
    // A WebSocket handshake of another version, or without its key.
    for (version, key, reason) in [
        (
            "8",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            "version 13",
        ),
        ("13", "", "Sec-WebSocket-Key"),
    ] {
        let mut tcp = TcpStream::connect(at).unwrap_or_else(|e| panic!("{e}"));
        tcp.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {at}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: {version}\r\n{key}Connection: close\r\n\r\n"
        );
        tcp.write_all(req.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains(reason), "{answer}");
    }
    let (status, body) = http(at, "GET", "/api/v1/node", "");
    assert_eq!(status, 200);
    assert!(body.contains(r#""route":"/rooms/:name""#), "{body}");
}

type Socket = tungstenite::WebSocket<TcpStream>;

/// A node serving the chat example, its data in this test's own scratch directory.
fn chat_node(name: &str) -> Served {
    let dir = scratch_dir("weft-node", name);
    Served::start(&chat(), &dir.join("data"), &[])
}

fn warp(node: &Served) -> Socket {
    let stream = TcpStream::connect(node.authority()).unwrap_or_else(|e| panic!("{e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let (ws, _) = tungstenite::client(format!("ws://{}/", node.authority()), stream)
        .unwrap_or_else(|e| panic!("{e}"));
    ws
}

fn send(ws: &mut Socket, frame: &str) {
    ws.send(Message::text(frame))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The next text frame (panics after the read timeout).
fn next(ws: &mut Socket) -> String {
    loop {
        match ws.read().unwrap_or_else(|e| panic!("{e}")) {
            Message::Text(t) => return t.to_string(),
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => {}
        }
    }
}

#[test]
fn warp_links_see_state_then_every_change_in_order() {
    let node = chat_node("warp");
    let mut ws = warp(&node);
    send(&mut ws, r#"@sync(node:"/rooms/w",lane:members)"#);
    assert_eq!(next(&mut ws), r#"@linked(node:"/rooms/w",lane:members)"#);
    assert_eq!(next(&mut ws), r#"@synced(node:"/rooms/w",lane:members)"#);
    send(&mut ws, r#"@sync(node:"/rooms/w",lane:summary)"#);
    assert_eq!(next(&mut ws), r#"@linked(node:"/rooms/w",lane:summary)"#);
    assert_eq!(
        next(&mut ws),
        r#"@event(node:"/rooms/w",lane:summary)"0 messages from 0 members""#
    );
    assert_eq!(next(&mut ws), r#"@synced(node:"/rooms/w",lane:summary)"#);
    // Commands from this link, by name and by position, then one from another client.
    for i in 1..=30 {
        send(
            &mut ws,
            &format!(r#"@command(node:"/rooms/w",lane:say){{from:w,text:"m{i}"}}"#),
        );
    }
    send(
        &mut ws,
        r#"@command(node:"/rooms/w",lane:say){x,"by position"}"#,
    );
    // Commands are one-way: wait for the last one's change before another client's.
    let mut events = vec![];
    let x = r#"@event(node:"/rooms/w",lane:members)@update(key:x) 1"#;
    while events.last().map(String::as_str) != Some(x) {
        events.push(next(&mut ws));
    }
    let out = node.weft(&["call", "/rooms/w", "post", "y", "by call"]);
    assert_eq!(text(&out.stdout), "32\n", "{}", text(&out.stderr));
    let last = r#"@event(node:"/rooms/w",lane:summary)"32 messages from 3 members""#;
    while events.last().map(String::as_str) != Some(last) {
        events.push(next(&mut ws));
    }
    let members: Vec<&String> = events
        .iter()
        .filter(|e| e.contains("lane:members"))
        .collect();
    let expected: Vec<String> = (1..=30)
        .map(|i| format!(r#"@event(node:"/rooms/w",lane:members)@update(key:w) {i}"#))
        .chain([
            x.to_string(),
            r#"@event(node:"/rooms/w",lane:members)@update(key:y) 1"#.to_string(),
        ])
        .collect();
    assert_eq!(members, expected.iter().collect::<Vec<_>>());
    // The demand lane followed every turn: 31 summaries, counting up.
    let summaries: Vec<&String> = events
        .iter()
        .filter(|e| e.contains("lane:summary"))
        .collect();
    assert_eq!(summaries.len(), 32);
    assert!(
        summaries[0].ends_with(r#""1 messages from 1 members""#),
        "{}",
        summaries[0]
    );

    // Unlinking stops the events; refusals say what was not found.
    send(&mut ws, r#"@unlink(node:"/rooms/w",lane:members)"#);
    assert_eq!(next(&mut ws), r#"@unlinked(node:"/rooms/w",lane:members)"#);
    send(&mut ws, r#"@link(node:"/nowhere",lane:x)"#);
    assert_eq!(
        next(&mut ws),
        r#"@unlinked(node:"/nowhere",lane:x)@nodeNotFound"#
    );
    send(&mut ws, r#"@link(node:"/rooms/w",lane:x)"#);
    assert_eq!(
        next(&mut ws),
        r#"@unlinked(node:"/rooms/w",lane:x)@laneNotFound"#
    );

    // A frame that is not an envelope closes the connection with the reason.
    send(&mut ws, "@link(node:");
    loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => {
                assert_eq!(u16::from(f.code), 1007);
                assert!(f.reason.contains("not a WARP envelope"), "{}", f.reason);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    }
}

/// Reads until the close frame; returns its code and reason.
fn closed(ws: &mut Socket) -> (u16, String) {
    loop {
        match ws.read() {
            Ok(Message::Close(Some(f))) => return (u16::from(f.code), f.reason.to_string()),
            Ok(_) => {}
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    }
}

/// A client may send commands faster than they run: past `link_ops_max` (1,024) waiting,
/// the node leaves its socket unread until one is done (TCP holds the client back). None
/// is lost, and they run in the order sent.
#[test]
fn commands_sent_faster_than_they_run_all_run_in_order() {
    let node = chat_node("flood");
    let mut ws = warp(&node);
    send(&mut ws, r#"@link(node:"/rooms/f",lane:members)"#);
    assert_eq!(next(&mut ws), r#"@linked(node:"/rooms/f",lane:members)"#);
    const N: usize = 1500;
    for i in 1..=N {
        send(
            &mut ws,
            &format!(r#"@command(node:"/rooms/f",lane:say){{from:f,text:"m{i}"}}"#),
        );
    }
    for i in 1..=N {
        assert_eq!(
            next(&mut ws),
            format!(r#"@event(node:"/rooms/f",lane:members)@update(key:f) {i}"#)
        );
    }
}

#[test]
fn the_websocket_side_answers_pings_and_closes_on_what_it_cannot_take() {
    let dir = scratch_dir("weft-node", "websocket");
    let program = dir.join("big.weft");
    std::fs::write(
        &program,
        "agent Big at \"/big/:id\" {\n  value s: String = \"\"\n  \
         fn spam(n: Int) { for k in 0..n { send Big(\"/big/a\").grow(k) } }\n  \
         fn grow(k: Int) { s = \"{k} \" + \"x\".repeat(4000); n += 1 }\n  \
         value n: Int = 0\n  fn count() -> Int { n }\n}\nfn main() {}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let node = Served::start(&program, &dir.join("data"), &[]);

    // A ping gets its pong, in between the envelopes.
    let mut ws = warp(&node);
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .unwrap_or_else(|e| panic!("{e}"));
    send(&mut ws, r#"@link(node:"/big/b",lane:s)"#);
    let mut pong = None;
    loop {
        match ws.read().unwrap_or_else(|e| panic!("{e}")) {
            Message::Pong(p) => pong = Some(p.to_vec()),
            Message::Text(t) => {
                assert_eq!(t.as_str(), r#"@linked(node:"/big/b",lane:s)"#);
                break;
            }
            m => panic!("unexpected {m:?}"),
        }
    }
    assert_eq!(pong.as_deref(), Some(&b"are you there"[..]));

    // Binary frames and messages over frame_bytes_max (1 MiB) end the connection.
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .unwrap_or_else(|e| panic!("{e}"));
    let (code, reason) = closed(&mut ws);
    assert_eq!(code, 1003, "{reason}");
    let mut ws = warp(&node);
    let huge = format!("@command(node:\"/big/b\",lane:x){}", "y".repeat(2 << 20));
    let _ = ws.send(Message::text(huge));
    let (code, reason) = closed(&mut ws);
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("frame_bytes_max"), "{reason}");

    // A client that stops reading while 4 KiB events keep coming: once its socket and
    // then link_queue_max (4096) frames are full, it is cut off, and told why after the
    // frames already written. The node keeps serving.
    let mut slow = warp(&node);
    send(&mut slow, r#"@link(node:"/big/a",lane:s)"#);
    assert_eq!(next(&mut slow), r#"@linked(node:"/big/a",lane:s)"#);
    let out = node.weft(&["call", "/big/c", "spam", "10000"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let until = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let out = node.weft(&["call", "/big/a", "count"]);
        if text(&out.stdout) == "10000\n" {
            break;
        }
        assert!(std::time::Instant::now() < until, "{}", text(&out.stderr));
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, reason) = closed(&mut slow);
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("link_queue_max"), "{reason}");
    let out = node.weft(&["call", "/big/b", "spam", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_client_asking_for_the_warp0_subprotocol_gets_it() {
    use tungstenite::client::IntoClientRequest;
    let node = chat_node("warp0");
    let stream = TcpStream::connect(node.authority()).unwrap_or_else(|e| panic!("{e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut req = format!("ws://{}/", node.authority())
        .into_client_request()
        .unwrap_or_else(|e| panic!("{e}"));
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        tungstenite::http::HeaderValue::from_static("warp0"),
    );
    let (mut ws, resp) = tungstenite::client(req, stream).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        resp.headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok()),
        Some("warp0")
    );
    send(&mut ws, r#"@link(node:"/rooms/lobby",lane:keep)"#);
    assert_eq!(next(&mut ws), r#"@linked(node:"/rooms/lobby",lane:keep)"#);
}

#[test]
fn ctrl_c_lets_the_turn_in_flight_finish() {
    let dir = scratch_dir("weft-node", "ctrl-c");
    let file = dir.join("slow.weft");
    std::fs::write(
        &file,
        "agent Slow at \"/slow/:id\" {\n  value done: Int = 0\n  \
         fn work() -> Int { sleep(600ms); done += 1; done }\n  fn get() -> Int { done }\n}\n\
         fn main() {}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = dir.join("data");
    let mut node = Served::start(&file, &data, &[]);
    let url = node.url.clone();
    let call = std::thread::spawn(move || weft(&["call", "/slow/a", "work", "--cluster", &url]));
    std::thread::sleep(Duration::from_millis(250));
    node.signal("INT");
    let out = call
        .join()
        .unwrap_or_else(|_| panic!("the call thread panicked"));
    assert_eq!(text(&out.stdout), "1\n", "{}", text(&out.stderr));
    let status = node.wait_exit(Duration::from_secs(20));
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        node.stderr_so_far()
    );
    drop(node);
    let mut node = Served::start(&file, &data, &[]);
    let out = node.weft(&["call", "/slow/a", "get"]);
    assert_eq!(text(&out.stdout), "1\n");
    // SIGTERM, as `kill` and process managers send it, stops it as cleanly.
    node.signal("TERM");
    let status = node.wait_exit(Duration::from_secs(20));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

#[test]
fn an_endless_turn_stops_at_its_limit_while_other_agents_answer() {
    let dir = scratch_dir("weft-node", "endless");
    let file = dir.join("spin.weft");
    std::fs::write(
        &file,
        "agent Worker at \"/workers/:id\" {\n  value n: Int = 0\n  \
         fn spin() -> Int { n += 1; var i = 0; while true { i += 1 }; i }\n  \
         fn get() -> Int { n }\n}\nfn main() {}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let node = Served::start(&file, &dir.join("data"), &["--turn-time-limit-ms", "2000"]);
    let url = node.url.clone();
    let spin = std::thread::spawn(move || weft(&["call", "/workers/a", "spin", "--cluster", &url]));
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..3 {
        let out = node.weft(&["call", "/workers/b", "get"]);
        assert_eq!(text(&out.stdout), "0\n", "{}", text(&out.stderr));
    }
    assert!(
        !spin.is_finished(),
        "the other agent answered only after the endless turn ended"
    );
    let out = spin
        .join()
        .unwrap_or_else(|_| panic!("the call thread panicked"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("time limit"),
        "{}",
        text(&out.stderr)
    );
    // The stopped turn's write is gone, and the agent serves again.
    let out = node.weft(&["call", "/workers/a", "get"]);
    assert_eq!(text(&out.stdout), "0\n");
}
