//! Bodies that must not touch the world: a lane migration (and its `undo`) is a function of
//! its parameter alone, and a record field's default is computed on its own. Both run
//! where no agent is at hand: a patch converts stored lanes with them before any turn.
//!
//! Their own bodies are held to it while they are checked (lanes and agent calls in
//! `lane.rs`, `self` and other fields in `expr.rs`). Once every body is checked, this pass
//! follows the functions they call, so a call or send to an agent reached through ordinary
//! functions is reported too, at the call that leads to it; and a field's default that
//! leads back to itself (`kids: List<Tree> = [Tree {}]`), which could never finish.

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{visit, Expr, ExprKind, FuncId, Intrinsic, MutCallee};
use crate::types::AdtId;
use std::collections::HashSet;

/// What kind of pure body a function is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Pure {
    /// A lane migration or its `undo`.
    Migration,
    /// The default of a field of this record.
    FieldDefault(AdtId),
}

impl Pure {
    /// What the diagnostics call it: "a migration", "a field's default".
    pub fn what(self) -> &'static str {
        match self {
            Pure::Migration => "a migration",
            Pure::FieldDefault(_) => "a field's default",
        }
    }
}

/// An edge of the call graph: the function called (or taken as a value) and where.
struct Edge {
    func: FuncId,
    span: Span,
    /// A lifted lambda: part of the function that wrote it.
    lambda: bool,
}

/// The functions `e` calls or refers to, in evaluation order.
fn edges(e: &Expr, out: &mut Vec<Edge>) {
    let edge = match &e.kind {
        ExprKind::Call { func, .. } | ExprKind::FuncValue { func, .. } => Some((*func, false)),
        ExprKind::Closure { func, .. } => Some((*func, true)),
        ExprKind::MutCall {
            callee: MutCallee::Func { func, .. },
            ..
        } => Some((*func, false)),
        _ => None,
    };
    if let Some((func, lambda)) = edge {
        out.push(Edge {
            func,
            span: e.span,
            lambda,
        });
    }
    visit::children(e, &mut |c| edges(c, out));
}

/// The first call or send to an agent in `e`: where, the agent and the method.
fn agent_call(e: &Expr) -> Option<(Span, u32, u32)> {
    if let ExprKind::Intrinsic {
        op: Intrinsic::AgentCall { agent, method } | Intrinsic::AgentSend { agent, method },
        ..
    } = &e.kind
    {
        return Some((e.span, *agent, *method));
    }
    let mut found = None;
    visit::children(e, &mut |c| {
        if found.is_none() {
            found = agent_call(c);
        }
    });
    found
}

