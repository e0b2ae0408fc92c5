//! Short constructors for hand-built typed IR programs.

#![allow(dead_code)]

use weft_lang::ast::{BinOp, UnOp};
use weft_lang::source::{FileId, SourceMap, Span};
use weft_lang::tir::*;
use weft_lang::types::{AdtId, Ty};

/// Lines of the fake source file are `"0001\n"`, `"0002\n"`, ... (5 bytes each).
pub fn line(n: u32) -> Span {
    let off = (n - 1) * 5;
    Span {
        file: FileId(0),
        start: off,
        end: off + 4,
    }
}

pub fn sources() -> SourceMap {
    let mut sm = SourceMap::new();
    let text: String = (1..=200).map(|i| format!("{i:04}\n")).collect();
    sm.add("test.weft", text);
    sm
}

pub fn e(kind: ExprKind, ty: Ty) -> Expr {
    Expr {
        kind,
        ty,
        span: line(1),
    }
}

/// The same expression attributed to a source line.
pub fn at(n: u32, mut x: Expr) -> Expr {
    x.span = line(n);
    x
}

pub fn int(n: i64) -> Expr {
    e(ExprKind::Int(n), Ty::Int)
}
pub fn dur(n: i64) -> Expr {
    e(ExprKind::Int(n), Ty::Duration)
}
pub fn float(x: f64) -> Expr {
    e(ExprKind::Float(x), Ty::Float)
}
pub fn boolean(b: bool) -> Expr {
    e(ExprKind::Bool(b), Ty::Bool)
}
pub fn st(s: &str) -> Expr {
    e(ExprKind::Str(s.into()), Ty::String)
}
pub fn unit() -> Expr {
    e(ExprKind::Unit, Ty::Unit)
}

pub fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    let ty = match op {
        BinOp::Eq
        | BinOp::Ne
        | BinOp::Lt
        | BinOp::Le
        | BinOp::Gt
        | BinOp::Ge
        | BinOp::And
        | BinOp::Or => Ty::Bool,
        _ => a.ty.clone(),
    };
    e(
        ExprKind::Binary {
            op,
            lhs: Box::new(a),
            rhs: Box::new(b),
        },
        ty,
    )
}
pub fn add(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Add, a, b)
}
pub fn sub(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Sub, a, b)
}
pub fn mul(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Mul, a, b)
}
pub fn lt(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Lt, a, b)
}
pub fn eq(a: Expr, b: Expr) -> Expr {
    bin(BinOp::Eq, a, b)
}
pub fn neg(a: Expr) -> Expr {
    let ty = a.ty.clone();
    e(
        ExprKind::Unary {
            op: UnOp::Neg,
            operand: Box::new(a),
        },
        ty,
    )
}
pub fn not(a: Expr) -> Expr {
    e(
        ExprKind::Unary {
            op: UnOp::Not,
            operand: Box::new(a),
        },
        Ty::Bool,
    )
}

