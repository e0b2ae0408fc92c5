//! Inlining: a typed-IR-to-typed-IR pass that replaces direct calls to small functions by
//! their bodies, before a function is compiled, so that Cranelift sees one body (and the
//! call, its stack check and the callee's prologue are gone).
//!
//! `f(a, b)` becomes `{ let p = a; let q = b; body }`: the arguments are evaluated left to
//! right into fresh locals, exactly once, before the body, as the call would; `f`'s locals
//! are renumbered into the caller's table and its types instantiated at the call's type
//! arguments (in the caller's terms: the pass runs on generic bodies, once per function,
//! and every instance shares the result). An argument that is an immutable local of the
//! caller, passed to an immutable parameter, is not copied: the body reads the caller's
//! local, which nothing can change while the body runs.
//!
//! What is inlined: direct `Call`s to functions whose body has at most [`BODY_NODES_MAX`]
//! expression nodes, at most [`DEPTH_MAX`] inlined calls deep, a function appearing at most
//! twice in the chain from the function being compiled (so a self-recursive function is
//! inlined into itself once, not repeatedly), and at most [`GROWTH_NODES_MAX`] nodes added
//! to one function in all. What is not: `var self` functions (their receiver is a place),
//! bodies containing `return` (the IR has no block to exit early from; `?` is a `return`),
//! bodies defining lambdas (a lifted lambda is compiled on its own, against its own
//! function's locals and generics), bodies with loops (the call costs little next to the
//! loop, and a copy of the loop only grows the code: inlining `map` and `fold` grew a
//! 10,000-line program's wasm by 29% and its Cranelift time by 21%), lifted lambdas
//! themselves, and calls through values.
//!
//! Stack traces: every inlined body is a [`Site`] (the callee, the call's position, the
//! enclosing site), found again by the code generator through [`Inlined::site_of`], which
//! records the site with every source position, so a trap inside inlined code still shows
//! the inlined function as its own frame.

mod rewrite;
use weft_lang::tir::visit;

use rewrite::Rewrite;
use std::collections::HashMap;
use weft_lang::source::Span;
use weft_lang::tir::{
    Expr, ExprKind, FuncDef, FuncId, LocalDef, LocalId, Pat, PatKind, Program, Stmt,
};
use weft_lang::types::Ty;

/// The largest function body inlined, in expression nodes (`fib`'s is 15, `unwrap_or`'s 5).
pub const BODY_NODES_MAX: usize = 30;
/// The most inlined calls nested inside one another.
pub const DEPTH_MAX: usize = 3;
/// The most expression nodes inlining may add to one function.
pub const GROWTH_NODES_MAX: usize = 2000;

/// One inlined call.
#[derive(Clone, Debug)]
pub struct Site {
    pub func: FuncId,
    /// The call's type arguments, in the terms of the function being compiled.
    pub type_args: Vec<Ty>,
    /// The call expression, in the enclosing site's function (or the function itself).
    pub call: Span,
    /// The inlined call this one was inside, if any.
    pub parent: Option<u32>,
}

/// A function with its calls inlined.
pub struct Inlined {
    /// The original with a new body and the inlined bodies' locals appended.
    pub def: FuncDef,
    pub sites: Vec<Site>,
    /// Inlined bodies by address (each is the boxed tail of the block that replaced its
    /// call, which no later step moves or copies) to their site.
    bodies: HashMap<usize, u32>,
}

impl Inlined {
    /// The site whose inlined body `e` is, if it is one.
    pub fn site_of(&self, e: &Expr) -> Option<u32> {
        if self.bodies.is_empty() {
            return None;
        }
        self.bodies.get(&(e as *const Expr as usize)).copied()
    }

    /// A function left as it is.
    pub fn none(def: &FuncDef) -> Inlined {
        Inlined {
            def: def.clone(),
            sites: vec![],
            bodies: HashMap::new(),
        }
    }
}

/// The body size of each function that may be inlined at all (`None`: never), shared by
/// the functions of a module.
#[derive(Default)]
pub struct Sizes(HashMap<FuncId, Option<usize>>);

/// Inlines the calls in the body of `def` (the function `fid`).
pub fn inline(prog: &Program, sizes: &mut Sizes, fid: FuncId, def: &FuncDef) -> Inlined {
    let mut body = def.body.clone();
    let mut pass = Pass {
        prog,
        sizes,
        locals: def.locals.clone(),
        sites: vec![],
        bodies: HashMap::new(),
        chain: vec![fid],
        site: None,
        grown: 0,
    };
    pass.expr(&mut body);
    Inlined {
        def: FuncDef {
            name: def.name.clone(),
            generics: def.generics.clone(),
            params: def.params.clone(),
            captures: def.captures,
            inout_self: def.inout_self,
            agent: def.agent,
            ret: def.ret.clone(),
            locals: pass.locals,
            body,
            span: def.span,
        },
        sites: pass.sites,
        bodies: pass.bodies,
    }
}

