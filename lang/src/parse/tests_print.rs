//! A compact S-expression printer for the AST, so parser tests can state the
//! expected tree in one line.

use crate::ast::*;

pub(super) fn item(i: &Item) -> String {
    match i {
        Item::Fn(f) => {
            let generics = generics(&f.generics);
            let params: Vec<String> = f.params.iter().map(param).collect();
            let ret = f
                .ret
                .as_ref()
                .map(|t| format!(" -> {}", ty(t)))
                .unwrap_or_default();
            format!(
                "fn {}{generics}({}){ret} {}",
                f.name.name,
                params.join(", "),
                block(&f.body)
            )
        }
        Item::Type(t) => format!(
            "type {}{} = {}",
            t.name.name,
            generics(&t.generics),
            ty(&t.ty)
        ),
        Item::Enum(e) => {
            let vs: Vec<String> = e
                .variants
                .iter()
                .map(|v| {
                    if v.fields.is_empty() {
                        v.name.name.clone()
                    } else {
                        format!("{}({})", v.name.name, list(&v.fields, ty))
                    }
                })
                .collect();
            format!(
                "enum {}{} {{ {} }}",
                e.name.name,
                generics(&e.generics),
                vs.join(", ")
            )
        }
        Item::Use(u) => {
            let path: Vec<&str> = u.path.iter().map(|i| i.name.as_str()).collect();
            match &u.names {
                None => format!("use {}", path.join("::")),
                Some(ns) => {
                    let ns: Vec<&str> = ns.iter().map(|i| i.name.as_str()).collect();
                    format!("use {}::{{{}}}", path.join("::"), ns.join(", "))
                }
            }
        }
        Item::Test(t) => format!("test {:?} {}", t.name, block(&t.body)),
        Item::Agent(a) => {
            let route = a
                .route
                .as_ref()
                .map(|(r, _)| format!(" at {r:?}"))
                .unwrap_or_default();
            let members: Vec<String> = a.members.iter().map(member).collect();
            format!("agent {}{route} {{ {} }}", a.name.name, members.join("; "))
        }
    }
}

fn member(m: &Member) -> String {
    match m {
        Member::Lane(l) => {
            let kind = match l.kind {
                LaneKind::Value => "value",
                LaneKind::Map => "map",
                LaneKind::List => "list",
            };
            let init = l
                .init
                .as_ref()
                .map(|e| format!(" = {}", expr(e)))
                .unwrap_or_default();
            format!("{kind} {}: {}{init}", l.name.name, ty(&l.ty))
        }
        Member::Fn(f) => item(&Item::Fn(f.clone())),
        Member::Command(f) => {
            let params: Vec<String> = f.params.iter().map(param).collect();
            format!(
                "command {}({}) {}",
                f.name.name,
                params.join(", "),
                block(&f.body)
            )
        }
        Member::Demand(d) => format!("demand {}: {} {}", d.name.name, ty(&d.ty), block(&d.body)),
        Member::On { event, body, .. } => format!("on {} {}", event.name, block(body)),
        Member::Every {
            period_ns, body, ..
        } => format!("every {period_ns}ns {}", block(body)),
        Member::Migrate(m) => {
            let undo = m
                .undo
                .as_ref()
                .map(|u| format!(" undo({}) {}", u.name.name, block(&u.body)))
                .unwrap_or_default();
            format!(
                "migrate {}({}) -> {} {}{undo}",
                m.lane.name,
                param(&m.param),
                ty(&m.to),
                block(&m.body)
            )
        }
    }
}

fn generics(g: &[Ident]) -> String {
    if g.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = g.iter().map(|i| i.name.as_str()).collect();
    format!("<{}>", names.join(", "))
}

fn param(p: &Param) -> String {
    let var = if p.mutable { "var " } else { "" };
    let default = p
        .default
        .as_ref()
        .map(|e| format!(" = {}", expr(e)))
        .unwrap_or_default();
    format!("{var}{}: {}{default}", p.name.name, ty(&p.ty))
}

