//! The walk over both manifests: agents matched by name, and for each agent in both its
//! route, lanes (`diff/lanes.rs`), methods and commands (`diff/methods.rs`), demands,
//! timers and `on start`; then the record and enum types whose stored shape changed,
//! each listed once however many lanes store it.
//!
//! Demands, timers and `on start` hold nothing stored and are called by no one in the
//! program, so nothing about them is breaking: a removed demand is a warning for the
//! clients linked to it, a removed timer or `on start` is simply gone.

mod lanes;
mod methods;

use crate::shapes::{Pair, Shapes};
use crate::{AgentPlan, Change, Class, Report};
use weft_compiler::manifest::{AgentDesc, CallSite, Manifest};

/// At most this many call sites or lanes are listed in one change's notes; the rest are
/// counted.
const NOTES_LISTED_MAX: usize = 8;

pub(crate) fn check(old: &Manifest, new: &Manifest) -> Report {
    let mut cx = Cx {
        old,
        new,
        shapes: Shapes::new(&old.types, &new.types),
        changes: vec![],
        stored: vec![],
    };
    let mut agents = vec![];
    for oa in &old.agents {
        match new.agent(&oa.name) {
            Some(na) => agents.push(cx.agent(oa, na)),
            None => cx.removed_agent(oa),
        }
    }
    for na in &new.agents {
        if old.agent(&na.name).is_none() {
            cx.added_agent(na);
        }
    }
    cx.types();
    Report {
        changes: cx.changes,
        agents,
    }
}

/// What the walk carries: both versions, the type comparison, and what it found.
pub(crate) struct Cx<'a> {
    pub old: &'a Manifest,
    pub new: &'a Manifest,
    pub shapes: Shapes<'a>,
    pub changes: Vec<Change>,
    /// Record and enum pairs whose shape changed, in the order first reached from a
    /// lane that is converted (or would need to be), with those lanes (`Room.links`).
    pub stored: Vec<(Pair, Vec<String>)>,
}

impl<'a> Cx<'a> {
    pub fn push(&mut self, class: Class, subject: String, message: String, notes: Vec<String>) {
        self.changes.push(Change {
            class,
            subject,
            message,
            notes,
        });
    }

    /// Records that lane `lane` stores the changed pairs `pairs`.
    pub fn stores(&mut self, lane: &str, pairs: &[Pair]) {
        for &pair in pairs {
            match self.stored.iter_mut().find(|(p, _)| *p == pair) {
                Some((_, lanes)) => lanes.push(lane.to_string()),
                None => self.stored.push((pair, vec![lane.to_string()])),
            }
        }
    }

