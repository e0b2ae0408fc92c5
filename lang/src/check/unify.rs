//! Inference variables and unification, plus resolving ("zonking") a finished function's types.

use crate::types::Ty;

/// The substitution for one top-level function (its lambdas share it).
#[derive(Default)]
pub struct Infer {
    vars: Vec<Option<Ty>>,
}

/// Why two types did not unify.
pub enum Mismatch {
    /// The types differ (the two resolved types, for the message).
    Types,
    /// `T` would have to contain itself.
    Infinite,
}

impl Infer {
    pub fn fresh(&mut self) -> Ty {
        self.vars.push(None);
        Ty::Var(self.vars.len() as u32 - 1)
    }

    /// Follows bound variables at the top of a type.
    pub fn shallow(&self, ty: &Ty) -> Ty {
        let mut t = ty.clone();
        while let Ty::Var(v) = t {
            match self.vars.get(v as usize).and_then(|b| b.clone()) {
                Some(b) => t = b,
                None => return Ty::Var(v),
            }
        }
        t
    }

    /// Resolves every bound variable inside a type (unbound ones stay `Var`).
    pub fn resolve(&self, ty: &Ty) -> Ty {
        match self.shallow(ty) {
            Ty::List(t) => Ty::List(Box::new(self.resolve(&t))),
            Ty::Map(k, v) => Ty::Map(Box::new(self.resolve(&k)), Box::new(self.resolve(&v))),
            Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(|t| self.resolve(t)).collect()),
            Ty::Fn(ps, r) => Ty::Fn(
                ps.iter().map(|t| self.resolve(t)).collect(),
                Box::new(self.resolve(&r)),
            ),
            Ty::Adt(id, ts) => Ty::Adt(id, ts.iter().map(|t| self.resolve(t)).collect()),
            Ty::Resource(k, ts) => Ty::Resource(k, ts.iter().map(|t| self.resolve(t)).collect()),
            t => t,
        }
    }

    /// Resolves fully; a variable nothing constrained becomes `Unit`.
    pub fn zonk(&self, ty: &Ty) -> Ty {
        match self.resolve(ty) {
            t if !has_var(&t) => t,
            t => default_vars(&t),
        }
    }

    fn occurs(&self, v: u32, ty: &Ty) -> bool {
        match self.shallow(ty) {
            Ty::Var(w) => v == w,
            Ty::List(t) => self.occurs(v, &t),
            Ty::Map(k, val) => self.occurs(v, &k) || self.occurs(v, &val),
            Ty::Tuple(ts) | Ty::Adt(_, ts) | Ty::Resource(_, ts) => {
                ts.iter().any(|t| self.occurs(v, t))
            }
            Ty::Fn(ps, r) => ps.iter().any(|t| self.occurs(v, t)) || self.occurs(v, &r),
            _ => false,
        }
    }

    /// Makes `a` and `b` equal. `Never` fits any type.
    pub fn unify(&mut self, a: &Ty, b: &Ty) -> Result<(), Mismatch> {
        let (a, b) = (self.shallow(a), self.shallow(b));
        match (&a, &b) {
            (Ty::Never, _) | (_, Ty::Never) => Ok(()),
            (Ty::Var(x), Ty::Var(y)) if x == y => Ok(()),
            (Ty::Var(x), t) | (t, Ty::Var(x)) => {
                if self.occurs(*x, t) {
                    return Err(Mismatch::Infinite);
                }
                self.vars[*x as usize] = Some(t.clone());
                Ok(())
            }
            (Ty::List(x), Ty::List(y)) => self.unify(x, y),
            (Ty::Map(k1, v1), Ty::Map(k2, v2)) => {
                self.unify(k1, k2)?;
                self.unify(v1, v2)
            }
            (Ty::Tuple(xs), Ty::Tuple(ys)) if xs.len() == ys.len() => {
                xs.iter().zip(ys).try_for_each(|(x, y)| self.unify(x, y))
            }
            (Ty::Fn(p1, r1), Ty::Fn(p2, r2)) if p1.len() == p2.len() => {
                p1.iter().zip(p2).try_for_each(|(x, y)| self.unify(x, y))?;
                self.unify(r1, r2)
            }
            (Ty::Adt(i, xs), Ty::Adt(j, ys)) if i == j && xs.len() == ys.len() => {
                xs.iter().zip(ys).try_for_each(|(x, y)| self.unify(x, y))
            }
            (Ty::Resource(i, xs), Ty::Resource(j, ys)) if i == j && xs.len() == ys.len() => {
                xs.iter().zip(ys).try_for_each(|(x, y)| self.unify(x, y))
            }
            (x, y) if x == y => Ok(()),
            _ => Err(Mismatch::Types),
        }
    }
}

pub fn has_var(ty: &Ty) -> bool {
    match ty {
        Ty::Var(_) => true,
        Ty::List(t) => has_var(t),
        Ty::Map(k, v) => has_var(k) || has_var(v),
        Ty::Tuple(ts) | Ty::Adt(_, ts) | Ty::Resource(_, ts) => ts.iter().any(has_var),
        Ty::Fn(ps, r) => ps.iter().any(has_var) || has_var(r),
        _ => false,
    }
}

fn default_vars(ty: &Ty) -> Ty {
    match ty {
        Ty::Var(_) => Ty::Unit,
        Ty::List(t) => Ty::List(Box::new(default_vars(t))),
        Ty::Map(k, v) => Ty::Map(Box::new(default_vars(k)), Box::new(default_vars(v))),
        Ty::Tuple(ts) => Ty::Tuple(ts.iter().map(default_vars).collect()),
        Ty::Fn(ps, r) => Ty::Fn(
            ps.iter().map(default_vars).collect(),
            Box::new(default_vars(r)),
        ),
        Ty::Adt(id, ts) => Ty::Adt(*id, ts.iter().map(default_vars).collect()),
        Ty::Resource(k, ts) => Ty::Resource(*k, ts.iter().map(default_vars).collect()),
        t => t.clone(),
    }
}
