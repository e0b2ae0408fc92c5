//! Agents inside bodies: lanes as names, writes to lanes, references, calls and sends.
//!
//! In a member of an agent a name is a local first, then a lane, then a module item.
//! Reading a lane is `LaneGet`; `count = e` is `LaneSet`; a map lane's one entry is read,
//! written and removed with the `MapLane*` intrinsics. Any other change through a lane
//! (`log.push(x)`, `p.x = 1`, `m[k].f = 1`) is checked with the lane's name bound to a
//! hidden `var` that holds the lane's value, then written back:
//! `{ var log = LaneGet; <change>; LaneSet(log) }`, so the ordinary place machinery does
//! the work. Calls through `self` are direct; calls on any other reference go to the host.

use super::body::Body;
use super::builtins;
use super::expr::{mk, unit};
use super::pure::Pure;
use super::SelfKind;
use crate::ast::{self, ExprKind as A};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{visit, Expr, ExprKind as K, Intrinsic, LaneKind, LocalId, Pat, PatKind, Stmt};
use crate::types::{AgentId, Ty};

/// Whether `e` changes local `l` in place (a mutating call or an assignment rooted at it).
fn mutates(e: &Expr, l: LocalId) -> bool {
    let here = match &e.kind {
        K::MutCall { place, .. } => place.root == l,
        K::Block { stmts, .. } => stmts
            .iter()
            .any(|s| matches!(s, Stmt::Assign { place, .. } if place.root == l)),
        _ => false,
    };
    let mut found = here;
    visit::children(e, &mut |c| found = found || mutates(c, l));
    found
}

fn intrinsic(op: Intrinsic, args: Vec<Expr>, ty: Ty, span: Span) -> Expr {
    mk(K::Intrinsic { op, args }, ty, span)
}

impl Body<'_, '_> {
    /// The lane of the enclosing agent called `name`, unless a local hides it.
    pub fn find_lane(&mut self, name: &str) -> Option<u32> {
        let agent = self.agent?;
        let i = self.ck.agents[agent.0 as usize]
            .def
            .lanes
            .iter()
            .position(|l| l.name == name)?;
        if self.lookup_local(name).is_some() {
            return None;
        }
        Some(i as u32)
    }

    fn lane_info(&self, i: u32) -> (String, LaneKind, Ty) {
        let agent = self.agent.map_or(0, |a| a.0 as usize);
        let l = &self.ck.agents[agent].def.lanes[i as usize];
        (l.name.clone(), l.kind, l.ty.clone())
    }

    /// Reports a lane used where lanes are not in scope (a lane's initial value, a migration).
    fn lane_access(&mut self, i: u32, span: Span) {
        if self.lanes {
            return;
        }
        let (name, ..) = self.lane_info(i);
        let d = Diagnostic::error(span, format!("lane `{name}` cannot be used here"));
        let d = if self.pure == Some(Pure::Migration) {
            d.with_label("in a migration")
                .with_hint("a migration converts its parameter alone; it runs before the agent does, one lane at a time")
        } else {
            d.with_label("in a lane's initial value")
                .with_hint("an initial value is computed before any lane has one; use a constant")
        };
        self.error(d);
    }

    /// `count` as a value.
    pub fn lane_read(&mut self, i: u32, span: Span) -> Expr {
        self.lane_access(i, span);
        let (_, _, ty) = self.lane_info(i);
        intrinsic(Intrinsic::LaneGet(i), vec![], ty, span)
    }

    /// The lane `e` names, when it is exactly the name of a lane of that kind.
    fn bare_lane(&mut self, e: &ast::Expr, kind: LaneKind) -> Option<u32> {
        let A::Name { path, name } = &e.kind else {
            return None;
        };
        if !path.is_empty() {
            return None;
        }
        let i = self.find_lane(&name.name)?;
        (self.lane_info(i).1 == kind).then_some(i)
    }

    /// The lane at the root of a place-shaped expression (`log`, `m[k].f`, `p.x`).
    fn lane_root(&mut self, e: &ast::Expr) -> Option<u32> {
        match &e.kind {
            A::Name { path, name } if path.is_empty() => self.find_lane(&name.name),
            A::Field { base, .. } | A::TupleField { base, .. } | A::Index { base, .. } => {
                self.lane_root(base)
            }
            _ => None,
        }
    }

    /// The key and value types of a map lane.
    fn map_lane_tys(&self, i: u32) -> (Ty, Ty) {
        match self.lane_info(i).2 {
            Ty::Map(k, v) => (*k, *v),
            _ => (Ty::Never, Ty::Never),
        }
    }

