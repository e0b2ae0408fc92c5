//! Exhaustiveness and reachability of `match` arms (Maranget's usefulness algorithm),
//! with a witness of what is not covered for the diagnostic.

use super::body::Body;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::tir::{AdtKind, MatchArm, Pat, PatKind};
use crate::types::Ty;

/// Deeper patterns than this are not analysed (they are accepted).
const DEPTH_MAX: u32 = 64;

#[derive(Clone, Debug, PartialEq)]
enum Ctor {
    Variant(u32),
    Bool(bool),
    /// Tuples and records: the only constructor of their type.
    Single,
    /// An integer, float or string literal (an unbounded domain).
    Lit(String),
}

#[derive(Clone, Debug)]
enum P {
    Wild,
    Ctor(Ctor, Vec<P>),
}

impl Body<'_, '_> {
    pub fn check_exhaustive(&mut self, scrut_ty: &Ty, arms: &[MatchArm], span: Span) {
        let ty = self.infer.resolve(scrut_ty);
        let mut rows: Vec<Vec<P>> = vec![];
        for arm in arms {
            let p = self.simplify(&arm.pat, &ty);
            if self
                .useful(
                    &rows,
                    std::slice::from_ref(&p),
                    std::slice::from_ref(&ty),
                    0,
                )
                .is_none()
            {
                let d = Diagnostic::warning(arm.pat.span, "unreachable pattern")
                    .with_label("earlier arms already match everything this does");
                self.error(d);
            }
            if arm.guard.is_none() {
                rows.push(vec![p]);
            }
        }
        if let Some(w) = self.useful(&rows, &[P::Wild], std::slice::from_ref(&ty), 0) {
            let shown = self.show_pat(&w[0], &ty);
            let d = Diagnostic::error(span, "this `match` does not cover every value")
                .with_label(format!("pattern `{shown}` not covered"))
                .with_hint("add an arm for it, or `_ => ...`");
            self.error(d);
        }
    }

    pub fn check_irrefutable(&mut self, p: &Pat, span: Span) {
        let ty = self.infer.resolve(&p.ty);
        let row = vec![self.simplify(p, &ty)];
        if let Some(w) = self.useful(&[row], &[P::Wild], std::slice::from_ref(&ty), 0) {
            let shown = self.show_pat(&w[0], &ty);
            let d = Diagnostic::error(span, "this pattern does not match every value")
                .with_label(format!("`{shown}` is not matched"))
                .with_hint("use `match` to handle the other cases");
            self.error(d);
        }
    }

    fn simplify(&self, p: &Pat, ty: &Ty) -> P {
        match &p.kind {
            PatKind::Wildcard | PatKind::Bind(_) => P::Wild,
            PatKind::Int(n) => P::Ctor(Ctor::Lit(format!("i{n}")), vec![]),
            PatKind::Float(x) => P::Ctor(Ctor::Lit(format!("f{x}")), vec![]),
            PatKind::Str(s) => P::Ctor(Ctor::Lit(format!("s{s}")), vec![]),
            PatKind::Bool(b) => P::Ctor(Ctor::Bool(*b), vec![]),
            PatKind::Tuple(ps) => {
                let tys = self.fields_of(ty, &Ctor::Single);
                P::Ctor(
                    Ctor::Single,
                    ps.iter()
                        .zip(tys.iter().chain(std::iter::repeat(&Ty::Unit)))
                        .map(|(q, t)| self.simplify(q, t))
                        .collect(),
                )
            }
            PatKind::Record(fs) => {
                let tys = self.fields_of(ty, &Ctor::Single);
                let mut args = vec![P::Wild; tys.len()];
                for (i, q) in fs {
                    if let (Some(slot), Some(t)) = (args.get_mut(*i as usize), tys.get(*i as usize))
                    {
                        *slot = self.simplify(q, t);
                    }
                }
                P::Ctor(Ctor::Single, args)
            }
            PatKind::Variant { variant, args, .. } => {
                let c = Ctor::Variant(*variant);
                let tys = self.fields_of(ty, &c);
                P::Ctor(
                    c,
                    args.iter()
                        .zip(tys.iter().chain(std::iter::repeat(&Ty::Unit)))
                        .map(|(q, t)| self.simplify(q, t))
                        .collect(),
                )
            }
        }
    }

    /// The types of a constructor's fields.
    fn fields_of(&self, ty: &Ty, c: &Ctor) -> Vec<Ty> {
        let ty = self.infer.resolve(ty);
        match (&ty, c) {
            (Ty::Tuple(ts), Ctor::Single) => ts.clone(),
            (Ty::Adt(id, args), _) => match (&self.ck.adts[id.0 as usize].kind, c) {
                (AdtKind::Record(fs), Ctor::Single) => {
                    fs.iter().map(|f| f.ty.subst(args)).collect()
                }
                (AdtKind::Enum(vs), Ctor::Variant(v)) => vs
                    .get(*v as usize)
                    .map(|vd| vd.fields.iter().map(|t| t.subst(args)).collect())
                    .unwrap_or_default(),
                _ => vec![],
            },
            _ => vec![],
        }
    }

