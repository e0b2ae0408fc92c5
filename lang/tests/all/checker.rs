//! Every program under `tests/data/run` and `examples/` checks without errors; every
//! program under `tests/data/check` that is meant to fail does, without panicking.

use std::path::{Path, PathBuf};
use weft_lang::diagnostic::render_all;
use weft_lang::Loader;

/// Loads `use` modules from the directory of the importing file.
struct Dir(PathBuf);

impl Loader for Dir {
    fn load(&self, path: &[String], _from: &str) -> Result<(String, String), String> {
        let mut p = self.0.clone();
        for seg in path {
            p.push(seg);
        }
        p.set_extension("weft");
        std::fs::read_to_string(&p)
            .map(|t| (p.display().to_string(), t))
            .map_err(|e| e.to_string())
    }
}

fn weft_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            weft_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "weft") {
            out.push(p);
        }
    }
    out.sort();
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn check(path: &Path) -> weft_lang::Frontend {
    let text = std::fs::read_to_string(path).expect("readable test file");
    let dir = Dir(path.parent().expect("a parent dir").to_path_buf());
    weft_lang::check_file(&path.display().to_string(), &text, &dir)
}

#[test]
fn programs_check_clean() {
    let mut files = vec![];
    weft_files(&root().join("tests/data/run"), &mut files);
    weft_files(&root().join("examples"), &mut files);
    assert!(files.len() > 30, "test programs found: {}", files.len());
    let mut failures = String::new();
    for f in &files {
        let fe = check(f);
        if fe.has_errors() {
            failures.push_str(&format!(
                "== {}\n{}",
                f.display(),
                render_all(&fe.diagnostics, &fe.sources)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn bad_programs_are_reported() {
    let mut files = vec![];
    weft_files(&root().join("tests/data/check"), &mut files);
    for f in &files {
        let fe = check(f);
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let should_pass = matches!(
            name,
            "empty.weft" | "no_main_ok.weft" | "unreachable_arm.weft"
        );
        assert_eq!(
            !fe.has_errors(),
            should_pass,
            "{}:\n{}",
            f.display(),
            render_all(&fe.diagnostics, &fe.sources)
        );
    }
}

mod agents {
    //! Agents through the checker: the typed program's agents, member functions and the
    //! intrinsics lane reads and writes, references, calls and sends become.

    use weft_lang::tir::{self, visit, Expr, ExprKind, Intrinsic, LaneKind, Program};
    use weft_lang::types::{AgentId, Ty};

    const COUNTER: &str = r#"/// One counter per URI.
agent Counter at "/counters/:id" {
  value count: Int = 0
  map by_user: Map<String, Int>
  list log: List<String>
  fn incr(user: String, by: Int = 1) -> Int { count += by; by_user[user] = by_user.get(user).unwrap_or(0) + by; count }
  fn twice(user: String) -> Int { self.incr(user); self.incr(user, by: 2) }
  fn last() -> Option<String> { let last = log.pop(); last }
  fn total() -> Int { by_user.values().fold(0, |a, v| a + v + count) }
  command reset() { count = 0 }
  demand doubled: Int { count * 2 }
  on start { log.push("started") }
  every 1m { log.push("tick") }
}
fn main() {
  let c = Counter("/counters/home")
  let n = c.incr("ada", 5)
  let m = c.incr("bob", by: 2)
  send c.reset()
  print("count was {n} {m} at {c.uri}")
}
"#;

    use crate::support::{errors, program};

    fn func<'p>(p: &'p Program, name: &str) -> &'p tir::FuncDef {
        p.funcs
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no function {name}"))
    }

    /// Every intrinsic an expression uses (mutating calls included), in order.
    fn intrinsics(e: &Expr, out: &mut Vec<Intrinsic>) {
        match &e.kind {
            ExprKind::Intrinsic { op, .. } => out.push(*op),
            ExprKind::MutCall {
                callee: tir::MutCallee::Intrinsic(op),
                ..
            } => out.push(*op),
            _ => {}
        }
        visit::children(e, &mut |c| intrinsics(c, out));
    }

    fn uses(p: &Program, name: &str) -> Vec<Intrinsic> {
        let mut out = vec![];
        intrinsics(&func(p, name).body, &mut out);
        out
    }

    fn calls(e: &Expr, out: &mut Vec<tir::FuncId>) {
        if let ExprKind::Call { func, .. } = &e.kind {
            out.push(*func);
        }
        visit::children(e, &mut |c| calls(c, out));
    }

    #[test]
    fn the_counter_checks_and_describes_its_agent() {
        let p = program(COUNTER);
        assert_eq!(p.agents.len(), 1);
        let a = &p.agents[0];
        assert_eq!(
            (a.name.as_str(), a.route.as_str()),
            ("Counter", "/counters/:id")
        );
        let lanes: Vec<(&str, LaneKind, bool)> = a
            .lanes
            .iter()
            .map(|l| (l.name.as_str(), l.kind, l.init.is_some()))
            .collect();
        assert_eq!(
            lanes,
            vec![
                ("count", LaneKind::Value, true),
                ("by_user", LaneKind::Map, false),
                ("log", LaneKind::List, false),
            ]
        );
        assert_eq!(
            a.lanes[1].ty,
            Ty::Map(Box::new(Ty::String), Box::new(Ty::Int))
        );
        let methods: Vec<(&str, bool)> = a
            .methods
            .iter()
            .map(|m| (m.name.as_str(), m.command))
            .collect();
        assert_eq!(
            methods,
            vec![
                ("incr", false),
                ("twice", false),
                ("last", false),
                ("total", false),
                ("reset", true)
            ]
        );
        assert_eq!(a.demands.len(), 1);
        assert_eq!(
            (a.demands[0].name.as_str(), &a.demands[0].ty),
            ("doubled", &Ty::Int)
        );
        assert_eq!(a.timers.len(), 1);
        assert_eq!(a.timers[0].every_ns, 60_000_000_000);
        let name = |f: tir::FuncId| p.funcs[f.0 as usize].name.clone();
        assert_eq!(name(a.lanes[0].init.expect("an init")), "Counter.count");
        assert_eq!(name(a.methods[0].func), "Counter.incr");
        assert_eq!(name(a.methods[4].func), "Counter.reset");
        assert_eq!(name(a.demands[0].func), "Counter.doubled");
        assert_eq!(name(a.on_start.expect("on start")), "Counter.on start");
        assert_eq!(name(a.timers[0].func), "Counter.every 1m");
        // Every member takes `self: Counter` first, and knows its agent.
        for f in [a.methods[0].func, a.demands[0].func, a.timers[0].func] {
            let def = &p.funcs[f.0 as usize];
            assert_eq!(def.agent, Some(AgentId(0)));
            let first = &def.locals[def.params[0].0 as usize];
            assert_eq!(
                (first.name.as_str(), &first.ty, first.mutable),
                ("self", &Ty::Agent(AgentId(0)), false)
            );
        }
        let incr = func(&p, "Counter.incr");
        assert_eq!(incr.params.len(), 3);
        assert_eq!(func(&p, "main").agent, None);
    }

    #[test]
    fn lane_reads_and_writes_become_lane_intrinsics() {
        let p = program(COUNTER);
        let incr = uses(&p, "Counter.incr");
        for op in [
            Intrinsic::LaneGet(0),
            Intrinsic::LaneSet(0),
            Intrinsic::MapLaneGet(1),
            Intrinsic::MapLanePut(1),
        ] {
            assert!(incr.contains(&op), "{op:?} in {incr:?}");
        }
        assert!(
            !incr.contains(&Intrinsic::LaneGet(1)),
            "no whole-map read: {incr:?}"
        );
        assert_eq!(uses(&p, "Counter.reset"), vec![Intrinsic::LaneSet(0)]);
        assert_eq!(uses(&p, "Counter.doubled"), vec![Intrinsic::LaneGet(0)]);
        // A change through a list lane: read it, change the copy, write it back.
        assert_eq!(
            uses(&p, "Counter.on start"),
            vec![
                Intrinsic::LaneGet(2),
                Intrinsic::ListPush,
                Intrinsic::LaneSet(2)
            ]
        );
        let last = func(&p, "Counter.last");
        assert_eq!(
            uses(&p, "Counter.last"),
            vec![
                Intrinsic::LaneGet(2),
                Intrinsic::ListPop,
                Intrinsic::LaneSet(2)
            ]
        );
        assert!(matches!(last.ret, Ty::Adt(id, _) if id == p.option));
        assert!(uses(&p, "Counter.count").is_empty());
    }

    #[test]
    fn calls_through_self_are_direct_and_others_go_to_the_host() {
        let p = program(COUNTER);
        let incr = p.agents[0].methods[0].func;
        let twice = func(&p, "Counter.twice");
        let mut direct = vec![];
        calls(&twice.body, &mut direct);
        // `self.incr(user)` leaves `by` out: its default is a function of its own.
        let by = p.agents[0].methods[0].defaults[1].expect("a default for `by`");
        assert_eq!(p.funcs[by.0 as usize].name, "Counter.incr default by");
        assert_eq!(direct, vec![incr, by, incr]);
        assert!(uses(&p, "Counter.twice").is_empty());
        let main = uses(&p, "main");
        let call = Intrinsic::AgentCall {
            agent: 0,
            method: 0,
        };
        assert_eq!(main.iter().filter(|op| **op == call).count(), 2);
        assert!(main.contains(&Intrinsic::AgentRef(0)));
        assert!(main.contains(&Intrinsic::AgentSend {
            agent: 0,
            method: 4
        }));
        assert!(main.contains(&Intrinsic::AgentUri));
        // Defaults are filled in: `c.incr("ada", 5)` and `c.incr("bob", by: 2)` both pass 3.
        let mut args = vec![];
        find_agent_calls(&func(&p, "main").body, &mut args);
        assert_eq!(args, vec![3, 3]);
    }

    fn find_agent_calls(e: &Expr, out: &mut Vec<usize>) {
        if let ExprKind::Intrinsic {
            op: Intrinsic::AgentCall { .. },
            args,
        } = &e.kind
        {
            out.push(args.len());
        }
        visit::children(e, &mut |c| find_agent_calls(c, out));
    }

    #[test]
    fn lambdas_in_members_belong_to_the_agent() {
        let p = program(COUNTER);
        let closure = func(&p, "Counter.total::{closure}");
        assert_eq!(closure.agent, Some(AgentId(0)));
        let mut out = vec![];
        intrinsics(&closure.body, &mut out);
        assert_eq!(out, vec![Intrinsic::LaneGet(0)]);
    }

    #[test]
    fn changes_inside_lane_values() {
        let src = r#"type P = { x: Int, tags: List<String> }
fn bump(var self: List<Int>) { self.push(1) }
agent A {
  value p: P = P { x: 0, tags: [] }
  map ps: Map<String, P>
  list xs: List<Int>
  fn f(k: String) -> Bool {
    p.x = 1
    p.tags.push("a")
    ps[k].x += 1
    xs[0] = 2
    xs.bump()
    ps.insert(k, p)
    let gone = ps.remove(k)
    ps.contains_key(k)
  }
}
"#;
        let p = program(src);
        let f = uses(&p, "A.f");
        let count = |op: Intrinsic| f.iter().filter(|o| **o == op).count();
        assert_eq!(count(Intrinsic::LaneSet(0)), 2, "{f:?}");
        assert_eq!(count(Intrinsic::LaneSet(1)), 1, "{f:?}");
        assert_eq!(count(Intrinsic::LaneSet(2)), 2, "{f:?}");
        assert_eq!(count(Intrinsic::MapLanePut(1)), 1, "{f:?}");
        assert_eq!(count(Intrinsic::MapLaneRemove(1)), 1, "{f:?}");
        assert_eq!(count(Intrinsic::MapLaneContains(1)), 1, "{f:?}");
        assert_eq!(p.agents[0].route, "/a/:id");
    }

    #[test]
    fn default_routes_and_shared_member_names() {
        let p = program(
            "agent ChatRoom { fn incr() -> Int { 1 } }\nagent Counter { fn incr() -> Int { 2 } }\nfn main() { print(ChatRoom(\"/chat_room/a\").incr() + Counter(\"/counter/b\").incr()) }",
        );
        assert_eq!(p.agents[0].route, "/chat_room/:id");
        assert_eq!(p.agents[1].route, "/counter/:id");
        assert_eq!(func(&p, "ChatRoom.incr").agent, Some(AgentId(0)));
        assert_eq!(func(&p, "Counter.incr").agent, Some(AgentId(1)));
    }

    #[test]
    fn agent_types_display_by_name_and_lanes_stay_inside() {
        let out = errors(&format!(
            "{COUNTER}\nfn f(c: Counter) -> Int {{ let x: Int = c; count }}\n"
        ));
        assert!(out.contains("expected `Int`, found `Counter`"), "{out}");
        assert!(out.contains("cannot find `count` in this scope"), "{out}");
        let out = errors("agent A { value v: Int = 0 }\nagent B { fn f() -> Int { v } }\n");
        assert!(out.contains("cannot find `v` in this scope"), "{out}");
        let out = errors("agent A { value v: Int = 0 }\ntest \"t\" { print(v) }\n");
        assert!(out.contains("cannot find `v` in this scope"), "{out}");
    }

    #[test]
    fn send_needs_a_method_call_on_an_agent() {
        let out = errors("fn main() { send print(1) }");
        assert!(
            out.contains("`send` takes a method call on an agent, like `send c.reset()`"),
            "{out}"
        );
        let out = errors("agent A { fn f() {} }\nfn main() { send A(\"/a/1\").g() }");
        assert!(out.contains("agent `A` has no method `g`"), "{out}");
        assert!(out.contains("its methods and commands are `f`"), "{out}");
    }
}
