//! `new R("name", ...)`: the resource kinds a program allocates, their settings, the
//! rules on names and element types, and the sites the manifest records.

use super::body::Body;
use super::expr::mk;
use crate::ast::{self, ExprKind as A, StrPart};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{Expr, ExprKind as K, Intrinsic, ResourceSite};
use crate::types::{ResourceKind, Ty};

/// One named setting of a kind: its name, type and the value it has when left out.
struct Setting {
    name: &'static str,
    ty: Ty,
    default: i64,
}

/// The settings a kind takes after its name, in the order they are passed to the host.
fn settings(kind: ResourceKind) -> Vec<Setting> {
    match kind {
        ResourceKind::Queue => vec![
            // A message taken this many times without an acknowledgement goes to the
            // dead-letter queue.
            Setting {
                name: "attempts",
                ty: Ty::Int,
                default: 5,
            },
            // How long a taken message stays hidden before it is delivered again.
            Setting {
                name: "visibility",
                ty: Ty::Duration,
                default: 30_000_000_000,
            },
        ],
        ResourceKind::Table => vec![],
        ResourceKind::Cell => vec![
            // How many instances run, spread across the nodes.
            Setting {
                name: "replicas",
                ty: Ty::Int,
                default: 1,
            },
            // The most memory each instance may use, in bytes (`64 * MiB`).
            Setting {
                name: "memory",
                ty: Ty::Int,
                default: 64 << 20,
            },
            // The CPU each instance is given, in thousandths of a core (`100 * milli`).
            Setting {
                name: "cpu",
                ty: Ty::Int,
                default: 100,
            },
        ],
    }
}

/// The longest resource name.
pub const NAME_MAX: usize = 63;

/// What is wrong with a resource name, if anything: a DNS-label-like name (lowercase
/// letters, digits, `-`, `_`, `.`; starting with a letter or digit), optionally after
/// another program's name and a `/`.
pub fn name_problem(name: &str) -> Option<String> {
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 2 {
        return Some("a name has at most one `/`, after a program's name".into());
    }
    for part in parts {
        if part.is_empty() {
            return Some("a name cannot be empty".into());
        }
        if part.len() > NAME_MAX {
            return Some(format!("a name is at most {NAME_MAX} characters"));
        }
        let first = part.chars().next().unwrap_or('-');
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Some("a name starts with a lowercase letter or a digit".into());
        }
        if let Some(c) = part.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        }) {
            return Some(format!(
                "`{}` is not allowed in a name (lowercase letters, digits, `-`, `_`, `.`)",
                c.escape_debug()
            ));
        }
    }
    None
}

