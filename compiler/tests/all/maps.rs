//! Maps: insert, get, remove, keys in insertion order, values, contains, equality.

use crate::build::*;
use crate::harness::*;
use weft_lang::tir::{Intrinsic as I, PlaceElem};
use weft_lang::types::Ty;

fn sm() -> Ty {
    Ty::Map(Box::new(Ty::String), Box::new(Ty::Int))
}

#[test]
fn map_operations() {
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let m = f.var("m", sm());
    let snap = f.val("snap", sm());
    let i = f.val("i", Ty::Int);
    let big = f.var(
        "big",
        Ty::Map(Box::new(Ty::Int), Box::new(Ty::list(Ty::Int))),
    );
    let bt = f.ty(big);
    let mk = |k: &str| PlaceElem::MapKey(st(k));
    let body = stmts(vec![
        let_(m, intr(I::MapNew, vec![], sm())),
        assign(place(m, vec![mk("b")], Ty::Int), int(2)),
        assign(place(m, vec![mk("a")], Ty::Int), int(1)),
        ex(mut_call(
            place(m, vec![], sm()),
            I::MapInsert,
            vec![add(st("c"), st("")), int(3)],
            Ty::Unit,
        )),
        assign(place(m, vec![mk("b")], Ty::Int), int(20)),
        show(f.get(m)),
        let_(snap, f.get(m)),
        show(intr(I::MapGet, vec![f.get(m), st("a")], option(Ty::Int))),
        show(intr(I::MapGet, vec![f.get(m), st("zz")], option(Ty::Int))),
        show(mut_call(
            place(m, vec![], sm()),
            I::MapRemove,
            vec![st("a")],
            option(Ty::Int),
        )),
        show(mut_call(
            place(m, vec![], sm()),
            I::MapRemove,
            vec![st("a")],
            option(Ty::Int),
        )),
        show(intr(I::MapKeys, vec![f.get(m)], Ty::list(Ty::String))),
        show(intr(I::MapValues, vec![f.get(m)], Ty::list(Ty::Int))),
        show(intr(I::MapLen, vec![f.get(m)], Ty::Int)),
        show(intr(I::MapContainsKey, vec![f.get(m), st("c")], Ty::Bool)),
        show(f.get(snap)),
        assign(place(m, vec![mk("a")], Ty::Int), int(1)),
        show(f.get(m)),
        show(eq(f.get(m), f.get(snap))),
        assign(place(m, vec![mk("b")], Ty::Int), int(2)),
        show(eq(f.get(m), f.get(snap))),
        // many keys: growth, tombstones, order
        let_(big, intr(I::MapNew, vec![], bt.clone())),
        ex(for_range(
            i,
            int(0),
            int(1000),
            stmts(vec![assign(
                place(big, vec![PlaceElem::MapKey(f.get(i))], Ty::list(Ty::Int)),
                list(Ty::Int, vec![f.get(i)]),
            )]),
        )),
        ex(for_range(
            i,
            int(0),
            int(990),
            stmts(vec![ex(mut_call(
                place(big, vec![], bt.clone()),
                I::MapRemove,
                vec![f.get(i)],
                option(Ty::list(Ty::Int)),
            ))]),
        )),
        ex(mut_call(
            place(big, vec![PlaceElem::MapKey(int(995))], Ty::list(Ty::Int)),
            I::ListPush,
            vec![int(7)],
            Ty::Unit,
        )),
        show(f.get(big)),
    ]);
    p.main(f, body);
    assert_eq!(
        out(&p.prog),
        [
            r#"{"b": 20, "a": 1, "c": 3}"#,
            "Some(1)",
            "None",
            "Some(1)",
            "None",
            r#"["b", "c"]"#,
            "[20, 3]",
            "2",
            "true",
            r#"{"b": 20, "a": 1, "c": 3}"#,
            r#"{"b": 20, "c": 3, "a": 1}"#,
            "true",
            "false",
            "{990: [990], 991: [991], 992: [992], 993: [993], 994: [994], 995: [995, 7], 996: [996], 997: [997], 998: [998], 999: [999]}",
        ]
    );
}

#[test]
fn missing_key_traps() {
    let lm = Ty::Map(Box::new(Ty::String), Box::new(Ty::list(Ty::Int)));
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let m = f.var("m", lm.clone());
    let body = stmts(vec![
        let_(m, intr(I::MapNew, vec![], lm.clone())),
        assign(
            place(m, vec![PlaceElem::MapKey(st("x"))], Ty::list(Ty::Int)),
            list(Ty::Int, vec![]),
        ),
        ex(mut_call(
            place(m, vec![PlaceElem::MapKey(st("x"))], Ty::list(Ty::Int)),
            I::ListPush,
            vec![int(1)],
            Ty::Unit,
        )),
        show(f.get(m)),
        ex(mut_call(
            place(m, vec![PlaceElem::MapKey(st("y"))], Ty::list(Ty::Int)),
            I::ListPush,
            vec![int(1)],
            Ty::Unit,
        )),
    ]);
    p.main(f, body);
    let r = run(&p.prog);
    assert_eq!(r.out, [r#"{"x": [1]}"#]);
    assert_eq!(r.trap.as_deref(), Some("key not found in map"));
}
