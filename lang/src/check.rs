//! Name resolution and type checking: AST in, typed IR out.
//!
//! The driver loads the root file, the prelude and every module named by `use`, collects
//! their items, lowers declared types and signatures, then checks each body with local
//! inference ([`body`]). Every error is collected; a program is produced only without errors.

mod agent;
mod body;
mod builtins;
mod call;
mod default;
mod exhaustive;
mod expr;
mod lane;
mod migrate;
mod pattern;
mod pure;
mod regular;
mod resource;
mod stmt;
mod sugar;
mod unify;

use crate::ast::{self, TypeExpr, TypeExprKind};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap, Span};
use crate::tir::{self, AdtDef, AdtKind, FieldDef, FuncId, VariantDef};
use crate::types::{AdtId, AgentId, Ty, TyDisplay};
use crate::{Frontend, Loader};
use std::collections::HashMap;
use std::rc::Rc;

/// Modules deeper than this in a `use` chain are refused (a cycle guard of last resort).
const MODULES_MAX: usize = 256;
/// Type aliases expanding deeper than this are reported as cyclic.
const ALIAS_DEPTH_MAX: u32 = 64;

pub fn check_file(name: &str, text: &str, loader: &dyn Loader) -> Frontend {
    let mut ck = Checker::new(loader);
    ck.run(name, text);
    let has_errors = ck.diags.iter().any(Diagnostic::is_error);
    let program = if has_errors { None } else { Some(ck.finish()) };
    let mut diagnostics = ck.diags;
    diagnostics.sort_by_key(|d| (d.span.file, d.span.start));
    Frontend {
        sources: ck.sources,
        program,
        diagnostics,
    }
}

/// What a name in a module refers to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Item {
    Func(FuncId),
    Adt(AdtId),
    Variant(AdtId, u32),
    Alias(u32),
    Module(usize),
    Agent(AgentId),
}

pub(crate) struct ModInfo {
    /// `main` for the root, `shapes` for `shapes.weft`, `std::http`, `prelude`.
    pub name: String,
    pub file: FileId,
    pub ast: Rc<ast::Module>,
    pub items: HashMap<String, Item>,
    pub imports: HashMap<String, Item>,
}

/// How a function receives `self`, if it is a method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum SelfKind {
    None,
    Value,
    Var,
}

pub(crate) struct ParamInfo {
    pub name: String,
    pub ty: Ty,
    pub default: Option<ast::Expr>,
    /// For an agent method's parameter with a default: the function computing it, which
    /// calls use instead of checking `default` again.
    pub default_fn: Option<FuncId>,
}

pub(crate) struct FuncInfo {
    pub name: String,
    pub module: usize,
    pub generics: Vec<String>,
    pub params: Vec<ParamInfo>,
    pub ret: Ty,
    pub self_kind: SelfKind,
    pub decl: Option<Rc<ast::FnDecl>>,
    pub span: Span,
    /// For a member of an agent: which agent, and what kind of member.
    pub member: Option<agent::Member>,
    /// A body that may touch nothing but its parameters (a migration, a field's default).
    pub pure: Option<pure::Pure>,
}

pub(crate) struct AliasInfo {
    pub module: usize,
    pub generics: Vec<String>,
    pub target: TypeExpr,
}

/// The receiver shape a method is looked up by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Head {
    Int,
    Float,
    Bool,
    String,
    Bytes,
    Duration,
    Unit,
    List,
    Map,
    Tuple,
    Fn,
    Adt(AdtId),
    Agent(AgentId),
}

impl Head {
    pub fn of(ty: &Ty) -> Option<Head> {
        Some(match ty {
            Ty::Int => Head::Int,
            Ty::Float => Head::Float,
            Ty::Bool => Head::Bool,
            Ty::String => Head::String,
            Ty::Bytes => Head::Bytes,
            Ty::Duration => Head::Duration,
            Ty::Unit => Head::Unit,
            Ty::List(_) => Head::List,
            Ty::Map(..) => Head::Map,
            Ty::Tuple(_) => Head::Tuple,
            Ty::Fn(..) => Head::Fn,
            Ty::Adt(id, _) => Head::Adt(*id),
            Ty::Agent(id) => Head::Agent(*id),
            _ => return None,
        })
    }
}

