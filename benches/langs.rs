//! `cargo bench --bench langs`: n-body, fannkuch-redux and fib in Weft (compiled to wasm,
//! run in wasmtime), in Node.js and as native Rust, in one run, with the ratios; then the
//! front end and code generator's time on a generated 10,000-line program.
//!
//! Each workload checks that all three produce the same output before timing counts.
//! Weft is timed twice: as `weft run` runs a program without a time limit (no
//! interruption checks), and with the epoch checks every run with a deadline carries.
//! Times are the best of several runs (wall clock). Node's figure is measured inside the
//! script (`performance.now()` around the workload) so process start-up is excluded, as
//! Weft's excludes compilation (reported separately).

mod native;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use weft_runtime::{Output, Runtime, Settings};

const RUNS: usize = 5;

struct Workload {
    name: &'static str,
    weft: &'static str,
    js: &'static str,
    native: fn() -> String,
}

fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "fib(35)",
            weft: "bench/fib.weft",
            js: "bench/fib.js",
            native: || format!("{}\n", native::fib(35)),
        },
        Workload {
            name: "fannkuch-redux(10)",
            weft: "bench/fannkuch.weft",
            js: "bench/fannkuch.js",
            native: || {
                let (c, f) = native::fannkuch(10);
                format!("{c}\nPfannkuchen(10) = {f}\n")
            },
        },
        Workload {
            name: "n-body(5,000,000)",
            weft: "bench/nbody.weft",
            js: "bench/nbody.js",
            native: || native::nbody(5_000_000),
        },
    ]
}

fn best<F: FnMut() -> String>(mut f: F) -> (Duration, String) {
    let mut best = Duration::MAX;
    let mut out = String::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn weft(rt: &Runtime, path: &str) -> Result<(Duration, Duration, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let t = Instant::now();
    let fe = weft_lang::check_file(path, &text, &weft_lang::NoFiles);
    let program = fe
        .program
        .ok_or_else(|| weft_lang::diagnostic::render_all(&fe.diagnostics, &fe.sources))?;
    let artifact = weft_compiler::compile(&program, &fe.sources).map_err(|e| e.to_string())?;
    rt.load(&artifact).map_err(|e| e.to_string())?;
    let compile = t.elapsed();
    let main = artifact.main_export.clone().ok_or("no main")?;
    let mut err = None;
    let (time, out) = best(|| {
        let output = Output::buffer();
        if let Err(e) = rt.run(&artifact, &main, &output) {
            err = Some(e.to_string());
        }
        output.take()
    });
    match err {
        Some(e) => Err(e),
        None => Ok((compile, time, out)),
    }
}

/// Runs a JS file whose workload is timed by a wrapper; returns (best time, output).
fn node(path: &str) -> Result<(Duration, String), String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let wrapped = format!(
        "const lines = []; const log = console.log; let best = Infinity;\n\
         for (let run = 0; run < {RUNS}; run++) {{ lines.length = 0; console.log = (s) => lines.push(String(s));\n\
         const t = performance.now(); (function() {{ {src} }})(); best = Math.min(best, performance.now() - t); }}\n\
         console.log = log; console.log(JSON.stringify({{ best, out: lines.join('\\n') + '\\n' }}));"
    );
    let out = Command::new("node")
        .arg("-e")
        .arg(&wrapped)
        .output()
        .map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let best = json_field(&text, "\"best\":")
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or("bad node output")?;
    let body = text
        .split("\"out\":\"")
        .nth(1)
        .and_then(|s| s.rsplit_once("\"}"))
        .map(|(s, _)| s)
        .unwrap_or("");
    Ok((
        Duration::from_secs_f64(best / 1000.0),
        body.replace("\\n", "\n"),
    ))
}

fn json_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let rest = text.split(key).nth(1)?;
    Some(rest.split([',', '}']).next()?.trim())
}

