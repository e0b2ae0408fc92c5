//! Sugar the checker lowers into plain typed IR: `e?`, `try e`, and reading a map entry
//! that must exist (`m[k]`), each becoming a `match` with an early return or a trap.

use super::body::Body;
use super::expr::mk;
use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{Expr, ExprKind as K, Intrinsic, MatchArm};
use crate::types::Ty;

/// The `T` of a `Result<T, E>`.
fn res_args_t(res: &Ty) -> Ty {
    match res {
        Ty::Adt(_, args) => args.first().cloned().unwrap_or(Ty::Unit),
        _ => Ty::Unit,
    }
}

impl Body<'_, '_> {
    /// `m[k]` as a value: the entry, or a trap when the key is missing.
    pub fn map_read(&mut self, map: Expr, key: Expr, v: Ty, span: Span) -> Expr {
        let opt = Ty::Adt(self.ck.option, vec![v.clone()]);
        let get = mk(
            K::Intrinsic {
                op: Intrinsic::MapGet,
                args: vec![map, key],
            },
            opt.clone(),
            span,
        );
        self.unwrap_or_trap(get, v, "key not found in map", span)
    }

    /// `match e { Some(x) => x, None => panic(msg) }`
    pub fn unwrap_or_trap(&mut self, opt: Expr, v: Ty, msg: &str, span: Span) -> Expr {
        use crate::tir::{Pat, PatKind};
        let x = self.declare("$value", v.clone(), false);
        let some = Pat {
            kind: PatKind::Variant {
                adt: self.ck.option,
                variant: 0,
                args: vec![Pat {
                    kind: PatKind::Bind(x),
                    ty: v.clone(),
                    span,
                }],
            },
            ty: opt.ty.clone(),
            span,
        };
        let none = Pat {
            kind: PatKind::Wildcard,
            ty: opt.ty.clone(),
            span,
        };
        let panic = mk(
            K::Intrinsic {
                op: Intrinsic::Panic,
                args: vec![mk(K::Str(msg.into()), Ty::String, span)],
            },
            Ty::Never,
            span,
        );
        let arms = vec![
            MatchArm {
                pat: some,
                guard: None,
                body: mk(K::Local(x), v.clone(), span),
            },
            MatchArm {
                pat: none,
                guard: None,
                body: panic,
            },
        ];
        mk(
            K::Match {
                scrutinee: Box::new(opt),
                arms,
            },
            v,
            span,
        )
    }

    /// `try e`: `e` runs as a closure of no arguments through `TryCall`;
    /// `match TryCall(|| e) { Some(v) => Ok(v), _ => Err(Error { message: CaughtMessage() }) }`.
    pub fn try_expr(&mut self, inner: &ast::Expr, span: Span) -> Expr {
        use crate::tir::{Pat, PatKind};
        let clo = self.lambda(&[], None, inner, span, None);
        let t = match self.infer.shallow(&clo.ty) {
            Ty::Fn(_, r) => *r,
            _ => Ty::Never,
        };
        let (option, result, error) = (self.ck.option, self.ck.result, self.ck.error_adt);
        let err_ty = Ty::Adt(error, vec![]);
        let res_ty = Ty::Adt(result, vec![t.clone(), err_ty.clone()]);
        let opt_ty = Ty::Adt(option, vec![t.clone()]);
        let call = mk(
            K::Intrinsic {
                op: Intrinsic::TryCall,
                args: vec![clo],
            },
            opt_ty.clone(),
            span,
        );
        let v = self.declare("$tried", t.clone(), false);
        let some = Pat {
            kind: PatKind::Variant {
                adt: option,
                variant: 0,
                args: vec![Pat {
                    kind: PatKind::Bind(v),
                    ty: t.clone(),
                    span,
                }],
            },
            ty: opt_ty.clone(),
            span,
        };
        let ok = K::Variant {
            adt: result,
            type_args: vec![t.clone(), err_ty.clone()],
            variant: 0,
            fields: vec![mk(K::Local(v), t, span)],
        };
        let message = mk(
            K::Intrinsic {
                op: Intrinsic::CaughtMessage,
                args: vec![],
            },
            Ty::String,
            span,
        );
        let error_value = mk(
            K::Record {
                adt: error,
                type_args: vec![],
                fields: vec![message],
            },
            err_ty.clone(),
            span,
        );
        let err = K::Variant {
            adt: result,
            type_args: vec![res_args_t(&res_ty), err_ty],
            variant: 1,
            fields: vec![error_value],
        };
        let arms = vec![
            MatchArm {
                pat: some,
                guard: None,
                body: mk(ok, res_ty.clone(), span),
            },
            MatchArm {
                pat: Pat {
                    kind: PatKind::Wildcard,
                    ty: opt_ty,
                    span,
                },
                guard: None,
                body: mk(err, res_ty.clone(), span),
            },
        ];
        mk(
            K::Match {
                scrutinee: Box::new(call),
                arms,
            },
            res_ty,
            span,
        )
    }

