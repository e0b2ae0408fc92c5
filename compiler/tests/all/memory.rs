//! Reference counting keeps memory bounded: long loops that allocate stay within a few MiB.

use crate::build::*;
use crate::harness::*;
use weft_lang::ast::BinOp;
use weft_lang::tir::{ExprKind, Intrinsic as I, PlaceElem};
use weft_lang::types::Ty;

const MIB: usize = 1 << 20;

#[test]
fn five_million_allocations_stay_bounded() {
    // var p = Point{0,0}; var acc = 0
    // for i in 0..5_000_000 { let xs = [i, i + 1]; p = Point { x: p.x + 1.0, y: xs[1] as float };
    //   acc = acc + xs.len() }
    let mut p = P::new();
    let pid = p.record("Point", &[], vec![("x", Ty::Float), ("y", Ty::Float)]);
    let pt = Ty::Adt(pid, vec![]);
    let mut f = F::new("main", Ty::Unit);
    let pv = f.var("p", pt.clone());
    let acc = f.var("acc", Ty::Int);
    let i = f.val("i", Ty::Int);
    let xs = f.val("xs", Ty::list(Ty::Int));
    let rec = |fields| {
        e(
            ExprKind::Record {
                adt: pid,
                type_args: vec![],
                fields,
            },
            pt.clone(),
        )
    };
    let body = stmts(vec![
        let_(pv, rec(vec![float(0.0), float(0.0)])),
        let_(acc, int(0)),
        ex(for_range(
            i,
            int(0),
            int(5_000_000),
            stmts(vec![
                let_(xs, list(Ty::Int, vec![f.get(i), add(f.get(i), int(1))])),
                set(
                    pv,
                    pt.clone(),
                    rec(vec![
                        add(field(f.get(pv), 0, Ty::Float), float(1.0)),
                        intr(I::IntToFloat, vec![index(f.get(xs), int(1))], Ty::Float),
                    ]),
                ),
                set(
                    acc,
                    Ty::Int,
                    add(f.get(acc), intr(I::ListLen, vec![f.get(xs)], Ty::Int)),
                ),
            ]),
        )),
        show(f.get(pv)),
        show(f.get(acc)),
    ]);
    p.main(f, body);
    let r = run(&p.prog);
    assert_eq!(r.trap, None);
    assert_eq!(r.out, ["Point { x: 5000000.0, y: 5000000.0 }", "10000000"]);
    assert!(
        r.memory_bytes <= 2 * MIB,
        "memory grew to {} bytes",
        r.memory_bytes
    );
    assert_eq!(r.live_blocks, 0);
}

#[test]
fn mixed_features_do_not_leak() {
    // Per iteration: string interpolation, a Some(..) match, a map insert/remove, a closure,
    // a list push/pop on a var, a record update, a to_string of a nested value.
    let mut p = P::new();
    let mut lam = F::new("main::{closure}", Ty::String);
    let cap = lam.param("s", Ty::String);
    let arg = lam.param("n", Ty::Int);
    lam.def.captures = 1;
    let lbody = interp(vec![lam.get(cap), tostr(lam.get(arg))]);
    let lam_id = p.func(lam, lbody);
    let ft = Ty::Fn(vec![Ty::Int], Box::new(Ty::String));
    let mt = Ty::Map(Box::new(Ty::String), Box::new(Ty::list(Ty::String)));
    let mut f = F::new("main", Ty::Unit);
    let i = f.val("i", Ty::Int);
    let s = f.val("s", Ty::String);
    let m = f.var("m", mt.clone());
    let xs = f.var("xs", Ty::list(Ty::String));
    let c = f.val("c", ft.clone());
    let o = f.val("o", option(Ty::String));
    let v = f.val("v", Ty::String);
    let total = f.var("total", Ty::Int);
    let body = stmts(vec![
        let_(m, intr(I::MapNew, vec![], mt.clone())),
        let_(xs, list(Ty::String, vec![])),
        let_(total, int(0)),
        ex(for_range(
            i,
            int(0),
            int(300_000),
            stmts(vec![
                let_(
                    s,
                    interp(vec![st("k"), tostr(bin(BinOp::Rem, f.get(i), int(50)))]),
                ),
                let_(
                    c,
                    e(
                        ExprKind::Closure {
                            func: lam_id,
                            type_args: vec![],
                            captures: vec![f.get(s)],
                        },
                        ft.clone(),
                    ),
                ),
                assign(
                    place(m, vec![PlaceElem::MapKey(f.get(s))], Ty::list(Ty::String)),
                    list(
                        Ty::String,
                        vec![e(
                            ExprKind::CallClosure {
                                callee: Box::new(f.get(c)),
                                args: vec![f.get(i)],
                            },
                            Ty::String,
                        )],
                    ),
                ),
                let_(
                    o,
                    e(
                        ExprKind::Variant {
                            adt: OPTION,
                            type_args: vec![Ty::String],
                            variant: 0,
                            fields: vec![tostr(f.get(m))],
                        },
                        option(Ty::String),
                    ),
                ),
                ex(match_(
                    f.get(o),
                    vec![
                        arm(
                            pat(
                                weft_lang::tir::PatKind::Variant {
                                    adt: OPTION,
                                    variant: 0,
                                    args: vec![pbind(v, Ty::String)],
                                },
                                option(Ty::String),
                            ),
                            None,
                            stmts(vec![set(
                                total,
                                Ty::Int,
                                add(f.get(total), intr(I::StrLen, vec![f.get(v)], Ty::Int)),
                            )]),
                        ),
                        arm(pwild(option(Ty::String)), None, unit()),
                    ],
                    Ty::Unit,
                )),
                ex(mut_call(
                    place(xs, vec![], Ty::list(Ty::String)),
                    I::ListPush,
                    vec![f.get(s)],
                    Ty::Unit,
                )),
                ex(if_(
                    bin(
                        BinOp::Gt,
                        intr(I::ListLen, vec![f.get(xs)], Ty::Int),
                        int(10),
                    ),
                    stmts(vec![ex(mut_call(
                        place(xs, vec![], Ty::list(Ty::String)),
                        I::ListPop,
                        vec![],
                        option(Ty::String),
                    ))]),
                    unit(),
                )),
                ex(if_(
                    eq(bin(BinOp::Rem, f.get(i), int(3)), int(0)),
                    stmts(vec![ex(mut_call(
                        place(m, vec![], mt.clone()),
                        I::MapRemove,
                        vec![f.get(s)],
                        option(Ty::list(Ty::String)),
                    ))]),
                    unit(),
                )),
            ]),
        )),
        show(intr(I::MapLen, vec![f.get(m)], Ty::Int)),
        show(bin(BinOp::Gt, f.get(total), int(0))),
    ]);
    p.main(f, body);
    let r = run(&p.prog);
    assert_eq!(r.trap, None);
    assert_eq!(r.out[1], "true");
    assert!(
        r.memory_bytes <= 2 * MIB,
        "memory grew to {} bytes",
        r.memory_bytes
    );
    assert_eq!(r.live_blocks, 0);
}

