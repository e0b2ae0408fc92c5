//! Structural comparison of types across two manifests, and how they print.
//!
//! Each manifest names its records and enums by index into its own `types` table, so an
//! index means nothing across versions: a type in the old manifest and one in the new
//! are compared by walking both, and where both reach a record or enum they are matched
//! by name and their shapes compared. The walk outside records and enums ([`Shapes::fit`])
//! only collects the pairs of records and enums it reaches; each pair's own shape is
//! compared once ([`PairInfo`], memoized) and names the pairs its fields reach, so a
//! recursive type (a `Tree` whose variants hold `Tree`s) is a cycle in a finite graph of
//! pairs, not an infinite descent.
//!
//! A pair's comparison yields findings: what a stored value of the old shape needs to
//! become one of the new (a default for a new field, dropping a removed field, the
//! check that no stored value uses a removed variant) or why it cannot.

use crate::Class;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use weft_compiler::manifest::{AdtDesc, AdtShape, TypeDesc};

/// A record or enum of the old manifest and one of the new with the same name, by
/// their indices in their own tables.
pub(crate) type Pair = (u32, u32);

/// One difference between the two shapes of a record or enum.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub class: Class,
    pub message: String,
    pub notes: Vec<String>,
}

/// What comparing one pair found: its own differences and the pairs its fields reach.
#[derive(Clone, Debug, Default)]
pub(crate) struct PairInfo {
    pub findings: Vec<Finding>,
    pub children: Vec<Pair>,
}

/// How an old type relates to a new one.
#[derive(Clone, Debug)]
pub(crate) struct Fit {
    /// The pairs reached (transitively) whose shapes differ, in the order first reached.
    pub changed: Vec<Pair>,
    /// The worst class of what differs: `None` when the types are the same structurally
    /// (stored bytes of one are bytes of the other), `Breaking` when they differ outside
    /// records and enums (other scalars, other shapes of lists, maps and tuples, other
    /// agent types, records and enums of other names).
    pub class: Option<Class>,
}

impl Fit {
    pub fn same(&self) -> bool {
        self.class.is_none()
    }
}

/// The two tables, and every pair compared so far.
pub(crate) struct Shapes<'a> {
    pub old: &'a [AdtDesc],
    pub new: &'a [AdtDesc],
    pairs: HashMap<Pair, PairInfo>,
}

impl<'a> Shapes<'a> {
    pub fn new(old: &'a [AdtDesc], new: &'a [AdtDesc]) -> Self {
        Shapes {
            old,
            new,
            pairs: HashMap::new(),
        }
    }

    /// Compares `a` (in the old table's terms) with `b` (in the new table's).
    pub fn fit(&mut self, a: &TypeDesc, b: &TypeDesc) -> Fit {
        let mut reached = vec![];
        let outer = self.walk(a, b, &mut reached);
        let mut seen: HashSet<Pair> = HashSet::new();
        let mut changed = vec![];
        let mut class = (!outer).then_some(Class::Breaking);
        // Depth-first over the graph of pairs, which may have cycles; each pair once.
        let mut stack: Vec<Pair> = reached.into_iter().rev().collect();
        while let Some(pair) = stack.pop() {
            if !seen.insert(pair) {
                continue;
            }
            let info = self.info(pair);
            if let Some(worst) = info.findings.iter().map(|f| f.class).max() {
                class = class.max(Some(worst));
                changed.push(pair);
            }
            stack.extend(info.children.iter().rev().copied());
        }
        Fit { changed, class }
    }

    /// What comparing `pair` found (computed once).
    pub fn info(&mut self, pair: Pair) -> &PairInfo {
        if !self.pairs.contains_key(&pair) {
            let info = self.compare(pair);
            self.pairs.insert(pair, info);
        }
        &self.pairs[&pair]
    }

    /// The name of a pair (the new side's; both sides have the same).
    pub fn name(&self, pair: Pair) -> &str {
        self.new
            .get(pair.1 as usize)
            .map(|t| t.name.as_str())
            .unwrap_or("?")
    }

    /// Whether `a` and `b` agree outside records and enums; pushes the pairs of records
    /// and enums reached onto `pairs`. Walks both sides fully, so a mismatch in one
    /// tuple element still reaches the pairs in the others.
    fn walk(&self, a: &TypeDesc, b: &TypeDesc, pairs: &mut Vec<Pair>) -> bool {
        use TypeDesc as T;
        match (a, b) {
            (T::List(x), T::List(y)) => self.walk(x, y, pairs),
            (T::Map(k1, v1), T::Map(k2, v2)) => {
                let k = self.walk(k1, k2, pairs);
                self.walk(v1, v2, pairs) && k
            }
            (T::Tuple(xs), T::Tuple(ys)) => {
                let elems = xs.iter().zip(ys).fold(true, |ok, (x, y)| {
                    let same = self.walk(x, y, pairs);
                    ok && same
                });
                elems && xs.len() == ys.len()
            }
            (T::Adt(i), T::Adt(j)) => {
                match (self.old.get(*i as usize), self.new.get(*j as usize)) {
                    (Some(x), Some(y)) if x.name == y.name => {
                        pairs.push((*i, *j));
                        true
                    }
                    _ => false,
                }
            }
            (T::Agent(x), T::Agent(y)) => x == y,
            (T::List(_) | T::Map(..) | T::Tuple(_) | T::Adt(_) | T::Agent(_), _) => false,
            // The rest are scalars, equal exactly when they are the same scalar.
            _ => a == b,
        }
    }

