//! Runs: output, traps and their stacks, limits, fresh instances, the module cache.

use crate::runtime;
use crate::wasm::{import, Builder};
use wasm_encoder::BlockType;
use weft_compiler::SrcLoc;
use weft_runtime::{Frame, Output, RunError, RunLimits, Runtime, Settings};

fn run(b: &Builder) -> (Result<(), RunError>, String) {
    let out = Output::buffer();
    let result = runtime().run(&b.artifact(), "main", &out);
    (result, out.take())
}

fn run_limited(b: &Builder, limits: &RunLimits) -> Result<(), RunError> {
    runtime().run_with(&b.artifact(), "main", &Output::buffer(), limits)
}

fn message(result: Result<(), RunError>) -> String {
    match result {
        Err(RunError::Trap { message, .. }) => message,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn prints_to_the_output() {
    let b = Builder::new().data(0, b"hello").export("main", |f| {
        f.i32_const(0).i32_const(5).call(import("print"));
        f.i32_const(0).i32_const(0).call(import("print"));
    });
    let (result, out) = run(&b);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(out, "hello\n\n");
}

#[test]
fn a_trap_has_its_message_and_weft_frames() {
    let b = Builder::new().data(16, b"integer overflow");
    let inner = b.next_index() + 1;
    let b = b
        .export("main", move |f| {
            f.call(inner);
        })
        .func("fib", |f| {
            f.i32_const(16).i32_const(16).call(import("trap"));
        });
    let (result, _) = run(&b);
    let Err(err @ RunError::Trap { .. }) = result else {
        panic!("expected a trap, got {result:?}")
    };
    let RunError::Trap { message, frames } = &err else {
        unreachable!()
    };
    assert_eq!(message, "integer overflow");
    let loc = |line| {
        Some(SrcLoc {
            file: "test.weft".into(),
            line,
            col: 1,
        })
    };
    assert_eq!(
        frames,
        &vec![
            Frame {
                function: "fib".into(),
                location: loc(2)
            },
            Frame {
                function: "main".into(),
                location: loc(1)
            },
        ]
    );
    assert_eq!(
        err.to_string(),
        "error: integer overflow\n  at fib (test.weft:2:1)\n  at main (test.weft:1:1)"
    );
    assert!(!err.is_fatal());
}

#[test]
fn helpers_without_positions_are_left_out_of_the_stack() {
    let b = Builder::new().data(0, b"boom");
    let (fib, helper) = (b.next_index() + 1, b.next_index() + 2);
    let b = b
        .export("main", move |f| {
            f.call(fib);
        })
        .func("fib", move |f| {
            f.call(helper);
        })
        .func("rt::trap", |f| {
            f.i32_const(0).i32_const(4).call(import("trap"));
        });
    let Err(RunError::Trap { message, frames }) = run(&b).0 else {
        panic!("expected a trap")
    };
    assert_eq!(message, "boom");
    let names: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
    assert_eq!(names, ["fib", "main"]);
}

#[test]
fn unreachable_traps() {
    let b = Builder::new().export("main", |f| {
        f.unreachable();
    });
    assert_eq!(message(run(&b).0), "unreachable code reached");
}

#[test]
fn deep_recursion_is_a_stack_overflow() {
    let b = Builder::new();
    let me = b.next_index();
    let b = b.export("main", move |f| {
        f.call(me);
    });
    assert_eq!(message(run(&b).0), "stack overflow");
}

#[test]
fn an_endless_loop_meets_the_deadline() {
    let b = Builder::new().export("main", |f| {
        f.loop_(BlockType::Empty).br(0).end();
    });
    let limits = RunLimits {
        deadline_ms: Some(50),
        ..RunLimits::default()
    };
    let start = std::time::Instant::now();
    assert_eq!(message(run_limited(&b, &limits)), "time limit exceeded");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_long_sleep_meets_the_deadline() {
    let b = Builder::new().export("main", |f| {
        f.i64_const(60_000_000_000).call(import("sleep"));
    });
    let limits = RunLimits {
        deadline_ms: Some(30),
        ..RunLimits::default()
    };
    assert_eq!(message(run_limited(&b, &limits)), "time limit exceeded");
}

#[test]
fn growing_past_the_memory_limit_traps() {
    let b = Builder::new().export("main", |f| {
        f.i32_const(100).memory_grow(0).drop();
    });
    let limits = RunLimits {
        memory_max_bytes: 1 << 20,
        ..RunLimits::default()
    };
    assert_eq!(message(run_limited(&b, &limits)), "memory limit exceeded");
    // Within the limit the same growth succeeds.
    assert!(run(&b).0.is_ok());
}

#[test]
fn a_module_too_big_to_start_traps_with_the_memory_limit() {
    let b = Builder::new().memory_pages(32).export("main", |_| {});
    let limits = RunLimits {
        memory_max_bytes: 1 << 20,
        ..RunLimits::default()
    };
    assert_eq!(message(run_limited(&b, &limits)), "memory limit exceeded");
}

#[test]
fn every_run_gets_a_fresh_instance() {
    // main: global += 1; if global != 1 { trap }
    let b = Builder::new()
        .data(0, b"state leaked")
        .global()
        .export("main", |f| {
            f.global_get(0).i32_const(1).i32_add().global_set(0);
            f.global_get(0).i32_const(1).i32_ne().if_(BlockType::Empty);
            f.i32_const(0).i32_const(12).call(import("trap"));
            f.end();
        });
    for _ in 0..3 {
        let (result, _) = run(&b);
        assert!(result.is_ok(), "{result:?}");
    }
}

#[test]
fn modules_are_cached_by_id() {
    let rt = Runtime::new(Settings::default()).unwrap_or_else(|e| panic!("{e}"));
    let a = Builder::new().export("main", |_| {}).artifact();
    let b = Builder::new().export("main", |f| {
        f.i32_const(0).drop();
    });
    let b = b.artifact();
    for _ in 0..3 {
        rt.run(&a, "main", &Output::buffer())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(rt.modules_cached(), 1);
    rt.run(&b, "main", &Output::buffer())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rt.modules_cached(), 2);
}

#[test]
fn compiled_code_survives_on_disk() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("weft-runtime-cache");
    let _ = std::fs::remove_dir_all(&dir);
    let settings = Settings {
        cache_dir: Some(dir.clone()),
        ..Settings::default()
    };
    let artifact = Builder::new().data(0, b"from disk").export("main", |f| {
        f.i32_const(0).i32_const(9).call(import("print"));
    });
    let artifact = artifact.artifact();
    for _ in 0..2 {
        let rt = Runtime::new(settings.clone()).unwrap_or_else(|e| panic!("{e}"));
        let out = Output::buffer();
        rt.run(&artifact, "main", &out)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.take(), "from disk\n");
        assert!(dir.join(format!("{}.cwasm", artifact.id)).is_file());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_export_is_fatal() {
    let b = Builder::new().export("main", |_| {});
    let err = runtime().run(&b.artifact(), "nope", &Output::buffer());
    assert!(
        matches!(&err, Err(RunError::NoExport { name }) if name == "nope"),
        "{err:?}"
    );
    assert!(err.is_err_and(|e| e.is_fatal()));
}

#[test]
fn bytes_that_are_not_wasm_do_not_compile() {
    let mut artifact = Builder::new().export("main", |_| {}).artifact();
    artifact.wasm = b"\0asm but not really".to_vec();
    artifact.id = weft_compiler::ModuleId::of(&artifact.wasm);
    let err = runtime().run(&artifact, "main", &Output::buffer());
    assert!(matches!(err, Err(RunError::Compile(_))), "{err:?}");
}

#[test]
fn an_uninterruptible_runtime_runs_but_refuses_deadlines() {
    let rt = Runtime::new(Settings {
        interruptible: false,
        instances_max: 2,
        ..Settings::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let b = Builder::new().export("main", |f| {
        f.i32_const(7).drop();
    });
    let out = Output::buffer();
    assert!(rt.run(&b.artifact(), "main", &out).is_ok());
    let limits = RunLimits {
        deadline_ms: Some(50),
        ..RunLimits::default()
    };
    let err = rt
        .run_with(&b.artifact(), "main", &out, &limits)
        .expect_err("a deadline it cannot enforce");
    assert!(matches!(err, RunError::Unenforceable), "{err:?}");
    assert!(err.is_fatal());
}
