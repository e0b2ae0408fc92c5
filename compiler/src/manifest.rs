//! The program manifest: what a compiled module offers the node that runs it (its
//! agents, their lanes, methods, commands, demands, timers and lane migrations) and the
//! type descriptors of every value that crosses the module's boundary, in the wire format
//! below, with the exports computing record field defaults; and, for a patch to compare
//! against, every call to an agent method in the program and where each part is declared.
//!
//! # Wire format
//! A value crosses between a module and its host (arguments, results, lane values,
//! sends) as bytes, little-endian, driven by its [`TypeDesc`]:
//! - `Int`, `Duration`: 8 bytes, two's complement; `Float`: the 8 bytes of its IEEE bits;
//!   `Bool`: 1 byte, 0 or 1; `Unit`: nothing.
//! - `String`, `Bytes`, and an agent reference (its URI): a u32 byte count, then the bytes
//!   (UTF-8 for strings).
//! - `List`: a u32 element count, then the elements; `Map`: a u32 entry count, then each
//!   key followed by its value, in iteration order.
//! - tuples and records: their fields in order; enums: a u32 variant index, then that
//!   variant's fields.

mod calls;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use weft_lang::source::{SourceMap, Span};
use weft_lang::tir::{self, AdtKind, FuncId, Program};
use weft_lang::types::Ty;

/// The type of a value that crosses the boundary. Records and enums (which may be
/// recursive) are named by their index in [`Manifest::types`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TypeDesc {
    Int,
    Float,
    Bool,
    String,
    Bytes,
    Unit,
    Duration,
    List(Box<TypeDesc>),
    Map(Box<TypeDesc>, Box<TypeDesc>),
    Tuple(Vec<TypeDesc>),
    /// A record or enum: an index into [`Manifest::types`].
    Adt(u32),
    /// A reference to an agent of the named type.
    Agent(String),
    /// A handle on a resource, by its type as written (`QueueService<Job>`); on the wire,
    /// the resource's full name as a string.
    Resource(String),
}

/// One monomorphic record or enum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdtDesc {
    /// As Weft prints the type: `Point`, `Option<Int>`, `Tree<String>`.
    pub name: String,
    pub shape: AdtShape,
    /// The record fields declared with a default (`hits: Int = 0`), each with the export
    /// that computes it: `() -> value` in the wire format. A stored value written before
    /// the field existed gets it from here when a patch migrates it.
    #[serde(default)]
    pub defaults: Vec<FieldDefault>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDefault {
    pub field: String,
    pub export: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdtShape {
    /// Field names and types, in declaration order.
    Record(Vec<(String, TypeDesc)>),
    /// Variant names and their fields' types, in declaration order.
    Enum(Vec<(String, Vec<TypeDesc>)>),
}

/// Everything a node needs to host a module's agents.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub agents: Vec<AgentDesc>,
    pub types: Vec<AdtDesc>,
    /// Every call and send of an agent method in the program's code, so a patch that
    /// removes or changes a method the running code still calls is refused.
    #[serde(default)]
    pub calls: Vec<CallSite>,
    /// Functions exported for the host to call for their result (`Options::entries`).
    #[serde(default)]
    pub entries: Vec<EntryDesc>,
    /// Every `new` of a resource, by the site index `resource_new` is called with.
    #[serde(default)]
    pub resources: Vec<ResourceDesc>,
}

/// One `new R("name", ...)` in the program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDesc {
    /// The kind's type name: `QueueService`, `Table`.
    pub kind: String,
    /// The name as written (`jobs`, or `program/jobs` for another program's).
    pub name: String,
    /// The whole type as written: `QueueService<Job>`.
    pub ty: String,
    /// The type arguments, self-contained: their records and enums are in `types`.
    pub args: Vec<TypeDesc>,
    pub types: Vec<AdtDesc>,
    /// The settings passed after the name, in order (each an `Int` or `Duration`).
    pub settings: Vec<String>,
    /// Where: `file:line:col`.
    pub at: String,
    /// A Cell's event handlers (their types are in `types` too).
    #[serde(default)]
    pub handlers: Vec<HandlerDesc>,
}

