//! Compiles a hand-built program and runs it in wasmtime with test versions of the host
//! imports; collects printed lines, the trap message and the mapped stack trace.

#![allow(dead_code)]

use std::sync::OnceLock;
use wasmtime::{Caller, Config, Engine, Linker, Module, Store, WasmBacktrace};
use weft_compiler::{compile, Artifact, SrcLoc};
use weft_lang::tir::Program;

#[derive(Default)]
pub struct State {
    pub out: Vec<String>,
    pub trap: Option<String>,
    /// Bytes for `staged_take`, as the runtime stages them for an entry.
    pub staged: Vec<u8>,
    /// What the entry handed to `result`.
    pub result: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct Run {
    pub out: Vec<String>,
    pub trap: Option<String>,
    /// Weft frames, innermost first: (function name, position).
    pub frames: Vec<(String, Option<SrcLoc>)>,
    pub memory_bytes: usize,
    /// Blocks allocated and not freed when the export returned.
    pub live_blocks: i32,
}

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let mut cfg = Config::new();
        cfg.cranelift_opt_level(wasmtime::OptLevel::Speed);
        Engine::new(&cfg).expect("engine")
    })
}

fn mem(caller: &mut Caller<'_, State>) -> wasmtime::Memory {
    caller
        .get_export("memory")
        .and_then(|e| e.into_memory())
        .expect("memory export")
}

fn read_str(caller: &mut Caller<'_, State>, ptr: i32, len: i32) -> String {
    let m = mem(caller);
    let data = m.data(&caller);
    String::from_utf8_lossy(&data[ptr as usize..(ptr + len) as usize]).into_owned()
}

fn write(caller: &mut Caller<'_, State>, ptr: i32, bytes: &[u8]) {
    let m = mem(caller);
    m.data_mut(caller)[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
}

fn linker() -> Linker<State> {
    let mut l = Linker::new(engine());
    l.func_wrap(
        "weft",
        "print",
        |mut c: Caller<'_, State>, p: i32, n: i32| {
            let s = read_str(&mut c, p, n);
            c.data_mut().out.push(s);
        },
    )
    .unwrap();
    l.func_wrap(
        "weft",
        "trap",
        |mut c: Caller<'_, State>, p: i32, n: i32| -> wasmtime::Result<()> {
            let s = read_str(&mut c, p, n);
            c.data_mut().trap = Some(s.clone());
            Err(wasmtime::Error::msg(format!("weft trap: {s}")))
        },
    )
    .unwrap();
    l.func_wrap(
        "weft",
        "float_to_string",
        |mut c: Caller<'_, State>, x: f64, out: i32| -> i32 {
            let s = format!("{x:?}");
            write(&mut c, out, s.as_bytes());
            s.len() as i32
        },
    )
    .unwrap();
    l.func_wrap(
        "weft",
        "float_to_fixed",
        |mut c: Caller<'_, State>, x: f64, d: i32, out: i32, cap: i32| -> i32 {
            let s = format!("{x:.*}", d as usize);
            if s.len() > cap as usize {
                return -1;
            }
            write(&mut c, out, s.as_bytes());
            s.len() as i32
        },
    )
    .unwrap();
    l.func_wrap(
        "weft",
        "parse_float",
        |mut c: Caller<'_, State>, p: i32, n: i32, out: i32| -> i32 {
            match read_str(&mut c, p, n).parse::<f64>() {
                Ok(x) => {
                    write(&mut c, out, &x.to_le_bytes());
                    1
                }
                Err(_) => 0,
            }
        },
    )
    .unwrap();
    l.func_wrap("weft", "fmath", |op: i32, a: f64, b: f64| -> f64 {
        match op {
            0 => a.powf(b),
            1 => a.sin(),
            2 => a.cos(),
            3 => a.tan(),
            4 => a.atan2(b),
            5 => a.exp(),
            _ => a.ln(),
        }
    })
    .unwrap();
    l.func_wrap("weft", "now_ms", || -> i64 { 1_700_000_000_000 })
        .unwrap();
    l.func_wrap("weft", "random", || -> f64 { 0.25 }).unwrap();
    l.func_wrap("weft", "sleep", |_n: i64| {}).unwrap();
    // `try` needs the real runtime (it calls back into the instance); these tests do not
    // use it, so its imports only have to exist.
    l.func_wrap("weft", "try_call", |_c: i32, _out: i32| -> i32 { 0 })
        .unwrap();
    l.func_wrap("weft", "caught_len", || -> i32 { 0 }).unwrap();
    l.func_wrap("weft", "caught_message", |_p: i32| {}).unwrap();
    // An entry's arguments and result cross as the runtime's do; `self` is one fixed URI.
    l.func_wrap("weft", "staged_take", |mut c: Caller<'_, State>, p: i32| {
        let bytes = std::mem::take(&mut c.data_mut().staged);
        write(&mut c, p, &bytes);
    })
    .unwrap();
    l.func_wrap(
        "weft",
        "result",
        |mut c: Caller<'_, State>, p: i32, n: i32| {
            let m = mem(&mut c);
            let bytes = m.data(&c)[p as usize..(p + n) as usize].to_vec();
            c.data_mut().result = Some(bytes);
        },
    )
    .unwrap();
    l.func_wrap("weft", "agent_self", |mut c: Caller<'_, State>| -> i32 {
        let uri = SELF_URI.as_bytes();
        let mut bytes = (uri.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(uri);
        let n = bytes.len() as i32;
        c.data_mut().staged = bytes;
        n
    })
    .unwrap();
    // Agents need a node (the runtime's); these tests have none, so every other agent
    // import only has to exist, and traps if called.
    for imp in weft_compiler::imports::IMPORTS {
        if l.get(
            &mut Store::new(engine(), State::default()),
            "weft",
            imp.name,
        )
        .is_ok()
        {
            continue;
        }
        let vt = |v: &weft_compiler::imports::ValType| match v {
            weft_compiler::imports::ValType::I32 => wasmtime::ValType::I32,
            weft_compiler::imports::ValType::I64 => wasmtime::ValType::I64,
            weft_compiler::imports::ValType::F64 => wasmtime::ValType::F64,
        };
        let ty = wasmtime::FuncType::new(
            engine(),
            imp.params.iter().map(vt),
            imp.results.iter().map(vt),
        );
        l.func_new("weft", imp.name, ty, |_, _, _| {
            Err(wasmtime::Error::msg("agents need a node"))
        })
        .unwrap();
    }
    l
}