    /// The running version's call sites of `agent.method`.
    pub fn callers(&self, agent: &str, method: &str) -> Vec<&'a CallSite> {
        let calls = &self.old.calls;
        calls
            .iter()
            .filter(|c| c.agent == agent && c.method == method)
            .collect()
    }

    fn agent(&mut self, oa: &AgentDesc, na: &AgentDesc) -> AgentPlan {
        self.route(oa, na);
        let lanes = lanes::diff(self, oa, na);
        methods::diff(self, oa, na);
        self.demands(oa, na);
        self.timers(oa, na);
        self.on_start(oa, na);
        AgentPlan {
            agent: na.name.clone(),
            lanes,
        }
    }

    fn route(&mut self, oa: &AgentDesc, na: &AgentDesc) {
        if oa.route == na.route {
            return;
        }
        let subject = format!("agent {}", na.name);
        if route_shape(&oa.route) == route_shape(&na.route) {
            let message = format!(
                "route parameters of `{}` renamed: `{}` is now `{}`",
                na.name, oa.route, na.route
            );
            let note = "every URI maps to the same agent as before".to_string();
            return self.push(Class::Changed, subject, message, vec![note]);
        }
        let message = format!(
            "route of `{}` changed from `{}` to `{}`",
            na.name, oa.route, na.route
        );
        let notes = vec![
            "existing URIs would map elsewhere, away from the agents stored under them".into(),
            format!("keep the route `{}` for `{}`", oa.route, na.name),
        ];
        self.push(Class::Breaking, subject, message, notes);
    }

    fn removed_agent(&mut self, oa: &AgentDesc) {
        let message = format!(
            "agent `{}` removed; its stored agents are kept but no longer served",
            oa.name
        );
        let mut callers = vec![];
        for m in &oa.methods {
            callers.extend(self.callers(&oa.name, &m.name));
        }
        let notes = caller_notes(&callers);
        self.push(Class::Warning, format!("agent {}", oa.name), message, notes);
    }

    fn added_agent(&mut self, na: &AgentDesc) {
        let message = format!("agent `{}` added at `{}`", na.name, na.route);
        let mut notes = vec![];
        let shape = route_shape(&na.route);
        let gone = self
            .old
            .agents
            .iter()
            .filter(|a| self.new.agent(&a.name).is_none());
        for oa in gone.filter(|a| route_shape(&a.route) == shape) {
            notes.push(format!(
                "it takes over the route of the removed agent `{}`; agents stored as `{}` are not converted",
                oa.name, oa.name
            ));
        }
        self.push(Class::Added, format!("agent {}", na.name), message, notes);
    }

    fn demands(&mut self, oa: &AgentDesc, na: &AgentDesc) {
        for nd in &na.demands {
            let subject = format!("demand {}.{}", na.name, nd.name);
            let Some(od) = oa.demands.iter().find(|d| d.name == nd.name) else {
                let ty = crate::shapes::show(&self.new.types, &nd.ty);
                let message = format!("demand `{}.{}: {ty}` added", na.name, nd.name);
                self.push(Class::Added, subject, message, vec![]);
                continue;
            };
            if !self.shapes.fit(&od.ty, &nd.ty).same() {
                let message = format!(
                    "demand `{}.{}` changed from `{}` to `{}`",
                    na.name,
                    nd.name,
                    crate::shapes::show(&self.old.types, &od.ty),
                    crate::shapes::show(&self.new.types, &nd.ty)
                );
                let note = "clients linked to it get values of the new type".to_string();
                self.push(Class::Warning, subject, message, vec![note]);
            }
        }
        for od in &oa.demands {
            if !na.demands.iter().any(|d| d.name == od.name) {
                let subject = format!("demand {}.{}", oa.name, od.name);
                let message = format!("demand `{}.{}` removed", oa.name, od.name);
                let note = "clients linked to it lose it".to_string();
                self.push(Class::Warning, subject, message, vec![note]);
            }
        }
    }

    /// Timers have no names: the same period is the same timer, so changing a period
    /// removes one timer and adds another.
    fn timers(&mut self, oa: &AgentDesc, na: &AgentDesc) {
        let mut old: Vec<i64> = oa.timers.iter().map(|t| t.every_ns).collect();
        let mut added = vec![];
        for t in &na.timers {
            match old.iter().position(|&ns| ns == t.every_ns) {
                Some(k) => {
                    old.remove(k);
                }
                None => added.push(t.every_ns),
            }
        }
        for ns in added {
            let every = format!("every {}", weft_lang::lexer::duration_text(ns));
            let message = format!("timer `{every}` added to `{}`", na.name);
            self.push(
                Class::Added,
                format!("timer {}.{every}", na.name),
                message,
                vec![],
            );
        }
        for ns in old {
            let every = format!("every {}", weft_lang::lexer::duration_text(ns));
            let message = format!("timer `{every}` of `{}` removed", na.name);
            self.push(
                Class::Changed,
                format!("timer {}.{every}", na.name),
                message,
                vec![],
            );
        }
    }

    fn on_start(&mut self, oa: &AgentDesc, na: &AgentDesc) {
        let subject = format!("on start {}", na.name);
        match (&oa.on_start, &na.on_start) {
            (None, Some(_)) => {
                let message = format!("`on start` added to `{}`", na.name);
                self.push(Class::Added, subject, message, vec![]);
            }
            (Some(_), None) => {
                let message = format!("`on start` of `{}` removed", na.name);
                self.push(Class::Changed, subject, message, vec![]);
            }
            _ => {}
        }
    }

    /// One change per difference in each record or enum that a lane stores.
    fn types(&mut self) {
        for (pair, lanes) in std::mem::take(&mut self.stored) {
            let subject = format!("type {}", self.shapes.name(pair));
            let store = format!("stored in {}", listed("lane", &lanes));
            for f in self.shapes.info(pair).findings.clone() {
                let mut notes = vec![store.clone()];
                notes.extend(f.notes);
                self.push(f.class, subject.clone(), f.message, notes);
            }
        }
    }
}

/// A route with its parameter names erased: two routes with the same shape map every
/// URI the same way.
fn route_shape(route: &str) -> Vec<&str> {
    let segments = route.trim_matches('/').split('/');
    segments
        .map(|s| if s.starts_with(':') { ":" } else { s })
        .collect()
}

/// One note per call site, at most [`NOTES_LISTED_MAX`], then how many more.
pub(crate) fn caller_notes(callers: &[&CallSite]) -> Vec<String> {
    let mut notes: Vec<String> = callers
        .iter()
        .take(NOTES_LISTED_MAX)
        .map(|c| {
            let at = if c.at.is_empty() { "" } else { " at " };
            format!(
                "still called by `{}`{at}{} in the running version",
                c.caller, c.at
            )
        })
        .collect();
    if callers.len() > NOTES_LISTED_MAX {
        let more = callers.len() - NOTES_LISTED_MAX;
        notes.push(format!("and {more} more call sites"));
    }
    notes
}

/// `lane `A.x``, `lanes `A.x`, `A.y``, at most [`NOTES_LISTED_MAX`] named.
fn listed(what: &str, names: &[String]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(NOTES_LISTED_MAX)
        .map(|n| format!("`{n}`"))
        .collect();
    let s = if names.len() == 1 { "" } else { "s" };
    let mut out = format!("{what}{s} {}", shown.join(", "));
    if names.len() > NOTES_LISTED_MAX {
        out.push_str(&format!(" and {} more", names.len() - NOTES_LISTED_MAX));
    }
    out
}