impl Body<'_, '_> {
    /// Checks `new TYPE(args) body`.
    pub fn new_resource(
        &mut self,
        ty: &ast::TypeExpr,
        args: &[ast::Arg],
        body: Option<&ast::Block>,
        span: Span,
    ) -> Expr {
        let never = |span| mk(K::Unit, Ty::Never, span);
        let ast::TypeExprKind::Named {
            path,
            name: tname,
            args: targs,
        } = &ty.kind
        else {
            return never(span);
        };
        let kind = match ResourceKind::from_type_name(&tname.name) {
            Some(k) if path.is_empty() => k,
            _ => {
                let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.type_name()).collect();
                let d = Diagnostic::error(
                    ty.span,
                    format!("`{}` is not a kind of resource", tname.name),
                )
                .with_hint(format!(
                    "`new` allocates one of: {}; other values are built without `new`",
                    kinds.join(", ")
                ));
                self.error(d);
                return never(span);
            }
        };
        if targs.len() != kind.arity() {
            let d = Diagnostic::error(
                ty.span,
                format!(
                    "`{}` takes {} type argument{}",
                    kind.type_name(),
                    kind.arity(),
                    if kind.arity() == 1 { "" } else { "s" }
                ),
            )
            .with_hint(match kind {
                ResourceKind::Queue => "write the element type: `new QueueService<Job>(\"jobs\")`",
                ResourceKind::Table => {
                    "write the key and value types: `new Table<Int, String>(\"t\")`"
                }
                ResourceKind::Cell => {
                    "a Cell takes no type arguments: `new Cell(\"workers\") { ... }`"
                }
            });
            self.error(d);
            return never(span);
        }
        let module = self.module;
        let generics = self.generics.clone();
        let elems: Vec<Ty> = targs
            .iter()
            .map(|t| self.ck.lower_ty(module, &generics, t))
            .collect();
        for (t, te) in elems.iter().zip(targs) {
            if t.has_params() {
                let d = Diagnostic::error(te.span, "a resource's types must be concrete")
                    .with_label("a generic parameter")
                    .with_hint("the cluster records the resource's type; name it in full");
                self.error(d);
                return never(span);
            }
            self.ck
                .require_serializable(t, te.span, "a resource's element type");
        }
        match (kind, body) {
            (ResourceKind::Cell, None) => {
                let d = Diagnostic::error(span, "a `Cell` needs a body with its event handlers")
                    .with_hint("write `new Cell(\"workers\") { on jobs |job| { ... } }`");
                self.error(d);
            }
            (ResourceKind::Cell, Some(_)) => {}
            (_, Some(b)) => {
                let d =
                    Diagnostic::error(b.span, format!("a `{}` takes no body", kind.type_name()));
                self.error(d);
            }
            (_, None) => {}
        }
        // The name: a string literal, first.
        let mut rest = args.iter();
        let name = match rest.next() {
            Some(ast::Arg { name: None, value }) => match &value.kind {
                A::Str(parts) if parts.iter().all(|p| matches!(p, StrPart::Lit(_))) => {
                    let text: String = parts
                        .iter()
                        .map(|p| match p {
                            StrPart::Lit(s) => s.as_str(),
                            StrPart::Expr(_) => "",
                        })
                        .collect();
                    if let Some(problem) = name_problem(&text) {
                        let d = Diagnostic::error(value.span, "not a resource name")
                            .with_label(problem);
                        self.error(d);
                    }
                    Some((text, value.span))
                }
                _ => {
                    let d = Diagnostic::error(value.span, "a resource's name must be a string literal")
                        .with_hint("the cluster knows a program's resources by the names written in it, before it runs");
                    self.error(d);
                    None
                }
            },
            _ => {
                let d = Diagnostic::error(span, "a resource needs a name")
                    .with_hint(format!("write `new {}(\"name\")`", kind.type_name()));
                self.error(d);
                None
            }
        };
        let Some((name, name_span)) = name else {
            for a in rest {
                self.infer_expr(&a.value);
            }
            return never(span);
        };
        // Then the settings, by name, each at most once.
        let table = settings(kind);
        let mut given: Vec<Option<Expr>> = table.iter().map(|_| None).collect();
        for a in rest {
            let Some(n) = &a.name else {
                let d = Diagnostic::error(a.value.span, "a resource's settings are named")
                    .with_hint(match table.first() {
                        Some(s) => format!("write `{}: ...`", s.name),
                        None => format!("a `{}` takes only its name", kind.type_name()),
                    });
                self.error(d);
                self.infer_expr(&a.value);
                continue;
            };
            let Some(i) = table.iter().position(|s| s.name == n.name) else {
                let known: Vec<&str> = table.iter().map(|s| s.name).collect();
                let d = Diagnostic::error(
                    n.span,
                    format!("a `{}` has no setting `{}`", kind.type_name(), n.name),
                )
                .with_hint(if known.is_empty() {
                    format!("a `{}` takes only its name", kind.type_name())
                } else {
                    format!("its settings are: {}", known.join(", "))
                });
                self.error(d);
                self.infer_expr(&a.value);
                continue;
            };
            let value = self.check(&a.value, &table[i].ty);
            if given[i].is_some() {
                let d = Diagnostic::error(n.span, format!("`{}` is given twice", n.name));
                self.error(d);
            }
            given[i] = Some(value);
        }
        let mut call_args = vec![mk(K::Str(name.clone()), Ty::String, name_span)];
        for (s, g) in table.iter().zip(given) {
            call_args.push(g.unwrap_or_else(|| mk(K::Int(s.default), s.ty.clone(), span)));
        }
        let mut handlers = vec![];
        if let (ResourceKind::Cell, Some(b)) = (kind, body) {
            let (sources, captures) = self.cell_body(b, &mut handlers);
            call_args.extend(sources);
            call_args.extend(captures);
        }
        let site = self.ck.resource_site(ResourceSite {
            kind,
            name,
            args: elems.clone(),
            settings: table.iter().map(|s| s.name.to_string()).collect(),
            handlers,
            span,
        });
        mk(
            K::Intrinsic {
                op: Intrinsic::ResourceNew(site),
                args: call_args,
            },
            Ty::Resource(kind, elems),
            span,
        )
    }
}

