//! The place cache and loop facts keep value semantics: aliasing indices, copies taken
//! between writes, reassigned index locals, calls, nested paths, loops that keep a list
//! unique, peeled iterations and overflow checks dropped by a loop condition.

use crate::harness::*;

/// Compiles `src` through the front end and runs `main`.
fn run_src(src: &str) -> Run {
    let fe = weft_lang::check_file("main.weft", src, &weft_lang::NoFiles);
    let prog = fe.program.unwrap_or_else(|| {
        panic!(
            "front end rejected the program: {}",
            weft_lang::diagnostic::render_all(&fe.diagnostics, &fe.sources)
        )
    });
    let a = weft_compiler::compile(&prog, &fe.sources).expect("compiles");
    run_export(&a, "main")
}

/// Runs `src`, expects no trap and nothing left allocated; returns the printed lines.
fn lines(src: &str) -> Vec<String> {
    let r = run_src(src);
    assert_eq!(r.trap, None, "{r:?}");
    assert_eq!(r.live_blocks, 0, "leaked blocks: {r:?}");
    r.out
}

const P: &str = "type P = { x: Int, y: Int }\n";

#[test]
fn aliasing_indices_see_each_others_writes() {
    let src = format!(
        "{P}fn main() {{
  var xs = [P {{ x: 1, y: 2 }}, P {{ x: 3, y: 4 }}]
  let i = 0
  let j = 0
  let a = xs[j].x
  xs[i].x = 10
  let b = xs[j].x
  xs[j].y = xs[i].x + 1
  let c = xs[i].y
  xs[i] = P {{ x: 7, y: 8 }}
  let d = xs[j].x + xs[j].y
  print(\"{{a}} {{b}} {{c}} {{d}} {{xs}}\")
}}
"
    );
    assert_eq!(
        lines(&src),
        ["1 10 11 15 [P { x: 7, y: 8 }, P { x: 3, y: 4 }]"]
    );
}

#[test]
fn aliasing_indices_on_a_shared_list() {
    // The first write copies the list and the element; a cached read through the other
    // index must not keep seeing the old element.
    let src = format!(
        "{P}fn main() {{
  var xs = [P {{ x: 1, y: 2 }}]
  let keep = xs
  let i = 0
  let j = 0
  let t = xs[j].x
  xs[i].x = 10
  let u = xs[j].x
  xs[j].y = 20
  let v = xs[i].y
  print(\"{{t}} {{u}} {{v}} {{keep}} {{xs}}\")
}}
"
    );
    assert_eq!(
        lines(&src),
        ["1 10 20 [P { x: 1, y: 2 }] [P { x: 10, y: 20 }]"]
    );
}

#[test]
fn a_read_through_another_index_sees_the_copied_element() {
    // `xs[j]` is only read, so the run does not make it unique; the write through `xs[i]`
    // (the same slot) copies the shared element, and the next read must see the copy.
    let src = format!(
        "{P}fn main() {{
  var xs = [P {{ x: 1, y: 2 }}]
  let keep = xs
  let i = 0
  let j = 0
  let t = xs[j].x
  xs[i].x = 10
  let u = xs[j].x
  print(\"{{t}} {{u}} {{keep}} {{xs}}\")
}}
"
    );
    assert_eq!(lines(&src), ["1 10 [P { x: 1, y: 2 }] [P { x: 10, y: 2 }]"]);
}

#[test]
fn a_copy_taken_between_writes_keeps_its_value() {
    let src = format!(
        "{P}fn main() {{
  var xs = [P {{ x: 1, y: 2 }}]
  let i = 0
  xs[i].x = 5
  let snap = xs
  xs[i].x = 6
  let elem = xs[i]
  xs[i].y = 7
  let whole = xs[i].x + xs[i].y
  print(\"{{snap}} {{elem}} {{xs}} {{whole}}\")
}}
"
    );
    assert_eq!(
        lines(&src),
        ["[P { x: 5, y: 2 }] P { x: 6, y: 2 } [P { x: 6, y: 7 }] 13"]
    );
}

#[test]
fn a_reassigned_index_local_walks_again() {
    let src = format!(
        "{P}fn main() {{
  var xs = [P {{ x: 1, y: 2 }}, P {{ x: 3, y: 4 }}]
  var i = 0
  xs[i].x = 100
  i = 1
  xs[i].x = 200
  let a = xs[i].x
  i -= 1
  let b = xs[i].x
  print(\"{{a}} {{b}} {{xs}}\")
}}
"
    );
    assert_eq!(
        lines(&src),
        ["200 100 [P { x: 100, y: 2 }, P { x: 200, y: 4 }]"]
    );
}