    /// Every constructor of a type, or `None` for unbounded domains (Int, String, ...).
    fn all_ctors(&self, ty: &Ty) -> Option<Vec<Ctor>> {
        match self.infer.resolve(ty) {
            Ty::Bool => Some(vec![Ctor::Bool(true), Ctor::Bool(false)]),
            Ty::Tuple(_) => Some(vec![Ctor::Single]),
            Ty::Adt(id, _) => match &self.ck.adts[id.0 as usize].kind {
                AdtKind::Record(_) => Some(vec![Ctor::Single]),
                AdtKind::Enum(vs) => Some((0..vs.len() as u32).map(Ctor::Variant).collect()),
            },
            _ => None,
        }
    }

    /// A witness row that `v` matches and no row of `rows` does, if any.
    fn useful(&self, rows: &[Vec<P>], v: &[P], tys: &[Ty], depth: u32) -> Option<Vec<P>> {
        if depth > DEPTH_MAX {
            return None;
        }
        let Some(first) = v.first() else {
            return if rows.is_empty() { Some(vec![]) } else { None };
        };
        let ty = &tys[0];
        match first {
            P::Ctor(c, args) => {
                let w = self.useful_ctor(rows, c, args.clone(), v, tys, depth)?;
                Some(w)
            }
            P::Wild => {
                let heads: Vec<Ctor> = rows
                    .iter()
                    .filter_map(|r| match &r[0] {
                        P::Ctor(c, _) => Some(c.clone()),
                        P::Wild => None,
                    })
                    .collect();
                let all = self.all_ctors(ty);
                if let Some(all) = &all {
                    if !all.is_empty() && all.iter().all(|c| heads.contains(c)) {
                        for c in all {
                            let n = self.fields_of(ty, c).len();
                            if let Some(w) =
                                self.useful_ctor(rows, c, vec![P::Wild; n], v, tys, depth)
                            {
                                return Some(w);
                            }
                        }
                        return None;
                    }
                }
                let default: Vec<Vec<P>> = rows
                    .iter()
                    .filter(|r| matches!(r[0], P::Wild))
                    .map(|r| r[1..].to_vec())
                    .collect();
                let mut w = self.useful(&default, &v[1..], &tys[1..], depth + 1)?;
                let head = match all.and_then(|all| all.into_iter().find(|c| !heads.contains(c))) {
                    Some(c) => {
                        let n = self.fields_of(ty, &c).len();
                        P::Ctor(c, vec![P::Wild; n])
                    }
                    None => P::Wild,
                };
                w.insert(0, head);
                Some(w)
            }
        }
    }

    fn useful_ctor(
        &self,
        rows: &[Vec<P>],
        c: &Ctor,
        args: Vec<P>,
        v: &[P],
        tys: &[Ty],
        depth: u32,
    ) -> Option<Vec<P>> {
        let n = args.len();
        let ftys = self.fields_of(&tys[0], c);
        let mut sub_tys: Vec<Ty> = ftys
            .into_iter()
            .chain(std::iter::repeat(Ty::Unit))
            .take(n)
            .collect();
        sub_tys.extend_from_slice(&tys[1..]);
        let spec: Vec<Vec<P>> = rows
            .iter()
            .filter_map(|r| match &r[0] {
                P::Ctor(rc, rargs) if rc == c => Some(
                    rargs
                        .iter()
                        .cloned()
                        .chain(r[1..].iter().cloned())
                        .collect(),
                ),
                P::Ctor(..) => None,
                P::Wild => Some(
                    std::iter::repeat_n(P::Wild, n)
                        .chain(r[1..].iter().cloned())
                        .collect(),
                ),
            })
            .collect();
        let mut sv = args;
        sv.extend_from_slice(&v[1..]);
        let w = self.useful(&spec, &sv, &sub_tys, depth + 1)?;
        let mut out = vec![P::Ctor(c.clone(), w[..n].to_vec())];
        out.extend_from_slice(&w[n..]);
        Some(out)
    }

    fn show_pat(&self, p: &P, ty: &Ty) -> String {
        let ty = self.infer.resolve(ty);
        match p {
            P::Wild => "_".into(),
            P::Ctor(Ctor::Bool(b), _) => b.to_string(),
            P::Ctor(Ctor::Lit(_), _) => "_".into(),
            P::Ctor(c @ Ctor::Single, args) => {
                let tys = self.fields_of(&ty, c);
                let parts: Vec<String> = args
                    .iter()
                    .zip(&tys)
                    .map(|(a, t)| self.show_pat(a, t))
                    .collect();
                match &ty {
                    Ty::Adt(id, _) => format!("{} {{ .. }}", self.ck.adts[id.0 as usize].name),
                    _ => format!("({})", parts.join(", ")),
                }
            }
            P::Ctor(c @ Ctor::Variant(v), args) => {
                let Ty::Adt(id, _) = &ty else {
                    return "_".into();
                };
                let AdtKind::Enum(vs) = &self.ck.adts[id.0 as usize].kind else {
                    return "_".into();
                };
                let name = vs
                    .get(*v as usize)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                if args.is_empty() {
                    return name;
                }
                let tys = self.fields_of(&ty, c);
                let parts: Vec<String> = args
                    .iter()
                    .zip(&tys)
                    .map(|(a, t)| self.show_pat(a, t))
                    .collect();
                format!("{name}({})", parts.join(", "))
            }
        }
    }
}
