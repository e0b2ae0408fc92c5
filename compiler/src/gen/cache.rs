//! Place caching: what straight-line code already knows about the containers on a path.
//!
//! Inside a run of *simple* statements (no control flow, no calls, no mutating calls; see
//! [`simple_stmt`]) a path `root.f[i].g` that has been walked once need not be walked
//! again: the element pointer, the address of a list slot and a list's length are kept in
//! locals, and a container made unique by a write stays unique until something could
//! share it. Facts are keyed by the root local and the path's steps, where an index step
//! must be a plain read of a local (its value is the same wherever the key is used, since
//! assigning the local drops every fact that mentions it).
//!
//! Invalidation is conservative:
//! - a refcount increment of any heap value read from a local or place ([`PlaceCache::taint`])
//!   makes every container fact non-unique (a later write checks again and may copy);
//! - a slot that may hold a new value (a store, or a copy made by a uniqueness check)
//!   drops every fact below it and, for list slots, below every sibling slot (another index
//!   local may name the same slot);
//! - assigning or rebinding a local drops the facts rooted at it or indexed by it;
//! - a statement that is not simple, and the start and end of every block, drop everything.
//!
//! Loops add facts of their own: a list or record that a loop writes through, and that
//! nothing in the loop can share or replace, is made unique once before the loop and its
//! length loaded once ([`sticky`]); and a loop of simple statements that writes through
//! `root[i]` with `i` fixed has its first iteration peeled, the rest starting out knowing
//! `root[i]` ([`loop_hoists`]).

mod sticky;

use std::collections::HashSet;
pub use sticky::sticky_roots;
use weft_lang::ast::{BinOp, UnOp};
use weft_lang::tir::{Expr, ExprKind, Intrinsic, LocalId, PatKind, Place, PlaceElem, Stmt};
use weft_lang::types::Ty;

/// One step of a cacheable path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Field(u32),
    Index(LocalId),
}

/// What a fact's local holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The pointer stored at the path (for the empty path, the root local itself).
    Ptr,
    /// The address of the list slot the path ends in (`[addr + LIST_DATA]`).
    Addr,
    /// The length (i64) of the list at the path.
    Len,
    /// The Int root local is less than some Int: adding 1 to it cannot overflow.
    IncOk,
    /// The Int root local is greater than some Int: subtracting 1 cannot overflow.
    DecOk,
}

#[derive(Clone, Debug)]
pub struct Fact {
    pub root: LocalId,
    pub path: Vec<Step>,
    pub kind: Kind,
    pub local: u32,
    /// For `Ptr`: the container has refcount 1 and every container above it too.
    pub unique: bool,
}

impl Fact {
    /// A fact about a root local itself.
    pub fn root(root: LocalId, kind: Kind, local: u32, unique: bool) -> Fact {
        Fact {
            root,
            path: vec![],
            kind,
            local,
            unique,
        }
    }
}

#[derive(Default)]
pub struct PlaceCache {
    facts: Vec<Fact>,
    /// Whether the code being compiled is a simple statement of a block (facts may be used
    /// and recorded); when false there are no facts.
    pub active: bool,
    /// Facts for the next loop body block to start with.
    pub seed: Vec<Fact>,
    /// Facts about roots that hold throughout the loops being compiled (see [`sticky`]).
    pub sticky: Vec<Fact>,
    /// Counts seeded blocks that ended without their seed (checked after a loop body).
    pub broken: u32,
    /// The containers the current run of simple statements writes through (cacheable
    /// paths): a read that passes through one makes it unique right away, so the checks
    /// come before the values computed from the reads (and are not repeated by the write).
    pub wants: Vec<(LocalId, Vec<Step>)>,
    /// Seeded facts the block must still hold at its end (checked by `leave_block`).
    expect: Vec<Fact>,
    /// Paths whose unique container facts the next block leaves in `captured`.
    pub capture: Vec<(LocalId, Vec<Step>)>,
    pub captured: Vec<Fact>,
}

impl PlaceCache {
    /// Forgets everything but the facts the enclosing loops keep.
    pub fn clear(&mut self) {
        self.facts.clone_from(&self.sticky);
        self.wants.clear();
    }