#[test]
fn a_call_between_writes_can_keep_the_list() {
    let src = format!(
        "{P}fn keep(ps: List<P>) -> List<P> {{ ps }}
fn total(ps: List<P>) -> Int {{ ps.fold(0, |a, p| a + p.x) }}

fn main() {{
  var xs = [P {{ x: 1, y: 2 }}, P {{ x: 3, y: 4 }}]
  let i = 1
  xs[i].x = 30
  let k = keep(xs)
  xs[i].x = 40
  let t = total(xs)
  xs[i].y = t
  print(\"{{k}} {{xs}}\")
}}
"
    );
    assert_eq!(
        lines(&src),
        ["[P { x: 1, y: 2 }, P { x: 30, y: 4 }] [P { x: 1, y: 2 }, P { x: 40, y: 41 }]"]
    );
}

#[test]
fn nested_paths() {
    let src = "type In = { c: Int }
type Out = { b: List<In> }

fn main() {
  var a = [Out { b: [In { c: 1 }, In { c: 2 }] }, Out { b: [In { c: 3 }] }]
  let before = a
  let i = 0
  let j = 1
  let z = 0
  a[i].b[j].c = 20
  let t = a[i].b[j].c + a[i].b[z].c
  a[i].b[j].c += 1
  let inner = a[i].b
  a[i].b[j].c += 1
  a[i].b[z] = In { c: 9 }
  let u = a[i].b[z].c + a[i].b[j].c
  a[j].b[z].c = t
  print(\"{t} {u} {before} {inner} {a}\")
}
";
    assert_eq!(
        lines(src),
        [concat!(
            "21 31 [Out { b: [In { c: 1 }, In { c: 2 }] }, Out { b: [In { c: 3 }] }] ",
            "[In { c: 1 }, In { c: 21 }] ",
            "[Out { b: [In { c: 9 }, In { c: 22 }] }, Out { b: [In { c: 21 }] }]"
        )]
    );
}

#[test]
fn a_loop_that_shares_its_list_copies_each_time() {
    let src = "fn main() {
  var xs = [1, 2, 3]
  var snaps = []
  for k in 0..3 {
    xs[k] = xs[k] * 10
    snaps.push(xs)
  }
  var ys = [1, 2]
  let zs = ys
  for k in 0..2 { ys[k] += 1 }
  print(\"{snaps} {ys} {zs}\")
}
";
    assert_eq!(
        lines(src),
        ["[[10, 2, 3], [10, 20, 3], [10, 20, 30]] [2, 3] [1, 2]"]
    );
}

#[test]
fn peeled_pair_loops_copy_shared_lists_once() {
    let src = format!(
        "{P}fn main() {{
  var ps = [P {{ x: 1, y: 0 }}, P {{ x: 2, y: 0 }}, P {{ x: 3, y: 0 }}]
  let orig = ps
  let n = ps.len()
  for i in 0..n {{
    for j in (i + 1)..n {{
      ps[i].y += ps[j].x
      ps[j].y -= ps[i].x
    }}
  }}
  let first = ps
  for i in 0..n {{
    for j in 0..n {{
      ps[i].y += 1
      ps[j].y += 10
    }}
  }}
  print(\"{{orig}}\")
  print(\"{{first}}\")
  print(\"{{ps}}\")
}}
"
    );
    assert_eq!(
        lines(&src),
        [
            "[P { x: 1, y: 0 }, P { x: 2, y: 0 }, P { x: 3, y: 0 }]",
            "[P { x: 1, y: 5 }, P { x: 2, y: 2 }, P { x: 3, y: -3 }]",
            "[P { x: 1, y: 38 }, P { x: 2, y: 35 }, P { x: 3, y: 30 }]",
        ]
    );
}

#[test]
fn a_for_over_the_list_it_writes_sees_a_snapshot() {
    let src = format!(
        "{P}fn main() {{
  var ps = [P {{ x: 1, y: 0 }}, P {{ x: 2, y: 0 }}]
  let k = 0
  for p in ps {{
    ps[k].x += p.x
    ps[k].y = ps[k].x
  }}
  print(\"{{ps}}\")
}}
"
    );
    assert_eq!(lines(&src), ["[P { x: 4, y: 4 }, P { x: 2, y: 0 }]"]);
}

#[test]
fn swap_loop_with_extreme_bounds() {
    let src = "fn main() {
  var xs = [1, 2, 3, 4, 5]
  var i = 0
  var j = 4
  while i < j {
    let t = xs[i]
    xs[i] = xs[j]
    xs[j] = t
    i += 1
    j -= 1
  }
  var a = 9223372036854775806
  var b = 9223372036854775807
  var steps = 0
  while a < b {
    a += 1
    steps += 1
  }
  var c = -9223372036854775807
  let d = -9223372036854775807 - 1
  while d < c { c -= 1 }
  print(\"{xs} {a} {steps} {c}\")
}
";
    assert_eq!(
        lines(src),
        ["[5, 4, 3, 2, 1] 9223372036854775807 1 -9223372036854775808"]
    );
}

#[test]
fn a_second_increment_is_still_checked() {
    let src = "fn main() {
  var a = 9223372036854775806
  let b = 9223372036854775807
  while a < b {
    a += 1
    a += 1
  }
  print(\"{a}\")
}
";
    let r = run_src(src);
    assert!(
        r.trap.as_deref().is_some_and(|t| t.contains("overflow")),
        "{r:?}"
    );
}

#[test]
fn out_of_bounds_in_a_cached_run_traps_at_the_right_index() {
    let src = format!(
        "{P}fn main() {{
  var xs = [P {{ x: 1, y: 2 }}]
  let i = 0
  let j = 3
  xs[i].x = 5
  let a = xs[i].x
  xs[j].x = a
}}
"
    );
    let r = run_src(&src);
    let t = r.trap.unwrap_or_default();
    assert!(t.contains('3') && t.contains("bounds"), "{t}");
}

#[test]
fn loop_index_out_of_bounds_traps_in_order() {
    // The peeled first iteration must trap where the loop would: on `ps[j]` read first.
    let src = format!(
        "{P}fn main() {{
  var ps = [P {{ x: 1, y: 0 }}]
  let i = 0
  for j in 5..6 {{
    let a = ps[j].x + ps[i].x
    ps[i].y += a
  }}
}}
"
    );
    let r = run_src(&src);
    let t = r.trap.unwrap_or_default();
    assert!(t.contains('5') && t.contains("bounds"), "{t}");
}
