//! Every place in a program's code that calls or sends to an agent method, for
//! [`Manifest::calls`](super::Manifest::calls): a patch that removes or changes a method
//! the running code still calls can then be refused.

use super::{place, CallSite};
use std::collections::HashMap;
use weft_lang::source::SourceMap;
use weft_lang::tir::{visit, Expr, ExprKind, FuncId, Intrinsic, Program};

/// The calls and sends in every function of `prog` (tests, lambdas and defaults
/// included), function by function, each in evaluation order. A call through `self` is a
/// direct call of the member's function and is listed too.
pub(super) fn find(prog: &Program, sources: &SourceMap) -> Vec<CallSite> {
    let mut members: HashMap<FuncId, (usize, usize)> = HashMap::new();
    for (a, agent) in prog.agents.iter().enumerate() {
        for (m, method) in agent.methods.iter().enumerate() {
            members.insert(method.func, (a, m));
        }
    }
    let mut out = vec![];
    for def in &prog.funcs {
        let mut found = vec![];
        walk(&def.body, &members, &mut found);
        for (at, a, m) in found {
            let Some(agent) = prog.agents.get(a) else {
                continue;
            };
            let Some(method) = agent.methods.get(m) else {
                continue;
            };
            out.push(CallSite {
                agent: agent.name.clone(),
                method: method.name.clone(),
                caller: def.name.clone(),
                at: place(sources, at),
            });
        }
    }
    out
}

fn walk(
    e: &Expr,
    members: &HashMap<FuncId, (usize, usize)>,
    out: &mut Vec<(weft_lang::source::Span, usize, usize)>,
) {
    match &e.kind {
        ExprKind::Intrinsic {
            op: Intrinsic::AgentCall { agent, method } | Intrinsic::AgentSend { agent, method },
            ..
        } => out.push((e.span, *agent as usize, *method as usize)),
        ExprKind::Call { func, .. } => {
            if let Some(&(a, m)) = members.get(func) {
                out.push((e.span, a, m));
            }
        }
        _ => {}
    }
    visit::children(e, &mut |c| walk(c, members, out));
}