    /// Whether an enclosing loop keeps a fact of `kind` about `root` itself.
    pub fn sticky_has(&self, root: LocalId, kind: Kind) -> bool {
        self.sticky.iter().any(|f| f.root == root && f.kind == kind)
    }

    /// Starts a block: its first statements see the pending seed, if any.
    pub fn enter_block(&mut self) -> bool {
        let seed = std::mem::take(&mut self.seed);
        self.facts.clone_from(&self.sticky);
        self.facts.extend(seed.iter().cloned());
        self.expect = seed.into_iter().filter(|f| f.kind == Kind::Ptr).collect();
        self.wants.clear();
        std::mem::replace(&mut self.active, true)
    }

    pub fn leave_block(&mut self, was_active: bool) {
        for e in std::mem::take(&mut self.expect) {
            let same = |f: &&Fact| {
                f.root == e.root && f.path == e.path && f.kind == e.kind && f.local == e.local
            };
            if !self.facts.iter().any(|f| same(&f) && f.unique == e.unique) {
                self.broken += 1;
            }
        }
        if !self.capture.is_empty() {
            let want = std::mem::take(&mut self.capture);
            self.captured = self
                .facts
                .iter()
                .filter(|f| f.kind == Kind::Ptr && f.unique)
                .filter(|f| want.iter().any(|(r, p)| f.root == *r && f.path == *p))
                .cloned()
                .collect();
        }
        self.clear();
        self.active = was_active;
    }

    pub fn get(&self, root: LocalId, path: &[Step], kind: Kind) -> Option<&Fact> {
        if !self.active {
            return None;
        }
        self.facts
            .iter()
            .find(|f| f.root == root && f.kind == kind && f.path == path)
    }

    /// The local holding the container at `path`, if it is known to be unique.
    pub fn unique_ptr(&self, root: LocalId, path: &[Step]) -> Option<u32> {
        self.get(root, path, Kind::Ptr)
            .filter(|f| f.unique)
            .map(|f| f.local)
    }

    pub fn set(&mut self, root: LocalId, path: &[Step], kind: Kind, local: u32, unique: bool) {
        if !self.active {
            return;
        }
        self.facts
            .retain(|f| !(f.root == root && f.kind == kind && f.path == path));
        self.facts.push(Fact {
            root,
            path: path.to_vec(),
            kind,
            local,
            unique,
        });
    }

    /// A heap value's refcount went up: no container is known to be unique any more.
    pub fn taint(&mut self) {
        for f in &mut self.facts {
            f.unique = false;
        }
    }

    /// The slot at `path` may now hold a different value.
    pub fn replaced(&mut self, root: LocalId, path: &[Step]) {
        match path.last() {
            None => self.drop_root(root),
            Some(Step::Field(_)) => self.facts.retain(|f| {
                !(f.root == root && f.path.len() >= path.len() && f.path[..path.len()] == *path)
            }),
            Some(Step::Index(_)) => self.replaced_under(root, &path[..path.len() - 1]),
        }
    }

    /// A uniqueness check at `path` may have replaced the container there by a copy. Facts
    /// below it are stale; so are those below a sibling list slot (its index may be the
    /// same) unless that sibling is known unique, which means the check found it unique and
    /// copied nothing.
    pub fn copied(&mut self, root: LocalId, path: &[Step]) {
        let n = path.len();
        if n == 0 {
            return self.drop_root(root);
        }
        self.facts.retain(|f| {
            let at_or_below = f.root == root && f.path.len() >= n && f.path[..n] == *path;
            !at_or_below || (f.kind == Kind::Addr && f.path.len() == n)
        });
        if let Some(Step::Index(_)) = path.last() {
            let q = &path[..n - 1];
            let unique_siblings: Vec<Vec<Step>> = self
                .facts
                .iter()
                .filter(|f| f.root == root && f.kind == Kind::Ptr && f.unique)
                .filter(|f| f.path.len() == n && f.path[..n - 1] == *q)
                .map(|f| f.path.clone())
                .collect();
            self.facts.retain(|f| {
                let below_sibling = f.root == root
                    && f.path.len() >= n
                    && f.path[..n - 1] == *q
                    && matches!(f.path[n - 1], Step::Index(_));
                let keep_addr = f.kind == Kind::Addr && f.path.len() == n;
                !below_sibling || keep_addr || unique_siblings.iter().any(|u| f.path[..n] == **u)
            });
        }
    }

