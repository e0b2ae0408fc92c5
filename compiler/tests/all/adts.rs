//! Records, tuples, enums, `match` with bindings and guards, `var self` methods.

use crate::build::*;
use crate::harness::*;
use weft_lang::ast::BinOp;
use weft_lang::tir::{ExprKind, FuncId, MutCallee, PatKind, PlaceElem};
use weft_lang::types::{AdtId, Ty};

fn point(p: &mut P) -> (AdtId, Ty) {
    let id = p.record("Point", &[], vec![("x", Ty::Float), ("y", Ty::Float)]);
    (id, Ty::Adt(id, vec![]))
}

fn rec(id: AdtId, fields: Vec<weft_lang::tir::Expr>) -> weft_lang::tir::Expr {
    e(
        ExprKind::Record {
            adt: id,
            type_args: vec![],
            fields,
        },
        Ty::Adt(id, vec![]),
    )
}

#[test]
fn records_and_updates() {
    let mut p = P::new();
    let (pid, pt) = point(&mut p);
    let named = p.record(
        "Named",
        &[],
        vec![
            ("name", Ty::String),
            ("at", pt.clone()),
            ("tags", Ty::list(Ty::String)),
        ],
    );
    let nt = Ty::Adt(named, vec![]);
    let mut f = F::new("main", Ty::Unit);
    let a = f.var("a", pt.clone());
    let b = f.val("b", pt.clone());
    let n = f.var("n", nt.clone());
    let m = f.val("m", nt.clone());
    let upd = |base, i, v| {
        e(
            ExprKind::RecordUpdate {
                base: Box::new(base),
                updates: vec![(i, v)],
            },
            pt.clone(),
        )
    };
    let body = stmts(vec![
        let_(a, rec(pid, vec![float(1.0), float(2.0)])),
        let_(b, f.get(a)),
        assign(
            place(a, vec![PlaceElem::Field(0, pt.clone())], Ty::Float),
            float(5.5),
        ),
        show(f.get(a)),
        show(f.get(b)),
        show(upd(f.get(b), 1, float(-1.0))),
        show(f.get(b)),
        show(field(f.get(a), 0, Ty::Float)),
        show(eq(f.get(b), rec(pid, vec![float(1.0), float(2.0)]))),
        show(eq(f.get(a), f.get(b))),
        let_(
            n,
            rec(
                named,
                vec![st("origin"), f.get(b), list(Ty::String, vec![st("t")])],
            ),
        ),
        let_(m, f.get(n)),
        assign(
            place(
                n,
                vec![
                    PlaceElem::Field(1, nt.clone()),
                    PlaceElem::Field(1, pt.clone()),
                ],
                Ty::Float,
            ),
            float(9.0),
        ),
        ex(mut_call(
            place(
                n,
                vec![PlaceElem::Field(2, nt.clone())],
                Ty::list(Ty::String),
            ),
            weft_lang::tir::Intrinsic::ListPush,
            vec![st("u")],
            Ty::Unit,
        )),
        show(f.get(n)),
        show(f.get(m)),
        show(tuple(vec![
            st("a"),
            int(1),
            tuple(vec![boolean(false), float(0.5)]),
        ])),
        show(field(tuple(vec![st("a"), int(1)]), 1, Ty::Int)),
    ]);
    p.main(f, body);
    assert_eq!(
        out(&p.prog),
        [
            "Point { x: 5.5, y: 2.0 }",
            "Point { x: 1.0, y: 2.0 }",
            "Point { x: 1.0, y: -1.0 }",
            "Point { x: 1.0, y: 2.0 }",
            "5.5",
            "true",
            "false",
            r#"Named { name: "origin", at: Point { x: 1.0, y: 9.0 }, tags: ["t", "u"] }"#,
            r#"Named { name: "origin", at: Point { x: 1.0, y: 2.0 }, tags: ["t"] }"#,
            r#"("a", 1, (false, 0.5))"#,
            "1",
        ]
    );
}

