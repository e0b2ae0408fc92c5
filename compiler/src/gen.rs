//! Code generation for Weft function bodies, and the dispatch that turns every [`FnKey`]
//! into a wasm function.
//!
//! Ownership convention:
//! - An expression compiled with [`Cx::expr`] leaves an *owned* value (+1) on the stack.
//!   [`Cx::expr_b`] leaves a *borrowed* value and, when it had to create one, the owned
//!   temporary to release after the use: reading a local, a field or an element this way
//!   touches no refcount.
//! - Locals own their values. Each binding is registered in the innermost [`Scope`] and
//!   released when the scope ends; `break`, `continue` and `return` release the scopes they
//!   leave. Reassignment releases the old value after evaluating the new one.
//! - Parameters are borrowed (the caller keeps the arguments alive across the call), except
//!   `var` parameters, which are owned: `var self` is moved in and handed back as a second
//!   result; other mutable parameters are incremented on entry.
//! - Results are owned.

mod agent;
mod cache;
mod control;
mod expr;
mod intrinsic;
mod ops;
mod pattern;
mod place;
mod try_;

use crate::emit::{FuncBuilder, InlineFrame, Label};
use crate::helpers;
use crate::inline::Inlined;
use crate::layout::{is_heap, vt, CLO_CAPS, HDR};
use crate::module::{FnKey, Module, R};
use crate::rt::{self, Rt};
use crate::CompileError;
use std::rc::Rc;
use wasm_encoder::ValType;
use weft_lang::source::Span;
use weft_lang::tir::{FuncDef, FuncId};
use weft_lang::types::Ty;

/// Owned values to release when control leaves a scope.
#[derive(Default)]
pub struct Scope {
    pub owned: Vec<(u32, Ty)>,
}

pub struct LoopCx {
    pub brk: Label,
    pub cont: Label,
    /// Scopes from this index on are released by `break`.
    pub brk_scopes: usize,
    /// Scopes from this index on are released by `continue`.
    pub cont_scopes: usize,
}

/// A borrowed operand's owned temporary, to release after the use.
pub type Tmp = Option<(u32, Ty)>;

pub struct Cx<'a, 'p> {
    pub m: &'a mut Module<'p>,
    pub f: FuncBuilder,
    /// The function being compiled, with its calls inlined.
    pub def: Rc<Inlined>,
    pub targs: Vec<Ty>,
    pub locals: Vec<u32>,
    pub scopes: Vec<Scope>,
    pub loops: Vec<LoopCx>,
    pub inout: Option<u32>,
    pub ret: Ty,
    /// What straight-line code knows about places already walked (see [`cache`]).
    pub pc: cache::PlaceCache,
}

/// Builds the function for `key`: its body, its display name and whether it is Weft code
/// (which gets debug info).
pub fn generate(m: &mut Module, key: &FnKey) -> R<(FuncBuilder, String, bool)> {
    Ok(match key {
        FnKey::User(f, targs) => {
            let name = instance_name(m, *f, targs);
            (user_func(m, *f, targs)?, name, true)
        }
        FnKey::Export(f) => {
            let mut fb = FuncBuilder::new(vec![], vec![]);
            let idx = m.user(*f, vec![], Span::default())?;
            fb.call(idx);
            fb.ins().drop();
            (fb, format!("export {}", instance_name(m, *f, &[])), false)
        }
        FnKey::ClosureEntry(f, targs) => (
            closure_entry(m, *f, targs, true)?,
            instance_name(m, *f, targs),
            false,
        ),
        FnKey::FuncValueEntry(f, targs) => (
            closure_entry(m, *f, targs, false)?,
            instance_name(m, *f, targs),
            false,
        ),
        FnKey::ClosureDrop(f, targs) => (
            closure_drop(m, *f, targs)?,
            format!("drop {}", instance_name(m, *f, targs)),
            false,
        ),
        FnKey::Entry(f, targs) => (
            helpers::wire::gen_entry(m, *f, targs)?,
            format!("entry {}", instance_name(m, *f, targs)),
            false,
        ),
        FnKey::Rt(r) => (rt::generate(m, *r), format!("rt::{r:?}"), false),
        FnKey::Map(op, ty) => (
            rt::map::generate(m, *op, ty),
            format!("map::{op:?}<{}>", m.show_ty(ty)),
            false,
        ),
        _ => helpers::generate(m, key)?,
    })
}