pub fn call(f: FuncId, args: Vec<Expr>, ret: Ty) -> Expr {
    e(
        ExprKind::Call {
            func: f,
            type_args: vec![],
            args,
        },
        ret,
    )
}
pub fn call_g(f: FuncId, targs: Vec<Ty>, args: Vec<Expr>, ret: Ty) -> Expr {
    e(
        ExprKind::Call {
            func: f,
            type_args: targs,
            args,
        },
        ret,
    )
}
pub fn intr(op: Intrinsic, args: Vec<Expr>, ty: Ty) -> Expr {
    e(ExprKind::Intrinsic { op, args }, ty)
}
pub fn print(x: Expr) -> Stmt {
    Stmt::Expr(intr(Intrinsic::Print, vec![x], Ty::Unit))
}
pub fn tostr(x: Expr) -> Expr {
    intr(Intrinsic::ToString, vec![x], Ty::String)
}
/// `print(to_string(x))`
pub fn show(x: Expr) -> Stmt {
    print(tostr(x))
}
pub fn interp(parts: Vec<Expr>) -> Expr {
    e(ExprKind::Interp(parts), Ty::String)
}
pub fn block(stmts: Vec<Stmt>, tail: Expr) -> Expr {
    let ty = tail.ty.clone();
    e(
        ExprKind::Block {
            stmts,
            tail: Box::new(tail),
        },
        ty,
    )
}
pub fn stmts(s: Vec<Stmt>) -> Expr {
    block(s, unit())
}
pub fn if_(c: Expr, t: Expr, f: Expr) -> Expr {
    let ty = if t.ty == Ty::Never {
        f.ty.clone()
    } else {
        t.ty.clone()
    };
    e(
        ExprKind::If {
            cond: Box::new(c),
            then: Box::new(t),
            else_: Box::new(f),
        },
        ty,
    )
}
pub fn while_(c: Expr, body: Expr) -> Expr {
    e(
        ExprKind::While {
            cond: Box::new(c),
            body: Box::new(body),
        },
        Ty::Unit,
    )
}
pub fn for_range(v: LocalId, lo: Expr, hi: Expr, body: Expr) -> Expr {
    e(
        ExprKind::ForRange {
            var: v,
            lo: Box::new(lo),
            hi: Box::new(hi),
            body: Box::new(body),
        },
        Ty::Unit,
    )
}
pub fn for_list(v: LocalId, l: Expr, body: Expr) -> Expr {
    e(
        ExprKind::ForList {
            var: v,
            list: Box::new(l),
            body: Box::new(body),
        },
        Ty::Unit,
    )
}
pub fn ret(x: Expr) -> Expr {
    e(ExprKind::Return(Box::new(x)), Ty::Never)
}
pub fn brk() -> Expr {
    e(ExprKind::Break, Ty::Never)
}
pub fn cont() -> Expr {
    e(ExprKind::Continue, Ty::Never)
}
pub fn list(elem: Ty, xs: Vec<Expr>) -> Expr {
    e(ExprKind::List(xs), Ty::list(elem))
}
pub fn tuple(xs: Vec<Expr>) -> Expr {
    let ty = Ty::Tuple(xs.iter().map(|x| x.ty.clone()).collect());
    e(ExprKind::Tuple(xs), ty)
}
pub fn field(b: Expr, i: u32, ty: Ty) -> Expr {
    e(
        ExprKind::Field {
            base: Box::new(b),
            index: i,
        },
        ty,
    )
}
pub fn index(b: Expr, i: Expr) -> Expr {
    let ty = match &b.ty {
        Ty::List(t) => (**t).clone(),
        _ => Ty::Unit,
    };
    e(
        ExprKind::Index {
            base: Box::new(b),
            index: Box::new(i),
        },
        ty,
    )
}
pub fn let_(l: LocalId, v: Expr) -> Stmt {
    Stmt::Let {
        pat: Pat {
            kind: PatKind::Bind(l),
            ty: v.ty.clone(),
            span: line(1),
        },
        value: v,
    }
}
pub fn let_pat(p: Pat, v: Expr) -> Stmt {
    Stmt::Let { pat: p, value: v }
}
pub fn ex(x: Expr) -> Stmt {
    Stmt::Expr(x)
}
pub fn place(root: LocalId, path: Vec<PlaceElem>, ty: Ty) -> Place {
    Place {
        root,
        path,
        ty,
        span: line(1),
    }
}
pub fn assign(p: Place, v: Expr) -> Stmt {
    Stmt::Assign { place: p, value: v }
}
pub fn set(l: LocalId, ty: Ty, v: Expr) -> Stmt {
    assign(place(l, vec![], ty), v)
}
pub fn mut_call(p: Place, op: Intrinsic, args: Vec<Expr>, ty: Ty) -> Expr {
    e(
        ExprKind::MutCall {
            place: p,
            callee: MutCallee::Intrinsic(op),
            args,
        },
        ty,
    )
}

pub fn pat(kind: PatKind, ty: Ty) -> Pat {
    Pat {
        kind,
        ty,
        span: line(1),
    }
}
pub fn pbind(l: LocalId, ty: Ty) -> Pat {
    pat(PatKind::Bind(l), ty)
}
pub fn pwild(ty: Ty) -> Pat {
    pat(PatKind::Wildcard, ty)
}
pub fn arm(p: Pat, guard: Option<Expr>, body: Expr) -> MatchArm {
    MatchArm {
        pat: p,
        guard,
        body,
    }
}
pub fn match_(s: Expr, arms: Vec<MatchArm>, ty: Ty) -> Expr {
    e(
        ExprKind::Match {
            scrutinee: Box::new(s),
            arms,
        },
        ty,
    )
}

/// A function under construction.
pub struct F {
    pub def: FuncDef,
}

