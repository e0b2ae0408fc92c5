//! Methods and command lanes, matched by name within an agent.
//!
//! A signature is the parameter types by position (names are not on the wire), the
//! result type and whether it is a command. New trailing parameters with defaults keep
//! every caller working; any other difference is a signature change. Removing or
//! changing a method the running version still calls is breaking: those call sites
//! would fail mid-swap. Without such callers it is a warning, since callers outside the
//! program (HTTP clients, other programs) cannot be seen from here.

use super::{caller_notes, Cx};
use crate::shapes::show;
use crate::Class;
use weft_compiler::manifest::{AdtDesc, AgentDesc, MethodDesc, TypeDesc};

pub(super) fn diff(cx: &mut Cx, oa: &AgentDesc, na: &AgentDesc) {
    for nm in &na.methods {
        match oa.method(&nm.name) {
            Some(om) => changed(cx, na, om, nm),
            None => {
                let message = format!(
                    "{} `{}.{}` added: `{}`",
                    kind(nm),
                    na.name,
                    nm.name,
                    signature(&cx.new.types, nm)
                );
                let subject = format!("{} {}.{}", kind(nm), na.name, nm.name);
                cx.push(Class::Added, subject, message, vec![]);
            }
        }
    }
    for om in &oa.methods {
        if na.method(&om.name).is_none() {
            let message = format!("{} `{}.{}` removed", kind(om), oa.name, om.name);
            let mut notes = vec![];
            if !om.at.is_empty() {
                notes.push(format!("declared at {} in the running version", om.at));
            }
            refuse_or_warn(cx, &oa.name, om, message, notes);
        }
    }
}

/// A method in both versions.
fn changed(cx: &mut Cx, na: &AgentDesc, om: &MethodDesc, nm: &MethodDesc) {
    let mut notes = vec![];
    let mut same = om.command == nm.command;
    let mut shapes = vec![];
    let mut fits = |a: &TypeDesc, b: &TypeDesc, shapes: &mut Vec<String>| -> bool {
        let fit = cx.shapes.fit(a, b);
        for &p in &fit.changed {
            let name = format!("`{}`", cx.shapes.name(p));
            if !shapes.contains(&name) {
                shapes.push(name);
            }
        }
        fit.same()
    };
    same &= fits(&om.result, &nm.result, &mut shapes);
    for (k, op) in om.params.iter().enumerate() {
        let Some(np) = nm.params.get(k) else {
            same = false;
            continue;
        };
        same &= fits(&op.ty, &np.ty, &mut shapes);
        if op.default && !np.default {
            same = false;
            notes.push(format!("parameter `{}` no longer has a default", np.name));
        }
    }
    for np in nm.params.iter().skip(om.params.len()) {
        if !np.default {
            same = false;
            notes.push(format!("new parameter `{}` has no default", np.name));
        }
    }
    if !shapes.is_empty() {
        notes.push(format!("the shape of {} changed", shapes.join(", ")));
    }
    let (old_sig, new_sig) = (signature(&cx.old.types, om), signature(&cx.new.types, nm));
    let (from, to) = if om.command == nm.command {
        (format!("`{old_sig}`"), format!("`{new_sig}`"))
    } else {
        (
            format!("{} `{old_sig}`", kind(om)),
            format!("{} `{new_sig}`", kind(nm)),
        )
    };
    let message = format!(
        "{} `{}.{}` changed from {from} to {to}",
        kind(om),
        na.name,
        om.name
    );
    if same && nm.params.len() > om.params.len() {
        let subject = format!("{} {}.{}", kind(nm), na.name, nm.name);
        let note = "the new parameters have defaults, so existing callers keep working";
        cx.push(Class::Changed, subject, message, vec![note.into()]);
    } else if !same {
        if !nm.at.is_empty() {
            notes.push(format!("declared at {}", nm.at));
        }
        refuse_or_warn(cx, &na.name, om, message, notes);
    }
}

/// A removed or changed method: breaking while the running version calls it, else a
/// warning.
fn refuse_or_warn(cx: &mut Cx, agent: &str, om: &MethodDesc, message: String, notes: Vec<String>) {
    let subject = format!("{} {agent}.{}", kind(om), om.name);
    let callers = cx.callers(agent, &om.name);
    let (class, mut all) = if callers.is_empty() {
        let note = "the running version does not call it, but callers outside the program (HTTP clients) would fail";
        (Class::Warning, vec![note.to_string()])
    } else {
        (Class::Breaking, caller_notes(&callers))
    };
    all.extend(notes);
    cx.push(class, subject, message, all);
}

fn kind(m: &MethodDesc) -> &'static str {
    if m.command {
        "command"
    } else {
        "method"
    }
}

/// `(user: String, by: Int) -> Int`; a command, whose result is nothing, without the
/// arrow: `(text: String)`.
fn signature(types: &[AdtDesc], m: &MethodDesc) -> String {
    let params: Vec<String> = m
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, show(types, &p.ty)))
        .collect();
    let mut out = format!("({})", params.join(", "));
    if !m.command {
        out.push_str(" -> ");
        out.push_str(&show(types, &m.result));
    }
    out
}