/// `enum Shape { Circle(Float), Rect(Float, Float), Empty }`
fn shape(p: &mut P) -> (AdtId, Ty) {
    let id = p.enum_(
        "Shape",
        &[],
        vec![
            ("Circle", vec![Ty::Float]),
            ("Rect", vec![Ty::Float, Ty::Float]),
            ("Empty", vec![]),
        ],
    );
    (id, Ty::Adt(id, vec![]))
}

fn variant(id: AdtId, v: u32, fields: Vec<weft_lang::tir::Expr>, ty: Ty) -> weft_lang::tir::Expr {
    let targs = match &ty {
        Ty::Adt(_, a) => a.clone(),
        _ => vec![],
    };
    e(
        ExprKind::Variant {
            adt: id,
            type_args: targs,
            variant: v,
            fields,
        },
        ty,
    )
}

fn pvariant(id: AdtId, v: u32, args: Vec<weft_lang::tir::Pat>, ty: Ty) -> weft_lang::tir::Pat {
    pat(
        PatKind::Variant {
            adt: id,
            variant: v,
            args,
        },
        ty,
    )
}

#[test]
fn enums_and_match() {
    let mut p = P::new();
    let (sid, sty) = shape(&mut p);
    // fn describe(s: Shape) -> String { match s { Circle(r) if r > 10.0 => "big circle",
    //   Circle(r) => "circle {r}", Rect(w, h) => "rect {w * h}", Empty => "empty" } }
    let mut f = F::new("describe", Ty::String);
    let s = f.param("s", sty.clone());
    let r = f.val("r", Ty::Float);
    let r2 = f.val("r2", Ty::Float);
    let w = f.val("w", Ty::Float);
    let h = f.val("h", Ty::Float);
    let body = match_(
        f.get(s),
        vec![
            arm(
                pvariant(sid, 0, vec![pbind(r, Ty::Float)], sty.clone()),
                Some(bin(BinOp::Gt, f.get(r), float(10.0))),
                st("big circle"),
            ),
            arm(
                pvariant(sid, 0, vec![pbind(r2, Ty::Float)], sty.clone()),
                None,
                interp(vec![st("circle "), tostr(f.get(r2))]),
            ),
            arm(
                pvariant(
                    sid,
                    1,
                    vec![pbind(w, Ty::Float), pbind(h, Ty::Float)],
                    sty.clone(),
                ),
                None,
                interp(vec![st("rect "), tostr(mul(f.get(w), f.get(h)))]),
            ),
            arm(pvariant(sid, 2, vec![], sty.clone()), None, st("empty")),
        ],
        Ty::String,
    );
    let describe = p.func(f, body);
    let mut f = F::new("main", Ty::Unit);
    let o = f.val("o", option(Ty::String));
    let v = f.val("v", Ty::String);
    let t = f.val("t", Ty::Int);
    let u = f.val("u", Ty::String);
    let ot = option(Ty::String);
    let body = stmts(vec![
        print(call(
            describe,
            vec![variant(sid, 0, vec![float(11.0)], sty.clone())],
            Ty::String,
        )),
        print(call(
            describe,
            vec![variant(sid, 0, vec![float(2.0)], sty.clone())],
            Ty::String,
        )),
        print(call(
            describe,
            vec![variant(sid, 1, vec![float(2.0), float(3.0)], sty.clone())],
            Ty::String,
        )),
        print(call(
            describe,
            vec![variant(sid, 2, vec![], sty.clone())],
            Ty::String,
        )),
        show(variant(sid, 1, vec![float(2.0), float(3.0)], sty.clone())),
        show(variant(sid, 2, vec![], sty.clone())),
        let_(
            o,
            variant(OPTION, 0, vec![add(st("x"), st("y"))], ot.clone()),
        ),
        show(f.get(o)),
        print(match_(
            f.get(o),
            vec![
                arm(
                    pvariant(
                        OPTION,
                        0,
                        vec![pat(PatKind::Str("zz".into()), Ty::String)],
                        ot.clone(),
                    ),
                    None,
                    st("zz"),
                ),
                arm(
                    pvariant(OPTION, 0, vec![pbind(v, Ty::String)], ot.clone()),
                    None,
                    add(f.get(v), st("!")),
                ),
                arm(pwild(ot.clone()), None, st("none")),
            ],
            Ty::String,
        )),
        let_pat(
            pat(
                PatKind::Tuple(vec![pbind(t, Ty::Int), pbind(u, Ty::String)]),
                Ty::Tuple(vec![Ty::Int, Ty::String]),
            ),
            tuple(vec![int(7), st("seven")]),
        ),
        print(interp(vec![tostr(f.get(t)), st(" "), f.get(u)])),
        print(match_(
            int(3),
            vec![
                arm(pat(PatKind::Int(1), Ty::Int), None, st("one")),
                arm(pat(PatKind::Int(3), Ty::Int), None, st("three")),
                arm(pwild(Ty::Int), None, st("many")),
            ],
            Ty::String,
        )),
        show(eq(
            variant(sid, 1, vec![float(2.0), float(3.0)], sty.clone()),
            variant(sid, 1, vec![float(2.0), float(3.0)], sty.clone()),
        )),
        show(eq(
            variant(sid, 2, vec![], sty.clone()),
            variant(sid, 0, vec![float(3.0)], sty.clone()),
        )),
    ]);
    p.main(f, body);
    assert_eq!(
        out(&p.prog),
        [
            "big circle",
            "circle 2.0",
            "rect 6.0",
            "empty",
            "Rect(2.0, 3.0)",
            "Empty",
            r#"Some("xy")"#,
            "xy!",
            "7 seven",
            "three",
            "true",
            "false",
        ]
    );
}

