//! Agent declarations: each member becomes a function of its own (`self: Agent` first,
//! named `Counter.incr` for stack traces), lanes get their types, and everything that
//! crosses between agents must be plain data. The bodies are checked like any function,
//! with the lanes in scope (`check/lane.rs`).

use super::{Checker, FuncInfo, Item, ParamInfo, SelfKind};
use crate::ast::{self, TypeExpr, TypeExprKind};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{AgentDef, AgentMethod, DemandDef, FuncId, LaneDef, LaneKind, TimerDef};
use crate::types::{AgentId, Ty};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// How deep the search for a function type goes into nested records and enums.
const SERIALIZABLE_DEPTH_MAX: u32 = 64;

/// An agent while checking: its typed-IR definition, filled in as its parts are lowered.
pub(crate) struct AgentInfo {
    pub def: AgentDef,
    pub module: usize,
    /// The written type of each lane of `def.lanes`, in the same order.
    lane_types: Vec<TypeExpr>,
    /// `migrate` members, until the lanes they name have types.
    pub migrations: Vec<super::migrate::Pending>,
}

/// What a member function is, for lowering its signature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum MemberKind {
    /// Computes the initial value of lane n (lanes are not in scope there).
    LaneInit(u32),
    Method,
    Command,
    /// Computes demand lane n.
    Demand(u32),
    OnStart,
    Timer,
    /// A migration or its `undo`: no `self`, no lanes (`check/migrate.rs`).
    Migrate,
}

/// The agent a function belongs to, and as what.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Member {
    pub agent: AgentId,
    pub kind: MemberKind,
}

/// `ChatRoom` → `chat_room`, `HTTPServer` → `http_server`: the default route's segment.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase()));
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a route cannot be matched against URIs, if it cannot.
fn route_problem(route: &str) -> Option<&'static str> {
    if !route.starts_with('/') {
        return Some("a route starts with `/`");
    }
    let segments: Vec<&str> = route[1..].split('/').collect();
    if segments.iter().any(|s| s.is_empty()) && route != "/" {
        return Some("a route has no empty segments");
    }
    if segments.contains(&":") {
        return Some("a `:` segment needs a name, like `:id`");
    }
    None
}

/// The synthesized declaration of one member function.
struct MemberFn<'a> {
    name: String,
    name_span: Span,
    params: &'a [ast::Param],
    ret: Option<TypeExpr>,
    body: ast::Block,
    span: Span,
    kind: MemberKind,
}

