//! Lanes, matched by name within an agent: what happens to each stored lane.
//!
//! In order of preference for a lane in both versions: the same type (and kind) keeps
//! its bytes; otherwise a `migrate` declaration whose `from` is the stored type
//! converts it (one whose `from` is some other type is not for this patch: it may be
//! left over from an earlier one); otherwise a compatible shape change converts it
//! structurally; otherwise the patch is refused. The same type keeps its bytes even when
//! a migration from it is declared, so a migration left in place across later patches
//! never runs twice.

use super::Cx;
use crate::shapes::show;
use crate::{Class, LaneAction, LanePlan};
use weft_compiler::manifest::{AgentDesc, LaneDesc, LaneKind, MigrationDesc};

pub(super) fn diff(cx: &mut Cx, oa: &AgentDesc, na: &AgentDesc) -> Vec<LanePlan> {
    let mut plans = vec![];
    for nl in &na.lanes {
        let action = match oa.lane(&nl.name) {
            Some((_, ol)) => changed(cx, na, ol, nl),
            None => {
                let message = format!(
                    "lane `{}.{}: {}` added; it starts at its initial value",
                    na.name,
                    nl.name,
                    show(&cx.new.types, &nl.ty)
                );
                let subject = format!("lane {}.{}", na.name, nl.name);
                cx.push(Class::Added, subject, message, vec![]);
                LaneAction::Add
            }
        };
        plans.push(LanePlan {
            lane: nl.name.clone(),
            action,
        });
    }
    for ol in &oa.lanes {
        if na.lane(&ol.name).is_none() {
            let message = format!(
                "lane `{}.{}` removed; its stored data is kept until pruned",
                oa.name, ol.name
            );
            let subject = format!("lane {}.{}", oa.name, ol.name);
            cx.push(Class::Warning, subject, message, vec![]);
            plans.push(LanePlan {
                lane: ol.name.clone(),
                action: LaneAction::Remove,
            });
        }
    }
    plans
}

/// A lane in both versions.
fn changed(cx: &mut Cx, na: &AgentDesc, ol: &LaneDesc, nl: &LaneDesc) -> LaneAction {
    let fit = cx.shapes.fit(&ol.ty, &nl.ty);
    let kind_same = ol.kind == nl.kind;
    if kind_same && fit.same() {
        return LaneAction::Keep;
    }
    let name = format!("{}.{}", na.name, nl.name);
    let subject = format!("lane {name}");
    let (from, to) = (show(&cx.old.types, &ol.ty), show(&cx.new.types, &nl.ty));
    let (from, to) = if kind_same {
        (format!("`{from}`"), format!("`{to}`"))
    } else {
        (
            format!("{} lane `{from}`", kind_text(ol.kind)),
            format!("{} lane `{to}`", kind_text(nl.kind)),
        )
    };
    let own: Vec<&MigrationDesc> = na.migrations.iter().filter(|m| m.lane == nl.name).collect();
    if let Some(m) = own.iter().find(|m| cx.shapes.fit(&ol.ty, &m.from).same()) {
        let message = format!(
            "lane `{name}` changed from {from} to {to}, migrated by `migrate {}`{}",
            nl.name,
            at(&m.at)
        );
        cx.push(Class::Changed, subject, message, vec![]);
        return LaneAction::Migrate {
            export: m.export.clone(),
            undo: m.undo.clone(),
            from: ol.ty.clone(),
        };
    }
    cx.stores(&name, &fit.changed);
    let types: Vec<String> = fit
        .changed
        .iter()
        .map(|&p| format!("`{}`", cx.shapes.name(p)))
        .collect();
    let action = LaneAction::Convert {
        from: ol.ty.clone(),
        to: nl.ty.clone(),
    };
    match fit.class {
        Some(class @ (Class::Changed | Class::Warning)) if kind_same => {
            let message = format!(
                "lane `{name}` ({to}) keeps its stored values, converted to the new shape of {}",
                types.join(", ")
            );
            let note = format!("see {}", types_listed(&types));
            cx.push(class, subject, message, vec![note]);
        }
        _ => {
            let message =
                format!("lane `{name}` type changed from {from} to {to} without a migration");
            let notes = refused_notes(cx, na, ol, nl, &own, &types);
            cx.push(Class::Breaking, subject, message, notes);
        }
    }
    action
}

/// Why a lane cannot cross and how to let it: the types at fault, the migrations that
/// do not apply, the one to declare.
fn refused_notes(
    cx: &Cx,
    na: &AgentDesc,
    ol: &LaneDesc,
    nl: &LaneDesc,
    own: &[&MigrationDesc],
    types: &[String],
) -> Vec<String> {
    let mut notes = vec![];
    if !types.is_empty() {
        notes.push(format!("see {}", types_listed(types)));
    }
    let (old_ty, new_ty) = (show(&cx.old.types, &ol.ty), show(&cx.new.types, &nl.ty));
    for m in own {
        notes.push(format!(
            "`migrate {}`{} migrates from `{}`, not from the stored `{old_ty}`",
            nl.name,
            at(&m.at),
            show(&cx.new.types, &m.from),
        ));
    }
    notes.push(format!(
        "declare `migrate {}(old: {old_ty}) -> {new_ty} {{ ... }}` in agent `{}`",
        nl.name, na.name
    ));
    if !nl.at.is_empty() {
        notes.push(format!("declared at {}", nl.at));
    }
    notes
}

/// ` at app.weft:7:3`, or nothing for an unknown place.
fn at(place: &str) -> String {
    if place.is_empty() {
        String::new()
    } else {
        format!(" at {place}")
    }
}

fn types_listed(types: &[String]) -> String {
    let s = if types.len() == 1 { "" } else { "s" };
    format!("type{s} {}", types.join(", "))
}

fn kind_text(kind: LaneKind) -> &'static str {
    match kind {
        LaneKind::Value => "value",
        LaneKind::Map => "map",
        LaneKind::List => "list",
    }
}
