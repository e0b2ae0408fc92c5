//! Checking statements, and places (the targets of assignment and of mutating calls).

use super::body::Body;
use super::expr::mk;
use crate::ast::{self, ExprKind as A};
use crate::diagnostic::Diagnostic;
use crate::tir::{AdtKind, Expr, ExprKind as K, Place, PlaceElem, Stmt};
use crate::types::Ty;

impl Body<'_, '_> {
    pub fn stmt(&mut self, s: &ast::Stmt) -> Stmt {
        match &s.kind {
            ast::StmtKind::Let {
                mutable,
                pat,
                ty,
                value,
            } => {
                let value = match ty {
                    Some(t) => {
                        let t = self.ck.lower_ty(self.module, &self.generics.clone(), t);
                        self.check(value, &t)
                    }
                    None => self.infer_expr(value),
                };
                let pat = self.pattern(pat, &value.ty.clone(), *mutable);
                self.check_irrefutable(&pat, s.span);
                Stmt::Let { pat, value }
            }
            ast::StmtKind::Assign { target, op, value } => self.assign(target, *op, value, s.span),
            ast::StmtKind::Expr(e) => Stmt::Expr(self.infer_expr(e)),
            ast::StmtKind::On {
                kw,
                source,
                handler,
            } => {
                let d = Diagnostic::error(
                    s.span,
                    format!("`{} {} ...` is not a statement", kw.name, source.name),
                )
                .with_hint(
                    "an `on QUEUE |msg| { }` handler belongs in a `new Cell(\"name\") { }` body",
                );
                self.error(d);
                Stmt::Expr(self.infer_expr(handler))
            }
            ast::StmtKind::Every { kw, body, .. } => {
                let d = Diagnostic::error(s.span, format!("`{} ...` is not a statement", kw.name))
                    .with_hint(
                        "an `every 10s { }` timer belongs in a `new Cell(\"name\") { }` body (an agent's timers are members)",
                    );
                self.error(d);
                Stmt::Expr(self.infer_expr(&ast::Expr {
                    kind: ast::ExprKind::Block(body.clone()),
                    span: body.span,
                }))
            }
        }
    }

    pub fn assign(
        &mut self,
        target: &ast::Expr,
        op: Option<ast::BinOp>,
        value: &ast::Expr,
        span: crate::source::Span,
    ) -> Stmt {
        if let Some(s) = self.lane_assign(target, op, value, span) {
            return s;
        }
        let bad = |b: &mut Self| {
            let d = Diagnostic::error(target.span, "cannot assign to this expression")
                .with_hint("assign to a variable, a field `p.x` or an element `xs[i]`");
            b.error(d);
            Stmt::Expr(mk(K::Unit, Ty::Unit, span))
        };
        if !self.is_place_shaped(target) {
            return bad(self);
        }
        let Some((place, read)) = self.place(target, op.is_none()) else {
            return bad(self);
        };
        self.check_mutable(&place);
        let ty = place.ty.clone();
        let value = self.assigned_value(op, read, &ty, value, span);
        Stmt::Assign { place, value }
    }

    /// The value an assignment stores: `value`, or for `p op= value` the place's current
    /// value (`read`) combined with it (`p += v` is `p = p + v`).
    pub fn assigned_value(
        &mut self,
        op: Option<ast::BinOp>,
        read: Expr,
        ty: &Ty,
        value: &ast::Expr,
        span: crate::source::Span,
    ) -> Expr {
        let Some(op) = op else {
            return self.check(value, ty);
        };
        let v = self.check(value, ty);
        let t = self.infer.shallow(ty);
        let ok = match op {
            ast::BinOp::Add => matches!(t, Ty::Int | Ty::Float | Ty::Duration | Ty::String),
            ast::BinOp::Sub => matches!(t, Ty::Int | Ty::Float | Ty::Duration),
            _ => matches!(t, Ty::Int | Ty::Float),
        };
        if !ok {
            let d = Diagnostic::error(
                span,
                format!(
                    "`{}=` cannot be applied to `{}`",
                    op.symbol(),
                    self.show(&t)
                ),
            );
            self.error(d);
        }
        mk(
            K::Binary {
                op,
                lhs: Box::new(read),
                rhs: Box::new(v),
            },
            ty.clone(),
            span,
        )
    }

    /// A name followed by `.field`, `.0` and `[index]` steps, with a local at the root.
    pub fn is_place_shaped(&mut self, e: &ast::Expr) -> bool {
        match &e.kind {
            A::Name { path, name } => path.is_empty() && self.lookup_local(&name.name).is_some(),
            A::Field { base, .. } | A::TupleField { base, .. } | A::Index { base, .. } => {
                self.is_place_shaped(base)
            }
            _ => false,
        }
    }

