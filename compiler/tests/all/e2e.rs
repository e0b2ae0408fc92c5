//! End to end through the front end, when it accepts the program: source text to output.

use crate::harness::*;

fn run_source(src: &str) -> Option<Run> {
    let fe = weft_lang::check_file("main.weft", src, &weft_lang::NoFiles);
    let Some(prog) = fe.program else {
        eprintln!(
            "front end did not accept the program: {:?}",
            fe.diagnostics
                .iter()
                .map(|d| format!("{d:?}"))
                .collect::<Vec<_>>()
        );
        return None;
    };
    let a = weft_compiler::compile(&prog, &fe.sources).expect("compiles");
    Some(run_export(&a, "main"))
}

#[test]
fn small_program_end_to_end() {
    let src = r#"
type Point = { x: Float, y: Float }
enum Shape { Circle(Float), Rect(Float, Float), Empty }

fn area(s: Shape) -> Float {
  match s {
    Circle(r) => 3.0 * r * r,
    Rect(w, h) => w * h,
    Empty => 0.0,
  }
}

fn first<T>(xs: List<T>) -> Option<T> {
  if xs.len() == 0 { None } else { Some(xs[0]) }
}

fn main() {
  var xs = [3, 1, 2]
  xs.push(4)
  xs[0] = 10
  let p = Point { x: 1.0, y: 2.0 }
  let q = { ...p, x: 5.0 }
  print("{xs} {p} {q} {area(Rect(2.0, 3.0))} {first(xs)} {first(["a"])}")
  var m = Map.new()
  m["k"] = 1
  print("{m.get("k")} {m}")
  let f = |x: Int| -> Int { x + xs.len() }
  print("{f(1)}")
}
"#;
    let Some(r) = run_source(src) else { return };
    assert_eq!(r.trap, None, "{r:?}");
    assert_eq!(
        r.out,
        [
            r#"[10, 1, 2, 4] Point { x: 1.0, y: 2.0 } Point { x: 5.0, y: 2.0 } 6.0 Some(10) Some("a")"#,
            r#"Some(1) {"k": 1}"#,
            "5",
        ]
    );
    assert_eq!(r.live_blocks, 0);
}