struct Pass<'a> {
    prog: &'a Program,
    sizes: &'a mut Sizes,
    /// The function's locals, growing with every inlined body.
    locals: Vec<LocalDef>,
    sites: Vec<Site>,
    bodies: HashMap<usize, u32>,
    /// The function being compiled, then the callees inlined around the current position.
    chain: Vec<FuncId>,
    /// The innermost site around the current position.
    site: Option<u32>,
    /// Nodes added so far.
    grown: usize,
}

impl Pass<'_> {
    /// Inlines inside `e` (arguments first), then `e` itself if it is an inlinable call.
    fn expr(&mut self, e: &mut Expr) {
        visit::children_mut(e, &mut |c| self.expr(c));
        if let ExprKind::Call { func, args, .. } = &e.kind {
            if let Some(size) = self.inlinable(*func, args.len()) {
                self.grown += size;
                self.inline_call(e);
            }
        }
    }

    /// The body size of `func` when a call to it with `nargs` arguments may be inlined here.
    fn inlinable(&mut self, func: FuncId, nargs: usize) -> Option<usize> {
        let def = self.prog.funcs.get(func.0 as usize)?;
        let size = (*self.sizes.0.entry(func).or_insert_with(|| body_size(def)))?;
        let repeats = self.chain.iter().filter(|f| **f == func).count();
        let ok = def.params.len() == nargs
            && self.chain.len() <= DEPTH_MAX
            && repeats < 2
            && self.grown + size <= GROWTH_NODES_MAX;
        ok.then_some(size)
    }

    /// Replaces the call `e` by a block binding the arguments around the callee's body.
    fn inline_call(&mut self, e: &mut Expr) {
        let kind = std::mem::replace(&mut e.kind, ExprKind::Unit);
        let ExprKind::Call {
            func,
            type_args,
            args,
        } = kind
        else {
            e.kind = kind;
            return;
        };
        let prog = self.prog;
        let def = &prog.funcs[func.0 as usize];
        let (map, stmts) = self.bind_args(def, &type_args, args);
        let mut body = def.body.clone();
        Rewrite {
            locals: &map,
            targs: &type_args,
        }
        .expr(&mut body);
        let site = self.sites.len() as u32;
        self.sites.push(Site {
            func,
            type_args,
            call: e.span,
            parent: self.site,
        });
        let outer = self.site.replace(site);
        self.chain.push(func);
        self.expr(&mut body);
        self.chain.pop();
        self.site = outer;
        let tail = Box::new(body);
        self.bodies.insert(&*tail as *const Expr as usize, site);
        e.kind = ExprKind::Block { stmts, tail };
    }

    /// New caller locals for the callee's (an immutable local argument stands for its
    /// immutable parameter) and the `let`s that evaluate the other arguments into them.
    fn bind_args(
        &mut self,
        def: &FuncDef,
        type_args: &[Ty],
        args: Vec<Expr>,
    ) -> (Vec<LocalId>, Vec<Stmt>) {
        let immutable =
            |l: LocalId, ls: &[LocalDef]| ls.get(l.0 as usize).is_some_and(|d| !d.mutable);
        let mut alias: Vec<Option<LocalId>> = vec![None; def.locals.len()];
        for (p, a) in def.params.iter().zip(&args) {
            if let ExprKind::Local(l) = a.kind {
                if immutable(*p, &def.locals) && immutable(l, &self.locals) {
                    alias[p.0 as usize] = Some(l);
                }
            }
        }
        let rw = Rewrite {
            locals: &[],
            targs: type_args,
        };
        let mut map = Vec::with_capacity(def.locals.len());
        for (d, a) in def.locals.iter().zip(&alias) {
            map.push(a.unwrap_or_else(|| {
                let mut ty = d.ty.clone();
                rw.ty(&mut ty);
                self.locals.push(LocalDef {
                    name: d.name.clone(),
                    ty,
                    mutable: d.mutable,
                });
                LocalId(self.locals.len() as u32 - 1)
            }));
        }
        let mut stmts = vec![];
        for (p, value) in def.params.iter().zip(args) {
            if alias[p.0 as usize].is_some() {
                continue;
            }
            let l = map[p.0 as usize];
            let pat = Pat {
                kind: PatKind::Bind(l),
                ty: self.locals[l.0 as usize].ty.clone(),
                span: value.span,
            };
            stmts.push(Stmt::Let { pat, value });
        }
        (map, stmts)
    }
}

/// The number of expression nodes in `def`'s body if it may be inlined at all.
fn body_size(def: &FuncDef) -> Option<usize> {
    if def.inout_self || def.captures > 0 {
        return None;
    }
    let mut n = 0;
    let mut ok = true;
    count(&def.body, &mut n, &mut ok);
    (ok && n <= BODY_NODES_MAX).then_some(n)
}

/// Counts nodes, stopping past the budget; clears `ok` at a `return`, a lambda or a loop.
fn count(e: &Expr, n: &mut usize, ok: &mut bool) {
    *n += 1;
    if matches!(
        e.kind,
        ExprKind::Return(_)
            | ExprKind::Closure { .. }
            | ExprKind::While { .. }
            | ExprKind::ForRange { .. }
            | ExprKind::ForList { .. }
    ) {
        *ok = false;
    }
    if *ok && *n <= BODY_NODES_MAX {
        visit::children(e, &mut |c| count(c, n, ok));
    }
}
