//! The module being built: every function is requested by a [`FnKey`] and gets its index at
//! once; its body is generated later from a work queue, so monomorphic instances, per-type
//! helpers and runtime routines appear exactly when something needs them.

use crate::inline::{self, Inlined};
use crate::layout::{ty_depth, STATIC_RC};
use crate::rt::Rt;
use crate::{imports, CompileError, DebugInfo, FuncDebug, InlinedCall, SrcLoc};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection,
    MemorySection, MemoryType, NameMap, NameSection, RefType, TableSection, TableType, TypeSection,
    ValType,
};
use weft_lang::source::{SourceMap, Span};
use weft_lang::tir::{FuncDef, FuncId, Program};
use weft_lang::types::Ty;

/// Deepest type a generic instantiation may create before we call it polymorphic recursion.
const TY_DEPTH_MAX: u32 = 48;
/// Most function instances one program may create.
const FUNCS_MAX: usize = 200_000;

/// Where the runtime's fixed areas live in linear memory.
pub const SCRATCH: u32 = 16;
pub const FREE_LISTS: u32 = 256;
pub const DATA_BASE: u32 = 1024;
/// Global 1 counts allocated blocks not yet freed (a cheap leak check for tests).
pub const LIVE_BLOCKS_GLOBAL: u32 = 1;
pub const LIVE_BLOCKS_EXPORT: &str = "live_blocks";
/// Global 2 is where the wire decoder reads next (see `helpers::wire`).
pub const WIRE_POS_GLOBAL: u32 = 2;
/// Global 3 (immutable) is where the heap starts, past the static data.
pub const HEAP_BASE_GLOBAL: u32 = 3;
/// The export that forgets every allocation between turns (`rt::Rt::Reset`).
pub const RESET_EXPORT: &str = "weft.reset";

/// Everything that becomes a defined wasm function.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FnKey {
    /// A Weft function at concrete type arguments.
    User(FuncId, Vec<Ty>),
    /// A `() -> ()` wrapper exported for `main` or a test.
    Export(FuncId),
    /// `(env, args..) -> ret`: loads the captures of a lifted lambda and calls it.
    ClosureEntry(FuncId, Vec<Ty>),
    /// `(env)`: releases a closure's captures and frees it.
    ClosureDrop(FuncId, Vec<Ty>),
    /// `(env, args..) -> ret`: a plain function used as a value.
    FuncValueEntry(FuncId, Vec<Ty>),
    /// `(v)`: releases one reference.
    Drop(Ty),
    /// `(v) -> v'`: a uniquely owned version (copies when shared).
    Unique(Ty),
    /// `(a, b) -> i32`
    Eq(Ty),
    /// `(v) -> i32`
    Hash(Ty),
    /// `(sb, v) -> sb`: appends the Weft syntax of v (strings quoted).
    Show(Ty),
    /// `(sb, v) -> sb`: appends v's wire form.
    Encode(Ty),
    /// `() -> v`: reads a value at the wire position.
    Decode(Ty),
    /// `(args_len)`: an exported entry, at concrete type arguments: an agent member, a
    /// lane migration or a record field's default (see `helpers::wire::gen_entry`).
    Entry(FuncId, Vec<Ty>),
    /// Map routines for one map type.
    Map(crate::rt::map::MapOp, Ty),
    Rt(Rt),
}

struct Slot {
    key: FnKey,
    body: Option<(Function, u32)>,
    name: String,
}

/// The name the function table is exported under (the host calls closures through it).
pub const TABLE_EXPORT: &str = "table";

pub struct Module<'p> {
    pub prog: &'p Program,
    pub sources: &'p SourceMap,
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
    type_map: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
    slots: Vec<Slot>,
    func_map: HashMap<FnKey, u32>,
    queue: Vec<u32>,
    table: Vec<u32>,
    table_map: HashMap<u32, u32>,
    data: Vec<u8>,
    str_map: HashMap<Vec<u8>, u32>,
    static_map: HashMap<String, u32>,
    pub debug: DebugInfo,
    exports: Vec<(String, u32)>,
    /// Whether calls to small functions are inlined (see `inline.rs`).
    pub inline: bool,
    inline_sizes: inline::Sizes,
    /// Each function's body with its calls inlined, shared by its instances.
    inlined: HashMap<FuncId, Rc<Inlined>>,
}

