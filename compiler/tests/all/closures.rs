//! Closures with captures, functions as values, and generic instantiation.

use crate::build::*;
use crate::harness::*;
use weft_lang::tir::{ExprKind, Intrinsic as I};
use weft_lang::types::Ty;

fn fn_ty(ps: Vec<Ty>, r: Ty) -> Ty {
    Ty::Fn(ps, Box::new(r))
}

#[test]
fn closures_capture_values() {
    let mut p = P::new();
    // lifted: fn main::{closure}(k: Int, prefix: String, x: Int) -> String { "{prefix}{x + k}" }
    let mut f = F::new("main::{closure}", Ty::String);
    let k = f.param("k", Ty::Int);
    let pre = f.param("prefix", Ty::String);
    let x = f.param("x", Ty::Int);
    f.def.captures = 2;
    let body = interp(vec![f.get(pre), tostr(add(f.get(x), f.get(k)))]);
    let lam = p.func(f, body);
    // fn apply_twice(f: fn(Int) -> String, v: Int) -> String { f(v) + f(v + 1) }
    let ft = fn_ty(vec![Ty::Int], Ty::String);
    let mut f = F::new("apply_twice", Ty::String);
    let g = f.param("f", ft.clone());
    let v = f.param("v", Ty::Int);
    let cc = |f: &F, a| {
        e(
            ExprKind::CallClosure {
                callee: Box::new(f.get(g)),
                args: vec![a],
            },
            Ty::String,
        )
    };
    let body = add(cc(&f, f.get(v)), cc(&f, add(f.get(v), int(1))));
    let apply = p.func(f, body);
    // fn show_int(x: Int) -> String { "#{x}" }
    let mut f = F::new("show_int", Ty::String);
    let x = f.param("x", Ty::Int);
    let body = interp(vec![st("#"), tostr(f.get(x))]);
    let show_int = p.func(f, body);
    let mut f = F::new("main", Ty::Unit);
    let k = f.val("k", Ty::Int);
    let pre = f.val("pre", Ty::String);
    let c = f.val("c", ft.clone());
    let fs = f.var("fs", Ty::list(ft.clone()));
    let i = f.val("i", Ty::Int);
    let body = stmts(vec![
        let_(k, int(10)),
        let_(pre, add(st("v="), st(""))),
        let_(
            c,
            e(
                ExprKind::Closure {
                    func: lam,
                    type_args: vec![],
                    captures: vec![f.get(k), f.get(pre)],
                },
                ft.clone(),
            ),
        ),
        print(call(apply, vec![f.get(c), int(1)], Ty::String)),
        print(call(
            apply,
            vec![
                e(
                    ExprKind::FuncValue {
                        func: show_int,
                        type_args: vec![],
                    },
                    ft.clone(),
                ),
                int(1),
            ],
            Ty::String,
        )),
        let_(fs, list(ft.clone(), vec![])),
        ex(for_range(
            i,
            int(0),
            int(3),
            stmts(vec![ex(mut_call(
                place(fs, vec![], Ty::list(ft.clone())),
                I::ListPush,
                vec![e(
                    ExprKind::Closure {
                        func: lam,
                        type_args: vec![],
                        captures: vec![f.get(i), st("i")],
                    },
                    ft.clone(),
                )],
                Ty::Unit,
            ))]),
        )),
        print(e(
            ExprKind::CallClosure {
                callee: Box::new(index(f.get(fs), int(2))),
                args: vec![int(100)],
            },
            Ty::String,
        )),
        show(f.get(c)),
    ]);
    p.main(f, body);
    assert_eq!(out(&p.prog), ["v=11v=12", "#1#2", "i102", "<fn>"]);
}

#[test]
fn generic_function_at_two_types() {
    // fn first<T>(xs: List<T>) -> Option<T> { if xs.len() == 0 { None } else { Some(xs[0]) } }
    let mut p = P::new();
    let t = Ty::Param(0);
    let mut f = F::new("first", option(t.clone()));
    f.def.generics = vec!["T".into()];
    let xs = f.param("xs", Ty::list(t.clone()));
    let ot = option(t.clone());
    let body = if_(
        eq(intr(I::ListLen, vec![f.get(xs)], Ty::Int), int(0)),
        e(
            ExprKind::Variant {
                adt: OPTION,
                type_args: vec![t.clone()],
                variant: 1,
                fields: vec![],
            },
            ot.clone(),
        ),
        e(
            ExprKind::Variant {
                adt: OPTION,
                type_args: vec![t.clone()],
                variant: 0,
                fields: vec![index(f.get(xs), int(0))],
            },
            ot,
        ),
    );
    let first = p.func(f, body);
    let body = stmts(vec![
        show(call_g(
            first,
            vec![Ty::Int],
            vec![list(Ty::Int, vec![int(4), int(5)])],
            option(Ty::Int),
        )),
        show(call_g(
            first,
            vec![Ty::String],
            vec![list(Ty::String, vec![st("s")])],
            option(Ty::String),
        )),
        show(call_g(
            first,
            vec![Ty::Float],
            vec![list(Ty::Float, vec![])],
            option(Ty::Float),
        )),
    ]);
    p.main(F::new("main", Ty::Unit), body);
    let a = build(&p.prog);
    // Instances compiled on their own or inlined into `main` (frames of their own).
    let names: Vec<&str> = a
        .debug
        .funcs
        .values()
        .flat_map(|f| std::iter::once(&f.name).chain(f.inlined.iter().map(|c| &c.name)))
        .map(String::as_str)
        .collect();
    assert!(
        names.contains(&"first<Int>") && names.contains(&"first<String>"),
        "{names:?}"
    );
    assert_eq!(
        run_export(&a, "main").out,
        ["Some(4)", r#"Some("s")"#, "None"]
    );
}

#[test]
fn polymorphic_recursion_is_refused() {
    // fn deep<T>(x: T) -> Int { deep<List<T>>([x]) }
    let mut p = P::new();
    let id = p.reserve();
    let t = Ty::Param(0);
    let mut f = F::new("deep", Ty::Int);
    f.def.generics = vec!["T".into()];
    let x = f.param("x", t.clone());
    let body = call_g(
        id,
        vec![Ty::list(t.clone())],
        vec![list(t.clone(), vec![f.get(x)])],
        Ty::Int,
    );
    p.define(id, f, body);
    p.main(
        F::new("main", Ty::Unit),
        stmts(vec![show(call_g(id, vec![Ty::Int], vec![int(1)], Ty::Int))]),
    );
    let r = weft_compiler::compile(&p.prog, &sources());
    assert!(
        matches!(r, Err(weft_compiler::CompileError::TooDeep { .. })),
        "{r:?}"
    );
}
