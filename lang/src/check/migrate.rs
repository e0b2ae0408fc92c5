//! Lane migrations: `migrate count(old: Int) -> Float { ... } undo(new) { ... }` in an agent
//! body says how a lane stored as `Int` by an earlier version of the program becomes the
//! lane's type now, and (with `undo`) back. A patch runs them on stored lanes, so each body
//! is a function of its parameter alone: it may call ordinary functions, but it has no
//! `self`, no lanes, and calls no agents (`check/pure.rs`).
//!
//! The bodies are collected with the other members; their signatures wait for the lanes'
//! types, which say whether the migration produces the lane's type.

use super::agent::{Member, MemberKind};
use super::pure::Pure;
use super::{Checker, FuncInfo, ParamInfo, SelfKind};
use crate::ast::{self, TypeExpr};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{FuncId, MigrationDef};
use crate::types::{AgentId, Ty};
use std::rc::Rc;

/// A `migrate` member whose lane has no type yet.
pub(crate) struct Pending {
    lane: ast::Ident,
    from: TypeExpr,
    to: TypeExpr,
    func: FuncId,
    undo: Option<FuncId>,
    span: Span,
}

impl Checker<'_> {
    /// A pure member function: `param` its only parameter, no `self`. Its signature is
    /// set by [`Checker::lower_migrations`].
    fn migration_fn(
        &mut self,
        agent: AgentId,
        m: usize,
        param: ast::Param,
        ret: &TypeExpr,
        body: &ast::Block,
        span: Span,
    ) -> FuncId {
        let id = FuncId(self.funcs.len() as u32);
        let name = format!("{}.migrate", self.agents[agent.0 as usize].def.name);
        let decl = ast::FnDecl {
            doc: None,
            name: ast::Ident {
                name: name.clone(),
                span: param.span,
            },
            generics: vec![],
            params: vec![param],
            ret: Some(ret.clone()),
            body: body.clone(),
            span,
        };
        self.funcs.push(FuncInfo {
            name,
            module: m,
            generics: vec![],
            params: vec![],
            ret: Ty::Unit,
            self_kind: SelfKind::None,
            decl: Some(Rc::new(decl)),
            span,
            member: Some(Member {
                agent,
                kind: MemberKind::Migrate,
            }),
            pure: Some(Pure::Migration),
        });
        self.bodies.push(None);
        id
    }

    /// Registers `migrate` member `mg` of agent `agent` (module `m`).
    pub(crate) fn collect_migration(&mut self, agent: AgentId, m: usize, mg: &ast::MigrateDecl) {
        let func = self.migration_fn(agent, m, mg.param.clone(), &mg.to, &mg.body, mg.span);
        let undo = mg.undo.as_ref().map(|u| {
            let param = ast::Param {
                mutable: false,
                name: u.name.clone(),
                ty: mg.to.clone(),
                default: None,
                span: u.name.span,
            };
            self.migration_fn(agent, m, param, &mg.param.ty, &u.body, u.span)
        });
        self.agents[agent.0 as usize].migrations.push(Pending {
            lane: mg.lane.clone(),
            from: mg.param.ty.clone(),
            to: mg.to.clone(),
            func,
            undo,
            span: mg.span,
        });
    }

    /// Sets the signature of `f`: one parameter of type `param`, returning `ret`.
    fn migration_signature(&mut self, f: FuncId, name: String, param: Ty, ret: Ty) {
        let info = &mut self.funcs[f.0 as usize];
        let pname = info
            .decl
            .as_ref()
            .and_then(|d| d.params.first())
            .map(|p| p.name.name.clone())
            .unwrap_or_default();
        info.name = name;
        info.params = vec![ParamInfo {
            name: pname,
            ty: param,
            default: None,
            default_fn: None,
        }];
        info.ret = ret;
    }

    /// Gives agent `a`'s migrations their types, once its lanes have theirs, and checks
    /// them: a lane of this agent, its type produced, an old type that is data and not the
    /// lane's type, no two from the same type.
    pub(crate) fn lower_migrations(&mut self, a: usize) {
        let m = self.agents[a].module;
        let pending = std::mem::take(&mut self.agents[a].migrations);
        let mut done: Vec<(u32, Ty, Span)> = vec![];
        for p in pending {
            let errors = self.diags.len();
            let from = self.lower_ty(m, &[], &p.from);
            let to = self.lower_ty(m, &[], &p.to);
            let lowered = self.diags.len() == errors;
            let agent = self.agents[a].def.name.clone();
            let (lane, shown) = (&p.lane.name, self.show(&from, &[]));
            let name = format!("{agent}.migrate {lane} from {shown}");
            self.migration_signature(p.func, name, from.clone(), to.clone());
            if let Some(u) = p.undo {
                let name = format!("{agent}.undo {lane} to {shown}");
                self.migration_signature(u, name, to.clone(), from.clone());
            }
            let Some(index) = self.migrated_lane(a, &p.lane) else {
                continue;
            };
            if !lowered {
                continue;
            }
            let lane_ty = self.agents[a].def.lanes[index as usize].ty.clone();
            if to != lane_ty {
                let d = Diagnostic::error(p.to.span, "a migration must produce the lane's type")
                    .with_label(format!(
                        "expected `{}`, the type of lane `{lane}`, found `{}`",
                        self.show(&lane_ty, &[]),
                        self.show(&to, &[])
                    ))
                    .with_hint(
                        "migrate to the type the lane has now; the old type is the parameter's",
                    );
                self.error(d);
                continue;
            }
            if from == lane_ty {
                let d = Diagnostic::error(p.from.span, "nothing to migrate")
                    .with_label(format!("lane `{lane}` already has type `{shown}`"))
                    .with_hint("a migration takes the type an earlier version stored the lane as");
                self.error(d);
                continue;
            }
            self.require_serializable(&from, p.from.span, "a migration's old type");
            if let Some((_, _, first)) = done.iter().find(|(l, t, _)| *l == index && *t == from) {
                let d = Diagnostic::error(
                    p.from.span,
                    format!("lane `{lane}` already has a migration from `{shown}`"),
                )
                .with_label("a second migration from this type")
                .with_note(*first, "the first one")
                .with_hint("keep one of them: a stored value is converted one way");
                self.error(d);
                continue;
            }
            done.push((index, from.clone(), p.from.span));
            self.agents[a].def.migrations.push(MigrationDef {
                lane: index,
                from,
                func: p.func,
                undo: p.undo,
                span: p.span,
            });
        }
    }

    /// The index of the lane a migration names, or a report of why there is none.
    fn migrated_lane(&mut self, a: usize, lane: &ast::Ident) -> Option<u32> {
        let def = &self.agents[a].def;
        if let Some(i) = def.lanes.iter().position(|l| l.name == lane.name) {
            return Some(i as u32);
        }
        let other = if let Some(x) = def.methods.iter().find(|x| x.name == lane.name) {
            Some(if x.command { "a command" } else { "a method" })
        } else if def.demands.iter().any(|d| d.name == lane.name) {
            Some("a demand lane, computed and never stored")
        } else {
            None
        };
        let lanes: Vec<String> = def.lanes.iter().map(|l| format!("`{}`", l.name)).collect();
        let hint = match (other, lanes.is_empty()) {
            (_, true) => format!("`{}` has no value, map or list lanes", def.name),
            (_, false) => format!("its lanes are {}", lanes.join(", ")),
        };
        let (title, label) = match other {
            Some(what) => (
                format!("`{}` is {what}, not a lane", lane.name),
                "only value, map and list lanes are stored and migrated",
            ),
            None => (
                format!("agent `{}` has no lane `{}`", def.name, lane.name),
                "lane not found",
            ),
        };
        let d = Diagnostic::error(lane.span, title)
            .with_label(label)
            .with_hint(hint);
        self.error(d);
        None
    }
}
