//! Defaults that outlive a call site: a record field's default (`hits: Int = 0`) and the
//! default of an agent method's parameter each become a function of no parameters, checked
//! once where it is declared. A record literal that leaves the field out calls it, and so
//! does a call that leaves the parameter out; the compiler also exports the first kind
//! (a patch fills the field in stored values) and calls the second from the method's entry
//! (an older caller may send fewer arguments). Ordinary functions keep checking their
//! defaults at each call site (`call.rs`).
//!
//! Parameters with defaults come last, in every function: a call that leaves arguments
//! out leaves out the last ones.

use super::pure::Pure;
use super::{Checker, FuncInfo, SelfKind};
use crate::ast;
use crate::diagnostic::Diagnostic;
use crate::tir::FuncId;
use crate::types::{AdtId, Ty};
use std::rc::Rc;

/// A default's function: no parameters, `ret` for its result, the body one expression.
struct DefaultFn<'a> {
    name: String,
    module: usize,
    generics: &'a [ast::Ident],
    ty: &'a ast::TypeExpr,
    ret: Ty,
    value: &'a ast::Expr,
    pure: Option<Pure>,
}

impl Checker<'_> {
    fn default_fn(&mut self, d: DefaultFn) -> FuncId {
        let id = FuncId(self.funcs.len() as u32);
        let span = d.value.span;
        let decl = ast::FnDecl {
            doc: None,
            name: ast::Ident {
                name: d.name.clone(),
                span,
            },
            generics: d.generics.to_vec(),
            params: vec![],
            ret: Some(d.ty.clone()),
            body: ast::Block {
                stmts: vec![],
                tail: Some(Box::new(d.value.clone())),
                span,
            },
            span,
        };
        self.funcs.push(FuncInfo {
            name: d.name,
            module: d.module,
            generics: d.generics.iter().map(|g| g.name.clone()).collect(),
            params: vec![],
            ret: d.ret,
            self_kind: SelfKind::None,
            decl: Some(Rc::new(decl)),
            span,
            member: None,
            pure: d.pure,
        });
        self.bodies.push(None);
        id
    }

    /// The function computing field `field`'s default in record `adt` (declared by `t`):
    /// named `default Link.hits`, generic over the record's parameters.
    pub(crate) fn field_default_fn(
        &mut self,
        m: usize,
        adt: AdtId,
        t: &ast::TypeDecl,
        field: &ast::FieldDecl,
        value: &ast::Expr,
        ty: Ty,
    ) -> FuncId {
        let name = format!(
            "default {}.{}",
            self.adts[adt.0 as usize].name, field.name.name
        );
        self.default_fn(DefaultFn {
            name,
            module: m,
            generics: &t.generics,
            ty: &field.ty,
            ret: ty,
            value,
            pure: Some(Pure::FieldDefault(adt)),
        })
    }

    /// The function computing the default of parameter `p` (of type `ty`) of the agent
    /// method `method` (`Counter.incr`): named `Counter.incr default by`.
    pub(crate) fn param_default_fn(
        &mut self,
        m: usize,
        method: &str,
        p: &ast::Param,
        ty: Ty,
    ) -> Option<FuncId> {
        let value = p.default.as_ref()?;
        Some(self.default_fn(DefaultFn {
            name: format!("{method} default {}", p.name.name),
            module: m,
            generics: &[],
            ty: &p.ty,
            ret: ty,
            value,
            pure: None,
        }))
    }

    /// Reports a parameter without a default after one with a default (`self` aside).
    pub(crate) fn check_default_order(&mut self, params: &[ast::Param]) {
        let mut first_default: Option<&ast::Param> = None;
        for p in params.iter().filter(|p| p.name.name != "self") {
            match (first_default, &p.default) {
                (None, Some(_)) => first_default = Some(p),
                (Some(d), None) => {
                    let diag = Diagnostic::error(
                        p.name.span,
                        format!(
                            "parameter `{}` needs a default: it follows `{}`, which has one",
                            p.name.name, d.name.name
                        ),
                    )
                    .with_label("no default")
                    .with_note(d.span, "a parameter with a default")
                    .with_hint("parameters with defaults come last, so a call can leave them out");
                    self.error(diag);
                    return;
                }
                _ => {}
            }
        }
    }
}
