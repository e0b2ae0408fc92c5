//! Swim's own WARP client, `@swim/client` under Node.js, linked to a Weft node: it syncs
//! a list, a map, a value and a demand lane of the chat example, sends 120 commands, and
//! checks that it saw every change in order (`tests/swim/link.mjs`). `.ci/run` installs
//! Node.js and the client (`npm ci` in `tests/swim`).

use super::support::{scratch_dir, text, wait_output, Served};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn swim_client_links_syncs_and_commands() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/swim");
    assert!(
        dir.join("node_modules/@swim/client").is_dir(),
        "@swim/client is not installed: run `npm ci` in tests/swim (as .ci/run does)"
    );
    let scratch = scratch_dir("weft-swim", "chat");
    let chat = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/chat.weft");
    let node = Served::start(&chat, &scratch.join("data"), &[]);
    let host = format!("warp://{}", node.authority());
    let child = Command::new("node")
        .arg("link.mjs")
        .arg(&host)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node (Node.js): {e}"));
    // The script gives up by itself after 30 s; this bounds it in any case.
    let out = wait_output(child, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "{}{}\nnode's stderr: {}",
        text(&out.stdout),
        text(&out.stderr),
        node.stderr_so_far()
    );
    assert_eq!(
        text(&out.stdout),
        "ok: 120 commands, 120 inserts in order, final list of 50\n"
    );
}