pub type R<T> = Result<T, CompileError>;

impl<'p> Module<'p> {
    pub fn new(prog: &'p Program, sources: &'p SourceMap) -> Module<'p> {
        Module {
            prog,
            sources,
            types: vec![],
            type_map: HashMap::new(),
            slots: vec![],
            func_map: HashMap::new(),
            queue: vec![],
            table: vec![],
            table_map: HashMap::new(),
            data: vec![],
            str_map: HashMap::new(),
            static_map: HashMap::new(),
            debug: DebugInfo::default(),
            exports: vec![],
            inline: true,
            inline_sizes: inline::Sizes::default(),
            inlined: HashMap::new(),
        }
    }

    /// `def` (the function `f`) with its calls inlined, computed once for all instances.
    pub fn inlined(&mut self, f: FuncId, def: &FuncDef) -> Rc<Inlined> {
        if let Some(i) = self.inlined.get(&f) {
            return i.clone();
        }
        let i = Rc::new(if self.inline {
            inline::inline(self.prog, &mut self.inline_sizes, f, def)
        } else {
            Inlined::none(def)
        });
        self.inlined.insert(f, i.clone());
        i
    }

    /// The function index for `key`, queueing its body on first request.
    pub fn func(&mut self, key: FnKey) -> u32 {
        if let Some(&i) = self.func_map.get(&key) {
            return i;
        }
        let idx = imports::IMPORTS.len() as u32 + self.slots.len() as u32;
        self.slots.push(Slot {
            key: key.clone(),
            body: None,
            name: String::new(),
        });
        self.func_map.insert(key, idx);
        self.queue.push(idx);
        idx
    }

    pub fn rt(&mut self, r: Rt) -> u32 {
        self.func(FnKey::Rt(r))
    }

    /// A checked request for a user function instance.
    pub fn user(&mut self, func: FuncId, targs: Vec<Ty>, span: Span) -> R<u32> {
        if targs.iter().any(|t| ty_depth(t) > TY_DEPTH_MAX) || self.slots.len() > FUNCS_MAX {
            let name = self
                .prog
                .funcs
                .get(func.0 as usize)
                .map(|f| f.name.clone())
                .unwrap_or_default();
            return Err(CompileError::TooDeep {
                what: name,
                location: self.location(span),
            });
        }
        Ok(self.func(FnKey::User(func, targs)))
    }

    pub fn type_idx(&mut self, params: Vec<ValType>, results: Vec<ValType>) -> u32 {
        let k = (params, results);
        if let Some(&i) = self.type_map.get(&k) {
            return i;
        }
        let i = self.types.len() as u32;
        self.types.push(k.clone());
        self.type_map.insert(k, i);
        i
    }

    /// The table slot of a function (for `call_indirect`).
    pub fn slot(&mut self, func: u32) -> u32 {
        if let Some(&s) = self.table_map.get(&func) {
            return s;
        }
        let s = self.table.len() as u32;
        self.table.push(func);
        self.table_map.insert(func, s);
        s
    }

    /// Places bytes in the static data area (16-aligned); returns their address.
    pub fn static_bytes(&mut self, bytes: &[u8]) -> u32 {
        while !self.data.len().is_multiple_of(16) {
            self.data.push(0);
        }
        let at = DATA_BASE + self.data.len() as u32;
        self.data.extend_from_slice(bytes);
        at
    }

    /// A static object: header with the static refcount, then `payload`.
    pub fn static_obj(&mut self, payload: &[u8]) -> u32 {
        let size = (8 + payload.len() as u32).div_ceil(16) * 16;
        let mut b = vec![];
        b.extend_from_slice(&STATIC_RC.to_le_bytes());
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(payload);
        self.static_bytes(&b)
    }

    /// A static String (or Bytes) object with these bytes.
    pub fn str_lit(&mut self, s: &[u8]) -> u32 {
        if let Some(&p) = self.str_map.get(s) {
            return p;
        }
        let mut payload = (s.len() as u32).to_le_bytes().to_vec();
        payload.extend_from_slice(s);
        let p = self.static_obj(&payload);
        self.str_map.insert(s.to_vec(), p);
        p
    }

    /// A static object identified by `name`, built once by `make`.
    pub fn static_named(
        &mut self,
        name: String,
        payload: impl FnOnce(&mut Self) -> Vec<u8>,
    ) -> u32 {
        if let Some(&p) = self.static_map.get(&name) {
            return p;
        }
        let bytes = payload(self);
        let p = self.static_obj(&bytes);
        self.static_map.insert(name, p);
        p
    }

    /// The nullary enum value with this tag (shared by all enums).
    pub fn static_tag(&mut self, tag: u32) -> u32 {
        self.static_named(format!("tag{tag}"), |_| tag.to_le_bytes().to_vec())
    }

    pub fn empty_list(&mut self) -> u32 {
        self.static_named("[]".into(), |_| vec![0; 8])
    }

    /// A record or tuple without fields.
    pub fn empty_record(&mut self) -> u32 {
        self.static_named("{}".into(), |_| vec![])
    }

    pub fn export(&mut self, name: String, func: u32) {
        self.exports.push((name, func));
    }

    pub fn location(&self, span: Span) -> String {
        if (span.file.0 as usize) < self.sources.files().count() {
            self.sources.location(span).to_string()
        } else {
            String::from("<unknown>")
        }
    }

    pub fn src_loc(&self, span: Span) -> SrcLoc {
        if (span.file.0 as usize) < self.sources.files().count() {
            let l = self.sources.location(span);
            SrcLoc {
                file: l.file,
                line: l.line,
                col: l.col,
            }
        } else {
            SrcLoc {
                file: "<unknown>".into(),
                line: 0,
                col: 0,
            }
        }
    }

    pub fn show_ty(&self, ty: &Ty) -> String {
        crate::layout::ty_name(self.prog, ty)
    }

    /// Generates every queued body.
    pub fn drain(&mut self) -> R<()> {
        while let Some(idx) = self.queue.pop() {
            let i = (idx - imports::IMPORTS.len() as u32) as usize;
            let key = self.slots[i].key.clone();
            // Helpers are requested without a way to fail; the limits are enforced here,
            // so no type, however it was reached, can make generation run away.
            if key_depth(&key) > TY_DEPTH_MAX || self.slots.len() > FUNCS_MAX {
                return Err(CompileError::TooDeep {
                    what: format!("a helper for a type nested more than {TY_DEPTH_MAX} deep"),
                    location: String::new(),
                });
            }
            let (mut fb, name, user_fn) = crate::gen::generate(self, &key)?;
            let ty = self.type_idx(fb.params.clone(), fb.results.clone());
            let inlined = std::mem::take(&mut fb.inlined);
            let (body, locs) = fb.finish();
            if user_fn {
                let locs = locs
                    .into_iter()
                    .map(|(o, s, site)| (o, self.src_loc(s), site))
                    .collect();
                let inlined = inlined
                    .into_iter()
                    .map(|c| InlinedCall {
                        name: c.name,
                        call: self.src_loc(c.call),
                        parent: c.parent,
                    })
                    .collect();
                self.debug.funcs.insert(
                    idx,
                    FuncDebug {
                        name: name.clone(),
                        locs,
                        inlined,
                    },
                );
            }
            self.slots[i].body = Some((body, ty));
            self.slots[i].name = name;
        }
        Ok(())
    }

    /// Assembles the module's bytes.
    pub fn finish(self) -> Vec<u8> {
        let mut m = wasm_encoder::Module::new();
        let mut types = self.types.clone();
        let mut type_map = self.type_map.clone();
        let mut import_types = vec![];
        for imp in imports::IMPORTS {
            let conv = |v: &imports::ValType| match v {
                imports::ValType::I32 => ValType::I32,
                imports::ValType::I64 => ValType::I64,
                imports::ValType::F64 => ValType::F64,
            };
            let k = (
                imp.params.iter().map(conv).collect::<Vec<_>>(),
                imp.results.iter().map(conv).collect::<Vec<_>>(),
            );
            let t = *type_map.entry(k.clone()).or_insert_with(|| {
                types.push(k);
                types.len() as u32 - 1
            });
            import_types.push(t);
        }
        let mut ts = TypeSection::new();
        for (p, r) in &types {
            ts.ty().function(p.iter().copied(), r.iter().copied());
        }
        m.section(&ts);
        let mut is = ImportSection::new();
        for (imp, t) in imports::IMPORTS.iter().zip(&import_types) {
            is.import(imports::MODULE, imp.name, EntityType::Function(*t));
        }
        m.section(&is);
        let mut fs = FunctionSection::new();
        for s in &self.slots {
            fs.function(
                s.body
                    .as_ref()
                    .expect("every function body was generated")
                    .1,
            );
        }
        m.section(&fs);
        let mut tab = TableSection::new();
        let n = self.table.len() as u64;
        tab.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: n,
            maximum: Some(n),
            shared: false,
        });
        m.section(&tab);
        let heap_start = (DATA_BASE + self.data.len() as u32).div_ceil(16) * 16 + 16;
        let pages = (heap_start as u64).div_ceil(65536) + 1;
        let mut ms = MemorySection::new();
        ms.memory(MemoryType {
            minimum: pages,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        m.section(&ms);
        let mut gs = GlobalSection::new();
        gs.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(heap_start as i32),
        );
        gs.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(0),
        );
        gs.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(0),
        );
        gs.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: false,
                shared: false,
            },
            &ConstExpr::i32_const(heap_start as i32),
        );
        m.section(&gs);
        let mut es = ExportSection::new();
        es.export("memory", ExportKind::Memory, 0);
        es.export(TABLE_EXPORT, ExportKind::Table, 0);
        es.export(LIVE_BLOCKS_EXPORT, ExportKind::Global, LIVE_BLOCKS_GLOBAL);
        for (name, f) in &self.exports {
            es.export(name, ExportKind::Func, *f);
        }
        m.section(&es);
        let mut els = ElementSection::new();
        let funcs: Vec<u32> = self.table.clone();
        els.active(
            Some(0),
            &ConstExpr::i32_const(0),
            Elements::Functions(funcs.into()),
        );
        m.section(&els);
        let mut cs = CodeSection::new();
        for s in &self.slots {
            cs.function(&s.body.as_ref().expect("body").0);
        }
        m.section(&cs);
        let mut ds = DataSection::new();
        ds.active(
            0,
            &ConstExpr::i32_const(DATA_BASE as i32),
            self.data.iter().copied(),
        );
        m.section(&ds);
        let mut names = NameSection::new();
        let mut fnames = NameMap::new();
        for (i, imp) in imports::IMPORTS.iter().enumerate() {
            fnames.append(i as u32, imp.name);
        }
        for (i, s) in self.slots.iter().enumerate() {
            fnames.append(imports::IMPORTS.len() as u32 + i as u32, &s.name);
        }
        names.functions(&fnames);
        m.section(&names);
        m.finish()
    }
}

/// The nesting depth of the types a function key is instantiated at.
fn key_depth(key: &FnKey) -> u32 {
    match key {
        FnKey::User(_, ts)
        | FnKey::ClosureEntry(_, ts)
        | FnKey::ClosureDrop(_, ts)
        | FnKey::FuncValueEntry(_, ts)
        | FnKey::Entry(_, ts) => ts.iter().map(ty_depth).max().unwrap_or(0),
        FnKey::Drop(t)
        | FnKey::Unique(t)
        | FnKey::Eq(t)
        | FnKey::Hash(t)
        | FnKey::Show(t)
        | FnKey::Encode(t)
        | FnKey::Decode(t) => ty_depth(t),
        FnKey::Map(_, t) => ty_depth(t),
        FnKey::Export(_) | FnKey::Rt(_) => 0,
    }
}
