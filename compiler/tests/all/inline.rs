//! Inlining: programs give the same output, traps, stack traces and refcounts with and
//! without it, and a trap inside inlined code still shows the inlined function's frame.

use crate::harness::*;
use weft_compiler::{compile_with, Artifact, Options};
use weft_runtime::{Output, RunError, Runtime, Settings};

fn build_src(src: &str, inline: bool) -> Artifact {
    let fe = weft_lang::check_file("main.weft", src, &weft_lang::NoFiles);
    let Some(prog) = fe.program else {
        panic!(
            "{}",
            weft_lang::diagnostic::render_all(&fe.diagnostics, &fe.sources)
        );
    };
    compile_with(
        &prog,
        &fe.sources,
        Options {
            inline,
            ..Options::default()
        },
    )
    .expect("compiles")
}

/// The calls inlined anywhere in the module, by callee name.
fn inlined(a: &Artifact) -> Vec<String> {
    let funcs = a.debug.funcs.values();
    funcs
        .flat_map(|f| f.inlined.iter().map(|c| c.name.clone()))
        .collect()
}

/// Runs `main` inlined and not: the same output, trap and frames, nothing leaked (when it
/// returns). Returns the inlined run and what was inlined.
fn both(src: &str) -> (Run, Vec<String>) {
    let (a, plain) = (build_src(src, true), build_src(src, false));
    assert!(inlined(&plain).is_empty());
    let (r, p) = (run_export(&a, "main"), run_export(&plain, "main"));
    assert_eq!(r.out, p.out, "output with and without inlining");
    assert_eq!(r.trap, p.trap, "trap with and without inlining");
    assert_eq!(r.frames, p.frames, "frames with and without inlining");
    if r.trap.is_none() {
        assert_eq!(
            r.live_blocks, 0,
            "blocks leaked (or freed twice): {:?}",
            r.out
        );
        assert_eq!(p.live_blocks, 0, "blocks leaked without inlining");
    }
    (r, inlined(&a))
}

fn lines(r: &Run) -> Vec<&str> {
    r.out.iter().map(String::as_str).collect()
}

#[test]
fn arguments_are_evaluated_once_left_to_right_before_the_body() {
    let src = r#"
fn say(s: String, n: Int) -> Int {
  print(s)
  n
}
fn digits(a: Int, b: Int, c: Int) -> Int { print("body"); c + b * 10 + a * 100 }
fn second(a: Int, b: Int) -> Int { b }
fn twice(a: Int) -> Int { a + a }
fn main() {
  print(digits(say("a", 1), say("b", 2), say("c", 3)))
  print(second(say("x", 1), say("y", 2)))
  print(twice(say("once", 5)))
}
"#;
    let (r, names) = both(src);
    assert_eq!(
        lines(&r),
        ["a", "b", "c", "body", "123", "x", "y", "2", "once", "10"]
    );
    for f in ["digits", "second", "twice", "say"] {
        assert!(names.iter().any(|n| n == f), "{f} not inlined: {names:?}");
    }
}

#[test]
fn shadowed_parameters_and_caller_locals_keep_their_own_values() {
    let src = r#"
fn shadow(n: Int) -> Int {
  let n = n * 2
  let n = n + 1
  n
}
fn bump(n: Int) -> Int {
  var m = n
  m += 1
  m
}
fn swap_sum(a: Int, b: Int) -> Int { let a = b; let b = a; a + b }
fn main() {
  let n = 5
  print(shadow(n))
  print(n)
  var k = 1
  print(bump(k))
  print(bump(bump(k)))
  print(k)
  k = shadow(k)
  print(k)
  print(swap_sum(n, k))
}
"#;
    let (r, names) = both(src);
    assert_eq!(lines(&r), ["11", "5", "2", "3", "1", "3", "6"]);
    assert!(names.iter().any(|n| n == "bump"), "{names:?}");
}