    /// The place an expression denotes, and the expression that reads it.
    /// `for_write`: a missing map key is then fine (assignment inserts it).
    pub fn place(&mut self, e: &ast::Expr, for_write: bool) -> Option<(Place, Expr)> {
        match &e.kind {
            A::Name { name, .. } => {
                let id = self.lookup_local(&name.name)?;
                let ty = self.local_ty(id);
                let read = mk(K::Local(id), ty.clone(), e.span);
                Some((
                    Place {
                        root: id,
                        path: vec![],
                        ty,
                        span: e.span,
                    },
                    read,
                ))
            }
            A::Field { base, name } => {
                let (mut p, read) = self.place(base, false)?;
                let agg = self.infer.shallow(&p.ty);
                let (i, fty) = match &agg {
                    Ty::Adt(id, args) => match &self.ck.adts[id.0 as usize].kind {
                        AdtKind::Record(fs) => {
                            let i = fs.iter().position(|f| f.name == name.name);
                            i.map(|i| (i as u32, fs[i].ty.subst(args)))
                        }
                        AdtKind::Enum(_) => None,
                    },
                    Ty::Var(_) => {
                        self.unknown_type(base.span);
                        return None;
                    }
                    _ => None,
                }
                .or_else(|| {
                    let d = Diagnostic::error(
                        name.span,
                        format!("no field `{}` on type `{}`", name.name, self.show(&agg)),
                    );
                    self.error(d);
                    None
                })?;
                p.path.push(PlaceElem::Field(i, agg));
                p.ty = fty.clone();
                p.span = e.span;
                Some((
                    p,
                    mk(
                        K::Field {
                            base: Box::new(read),
                            index: i,
                        },
                        fty,
                        e.span,
                    ),
                ))
            }
            A::TupleField {
                base,
                index,
                index_span,
            } => {
                let (mut p, read) = self.place(base, false)?;
                let agg = self.infer.shallow(&p.ty);
                let Ty::Tuple(ts) = &agg else {
                    let d = Diagnostic::error(
                        *index_span,
                        format!(
                            "no element {index} in a value of type `{}`",
                            self.show(&agg)
                        ),
                    );
                    self.error(d);
                    return None;
                };
                let Some(t) = ts.get(*index as usize).cloned() else {
                    self.error(Diagnostic::error(
                        *index_span,
                        format!("this tuple has no element {index}"),
                    ));
                    return None;
                };
                p.path.push(PlaceElem::Field(*index, agg.clone()));
                p.ty = t.clone();
                p.span = e.span;
                Some((
                    p,
                    mk(
                        K::Field {
                            base: Box::new(read),
                            index: *index,
                        },
                        t,
                        e.span,
                    ),
                ))
            }
            A::Index { base, index } => {
                let (mut p, read) = self.place(base, false)?;
                match self.infer.shallow(&p.ty) {
                    Ty::List(t) => {
                        let i = self.check(index, &Ty::Int);
                        p.path.push(PlaceElem::Index(i.clone()));
                        p.ty = (*t).clone();
                        p.span = e.span;
                        let r = mk(
                            K::Index {
                                base: Box::new(read),
                                index: Box::new(i),
                            },
                            *t,
                            e.span,
                        );
                        Some((p, r))
                    }
                    Ty::Map(k, v) => {
                        let key = self.check(index, &k);
                        p.path.push(PlaceElem::MapKey(key.clone()));
                        p.ty = (*v).clone();
                        p.span = e.span;
                        let r = if for_write {
                            mk(K::Unit, Ty::Never, e.span)
                        } else {
                            self.map_read(read, key, *v, e.span)
                        };
                        Some((p, r))
                    }
                    Ty::Var(_) => {
                        self.unknown_type(base.span);
                        None
                    }
                    t => {
                        let d = Diagnostic::error(
                            base.span,
                            format!("cannot index into a value of type `{}`", self.show(&t)),
                        );
                        self.error(d);
                        None
                    }
                }
            }
            _ => None,
        }
    }

    /// Reports an error unless the place's root is a `var`.
    pub fn check_mutable(&mut self, p: &Place) -> bool {
        let cx = self.cxs.last().expect("a context");
        let local = &cx.locals[p.root.0 as usize];
        if local.mutable {
            return true;
        }
        let name = local.name.clone();
        let captured = cx.captures.iter().any(|(_, inner)| *inner == p.root);
        let d = if name == "self" && self.agent.is_some() {
            Diagnostic::error(p.span, "cannot assign to `self`")
                .with_label("`self` is this agent's reference")
                .with_hint("change the agent's lanes instead: `count = 0`")
        } else if captured {
            Diagnostic::error(p.span, format!("cannot change `{name}` inside a closure"))
                .with_label("captured by value")
                .with_hint("a closure receives a copy; return the new value instead")
        } else {
            Diagnostic::error(
                p.span,
                format!("cannot change `{name}`, which is not a `var`"),
            )
            .with_label("cannot be changed")
            .with_hint(format!("declare it with `var {name} = ...`"))
        };
        self.error(d);
        false
    }
}
