//! A tiny module builder for tests: every `weft` import declared in the compiler's order
//! (so import `i` is function `i`), one exported page of memory, data, and functions.

use std::collections::BTreeMap;
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, InstructionSink, MemorySection,
    MemoryType, Module, TypeSection, ValType,
};
use weft_compiler::imports::{self, IMPORTS};
use weft_compiler::{Artifact, DebugInfo, FuncDebug, ModuleId, SrcLoc};

pub fn val(t: imports::ValType) -> ValType {
    match t {
        imports::ValType::I32 => ValType::I32,
        imports::ValType::I64 => ValType::I64,
        imports::ValType::F64 => ValType::F64,
    }
}

/// The function index of an import.
pub fn import(name: &str) -> u32 {
    let i = imports::index_of(name);
    assert_ne!(i, u32::MAX, "no import {name}");
    i
}

type Body = Box<dyn Fn(&mut InstructionSink<'_>)>;

struct Func {
    name: String,
    params: Vec<ValType>,
    results: Vec<ValType>,
    body: Body,
    exported: bool,
}

#[derive(Default)]
pub struct Builder {
    data: Vec<(u32, Vec<u8>)>,
    funcs: Vec<Func>,
    globals: u32,
    memory_pages: u64,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            memory_pages: 1,
            ..Builder::default()
        }
    }

    pub fn memory_pages(mut self, n: u64) -> Builder {
        self.memory_pages = n;
        self
    }

    /// Bytes placed at `offset` of memory.
    pub fn data(mut self, offset: u32, bytes: &[u8]) -> Builder {
        self.data.push((offset, bytes.to_vec()));
        self
    }

    /// A mutable i32 global (index in declaration order), starting at 0.
    pub fn global(mut self) -> Builder {
        self.globals += 1;
        self
    }

    /// The function index the next `func` gets.
    pub fn next_index(&self) -> u32 {
        (IMPORTS.len() + self.funcs.len()) as u32
    }

    /// A `() -> ()` function, exported under its name.
    pub fn export(self, name: &str, body: impl Fn(&mut InstructionSink<'_>) + 'static) -> Builder {
        self.func_sig(name, vec![], vec![], true, body)
    }

    /// A `() -> ()` function, not exported.
    pub fn func(self, name: &str, body: impl Fn(&mut InstructionSink<'_>) + 'static) -> Builder {
        self.func_sig(name, vec![], vec![], false, body)
    }

    pub fn func_sig(
        mut self,
        name: &str,
        params: Vec<ValType>,
        results: Vec<ValType>,
        exported: bool,
        body: impl Fn(&mut InstructionSink<'_>) + 'static,
    ) -> Builder {
        let name = name.to_string();
        self.funcs.push(Func {
            name,
            params,
            results,
            body: Box::new(body),
            exported,
        });
        self
    }

    pub fn wasm(&self) -> Vec<u8> {
        let mut types = TypeSection::new();
        let mut imports_sec = ImportSection::new();
        for (i, sig) in IMPORTS.iter().enumerate() {
            let params: Vec<ValType> = sig.params.iter().map(|t| val(*t)).collect();
            let results: Vec<ValType> = sig.results.iter().map(|t| val(*t)).collect();
            types.ty().function(params, results);
            imports_sec.import(imports::MODULE, sig.name, EntityType::Function(i as u32));
        }
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        let mut exports = ExportSection::new();
        for (i, func) in self.funcs.iter().enumerate() {
            let ty = (IMPORTS.len() + i) as u32;
            types
                .ty()
                .function(func.params.clone(), func.results.clone());
            funcs.function(ty);
            let mut f = Function::new(vec![]);
            (func.body)(&mut f.instructions());
            f.instructions().end();
            code.function(&f);
            if func.exported {
                exports.export(&func.name, ExportKind::Func, ty);
            }
        }
        let mut memory = MemorySection::new();
        memory.memory(MemoryType {
            minimum: self.memory_pages,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        exports.export("memory", ExportKind::Memory, 0);
        let mut globals = GlobalSection::new();
        for _ in 0..self.globals {
            let ty = GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            };
            globals.global(ty, &ConstExpr::i32_const(0));
        }
        let mut data = DataSection::new();
        for (offset, bytes) in &self.data {
            data.active(
                0,
                &ConstExpr::i32_const(*offset as i32),
                bytes.iter().copied(),
            );
        }
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports_sec)
            .section(&funcs)
            .section(&memory);
        module
            .section(&globals)
            .section(&exports)
            .section(&code)
            .section(&data);
        module.finish()
    }

    /// An artifact whose debug info names every defined function after its builder name,
    /// at `test.weft:<n>:1` where n is its position; a function named `rt::...` gets no
    /// source position, as the compiler's runtime helpers do.
    pub fn artifact(&self) -> Artifact {
        let wasm = self.wasm();
        let mut funcs = BTreeMap::new();
        for (i, func) in self.funcs.iter().enumerate() {
            let loc = SrcLoc {
                file: "test.weft".into(),
                line: i as u32 + 1,
                col: 1,
            };
            let index = (IMPORTS.len() + i) as u32;
            funcs.insert(
                index,
                FuncDebug {
                    name: func.name.clone(),
                    locs: if func.name.starts_with("rt::") {
                        vec![]
                    } else {
                        vec![(0, loc, None)]
                    },
                    inlined: vec![],
                },
            );
        }
        Artifact {
            id: ModuleId::of(&wasm),
            wasm,
            main_export: Some("main".into()),
            tests: vec![],
            manifest: Default::default(),
            debug: DebugInfo { funcs },
            sources: vec![],
        }
    }
}
