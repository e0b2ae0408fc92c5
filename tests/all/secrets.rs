//! Secrets and capabilities on `weft run`'s embedded cluster: a Secret's value, set with
//! `weft secret set` from stdin, is read by the service that captured it and by nothing
//! else (`main` is refused), and never lands on disk in clear; code on the cluster uses
//! only the host capabilities it was granted.

use super::support::{scratch_dir, text, weft, write, Served};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const PROGRAM: &str = r#"use std::http::{ok, text}

fn main() {
  let db = new Secret("db")
  new HttpService("api", port: 18081, capabilities: ["clock"]) |req| {
    match req.path {
      "/secret" => ok(text("{db.get().len()} characters: {db.get()}")),
      "/print" => {
        print("hi")
        ok(text("printed"))
      },
      "/clock" => ok(text("{now() > 0}")),
      _ => ok(text("api")),
    }
  }
}
"#;

const VALUE: &str = "hunter2-d41d8cd98f00b204";

/// `weft secret set NAME` with `stdin`.
fn set(node: &Served, name: &str, stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["secret", "set", name, "--cluster", &node.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft secret set");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("its output")
}

/// Whether any file under `dir` holds `needle`.
fn found_in(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(found_in(&p, needle));
        } else if let Ok(bytes) = std::fs::read(&p) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_secret_is_read_only_by_the_code_that_captured_it_and_capabilities_hold() {
    let dir = scratch_dir("secrets", "run");
    let file = write(&dir, "svc.weft", PROGRAM);
    let data = dir.join("data");
    let node = Served::start(&file, &data, &[]);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let endpoint = super::support::endpoint(&node, "api");
    let get = |path: &str| {
        let r = client
            .get(format!("{endpoint}{path}"))
            .send()
            .expect("an answer");
        (r.status().as_u16(), r.text().unwrap_or_default())
    };
    let (status, body) = get("/secret");
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("has no value yet"), "{body}");

    let out = set(&node, "svc/db", &format!("{VALUE}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("secret svc/db set"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(get("/secret"), (200, format!("24 characters: {VALUE}")));

    // Granted the clock only.
    assert_eq!(get("/clock"), (200, "true".into()));
    let (status, body) = get("/print");
    assert_eq!(status, 500, "{body}");
    assert!(
        body.contains("not granted the `print` capability"),
        "{body}"
    );

    // Bad requests: no such Secret, not a Secret, no program named.
    let nope = set(&node, "svc/nope", "x");
    assert_eq!(nope.status.code(), Some(2), "{}", text(&nope.stderr));
    assert!(
        text(&nope.stderr).contains("no Secret svc/nope"),
        "{}",
        text(&nope.stderr)
    );
    let api = set(&node, "svc/api", "x");
    assert!(
        text(&api.stderr).contains("not a Secret"),
        "{}",
        text(&api.stderr)
    );
    let bare = set(&node, "db", "x");
    assert!(
        text(&bare.stderr).contains("--program"),
        "{}",
        text(&bare.stderr)
    );

    // Only ciphertext on disk.
    let store = node.weft(&["store", "get", "/data/svc/db/value"]);
    assert!(!text(&store.stdout).contains(VALUE));
    drop(node);
    let leaked = found_in(&data, VALUE.as_bytes());
    assert!(leaked.is_empty(), "the value in clear in {leaked:?}");

    // `main` may not read it.
    let reader = write(
        &dir,
        "svc.weft",
        "fn main() {\n  let db = new Secret(\"db\")\n  print(db.get())\n}\n",
    );
    let out = weft(&[
        "run",
        &reader.to_string_lossy(),
        "--data",
        &data.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("read only by the code on the cluster"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stdout).contains(VALUE));
    let _ = std::fs::remove_dir_all(&dir);
}