impl F {
    pub fn new(name: &str, ret: Ty) -> F {
        F {
            def: FuncDef {
                name: name.into(),
                generics: vec![],
                params: vec![],
                captures: 0,
                inout_self: false,
                agent: None,
                ret,
                locals: vec![],
                body: unit(),
                span: line(1),
            },
        }
    }
    fn add(&mut self, name: &str, ty: Ty, mutable: bool) -> LocalId {
        self.def.locals.push(LocalDef {
            name: name.into(),
            ty,
            mutable,
        });
        LocalId(self.def.locals.len() as u32 - 1)
    }
    pub fn param(&mut self, name: &str, ty: Ty) -> LocalId {
        let l = self.add(name, ty, false);
        self.def.params.push(l);
        l
    }
    pub fn var_param(&mut self, name: &str, ty: Ty) -> LocalId {
        let l = self.add(name, ty, true);
        self.def.params.push(l);
        l
    }
    pub fn val(&mut self, name: &str, ty: Ty) -> LocalId {
        self.add(name, ty, false)
    }
    pub fn var(&mut self, name: &str, ty: Ty) -> LocalId {
        self.add(name, ty, true)
    }
    /// A read of a local.
    pub fn get(&self, l: LocalId) -> Expr {
        e(ExprKind::Local(l), self.def.locals[l.0 as usize].ty.clone())
    }
    pub fn ty(&self, l: LocalId) -> Ty {
        self.def.locals[l.0 as usize].ty.clone()
    }
}

/// A program under construction, with the prelude's Option and Result.
pub struct P {
    pub prog: Program,
}

pub const OPTION: AdtId = AdtId(0);
pub const RESULT: AdtId = AdtId(1);

pub fn option(t: Ty) -> Ty {
    Ty::Adt(OPTION, vec![t])
}

impl P {
    pub fn new() -> P {
        let option = AdtDef {
            name: "Option".into(),
            generics: vec!["T".into()],
            kind: AdtKind::Enum(vec![
                VariantDef {
                    name: "Some".into(),
                    fields: vec![Ty::Param(0)],
                },
                VariantDef {
                    name: "None".into(),
                    fields: vec![],
                },
            ]),
            span: line(1),
        };
        let result = AdtDef {
            name: "Result".into(),
            generics: vec!["T".into(), "E".into()],
            kind: AdtKind::Enum(vec![
                VariantDef {
                    name: "Ok".into(),
                    fields: vec![Ty::Param(0)],
                },
                VariantDef {
                    name: "Err".into(),
                    fields: vec![Ty::Param(1)],
                },
            ]),
            span: line(1),
        };
        P {
            prog: Program {
                adts: vec![option, result],
                funcs: vec![],
                tests: vec![],
                main: None,
                agents: vec![],
                option: OPTION,
                result: RESULT,
                resources: vec![],
            },
        }
    }

    pub fn record(&mut self, name: &str, generics: &[&str], fields: Vec<(&str, Ty)>) -> AdtId {
        let fields = fields
            .into_iter()
            .map(|(n, t)| FieldDef {
                name: n.into(),
                ty: t,
                default: None,
            })
            .collect();
        self.adt(name, generics, AdtKind::Record(fields))
    }

    pub fn enum_(&mut self, name: &str, generics: &[&str], vs: Vec<(&str, Vec<Ty>)>) -> AdtId {
        let vs = vs
            .into_iter()
            .map(|(n, fs)| VariantDef {
                name: n.into(),
                fields: fs,
            })
            .collect();
        self.adt(name, generics, AdtKind::Enum(vs))
    }

    fn adt(&mut self, name: &str, generics: &[&str], kind: AdtKind) -> AdtId {
        self.prog.adts.push(AdtDef {
            name: name.into(),
            generics: generics.iter().map(|g| g.to_string()).collect(),
            kind,
            span: line(1),
        });
        AdtId(self.prog.adts.len() as u32 - 1)
    }

    /// Reserves a function id (for recursion); define it later with [`P::define`].
    pub fn reserve(&mut self) -> FuncId {
        self.prog.funcs.push(F::new("<reserved>", Ty::Unit).def);
        FuncId(self.prog.funcs.len() as u32 - 1)
    }

    pub fn define(&mut self, id: FuncId, mut f: F, body: Expr) {
        f.def.body = body;
        self.prog.funcs[id.0 as usize] = f.def;
    }

    pub fn func(&mut self, f: F, body: Expr) -> FuncId {
        let id = self.reserve();
        self.define(id, f, body);
        id
    }

    /// `fn main() { body }`
    pub fn main(&mut self, f: F, body: Expr) -> FuncId {
        let id = self.func(f, body);
        self.prog.main = Some(id);
        id
    }

    pub fn test(&mut self, name: &str, f: F, body: Expr) {
        let id = self.func(f, body);
        self.prog.tests.push(TestDef {
            name: name.into(),
            func: id,
            span: line(1),
        });
    }
}
