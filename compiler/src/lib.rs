//! The Weft compiler: typed IR to a WebAssembly module (wasm-encoder) plus what the runtime
//! needs to run it and explain its traps.
//!
//! It does no IO and never runs code; it does not check types (the IR arrives checked).

mod emit;
mod gen;
mod helpers;
pub mod imports;
mod layout;
mod module;
mod rt;

use std::collections::BTreeMap;
use std::fmt;
use weft_lang::source::SourceMap;
use weft_lang::tir::Program;

/// The content address of a module: the blake3 hash of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub [u8; 32]);

impl ModuleId {
    pub fn of(bytes: &[u8]) -> ModuleId {
        ModuleId(*blake3::hash(bytes).as_bytes())
    }
}

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModuleId({self})")
    }
}

/// A compiled program.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub wasm: Vec<u8>,
    pub id: ModuleId,
    /// The export that runs `main`, if the program has one (`"main"`).
    pub main_export: Option<String>,
    /// The program's `test` blocks, in source order.
    pub tests: Vec<TestEntry>,
    pub debug: DebugInfo,
}

#[derive(Clone, Debug)]
pub struct TestEntry {
    pub name: String,
    /// A `() -> ()` export.
    pub export: String,
}

/// Maps wasm code back to Weft functions and source positions, for stack traces.
#[derive(Clone, Debug, Default)]
pub struct DebugInfo {
    /// By wasm function index (imports count first, as in wasmtime's `FrameInfo::func_index`).
    pub funcs: BTreeMap<u32, FuncDebug>,
}

#[derive(Clone, Debug)]
pub struct FuncDebug {
    /// The Weft name: `area`, `first<Int>`, `main::{closure}`.
    pub name: String,
    /// `(offset, position)` sorted by offset, where offset is what wasmtime's
    /// `FrameInfo::func_offset` reports for an instruction of this function.
    pub locs: Vec<(u32, SrcLoc)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrcLoc {
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for SrcLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

impl DebugInfo {
    /// The Weft function and nearest preceding source position for a wasm frame.
    pub fn lookup(
        &self,
        func_index: u32,
        func_offset: Option<u32>,
    ) -> Option<(&str, Option<&SrcLoc>)> {
        let f = self.funcs.get(&func_index)?;
        let loc = func_offset.and_then(|off| {
            let i = f.locs.partition_point(|(o, _)| *o <= off);
            i.checked_sub(1).map(|i| &f.locs[i].1)
        });
        Some((f.name.as_str(), loc))
    }
}

/// Something the compiler cannot do with a checked program.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A construct the code generator does not support yet.
    #[error("{location}: not supported by the compiler yet: {what}")]
    Unsupported { what: String, location: String },
    /// A generic function instantiated too deeply (polymorphic recursion).
    #[error("{location}: generic instantiation too deep: {what}")]
    TooDeep { what: String, location: String },
}

/// Compiles a checked program to a WebAssembly module.
///
/// See `gen.rs` for the ownership convention and `layout.rs` for value representations.
pub fn compile(program: &Program, sources: &SourceMap) -> Result<Artifact, CompileError> {
    let mut m = module::Module::new(program, sources);
    let main_export = program.main.map(|f| {
        let idx = m.func(module::FnKey::Export(f));
        m.export("main".into(), idx);
        "main".to_string()
    });
    let mut tests = vec![];
    for (i, t) in program.tests.iter().enumerate() {
        let idx = m.func(module::FnKey::Export(t.func));
        let export = format!("test_{i}");
        m.export(export.clone(), idx);
        tests.push(TestEntry {
            name: t.name.clone(),
            export,
        });
    }
    m.drain()?;
    let debug = m.debug.clone();
    let wasm = m.finish();
    Ok(Artifact {
        id: ModuleId::of(&wasm),
        wasm,
        main_export,
        tests,
        debug,
    })
}
