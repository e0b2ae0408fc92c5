//! A method's parameter defaults across the wire, as a patch needs them: a caller built
//! before a parameter existed sends fewer arguments, and the method's entry computes the
//! rest. Through a node directly (truncated argument bytes) and through `weft call`.

use super::support::{scratch_dir, text, Served};
use std::sync::Arc;
use std::time::Duration;
use weft_runtime::agents::{Node, NodeSettings};
use weft_runtime::{Output, Runtime, Settings};

const COUNTER: &str = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  map by_user: Map<String, Int>
  fn incr(user: String, by: Int = 1, note: String = "-") -> String {
    count += by
    by_user[user] = by_user.get(user).unwrap_or(0) + by
    "{user} {count} {note}"
  }
  fn total(user: String) -> Int { by_user.get(user).unwrap_or(0) }
}

fn main() {}
"#;

fn text_wire(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

fn node(dir: &std::path::Path) -> Node {
    let fe = weft_lang::check_file("counter.weft", COUNTER, &weft_lang::NoFiles);
    let program = fe.program.expect("the program checks");
    let artifact = weft_compiler::compile(&program, &fe.sources).expect("it compiles");
    let rt = Runtime::new(Settings::default()).unwrap_or_else(|e| panic!("{e}"));
    Node::new(
        Arc::new(rt),
        Arc::new(artifact),
        Output::buffer(),
        Output::buffer(),
        NodeSettings::new(dir.to_path_buf()),
    )
}

#[test]
fn a_call_with_fewer_argument_bytes_gets_the_defaults() {
    let dir = scratch_dir("weft-defaults", "node");
    let node = node(&dir.join("data"));
    let incr = "incr";
    let call = |args: Vec<u8>| {
        let bytes = node
            .call("/counters/a", incr, args)
            .unwrap_or_else(|e| panic!("{e}"));
        let (len, rest) = bytes.split_at(4);
        assert_eq!(
            u32::from_le_bytes(len.try_into().unwrap()) as usize,
            rest.len()
        );
        String::from_utf8(rest.to_vec()).unwrap_or_default()
    };
    assert_eq!(call(text_wire("ada")), "ada 1 -");
    let mut two = text_wire("ada");
    two.extend(5i64.to_le_bytes());
    assert_eq!(call(two.clone()), "ada 6 -");
    let mut three = text_wire("bob");
    three.extend(2i64.to_le_bytes());
    three.extend(text_wire("x"));
    assert_eq!(call(three), "bob 8 x");
    // The defaulted call wrote the lanes like any other.
    let total = "total";
    let bytes = node
        .call("/counters/a", total, text_wire("ada"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bytes, 6i64.to_le_bytes());
    assert!(node.stop(Duration::from_secs(5)));
}

#[test]
fn weft_call_may_leave_defaulted_arguments_out() {
    let dir = scratch_dir("weft-defaults", "served");
    let file = dir.join("counter.weft");
    std::fs::write(&file, COUNTER).unwrap_or_else(|e| panic!("{e}"));
    let node = Served::start(&file, &dir.join("data"), &[]);
    let out = node.weft(&["call", "/counters/a", "incr", "ada"]);
    assert_eq!(text(&out.stdout), "ada 1 -\n", "{}", text(&out.stderr));
    let out = node.weft(&["call", "/counters/a", "incr", "ada", "2", "\"n\""]);
    assert_eq!(text(&out.stdout), "ada 3 n\n", "{}", text(&out.stderr));
    let out = node.weft(&["call", "/counters/a", "incr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("`incr` takes 1 to 3 arguments (user, by = ..., note = ...), not 0"),
        "{}",
        text(&out.stderr)
    );
}