impl Body<'_, '_> {
    /// A Cell's body: each statement an `on SOURCE |msg| { }` handler, lifted to a
    /// function of its captures and the message. The sources' and the captures'
    /// expressions, in the order the site passes them.
    fn cell_body(
        &mut self,
        body: &ast::Block,
        handlers: &mut Vec<crate::tir::CellHandler>,
    ) -> (Vec<Expr>, Vec<Expr>) {
        let (mut sources, mut captured) = (vec![], vec![]);
        if let Some(tail) = &body.tail {
            let d = Diagnostic::error(tail.span, "a Cell's body holds only event handlers")
                .with_hint("write `on QUEUE |msg| { ... }`");
            self.error(d);
        }
        for s in &body.stmts {
            let ast::StmtKind::On {
                kw,
                source,
                handler,
            } = &s.kind
            else {
                let d = Diagnostic::error(s.span, "a Cell's body holds only event handlers")
                    .with_hint("write `on QUEUE |msg| { ... }`; other work goes in the handler");
                self.error(d);
                continue;
            };
            if kw.name != "on" {
                let d = Diagnostic::error(kw.span, format!("expected `on`, found `{}`", kw.name))
                    .with_hint("a Cell's handler is `on QUEUE |msg| { ... }`");
                self.error(d);
                continue;
            }
            let src = mk_name(source);
            let src = self.infer_expr(&src);
            let msg = match self.infer.shallow(&src.ty) {
                Ty::Resource(ResourceKind::Queue, args) if args.len() == 1 => args[0].clone(),
                Ty::Never => continue,
                other => {
                    let d = Diagnostic::error(
                        source.span,
                        format!(
                            "a Cell handles messages of a queue, and `{}` is not one",
                            source.name
                        ),
                    )
                    .with_label(format!("this is `{}`", self.show(&other)));
                    self.error(d);
                    continue;
                }
            };
            let hint = Ty::Fn(vec![msg.clone()], Box::new(Ty::Unit));
            let ast::ExprKind::Lambda {
                params,
                ret,
                body: hbody,
            } = &handler.kind
            else {
                continue;
            };
            if params.len() != 1 {
                let d =
                    Diagnostic::error(handler.span, "a handler takes one parameter: the message")
                        .with_hint(format!("write `on {} |msg| {{ ... }}`", source.name));
                self.error(d);
                continue;
            }
            let closure = self.lambda(params, ret.as_ref(), hbody, handler.span, Some(&hint));
            let K::Closure { func, captures, .. } = closure.kind else {
                continue;
            };
            self.expect_ty(&closure.ty, &hint, handler.span);
            let mut tys = vec![];
            for c in &captures {
                let t = self.infer.zonk(&c.ty);
                self.ck.require_serializable(
                    &t,
                    handler.span,
                    "a value a Cell's handler uses from outside it (it is sent to the cluster)",
                );
                tys.push(t);
            }
            handlers.push(crate::tir::CellHandler {
                func,
                captures: tys,
                msg,
                source: source.name.clone(),
                span: s.span,
            });
            sources.push(src);
            captured.extend(captures);
        }
        if body.stmts.is_empty() && body.tail.is_none() {
            let d = Diagnostic::error(body.span, "a Cell needs at least one event handler")
                .with_hint("write `on QUEUE |msg| { ... }`");
            self.error(d);
        }
        (sources, captured)
    }
}

fn mk_name(id: &ast::Ident) -> ast::Expr {
    ast::Expr {
        kind: A::Name {
            path: vec![],
            name: id.clone(),
        },
        span: id.span,
    }
}

impl super::Checker<'_> {
    /// Records a site; two sites of one name must agree on kind and types.
    fn resource_site(&mut self, site: ResourceSite) -> u32 {
        let clash = self
            .resources
            .iter()
            .find(|s| s.name == site.name && (s.kind != site.kind || s.args != site.args))
            .map(|s| (s.span, Ty::Resource(s.kind, s.args.clone())));
        if let Some((first, ty)) = clash {
            let d = Diagnostic::error(
                site.span,
                format!("`{}` is allocated here with another type", site.name),
            )
            .with_label(format!(
                "this is `{}`",
                self.show(&Ty::Resource(site.kind, site.args.clone()), &[])
            ))
            .with_note(first, format!("and this is `{}`", self.show(&ty, &[])))
            .with_hint("a resource has one type; give one of them another name");
            self.error(d);
        }
        self.resources.push(site);
        (self.resources.len() - 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::name_problem;

    #[test]
    fn names() {
        assert_eq!(name_problem("jobs"), None);
        assert_eq!(name_problem("billing/jobs-2.v1"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem("Jobs").is_some());
        assert!(name_problem("a/b/c").is_some());
        assert!(name_problem("-x").is_some());
        assert!(name_problem("a b").is_some());
        assert!(name_problem(&"x".repeat(64)).is_some());
    }
}
