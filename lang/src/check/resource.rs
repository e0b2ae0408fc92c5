//! `new R("name", ...)`: the resource kinds a program allocates, their settings, the
//! rules on names and element types, and the sites the manifest records.

use super::body::Body;
use super::expr::mk;
use crate::ast::{self, ExprKind as A, StrPart};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{
    CellHandler, Expr, ExprKind as K, HandlerEvent, Intrinsic, ResourceSite, CAPABILITIES,
};
use crate::types::{ResourceKind, Ty};

/// One named setting of a kind: its name, type and the value it has when left out.
struct Setting {
    name: &'static str,
    ty: Ty,
    /// Its value when left out; `None` when it must be given.
    default: Option<i64>,
}

fn setting(name: &'static str, ty: Ty, default: i64) -> Setting {
    Setting {
        name,
        ty,
        default: Some(default),
    }
}

fn required(name: &'static str, ty: Ty) -> Setting {
    Setting {
        name,
        ty,
        default: None,
    }
}

/// The settings of every kind that runs code: how many instances, each one's memory
/// (bytes, `64 * MiB`) and CPU (thousandths of a core, `100 * milli`), and the host
/// capabilities it is granted (`capabilities: ["print", "clock"]`, passed as a mask).
fn compute() -> [Setting; 4] {
    [
        setting("replicas", Ty::Int, 1),
        setting("memory", Ty::Int, 64 << 20),
        setting("cpu", Ty::Int, 100),
        setting("capabilities", Ty::Int, CAPABILITIES_DEFAULT),
    ]
}

/// What code on the cluster gets when it names none: all but `agents`.
const CAPABILITIES_DEFAULT: i64 = 0b0111;

