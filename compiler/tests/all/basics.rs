//! Scalars, arithmetic traps, functions, recursion and control flow.

use crate::build::*;
use crate::harness::*;
use weft_lang::ast::BinOp;
use weft_lang::types::Ty;

#[test]
fn prints_arithmetic() {
    let mut p = P::new();
    let f = F::new("main", Ty::Unit);
    p.main(
        f,
        stmts(vec![
            show(add(int(40), int(2))),
            show(mul(int(-6), int(7))),
            show(bin(BinOp::Div, int(7), int(2))),
            show(bin(BinOp::Rem, int(-7), int(2))),
            show(add(float(0.1), float(0.2))),
            show(float(2.0)),
            show(lt(int(1), int(2))),
            show(neg(int(5))),
            show(dur(250_000_000)),
            show(dur(2_000_000_000)),
            show(dur(1_500_000)),
            show(dur(1_500)),
        ]),
    );
    assert_eq!(
        out(&p.prog),
        [
            "42",
            "-42",
            "3",
            "-1",
            "0.30000000000000004",
            "2.0",
            "true",
            "-5",
            "250ms",
            "2s",
            "1500us",
            "1500ns"
        ]
    );
}

fn trap_of(body: crate::build::F, e: weft_lang::tir::Expr) -> Option<String> {
    let mut p = P::new();
    p.main(body, stmts(vec![show(e)]));
    run(&p.prog).trap
}

#[test]
fn int_traps() {
    let m = || F::new("main", Ty::Unit);
    assert_eq!(
        trap_of(m(), add(int(i64::MAX), int(1))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), sub(int(i64::MIN), int(1))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), mul(int(i64::MAX / 2), int(3))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), mul(int(1 << 32), int(1 << 31))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), mul(int(-1), int(i64::MIN))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), bin(BinOp::Div, int(1), int(0))).as_deref(),
        Some("division by zero")
    );
    assert_eq!(
        trap_of(m(), bin(BinOp::Rem, int(1), int(0))).as_deref(),
        Some("division by zero")
    );
    assert_eq!(
        trap_of(m(), bin(BinOp::Div, int(i64::MIN), int(-1))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), neg(int(i64::MIN))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(trap_of(m(), mul(int(1 << 31), int(1 << 31))), None);
    assert_eq!(trap_of(m(), mul(int(-(1 << 40)), int(1 << 20))), None);
}

/// `fn fib(n) = if n < 2 { n } else { fib(n - 1) + fib(n - 2) }`
pub fn fib_program() -> (P, weft_lang::tir::FuncId) {
    let mut p = P::new();
    let fib = p.reserve();
    let mut f = F::new("fib", Ty::Int);
    let n = f.param("n", Ty::Int);
    let body = if_(
        lt(f.get(n), int(2)),
        f.get(n),
        add(
            call(fib, vec![sub(f.get(n), int(1))], Ty::Int),
            call(fib, vec![sub(f.get(n), int(2))], Ty::Int),
        ),
    );
    p.define(fib, f, body);
    (p, fib)
}

#[test]
fn recursion_fib() {
    let (mut p, fib) = fib_program();
    p.main(
        F::new("main", Ty::Unit),
        stmts(vec![show(call(fib, vec![int(25)], Ty::Int))]),
    );
    assert_eq!(out(&p.prog), ["75025"]);
}

#[test]
fn loops_break_continue() {
    // var s = 0; for i in 0..10 { if i == 3 { continue }; if i == 7 { break }; s = s + i }; print(s)
    // var k = 0; while k < 5 { k = k + 1 }; print(k)
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let s = f.var("s", Ty::Int);
    let i = f.val("i", Ty::Int);
    let k = f.var("k", Ty::Int);
    let body = stmts(vec![
        let_(s, int(0)),
        ex(for_range(
            i,
            int(0),
            int(10),
            stmts(vec![
                ex(if_(eq(f.get(i), int(3)), cont(), unit())),
                ex(if_(eq(f.get(i), int(7)), brk(), unit())),
                set(s, Ty::Int, add(f.get(s), f.get(i))),
            ]),
        )),
        show(f.get(s)),
        let_(k, int(0)),
        ex(while_(
            lt(f.get(k), int(5)),
            stmts(vec![set(k, Ty::Int, add(f.get(k), int(1)))]),
        )),
        show(f.get(k)),
    ]);
    p.main(f, body);
    assert_eq!(out(&p.prog), ["18", "5"]);
}

#[test]
fn early_return() {
    // fn find(n) -> Int { for i in 0..100 { if i * i >= n { return i } }; -1 }
    let mut p = P::new();
    let mut f = F::new("find", Ty::Int);
    let n = f.param("n", Ty::Int);
    let i = f.val("i", Ty::Int);
    let body = block(
        vec![ex(for_range(
            i,
            int(0),
            int(100),
            stmts(vec![ex(if_(
                bin(BinOp::Ge, mul(f.get(i), f.get(i)), f.get(n)),
                ret(f.get(i)),
                unit(),
            ))]),
        ))],
        int(-1),
    );
    let find = p.func(f, body);
    p.main(
        F::new("main", Ty::Unit),
        stmts(vec![
            show(call(find, vec![int(50)], Ty::Int)),
            show(call(find, vec![int(100_000)], Ty::Int)),
        ]),
    );
    assert_eq!(out(&p.prog), ["8", "-1"]);
}

#[test]
fn dump_fib_wat() {
    let (mut p, fib) = fib_program();
    p.main(
        F::new("main", Ty::Unit),
        stmts(vec![show(call(fib, vec![int(25)], Ty::Int))]),
    );
    let a = build(&p.prog);
    std::fs::write("/tmp/fib.wat", wasmprinter::print_bytes(&a.wasm).unwrap()).unwrap();
}

#[test]
fn constant_add_sub_overflow() {
    let m = || F::new("main", Ty::Unit);
    assert_eq!(
        trap_of(m(), add(int(i64::MAX - 1), int(2))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), add(int(i64::MIN + 1), int(-2))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(
        trap_of(m(), sub(int(i64::MIN + 1), int(2))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(trap_of(m(), sub(int(-2), int(i64::MIN))).as_deref(), None);
    assert_eq!(
        trap_of(m(), sub(int(0), int(i64::MIN))).as_deref(),
        Some("integer overflow")
    );
    assert_eq!(trap_of(m(), add(int(i64::MAX - 2), int(2))), None);
}

/// Not a pass/fail test: prints how long fib(32) takes (run with --ignored --nocapture).
#[test]
#[ignore]
fn perf_fib() {
    let (mut p, fib) = fib_program();
    p.main(
        F::new("main", Ty::Unit),
        stmts(vec![show(call(fib, vec![int(32)], Ty::Int))]),
    );
    let a = build(&p.prog);
    let t = std::time::Instant::now();
    let r = run_export(&a, "main");
    eprintln!("fib(32) = {:?} in {:?}", r.out, t.elapsed());
}