impl Checker<'_> {
    fn body_edges(&self, f: FuncId) -> Vec<Edge> {
        let mut out = vec![];
        if let Some(Some(def)) = self.bodies.get(f.0 as usize) {
            edges(&def.body, &mut out);
        }
        out
    }

    /// Reports each pure function that reaches a call or send to an agent through the
    /// functions it calls (its own direct calls were reported while it was checked).
    pub(crate) fn check_pure_reach(&mut self) {
        let roots: Vec<(FuncId, Pure)> = (self.funcs.iter().enumerate())
            .filter_map(|(i, f)| f.pure.map(|p| (FuncId(i as u32), p)))
            .collect();
        let is_root: HashSet<FuncId> = roots.iter().map(|(f, _)| *f).collect();
        for (root, pure) in roots {
            // The calls written in the body, its lambdas included.
            let mut sites = vec![];
            let mut bodies = vec![root];
            while let Some(f) = bodies.pop() {
                for e in self.body_edges(f) {
                    if e.lambda && !is_root.contains(&e.func) {
                        bodies.push(e.func);
                    } else {
                        sites.push(e);
                    }
                }
            }
            if let Pure::FieldDefault(_) = pure {
                if let Some(site) = self.leads_back(root, &sites) {
                    self.report_cycle(root, site);
                    continue;
                }
            }
            // Other pure functions report their own.
            sites.retain(|e| !is_root.contains(&e.func));
            let mut seen = HashSet::new();
            for site in sites {
                if let Some((via, at)) = self.reaches_agent(site.func, &is_root, &mut seen) {
                    self.report_reach(pure, &site, via, at);
                    break;
                }
            }
        }
    }

    /// The first call in `root`'s body from which `root` is reached again: a default that
    /// needs itself (`t: List<T> = [T {}]`) never finishes, having no input to vary.
    fn leads_back<'s>(&self, root: FuncId, sites: &'s [Edge]) -> Option<&'s Edge> {
        let mut seen = HashSet::new();
        sites.iter().find(|site| {
            let mut queue = std::collections::VecDeque::from([site.func]);
            while let Some(f) = queue.pop_front() {
                if f == root {
                    return true;
                }
                if seen.insert(f) {
                    queue.extend(self.body_edges(f).into_iter().map(|e| e.func));
                }
            }
            false
        })
    }

    fn report_cycle(&mut self, root: FuncId, site: &Edge) {
        let name = self.funcs[root.0 as usize].name.clone();
        let what = name.strip_prefix("default ").unwrap_or(&name).to_string();
        let label = if site.func == root {
            "its own default again".to_string()
        } else {
            format!(
                "`{}` leads back to it",
                self.funcs[site.func.0 as usize].name
            )
        };
        let d = Diagnostic::error(site.span, format!("the default of `{what}` needs itself"))
            .with_label(label)
            .with_hint(
                "a default computed from itself never finishes; give the field a value here",
            );
        self.error(d);
    }

    /// The first function reachable from `start` (through calls, function values and
    /// lambdas, not through other pure roots) that calls an agent itself, and that call.
    fn reaches_agent(
        &self,
        start: FuncId,
        roots: &HashSet<FuncId>,
        seen: &mut HashSet<FuncId>,
    ) -> Option<(FuncId, (Span, u32, u32))> {
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(f) = queue.pop_front() {
            if !seen.insert(f) {
                continue;
            }
            let Some(Some(def)) = self.bodies.get(f.0 as usize) else {
                continue;
            };
            if let Some(call) = agent_call(&def.body) {
                return Some((f, call));
            }
            for e in self.body_edges(f) {
                if !roots.contains(&e.func) {
                    queue.push_back(e.func);
                }
            }
        }
        None
    }

    fn report_reach(&mut self, pure: Pure, site: &Edge, via: FuncId, at: (Span, u32, u32)) {
        let name = |ck: &Self, f: FuncId| ck.funcs[f.0 as usize].name.clone();
        let (span, agent, method) = at;
        let a = &self.agents[agent as usize].def;
        let called = format!(
            "{}.{}",
            a.name,
            a.methods
                .get(method as usize)
                .map_or("?", |m| m.name.as_str())
        );
        let label = if via == site.func {
            format!("`{}` calls an agent", name(self, via))
        } else {
            format!(
                "`{}` leads to `{}`, which calls an agent",
                name(self, site.func),
                name(self, via)
            )
        };
        let d = Diagnostic::error(site.span, format!("{} cannot call agents", pure.what()))
            .with_label(label)
            .with_note(span, format!("`{called}` is called here"))
            .with_hint(format!(
                "{} runs where no agent is at hand; compute it from values alone",
                pure.what()
            ));
        self.error(d);
    }
}

impl super::body::Body<'_, '_> {
    /// Why `name` is not in scope, when the body is pure and that is the likely reason.
    pub fn not_in_pure_scope(&self, name: &str) -> Option<String> {
        match self.pure? {
            Pure::Migration if name == "self" => Some(
                "a migration has no `self`: it converts the lane's old value alone, before the agent runs"
                    .into(),
            ),
            Pure::FieldDefault(adt) => {
                let crate::tir::AdtKind::Record(fields) = &self.ck.adts[adt.0 as usize].kind
                else {
                    return None;
                };
                fields.iter().any(|f| f.name == name).then(|| {
                    format!(
                        "a field's default is computed on its own; it cannot use `{name}` or any other field"
                    )
                })
            }
            Pure::Migration => None,
        }
    }
}
