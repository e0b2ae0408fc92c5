//! Checking patterns against the type they match, binding their names.

use super::body::Body;
use super::Item;
use crate::ast::{self, LitPattern, PatternKind as A};
use crate::diagnostic::Diagnostic;
use crate::tir::{AdtKind, Pat, PatKind as K};
use crate::types::Ty;

impl Body<'_, '_> {
    pub fn pattern(&mut self, p: &ast::Pattern, ty: &Ty, mutable: bool) -> Pat {
        let span = p.span;
        let kind = match &p.kind {
            A::Wildcard => K::Wildcard,
            A::Bind(id) => K::Bind(self.declare(&id.name, ty.clone(), mutable)),
            A::Lit(l) => {
                let (k, t) = match l {
                    LitPattern::Int(n) => (K::Int(*n), Ty::Int),
                    LitPattern::Float(x) => (K::Float(*x), Ty::Float),
                    LitPattern::Str(s) => (K::Str(s.clone()), Ty::String),
                    LitPattern::Bool(b) => (K::Bool(*b), Ty::Bool),
                };
                self.expect_ty(&t, ty, span);
                k
            }
            A::Tuple(ps) if ps.is_empty() => {
                self.expect_ty(&Ty::Unit, ty, span);
                K::Wildcard
            }
            A::Tuple(ps) if ps.len() == 1 => return self.pattern(&ps[0], ty, mutable),
            A::Tuple(ps) => {
                let elems = match self.infer.shallow(ty) {
                    Ty::Tuple(ts) if ts.len() == ps.len() => ts,
                    _ => {
                        let ts: Vec<Ty> = ps.iter().map(|_| self.fresh()).collect();
                        self.expect_ty(&Ty::Tuple(ts.clone()), ty, span);
                        ts
                    }
                };
                K::Tuple(
                    ps.iter()
                        .zip(&elems)
                        .map(|(q, t)| self.pattern(q, t, mutable))
                        .collect(),
                )
            }
            A::Record { name, fields, .. } => {
                return self.record_pattern(name.as_ref(), fields, ty, mutable, span)
            }
            A::Variant { path, name, args } => {
                let Some(Item::Variant(adt, v)) =
                    self.ck.lookup_path(self.module, path, &name.name)
                else {
                    let d =
                        Diagnostic::error(name.span, format!("no variant named `{}`", name.name))
                            .with_label("not found");
                    self.error(d);
                    return Pat {
                        kind: K::Wildcard,
                        ty: ty.clone(),
                        span,
                    };
                };
                let n = self.ck.adts[adt.0 as usize].generics.len();
                let targs: Vec<Ty> = match self.infer.shallow(ty) {
                    Ty::Adt(id, ts) if id == adt => ts,
                    _ => {
                        let ts: Vec<Ty> = (0..n).map(|_| self.fresh()).collect();
                        self.expect_ty(&Ty::Adt(adt, ts.clone()), ty, span);
                        ts
                    }
                };
                let AdtKind::Enum(vs) = &self.ck.adts[adt.0 as usize].kind else {
                    return Pat {
                        kind: K::Wildcard,
                        ty: ty.clone(),
                        span,
                    };
                };
                let ftys: Vec<Ty> = vs[v as usize]
                    .fields
                    .iter()
                    .map(|t| t.subst(&targs))
                    .collect();
                if ftys.len() != args.len() {
                    let d = Diagnostic::error(
                        span,
                        format!(
                            "`{}` has {} field{}, the pattern has {}",
                            name.name,
                            ftys.len(),
                            if ftys.len() == 1 { "" } else { "s" },
                            args.len()
                        ),
                    );
                    self.error(d);
                    return Pat {
                        kind: K::Wildcard,
                        ty: ty.clone(),
                        span,
                    };
                }
                let args = args
                    .iter()
                    .zip(&ftys)
                    .map(|(q, t)| self.pattern(q, t, mutable))
                    .collect();
                K::Variant {
                    adt,
                    variant: v,
                    args,
                }
            }
        };
        Pat {
            kind,
            ty: ty.clone(),
            span,
        }
    }

    fn record_pattern(
        &mut self,
        name: Option<&ast::Ident>,
        fields: &[(ast::Ident, Option<ast::Pattern>)],
        ty: &Ty,
        mutable: bool,
        span: crate::source::Span,
    ) -> Pat {
        let wild = |ty: &Ty| Pat {
            kind: K::Wildcard,
            ty: ty.clone(),
            span,
        };
        let (adt, targs) = match (name, self.infer.shallow(ty)) {
            (_, Ty::Adt(id, ts))
                if matches!(self.ck.adts[id.0 as usize].kind, AdtKind::Record(_)) =>
            {
                (id, ts)
            }
            (Some(n), _) => match self.ck.lookup(self.module, &n.name) {
                Some(Item::Adt(id))
                    if matches!(self.ck.adts[id.0 as usize].kind, AdtKind::Record(_)) =>
                {
                    let k = self.ck.adts[id.0 as usize].generics.len();
                    let ts: Vec<Ty> = (0..k).map(|_| self.fresh()).collect();
                    self.expect_ty(&Ty::Adt(id, ts.clone()), ty, span);
                    (id, ts)
                }
                _ => {
                    self.error(Diagnostic::error(
                        n.span,
                        format!("`{}` is not a record type", n.name),
                    ));
                    return wild(ty);
                }
            },
            (None, Ty::Var(_)) => {
                self.unknown_type(span);
                return wild(ty);
            }
            (None, t) => {
                let d = Diagnostic::error(
                    span,
                    format!(
                        "a record pattern cannot match a value of type `{}`",
                        self.show(&t)
                    ),
                );
                self.error(d);
                return wild(ty);
            }
        };
        let AdtKind::Record(defs) = self.ck.adts[adt.0 as usize].kind.clone() else {
            return wild(ty);
        };
        let mut out = vec![];
        for (fname, sub) in fields {
            let Some(i) = defs.iter().position(|d| d.name == fname.name) else {
                self.error(Diagnostic::error(
                    fname.span,
                    format!("no field `{}`", fname.name),
                ));
                continue;
            };
            let fty = defs[i].ty.subst(&targs);
            let p = match sub {
                Some(q) => self.pattern(q, &fty, mutable),
                None => Pat {
                    kind: K::Bind(self.declare(&fname.name, fty.clone(), mutable)),
                    ty: fty,
                    span: fname.span,
                },
            };
            out.push((i as u32, p));
        }
        Pat {
            kind: K::Record(out),
            ty: ty.clone(),
            span,
        }
    }
}