    /// `m[k]` read from a map lane: one entry from the host, a trap when it is missing.
    pub fn map_lane_index(
        &mut self,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        let i = self.bare_lane(base, LaneKind::Map)?;
        self.lane_access(i, base.span);
        let (k, v) = self.map_lane_tys(i);
        let key = self.check(index, &k);
        let opt = Ty::Adt(self.ck.option, vec![v.clone()]);
        let get = intrinsic(Intrinsic::MapLaneGet(i), vec![key], opt, span);
        Some(self.unwrap_or_trap(get, v, "key not found in map", span))
    }

    /// A method call whose receiver is a lane: a map lane's `get`, `remove`, `contains_key`
    /// and `insert` go to the host; a call that may change the lane goes through a copy.
    pub fn lane_method_call(
        &mut self,
        receiver: &ast::Expr,
        method: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        hint: Option<&Ty>,
    ) -> Option<Expr> {
        if let Some(i) = self.bare_lane(receiver, LaneKind::Map) {
            let (k, v) = self.map_lane_tys(i);
            let opt = Ty::Adt(self.ck.option, vec![v.clone()]);
            let (op, params, ret) = match method.name.as_str() {
                "get" => (Intrinsic::MapLaneGet(i), vec![k], opt),
                "remove" => (Intrinsic::MapLaneRemove(i), vec![k], opt),
                "contains_key" => (Intrinsic::MapLaneContains(i), vec![k], Ty::Bool),
                "insert" => (Intrinsic::MapLanePut(i), vec![k, v], Ty::Unit),
                _ => return self.lane_change_call(receiver, method, args, span, hint),
            };
            self.lane_access(i, receiver.span);
            self.no_named_args(args);
            if params.len() != args.len() {
                self.arity_error(params.len(), args.len(), span);
                return Some(mk(K::Unit, Ty::Never, span));
            }
            let xs = args
                .iter()
                .zip(&params)
                .map(|(a, p)| self.check(&a.value, p))
                .collect();
            return Some(intrinsic(op, xs, ret, span));
        }
        self.lane_change_call(receiver, method, args, span, hint)
    }

    fn lane_change_call(
        &mut self,
        receiver: &ast::Expr,
        method: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        hint: Option<&Ty>,
    ) -> Option<Expr> {
        let i = self.lane_root(receiver)?;
        if !self.may_mutate(&method.name) {
            return None;
        }
        Some(self.through_lane(i, span, |b| {
            b.method_call(receiver, method, args, span, hint)
        }))
    }

    /// Whether a method of this name could change its receiver (decided before the
    /// receiver's type is known, so by name: built-in or declared with `var self`).
    fn may_mutate(&self, name: &str) -> bool {
        builtins::may_mutate(name)
            || self.ck.methods.iter().any(|((_, n), fs)| {
                n == name
                    && fs
                        .iter()
                        .any(|f| self.ck.funcs[f.0 as usize].self_kind == SelfKind::Var)
            })
    }

    /// Checks `change` with lane `i`'s name bound to a `var` holding the lane's value, and
    /// writes that value back if the change touched it. The change's value is the result.
    fn through_lane(&mut self, i: u32, span: Span, change: impl FnOnce(&mut Self) -> Expr) -> Expr {
        self.lane_access(i, span);
        let (name, _, ty) = self.lane_info(i);
        self.push_scope();
        let tmp = self.declare(&name, ty.clone(), true);
        let inner = change(self);
        self.pop_scope();
        let get = intrinsic(Intrinsic::LaneGet(i), vec![], ty.clone(), span);
        let bind = Pat {
            kind: PatKind::Bind(tmp),
            ty: ty.clone(),
            span,
        };
        let mut stmts = vec![Stmt::Let {
            pat: bind,
            value: get,
        }];
        let ity = self.infer.shallow(&inner.ty);
        let tail = if !mutates(&inner, tmp) {
            inner
        } else {
            let local = mk(K::Local(tmp), ty, span);
            let set = intrinsic(Intrinsic::LaneSet(i), vec![local], Ty::Unit, span);
            if matches!(ity, Ty::Unit | Ty::Never) {
                stmts.push(Stmt::Expr(inner));
                stmts.push(Stmt::Expr(set));
                mk(K::Unit, ity.clone(), span)
            } else {
                let r = self.declare("$result", inner.ty.clone(), false);
                let rty = inner.ty.clone();
                let pat = Pat {
                    kind: PatKind::Bind(r),
                    ty: rty.clone(),
                    span,
                };
                stmts.push(Stmt::Let { pat, value: inner });
                stmts.push(Stmt::Expr(set));
                mk(K::Local(r), rty, span)
            }
        };
        let ty = tail.ty.clone();
        mk(
            K::Block {
                stmts,
                tail: Box::new(tail),
            },
            ty,
            span,
        )
    }