impl Checker<'_> {
    /// Registers agent `a` of module `m`: its name, its member functions and its lanes.
    pub(crate) fn collect_agent(&mut self, m: usize, prefix: &str, a: &ast::AgentDecl) {
        let id = AgentId(self.agents.len() as u32);
        self.define(m, &a.name, Item::Agent(id));
        let name = format!("{prefix}{}", a.name.name);
        let route = match &a.route {
            Some((r, span)) => {
                if let Some(why) = route_problem(r) {
                    let d = Diagnostic::error(*span, format!("invalid route {r:?}"))
                        .with_label(why)
                        .with_hint("write it like `\"/counters/:id\"`");
                    self.error(d);
                }
                r.clone()
            }
            None => format!("/{}/:id", snake_case(&a.name.name)),
        };
        self.agents.push(AgentInfo {
            def: AgentDef {
                name: name.clone(),
                route,
                lanes: vec![],
                methods: vec![],
                demands: vec![],
                on_start: None,
                timers: vec![],
                migrations: vec![],
                span: a.name.span,
            },
            module: m,
            lane_types: vec![],
            migrations: vec![],
        });
        let mut names: HashMap<String, (Span, bool)> = HashMap::new();
        for member in &a.members {
            self.collect_member(id, m, &a.name, member, &mut names);
        }
    }

    fn collect_member(
        &mut self,
        id: AgentId,
        m: usize,
        agent: &ast::Ident,
        member: &ast::Member,
        names: &mut HashMap<String, (Span, bool)>,
    ) {
        let aname = self.agents[id.0 as usize].def.name.clone();
        let full = |n: &str| format!("{aname}.{n}");
        match member {
            ast::Member::Lane(l) => {
                if !self.member_name(agent, &l.name, true, names) {
                    return;
                }
                let a = &self.agents[id.0 as usize];
                let index = a.def.lanes.len() as u32;
                let init = l.init.as_ref().map(|e| {
                    let body = ast::Block {
                        stmts: vec![],
                        tail: Some(Box::new(e.clone())),
                        span: e.span,
                    };
                    let mf = MemberFn {
                        name: full(&l.name.name),
                        name_span: l.name.span,
                        params: &[],
                        ret: None,
                        body,
                        span: l.span,
                        kind: MemberKind::LaneInit(index),
                    };
                    self.member_fn(id, m, agent, mf)
                });
                if l.kind == ast::LaneKind::Value && init.is_none() {
                    let file = self.sources.file(l.ty.span.file);
                    let range = l.ty.span.start as usize..l.ty.span.end as usize;
                    let ty = file.text.get(range).unwrap_or("T").to_string();
                    let d = Diagnostic::error(l.name.span, "a value lane needs an initial value")
                        .with_label("no initial value")
                        .with_hint(format!("give it one: `value {}: {ty} = ...`", l.name.name));
                    self.error(d);
                }
                let kind = match l.kind {
                    ast::LaneKind::Value => LaneKind::Value,
                    ast::LaneKind::Map => LaneKind::Map,
                    ast::LaneKind::List => LaneKind::List,
                };
                let a = &mut self.agents[id.0 as usize];
                a.def.lanes.push(LaneDef {
                    name: l.name.name.clone(),
                    kind,
                    ty: Ty::Unit,
                    init,
                    span: l.span,
                });
                a.lane_types.push(l.ty.clone());
            }
            ast::Member::Fn(f) | ast::Member::Command(f) => {
                if !self.member_name(agent, &f.name, false, names) {
                    return;
                }
                if let Some(g) = f.generics.first() {
                    let d = Diagnostic::error(g.span, "agent methods cannot be generic")
                        .with_label("a type parameter")
                        .with_hint("their arguments and results cross between agents as data of fixed types");
                    self.error(d);
                }
                let command = matches!(member, ast::Member::Command(_));
                let kind = if command {
                    MemberKind::Command
                } else {
                    MemberKind::Method
                };
                let mf = MemberFn {
                    name: full(&f.name.name),
                    name_span: f.name.span,
                    params: &f.params,
                    ret: f.ret.clone(),
                    body: f.body.clone(),
                    span: f.span,
                    kind,
                };
                let func = self.member_fn(id, m, agent, mf);
                self.agents[id.0 as usize].def.methods.push(AgentMethod {
                    name: f.name.name.clone(),
                    func,
                    command,
                    defaults: vec![],
                });
            }
            ast::Member::Demand(d) => {
                if !self.member_name(agent, &d.name, false, names) {
                    return;
                }
                let index = self.agents[id.0 as usize].def.demands.len() as u32;
                let mf = MemberFn {
                    name: full(&d.name.name),
                    name_span: d.name.span,
                    params: &[],
                    ret: Some(d.ty.clone()),
                    body: d.body.clone(),
                    span: d.span,
                    kind: MemberKind::Demand(index),
                };
                let func = self.member_fn(id, m, agent, mf);
                self.agents[id.0 as usize].def.demands.push(DemandDef {
                    name: d.name.name.clone(),
                    ty: Ty::Unit,
                    func,
                });
            }
            ast::Member::On { event, body, span } => {
                if event.name != "start" {
                    let d = Diagnostic::error(
                        event.span,
                        format!("unknown event `{}`", event.name),
                    )
                    .with_label("expected `start`")
                    .with_hint(
                        "an agent reacts to `on start` only; use a `command` for other inputs",
                    );
                    self.error(d);
                    return;
                }
                if let Some(first) = self.agents[id.0 as usize].def.on_start {
                    let first = self.funcs[first.0 as usize].span;
                    let d = Diagnostic::error(event.span, "`on start` is declared twice")
                        .with_label("declared again here")
                        .with_note(first, "first declared here");
                    self.error(d);
                    return;
                }
                let mf = MemberFn {
                    name: full("on start"),
                    name_span: event.span,
                    params: &[],
                    ret: None,
                    body: body.clone(),
                    span: *span,
                    kind: MemberKind::OnStart,
                };
                let f = self.member_fn(id, m, agent, mf);
                self.agents[id.0 as usize].def.on_start = Some(f);
            }
            ast::Member::Every {
                period_ns,
                period_span,
                body,
                span,
            } => {
                if *period_ns <= 0 {
                    let d =
                        Diagnostic::error(*period_span, "the period of `every` must be positive")
                            .with_label("not a positive duration")
                            .with_hint("write a duration such as `250ms`, `5s` or `1m`");
                    self.error(d);
                    return;
                }
                let mf = MemberFn {
                    name: full(&format!(
                        "every {}",
                        crate::lexer::duration_text(*period_ns)
                    )),
                    name_span: *period_span,
                    params: &[],
                    ret: None,
                    body: body.clone(),
                    span: *span,
                    kind: MemberKind::Timer,
                };
                let f = self.member_fn(id, m, agent, mf);
                self.agents[id.0 as usize].def.timers.push(TimerDef {
                    every_ns: *period_ns,
                    func: f,
                });
            }
            ast::Member::Migrate(mg) => self.collect_migration(id, m, mg),
        }
    }

    /// Claims a member name; reports a clash and returns false if it is taken.
    fn member_name(
        &mut self,
        agent: &ast::Ident,
        name: &ast::Ident,
        lane: bool,
        names: &mut HashMap<String, (Span, bool)>,
    ) -> bool {
        let Some(&(first, first_lane)) = names.get(&name.name) else {
            names.insert(name.name.clone(), (name.span, lane));
            return true;
        };
        let title = if lane && first_lane {
            format!("lane `{}` is declared twice", name.name)
        } else {
            format!(
                "`{}` is declared twice in agent `{}`",
                name.name, agent.name
            )
        };
        let d = Diagnostic::error(name.span, title)
            .with_label("declared again here")
            .with_note(first, "first declared here")
            .with_hint("lanes, methods, commands and demands of an agent share one namespace");
        self.error(d);
        false
    }

    /// Adds a member's function, `self: Agent` first; it is no module-level name.
    fn member_fn(&mut self, agent: AgentId, m: usize, aname: &ast::Ident, f: MemberFn) -> FuncId {
        let id = FuncId(self.funcs.len() as u32);
        let self_ty = TypeExpr {
            kind: TypeExprKind::Named {
                path: vec![],
                name: aname.clone(),
                args: vec![],
            },
            span: f.name_span,
        };
        let mut params = vec![ast::Param {
            mutable: false,
            name: ast::Ident {
                name: "self".into(),
                span: f.name_span,
            },
            ty: self_ty,
            default: None,
            span: f.name_span,
        }];
        params.extend(f.params.iter().cloned());
        let decl = ast::FnDecl {
            doc: None,
            name: ast::Ident {
                name: f.name.clone(),
                span: f.name_span,
            },
            generics: vec![],
            params,
            ret: f.ret,
            body: f.body,
            span: f.span,
        };
        self.funcs.push(FuncInfo {
            name: f.name,
            module: m,
            generics: vec![],
            params: vec![],
            ret: Ty::Unit,
            self_kind: SelfKind::Value,
            decl: Some(Rc::new(decl)),
            span: f.name_span,
            member: Some(Member {
                agent,
                kind: f.kind,
            }),
            pure: None,
        });
        self.bodies.push(None);
        id
    }

    /// Lowers the lane types of the agents of module `m` (before their members' signatures,
    /// which refer to them).
    pub(crate) fn lower_agent_lanes(&mut self, m: usize) {
        for a in 0..self.agents.len() {
            if self.agents[a].module != m {
                continue;
            }
            for l in 0..self.agents[a].lane_types.len() {
                let te = self.agents[a].lane_types[l].clone();
                let ty = self.lower_ty(m, &[], &te);
                let lane = &self.agents[a].def.lanes[l];
                let (kind, name) = (lane.kind, lane.name.clone());
                let wrong = match (kind, &ty) {
                    (LaneKind::Map, Ty::Map(..)) | (LaneKind::List, Ty::List(_)) => None,
                    (LaneKind::Map, _) => Some(("map", "Map", "Map<K, V>")),
                    (LaneKind::List, _) => Some(("list", "List", "List<T>")),
                    (LaneKind::Value, _) => None,
                };
                if let Some((kw, want, example)) = wrong {
                    let d = Diagnostic::error(
                        te.span,
                        format!("the type of a `{kw}` lane must be a `{want}`"),
                    )
                    .with_label(format!("found `{}`", self.show(&ty, &[])))
                    .with_hint(format!(
                        "declare it as `{kw} {name}: {example}`, or as a `value` lane"
                    ));
                    self.error(d);
                } else {
                    self.require_serializable(&ty, te.span, "a lane's type");
                }
                self.agents[a].def.lanes[l].ty = ty;
            }
            self.lower_migrations(a);
        }
    }

    /// The signature of a member function: `self`, then the declared parameters.
    pub(crate) fn lower_member(&mut self, f: usize, member: Member) {
        let Some(decl) = self.funcs[f].decl.clone() else {
            return;
        };
        if member.kind == MemberKind::Migrate {
            // Its signature comes with the lane's type (`lower_migrations`).
            return;
        }
        let m = self.funcs[f].module;
        let crosses = matches!(member.kind, MemberKind::Method | MemberKind::Command);
        self.check_default_order(&decl.params);
        let mut params = vec![ParamInfo {
            name: "self".into(),
            ty: Ty::Agent(member.agent),
            default: None,
            default_fn: None,
        }];
        for p in decl.params.iter().skip(1) {
            if p.name.name == "self" {
                let d = Diagnostic::error(p.name.span, "`self` is implicit in agent members")
                    .with_label("not a parameter here")
                    .with_hint("every member already has `self`, this agent's reference");
                self.error(d);
            } else if params.iter().any(|q| q.name == p.name.name) {
                self.error(Diagnostic::error(
                    p.name.span,
                    format!("parameter `{}` is declared twice", p.name.name),
                ));
            }
            let ty = self.lower_ty(m, &[], &p.ty);
            let mut default_fn = None;
            if crosses {
                self.require_serializable(&ty, p.ty.span, "a method's parameter");
                let name = self.funcs[f].name.clone();
                default_fn = self.param_default_fn(m, &name, p, ty.clone());
            }
            params.push(ParamInfo {
                name: p.name.name.clone(),
                ty,
                default: p.default.clone(),
                default_fn,
            });
        }
        if crosses {
            let defaults = params.iter().skip(1).map(|p| p.default_fn).collect();
            let a = &mut self.agents[member.agent.0 as usize].def;
            if let Some(method) = a.methods.iter_mut().find(|x| x.func.0 as usize == f) {
                method.defaults = defaults;
            }
        }
        let a = member.agent.0 as usize;
        let ret = match (member.kind, &decl.ret) {
            (MemberKind::LaneInit(l), _) => self.agents[a].def.lanes[l as usize].ty.clone(),
            (_, Some(t)) => {
                let ty = self.lower_ty(m, &[], t);
                match member.kind {
                    MemberKind::Method => {
                        self.require_serializable(&ty, t.span, "a method's result")
                    }
                    MemberKind::Demand(_) => {
                        self.require_serializable(&ty, t.span, "a demand lane's type")
                    }
                    _ => {}
                }
                ty
            }
            (_, None) => Ty::Unit,
        };
        if let MemberKind::Demand(d) = member.kind {
            self.agents[a].def.demands[d as usize].ty = ret.clone();
        }
        let info = &mut self.funcs[f];
        info.params = params;
        info.ret = ret;
        info.self_kind = SelfKind::Value;
    }

    /// Reports `ty` if a function type hides anywhere in it: only data crosses between agents.
    pub(crate) fn require_serializable(&mut self, ty: &Ty, span: Span, what: &str) {
        let Some(found) = self.function_inside(ty, &mut HashSet::new(), 0) else {
            return;
        };
        let shown = self.show(&found, &[]);
        let label = if found == *ty {
            format!("`{shown}` is a function type")
        } else {
            format!("`{}` holds the function type `{shown}`", self.show(ty, &[]))
        };
        let d = Diagnostic::error(span, format!("{what} must be serializable"))
            .with_label(label)
            .with_hint("values that cross between agents are copied as data; a function cannot be");
        self.error(d);
    }

    /// The first function type inside `ty`, through lists, maps, tuples and the fields of
    /// records and enums (agent references are data: their URI).
    fn function_inside(&self, ty: &Ty, seen: &mut HashSet<Ty>, depth: u32) -> Option<Ty> {
        match ty {
            Ty::Fn(..) => Some(ty.clone()),
            Ty::List(t) => self.function_inside(t, seen, depth),
            Ty::Map(k, v) => self
                .function_inside(k, seen, depth)
                .or_else(|| self.function_inside(v, seen, depth)),
            Ty::Tuple(ts) => ts.iter().find_map(|t| self.function_inside(t, seen, depth)),
            Ty::Adt(id, args) => {
                if depth > SERIALIZABLE_DEPTH_MAX || !seen.insert(ty.clone()) {
                    return None;
                }
                let fields: Vec<Ty> = match &self.adts[id.0 as usize].kind {
                    crate::tir::AdtKind::Record(fs) => {
                        fs.iter().map(|f| f.ty.subst(args)).collect()
                    }
                    crate::tir::AdtKind::Enum(vs) => vs
                        .iter()
                        .flat_map(|v| v.fields.iter().map(|t| t.subst(args)))
                        .collect(),
                };
                fields
                    .iter()
                    .find_map(|t| self.function_inside(t, seen, depth + 1))
            }
            _ => None,
        }
    }

    /// Two agents at the same route would make their URIs ambiguous.
    pub(crate) fn check_routes(&mut self) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for a in 0..self.agents.len() {
            let (route, span) = (self.agents[a].def.route.clone(), self.agents[a].def.span);
            if let Some(first) = seen.get(&route) {
                let d = Diagnostic::error(span, format!("two agents have the route `{route}`"))
                    .with_label("this agent")
                    .with_note(*first, "and this one")
                    .with_hint("give one of them its own route with `at \"/...\"`");
                self.error(d);
            } else {
                seen.insert(route, span);
            }
        }
    }

    /// The agent definitions, for the finished program.
    pub(crate) fn take_agents(&mut self) -> Vec<AgentDef> {
        std::mem::take(&mut self.agents)
            .into_iter()
            .map(|a| a.def)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{route_problem, snake_case};
    use crate::lexer::duration_text;

    #[test]
    fn default_route_names() {
        assert_eq!(snake_case("Counter"), "counter");
        assert_eq!(snake_case("ChatRoom"), "chat_room");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("Room2Go"), "room2_go");
    }

    #[test]
    fn periods_and_routes() {
        assert_eq!(duration_text(60_000_000_000), "1m");
        assert_eq!(duration_text(90_000_000_000), "90s");
        assert_eq!(duration_text(250_000_000), "250ms");
        assert_eq!(duration_text(7), "7ns");
        assert_eq!(route_problem("/counters/:id"), None);
        assert!(route_problem("counters").is_some());
        assert!(route_problem("/a//b").is_some());
        assert!(route_problem("/a/:").is_some());
    }
}