#[test]
fn growing_list_then_dropping_reuses_memory() {
    // 20 rounds: build a list of 100_000 strings, drop it.
    let mut p = P::new();
    let mut f = F::new("main", Ty::Unit);
    let r = f.val("r", Ty::Int);
    let i = f.val("i", Ty::Int);
    let xs = f.var("xs", Ty::list(Ty::String));
    let body = stmts(vec![ex(for_range(
        r,
        int(0),
        int(20),
        stmts(vec![
            let_(xs, list(Ty::String, vec![])),
            ex(for_range(
                i,
                int(0),
                int(100_000),
                stmts(vec![ex(mut_call(
                    place(xs, vec![], Ty::list(Ty::String)),
                    I::ListPush,
                    vec![tostr(f.get(i))],
                    Ty::Unit,
                ))]),
            )),
        ]),
    ))]);
    p.main(f, body);
    let run = run(&p.prog);
    assert_eq!(run.trap, None);
    assert!(
        run.memory_bytes <= 8 * MIB,
        "memory grew to {} bytes",
        run.memory_bytes
    );
    assert_eq!(run.live_blocks, 0);
}

/// n-body style in-place update: prints timing (run with --ignored --nocapture).
#[test]
#[ignore]
fn perf_inplace_float_fields() {
    // var bs = [Body{..} x 5]; for k in 0..2_000_000 { for i in 0..5 { bs[i].vx = bs[i].vx - bs[i].x * 0.001 } }
    let mut p = P::new();
    let bid = p.record("Body", &[], vec![("x", Ty::Float), ("vx", Ty::Float)]);
    let bt = Ty::Adt(bid, vec![]);
    let lt = Ty::list(bt.clone());
    let mut f = F::new("main", Ty::Unit);
    let bs = f.var("bs", lt.clone());
    let k = f.val("k", Ty::Int);
    let i = f.val("i", Ty::Int);
    let body_rec = |x: f64| {
        e(
            ExprKind::Record {
                adt: bid,
                type_args: vec![],
                fields: vec![float(x), float(0.0)],
            },
            bt.clone(),
        )
    };
    let vx = |f: &F| field(index(f.get(bs), f.get(i)), 1, Ty::Float);
    let xx = |f: &F| field(index(f.get(bs), f.get(i)), 0, Ty::Float);
    let body = stmts(vec![
        let_(
            bs,
            list(bt.clone(), (0..5).map(|n| body_rec(n as f64)).collect()),
        ),
        ex(for_range(
            k,
            int(0),
            int(2_000_000),
            stmts(vec![ex(for_range(
                i,
                int(0),
                int(5),
                stmts(vec![assign(
                    place(
                        bs,
                        vec![PlaceElem::Index(f.get(i)), PlaceElem::Field(1, bt.clone())],
                        Ty::Float,
                    ),
                    sub(vx(&f), mul(xx(&f), float(0.001))),
                )]),
            ))]),
        )),
        show(field(index(f.get(bs), int(4)), 1, Ty::Float)),
    ]);
    p.main(f, body);
    let a = build(&p.prog);
    std::fs::write("/tmp/nbody.wat", wasmprinter::print_bytes(&a.wasm).unwrap()).unwrap();
    let t = std::time::Instant::now();
    let r = run_export(&a, "main");
    eprintln!("10M in-place updates: {:?} in {:?}", r.out, t.elapsed());
}