    /// An assignment whose target is rooted at a lane, if it is.
    pub fn lane_assign(
        &mut self,
        target: &ast::Expr,
        op: Option<ast::BinOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Option<Stmt> {
        let i = self.lane_root(target)?;
        if let A::Name { .. } = &target.kind {
            let read = self.lane_read(i, target.span);
            let ty = read.ty.clone();
            let v = self.assigned_value(op, read, &ty, value, span);
            let set = intrinsic(Intrinsic::LaneSet(i), vec![v], Ty::Unit, span);
            return Some(Stmt::Expr(set));
        }
        if let A::Index { base, index } = &target.kind {
            if self.bare_lane(base, LaneKind::Map) == Some(i) {
                return Some(Stmt::Expr(self.map_lane_put(i, index, op, value, span)));
            }
        }
        let change = |b: &mut Self| {
            let s = b.assign(target, op, value, span);
            let block = K::Block {
                stmts: vec![s],
                tail: Box::new(unit(span)),
            };
            mk(block, Ty::Unit, span)
        };
        Some(Stmt::Expr(self.through_lane(i, span, change)))
    }

    /// `m[k] = v` on a map lane; `m[k] += v` reads the entry first (the key evaluated once).
    fn map_lane_put(
        &mut self,
        i: u32,
        index: &ast::Expr,
        op: Option<ast::BinOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Expr {
        self.lane_access(i, span);
        let (k, v) = self.map_lane_tys(i);
        let key = self.check(index, &k);
        let Some(op) = op else {
            let x = self.check(value, &v);
            return intrinsic(Intrinsic::MapLanePut(i), vec![key, x], Ty::Unit, span);
        };
        let kl = self.declare("$key", k.clone(), false);
        let key_local = || mk(K::Local(kl), k.clone(), span);
        let opt = Ty::Adt(self.ck.option, vec![v.clone()]);
        let get = intrinsic(Intrinsic::MapLaneGet(i), vec![key_local()], opt, span);
        let read = self.unwrap_or_trap(get, v.clone(), "key not found in map", span);
        let x = self.assigned_value(Some(op), read, &v, value, span);
        let put = intrinsic(
            Intrinsic::MapLanePut(i),
            vec![key_local(), x],
            Ty::Unit,
            span,
        );
        let pat = Pat {
            kind: PatKind::Bind(kl),
            ty: k.clone(),
            span,
        };
        let block = K::Block {
            stmts: vec![Stmt::Let { pat, value: key }, Stmt::Expr(put)],
            tail: Box::new(unit(span)),
        };
        mk(block, Ty::Unit, span)
    }

    /// Whether `recv` is the member's own `self` (also as captured by its lambdas).
    fn is_member_self(&self, recv: &Expr) -> bool {
        let K::Local(mut id) = recv.kind else {
            return false;
        };
        if self.agent.is_none() || self.pure.is_some() {
            return false;
        }
        let mut level = self.cxs.len() - 1;
        while level > 0 {
            let cx = &self.cxs[level];
            if cx.isolated {
                return false;
            }
            match cx.captures.iter().find(|(_, inner)| *inner == id) {
                Some((outer, _)) => id = *outer,
                None => return false,
            }
            level -= 1;
        }
        id == LocalId(0)
    }

    /// `c.incr(args)` on an agent reference: a direct call through `self`, a request to
    /// the host otherwise, or (`send`) a one-way message. `None` when there is no such method.
    pub fn agent_method(
        &mut self,
        agent: AgentId,
        recv: Expr,
        method: &ast::Ident,
        args: &[ast::Arg],
        span: Span,
        send: bool,
    ) -> Option<Expr> {
        let methods = &self.ck.agents[agent.0 as usize].def.methods;
        let index = methods.iter().position(|m| m.name == method.name)?;
        let func = methods[index].func;
        if let Some(pure) = self.pure {
            let (verb, what) = if send {
                ("send to", "sends")
            } else {
                ("call", "calls")
            };
            let d = Diagnostic::error(span, format!("{} cannot {verb} agents", pure.what()))
                .with_label(format!(
                    "{what} `{}.{}`",
                    self.ck.agents[agent.0 as usize].def.name, method.name
                ))
                .with_hint(format!(
                    "{} runs where no agent is at hand; compute it from values alone",
                    pure.what()
                ));
            self.error(d);
        }
        let direct = !send && self.is_member_self(&recv);
        if direct && !self.lanes {
            let d = Diagnostic::error(
                span,
                "a lane's initial value cannot call this agent's methods",
            )
            .with_label("the lanes it would see have no values yet")
            .with_hint("compute the initial value from constants and functions");
            self.error(d);
        }
        let call = self.call_func(func, Some(recv), args, span);
        if direct {
            return Some(call);
        }
        let K::Call { args: xs, .. } = call.kind else {
            return Some(call);
        };
        let (agent, method) = (agent.0, index as u32);
        let (op, ty) = if send {
            (Intrinsic::AgentSend { agent, method }, Ty::Unit)
        } else {
            (Intrinsic::AgentCall { agent, method }, call.ty)
        };
        Some(intrinsic(op, xs, ty, span))
    }

    /// "agent `Counter` has no method `x`", with the methods it has.
    pub fn no_agent_method(&mut self, agent: AgentId, method: &ast::Ident) {
        let a = &self.ck.agents[agent.0 as usize].def;
        let names: Vec<String> = a.methods.iter().map(|m| format!("`{}`", m.name)).collect();
        let demand = a.demands.iter().any(|d| d.name == method.name);
        let hint = match names.len() {
            _ if method.name == "uri" => "an agent's URI is a field: `c.uri`".to_string(),
            _ if demand => format!(
                "`{}` is a demand lane: it is computed for the clients linked to it, not called",
                method.name
            ),
            0 => format!("`{}` has no methods or commands", a.name),
            _ => format!("its methods and commands are {}", names.join(", ")),
        };
        let d = Diagnostic::error(
            method.span,
            format!("agent `{}` has no method `{}`", a.name, method.name),
        )
        .with_label("method not found")
        .with_hint(hint);
        self.error(d);
    }

    /// `c.x` where `x` is not `uri`: an agent reference has no other fields.
    pub fn no_agent_field(&mut self, agent: AgentId, name: &ast::Ident) {
        let a = &self.ck.agents[agent.0 as usize].def;
        let hint = if a.methods.iter().any(|m| m.name == name.name) {
            format!("`{}` is a method: call it with `(...)`", name.name)
        } else if a.lanes.iter().any(|l| l.name == name.name) {
            format!(
                "lanes are read by name inside the agent (`{}`); from outside, call a method",
                name.name
            )
        } else {
            "an agent reference has one field, `uri`".to_string()
        };
        let d = Diagnostic::error(
            name.span,
            format!("no field `{}` on agent `{}`", name.name, a.name),
        )
        .with_label("unknown field")
        .with_hint(hint);
        self.error(d);
    }

    /// `send c.reset()`: a one-way call, sent when this turn commits.
    pub fn send_expr(&mut self, inner: &ast::Expr, span: Span) -> Expr {
        let wrong = |b: &mut Self, at: Span, hint: Option<&str>| {
            let mut d = Diagnostic::error(
                at,
                "`send` takes a method call on an agent, like `send c.reset()`",
            )
            .with_label("not a method call on an agent");
            if let Some(h) = hint {
                d = d.with_hint(h);
            }
            b.error(d);
            mk(K::Unit, Ty::Unit, span)
        };
        let A::MethodCall {
            receiver,
            method,
            args,
        } = &inner.kind
        else {
            if let A::Field { .. } = &inner.kind {
                let file = self.ck.sources.file(inner.span.file);
                let range = inner.span.start as usize..inner.span.end as usize;
                let text = file.text.get(range).unwrap_or("c.reset");
                let hint = format!("call the method: `send {text}(...)`");
                return wrong(self, inner.span, Some(&hint));
            }
            let _ = self.infer_expr(inner);
            return wrong(self, inner.span, None);
        };
        let recv = self.infer_expr(receiver);
        match self.infer.shallow(&recv.ty) {
            Ty::Agent(id) => match self.agent_method(id, recv, method, args, span, true) {
                Some(x) => x,
                None => {
                    self.no_agent_method(id, method);
                    mk(K::Unit, Ty::Unit, span)
                }
            },
            Ty::Never => recv,
            Ty::Var(_) => {
                self.unknown_type(recv.span);
                mk(K::Unit, Ty::Unit, span)
            }
            _ => wrong(self, receiver.span, None),
        }
    }

    /// `Counter("/counters/home")`: a reference to the agent at that URI.
    pub fn agent_ref(&mut self, agent: AgentId, args: &[ast::Arg], span: Span) -> Expr {
        self.no_named_args(args);
        let [arg] = args else {
            let a = &self.ck.agents[agent.0 as usize].def;
            let d = Diagnostic::error(
                span,
                format!("`{}(...)` takes one argument, the agent's URI", a.name),
            )
            .with_label(format!("{} given", args.len()))
            .with_hint(format!("a URI matching the route `{}`", a.route));
            self.error(d);
            return mk(K::Unit, Ty::Never, span);
        };
        let uri = self.check(&arg.value, &Ty::String);
        intrinsic(
            Intrinsic::AgentRef(agent.0),
            vec![uri],
            Ty::Agent(agent),
            span,
        )
    }
}