fn instance_name(m: &Module, f: FuncId, targs: &[Ty]) -> String {
    let base = m
        .prog
        .funcs
        .get(f.0 as usize)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| format!("fn{}", f.0));
    if targs.is_empty() {
        base
    } else {
        let args: Vec<String> = targs.iter().map(|t| m.show_ty(t)).collect();
        format!("{base}<{}>", args.join(", "))
    }
}

fn func_def<'p>(m: &Module<'p>, f: FuncId) -> R<&'p FuncDef> {
    m.prog
        .funcs
        .get(f.0 as usize)
        .ok_or_else(|| CompileError::Unsupported {
            what: format!("unknown function {}", f.0),
            location: String::new(),
        })
}

/// The wasm signature of a user function instance.
pub fn user_sig(def: &FuncDef, targs: &[Ty]) -> (Vec<ValType>, Vec<ValType>) {
    let params: Vec<ValType> = def
        .params
        .iter()
        .map(|p| vt(&def.locals[p.0 as usize].ty.subst(targs)))
        .collect();
    let mut results = vec![vt(&def.ret.subst(targs))];
    if def.inout_self {
        results.push(params[0]);
    }
    (params, results)
}

fn user_func(m: &mut Module, fid: FuncId, targs: &[Ty]) -> R<FuncBuilder> {
    let inl = m.inlined(fid, func_def(m, fid)?);
    let def = &inl.def;
    let (params, results) = user_sig(def, targs);
    let mut f = FuncBuilder::new(params, results);
    f.inlined = inlined_frames(m, &inl, targs);
    let ret = def.ret.subst(targs);
    let mut cx = Cx {
        m,
        f,
        def: inl.clone(),
        targs: targs.to_vec(),
        locals: vec![0; def.locals.len()],
        scopes: vec![],
        loops: vec![],
        inout: None,
        ret,
        pc: Default::default(),
    };
    cx.scopes.push(Scope::default());
    let mut is_param = vec![false; def.locals.len()];
    for (i, p) in def.params.iter().enumerate() {
        let Some(slot) = cx.locals.get_mut(p.0 as usize) else {
            continue;
        };
        *slot = i as u32;
        is_param[p.0 as usize] = true;
    }
    for (i, l) in def.locals.iter().enumerate() {
        if !is_param[i] {
            let t = cx.ty(&l.ty);
            cx.locals[i] = cx.f.local(vt(&t));
        }
    }
    for (i, p) in def.params.iter().enumerate() {
        let ld = &def.locals[p.0 as usize];
        let t = cx.ty(&ld.ty);
        if i == 0 && def.inout_self {
            cx.inout = Some(0);
        } else if ld.mutable && is_heap(&t) {
            cx.f.inc_local(i as u32);
            cx.scopes[0].owned.push((i as u32, t));
        }
    }
    let ret = cx.ret.clone();
    cx.expr_as(&def.body, &ret)?;
    cx.release_scopes(0);
    if let Some(s) = cx.inout {
        cx.f.get(s);
    }
    Ok(cx.f)
}

/// The stack-trace frames of the calls inlined into an instance.
fn inlined_frames(m: &Module, inl: &Inlined, targs: &[Ty]) -> Vec<InlineFrame> {
    inl.sites
        .iter()
        .map(|s| {
            let sargs: Vec<Ty> = s.type_args.iter().map(|t| t.subst(targs)).collect();
            InlineFrame {
                name: instance_name(m, s.func, &sargs),
                call: s.call,
                parent: s.parent,
            }
        })
        .collect()
}

/// `(env, args..) -> ret`: for a lifted lambda (loads captures) or a plain function value.
fn closure_entry(m: &mut Module, fid: FuncId, targs: &[Ty], lambda: bool) -> R<FuncBuilder> {
    let def = func_def(m, fid)?;
    let ncap = if lambda { def.captures as usize } else { 0 };
    let ptys: Vec<Ty> = def
        .params
        .iter()
        .map(|p| def.locals[p.0 as usize].ty.subst(targs))
        .collect();
    let mut params = vec![ValType::I32];
    params.extend(ptys[ncap..].iter().map(vt));
    let mut f = FuncBuilder::new(params, vec![vt(&def.ret.subst(targs))]);
    let shape = crate::layout::Shape::new(CLO_CAPS, ptys[..ncap].to_vec());
    for (t, off) in shape.tys.iter().zip(&shape.offs) {
        f.get(0).load(vt(t), *off);
    }
    for i in ncap..ptys.len() {
        f.get((i - ncap + 1) as u32);
    }
    let idx = m.user(fid, targs.to_vec(), def.span)?;
    f.call(idx);
    Ok(f)
}

