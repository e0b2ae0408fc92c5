//! Traps carry their message and map back through the stack to Weft functions and lines.

use crate::build::*;
use crate::harness::*;
use weft_lang::types::Ty;

#[test]
fn trap_deep_in_call_chain_maps_to_lines() {
    // line 10: fn main() { ...; outer(3) }
    // line 20: fn outer(n) { let x = 1; middle(n) + x }       (call on line 21)
    // line 30: fn middle(n) { let xs = [1, 2]; xs[n] }         (index on line 32)
    let mut p = P::new();
    let mut f = F::new("middle", Ty::Int);
    let n = f.param("n", Ty::Int);
    let xs = f.val("xs", Ty::list(Ty::Int));
    let body = block(
        vec![let_(xs, at(31, list(Ty::Int, vec![int(1), int(2)])))],
        at(32, index(f.get(xs), f.get(n))),
    );
    let middle = p.func(f, body);
    let mut f = F::new("outer", Ty::Int);
    let n = f.param("n", Ty::Int);
    let body = add(at(21, call(middle, vec![f.get(n)], Ty::Int)), int(1));
    let outer = p.func(f, body);
    let body = stmts(vec![
        show(at(11, int(0))),
        show(at(12, call(outer, vec![int(3)], Ty::Int))),
    ]);
    p.main(F::new("main", Ty::Unit), body);
    let r = run(&p.prog);
    assert_eq!(
        r.trap.as_deref(),
        Some("index 3 out of bounds for list of length 2")
    );
    let frames: Vec<(String, u32)> = r
        .frames
        .iter()
        .map(|(n, l)| (n.clone(), l.as_ref().map(|l| l.line).unwrap_or(0)))
        .collect();
    assert_eq!(
        frames,
        [
            ("middle".to_string(), 32),
            ("outer".to_string(), 21),
            ("main".to_string(), 12)
        ]
    );
    assert_eq!(
        r.frames[0].1.as_ref().map(|l| l.file.as_str()),
        Some("test.weft")
    );
}

#[test]
fn overflow_trap_maps_to_line() {
    let mut p = P::new();
    let mut f = F::new("grow", Ty::Int);
    let n = f.param("n", Ty::Int);
    let body = at(40, mul(f.get(n), f.get(n)));
    let grow = p.func(f, body);
    let body = stmts(vec![show(at(45, call(grow, vec![int(1 << 40)], Ty::Int)))]);
    p.main(F::new("main", Ty::Unit), body);
    let r = run(&p.prog);
    assert_eq!(r.trap.as_deref(), Some("integer overflow"));
    let lines: Vec<u32> = r
        .frames
        .iter()
        .map(|(_, l)| l.as_ref().map(|l| l.line).unwrap_or(0))
        .collect();
    assert_eq!(lines, [40, 45]);
}

#[test]
fn tests_are_exported() {
    let mut p = P::new();
    p.test(
        "passes",
        F::new("test \"passes\"", Ty::Unit),
        stmts(vec![print(st("ok"))]),
    );
    p.test(
        "fails",
        F::new("test \"fails\"", Ty::Unit),
        stmts(vec![ex(intr(
            weft_lang::tir::Intrinsic::AssertEq,
            vec![add(int(1), int(1)), int(3), st("math")],
            Ty::Unit,
        ))]),
    );
    let a = build(&p.prog);
    assert_eq!(a.main_export, None);
    assert_eq!(
        a.tests
            .iter()
            .map(|t| (t.name.as_str(), t.export.as_str()))
            .collect::<Vec<_>>(),
        [("passes", "test_0"), ("fails", "test_1")]
    );
    assert_eq!(run_export(&a, "test_0").out, ["ok"]);
    assert_eq!(
        run_export(&a, "test_1").trap.as_deref(),
        Some("assertion failed: left != right (left: 2, right: 3): math")
    );
}

#[test]
fn trap_inside_runtime_routine_maps_to_caller_line() {
    let mut p = P::new();
    let body = stmts(vec![
        print(at(49, st("before"))),
        print(at(
            50,
            intr(
                weft_lang::tir::Intrinsic::StrRepeat,
                vec![st("ab"), int(1 << 40)],
                Ty::String,
            ),
        )),
    ]);
    p.main(F::new("main", Ty::Unit), body);
    let r = run(&p.prog);
    assert_eq!(r.trap.as_deref(), Some("out of memory"));
    let lines: Vec<(String, u32)> = r
        .frames
        .iter()
        .map(|(n, l)| (n.clone(), l.as_ref().map(|l| l.line).unwrap_or(0)))
        .collect();
    assert_eq!(lines, [("main".to_string(), 50)]);
}