    /// Whether a statement of the current run writes through the container at `path`.
    pub fn wanted(&self, root: LocalId, path: &[Step]) -> bool {
        self.active
            && self
                .wants
                .iter()
                .any(|(r, w)| *r == root && w.len() >= path.len() && w[..path.len()] == *path)
    }

    /// Some slot of the container at `path` (a list element or a field) may now hold a
    /// different value: drops every fact below the container except the slot addresses.
    pub fn replaced_under(&mut self, root: LocalId, path: &[Step]) {
        let n = path.len();
        self.facts.retain(|f| {
            let below = f.root == root && f.path.len() > n && f.path[..n] == *path;
            !below || (f.kind == Kind::Addr && f.path.len() == n + 1)
        });
    }

    fn drop_root(&mut self, root: LocalId) {
        self.facts.retain(|f| f.root != root);
    }

    /// Local `l` was assigned or bound: facts rooted at it or indexed by it are stale.
    pub fn local_assigned(&mut self, l: LocalId) {
        self.drop_root(l);
        self.facts.retain(|f| !f.path.contains(&Step::Index(l)));
    }
}

/// The cacheable step of a place element, if it is one.
pub fn place_step(e: &PlaceElem) -> Option<Step> {
    match e {
        PlaceElem::Field(i, _) => Some(Step::Field(*i)),
        PlaceElem::Index(ix) => index_step(ix),
        PlaceElem::MapKey(_) => None,
    }
}

pub fn index_step(ix: &Expr) -> Option<Step> {
    match (&ix.kind, &ix.ty) {
        (ExprKind::Local(l), Ty::Int) => Some(Step::Index(*l)),
        _ => None,
    }
}

/// A read `root.a[i].b`: the root local and the Field/Index nodes from the root outwards.
pub fn read_chain(e: &Expr) -> Option<(LocalId, Vec<&Expr>)> {
    let mut nodes = vec![];
    let mut cur = e;
    loop {
        match &cur.kind {
            ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => {
                nodes.push(cur);
                cur = base;
            }
            ExprKind::Local(l) => {
                nodes.reverse();
                return Some((*l, nodes));
            }
            _ => return None,
        }
    }
}

/// The containers written through by the run of simple statements at the start of `stmts`.
pub fn run_wants(stmts: &[Stmt]) -> Vec<(LocalId, Vec<Step>)> {
    let mut wants = vec![];
    for s in stmts.iter().take_while(|s| simple_stmt(s)) {
        if let Stmt::Assign { place, .. } = s {
            let n = place.path.len().saturating_sub(1);
            let path: Vec<Step> = place.path[..n].iter().map_while(place_step).collect();
            if !place.path.is_empty() {
                wants.push((place.root, path));
            }
        }
    }
    wants
}

/// Whether the only operations in `e` (simple) that can trap are the bounds checks of
/// reads through cacheable paths, so walking those paths first traps no differently.
pub fn traps_only_in_reads(e: &Expr) -> bool {
    let scalar = |t: &Ty| matches!(t, Ty::Float | Ty::Bool | Ty::Int | Ty::Duration);
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) | ExprKind::Local(_) => true,
        ExprKind::Field { .. } | ExprKind::Index { .. } => read_chain(e).is_some_and(|(_, ns)| {
            ns.iter().all(|n| match &n.kind {
                ExprKind::Index { index, .. } => index_step(index).is_some(),
                _ => true,
            })
        }),
        ExprKind::Unary { op, operand } => {
            (*op == UnOp::Not || operand.ty == Ty::Float) && traps_only_in_reads(operand)
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let compare = matches!(
                op,
                BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
            );
            (lhs.ty == Ty::Float || (compare && scalar(&lhs.ty)))
                && traps_only_in_reads(lhs)
                && traps_only_in_reads(rhs)
        }
        ExprKind::Intrinsic { op, args } => {
            use Intrinsic::*;
            matches!(
                op,
                IntToFloat | FloatAbs | FloatSqrt | FloatFloor | FloatCeil | FloatMin | FloatMax
            ) && args.iter().all(traps_only_in_reads)
        }
        _ => false,
    }
}