fn list<T>(xs: &[T], f: impl Fn(&T) -> String) -> String {
    xs.iter().map(f).collect::<Vec<_>>().join(", ")
}

pub(super) fn ty(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named { path, name, args } => {
            let mut s: String = path.iter().map(|p| format!("{}::", p.name)).collect();
            s.push_str(&name.name);
            if !args.is_empty() {
                s.push_str(&format!("<{}>", list(args, ty)));
            }
            s
        }
        TypeExprKind::Tuple(ts) => format!("({})", list(ts, ty)),
        TypeExprKind::Fn { params, ret } => format!("fn({}) -> {}", list(params, ty), ty(ret)),
        TypeExprKind::Record(fs) => {
            format!(
                "{{{}}}",
                list(fs, |f| {
                    let default = f
                        .default
                        .as_ref()
                        .map(|e| format!(" = {}", expr(e)))
                        .unwrap_or_default();
                    format!("{}: {}{default}", f.name.name, ty(&f.ty))
                })
            )
        }
    }
}

pub(super) fn block(b: &Block) -> String {
    let mut parts: Vec<String> = b.stmts.iter().map(stmt).collect();
    if let Some(t) = &b.tail {
        parts.push(format!("=> {}", expr(t)));
    }
    format!("{{{}}}", parts.join("; "))
}

fn stmt(s: &Stmt) -> String {
    match &s.kind {
        StmtKind::Let {
            mutable,
            pat,
            ty: t,
            value,
        } => {
            let kw = if *mutable { "var" } else { "let" };
            let t = t
                .as_ref()
                .map(|t| format!(": {}", ty(t)))
                .unwrap_or_default();
            format!("{kw} {}{t} = {}", pattern(pat), expr(value))
        }
        StmtKind::Assign { target, op, value } => {
            let op = op.map(|o| o.symbol()).unwrap_or("");
            format!("{} {op}= {}", expr(target), expr(value))
        }
        StmtKind::Expr(e) => expr(e),
        StmtKind::On {
            kw,
            source,
            handler,
        } => {
            format!("{} {} {}", kw.name, source.name, expr(handler))
        }
        StmtKind::Every {
            kw,
            period_ns,
            body,
            ..
        } => format!("{} {period_ns}ns {}", kw.name, block(body)),
    }
}

fn args(a: &[Arg]) -> String {
    a.iter()
        .map(|a| match &a.name {
            Some(n) => format!(" {}={}", n.name, expr(&a.value)),
            None => format!(" {}", expr(&a.value)),
        })
        .collect()
}

fn fields(fs: &[FieldInit]) -> String {
    fs.iter()
        .map(|f| match &f.value {
            Some(v) => format!(" {}={}", f.name.name, expr(v)),
            None => format!(" {}", f.name.name),
        })
        .collect()
}