fn ms(d: Duration) -> String {
    format!("{:9.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::set_current_dir(root).expect("the workspace root");
    // As `weft run` runs a program without a time limit: no interruption checks.
    let plain = Runtime::new(Settings {
        interruptible: false,
        ..Settings::default()
    })
    .expect("a runtime");
    // As tests and agent turns run, with a deadline: epoch checks at calls and loops.
    let limited = Runtime::new(Settings::default()).expect("a runtime");
    println!(
        "{:<20} {:>12} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "workload", "weft", "weft+limit", "node", "rust", "weft/node", "weft/rust"
    );
    for w in workloads() {
        let (compile, wt, wout) = match weft(&plain, w.weft) {
            Ok(x) => x,
            Err(e) => {
                println!("{:<20} weft failed: {e}", w.name);
                continue;
            }
        };
        let limited_time = match weft(&limited, w.weft) {
            Ok((_, t, out)) => {
                assert_eq!(out, wout, "{}: the two runtimes disagree", w.name);
                ms(t)
            }
            Err(e) => format!("failed: {e}"),
        };
        let (rt_native, nout) = best(w.native);
        assert_eq!(nout, wout, "{}: native and weft disagree", w.name);
        let (js_time, js_ratio) = match node(w.js) {
            Ok((t, out)) => {
                assert_eq!(out, wout, "{}: node and weft disagree", w.name);
                (
                    ms(t),
                    format!("{:10.2}", wt.as_secs_f64() / t.as_secs_f64()),
                )
            }
            Err(e) => (
                format!("n/a ({})", e.lines().next().unwrap_or("")),
                "n/a".into(),
            ),
        };
        let ratio = wt.as_secs_f64() / rt_native.as_secs_f64();
        println!(
            "{:<20} {} {} {:>12} {} {:>10} {:10.2}",
            w.name,
            ms(wt),
            limited_time,
            js_time,
            ms(rt_native),
            js_ratio,
            ratio
        );
        println!(
            "{:<20} (weft compile: check + codegen + cranelift {})",
            "",
            ms(compile).trim()
        );
    }
    compile_time();
}

/// A 10,000-line program of varied functions (records, enums, matches, loops, closures),
/// every one called from `main` so the code generator compiles them all.
fn big_program(lines_min: usize) -> String {
    let mut s = String::from("type P = { x: Int, y: Int }\nenum E { A(Int), B(String), C }\n");
    let mut i = 0;
    while s.lines().count() < lines_min {
        s.push_str(&format!(
            "fn f{i}(n: Int, p: P) -> Int {{\n  var total = 0\n  for k in 0..n {{\n    let e = if k % 2 == 0 {{ A(k) }} else {{ B(\"v{{k}}\") }}\n    total += match e {{\n      A(v) => v + p.x,\n      B(s) => s.len(),\n      C => 0,\n    }}\n  }}\n  let xs = [p.x, p.y, total].map(|v| v * 2)\n  xs.fold(0, |a, b| a + b)\n}}\n\n"
        ));
        i += 1;
    }
    s.push_str("fn main() {\n  var t = 0\n");
    for k in 0..i {
        s.push_str(&format!("  t += f{k}(3, P {{ x: 1, y: 2 }})\n"));
    }
    s.push_str("  print(t)\n}\n");
    s
}

fn compile_time() {
    let text = big_program(10_000);
    let lines = text.lines().count();
    let (front, fe) = {
        let t = Instant::now();
        let fe = weft_lang::check_file("big.weft", &text, &weft_lang::NoFiles);
        (t.elapsed(), fe)
    };
    let Some(program) = fe.program else {
        println!(
            "big program failed to check:\n{}",
            weft_lang::diagnostic::render_all(&fe.diagnostics, &fe.sources)
        );
        return;
    };
    let t = Instant::now();
    let artifact = match weft_compiler::compile(&program, &fe.sources) {
        Ok(a) => a,
        Err(e) => {
            println!("big program failed to compile: {e}");
            return;
        }
    };
    let codegen = t.elapsed();
    let engine = wasmtime::Engine::new(&wasmtime::Config::new()).expect("an engine");
    let t = Instant::now();
    let native_ok = wasmtime::Module::new(&engine, &artifact.wasm).is_ok();
    let cranelift = t.elapsed();
    println!();
    println!(
        "compile time for a {lines}-line program ({} KiB of wasm):",
        artifact.wasm.len() / 1024
    );
    println!("  parse + check       {}", ms(front));
    println!("  codegen (to wasm)   {}", ms(codegen));
    println!("  total to wasm       {}", ms(front + codegen));
    println!(
        "  cranelift (native)  {} {}",
        ms(cranelift),
        if native_ok { "" } else { "(failed)" }
    );
}