/// The read chains of `e` in evaluation order (for walking them ahead of the reads).
pub fn reads_in_order<'e>(e: &'e Expr, out: &mut Vec<(LocalId, Vec<&'e Expr>)>) {
    if let Some(chain) = read_chain(e).filter(|(_, ns)| !ns.is_empty()) {
        out.push(chain);
        return;
    }
    for (c, _) in borrowed_children(e) {
        reads_in_order(c, out);
    }
}

/// Intrinsics that evaluate their arguments in order without control flow around them and
/// touch no container.
fn simple_intrinsic(op: Intrinsic) -> bool {
    use Intrinsic::*;
    matches!(
        op,
        IntAbs
            | IntMin
            | IntMax
            | IntToFloat
            | FloatAbs
            | FloatSqrt
            | FloatFloor
            | FloatCeil
            | FloatMin
            | FloatMax
            | ListLen
            | BytesLen
            | DurationMillis
    )
}

/// Straight-line code that calls nothing that could see a container.
pub fn simple_expr(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Unit
        | ExprKind::Local(_) => true,
        ExprKind::Field { base, .. } => simple_expr(base),
        ExprKind::Index { base, index } => simple_expr(base) && simple_expr(index),
        ExprKind::Unary { operand, .. } => simple_expr(operand),
        ExprKind::Binary { op, lhs, rhs } => {
            !matches!(op, BinOp::And | BinOp::Or) && simple_expr(lhs) && simple_expr(rhs)
        }
        ExprKind::Intrinsic { op, args } => simple_intrinsic(*op) && args.iter().all(simple_expr),
        _ => false,
    }
}

fn simple_place(p: &Place) -> bool {
    p.path.iter().all(|e| match e {
        PlaceElem::Field(..) => true,
        PlaceElem::Index(ix) => simple_expr(ix),
        PlaceElem::MapKey(_) => false,
    })
}

pub fn simple_stmt(s: &Stmt) -> bool {
    match s {
        Stmt::Let { pat, value } => matches!(pat.kind, PatKind::Bind(_)) && simple_expr(value),
        Stmt::Assign { place, value } => simple_place(place) && simple_expr(value),
        Stmt::Expr(e) => simple_expr(e),
    }
}

/// Whether evaluating `e` (simple; compiled owned unless `borrowed`) can raise a refcount:
/// a heap value read from a local or a place anywhere but where it is borrowed (as the
/// container of a further read, or the list of `len()`).
fn may_share(e: &Expr, borrowed: bool) -> bool {
    let heap_read = maybe_heap(&e.ty)
        && matches!(
            e.kind,
            ExprKind::Local(_) | ExprKind::Field { .. } | ExprKind::Index { .. }
        );
    (heap_read && !borrowed) || borrowed_children(e).any(|(c, b)| may_share(c, b))
}

/// Whether values of `t` (possibly a type parameter) may live on the heap.
fn maybe_heap(t: &Ty) -> bool {
    t.is_heap() || t.has_params()
}

/// The direct subexpressions of a simple expression, each with whether it is compiled
/// borrowed.
fn borrowed_children(e: &Expr) -> impl Iterator<Item = (&Expr, bool)> {
    let v: Vec<(&Expr, bool)> = match &e.kind {
        ExprKind::Field { base, .. } => vec![(base, true)],
        ExprKind::Index { base, index } => vec![(base, true), (index, false)],
        ExprKind::Unary { operand, .. } => vec![(operand, false)],
        ExprKind::Binary { lhs, rhs, .. } => vec![(lhs, false), (rhs, false)],
        ExprKind::Intrinsic { op, args } => {
            let b = matches!(op, Intrinsic::ListLen | Intrinsic::BytesLen);
            args.iter().map(|a| (a, b)).collect()
        }
        _ => vec![],
    };
    v.into_iter()
}