/// `on jobs |job| { ... }` in a Cell: the entry that handles one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerDesc {
    /// The exported entry (`cell workers.on 0`): its arguments are the captures, then
    /// the message.
    pub export: String,
    /// What it handles: `queue`, `http` or `tick`.
    #[serde(default = "queue_event")]
    pub event: String,
    /// A Cell's `every` timer's period in nanoseconds; 0 otherwise.
    #[serde(default)]
    pub period_ns: i64,
    /// The source as written (`jobs`; `request`, `every`).
    pub source: String,
    /// The message's type (`Unit` for a tick).
    pub msg: TypeDesc,
    /// The types of the values the handler captured, in order.
    pub captures: Vec<TypeDesc>,
    /// What it gives back (an HTTP handler's `Response`; else `Unit`).
    #[serde(default = "unit_desc")]
    pub reply: TypeDesc,
    /// Where: `file:line:col`.
    pub at: String,
}

fn queue_event() -> String {
    "queue".into()
}

fn unit_desc() -> TypeDesc {
    TypeDesc::Unit
}

/// The export of handler `k` of the Cell named `cell`.
pub fn handler_export(cell: &str, k: usize) -> String {
    format!("cell {cell}.on {k}")
}

/// `roots` (in terms of `types`) and the records and enums they reach, in a table of
/// their own: what a resource records as its type, to compare with another program's.
pub fn closed_types(types: &[AdtDesc], roots: &[TypeDesc]) -> (Vec<TypeDesc>, Vec<AdtDesc>) {
    fn walk(
        ty: &TypeDesc,
        types: &[AdtDesc],
        map: &mut HashMap<u32, u32>,
        out: &mut Vec<AdtDesc>,
    ) -> TypeDesc {
        match ty {
            TypeDesc::List(t) => TypeDesc::List(Box::new(walk(t, types, map, out))),
            TypeDesc::Map(k, v) => TypeDesc::Map(
                Box::new(walk(k, types, map, out)),
                Box::new(walk(v, types, map, out)),
            ),
            TypeDesc::Tuple(ts) => {
                TypeDesc::Tuple(ts.iter().map(|t| walk(t, types, map, out)).collect())
            }
            TypeDesc::Adt(i) => {
                if let Some(&j) = map.get(i) {
                    return TypeDesc::Adt(j);
                }
                let Some(def) = types.get(*i as usize) else {
                    return TypeDesc::Unit;
                };
                let j = out.len() as u32;
                map.insert(*i, j);
                out.push(def.clone());
                let shape = match &def.shape {
                    AdtShape::Record(fs) => AdtShape::Record(
                        fs.iter()
                            .map(|(n, t)| (n.clone(), walk(t, types, map, out)))
                            .collect(),
                    ),
                    AdtShape::Enum(vs) => AdtShape::Enum(
                        vs.iter()
                            .map(|(n, fs)| {
                                (
                                    n.clone(),
                                    fs.iter().map(|t| walk(t, types, map, out)).collect(),
                                )
                            })
                            .collect(),
                    ),
                };
                out[j as usize].shape = shape;
                TypeDesc::Adt(j)
            }
            t => t.clone(),
        }
    }
    let mut map = HashMap::new();
    let mut out = vec![];
    let roots = roots
        .iter()
        .map(|t| walk(t, types, &mut map, &mut out))
        .collect();
    (roots, out)
}

/// A function the host may call: `(args_len) -> ()` taking no arguments, its result
/// handed back in the wire format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryDesc {
    /// The function's Weft name.
    pub name: String,
    pub export: String,
    pub result: TypeDesc,
}

/// One place in the program that calls (or sends to) an agent method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSite {
    /// The agent type and method called.
    pub agent: String,
    pub method: String,
    /// The Weft function the call is in (`main`, `Counter.incr`).
    pub caller: String,
    /// Where: `file:line:col`.
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentDesc {
    pub name: String,
    /// `/counters/:id`: literal segments and `:name` parameters.
    pub route: String,
    pub lanes: Vec<LaneDesc>,
    /// Methods (`fn`) and command lanes (`command`), callable from outside.
    pub methods: Vec<MethodDesc>,
    pub demands: Vec<DemandDesc>,
    /// The export that runs `on start`, if the agent has one.
    pub on_start: Option<String>,
    pub timers: Vec<TimerDesc>,
    /// Lane migrations (`migrate count(old: Int) -> Float { ... }`), applied by a patch
    /// to lanes whose stored type is the migration's `from`.
    #[serde(default)]
    pub migrations: Vec<MigrationDesc>,
    /// Where it is declared: `file:line:col` (empty when unknown).
    #[serde(default)]
    pub at: String,
}

