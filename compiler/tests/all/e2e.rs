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

/// A type that grows its own arguments (which the checker rejects) would make the helper
/// generators ask for ever deeper types; the compiler must stop with `TooDeep`.
#[test]
fn ever_deeper_helper_types_stop_with_too_deep() {
    use weft_lang::tir::AdtKind;
    use weft_lang::types::Ty;
    let src = "enum Nested<T> { Flat(T), Deep(Nested<T>) }\nfn main() { let n = Deep(Flat(1))\n print(n) }\n";
    let fe = weft_lang::check_file("main.weft", src, &weft_lang::NoFiles);
    let mut program = fe.program.expect("a checked program");
    let id = program
        .adts
        .iter()
        .position(|a| a.name == "Nested")
        .expect("the Nested type");
    if let AdtKind::Enum(vs) = &mut program.adts[id].kind {
        let grown = Ty::List(Box::new(Ty::Param(0)));
        vs[1].fields = vec![Ty::Adt(weft_lang::types::AdtId(id as u32), vec![grown])];
    }
    let result = weft_compiler::compile(&program, &fe.sources);
    assert!(
        matches!(result, Err(weft_compiler::CompileError::TooDeep { .. })),
        "{:?}",
        result.map(|a| a.wasm.len())
    );
}

#[test]
fn a_module_carries_its_description() {
    let src = r#"
agent Counter at "/counters/:id" {
  value count: Int = 0
  fn incr(by: Int) -> Int { count += by
    count }
}
fn main() { print("{Counter("/counters/a").incr(2)}") }
test "one" { assert_eq(1, 1) }
"#;
    let fe = weft_lang::check_file("main.weft", src, &weft_lang::NoFiles);
    let prog = fe.program.expect("checks");
    let a = weft_compiler::compile(&prog, &fe.sources).expect("compiles");
    let b = weft_compiler::Artifact::from_wasm(a.wasm.clone()).expect("reads back");
    assert_eq!(b.id, a.id);
    assert_eq!(b.main_export, a.main_export);
    assert_eq!(b.manifest, a.manifest);
    assert_eq!(b.tests.len(), 1);
    assert_eq!(b.debug.funcs.len(), a.debug.funcs.len());
    assert!(weft_compiler::Artifact::from_wasm(b"\0asm\x01\0\0\0".to_vec()).is_err());
    assert!(weft_compiler::Artifact::from_wasm(b"hello".to_vec()).is_err());
    // Truncated anywhere: an error, never a panic.
    for cut in [9, 20, a.wasm.len() / 2, a.wasm.len() - 1] {
        assert!(weft_compiler::Artifact::from_wasm(a.wasm[..cut].to_vec()).is_err());
    }
}
