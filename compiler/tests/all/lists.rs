//! Lists: literals, index, set, push, pop, sort, concat, slice, reverse, contains, traps.

use crate::build::*;
use crate::harness::*;
use weft_lang::tir::{Intrinsic as I, PlaceElem};
use weft_lang::types::Ty;

fn ints() -> Ty {
    Ty::list(Ty::Int)
}

#[test]
fn list_operations() {
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let xs = f.var("xs", ints());
    let ys = f.val("ys", ints());
    let ss = f.var("ss", Ty::list(Ty::String));
    let x = f.val("x", Ty::Int);
    let total = f.var("total", Ty::Int);
    let pl = |l| place(l, vec![], ints());
    let body = stmts(vec![
        let_(xs, list(Ty::Int, vec![int(3), int(1), int(2)])),
        ex(mut_call(pl(xs), I::ListPush, vec![int(10)], Ty::Unit)),
        show(f.get(xs)),
        show(index(f.get(xs), int(3))),
        assign(place(xs, vec![PlaceElem::Index(int(0))], Ty::Int), int(7)),
        show(f.get(xs)),
        show(mut_call(pl(xs), I::ListPop, vec![], option(Ty::Int))),
        show(intr(I::ListLen, vec![f.get(xs)], Ty::Int)),
        let_(ys, intr(I::ListSort, vec![f.get(xs)], ints())),
        show(f.get(ys)),
        show(f.get(xs)),
        show(intr(I::ListConcat, vec![f.get(xs), f.get(ys)], ints())),
        show(intr(I::ListSlice, vec![f.get(ys), int(1), int(10)], ints())),
        show(intr(I::ListReverse, vec![f.get(ys)], ints())),
        show(intr(I::ListContains, vec![f.get(ys), int(2)], Ty::Bool)),
        show(intr(I::ListContains, vec![f.get(ys), int(5)], Ty::Bool)),
        let_(total, int(0)),
        ex(for_list(
            x,
            f.get(ys),
            stmts(vec![set(total, Ty::Int, add(f.get(total), f.get(x)))]),
        )),
        show(f.get(total)),
        let_(ss, list(Ty::String, vec![])),
        ex(mut_call(
            place(ss, vec![], Ty::list(Ty::String)),
            I::ListPush,
            vec![st("b")],
            Ty::Unit,
        )),
        ex(mut_call(
            place(ss, vec![], Ty::list(Ty::String)),
            I::ListPush,
            vec![st("a")],
            Ty::Unit,
        )),
        ex(mut_call(
            place(ss, vec![], Ty::list(Ty::String)),
            I::ListPush,
            vec![add(st("c"), st("c"))],
            Ty::Unit,
        )),
        show(intr(I::ListSort, vec![f.get(ss)], Ty::list(Ty::String))),
        show(eq(
            f.get(ss),
            list(Ty::String, vec![st("b"), st("a"), st("cc")]),
        )),
        show(list(Ty::Float, vec![float(1.5), float(-0.25)])),
        show(intr(
            I::ListSort,
            vec![list(Ty::Float, vec![float(1.5), float(-0.25), float(0.0)])],
            Ty::list(Ty::Float),
        )),
        show(list(Ty::Bool, vec![])),
    ]);
    p.main(f, body);
    assert_eq!(
        out(&p.prog),
        [
            "[3, 1, 2, 10]",
            "10",
            "[7, 1, 2, 10]",
            "Some(10)",
            "3",
            "[1, 2, 7]",
            "[7, 1, 2]",
            "[7, 1, 2, 1, 2, 7]",
            "[2, 7]",
            "[7, 2, 1]",
            "true",
            "false",
            "10",
            r#"["a", "b", "cc"]"#,
            "true",
            "[1.5, -0.25]",
            "[-0.25, 0.0, 1.5]",
            "[]",
        ]
    );
}