#[test]
fn recursive_enum_list() {
    // enum IntList { Cons(Int, IntList), Nil }; build 1..=100 and sum recursively
    let mut p = P::new();
    let id = p.enum_(
        "IntList",
        &[],
        vec![
            ("Cons", vec![Ty::Int, Ty::Adt(AdtId(2), vec![])]),
            ("Nil", vec![]),
        ],
    );
    let lt = Ty::Adt(id, vec![]);
    let sum = p.reserve();
    let mut f = F::new("sum", Ty::Int);
    let l = f.param("l", lt.clone());
    let h = f.val("h", Ty::Int);
    let t = f.val("t", lt.clone());
    let body = match_(
        f.get(l),
        vec![
            arm(
                pvariant(
                    id,
                    0,
                    vec![pbind(h, Ty::Int), pbind(t, lt.clone())],
                    lt.clone(),
                ),
                None,
                add(f.get(h), call(sum, vec![f.get(t)], Ty::Int)),
            ),
            arm(pwild(lt.clone()), None, int(0)),
        ],
        Ty::Int,
    );
    p.define(sum, f, body);
    let mut f = F::new("main", Ty::Unit);
    let acc = f.var("acc", lt.clone());
    let i = f.val("i", Ty::Int);
    let body = stmts(vec![
        let_(acc, variant(id, 1, vec![], lt.clone())),
        ex(for_range(
            i,
            int(1),
            int(101),
            stmts(vec![set(
                acc,
                lt.clone(),
                variant(id, 0, vec![f.get(i), f.get(acc)], lt.clone()),
            )]),
        )),
        show(call(sum, vec![f.get(acc)], Ty::Int)),
    ]);
    p.main(f, body);
    assert_eq!(out(&p.prog), ["5050"]);
}

/// `fn bump(var self: Counter, by: Int) -> Int { self.n = self.n + by; self.log.push(by); self.n }`
fn counter(p: &mut P) -> (AdtId, Ty, FuncId) {
    let cid = p.record(
        "Counter",
        &[],
        vec![("n", Ty::Int), ("log", Ty::list(Ty::Int))],
    );
    let ct = Ty::Adt(cid, vec![]);
    let mut f = F::new("Counter::bump", Ty::Int);
    f.def.inout_self = true;
    let s = f.var_param("self", ct.clone());
    let by = f.param("by", Ty::Int);
    let body = block(
        vec![
            assign(
                place(s, vec![PlaceElem::Field(0, ct.clone())], Ty::Int),
                add(field(f.get(s), 0, Ty::Int), f.get(by)),
            ),
            ex(mut_call(
                place(s, vec![PlaceElem::Field(1, ct.clone())], Ty::list(Ty::Int)),
                weft_lang::tir::Intrinsic::ListPush,
                vec![f.get(by)],
                Ty::Unit,
            )),
        ],
        field(f.get(s), 0, Ty::Int),
    );
    let bump = p.func(f, body);
    (cid, ct, bump)
}