pub fn build(p: &Program) -> Artifact {
    let sm = crate::build::sources();
    let a = compile(p, &sm).expect("compiles");
    if let Err(e) = wasmparser_validate(&a.wasm) {
        let text = wasmprinter::print_bytes(&a.wasm).unwrap_or_default();
        std::fs::write("/tmp/weft_invalid.wat", text).ok();
        panic!("invalid module: {e}");
    }
    a
}

/// Checks and compiles a Weft program (as `main.weft`) that must be accepted.
pub fn build_source(src: &str) -> Artifact {
    let fe = weft_lang::check_file("main.weft", src, &weft_lang::NoFiles);
    let Some(prog) = fe.program else {
        panic!(
            "{}",
            weft_lang::diagnostic::render_all(&fe.diagnostics, &fe.sources)
        );
    };
    let a = compile(&prog, &fe.sources).expect("compiles");
    if let Err(e) = wasmparser_validate(&a.wasm) {
        panic!("invalid module: {e}");
    }
    a
}

fn wasmparser_validate(bytes: &[u8]) -> Result<(), String> {
    Module::new(engine(), bytes)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// Runs an export of a compiled artifact.
pub fn run_export(a: &Artifact, export: &str) -> Run {
    let module = Module::new(engine(), &a.wasm).expect("module");
    let mut store = Store::new(engine(), State::default());
    let inst = linker()
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let f = inst
        .get_typed_func::<(), ()>(&mut store, export)
        .expect("export");
    let res = f.call(&mut store, ());
    let memory_bytes = inst
        .get_memory(&mut store, "memory")
        .map(|m| m.data_size(&store))
        .unwrap_or(0);
    let live_blocks = match inst
        .get_global(&mut store, "live_blocks")
        .map(|g| g.get(&mut store))
    {
        Some(wasmtime::Val::I32(n)) => n,
        _ => -1,
    };
    let mut frames = vec![];
    let mut trap = store.data().trap.clone();
    if let Err(e) = res {
        if trap.is_none() {
            trap = Some(format!("wasm trap: {e:?}"));
        }
        if let Some(bt) = e.downcast_ref::<WasmBacktrace>() {
            for fr in bt.frames() {
                let off = fr.func_offset().map(|o| o as u32);
                for (name, loc) in a.debug.frames(fr.func_index(), off).unwrap_or_default() {
                    frames.push((name.to_string(), loc.cloned()));
                }
            }
        }
    }
    Run {
        out: store.data().out.clone(),
        trap,
        frames,
        memory_bytes,
        live_blocks,
    }
}

/// The URI `agent_self` gives an entry.
pub const SELF_URI: &str = "/test/1";

/// Runs an exported entry (`(args_len)`) with `args` staged, as the runtime runs an agent
/// member, a migration or a default; returns the bytes it handed to `result`, or the trap.
/// An entry leaves nothing allocated behind.
pub fn run_entry(a: &Artifact, export: &str, args: &[u8]) -> Result<Vec<u8>, String> {
    let module = Module::new(engine(), &a.wasm).expect("module");
    let mut store = Store::new(
        engine(),
        State {
            staged: args.to_vec(),
            ..State::default()
        },
    );
    let inst = linker()
        .instantiate(&mut store, &module)
        .expect("instantiate");
    let f = inst
        .get_typed_func::<i32, ()>(&mut store, export)
        .map_err(|e| format!("no entry {export:?}: {e}"))?;
    f.call(&mut store, args.len() as i32).map_err(|e| {
        store
            .data()
            .trap
            .clone()
            .unwrap_or_else(|| format!("{e:?}"))
    })?;
    let live = inst
        .get_global(&mut store, "live_blocks")
        .map(|g| g.get(&mut store));
    assert!(
        matches!(live, Some(wasmtime::Val::I32(0))),
        "{export} left blocks allocated: {live:?}"
    );
    store
        .data_mut()
        .result
        .take()
        .ok_or_else(|| "no result".to_string())
}

/// Compiles and runs `main`.
pub fn run(p: &Program) -> Run {
    let a = build(p);
    run_export(&a, "main")
}

/// Runs `main` and expects it to finish without a trap; returns the printed lines.
pub fn out(p: &Program) -> Vec<String> {
    let r = run(p);
    assert!(
        r.trap.is_none(),
        "unexpected trap: {:?}\noutput: {:?}",
        r.trap,
        r.out
    );
    assert_eq!(
        r.live_blocks, 0,
        "blocks leaked (or freed twice); output: {:?}",
        r.out
    );
    r.out
}