    fn compare(&self, (i, j): Pair) -> PairInfo {
        let (Some(old), Some(new)) = (self.old.get(i as usize), self.new.get(j as usize)) else {
            // `walk` pairs only indices that exist.
            return PairInfo::default();
        };
        debug_assert_eq!(old.name, new.name);
        match (&old.shape, &new.shape) {
            (AdtShape::Record(a), AdtShape::Record(b)) => self.record(new, a, b),
            (AdtShape::Enum(a), AdtShape::Enum(b)) => self.enum_(new, a, b),
            (a, b) => {
                let kind = |s: &AdtShape| match s {
                    AdtShape::Record(_) => "a record",
                    AdtShape::Enum(_) => "an enum",
                };
                let message = format!("`{}` changed from {} to {}", new.name, kind(a), kind(b));
                PairInfo {
                    findings: vec![finding(Class::Breaking, message, vec![])],
                    children: vec![],
                }
            }
        }
    }

    fn record(
        &self,
        new: &AdtDesc,
        a: &[(String, TypeDesc)],
        b: &[(String, TypeDesc)],
    ) -> PairInfo {
        let name = &new.name;
        let mut info = PairInfo::default();
        for (field, ty) in b {
            let Some((_, old_ty)) = a.iter().find(|(f, _)| f == field) else {
                let found = if new.defaults.iter().any(|d| &d.field == field) {
                    let message = format!(
                        "new field `{field}: {}` of `{name}` gets its default in stored values",
                        show(self.new, ty)
                    );
                    finding(Class::Changed, message, vec![])
                } else {
                    let message = format!("new field `{field}` of `{name}` has no default");
                    let hint = format!(
                        "give it one (`{field}: {} = ...`) or declare a migration for the lanes that store `{name}`",
                        show(self.new, ty)
                    );
                    finding(Class::Breaking, message, vec![hint])
                };
                info.findings.push(found);
                continue;
            };
            if !self.walk(old_ty, ty, &mut info.children) {
                let message = format!(
                    "field `{field}` of `{name}` changed from `{}` to `{}`",
                    show(self.old, old_ty),
                    show(self.new, ty)
                );
                let hint = format!("declare a migration for the lanes that store `{name}`");
                info.findings
                    .push(finding(Class::Breaking, message, vec![hint]));
            }
        }
        for (field, ty) in a {
            if !b.iter().any(|(f, _)| f == field) {
                let message = format!(
                    "field `{field}: {}` of `{name}` removed; its stored values are dropped",
                    show(self.old, ty)
                );
                info.findings.push(finding(Class::Warning, message, vec![]));
            }
        }
        if reordered(a.iter().map(|f| &f.0), b.iter().map(|f| &f.0)) {
            let message = format!("fields of `{name}` reordered; stored values are rearranged");
            info.findings.push(finding(Class::Changed, message, vec![]));
        }
        info
    }

    fn enum_(
        &self,
        new: &AdtDesc,
        a: &[(String, Vec<TypeDesc>)],
        b: &[(String, Vec<TypeDesc>)],
    ) -> PairInfo {
        let name = &new.name;
        let mut info = PairInfo::default();
        for (variant, tys) in b {
            let Some((_, old_tys)) = a.iter().find(|(v, _)| v == variant) else {
                let message = format!(
                    "new variant `{}` of `{name}`",
                    show_variant(self.new, variant, tys)
                );
                info.findings.push(finding(Class::Changed, message, vec![]));
                continue;
            };
            let fields = old_tys.iter().zip(tys).fold(true, |ok, (x, y)| {
                let same = self.walk(x, y, &mut info.children);
                ok && same
            });
            if !fields || old_tys.len() != tys.len() {
                let message = format!(
                    "variant `{variant}` of `{name}` changed from `{}` to `{}`",
                    show_variant(self.old, variant, old_tys),
                    show_variant(self.new, variant, tys)
                );
                let hint = format!("declare a migration for the lanes that store `{name}`");
                info.findings
                    .push(finding(Class::Breaking, message, vec![hint]));
            }
        }
        for (variant, tys) in a {
            if !b.iter().any(|(v, _)| v == variant) {
                let message = format!(
                    "variant `{}` of `{name}` removed",
                    show_variant(self.old, variant, tys)
                );
                let note = format!(
                    "the patch is refused if stored data still uses `{variant}` (the node checks before swapping)"
                );
                info.findings
                    .push(finding(Class::Warning, message, vec![note]));
            }
        }
        if reordered(a.iter().map(|v| &v.0), b.iter().map(|v| &v.0)) {
            let message = format!("variants of `{name}` reordered; stored values are renumbered");
            info.findings.push(finding(Class::Changed, message, vec![]));
        }
        info
    }
}

