//! Small constructors for manifests, so each test states only what it compares, and
//! lookups into a report.

use weft_compiler::manifest::{
    AdtDesc, AdtShape, AgentDesc, CallSite, DemandDesc, FieldDefault, LaneDesc, LaneKind, Manifest,
    MethodDesc, MigrationDesc, ParamDesc, TimerDesc, TypeDesc,
};
use weft_hotswap::{Change, Class, LaneAction, Report};

pub use TypeDesc::{Bool, Float, Int, Unit};
pub const STRING: TypeDesc = TypeDesc::String;

pub fn list(t: TypeDesc) -> TypeDesc {
    TypeDesc::List(Box::new(t))
}

pub fn map(k: TypeDesc, v: TypeDesc) -> TypeDesc {
    TypeDesc::Map(Box::new(k), Box::new(v))
}

pub fn tuple(ts: &[TypeDesc]) -> TypeDesc {
    TypeDesc::Tuple(ts.to_vec())
}

pub fn adt(i: u32) -> TypeDesc {
    TypeDesc::Adt(i)
}

pub fn manifest(agents: Vec<AgentDesc>, types: Vec<AdtDesc>) -> Manifest {
    Manifest {
        agents,
        types,
        calls: vec![],
        entries: vec![],
        resources: vec![],
    }
}

pub fn agent(name: &str, route: &str) -> AgentDesc {
    AgentDesc {
        name: name.into(),
        route: route.into(),
        lanes: vec![],
        methods: vec![],
        demands: vec![],
        on_start: None,
        timers: vec![],
        migrations: vec![],
        at: String::new(),
    }
}

/// `Counter` at `/counters/:id`, the agent most tests change.
pub fn counter() -> AgentDesc {
    agent("Counter", "/counters/:id")
}

pub fn lane(name: &str, kind: LaneKind, ty: TypeDesc) -> LaneDesc {
    LaneDesc {
        name: name.into(),
        kind,
        ty,
        init: None,
        at: String::new(),
    }
}

pub fn value(name: &str, ty: TypeDesc) -> LaneDesc {
    lane(name, LaneKind::Value, ty)
}

pub fn param(name: &str, ty: TypeDesc) -> ParamDesc {
    ParamDesc {
        name: name.into(),
        ty,
        default: false,
    }
}

pub fn defaulted(name: &str, ty: TypeDesc) -> ParamDesc {
    ParamDesc {
        default: true,
        ..param(name, ty)
    }
}

pub fn method(name: &str, params: Vec<ParamDesc>, result: TypeDesc) -> MethodDesc {
    MethodDesc {
        name: name.into(),
        command: false,
        params,
        result,
        export: format!("agent X.{name}"),
        at: String::new(),
    }
}

pub fn command(name: &str, params: Vec<ParamDesc>) -> MethodDesc {
    MethodDesc {
        command: true,
        ..method(name, params, Unit)
    }
}

pub fn migration(lane: &str, from: TypeDesc, at: &str) -> MigrationDesc {
    MigrationDesc {
        lane: lane.into(),
        from,
        export: format!("agent Counter.migrate {lane}"),
        undo: None,
        at: at.into(),
    }
}

pub fn record(name: &str, fields: &[(&str, TypeDesc)]) -> AdtDesc {
    let fields = fields.iter().map(|(f, t)| (f.to_string(), t.clone()));
    AdtDesc {
        name: name.into(),
        shape: AdtShape::Record(fields.collect()),
        defaults: vec![],
    }
}

/// `record` with defaults for the fields named in `defaults`.
pub fn record_with(name: &str, fields: &[(&str, TypeDesc)], defaults: &[&str]) -> AdtDesc {
    let mut r = record(name, fields);
    r.defaults = defaults
        .iter()
        .map(|f| FieldDefault {
            field: f.to_string(),
            export: format!("default {name}.{f}"),
        })
        .collect();
    r
}

pub fn enum_(name: &str, variants: &[(&str, &[TypeDesc])]) -> AdtDesc {
    let variants = variants.iter().map(|(v, ts)| (v.to_string(), ts.to_vec()));
    AdtDesc {
        name: name.into(),
        shape: AdtShape::Enum(variants.collect()),
        defaults: vec![],
    }
}

pub fn call(agent: &str, method: &str, caller: &str, at: &str) -> CallSite {
    CallSite {
        agent: agent.into(),
        method: method.into(),
        caller: caller.into(),
        at: at.into(),
    }
}

/// Building agents by chaining (`AgentDesc` already has `lane` and `method` lookups).
pub trait With {
    fn with_lane(self, l: LaneDesc) -> Self;
    fn with_method(self, m: MethodDesc) -> Self;
    fn with_demand(self, name: &str, ty: TypeDesc) -> Self;
    fn with_timer(self, every_ns: i64) -> Self;
    fn with_migration(self, m: MigrationDesc) -> Self;
    fn with_on_start(self) -> Self;
}

impl With for AgentDesc {
    fn with_lane(mut self, l: LaneDesc) -> Self {
        self.lanes.push(l);
        self
    }

    fn with_method(mut self, m: MethodDesc) -> Self {
        self.methods.push(m);
        self
    }

    fn with_demand(mut self, name: &str, ty: TypeDesc) -> Self {
        self.demands.push(DemandDesc {
            name: name.into(),
            ty,
            export: format!("agent {}.{name}", self.name),
        });
        self
    }

    fn with_timer(mut self, every_ns: i64) -> Self {
        self.timers.push(TimerDesc {
            every_ns,
            export: format!("agent {}.every {every_ns}ns", self.name),
        });
        self
    }

    fn with_migration(mut self, m: MigrationDesc) -> Self {
        self.migrations.push(m);
        self
    }

    fn with_on_start(mut self) -> Self {
        self.on_start = Some(format!("agent {}.on start", self.name));
        self
    }
}

/// The classes and messages of a report's changes, in order.
pub fn summary(r: &Report) -> Vec<(Class, &str)> {
    r.changes
        .iter()
        .map(|c| (c.class, c.message.as_str()))
        .collect()
}

/// The one change about `subject`; fails if there is none or more than one.
#[track_caller]
pub fn only<'r>(r: &'r Report, subject: &str) -> &'r Change {
    let found: Vec<&Change> = r.changes.iter().filter(|c| c.subject == subject).collect();
    assert_eq!(
        found.len(),
        1,
        "changes about `{subject}` in {:#?}",
        r.changes
    );
    found[0]
}

/// The plan for `agent.lane`.
#[track_caller]
pub fn action<'r>(r: &'r Report, agent: &str, lane: &str) -> &'r LaneAction {
    let plan = r.agents.iter().find(|p| p.agent == agent);
    let plan = plan.unwrap_or_else(|| panic!("no plan for `{agent}` in {:#?}", r.agents));
    let found = plan.lanes.iter().find(|l| l.lane == lane);
    &found
        .unwrap_or_else(|| panic!("no plan for `{agent}.{lane}` in {plan:#?}"))
        .action
}