pub(super) fn expr(e: &Expr) -> String {
    use ExprKind::*;
    match &e.kind {
        Int(v) => v.to_string(),
        Float(v) => format!("{v:?}"),
        Bool(b) => b.to_string(),
        Duration(ns) => format!("{ns}ns"),
        Str(parts) => {
            let inner: String = parts
                .iter()
                .map(|p| match p {
                    StrPart::Lit(s) => s.escape_debug().to_string(),
                    StrPart::Expr(e) => format!("{{{}}}", expr(e)),
                })
                .collect();
            format!("\"{inner}\"")
        }
        Name { path, name } => {
            let mut s: String = path.iter().map(|p| format!("{}::", p.name)).collect();
            s.push_str(&name.name);
            s
        }
        Call { callee, args: a } => format!("(call {}{})", expr(callee), args(a)),
        MethodCall {
            receiver,
            method,
            args: a,
        } => format!("(.{} {}{})", method.name, expr(receiver), args(a)),
        Field { base, name } => format!("(. {} {})", expr(base), name.name),
        TupleField { base, index, .. } => format!("(.{index} {})", expr(base)),
        Index { base, index } => format!("(index {} {})", expr(base), expr(index)),
        Unary { op, expr: x } => {
            let op = if *op == UnOp::Neg { "-" } else { "!" };
            format!("({op} {})", expr(x))
        }
        Binary { op, lhs, rhs } => format!("({} {} {})", op.symbol(), expr(lhs), expr(rhs)),
        Range { lo, hi } => format!("(.. {} {})", expr(lo), expr(hi)),
        If { cond, then, else_ } => match else_ {
            Some(e) => format!("(if {} {} else {})", expr(cond), block(then), expr(e)),
            None => format!("(if {} {})", expr(cond), block(then)),
        },
        Match { scrutinee, arms } => {
            let arms: String = arms
                .iter()
                .map(|a| {
                    let g = a
                        .guard
                        .as_ref()
                        .map(|g| format!(" if {}", expr(g)))
                        .unwrap_or_default();
                    format!(" ({}{g} => {})", pattern(&a.pat), expr(&a.body))
                })
                .collect();
            format!("(match {}{arms})", expr(scrutinee))
        }
        Block(b) => block(b),
        While { cond, body } => format!("(while {} {})", expr(cond), block(body)),
        For { pat, iter, body } => format!("(for {} {} {})", pattern(pat), expr(iter), block(body)),
        Break => "break".into(),
        Continue => "continue".into(),
        Return(None) => "(return)".into(),
        Return(Some(e)) => format!("(return {})", expr(e)),
        Tuple(xs) => format!(
            "(tuple{})",
            xs.iter()
                .map(|x| format!(" {}", expr(x)))
                .collect::<String>()
        ),
        List(xs) => format!("[{}]", list(xs, expr)),
        Record { name, fields: fs } => format!("({}{})", name.name, fields(fs)),
        RecordUpdate { base, fields: fs } => format!("(update {}{})", expr(base), fields(fs)),
        New {
            ty: t,
            args: a,
            body,
            handler,
        } => match (body, handler) {
            (Some(b), _) => format!("(new {}{} {})", ty(t), args(a), block(b)),
            (None, Some(h)) => format!("(new {}{} {})", ty(t), args(a), expr(h)),
            (None, None) => format!("(new {}{})", ty(t), args(a)),
        },
        Lambda { params, ret, body } => {
            let ps: String = params
                .iter()
                .map(|p| match &p.ty {
                    Some(t) => format!(" {}:{}", p.name.name, ty(t)),
                    None => format!(" {}", p.name.name),
                })
                .collect();
            let ret = ret
                .as_ref()
                .map(|t| format!(" -> {}", ty(t)))
                .unwrap_or_default();
            format!("(lambda{ps}{ret} {})", expr(body))
        }
        Question(x) => format!("(? {})", expr(x)),
        Try(x) => format!("(try {})", expr(x)),
        Send(x) => format!("(send {})", expr(x)),
    }
}

pub(super) fn pattern(p: &Pattern) -> String {
    match &p.kind {
        PatternKind::Wildcard => "_".into(),
        PatternKind::Bind(i) => i.name.clone(),
        PatternKind::Lit(LitPattern::Int(v)) => v.to_string(),
        PatternKind::Lit(LitPattern::Float(v)) => format!("{v:?}"),
        PatternKind::Lit(LitPattern::Str(s)) => format!("{s:?}"),
        PatternKind::Lit(LitPattern::Bool(b)) => b.to_string(),
        PatternKind::Tuple(ps) => format!("({})", list(ps, pattern)),
        PatternKind::Record { name, fields, rest } => {
            let mut fs: Vec<String> = fields
                .iter()
                .map(|(n, p)| match p {
                    Some(p) => format!("{}: {}", n.name, pattern(p)),
                    None => n.name.clone(),
                })
                .collect();
            if *rest {
                fs.push("..".into());
            }
            let name = name.as_ref().map(|n| n.name.as_str()).unwrap_or("");
            format!("{name}{{{}}}", fs.join(", "))
        }
        PatternKind::Variant { path, name, args } => {
            let mut s: String = path.iter().map(|p| format!("{}::", p.name)).collect();
            s.push_str(&name.name);
            if !args.is_empty() {
                s.push_str(&format!("({})", list(args, pattern)));
            }
            s
        }
    }
}