#[test]
fn heap_arguments_keep_value_semantics_and_refcounts() {
    let src = r#"
type Pair = { name: String, xs: List<Int> }
fn with(xs: List<Int>, v: Int) -> List<Int> {
  var ys = xs
  ys.push(v)
  ys
}
fn total(xs: List<Int>) -> Int { xs.sum() }
fn greet(s: String) -> String { "hi " + s }
fn name(p: Pair) -> String { p.name }
fn renamed(p: Pair, n: String) -> Pair { { ...p, name: n } }
fn keep(p: Pair) -> Pair { p }
fn main() {
  let a = [1, 2]
  let b = with(a, 3)
  print("{a} {b} {total(b)} {total(with([7], 8))}")
  var c = [4]
  c = with(c, 5)
  c = with(with(c, 6), total(c))
  print("{c}")
  print(greet("a" + "b"))
  let p = Pair { name: greet("p"), xs: b }
  let q = renamed(p, greet(name(p)))
  print("{name(p)} | {name(q)} | {name(keep(keep(q)))} | {keep(p).xs}")
  var ps = [p, q]
  ps[0] = renamed(ps[0], "first")
  print("{name(ps[0])} {name(ps[1])} {ps.len()}")
}
"#;
    let (r, names) = both(src);
    assert_eq!(
        lines(&r),
        [
            "[1, 2] [1, 2, 3] 6 15",
            "[4, 5, 6, 9]",
            "hi ab",
            "hi p | hi hi p | hi hi p | [1, 2, 3]",
            "first hi hi p 2",
        ]
    );
    for f in ["with", "total", "greet", "name", "renamed", "keep"] {
        assert!(names.iter().any(|n| n == f), "{f} not inlined: {names:?}");
    }
}

#[test]
fn generic_callees_and_generic_callers() {
    let src = r#"
fn pick<T>(c: Bool, a: T, b: T) -> T { if c { a } else { b } }
fn wrap<T>(x: T) -> Option<T> { Some(x) }
fn both<T>(x: T) -> (Option<T>, Bool) { (wrap(x), wrap(x).is_some()) }
fn main() {
  print(pick(true, 1, 2))
  print(pick(false, "a", "b"))
  print(pick(false, [1], [2, 3]))
  print(both(4))
  print(both("s"))
  print(both([both(1)]))
  let none: Option<Int> = None
  print("{none.unwrap_or(7)} {wrap(3).unwrap_or(0)} {none.is_some()} {[1, 2].first()}")
}
"#;
    let (r, names) = both(src);
    assert_eq!(
        lines(&r),
        [
            "1",
            "b",
            "[2, 3]",
            "(Some(4), true)",
            r#"(Some("s"), true)"#,
            "(Some([(Some(1), true)]), true)",
            "7 3 false Some(1)",
        ]
    );
    for f in [
        "pick<Int>",
        "pick<String>",
        "wrap<Int>",
        "both<String>",
        "unwrap_or<Int>",
    ] {
        assert!(names.iter().any(|n| n == f), "{f} not inlined: {names:?}");
    }
}

#[test]
fn recursion_gives_the_same_results() {
    let src = r#"
fn fib(n: Int) -> Int {
  if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}
fn depth(n: Int) -> Int {
  if n == 0 { 0 } else { 1 + depth(n - 1) }
}
fn even(n: Int) -> Bool { if n == 0 { true } else { odd(n - 1) } }
fn odd(n: Int) -> Bool { if n == 0 { false } else { even(n - 1) } }
fn build(n: Int) -> List<Int> {
  if n == 0 { [] } else {
    var xs = build(n - 1)
    xs.push(n)
    xs
  }
}
fn main() {
  print(fib(20))
  print(depth(5000))
  print("{even(10)} {odd(7)} {even(7)}")
  print(build(300).sum())
}
"#;
    let (r, names) = both(src);
    assert_eq!(lines(&r), ["6765", "5000", "true true false", "45150"]);
    assert!(names.iter().any(|n| n == "fib"), "{names:?}");
}

#[test]
fn a_self_recursive_function_is_inlined_into_itself_once() {
    let src = r#"
fn fib(n: Int) -> Int {
  if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}
fn main() { print(fib(10)) }
"#;
    let a = build_src(src, true);
    let fib = a
        .debug
        .funcs
        .values()
        .find(|f| f.name == "fib")
        .expect("fib is compiled");
    // Its two calls, each replaced once by the original body (whose calls stay calls).
    assert_eq!(fib.inlined.len(), 2, "{:?}", fib.inlined);
    assert!(fib.inlined.iter().all(|c| c.parent.is_none()));
}

