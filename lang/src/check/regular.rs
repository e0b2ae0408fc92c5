//! Rejects non-regular recursive types such as `enum Nested<T> { Flat(T), Deep(Nested<List<T>>) }`:
//! a type that refers back to itself with different type arguments would need infinitely
//! many monomorphic instances, which the compiler cannot lay out.

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::tir::AdtKind;
use crate::types::{AdtId, Ty};
use std::collections::HashSet;

impl Checker<'_> {
    pub(crate) fn check_regular_adts(&mut self) {
        for root in 0..self.adts.len() {
            let id = AdtId(root as u32);
            let n = self.adts[root].generics.len() as u32;
            let identity: Vec<Ty> = (0..n).map(Ty::Param).collect();
            let mut seen = HashSet::new();
            if let Some(found) = self.returns_changed(id, id, &identity, &mut seen) {
                let name = self.adts[root].name.clone();
                let shown = self.show(&found, &self.adts[root].generics.clone());
                let d = Diagnostic::error(
                    self.adts[root].span,
                    format!("recursive type `{name}` refers to itself as `{shown}`"),
                )
                .with_label("its type arguments change on the way back")
                .with_hint(format!(
                    "a recursive type must use its own parameters unchanged, e.g. `{name}<{}>`",
                    self.adts[root].generics.join(", ")
                ));
                self.error(d);
            }
        }
    }

    /// Walks the fields of `adt` at `args`; returns how `root` is reached again with
    /// arguments other than its own parameters, if it is.
    fn returns_changed(
        &self,
        root: AdtId,
        adt: AdtId,
        args: &[Ty],
        seen: &mut HashSet<AdtId>,
    ) -> Option<Ty> {
        if !seen.insert(adt) {
            return None;
        }
        let field_tys: Vec<Ty> = match &self.adts[adt.0 as usize].kind {
            AdtKind::Record(fs) => fs.iter().map(|f| f.ty.subst(args)).collect(),
            AdtKind::Enum(vs) => vs
                .iter()
                .flat_map(|v| v.fields.iter().map(|t| t.subst(args)))
                .collect(),
        };
        for t in field_tys {
            if let Some(found) = self.find_in(root, &t, seen) {
                return Some(found);
            }
        }
        None
    }

    fn find_in(&self, root: AdtId, t: &Ty, seen: &mut HashSet<AdtId>) -> Option<Ty> {
        match t {
            Ty::Adt(id, args) => {
                if *id == root {
                    let regular = args
                        .iter()
                        .enumerate()
                        .all(|(i, a)| *a == Ty::Param(i as u32));
                    return (!regular).then(|| t.clone());
                }
                args.iter()
                    .find_map(|a| self.find_in(root, a, seen))
                    .or_else(|| self.returns_changed(root, *id, args, seen))
            }
            Ty::List(x) => self.find_in(root, x, seen),
            Ty::Map(k, v) => self
                .find_in(root, k, seen)
                .or_else(|| self.find_in(root, v, seen)),
            Ty::Tuple(ts) => ts.iter().find_map(|x| self.find_in(root, x, seen)),
            Ty::Fn(ps, r) => ps
                .iter()
                .find_map(|x| self.find_in(root, x, seen))
                .or_else(|| self.find_in(root, r, seen)),
            _ => None,
        }
    }
}
