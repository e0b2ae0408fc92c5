//! The Weft compiler: typed IR to a WebAssembly module (wasm-encoder) plus what the runtime
//! needs to run it and explain its traps.
//!
//! It does no IO and never runs code; it does not check types (the IR arrives checked).

mod artifact;
mod emit;
mod gen;
mod helpers;
pub mod imports;
mod inline;
mod layout;
pub mod manifest;

pub use layout::ty_name;
pub use module::RESET_EXPORT;
/// The host capabilities code on the cluster may be granted, by bit (`capabilities:`).
pub use weft_lang::tir::CAPABILITIES;
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

/// A compiled program. Its `wasm` bytes carry everything else here too (see
/// `artifact.rs`): [`Artifact::from_wasm`] gives it back from them alone.
#[derive(Clone, Debug)]
pub struct Artifact {
    pub wasm: Vec<u8>,
    pub id: ModuleId,
    /// The export that runs `main`, if the program has one (`"main"`).
    pub main_export: Option<String>,
    /// The program's `test` blocks, in source order.
    pub tests: Vec<TestEntry>,
    /// The program's agents and the types that cross its boundary.
    pub manifest: manifest::Manifest,
    pub debug: DebugInfo,
    /// The program's own source files (name, text), the root first; the standard
    /// library's are not kept.
    pub sources: Vec<(String, String)>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TestEntry {
    pub name: String,
    /// A `() -> ()` export.
    pub export: String,
}

/// Maps wasm code back to Weft functions and source positions, for stack traces.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DebugInfo {
    /// By wasm function index (imports count first, as in wasmtime's `FrameInfo::func_index`).
    pub funcs: BTreeMap<u32, FuncDebug>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FuncDebug {
    /// The Weft name: `area`, `first<Int>`, `main::{closure}`.
    pub name: String,
    /// `(offset, position, inlined call)` sorted by offset, where offset is what wasmtime's
    /// `FrameInfo::func_offset` reports for an instruction of this function, and the
    /// position is in the function of the inlined call (an index into `inlined`) the
    /// instruction came from, or in this function when there is none.
    pub locs: Vec<(u32, SrcLoc, Option<u32>)>,
    /// The calls inlined into this function (see `inline.rs`).
    pub inlined: Vec<InlinedCall>,
}

/// A call the compiler replaced by the callee's body: a frame of its own in stack traces.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InlinedCall {
    /// The inlined function's Weft name.
    pub name: String,
    /// Where it is called: in the function of `parent`, or in the function it was inlined
    /// into when `parent` is `None`.
    pub call: SrcLoc,
    /// The inlined call this one is inside.
    pub parent: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// The most inlined calls followed from one position (they nest at most
/// `inline::DEPTH_MAX` deep; this only guards against malformed debug info).
const INLINED_CHAIN_MAX: usize = 64;

impl DebugInfo {
    /// The Weft frames one wasm frame stands for, innermost first: the functions inlined
    /// around the instruction at `func_offset`, each with its position, then the function
    /// itself with its position. `None` for a function without debug info.
    ///
    /// Before the function's first position (its entry, where a stack overflow is
    /// detected), or without an offset, the answer is the function alone, at its first
    /// position (the call site, when that position is in inlined code).
    pub fn frames(
        &self,
        func_index: u32,
        func_offset: Option<u32>,
    ) -> Option<Vec<(&str, Option<&SrcLoc>)>> {
        let f = self.funcs.get(&func_index)?;
        let found =
            func_offset.and_then(|off| f.locs.partition_point(|(o, ..)| *o <= off).checked_sub(1));
        Some(match (found, f.locs.first()) {
            (Some(i), _) => f.chain(&f.locs[i].1, f.locs[i].2),
            (None, Some((_, loc, site))) => {
                let mut chain = f.chain(loc, *site);
                chain.split_off(chain.len() - 1)
            }
            (None, None) => vec![(f.name.as_str(), None)],
        })
    }
}

impl FuncDebug {
    /// The frames for position `loc` in inlined call `site` (or in this function).
    fn chain<'a>(
        &'a self,
        mut loc: &'a SrcLoc,
        mut site: Option<u32>,
    ) -> Vec<(&'a str, Option<&'a SrcLoc>)> {
        let mut out = vec![];
        while let Some(call) = site.and_then(|s| self.inlined.get(s as usize)) {
            if out.len() >= INLINED_CHAIN_MAX {
                break;
            }
            out.push((call.name.as_str(), Some(loc)));
            loc = &call.call;
            site = call.parent;
        }
        out.push((self.name.as_str(), Some(loc)));
        out
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

/// How to compile.
#[derive(Clone, Debug)]
pub struct Options {
    /// Replace calls to small functions by their bodies (see `inline.rs`). Behaviour and
    /// stack traces are the same either way.
    pub inline: bool,
    /// Functions without parameters to export as entries the host calls for their result
    /// in the wire format (`entry NAME`, listed in `Manifest::entries`): what a REPL
    /// input compiles to.
    pub entries: Vec<weft_lang::tir::FuncId>,
    /// Export the agents' members (methods, lanes' initial values, timers, migrations)
    /// and the tests. A REPL input runs only its own entry against agents a node already
    /// runs, so it leaves them out (and compiles only what its entry reaches).
    pub members: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            inline: true,
            entries: vec![],
            members: true,
        }
    }
}

