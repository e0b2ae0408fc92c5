//! The REPL's line editor (rustyline): history kept across sessions, more lines while
//! brackets are open, and tab completion of meta-commands, the program's names and the
//! session's bindings, an agent's methods after `.`, and agent URIs inside
//! `Agent("...`, asked of the node.

use super::open_brackets;
use crate::cli::client::{self, Target};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::Context;
use std::collections::HashMap;
use std::path::PathBuf;

/// The meta-commands, for completion.
pub const META: &[&str] = &[
    ":agents",
    ":help",
    ":link",
    ":load",
    ":nodes",
    ":patch",
    ":quit",
    ":resources",
    ":type",
];

/// What completion knows: refreshed before each line.
#[derive(Default)]
pub struct Helper {
    /// Functions, types, variants, agent types, bindings and keywords.
    pub names: Vec<String>,
    /// Each agent type's methods (and command lanes).
    pub methods: HashMap<String, Vec<String>>,
    /// Bindings whose type is an agent type: name -> agent type.
    pub agent_bindings: HashMap<String, String>,
    /// Where to ask for agent URIs.
    pub target: Option<Target>,
}

impl rustyline::Helper for Helper {}
impl Highlighter for Helper {}

impl Hinter for Helper {
    type Hint = String;
}

impl Validator for Helper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if open_brackets(ctx.input()) > 0 {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let (start, words) = self.candidates(before);
        let mut found: Vec<Pair> = words
            .into_iter()
            .filter(|w| w.starts_with(&before[start..]))
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        found.sort_by(|a, b| a.display.cmp(&b.display));
        found.dedup_by(|a, b| a.display == b.display);
        Ok((start, found))
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Helper {
    /// Where the word being completed starts in `before`, and what may go there.
    pub fn candidates(&self, before: &str) -> (usize, Vec<String>) {
        if before.starts_with(':') && !before.contains(char::is_whitespace) {
            return (0, META.iter().map(|m| m.to_string()).collect());
        }
        if let Some((start, agent)) = uri_context(before) {
            if self.methods.contains_key(agent) {
                return (start, self.uris());
            }
        }
        let start = before.rfind(|c| !is_ident(c)).map_or(0, |i| i + 1);
        let recv = &before[..start];
        if let Some(recv) = recv.strip_suffix('.') {
            let methods = match self.receiver_agent(recv) {
                Some(agent) => self.methods.get(agent).cloned().unwrap_or_default(),
                None => self.methods.values().flatten().cloned().collect(),
            };
            return (start, methods);
        }
        (start, self.names.clone())
    }

    /// The agent type of the expression `recv` ends with: a binding of an agent type, or
    /// `Agent("...")`.
    fn receiver_agent(&self, recv: &str) -> Option<&str> {
        let ident_start = recv.rfind(|c| !is_ident(c)).map_or(0, |i| i + 1);
        let last = &recv[ident_start..];
        if !last.is_empty() {
            return self.agent_bindings.get(last).map(String::as_str);
        }
        let inner = recv.strip_suffix(')')?;
        let open = inner.rfind('(')?;
        let name_start = inner[..open].rfind(|c| !is_ident(c)).map_or(0, |i| i + 1);
        let name = &inner[name_start..open];
        self.methods.get_key_value(name).map(|(k, _)| k.as_str())
    }

    /// The node's agents' URIs (none when it does not answer).
    fn uris(&self) -> Vec<String> {
        let Some(target) = &self.target else {
            return vec![];
        };
        match client::get(target, "/api/v1/agents") {
            Ok(client::Answer::Ok(json)) => json
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.get("uri").and_then(|u| u.as_str()).map(str::to_string))
                .collect(),
            _ => vec![],
        }
    }
}

/// Inside `Name("partial` (no closing quote yet): where `partial` starts, and `Name`.
fn uri_context(before: &str) -> Option<(usize, &str)> {
    let quote = before.rfind('"')?;
    if !before[..quote].matches('"').count().is_multiple_of(2) {
        return None;
    }
    let call = before[..quote].strip_suffix('(')?;
    let name_start = call.rfind(|c| !is_ident(c)).map_or(0, |i| i + 1);
    Some((quote + 1, &call[name_start..]))
}

/// Where history is kept: `$WEFT_HISTORY`, else `~/.local/state/weft/repl_history`.
pub fn history_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WEFT_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let dir = PathBuf::from(home).join(".local/state/weft");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("repl_history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> Helper {
        Helper {
            names: vec!["Counter".into(), "count".into(), "twice".into()],
            methods: HashMap::from([(
                "Counter".to_string(),
                vec!["incr".to_string(), "get".to_string()],
            )]),
            agent_bindings: HashMap::from([("c".to_string(), "Counter".to_string())]),
            target: None,
        }
    }

    #[test]
    fn completes_methods_names_and_commands() {
        let h = helper();
        assert_eq!(h.candidates("c.in"), (2, vec!["incr".into(), "get".into()]));
        let (start, ms) = h.candidates("Counter(\"/counters/a\").");
        assert_eq!((start, ms.len()), (23, 2));
        assert_eq!(h.candidates("1 + tw").0, 4);
        assert_eq!(h.candidates(":pa").1.len(), META.len());
        assert_eq!(uri_context("Counter(\"/cou"), Some((9, "Counter")));
        assert_eq!(uri_context("x(\"a\", \"b"), None);
    }
}