pub(crate) struct Checker<'l> {
    loader: &'l dyn Loader,
    pub sources: SourceMap,
    pub diags: Vec<Diagnostic>,
    pub modules: Vec<ModInfo>,
    pub adts: Vec<AdtDef>,
    pub adt_module: Vec<usize>,
    pub funcs: Vec<FuncInfo>,
    pub aliases: Vec<AliasInfo>,
    pub agents: Vec<agent::AgentInfo>,
    /// Checked bodies by `FuncId` (lifted lambdas and tests are appended).
    pub bodies: Vec<Option<tir::FuncDef>>,
    pub methods: HashMap<(Head, String), Vec<FuncId>>,
    pub tests: Vec<tir::TestDef>,
    pub prelude: usize,
    pub root: usize,
    pub option: AdtId,
    pub result: AdtId,
    /// The prelude's `type Error = { message: String }`, what `try` fails with.
    pub error_adt: AdtId,
    /// Every `new` of a resource so far.
    pub resources: Vec<tir::ResourceSite>,
}

impl<'l> Checker<'l> {
    fn new(loader: &'l dyn Loader) -> Checker<'l> {
        Checker {
            loader,
            sources: SourceMap::new(),
            diags: vec![],
            modules: vec![],
            adts: vec![],
            adt_module: vec![],
            funcs: vec![],
            aliases: vec![],
            agents: vec![],
            bodies: vec![],
            methods: HashMap::new(),
            tests: vec![],
            prelude: 0,
            root: 1,
            option: AdtId(0),
            result: AdtId(1),
            error_adt: AdtId(2),
            resources: vec![],
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn run(&mut self, name: &str, text: &str) {
        self.load_module("prelude".into(), "<prelude>", weft_stdlib::PRELUDE);
        self.option = match self.modules[0].items.get("Option") {
            Some(Item::Adt(id)) => *id,
            _ => AdtId(0),
        };
        self.result = match self.modules[0].items.get("Result") {
            Some(Item::Adt(id)) => *id,
            _ => AdtId(1),
        };
        if let Some(Item::Adt(id)) = self.modules[0].items.get("Error") {
            self.error_adt = *id;
        }
        self.root = self.load_module("main".into(), name, text);
        self.resolve_uses();
        self.load_http_if_used();
        for m in 0..self.modules.len() {
            self.lower_adts(m);
        }
        self.check_regular_adts();
        for m in 0..self.modules.len() {
            self.lower_signatures(m);
        }
        self.check_routes();
        if self.diags.iter().any(Diagnostic::is_error) {
            return;
        }
        for f in 0..self.funcs.len() {
            if self.funcs[f].decl.is_some() {
                body::check_fn(self, FuncId(f as u32));
            }
        }
        self.check_tests();
        self.check_pure_reach();
    }

    /// Parses a file and collects its items; returns its module index.
    fn load_module(&mut self, modname: String, file_name: &str, text: &str) -> usize {
        let file = self.sources.add(file_name, text);
        let (ast, diags) = crate::parse::parse(file, text);
        self.diags.extend(diags);
        let idx = self.modules.len();
        self.modules.push(ModInfo {
            name: modname,
            file,
            ast: Rc::new(ast),
            items: HashMap::new(),
            imports: HashMap::new(),
        });
        self.collect_items(idx);
        idx
    }

    fn define(&mut self, m: usize, ident: &ast::Ident, item: Item) {
        if let Some(_prev) = self.modules[m].items.get(&ident.name) {
            let d = Diagnostic::error(
                ident.span,
                format!("`{}` is defined more than once", ident.name),
            )
            .with_label("redefined here");
            self.error(d);
            return;
        }
        self.modules[m].items.insert(ident.name.clone(), item);
    }

    fn collect_items(&mut self, m: usize) {
        let ast = self.modules[m].ast.clone();
        let prefix = if m == self.root || m == self.prelude {
            String::new()
        } else {
            format!("{}::", self.modules[m].name)
        };
        for item in &ast.items {
            match item {
                ast::Item::Fn(f) => {
                    let id = FuncId(self.funcs.len() as u32);
                    self.funcs.push(FuncInfo {
                        name: format!("{prefix}{}", f.name.name),
                        module: m,
                        generics: f.generics.iter().map(|g| g.name.clone()).collect(),
                        params: vec![],
                        ret: Ty::Unit,
                        self_kind: SelfKind::None,
                        decl: Some(Rc::new(f.clone())),
                        span: f.name.span,
                        member: None,
                        pure: None,
                    });
                    self.bodies.push(None);
                    let is_method = f.params.first().is_some_and(|p| p.name.name == "self");
                    if !is_method {
                        self.define(m, &f.name, Item::Func(id));
                    }
                }
                ast::Item::Type(t) => match &t.ty.kind {
                    TypeExprKind::Record(_) => {
                        let id = self.new_adt(m, &t.name, &t.generics, AdtKind::Record(vec![]));
                        self.define(m, &t.name, Item::Adt(id));
                    }
                    _ => {
                        let id = self.aliases.len() as u32;
                        self.aliases.push(AliasInfo {
                            module: m,
                            generics: t.generics.iter().map(|g| g.name.clone()).collect(),
                            target: t.ty.clone(),
                        });
                        self.define(m, &t.name, Item::Alias(id));
                    }
                },
                ast::Item::Enum(e) => {
                    let id = self.new_adt(m, &e.name, &e.generics, AdtKind::Enum(vec![]));
                    self.define(m, &e.name, Item::Adt(id));
                    for (i, v) in e.variants.iter().enumerate() {
                        self.define(m, &v.name, Item::Variant(id, i as u32));
                    }
                }
                ast::Item::Agent(a) => self.collect_agent(m, &prefix, a),
                ast::Item::Use(_) | ast::Item::Test(_) => {}
            }
        }
    }

    fn new_adt(
        &mut self,
        m: usize,
        name: &ast::Ident,
        generics: &[ast::Ident],
        kind: AdtKind,
    ) -> AdtId {
        let id = AdtId(self.adts.len() as u32);
        let prefix = if m == self.root || m == self.prelude {
            String::new()
        } else {
            format!("{}::", self.modules[m].name)
        };
        self.adts.push(AdtDef {
            name: format!("{prefix}{}", name.name),
            generics: generics.iter().map(|g| g.name.clone()).collect(),
            kind,
            span: name.span,
        });
        self.adt_module.push(m);
        id
    }

    /// Loads every module named by `use` (transitively) and binds imported names.
    /// An HttpService's handler takes `std::http`'s `Request` and gives its `Response`,
    /// so a program that names the kind gets that module, imported or not.
    fn load_http_if_used(&mut self) {
        let used = self.modules.iter().any(|m| {
            m.name != "std::http" && self.sources.file(m.file).text.contains("HttpService")
        });
        if used {
            let span = Span::new(self.modules[self.root].file, 0, 0);
            let path = ["std".to_string(), "http".to_string()];
            self.find_or_load(self.root, &path, span);
        }
    }

    /// The type `name` of `std::http`, when the module is loaded.
    pub fn http_type(&self, name: &str) -> Option<Ty> {
        let m = self.modules.iter().find(|m| m.name == "std::http")?;
        match m.items.get(name)? {
            Item::Adt(id) => Some(Ty::Adt(*id, vec![])),
            _ => None,
        }
    }

    fn resolve_uses(&mut self) {
        let mut m = 0;
        while m < self.modules.len() {
            let ast = self.modules[m].ast.clone();
            for item in &ast.items {
                if let ast::Item::Use(u) = item {
                    self.resolve_use(m, u);
                }
            }
            m += 1;
        }
    }

    fn resolve_use(&mut self, m: usize, u: &ast::UseDecl) {
        let path: Vec<String> = u.path.iter().map(|i| i.name.clone()).collect();
        let Some(target) = self.find_or_load(m, &path, u.span) else {
            return;
        };
        match &u.names {
            None => {
                let alias = path.last().cloned().unwrap_or_default();
                self.modules[m].imports.insert(alias, Item::Module(target));
            }
            Some(names) => {
                for n in names {
                    match self.modules[target].items.get(&n.name).copied() {
                        Some(item) => {
                            self.modules[m].imports.insert(n.name.clone(), item);
                        }
                        None => {
                            let d = Diagnostic::error(
                                n.span,
                                format!("module `{}` has no item `{}`", path.join("::"), n.name),
                            )
                            .with_label("not found");
                            self.error(d);
                        }
                    }
                }
            }
        }
    }

    fn find_or_load(&mut self, m: usize, path: &[String], span: Span) -> Option<usize> {
        let modname = path.join("::");
        if let Some(i) = self.modules.iter().position(|x| x.name == modname) {
            return Some(i);
        }
        if self.modules.len() >= MODULES_MAX {
            self.error(
                Diagnostic::error(span, "too many modules").with_label("while loading this one"),
            );
            return None;
        }
        let from = self.sources.file(self.modules[m].file).name.clone();
        let loaded = if path.first().map(String::as_str) == Some("std") {
            let rest: Vec<&str> = path[1..].iter().map(String::as_str).collect();
            weft_stdlib::module(&rest)
                .map(|t| (format!("<std::{}>", rest.join("::")), t.to_string()))
                .ok_or_else(|| format!("the standard library has no module `{modname}`"))
        } else {
            self.loader.load(path, &from)
        };
        match loaded {
            Ok((file_name, text)) => Some(self.load_module(modname, &file_name, &text)),
            Err(why) => {
                self.error(
                    Diagnostic::error(span, format!("cannot load module `{modname}`"))
                        .with_label(why),
                );
                None
            }
        }
    }

    /// Looks a name up in a module: its own items, then its imports, then the prelude.
    pub fn lookup(&self, m: usize, name: &str) -> Option<Item> {
        let module = &self.modules[m];
        module
            .items
            .get(name)
            .or_else(|| module.imports.get(name))
            .or_else(|| self.modules[self.prelude].items.get(name))
            .copied()
    }

    /// Looks up `a::b::name` from module m.
    pub fn lookup_path(&self, m: usize, path: &[ast::Ident], name: &str) -> Option<Item> {
        let mut cur = m;
        for (i, seg) in path.iter().enumerate() {
            let found = if i == 0 {
                self.lookup(cur, &seg.name)
            } else {
                self.modules[cur].items.get(&seg.name).copied()
            };
            match found {
                Some(Item::Module(next)) => cur = next,
                _ => {
                    // `Shape::Circle`: a type followed by a variant.
                    if let (Some(Item::Adt(id)), true) = (found, i + 1 == path.len()) {
                        return self.variant_index(id, name).map(|v| Item::Variant(id, v));
                    }
                    return None;
                }
            }
        }
        if path.is_empty() {
            self.lookup(m, name)
        } else {
            self.modules[cur].items.get(name).copied()
        }
    }

    pub fn variant_index(&self, id: AdtId, name: &str) -> Option<u32> {
        match &self.adts[id.0 as usize].kind {
            AdtKind::Enum(vs) => vs.iter().position(|v| v.name == name).map(|i| i as u32),
            AdtKind::Record(_) => None,
        }
    }

    fn lower_adts(&mut self, m: usize) {
        let ast = self.modules[m].ast.clone();
        for item in &ast.items {
            match item {
                ast::Item::Type(t) => {
                    let TypeExprKind::Record(fields) = &t.ty.kind else {
                        continue;
                    };
                    let Some(Item::Adt(id)) = self.modules[m].items.get(&t.name.name).copied()
                    else {
                        continue;
                    };
                    let generics: Vec<String> = t.generics.iter().map(|g| g.name.clone()).collect();
                    let mut out = vec![];
                    for field in fields {
                        let name = &field.name;
                        if out.iter().any(|f: &FieldDef| f.name == name.name) {
                            self.error(Diagnostic::error(
                                name.span,
                                format!("field `{}` is declared twice", name.name),
                            ));
                        }
                        let ty = self.lower_ty(m, &generics, &field.ty);
                        let default = field
                            .default
                            .as_ref()
                            .map(|e| self.field_default_fn(m, id, t, field, e, ty.clone()));
                        out.push(FieldDef {
                            name: name.name.clone(),
                            ty,
                            default,
                        });
                    }
                    self.adts[id.0 as usize].kind = AdtKind::Record(out);
                }
                ast::Item::Enum(e) => {
                    let Some(Item::Adt(id)) = self.modules[m].items.get(&e.name.name).copied()
                    else {
                        continue;
                    };
                    let generics: Vec<String> = e.generics.iter().map(|g| g.name.clone()).collect();
                    let variants = e
                        .variants
                        .iter()
                        .map(|v| VariantDef {
                            name: v.name.name.clone(),
                            fields: v
                                .fields
                                .iter()
                                .map(|f| self.lower_ty(m, &generics, f))
                                .collect(),
                        })
                        .collect();
                    self.adts[id.0 as usize].kind = AdtKind::Enum(variants);
                }
                _ => {}
            }
        }
    }

    fn lower_signatures(&mut self, m: usize) {
        self.lower_agent_lanes(m);
        for f in 0..self.funcs.len() {
            if self.funcs[f].module != m {
                continue;
            }
            if let Some(member) = self.funcs[f].member {
                self.lower_member(f, member);
                continue;
            }
            let Some(decl) = self.funcs[f].decl.clone() else {
                continue;
            };
            let generics = self.funcs[f].generics.clone();
            self.check_default_order(&decl.params);
            let mut params = vec![];
            let mut self_kind = SelfKind::None;
            for (i, p) in decl.params.iter().enumerate() {
                if p.name.name == "self" {
                    if i != 0 {
                        self.error(Diagnostic::error(
                            p.name.span,
                            "`self` must be the first parameter",
                        ));
                    }
                    self_kind = if p.mutable {
                        SelfKind::Var
                    } else {
                        SelfKind::Value
                    };
                } else if params.iter().any(|q: &ParamInfo| q.name == p.name.name) {
                    self.error(Diagnostic::error(
                        p.name.span,
                        format!("parameter `{}` is declared twice", p.name.name),
                    ));
                }
                let ty = self.lower_ty(m, &generics, &p.ty);
                params.push(ParamInfo {
                    name: p.name.name.clone(),
                    ty,
                    default: p.default.clone(),
                    default_fn: None,
                });
            }
            let ret = match &decl.ret {
                Some(t) => self.lower_ty(m, &generics, t),
                None => Ty::Unit,
            };
            if self_kind != SelfKind::None {
                match Head::of(&params[0].ty) {
                    Some(h) => self
                        .methods
                        .entry((h, decl.name.name.clone()))
                        .or_default()
                        .push(FuncId(f as u32)),
                    None => self.error(
                        Diagnostic::error(
                            decl.params[0].ty.span,
                            "methods cannot be declared on a type parameter",
                        )
                        .with_label("`self` needs a concrete type here"),
                    ),
                }
            }
            let info = &mut self.funcs[f];
            info.params = params;
            info.ret = ret;
            info.self_kind = self_kind;
        }
    }

    /// Lowers a written type in module `m` where `generics` are in scope.
    pub fn lower_ty(&mut self, m: usize, generics: &[String], t: &TypeExpr) -> Ty {
        self.lower_ty_depth(m, generics, t, 0)
    }

    fn lower_ty_depth(&mut self, m: usize, generics: &[String], t: &TypeExpr, depth: u32) -> Ty {
        match &t.kind {
            TypeExprKind::Tuple(ts) if ts.is_empty() => Ty::Unit,
            TypeExprKind::Tuple(ts) if ts.len() == 1 => {
                self.lower_ty_depth(m, generics, &ts[0], depth)
            }
            TypeExprKind::Tuple(ts) => Ty::Tuple(
                ts.iter()
                    .map(|t| self.lower_ty_depth(m, generics, t, depth))
                    .collect(),
            ),
            TypeExprKind::Fn { params, ret } => {
                let ps = params
                    .iter()
                    .map(|t| self.lower_ty_depth(m, generics, t, depth))
                    .collect();
                Ty::Fn(ps, Box::new(self.lower_ty_depth(m, generics, ret, depth)))
            }
            TypeExprKind::Record(_) => {
                self.error(
                    Diagnostic::error(t.span, "a record type must be declared with a name")
                        .with_hint("declare it as `type Name = { ... }` and use `Name`"),
                );
                Ty::Unit
            }
            TypeExprKind::Named { path, name, args } => {
                let args: Vec<Ty> = args
                    .iter()
                    .map(|a| self.lower_ty_depth(m, generics, a, depth))
                    .collect();
                self.lower_named(m, generics, path, name, args, t.span, depth)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn lower_named(
        &mut self,
        m: usize,
        generics: &[String],
        path: &[ast::Ident],
        name: &ast::Ident,
        args: Vec<Ty>,
        span: Span,
        depth: u32,
    ) -> Ty {
        let arity = |ck: &mut Self, n: usize| {
            if args.len() != n {
                let d = Diagnostic::error(
                    span,
                    format!(
                        "`{}` takes {n} type argument{}",
                        name.name,
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .with_label(format!("{} given", args.len()));
                ck.error(d);
                false
            } else {
                true
            }
        };
        if path.is_empty() {
            if let Some(i) = generics.iter().position(|g| *g == name.name) {
                arity(self, 0);
                return Ty::Param(i as u32);
            }
            let simple = match name.name.as_str() {
                "Int" => Some(Ty::Int),
                "Float" => Some(Ty::Float),
                "Bool" => Some(Ty::Bool),
                "String" => Some(Ty::String),
                "Bytes" => Some(Ty::Bytes),
                "Unit" => Some(Ty::Unit),
                "Duration" => Some(Ty::Duration),
                "Never" => Some(Ty::Never),
                _ => None,
            };
            if let Some(t) = simple {
                arity(self, 0);
                return t;
            }
            match name.name.as_str() {
                "List" => {
                    return if arity(self, 1) {
                        Ty::List(Box::new(args[0].clone()))
                    } else {
                        Ty::list(Ty::Unit)
                    };
                }
                "Map" => {
                    return if arity(self, 2) {
                        Ty::Map(Box::new(args[0].clone()), Box::new(args[1].clone()))
                    } else {
                        Ty::Map(Box::new(Ty::Unit), Box::new(Ty::Unit))
                    };
                }
                n => {
                    // A program's own type of that name comes first.
                    let kind = crate::types::ResourceKind::from_type_name(n)
                        .filter(|_| self.lookup_path(m, path, n).is_none());
                    if let Some(kind) = kind {
                        return if arity(self, kind.arity()) {
                            Ty::Resource(kind, args)
                        } else {
                            Ty::Resource(kind, vec![Ty::Unit; kind.arity()])
                        };
                    }
                }
            }
        }
        match self.lookup_path(m, path, &name.name) {
            Some(Item::Adt(id)) => {
                let n = self.adts[id.0 as usize].generics.len();
                if arity(self, n) {
                    Ty::Adt(id, args)
                } else {
                    Ty::Adt(id, vec![Ty::Unit; n])
                }
            }
            Some(Item::Agent(id)) => {
                arity(self, 0);
                Ty::Agent(id)
            }
            Some(Item::Alias(a)) => {
                if depth > ALIAS_DEPTH_MAX {
                    self.error(Diagnostic::error(
                        span,
                        format!("type alias `{}` refers to itself", name.name),
                    ));
                    return Ty::Unit;
                }
                let (am, ag, target) = {
                    let al = &self.aliases[a as usize];
                    (al.module, al.generics.clone(), al.target.clone())
                };
                if !arity(self, ag.len()) {
                    return Ty::Unit;
                }
                let body = self.lower_ty_depth(am, &ag, &target, depth + 1);
                body.subst(&args)
            }
            _ => {
                let d = Diagnostic::error(name.span, format!("unknown type `{}`", name.name))
                    .with_label("not found in this scope");
                self.error(d);
                Ty::Unit
            }
        }
    }

    fn check_tests(&mut self) {
        let ast = self.modules[self.root].ast.clone();
        for item in &ast.items {
            if let ast::Item::Test(t) = item {
                let func = body::check_test(self, self.root, t);
                self.tests.push(tir::TestDef {
                    name: t.name.clone(),
                    func,
                    span: t.span,
                });
            }
        }
    }

    /// A user-facing rendering of a type.
    pub fn show(&self, ty: &Ty, params: &[String]) -> String {
        let names = |id: AdtId| self.adts[id.0 as usize].name.clone();
        let agents = |id: AgentId| {
            self.agents
                .get(id.0 as usize)
                .map(|a| a.def.name.clone())
                .unwrap_or_default()
        };
        TyDisplay {
            ty,
            adt_names: &names,
            agent_names: &agents,
            param_names: params,
        }
        .to_string()
    }

    fn finish(&mut self) -> tir::Program {
        let main = self.lookup(self.root, "main").and_then(|i| match i {
            Item::Func(f) if self.funcs[f.0 as usize].module == self.root => Some(f),
            _ => None,
        });
        debug_assert!(
            self.bodies.iter().all(Option::is_some),
            "every function was checked"
        );
        let funcs = std::mem::take(&mut self.bodies)
            .into_iter()
            .flatten()
            .collect();
        let adts = std::mem::take(&mut self.adts);
        let tests = std::mem::take(&mut self.tests);
        tir::Program {
            agents: self.take_agents(),
            adts,
            funcs,
            tests,
            main,
            option: self.option,
            result: self.result,
            resources: std::mem::take(&mut self.resources),
        }
    }
}