/// Compiles a checked program to a WebAssembly module.
///
/// See `gen.rs` for the ownership convention and `layout.rs` for value representations.
pub fn compile(program: &Program, sources: &SourceMap) -> Result<Artifact, CompileError> {
    compile_with(program, sources, Options::default())
}

/// [`compile`] with other [`Options`].
pub fn compile_with(
    program: &Program,
    sources: &SourceMap,
    options: Options,
) -> Result<Artifact, CompileError> {
    let mut m = module::Module::new(program, sources);
    m.inline = options.inline;
    let main_export = program.main.filter(|_| options.members).map(|f| {
        let idx = m.func(module::FnKey::Export(f));
        m.export("main".into(), idx);
        "main".to_string()
    });
    let mut tests = vec![];
    let exported_tests = if options.members {
        &program.tests[..]
    } else {
        &[]
    };
    for (i, t) in exported_tests.iter().enumerate() {
        let idx = m.func(module::FnKey::Export(t.func));
        let export = format!("test_{i}");
        m.export(export.clone(), idx);
        tests.push(TestEntry {
            name: t.name.clone(),
            export,
        });
    }
    // Every agent member and migration gets an exported entry, named after its function.
    let mut entries = std::collections::HashMap::new();
    let exported_agents = if options.members {
        &program.agents[..]
    } else {
        &[]
    };
    for a in exported_agents {
        let funcs = a
            .lanes
            .iter()
            .filter_map(|l| l.init)
            .chain(a.methods.iter().map(|x| x.func))
            .chain(a.demands.iter().map(|d| d.func))
            .chain(a.on_start)
            .chain(a.timers.iter().map(|t| t.func))
            .chain(
                a.migrations
                    .iter()
                    .flat_map(|x| [Some(x.func), x.undo])
                    .flatten(),
            );
        for f in funcs {
            let idx = m.func(module::FnKey::Entry(f, vec![]));
            let name = format!("agent {}", program.funcs[f.0 as usize].name);
            m.export(name.clone(), idx);
            entries.insert(f, name);
        }
    }

    // Each Cell handler gets an exported entry: its captures, then the message.
    let mut handlers = false;
    if options.members {
        for s in &program.resources {
            for (k, h) in s.handlers.iter().enumerate() {
                let idx = m.func(module::FnKey::Entry(h.func, vec![]));
                m.export(manifest::handler_export(&s.name, k), idx);
                handlers = true;
            }
        }
    }
    // Record field defaults are exported for the record types that cross the boundary,
    // as the manifest finds them.
    let mut extra = vec![];
    for &f in &options.entries {
        let idx = m.func(module::FnKey::Entry(f, vec![]));
        let name = format!("entry {}", program.funcs[f.0 as usize].name);
        m.export(name.clone(), idx);
        extra.push((f, name));
    }
    // Entries run in warm instances, which the host empties between runs.
    if !program.agents.is_empty() || !extra.is_empty() || handlers {
        let idx = m.rt(rt::Rt::Reset);
        m.export(module::RESET_EXPORT.into(), idx);
    }
    let mut default = |f, targs: &[weft_lang::types::Ty], name: String| {
        let idx = m.func(module::FnKey::Entry(f, targs.to_vec()));
        m.export(name.clone(), idx);
        name
    };
    let manifest = manifest::build(
        program,
        sources,
        manifest::Entries {
            member: &|f| entries.get(&f).cloned().unwrap_or_default(),
            default: &mut default,
            extra: &extra,
        },
    );
    m.drain()?;
    let debug = m.debug.clone();
    let mut wasm = m.finish();
    let own: Vec<(String, String)> = sources
        .files()
        .filter(|(_, f)| !f.name.starts_with('<'))
        .map(|(_, f)| (f.name.clone(), f.text.clone()))
        .collect();
    artifact::describe(&mut wasm, &main_export, &tests, &manifest, &debug, &own);
    Ok(Artifact {
        id: ModuleId::of(&wasm),
        wasm,
        main_export,
        tests,
        manifest,
        debug,
        sources: own,
    })
}