#[test]
fn what_is_not_inlined() {
    let src = r#"
fn early(n: Int) -> Int {
  if n > 3 { return 3 }
  n
}
fn first_even(xs: List<Int>) -> Option<Int> {
  let e = xs.find(|x| x % 2 == 0)?
  Some(e * 10)
}
fn push_twice(var self: List<Int>, v: Int) {
  self.push(v)
  self.push(v)
}
fn adder(n: Int) -> fn(Int) -> Int { |x| x + n }
fn upto(n: Int) -> Int {
  var t = 0
  for i in 0..n { t += i }
  t
}
fn main() {
  var xs = [1]
  xs.push_twice(2)
  print("{early(5)} {early(1)} {first_even(xs)} {first_even([1])} {adder(2)(3)} {xs} {upto(4)}")
}
"#;
    let (r, names) = both(src);
    assert_eq!(lines(&r), ["3 1 Some(20) None 5 [1, 2, 2] 6"]);
    for f in ["early", "first_even", "push_twice", "adder", "upto"] {
        assert!(!names.iter().any(|n| n == f), "{f} inlined: {names:?}");
    }
}

const TRAP_SRC: &str = r#"
fn fib(n: Int) -> Int {
  if n < 2 { 4611686018427387904 } else { fib(n - 1) + fib(n - 2) }
}
fn check(n: Int) -> Int {
  if n < 0 { panic("negative: {n}") }
  n
}
fn outer(n: Int) -> Int { check(n) + 1 }
fn main() {
  print(outer(1))
  print(fib(4))
}
"#;

#[test]
fn a_trap_in_inlined_code_shows_the_inlined_frames() {
    let (r, names) = both(TRAP_SRC);
    assert!(names.iter().any(|n| n == "fib"), "{names:?}");
    assert_eq!(r.trap.as_deref(), Some("integer overflow"));
    let frames: Vec<String> = r
        .frames
        .iter()
        .map(|(f, l)| {
            format!(
                "{f} {}",
                l.as_ref().map(|l| l.to_string()).unwrap_or_default()
            )
        })
        .collect();
    // fib(2)'s add overflows; fib(2) was called by fib(3), fib(3) by fib(4).
    assert_eq!(
        frames,
        [
            "fib main.weft:3:43",
            "fib main.weft:3:43",
            "fib main.weft:3:43",
            "main main.weft:12:9",
        ]
    );
    let src = TRAP_SRC.replace("outer(1)", "outer(-1)");
    let (r, names) = both(&src);
    assert!(names.iter().any(|n| n == "check"), "{names:?}");
    assert_eq!(r.trap.as_deref(), Some("negative: -1"));
    let lines: Vec<(&str, u32)> = r
        .frames
        .iter()
        .map(|(f, l)| (f.as_str(), l.as_ref().map_or(0, |l| l.line)))
        .collect();
    assert_eq!(lines, [("check", 6), ("outer", 9), ("main", 11)]);
}

#[test]
fn the_runtime_expands_inlined_frames() {
    let runtime = Runtime::new(Settings::default()).expect("a runtime");
    let a = build_src(TRAP_SRC, true);
    assert!(inlined(&a).iter().any(|n| n == "fib"));
    let out = Output::buffer();
    let err = runtime.run(&a, "main", &out).expect_err("a trap");
    assert_eq!(out.take(), "2\n");
    let RunError::Trap { message, frames } = &err else {
        panic!("expected a trap, got {err:?}");
    };
    assert_eq!(message, "integer overflow");
    assert_eq!(frames.len(), 4, "{frames:?}");
    assert_eq!(
        err.to_string(),
        "error: integer overflow\n  at fib (main.weft:3:43)\n  \
         ... the frame above, 2 more times\n  at main (main.weft:12:9)"
    );
}

#[test]
fn a_cut_off_backtrace_keeps_as_many_frames_inlined_or_not() {
    let src = r#"
fn forever(n: Int) -> Int { forever(n + 1) + 1 }
fn main() { print(forever(0)) }
"#;
    let runtime = Runtime::new(Settings::default()).expect("a runtime");
    let mut texts = vec![];
    for inline in [true, false] {
        let a = build_src(src, inline);
        let err = runtime
            .run(&a, "main", &Output::buffer())
            .expect_err("a stack overflow");
        let RunError::Trap { frames, .. } = &err else {
            panic!("expected a trap, got {err:?}");
        };
        assert_eq!(frames.len(), Settings::default().backtrace_frames_max);
        texts.push(err.to_string());
    }
    assert_eq!(texts[0], texts[1]);
}