#[test]
fn big_sort_and_nested_lists() {
    // var xs = []; for i in 0..1000 { xs.push((i * 7919) % 1000) }; sorted; check order
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let xs = f.var("xs", ints());
    let i = f.val("i", Ty::Int);
    let ys = f.val("ys", ints());
    let ok = f.var("ok", Ty::Bool);
    let nested = f.var("nested", Ty::list(ints()));
    let body = stmts(vec![
        let_(xs, list(Ty::Int, vec![])),
        ex(for_range(
            i,
            int(0),
            int(1000),
            ex_block(mut_call(
                place(xs, vec![], ints()),
                I::ListPush,
                vec![weft_rem(mul(f.get(i), int(7919)), int(1000))],
                Ty::Unit,
            )),
        )),
        let_(ys, intr(I::ListSort, vec![f.get(xs)], ints())),
        let_(ok, boolean(true)),
        ex(for_range(
            i,
            int(0),
            int(1000),
            stmts(vec![ex(if_(
                eq(index(f.get(ys), f.get(i)), f.get(i)),
                unit(),
                stmts(vec![set(ok, Ty::Bool, boolean(false))]),
            ))]),
        )),
        show(f.get(ok)),
        let_(
            nested,
            list(
                ints(),
                vec![list(Ty::Int, vec![int(1)]), list(Ty::Int, vec![])],
            ),
        ),
        ex(mut_call(
            place(nested, vec![PlaceElem::Index(int(1))], ints()),
            I::ListPush,
            vec![int(5)],
            Ty::Unit,
        )),
        assign(
            place(
                nested,
                vec![PlaceElem::Index(int(0)), PlaceElem::Index(int(0))],
                Ty::Int,
            ),
            int(9),
        ),
        show(f.get(nested)),
    ]);
    p.main(f, body);
    assert_eq!(out(&p.prog), ["true", "[[9], [5]]"]);
}

fn weft_rem(a: weft_lang::tir::Expr, b: weft_lang::tir::Expr) -> weft_lang::tir::Expr {
    bin(weft_lang::ast::BinOp::Rem, a, b)
}

fn ex_block(x: weft_lang::tir::Expr) -> weft_lang::tir::Expr {
    stmts(vec![ex(x)])
}

#[test]
fn index_out_of_bounds_traps() {
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let xs = f.val("xs", ints());
    let body = stmts(vec![
        let_(xs, list(Ty::Int, vec![int(1), int(2), int(3)])),
        show(index(f.get(xs), int(5))),
    ]);
    p.main(f, body);
    assert_eq!(
        run(&p.prog).trap.as_deref(),
        Some("index 5 out of bounds for list of length 3")
    );
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let xs = f.var("xs", ints());
    let body = stmts(vec![
        let_(xs, list(Ty::Int, vec![int(1)])),
        assign(place(xs, vec![PlaceElem::Index(int(-1))], Ty::Int), int(0)),
    ]);
    p.main(f, body);
    assert_eq!(
        run(&p.prog).trap.as_deref(),
        Some("index -1 out of bounds for list of length 1")
    );
}

#[test]
fn value_semantics() {
    // var a = [1, 2]; let b = a; a[0] = 9; a.push(3); print(a, b)
    // var r = [[1]]; let s = r; r[0][0] = 5; print(r, s)
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let a = f.var("a", ints());
    let b = f.val("b", ints());
    let r = f.var("r", Ty::list(ints()));
    let s = f.val("s", Ty::list(ints()));
    let body = stmts(vec![
        let_(a, list(Ty::Int, vec![int(1), int(2)])),
        let_(b, f.get(a)),
        assign(place(a, vec![PlaceElem::Index(int(0))], Ty::Int), int(9)),
        ex(mut_call(
            place(a, vec![], ints()),
            I::ListPush,
            vec![int(3)],
            Ty::Unit,
        )),
        show(f.get(a)),
        show(f.get(b)),
        let_(r, list(ints(), vec![list(Ty::Int, vec![int(1)])])),
        let_(s, f.get(r)),
        assign(
            place(
                r,
                vec![PlaceElem::Index(int(0)), PlaceElem::Index(int(0))],
                Ty::Int,
            ),
            int(5),
        ),
        show(f.get(r)),
        show(f.get(s)),
    ]);
    p.main(f, body);
    assert_eq!(out(&p.prog), ["[9, 2, 3]", "[1, 2]", "[[5]]", "[[1]]"]);
}