/// The settings a kind takes after its name, in the order they are passed to the host.
fn settings(kind: ResourceKind) -> Vec<Setting> {
    match kind {
        ResourceKind::Queue => vec![
            // A message taken this many times without an acknowledgement goes to the
            // dead-letter queue.
            setting("attempts", Ty::Int, 5),
            // How long a taken message stays hidden before it is delivered again.
            setting("visibility", Ty::Duration, 30_000_000_000),
        ],
        ResourceKind::Table | ResourceKind::Secret => vec![],
        // The most bytes its files may hold.
        ResourceKind::Volume => vec![setting("size", Ty::Int, 1 << 30)],
        ResourceKind::Cell => compute().into(),
        ResourceKind::HttpService => {
            // The port its load balancer listens on; `expose: lb("nginx")` (passed as
            // 1, else 0) puts it behind that provider.
            let mut v = vec![required("port", Ty::Int), setting("expose", Ty::Int, 0)];
            v.extend(compute());
            v
        }
        // How often its body runs.
        ResourceKind::Timer => vec![
            required("every", Ty::Duration),
            setting("capabilities", Ty::Int, CAPABILITIES_DEFAULT),
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
        handler: Option<&ast::Expr>,
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
                ResourceKind::HttpService => {
                    "an HttpService takes no type arguments: `new HttpService(\"api\", port: 8080) |req| { ... }`"
                }
                ResourceKind::Timer => {
                    "a Timer takes no type arguments: `new Timer(\"sweep\", every: 10m) { ... }`"
                }
                ResourceKind::Secret => {
                    "a Secret takes no type arguments: `new Secret(\"db-password\")`"
                }
                ResourceKind::Volume => {
                    "a Volume takes no type arguments: `new Volume(\"data\", size: 1 * GiB)`"
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
        self.check_shape(kind, body, handler, span);
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
            let value = if n.name == "expose" {
                self.expose(&a.value)
            } else if n.name == "capabilities" {
                self.capabilities(&a.value)
            } else {
                self.check(&a.value, &table[i].ty)
            };
            if given[i].is_some() {
                let d = Diagnostic::error(n.span, format!("`{}` is given twice", n.name));
                self.error(d);
            }
            given[i] = Some(value);
        }
        let mut call_args = vec![mk(K::Str(name.clone()), Ty::String, name_span)];
        for (s, g) in table.iter().zip(given) {
            let value = g.or_else(|| Some(mk(K::Int(s.default?), s.ty.clone(), span)));
            call_args.push(value.unwrap_or_else(|| {
                let d = Diagnostic::error(span, format!("{} needs `{}:`", article(kind), s.name))
                    .with_hint(match kind {
                        ResourceKind::Timer => "write `new Timer(\"sweep\", every: 10m) { ... }`",
                        _ => "write `new HttpService(\"api\", port: 8080) |req| { ... }`",
                    });
                self.error(d);
                mk(K::Int(0), s.ty.clone(), span)
            }));
        }
        let mut handlers = vec![];
        let (sources, captures) = match (kind, body, handler) {
            (ResourceKind::Cell, Some(b), _) => self.cell_body(b, &mut handlers),
            (ResourceKind::HttpService, _, Some(h)) => {
                (vec![], self.http_handler(h, &mut handlers))
            }
            (ResourceKind::Timer, Some(b), _) => (vec![], self.timer_body(b, &mut handlers)),
            _ => (vec![], vec![]),
        };
        call_args.extend(sources);
        call_args.extend(captures);
        let site = self.ck.resource_site(ResourceSite {
            kind,
            name,
            args: elems.clone(),
            settings: table.iter().map(|s| s.name.to_string()).collect(),
            handlers,
            span,
        });
        // Code on the cluster has no methods: its `new` is a statement, so it may end
        // `main`.
        let ty = if kind.runs_code() {
            Ty::Unit
        } else {
            Ty::Resource(kind, elems)
        };
        mk(
            K::Intrinsic {
                op: Intrinsic::ResourceNew(site),
                args: call_args,
            },
            ty,
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
        handlers: &mut Vec<CellHandler>,
    ) -> (Vec<Expr>, Vec<Expr>) {
        let (mut sources, mut captured) = (vec![], vec![]);
        if let Some(tail) = &body.tail {
            let d = Diagnostic::error(tail.span, "a Cell's body holds only event handlers")
                .with_hint("write `on QUEUE |msg| { ... }`");
            self.error(d);
        }
        for s in &body.stmts {
            if let ast::StmtKind::Every {
                kw,
                period_ns,
                period_span,
                body,
            } = &s.kind
            {
                let period = (*period_ns, *period_span);
                captured.extend(self.cell_timer(kw, period, body, s.span, handlers));
                continue;
            }
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
            let ast::ExprKind::Lambda { params, .. } = &handler.kind else {
                continue;
            };
            if params.len() != 1 {
                let d =
                    Diagnostic::error(handler.span, "a handler takes one parameter: the message")
                        .with_hint(format!("write `on {} |msg| {{ ... }}`", source.name));
                self.error(d);
                continue;
            }
            let lifted = Handler {
                event: HandlerEvent::Queue,
                period_ns: 0,
                msg,
                reply: Ty::Unit,
                source: source.name.clone(),
                span: s.span,
            };
            if let Some(captures) = self.lift_handler(handler, lifted, handlers) {
                sources.push(src);
                captured.extend(captures);
            }
        }
        if body.stmts.is_empty() && body.tail.is_none() {
            let d = Diagnostic::error(body.span, "a Cell needs at least one event handler")
                .with_hint("write `on QUEUE |msg| { ... }`");
            self.error(d);
        }
        (sources, captured)
    }
}

/// A handler about to be lifted: what it handles and gives back.
struct Handler {
    event: HandlerEvent,
    period_ns: i64,
    msg: Ty,
    reply: Ty,
    source: String,
    span: Span,
}

impl Body<'_, '_> {
    /// Lifts `lambda` (`|msg| { }`, or `|| { }` for a tick) to a function of its captures
    /// and the message, and records it; the captures' expressions.
    fn lift_handler(
        &mut self,
        lambda: &ast::Expr,
        h: Handler,
        handlers: &mut Vec<CellHandler>,
    ) -> Option<Vec<Expr>> {
        let ast::ExprKind::Lambda { params, ret, body } = &lambda.kind else {
            return None;
        };
        let ps = if h.event == HandlerEvent::Tick {
            vec![]
        } else {
            vec![h.msg.clone()]
        };
        let hint = Ty::Fn(ps, Box::new(h.reply.clone()));
        let closure = self.lambda(params, ret.as_ref(), body, lambda.span, Some(&hint));
        let K::Closure { func, captures, .. } = closure.kind else {
            return None;
        };
        self.expect_ty(&closure.ty, &hint, lambda.span);
        let mut tys = vec![];
        for c in &captures {
            let t = self.infer.zonk(&c.ty);
            self.ck.require_serializable(
                &t,
                lambda.span,
                "a value a handler uses from outside it (it is sent to the cluster)",
            );
            tys.push(t);
        }
        handlers.push(CellHandler {
            func,
            event: h.event,
            period_ns: h.period_ns,
            captures: tys,
            msg: h.msg,
            reply: h.reply,
            source: h.source,
            span: h.span,
        });
        Some(captures)
    }

    /// Which kinds take a body or a trailing handler, and which need one.
    fn check_shape(
        &mut self,
        kind: ResourceKind,
        body: Option<&ast::Block>,
        handler: Option<&ast::Expr>,
        span: Span,
    ) {
        let (wants, example) = match kind {
            ResourceKind::Cell => ("a body", "new Cell(\"workers\") { on jobs |job| { ... } }"),
            ResourceKind::Timer => ("a body", "new Timer(\"sweep\", every: 10m) { ... }"),
            ResourceKind::HttpService => (
                "a handler",
                "new HttpService(\"api\", port: 8080) |req| { ok(text(\"hi\")) }",
            ),
            _ => ("nothing", ""),
        };
        let found = match (body, handler) {
            (Some(b), _) => Some(("a body", b.span)),
            (None, Some(h)) => Some(("a handler", h.span)),
            (None, None) => None,
        };
        match found {
            Some((what, _)) if what == wants => {}
            Some((what, at)) => {
                let mut d =
                    Diagnostic::error(at, format!("{} takes no {}", article(kind), &what[2..]));
                if !example.is_empty() {
                    d = d.with_hint(format!("write `{example}`"));
                }
                self.error(d);
            }
            None if wants != "nothing" => {
                let what = match kind {
                    ResourceKind::Cell => "a body with its event handlers",
                    ResourceKind::Timer => "a body: what it does at each tick",
                    _ => "a handler for its requests",
                };
                let d = Diagnostic::error(span, format!("{} needs {what}", article(kind)))
                    .with_hint(format!("write `{example}`"));
                self.error(d);
            }
            None => {}
        }
    }

    /// `expose: lb("nginx")`: 1 for the nginx provider, the only one there is.
    fn expose(&mut self, value: &ast::Expr) -> Expr {
        let provider = match &value.kind {
            A::Call { callee, args } => match (&callee.kind, args.as_slice()) {
                (A::Name { name, .. }, [arg]) if name.name == "lb" => match &arg.value.kind {
                    A::Str(parts) => match parts.as_slice() {
                        [StrPart::Lit(p)] => Some(p.clone()),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        match provider.as_deref() {
            Some("nginx") => {}
            Some(other) => {
                let d = Diagnostic::error(
                    value.span,
                    format!("no load balancer provider is called `{other}`"),
                )
                .with_hint("the provider there is: `lb(\"nginx\")`");
                self.error(d);
            }
            None => {
                let d = Diagnostic::error(value.span, "expected `lb(\"PROVIDER\")`")
                    .with_hint("write `expose: lb(\"nginx\")`, with `use std::http::lb`");
                self.error(d);
            }
        }
        mk(K::Int(1), Ty::Int, value.span)
    }

    /// `capabilities: ["print", "clock"]`: a list of the names in [`CAPABILITIES`],
    /// written out, as a mask (bit `i` for `CAPABILITIES[i]`).
    fn capabilities(&mut self, value: &ast::Expr) -> Expr {
        let mut mask = 0i64;
        let hint = format!(
            "write a list of names, some of: {}",
            CAPABILITIES.map(|c| format!("\"{c}\"")).join(", ")
        );
        let A::List(items) = &value.kind else {
            let d =
                Diagnostic::error(value.span, "expected a list of capabilities").with_hint(hint);
            self.error(d);
            return mk(K::Int(0), Ty::Int, value.span);
        };
        for item in items {
            let name = match &item.kind {
                A::Str(parts) => match parts.as_slice() {
                    [StrPart::Lit(p)] => Some(p.as_str()),
                    [] => Some(""),
                    _ => None,
                },
                _ => None,
            };
            match name.and_then(|n| CAPABILITIES.iter().position(|c| *c == n)) {
                Some(i) => mask |= 1 << i,
                None => {
                    let d =
                        Diagnostic::error(item.span, "not a capability").with_hint(hint.clone());
                    self.error(d);
                }
            }
        }
        mk(K::Int(mask), Ty::Int, value.span)
    }

    /// An HttpService's `|req| { ... }`: a `std::http::Request` in, a `Response` out.
    fn http_handler(&mut self, h: &ast::Expr, handlers: &mut Vec<CellHandler>) -> Vec<Expr> {
        let (Some(req), Some(resp)) = (self.ck.http_type("Request"), self.ck.http_type("Response"))
        else {
            return vec![];
        };
        if let ast::ExprKind::Lambda { params, .. } = &h.kind {
            if params.len() != 1 {
                let d = Diagnostic::error(
                    h.span,
                    "a service's handler takes one parameter: the request",
                )
                .with_hint("write `|req| { ... }`");
                self.error(d);
                return vec![];
            }
        }
        let lifted = Handler {
            event: HandlerEvent::Http,
            period_ns: 0,
            msg: req,
            reply: resp,
            source: "request".into(),
            span: h.span,
        };
        self.lift_handler(h, lifted, handlers).unwrap_or_default()
    }

    /// A Cell's `every 10s { ... }`: its body lifted as a function of its captures alone,
    /// run each period; the captures' expressions.
    fn cell_timer(
        &mut self,
        kw: &ast::Ident,
        (period_ns, period_span): (i64, Span),
        body: &ast::Block,
        span: Span,
        handlers: &mut Vec<CellHandler>,
    ) -> Vec<Expr> {
        if kw.name != "every" {
            let d = Diagnostic::error(kw.span, format!("expected `every`, found `{}`", kw.name))
                .with_hint("a Cell's timer is `every 10s { ... }`");
            self.error(d);
            return vec![];
        }
        if period_ns < 1_000_000 {
            let d = Diagnostic::error(period_span, "a timer's period is at least 1ms");
            self.error(d);
            return vec![];
        }
        let lambda = ast::Expr {
            kind: A::Lambda {
                params: vec![],
                ret: None,
                body: Box::new(ast::Expr {
                    kind: A::Block(body.clone()),
                    span: body.span,
                }),
            },
            span: body.span,
        };
        let lifted = Handler {
            event: HandlerEvent::Tick,
            period_ns,
            msg: Ty::Unit,
            reply: Ty::Unit,
            source: "every".into(),
            span,
        };
        self.lift_handler(&lambda, lifted, handlers)
            .unwrap_or_default()
    }

    /// A Timer's body: lifted as a function of its captures alone.
    fn timer_body(&mut self, b: &ast::Block, handlers: &mut Vec<CellHandler>) -> Vec<Expr> {
        let body = ast::Expr {
            kind: A::Block(b.clone()),
            span: b.span,
        };
        let lambda = ast::Expr {
            kind: A::Lambda {
                params: vec![],
                ret: None,
                body: Box::new(body),
            },
            span: b.span,
        };
        let lifted = Handler {
            event: HandlerEvent::Tick,
            period_ns: 0,
            msg: Ty::Unit,
            reply: Ty::Unit,
            source: "every".into(),
            span: b.span,
        };
        self.lift_handler(&lambda, lifted, handlers)
            .unwrap_or_default()
    }
}

/// "a `Cell`", "an `HttpService`".
fn article(kind: ResourceKind) -> String {
    let name = kind.type_name();
    let a = if name.starts_with(['A', 'E', 'H', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{a} `{name}`")
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