#[test]
fn inout_self_methods() {
    let mut p = P::new();
    let (cid, ct, bump) = counter(&mut p);
    let mut f = F::new("main", Ty::Unit);
    let c = f.var("c", ct.clone());
    let snap = f.val("snap", ct.clone());
    let cs = f.var("cs", Ty::list(ct.clone()));
    let mc = |pl, by| {
        e(
            ExprKind::MutCall {
                place: pl,
                callee: MutCallee::Func {
                    func: bump,
                    type_args: vec![],
                },
                args: vec![int(by)],
            },
            Ty::Int,
        )
    };
    let body = stmts(vec![
        let_(
            c,
            e(
                ExprKind::Record {
                    adt: cid,
                    type_args: vec![],
                    fields: vec![int(0), list(Ty::Int, vec![])],
                },
                ct.clone(),
            ),
        ),
        show(mc(place(c, vec![], ct.clone()), 5)),
        let_(snap, f.get(c)),
        show(mc(place(c, vec![], ct.clone()), 2)),
        show(f.get(c)),
        show(f.get(snap)),
        let_(cs, list(ct.clone(), vec![f.get(snap)])),
        show(mc(
            place(cs, vec![PlaceElem::Index(int(0))], ct.clone()),
            10,
        )),
        show(f.get(cs)),
        show(f.get(snap)),
    ]);
    p.main(f, body);
    assert_eq!(
        out(&p.prog),
        [
            "5",
            "7",
            "Counter { n: 7, log: [5, 2] }",
            "Counter { n: 5, log: [5] }",
            "15",
            "[Counter { n: 15, log: [5, 10] }]",
            "Counter { n: 5, log: [5] }",
        ]
    );
}

#[test]
fn inout_call_with_receiver_as_argument() {
    // fn append(var self: List<Int>, other: List<Int>) -> Unit { for x in other { self.push(x) } }
    // var xs = [1, 2]; xs.append(xs); print(xs)
    let mut p = P::new();
    let lt = Ty::list(Ty::Int);
    let mut f = F::new("append", Ty::Unit);
    f.def.inout_self = true;
    let s = f.var_param("self", lt.clone());
    let o = f.param("other", lt.clone());
    let x = f.val("x", Ty::Int);
    let body = stmts(vec![ex(for_list(
        x,
        f.get(o),
        stmts(vec![ex(mut_call(
            place(s, vec![], lt.clone()),
            weft_lang::tir::Intrinsic::ListPush,
            vec![f.get(x)],
            Ty::Unit,
        ))]),
    ))]);
    let append = p.func(f, body);
    let mut f = F::new("main", Ty::Unit);
    let xs = f.var("xs", lt.clone());
    let body = stmts(vec![
        let_(xs, list(Ty::Int, vec![int(1), int(2)])),
        ex(e(
            ExprKind::MutCall {
                place: place(xs, vec![], lt.clone()),
                callee: MutCallee::Func {
                    func: append,
                    type_args: vec![],
                },
                args: vec![f.get(xs)],
            },
            Ty::Unit,
        )),
        ex(e(
            ExprKind::MutCall {
                place: place(xs, vec![], lt.clone()),
                callee: MutCallee::Func {
                    func: append,
                    type_args: vec![],
                },
                args: vec![f.get(xs)],
            },
            Ty::Unit,
        )),
        show(f.get(xs)),
    ]);
    p.main(f, body);
    assert_eq!(out(&p.prog), ["[1, 2, 1, 2, 1, 2, 1, 2]"]);
}
