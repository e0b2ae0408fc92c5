//! Hot swap: compares the manifest of a running program with a new version's and
//! classifies every change, and plans how each agent's stored lanes move across.
//!
//! [`check`] is the whole crate: a pure function from two [`Manifest`]s to a [`Report`],
//! cheap enough to run on every `weft patch` and on every node that is asked to take one.
//! The classification follows what a user of Erlang releases, Orleans grains or a
//! Kubernetes rollout would expect: adding is free, removing what someone may still use
//! is a warning, and changing what the running version still depends on (its callers,
//! its stored data, its URIs) without a way across is breaking.
//!
//! What it does not do: it reads no stored data (a removed enum variant that stored
//! values still use is caught by the node before it swaps), runs no code (migrations
//! and field defaults are exports the node calls), applies nothing, and cannot see into
//! function bodies: a method whose signature stayed the same is no change here, however
//! different its body.
//!
//! Types are compared structurally across the two manifests: each names its records
//! and enums by index into its own [`Manifest::types`], so a type is the same when the
//! names and shapes it reaches are, whatever their indices (`shapes`).

mod diff;
mod render;
mod shapes;

use serde::{Deserialize, Serialize};
use weft_compiler::manifest::{AdtDesc, Manifest, TypeDesc};

/// Whether `a` (its records and enums in `a_types`) and `b` (in `b_types`) are the same
/// type structurally: the same names and shapes all the way down, so bytes written as
/// one read back as the other. A resource's element type must be, across programs.
pub fn same_type(a_types: &[AdtDesc], a: &TypeDesc, b_types: &[AdtDesc], b: &TypeDesc) -> bool {
    shapes::Shapes::new(a_types, b_types).fit(a, b).same()
}

/// A type as Weft writes it, its records and enums named from `types`.
pub fn show_type(types: &[AdtDesc], ty: &TypeDesc) -> String {
    shapes::show(types, ty)
}

/// Compares the running version `old` with the candidate `new`: every change, classified,
/// and for each agent type in both, what happens to each of its stored lanes.
pub fn check(old: &Manifest, new: &Manifest) -> Report {
    diff::check(old, new)
}

/// The outcome of [`check`]. A patch may go ahead only when it is not breaking
/// ([`Report::breaking`]); the lane plans assume it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Grouped by agent (in the running version's order, then added agents), then the
    /// record and enum types whose stored shape changed, each listed once.
    pub changes: Vec<Change>,
    /// One per agent type present in both versions, in the running version's order.
    pub agents: Vec<AgentPlan>,
}

impl Report {
    /// Whether any change is [`Class::Breaking`]: the patch must be refused.
    pub fn breaking(&self) -> bool {
        self.changes.iter().any(|c| c.class == Class::Breaking)
    }

    /// The classified diff for a terminal: one line per change (its class, then its
    /// message), then its notes indented beneath it. Empty when nothing changed.
    pub fn render(&self) -> String {
        render::render(self)
    }
}

/// One difference between the two versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub class: Class,
    /// What changed, for grouping and filtering: `agent Room`, `lane Counter.count`,
    /// `method Counter.incr`, `command Chat.post`, `demand Counter.doubled`,
    /// `timer Counter.every 5s`, `on start Counter`, `type Link`.
    pub subject: String,
    /// One sentence naming the subject and both sides, in Weft's syntax:
    /// "method `Counter.incr` changed from `(by: Int) -> Int` to `() -> Int`".
    pub message: String,
    /// Why it matters and what to do: the running version's call sites, declaration
    /// places, the migration to declare.
    pub notes: Vec<String>,
}

/// How a change affects a running system, mildest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Class {
    /// Something new; nothing running depends on it.
    Added,
    /// Different but compatible: stored data converts, callers keep working.
    Changed,
    /// Compatible for this program, but something outside it (an HTTP client, a linked
    /// client, a stored value) may notice.
    Warning,
    /// The running version (its callers, its stored data, its URIs) cannot cross.
    Breaking,
}

/// One per agent type present in both versions (matched by name): what happens to each
/// lane stored by the old version, and to each lane only the new one has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentPlan {
    pub agent: String,
    /// The new version's lanes in declaration order, then the removed ones.
    pub lanes: Vec<LanePlan>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LanePlan {
    pub lane: String,
    pub action: LaneAction,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LaneAction {
    /// The same type structurally: stored bytes stay as they are.
    Keep,
    /// A new lane: it starts at its initial value.
    Add,
    /// Gone: its stored data stays until pruned.
    Remove,
    /// A compatible shape change (record fields added with defaults, removed or
    /// reordered; enum variants added, removed or reordered): each stored value is
    /// converted structurally. `from` indexes the old manifest's `types`, `to` the new
    /// one's. A lane whose change is [`Class::Breaking`] also gets `Convert` (the
    /// conversion that would be needed and is not possible); such a plan is never run,
    /// as the report refuses the patch.
    Convert { from: TypeDesc, to: TypeDesc },
    /// By the new version's `migrate` declaration whose `from` matches the stored type
    /// structurally: `export` converts, `undo` converts back. `from` is the stored type
    /// and indexes the old manifest's `types` (the declaration's own `from`, in the new
    /// manifest's terms, has the same wire form).
    Migrate {
        export: String,
        undo: Option<String>,
        from: TypeDesc,
    },
}