/// `migrate LANE(old: FROM) -> TO { ... } [undo(new) { ... }]`: how a lane stored as
/// `FROM` by an earlier version becomes the lane's type in this one (`TO`, which is the
/// lane's declared type), and, with `undo`, back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MigrationDesc {
    pub lane: String,
    /// The lane's whole type in the version migrated from.
    pub from: TypeDesc,
    /// The export that converts: `(old: FROM) -> TO` in the wire format, taking its one
    /// argument the way a method does.
    pub export: String,
    /// The export that converts back: `(new: TO) -> FROM`, when the migration declares
    /// `undo`.
    pub undo: Option<String>,
    /// Where it is declared: `file:line:col` (empty when unknown).
    #[serde(default)]
    pub at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaneKind {
    Value,
    Map,
    List,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LaneDesc {
    pub name: String,
    pub kind: LaneKind,
    /// The lane's whole type: `Int`, `Map<String, Int>`, `List<String>`.
    pub ty: TypeDesc,
    /// The export that computes the initial value, for a lane declared with one; lanes
    /// without start empty (maps, lists) or at their type's zero.
    pub init: Option<String>,
    /// Where it is declared: `file:line:col` (empty when unknown).
    #[serde(default)]
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodDesc {
    pub name: String,
    /// A `command` lane: one-way, its result is `Unit` and nobody waits for it.
    pub command: bool,
    pub params: Vec<ParamDesc>,
    pub result: TypeDesc,
    /// The export to call: `(args: bytes) -> bytes` in the wire format (the arguments as
    /// a tuple of the parameters, or nothing for none).
    pub export: String,
    /// Where it is declared: `file:line:col` (empty when unknown).
    #[serde(default)]
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamDesc {
    pub name: String,
    pub ty: TypeDesc,
    /// Whether the parameter has a default (the export fills it in when absent).
    pub default: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DemandDesc {
    pub name: String,
    pub ty: TypeDesc,
    pub export: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerDesc {
    /// The period in nanoseconds.
    pub every_ns: i64,
    pub export: String,
}

impl Manifest {
    /// The agent type serving `uri`, by its route, and the route's parameters.
    pub fn route(&self, uri: &str) -> Option<(&AgentDesc, Vec<(String, String)>)> {
        self.agents
            .iter()
            .find_map(|a| route_match(&a.route, uri).map(|ps| (a, ps)))
    }

    pub fn agent(&self, name: &str) -> Option<&AgentDesc> {
        self.agents.iter().find(|a| a.name == name)
    }
}

/// Matches `uri` (its path part, without a query) against `route`: literal segments must
/// be equal, `:name` segments take any non-empty segment.
pub fn route_match(route: &str, uri: &str) -> Option<Vec<(String, String)>> {
    let (rs, us): (Vec<&str>, Vec<&str>) = (
        route.trim_matches('/').split('/').collect(),
        uri.trim_matches('/').split('/').collect(),
    );
    if rs.len() != us.len() || !uri.starts_with('/') {
        return None;
    }
    let mut params = vec![];
    for (r, u) in rs.iter().zip(&us) {
        match r.strip_prefix(':') {
            Some(name) if !u.is_empty() => params.push((name.to_string(), u.to_string())),
            Some(_) => return None,
            None if r == u => {}
            None => return None,
        }
    }
    Some(params)
}

impl AgentDesc {
    pub fn method(&self, name: &str) -> Option<&MethodDesc> {
        self.methods.iter().find(|m| m.name == name)
    }

    pub fn lane(&self, name: &str) -> Option<(usize, &LaneDesc)> {
        self.lanes.iter().enumerate().find(|(_, l)| l.name == name)
    }
}

/// How the manifest names the program's entries.
pub struct Entries<'a> {
    /// The export of an agent member's, or a migration's, function (already exported).
    pub member: &'a dyn Fn(FuncId) -> String,
    /// Exports the `() -> value` entry of a record field's default function at these type
    /// arguments, under the given name, and returns the name.
    pub default: &'a mut dyn FnMut(FuncId, &[Ty], String) -> String,
    /// Other functions exported as entries, with their exports.
    pub extra: &'a [(FuncId, String)],
}

/// Where a span is, as `file:line:col` (empty for a span outside `sources`).
fn place(sources: &SourceMap, span: Span) -> String {
    if (span.file.0 as usize) < sources.files().count() {
        sources.location(span).to_string()
    } else {
        String::new()
    }
}

/// Describes a checked program's agents, the types crossing its boundary, its calls to
/// agent methods and where each is declared.
pub fn build(prog: &Program, sources: &SourceMap, entries: Entries) -> Manifest {
    let export = entries.member;
    let mut b = Builder {
        prog,
        types: vec![],
        seen: HashMap::new(),
        default: entries.default,
    };
    let mut agents = vec![];
    for a in &prog.agents {
        let lanes = a
            .lanes
            .iter()
            .map(|l| LaneDesc {
                name: l.name.clone(),
                kind: match l.kind {
                    tir::LaneKind::Value => LaneKind::Value,
                    tir::LaneKind::Map => LaneKind::Map,
                    tir::LaneKind::List => LaneKind::List,
                },
                ty: b.desc(&l.ty),
                init: l.init.map(export),
                at: place(sources, l.span),
            })
            .collect();
        let methods = a
            .methods
            .iter()
            .map(|m| {
                let def = &prog.funcs[m.func.0 as usize];
                let params = def
                    .params
                    .iter()
                    .skip(1)
                    .enumerate()
                    .map(|(i, p)| {
                        let l = &def.locals[p.0 as usize];
                        ParamDesc {
                            name: l.name.clone(),
                            ty: b.desc(&l.ty),
                            default: m.defaults.get(i).is_some_and(Option::is_some),
                        }
                    })
                    .collect();
                MethodDesc {
                    name: m.name.clone(),
                    command: m.command,
                    params,
                    result: b.desc(&def.ret),
                    export: export(m.func),
                    at: place(sources, def.span),
                }
            })
            .collect();
        let demands = a
            .demands
            .iter()
            .map(|d| DemandDesc {
                name: d.name.clone(),
                ty: b.desc(&d.ty),
                export: export(d.func),
            })
            .collect();
        let migrations = a
            .migrations
            .iter()
            .map(|mg| MigrationDesc {
                lane: a
                    .lanes
                    .get(mg.lane as usize)
                    .map(|l| l.name.clone())
                    .unwrap_or_default(),
                from: b.desc(&mg.from),
                export: export(mg.func),
                undo: mg.undo.map(export),
                at: place(sources, mg.span),
            })
            .collect();
        agents.push(AgentDesc {
            name: a.name.clone(),
            route: a.route.clone(),
            lanes,
            methods,
            demands,
            on_start: a.on_start.map(export),
            timers: a
                .timers
                .iter()
                .map(|t| TimerDesc {
                    every_ns: t.every_ns,
                    export: export(t.func),
                })
                .collect(),
            migrations,
            at: place(sources, a.span),
        });
    }
    let extra = entries
        .extra
        .iter()
        .map(|(f, export)| {
            let def = &prog.funcs[f.0 as usize];
            EntryDesc {
                name: def.name.clone(),
                export: export.clone(),
                result: b.desc(&def.ret),
            }
        })
        .collect();
    // Each site's types (its arguments, then each handler's message and captures), closed
    // over in one table.
    let sites: Vec<(usize, Vec<TypeDesc>)> = prog
        .resources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let handler_tys = s.handlers.iter().flat_map(|h| {
                std::iter::once(&h.msg)
                    .chain(&h.captures)
                    .chain(std::iter::once(&h.reply))
            });
            let roots = s.args.iter().chain(handler_tys);
            (i, roots.map(|t| b.desc(t)).collect())
        })
        .collect();
    let resources = sites
        .into_iter()
        .map(|(i, roots)| {
            let s = &prog.resources[i];
            let (mut roots, types) = closed_types(&b.types, &roots);
            let mut rest = roots.split_off(s.args.len().min(roots.len())).into_iter();
            let args = roots;
            let handlers = s
                .handlers
                .iter()
                .enumerate()
                .map(|(k, h)| HandlerDesc {
                    export: handler_export(&s.name, k),
                    event: h.event.name().to_string(),
                    period_ns: h.period_ns,
                    source: h.source.clone(),
                    msg: rest.next().unwrap_or(TypeDesc::Unit),
                    captures: rest.by_ref().take(h.captures.len()).collect(),
                    reply: rest.next().unwrap_or(TypeDesc::Unit),
                    at: place(sources, h.span),
                })
                .collect();
            ResourceDesc {
                handlers,
                kind: s.kind.type_name().to_string(),
                name: s.name.clone(),
                ty: b.show(&Ty::Resource(s.kind, s.args.clone())),
                args,
                types,
                settings: s.settings.clone(),
                at: place(sources, s.span),
            }
        })
        .collect();
    Manifest {
        agents,
        types: b.types,
        calls: calls::find(prog, sources),
        entries: extra,
        resources,
    }
}

struct Builder<'p, 'e> {
    prog: &'p Program,
    types: Vec<AdtDesc>,
    seen: HashMap<Ty, u32>,
    default: &'e mut dyn FnMut(FuncId, &[Ty], String) -> String,
}

impl Builder<'_, '_> {
    fn desc(&mut self, ty: &Ty) -> TypeDesc {
        match ty {
            Ty::Int => TypeDesc::Int,
            Ty::Float => TypeDesc::Float,
            Ty::Bool => TypeDesc::Bool,
            Ty::String => TypeDesc::String,
            Ty::Bytes => TypeDesc::Bytes,
            Ty::Duration => TypeDesc::Duration,
            Ty::List(t) => TypeDesc::List(Box::new(self.desc(t))),
            Ty::Map(k, v) => TypeDesc::Map(Box::new(self.desc(k)), Box::new(self.desc(v))),
            Ty::Tuple(ts) => TypeDesc::Tuple(ts.iter().map(|t| self.desc(t)).collect()),
            Ty::Resource(..) => TypeDesc::Resource(self.show(ty)),
            Ty::Agent(id) => TypeDesc::Agent(
                self.prog
                    .agents
                    .get(id.0 as usize)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
            ),
            Ty::Adt(id, args) => {
                if let Some(&i) = self.seen.get(ty) {
                    return TypeDesc::Adt(i);
                }
                let i = self.types.len() as u32;
                self.seen.insert(ty.clone(), i);
                let Some(def) = self.prog.adts.get(id.0 as usize) else {
                    return TypeDesc::Unit;
                };
                let name = self.show(ty);
                self.types.push(AdtDesc {
                    name,
                    shape: AdtShape::Record(vec![]),
                    defaults: vec![],
                });
                let shape = match &def.kind {
                    AdtKind::Record(fs) => AdtShape::Record(
                        fs.iter()
                            .map(|f| (f.name.clone(), self.desc(&f.ty.subst(args))))
                            .collect(),
                    ),
                    AdtKind::Enum(vs) => AdtShape::Enum(
                        vs.iter()
                            .map(|v| {
                                let fs = v.fields.iter().map(|f| self.desc(&f.subst(args)));
                                (v.name.clone(), fs.collect())
                            })
                            .collect(),
                    ),
                };
                self.types[i as usize].shape = shape;
                if let AdtKind::Record(fs) = &def.kind {
                    let name = self.types[i as usize].name.clone();
                    let defaults = fs
                        .iter()
                        .filter_map(|f| {
                            let func = f.default?;
                            let export = format!("default {name}.{}", f.name);
                            Some(FieldDefault {
                                field: f.name.clone(),
                                export: (self.default)(func, args, export),
                            })
                        })
                        .collect();
                    self.types[i as usize].defaults = defaults;
                }
                TypeDesc::Adt(i)
            }
            // Functions never cross (the checker refuses them); the rest have no values.
            Ty::Unit | Ty::Never | Ty::Fn(..) | Ty::Param(_) | Ty::Var(_) => TypeDesc::Unit,
        }
    }

    fn show(&self, ty: &Ty) -> String {
        crate::layout::ty_name(self.prog, ty)
    }
}

#[cfg(test)]
mod tests {
    use super::route_match;

    #[test]
    fn routes() {
        let p = |r, u| route_match(r, u);
        assert_eq!(
            p("/counters/:id", "/counters/a"),
            Some(vec![("id".into(), "a".into())])
        );
        assert_eq!(p("/counters/:id", "/counters/"), None);
        assert_eq!(p("/counters/:id", "/counters/a/b"), None);
        assert_eq!(
            p("/rooms/:r/users/:u", "/rooms/x/users/y").map(|v| v.len()),
            Some(2)
        );
        assert_eq!(p("/chat", "/chat"), Some(vec![]));
        assert_eq!(p("/chat", "chat"), None);
    }
}