/// What `while a < b` (Int locals) tells its body: `a + 1` and `b - 1` cannot overflow
/// until `a`, respectively `b`, is assigned.
pub fn cond_bounds(cond: &Expr) -> Vec<Fact> {
    let ExprKind::Binary { op, lhs, rhs } = &cond.kind else {
        return vec![];
    };
    let (ExprKind::Local(a), ExprKind::Local(b), Ty::Int) = (&lhs.kind, &rhs.kind, &lhs.ty) else {
        return vec![];
    };
    let (lo, hi) = match op {
        BinOp::Lt => (*a, *b),
        BinOp::Gt => (*b, *a),
        _ => return vec![],
    };
    vec![
        Fact::root(lo, Kind::IncOk, 0, false),
        Fact::root(hi, Kind::DecOk, 0, false),
    ]
}

/// `(root, i)` with `root[i]` a container the loop body writes through and `i` unchanged
/// by the loop, so that once a first, peeled iteration has walked it (made unique) the
/// loop can start out knowing it. Empty unless every statement of the body is simple,
/// nothing in it (or the loop condition) can share a container, and no root is reassigned.
/// `var` is the loop's own variable, which changes every iteration.
pub fn loop_hoists(
    cond: Option<&Expr>,
    body: &Expr,
    var: Option<LocalId>,
) -> Vec<(LocalId, LocalId)> {
    let ExprKind::Block { stmts, tail } = &body.kind else {
        return vec![];
    };
    let exprs_ok = |e: &Expr| simple_expr(e) && !may_share(e, false);
    if !cond.is_none_or(exprs_ok) || !exprs_ok(tail) || !stmts.iter().all(simple_stmt) {
        return vec![];
    }
    let mut written = vec![];
    let mut assigned: HashSet<LocalId> = var.into_iter().collect();
    let mut places = vec![];
    for s in stmts {
        let (e, place) = match s {
            Stmt::Let { pat, value } => {
                if let PatKind::Bind(l) = pat.kind {
                    assigned.insert(l);
                }
                (value, None)
            }
            Stmt::Assign { place, value } => (value, Some(place)),
            Stmt::Expr(e) => (e, None),
        };
        if !exprs_ok(e) {
            return vec![];
        }
        let Some(place) = place else { continue };
        if place.path.iter().any(elem_may_share) {
            return vec![];
        }
        if place.path.is_empty() {
            assigned.insert(place.root);
        } else {
            written.push(place.root);
            places.push(place);
        }
    }
    written.sort();
    written.dedup();
    written.retain(|l| !assigned.contains(l));
    hoistable(&places, &written, &assigned)
}

/// `(root, i)` pairs for [`loop_hoists`]: every write into `root` has a cacheable
/// path and stores a scalar (so nothing in the loop can drop what is known about
/// `root[i]`), and some write goes through `root[i]` into its fields.
fn hoistable(
    places: &[&Place],
    written: &[LocalId],
    assigned: &HashSet<LocalId>,
) -> Vec<(LocalId, LocalId)> {
    let mut out = vec![];
    for &r in written {
        let mine: Vec<&&Place> = places.iter().filter(|p| p.root == r).collect();
        let clean = mine
            .iter()
            .all(|p| !maybe_heap(&p.ty) && p.path.iter().all(|e| place_step(e).is_some()));
        if !clean {
            continue;
        }
        for p in mine {
            if let (Some(Step::Index(l)), true) = (place_step(&p.path[0]), p.path.len() >= 2) {
                if !assigned.contains(&l) && !out.contains(&(r, l)) {
                    out.push((r, l));
                }
            }
        }
    }
    out
}

fn elem_may_share(e: &PlaceElem) -> bool {
    match e {
        PlaceElem::Index(ix) | PlaceElem::MapKey(ix) => may_share(ix, false),
        PlaceElem::Field(..) => false,
    }
}