fn closure_drop(m: &mut Module, fid: FuncId, targs: &[Ty]) -> R<FuncBuilder> {
    let def = func_def(m, fid)?;
    let ncap = def.captures as usize;
    let ptys: Vec<Ty> = def
        .params
        .iter()
        .take(ncap)
        .map(|p| def.locals[p.0 as usize].ty.subst(targs))
        .collect();
    let mut f = FuncBuilder::new(vec![ValType::I32], vec![]);
    let shape = crate::layout::Shape::new(CLO_CAPS, ptys);
    for (off, t) in shape.heap_fields() {
        let d = helpers::drop_fn(m, t);
        f.get(0).ld32(off).call(d);
    }
    let free = m.rt(Rt::Free);
    f.get(0).call(free);
    Ok(f)
}

impl<'a, 'p> Cx<'a, 'p> {
    /// A type of this instance made concrete.
    pub fn ty(&self, t: &Ty) -> Ty {
        if t.has_params() {
            t.subst(&self.targs)
        } else {
            t.clone()
        }
    }

    pub fn local_ty(&self, l: weft_lang::tir::LocalId) -> Ty {
        self.ty(&self.def.def.locals[l.0 as usize].ty)
    }

    pub fn err(&self, what: impl Into<String>, span: Span) -> CompileError {
        CompileError::Unsupported {
            what: what.into(),
            location: self.m.location(span),
        }
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    /// Releases the innermost scope's values and closes it.
    pub fn pop_scope(&mut self) {
        let s = self.scopes.pop().expect("scope underflow");
        for (l, t) in s.owned.iter().rev() {
            self.release_local(*l, t);
        }
    }

    /// Emits releases for every scope from `from` on, without closing them.
    pub fn release_scopes(&mut self, from: usize) {
        let items: Vec<(u32, Ty)> = self.scopes[from..]
            .iter()
            .rev()
            .flat_map(|s| s.owned.iter().rev().cloned())
            .collect();
        for (l, t) in items {
            self.release_local(l, &t);
        }
    }

    pub fn own(&mut self, l: u32, t: Ty) {
        if is_heap(&t) {
            self.scopes.last_mut().expect("a scope").owned.push((l, t));
        }
    }

    pub fn release_local(&mut self, l: u32, t: &Ty) {
        if let Some(_d) = is_heap(t).then_some(()) {
            let d = helpers::drop_fn(self.m, t);
            self.f.get(l).call(d);
        }
    }

    /// Drops the value on top of the stack.
    pub fn drop_top(&mut self, t: &Ty) {
        if is_heap(t) {
            let d = helpers::drop_fn(self.m, t);
            self.f.call(d);
        } else {
            self.f.ins().drop();
        }
    }

    /// Stores the owned value on the stack in a new registered temporary.
    pub fn hold(&mut self, t: &Ty) -> (u32, Ty) {
        let l = self.f.temp(vt(t));
        self.f.tee(l);
        self.own(l, t.clone());
        (l, t.clone())
    }

    /// Releases a temporary from [`Cx::expr_b`] or [`Cx::hold`].
    pub fn release(&mut self, tmp: Tmp) {
        let Some((l, t)) = tmp else { return };
        self.release_local(l, &t);
        for s in self.scopes.iter_mut().rev() {
            if let Some(i) = s.owned.iter().rposition(|(x, _)| *x == l) {
                s.owned.remove(i);
                break;
            }
        }
        self.f.free_temp(l);
    }

    /// Increments the refcount of the pointer on the stack (leaving it there).
    pub fn inc_top(&mut self) {
        let s = self.f.temp(ValType::I32);
        self.f.tee(s);
        self.f.inc_local(s);
        self.f.free_temp(s);
    }

    pub fn alloc(&mut self, size: u32) {
        let a = self.m.rt(Rt::Alloc);
        self.f.i32c(size.max(HDR) as i32).call(a);
    }

    /// Traps with a fixed message, attributed to `span`.
    pub fn trap(&mut self, msg: &str, span: Span) {
        self.f.mark(span);
        rt::trap(self.m, &mut self.f, msg);
    }

    /// Calls a function with the position recorded for stack traces.
    pub fn call_at(&mut self, idx: u32, span: Span) {
        self.f.mark(span);
        self.f.call(idx);
    }
}