    /// `e?`: unwraps `Some`/`Ok`, or returns `None`/`Err` from the function.
    pub fn question(&mut self, inner: &ast::Expr, span: Span) -> Expr {
        use crate::tir::{Pat, PatKind};
        let x = self.infer_expr(inner);
        let ret = self.cx().ret.clone();
        let (adt, args) = match self.infer.shallow(&x.ty) {
            Ty::Adt(id, args) if id == self.ck.option || id == self.ck.result => (id, args),
            Ty::Var(_) => {
                self.unknown_type(x.span);
                return mk(K::Unit, Ty::Never, span);
            }
            t => {
                let d = Diagnostic::error(
                    span,
                    format!(
                        "`?` needs an `Option` or a `Result`, found `{}`",
                        self.show(&t)
                    ),
                );
                self.error(d);
                return mk(K::Unit, Ty::Never, span);
            }
        };
        let is_opt = adt == self.ck.option;
        let ret_args: Vec<Ty> = if is_opt {
            vec![self.fresh()]
        } else {
            vec![self.fresh(), args[1].clone()]
        };
        let ret_ty = Ty::Adt(adt, ret_args.clone());
        if self.infer.unify(&ret, &ret_ty).is_err() {
            let want = if is_opt { "Option" } else { "Result" };
            let d = Diagnostic::error(
                span,
                format!("`?` on an `{want}` needs a function that returns an `{want}`"),
            )
            .with_label(format!("this function returns `{}`", self.show(&ret)));
            self.error(d);
            return mk(K::Unit, Ty::Never, span);
        }
        let v = self.declare("$ok", args[0].clone(), false);
        let ok = Pat {
            kind: PatKind::Variant {
                adt,
                variant: 0,
                args: vec![Pat {
                    kind: PatKind::Bind(v),
                    ty: args[0].clone(),
                    span,
                }],
            },
            ty: x.ty.clone(),
            span,
        };
        let (fail_pat, fail_val) = if is_opt {
            let p = Pat {
                kind: PatKind::Wildcard,
                ty: x.ty.clone(),
                span,
            };
            (
                p,
                mk(
                    K::Variant {
                        adt,
                        type_args: ret_args,
                        variant: 1,
                        fields: vec![],
                    },
                    ret_ty.clone(),
                    span,
                ),
            )
        } else {
            let e = self.declare("$err", args[1].clone(), false);
            let p = Pat {
                kind: PatKind::Variant {
                    adt,
                    variant: 1,
                    args: vec![Pat {
                        kind: PatKind::Bind(e),
                        ty: args[1].clone(),
                        span,
                    }],
                },
                ty: x.ty.clone(),
                span,
            };
            let err = mk(K::Local(e), args[1].clone(), span);
            (
                p,
                mk(
                    K::Variant {
                        adt,
                        type_args: ret_args,
                        variant: 1,
                        fields: vec![err],
                    },
                    ret_ty.clone(),
                    span,
                ),
            )
        };
        let arms = vec![
            MatchArm {
                pat: ok,
                guard: None,
                body: mk(K::Local(v), args[0].clone(), span),
            },
            MatchArm {
                pat: fail_pat,
                guard: None,
                body: mk(K::Return(Box::new(fail_val)), Ty::Never, span),
            },
        ];
        mk(
            K::Match {
                scrutinee: Box::new(x),
                arms,
            },
            args[0].clone(),
            span,
        )
    }
}