fn finding(class: Class, message: String, notes: Vec<String>) -> Finding {
    Finding {
        class,
        message,
        notes,
    }
}

/// Whether the names both lists have come in a different order in each.
fn reordered<'s>(
    a: impl Iterator<Item = &'s String> + Clone,
    b: impl Iterator<Item = &'s String> + Clone,
) -> bool {
    let common_a = a.clone().filter(|x| b.clone().any(|y| y == *x));
    let common_b = b.clone().filter(|y| a.clone().any(|x| x == *y));
    !common_a.eq(common_b)
}

/// A type as Weft writes it, records and enums by their names in `types`.
pub(crate) fn show(types: &[AdtDesc], ty: &TypeDesc) -> String {
    let mut out = String::new();
    write_ty(types, ty, &mut out);
    out
}

fn write_ty(types: &[AdtDesc], ty: &TypeDesc, out: &mut String) {
    use TypeDesc as T;
    let name = match ty {
        T::Int => "Int",
        T::Float => "Float",
        T::Bool => "Bool",
        T::String => "String",
        T::Bytes => "Bytes",
        T::Unit => "Unit",
        T::Duration => "Duration",
        T::List(t) => {
            out.push_str("List<");
            write_ty(types, t, out);
            return out.push('>');
        }
        T::Map(k, v) => {
            out.push_str("Map<");
            write_ty(types, k, out);
            out.push_str(", ");
            write_ty(types, v, out);
            return out.push('>');
        }
        T::Tuple(ts) => {
            out.push('(');
            write_list(types, ts, out);
            return out.push(')');
        }
        T::Adt(i) => match types.get(*i as usize) {
            Some(t) => &t.name,
            None => {
                let _ = write!(out, "<unknown type #{i}>");
                return;
            }
        },
        T::Agent(name) | T::Resource(name) => name,
    };
    out.push_str(name);
}

fn write_list(types: &[AdtDesc], tys: &[TypeDesc], out: &mut String) {
    for (k, t) in tys.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        write_ty(types, t, out);
    }
}

/// A variant as a pattern shows it: `Leaf`, `Node(Tree, Int, Tree)`.
fn show_variant(types: &[AdtDesc], name: &str, fields: &[TypeDesc]) -> String {
    let mut out = name.to_string();
    if !fields.is_empty() {
        out.push('(');
        write_list(types, fields, &mut out);
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, fields: &[(&str, TypeDesc)]) -> AdtDesc {
        let fields = fields.iter().map(|(f, t)| (f.to_string(), t.clone()));
        AdtDesc {
            name: name.into(),
            shape: AdtShape::Record(fields.collect()),
            defaults: vec![],
        }
    }

    #[test]
    fn types_print_as_weft_writes_them() {
        use TypeDesc as T;
        let types = [record("Link", &[])];
        let ty = T::Map(
            Box::new(T::String),
            Box::new(T::Tuple(vec![
                T::Int,
                T::List(Box::new(T::Adt(0))),
                T::Agent("Room".into()),
                T::Duration,
            ])),
        );
        assert_eq!(
            show(&types, &ty),
            "Map<String, (Int, List<Link>, Room, Duration)>"
        );
        assert_eq!(show(&types, &T::Adt(7)), "<unknown type #7>");
        assert_eq!(
            show_variant(&types, "Node", &[T::Adt(0), T::Bytes]),
            "Node(Link, Bytes)"
        );
        assert_eq!(show_variant(&types, "Leaf", &[]), "Leaf");
    }

    #[test]
    fn a_self_referencing_record_is_one_pair_visited_once() {
        use TypeDesc as T;
        let old = [record("Node", &[("next", T::List(Box::new(T::Adt(0))))])];
        let new = [
            record("Pad", &[]),
            record("Node", &[("next", T::List(Box::new(T::Adt(1))))]),
        ];
        let mut shapes = Shapes::new(&old, &new);
        let fit = shapes.fit(&T::Adt(0), &T::Adt(1));
        assert!(fit.same());
        assert_eq!(shapes.pairs.len(), 1);
        assert_eq!(shapes.info((0, 1)).children, vec![(0, 1)]);
        assert!(!shapes.fit(&T::Adt(0), &T::Adt(0)).same());
    }

    #[test]
    fn only_the_order_of_names_both_sides_have_counts_as_reordering() {
        let names = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (a, b) = (names(&["x", "y", "z"]), names(&["w", "x", "z"]));
        assert!(!reordered(a.iter(), b.iter()));
        let c = names(&["z", "x"]);
        assert!(reordered(a.iter(), c.iter()));
    }
}
