//! `weft repl [FILE]`: explore a live program, typed. The session connects to a node
//! (`--cluster URL` / `--api ADDR`, else `$WEFT_CLUSTER`, else the default address), or
//! starts an embedded one running FILE. It fetches the module the node runs, which
//! carries the program's sources, so the program's types, functions and agents are in
//! scope. Each input is checked and compiled with the program like any Weft code (as the
//! body of a function, after the session's bindings), sent to the node, and run there as
//! its own short-lived instance that calls the node's agents (`api/eval.rs`).
//!
//! `let NAME = EXPR` (or `var`) keeps a binding: its value comes back as Weft source
//! (`value::to_source`) and opens every later input; `fn`, `type` and `enum` items are
//! kept as definitions. Meta-commands start with `:` (`:help` lists them). Input is read
//! a line at a time, more lines while brackets are open; from a pipe (`weft repl <
//! script`) or `--eval`, the same, exiting 1 when any input failed.

mod editor;

use super::client::{self, Answer, Target};
use super::node::{self, DataDir};
use crate::loader::FsLoader;
use crate::{Exit, Io};
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use weft_compiler::manifest::{AdtDesc, TypeDesc};
use weft_compiler::Artifact;
use weft_lang::diagnostic::{render_all, Diagnostic};
use weft_lang::source::{FileId, SourceMap, Span};
use weft_lang::tir::Program;
use weft_lang::types::Ty;
use weft_runtime::value::{self, Value};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A program to run on an embedded node (default: connect to a running node).
    #[arg(conflicts_with_all = ["cluster", "api"])]
    pub file: Option<String>,
    /// Evaluate INPUT, print its result and exit (1 when it fails).
    #[arg(long, value_name = "INPUT")]
    pub eval: Option<String>,
    /// Where an embedded node keeps its agents' lanes (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub target: Target,
}

const HELP: &str = "\
Inputs are Weft: expressions and statements (`Counter(\"/counters/a\").incr(\"ada\", 1)`),
`let NAME = EXPR` and `var NAME = EXPR` (kept for later inputs), and `fn`, `type` and
`enum` definitions. The program's types, functions and agents are in scope.

:type EXPR          the type of EXPR, without running it
:agents [PREFIX]    the node's agents (URI, type, active or stored)
:nodes              the node this session talks to
:resources          the resources the program allocated
:load FILE          add FILE's functions and types to the session
:patch FILE         hot-swap FILE into the running program (see `weft patch`)
:help               this text
:quit               leave (so does end of input)
";

/// The name the session's input has in diagnostics.
const INPUT_NAME: &str = "input";

/// A binding kept between inputs: `let NAME: TY = SOURCE`.
struct Binding {
    name: String,
    mutable: bool,
    ty: String,
    source: String,
}

/// An embedded node and what keeps it alive for the session.
struct Embedded {
    _api: weft_runtime::api::Api,
    node: weft_runtime::agents::Node,
    _data: DataDir,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.node.stop(std::time::Duration::from_secs(10));
    }
}

struct Session<'a> {
    io: &'a Io,
    target: Target,
    /// The program's root file (name, text) and its other files by name.
    root: (String, String),
    files: HashMap<String, String>,
    defs: Vec<String>,
    bindings: Vec<Binding>,
    /// The manifest of the module the node runs.
    manifest: weft_compiler::manifest::Manifest,
}

/// What an input wrapped as a function became, checked.
struct Checked {
    program: Program,
    sources: SourceMap,
}

pub fn main(args: &Args, io: &Io) -> Exit {
    let (target, embedded) = match connect(args, io) {
        Ok(t) => t,
        Err(exit) => return exit,
    };
    let mut s = Session {
        io,
        target,
        root: (String::new(), String::new()),
        files: HashMap::new(),
        defs: vec![],
        bindings: vec![],
        manifest: Default::default(),
    };
    if let Err(e) = s.load_program() {
        io.error(&format!("error: {e}\n"));
        return Exit::Error;
    }
    let exit = match &args.eval {
        Some(input) => match s.input(input) {
            Ok(_) => Exit::Success,
            Err(()) => Exit::Failure,
        },
        None => s.run_stdin(),
    };
    drop(embedded);
    exit
}

/// The node to talk to: the one named, or an embedded one for FILE (or for no program
/// when none answers at the default address).
fn connect(args: &Args, io: &Io) -> Result<(Target, Option<Embedded>), Exit> {
    let named = args.target.cluster.is_some()
        || args.target.api.is_some()
        || std::env::var("WEFT_CLUSTER").is_ok_and(|u| !u.is_empty());
    if args.file.is_none() {
        if named || client::get(&args.target, "/api/v1/node").is_ok() {
            return Ok((args.target.clone(), None));
        }
        io.error("no node answers at the default address; starting an embedded one\n");
    }
    let (file, text) = match &args.file {
        Some(f) => (f.clone(), None),
        None => ("repl.weft".to_string(), Some("fn main() {}\n")),
    };
    let checked = match text {
        None => super::check(&file, io)?,
        Some(text) => {
            let front = weft_lang::check_file(&file, text, &FsLoader);
            let program = front.program.ok_or(Exit::Error)?;
            super::Checked {
                sources: front.sources,
                program,
            }
        }
    };
    let artifact = super::compile(&checked, io)?;
    let data = DataDir::given_or_temporary(args.data.as_deref());
    let limits = super::limits(None, 256);
    let turn_limits = node::turn_limits(1000, &limits);
    let program = node::program_name(&file);
    let n = node::start(&artifact, &data, turn_limits, &limits, &program, io, |_| {})?;
    if let Err(e) = n.deploy(false) {
        io.error(&format!("error: {e}\n"));
        return Err(Exit::Failure);
    }
    if let Some(main) = &artifact.main_export {
        if let Err(e) = n.run_main(main, &limits) {
            io.error(&format!("{e}\n"));
            return Err(super::run::exit_for(&e));
        }
    }
    let api = weft_runtime::api::Api::start(n.clone(), "127.0.0.1:0").map_err(|e| {
        io.error(&format!("error: {e}\n"));
        Exit::Error
    })?;
    let target = Target {
        cluster: Some(format!("http://{}", api.addr())),
        api: None,
    };
    Ok((
        target,
        Some(Embedded {
            _api: api,
            node: n,
            _data: data,
        }),
    ))
}

impl Session<'_> {
    /// Fetches the module the node runs and takes its sources as the program in scope.
    fn load_program(&mut self) -> Result<(), String> {
        let wasm = client::get_bytes(&self.target, "/api/v1/module")?;
        let artifact = Artifact::from_wasm(wasm)?;
        self.manifest = artifact.manifest;
        let mut sources = artifact.sources.into_iter();
        self.root = sources
            .next()
            .unwrap_or_else(|| ("program.weft".into(), String::new()));
        self.files = sources.collect();
        Ok(())
    }

    /// Reads inputs from stdin until it ends or `:quit`; a terminal gets the line editor.
    fn run_stdin(&mut self) -> Exit {
        let stdin = std::io::stdin();
        if stdin.is_terminal() && std::io::stdout().is_terminal() {
            return self.interactive();
        }
        let mut failed = false;
        let mut lines = stdin.lock().lines();
        loop {
            let mut input = String::new();
            loop {
                match lines.next() {
                    Some(Ok(line)) => {
                        input.push_str(&line);
                        input.push('\n');
                    }
                    _ => {
                        if !input.trim().is_empty() {
                            failed |= self.input(&input).is_err();
                        }
                        return if failed { Exit::Failure } else { Exit::Success };
                    }
                }
                if open_brackets(&input) <= 0 {
                    break;
                }
            }
            match self.input(&input) {
                Ok(true) => {}
                Ok(false) => return if failed { Exit::Failure } else { Exit::Success },
                Err(()) => failed = true,
            }
        }
    }

    /// The line editor's loop: history kept in the history file, completion refreshed
    /// before each input. Ctrl-C drops the line being edited; Ctrl-D leaves.
    fn interactive(&mut self) -> Exit {
        use rustyline::error::ReadlineError;
        let config = rustyline::Config::builder()
            .auto_add_history(false)
            .completion_type(rustyline::CompletionType::List)
            .build();
        let mut rl: rustyline::Editor<editor::Helper, rustyline::history::FileHistory> =
            match rustyline::Editor::with_config(config) {
                Ok(rl) => rl,
                Err(e) => {
                    self.io
                        .error(&format!("error: cannot start the line editor: {e}\n"));
                    return Exit::Error;
                }
            };
        let history = editor::history_file();
        if let Some(h) = &history {
            let _ = rl.load_history(h);
        }
        self.io
            .error("Weft REPL: Weft inputs run on the node; :help lists the commands\n");
        loop {
            rl.set_helper(Some(self.completion()));
            match rl.readline("weft> ") {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = rl.add_history_entry(line.as_str());
                        if let Some(h) = &history {
                            let _ = rl.save_history(h);
                        }
                    }
                    if let Ok(false) = self.input(&line) {
                        return Exit::Success;
                    }
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => return Exit::Success,
                Err(e) => {
                    self.io.error(&format!("error: {e}\n"));
                    return Exit::Error;
                }
            }
        }
    }

    /// What completion offers now.
    fn completion(&self) -> editor::Helper {
        let mut names: Vec<String> = [
            "let", "var", "fn", "type", "enum", "if", "else", "match", "for", "while", "true",
            "false", "print",
        ]
        .iter()
        .map(|k| k.to_string())
        .collect();
        let mut texts = vec![self.root.1.as_str()];
        texts.extend(self.files.values().map(String::as_str));
        texts.extend(self.defs.iter().map(String::as_str));
        for text in texts {
            let (module, _) = weft_lang::parse::parse(FileId(0), text);
            for item in &module.items {
                use weft_lang::ast::Item;
                match item {
                    Item::Fn(f) => names.push(f.name.name.clone()),
                    Item::Type(t) => names.push(t.name.name.clone()),
                    Item::Enum(e) => {
                        names.push(e.name.name.clone());
                        names.extend(e.variants.iter().map(|v| v.name.name.clone()));
                    }
                    Item::Agent(a) => names.push(a.name.name.clone()),
                    Item::Use(_) | Item::Test(_) => {}
                }
            }
        }
        names.extend(self.bindings.iter().map(|b| b.name.clone()));
        let methods = self
            .manifest
            .agents
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    a.methods.iter().map(|m| m.name.clone()).collect(),
                )
            })
            .collect::<HashMap<String, Vec<String>>>();
        let agent_bindings = self
            .bindings
            .iter()
            .filter(|b| methods.contains_key(&b.ty))
            .map(|b| (b.name.clone(), b.ty.clone()))
            .collect();
        editor::Helper {
            names,
            methods,
            agent_bindings,
            target: Some(self.target.clone()),
        }
    }

    /// Handles one input; `Ok(false)` to quit. Errors are printed here.
    fn input(&mut self, input: &str) -> Result<bool, ()> {
        let text = input.trim();
        if text.is_empty() || text.starts_with("//") && !text.contains('\n') {
            return Ok(true);
        }
        if let Some(meta) = text.strip_prefix(':') {
            return self.meta(meta);
        }
        let first = text.split_whitespace().next().unwrap_or("");
        match first {
            "fn" | "type" | "enum" | "use" => self.define(text).map(|_| true),
            "agent" => self
                .fail("agents belong to the program: change them with `:patch FILE` (a hot swap)"),
            "test" => self.fail("tests run with `weft test FILE`"),
            "let" | "var" => self.bind(text).map(|_| true),
            _ => self.eval(text).map(|_| true),
        }
    }

    fn fail<T>(&self, msg: &str) -> Result<T, ()> {
        self.io.error(&format!("error: {msg}\n"));
        Err(())
    }

    fn meta(&mut self, meta: &str) -> Result<bool, ()> {
        let (cmd, rest) = meta.split_once(char::is_whitespace).unwrap_or((meta, ""));
        let rest = rest.trim();
        match cmd {
            "q" | "quit" | "exit" => return Ok(false),
            "h" | "help" | "?" => self.io.error(HELP),
            "t" | "type" => {
                let (ty, _) = self.probe(rest)?;
                self.io.say(&ty);
            }
            "agents" => self.agents(rest)?,
            "nodes" => self.nodes()?,
            "resources" => self
                .io
                .say("no resources: this node runs agents only (resources come with the cluster)"),
            "load" => self.load(rest)?,
            "link" => self.link(rest)?,
            "patch" => self.patch(rest)?,
            _ => return self.fail(&format!("unknown command `:{cmd}` (`:help` lists them)")),
        }
        Ok(true)
    }

    fn agents(&self, prefix: &str) -> Result<(), ()> {
        let json = client::expect_ok(self.io, client::get(&self.target, "/api/v1/agents"))
            .map_err(|_| ())?;
        for a in json.as_array().into_iter().flatten() {
            let uri = a.get("uri").and_then(|u| u.as_str()).unwrap_or("");
            if !uri.starts_with(prefix) {
                continue;
            }
            let agent = a.get("agent").and_then(|u| u.as_str()).unwrap_or("");
            let state = match a.get("active").and_then(|u| u.as_bool()) {
                Some(true) => "active",
                _ => "stored",
            };
            self.io.say(&format!("{uri}  {agent}  {state}"));
        }
        Ok(())
    }

    /// `:link URI LANE [N]`: the lane's state, then its changes as they happen, until a
    /// key is pressed (or N events, which a script must give).
    fn link(&self, rest: &str) -> Result<(), ()> {
        let parts: Vec<&str> = rest.split_whitespace().collect();
        let (uri, lane, events) = match parts.as_slice() {
            [uri, lane] => (*uri, *lane, None),
            [uri, lane, n] => match n.parse::<u64>() {
                Ok(n) => (*uri, *lane, Some(n)),
                Err(_) => return self.fail("usage: :link URI LANE [EVENTS]"),
            },
            _ => return self.fail("usage: :link URI LANE [EVENTS]"),
        };
        let args = super::link::Args {
            uri: uri.to_string(),
            lane: lane.to_string(),
            events,
            recon: false,
            target: self.target.clone(),
        };
        let keyboard = std::io::stdin().is_terminal();
        if events.is_none() && !keyboard {
            return self
                .fail("without a keyboard to stop it, give how many events: :link URI LANE N");
        }
        let r = if events.is_some() {
            super::link::link(&args, self.io, None)
        } else {
            self.io.error("linked; press any key to stop\n");
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (io, flag) = (self.io.clone(), stop.clone());
            let t = std::thread::spawn(move || super::link::link(&args, &io, Some(&flag)));
            wait_for_key(&t);
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            t.join().unwrap_or_else(|_| Err("the link stopped".into()))
        };
        match r {
            Ok(Exit::Success) => Ok(()),
            Ok(_) => Err(()),
            Err(e) => self.fail(&e),
        }
    }

    fn nodes(&self) -> Result<(), ()> {
        let json = client::expect_ok(self.io, client::get(&self.target, "/api/v1/node"))
            .map_err(|_| ())?;
        let field = |k: &str| json.get(k).map(|v| v.to_string()).unwrap_or_default();
        self.io.say(&format!(
            "{}  program {} version {}  {} links",
            self.target.url(),
            json.get("program").and_then(|p| p.as_str()).unwrap_or(""),
            field("version"),
            field("links")
        ));
        Ok(())
    }

    fn load(&mut self, file: &str) -> Result<(), ()> {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => return self.fail(&format!("cannot read {file}: {e}")),
        };
        let (parsed, _) = weft_lang::parse::parse(FileId(0), &text);
        if parsed
            .items
            .iter()
            .any(|i| matches!(i, weft_lang::ast::Item::Agent(_)))
        {
            return self.fail(&format!(
                "{file} declares agents, which belong to the program: hot-swap it with `:patch {file}`"
            ));
        }
        self.define(&text)?;
        self.io.error(&format!("loaded {file}\n"));
        Ok(())
    }

    fn patch(&mut self, file: &str) -> Result<(), ()> {
        let artifact = super::check(file, self.io)
            .and_then(|c| super::compile(&c, self.io))
            .map_err(|_| ())?;
        let r = client::post_bytes(&self.target, "/api/v1/patch", artifact.wasm);
        let ok = match r {
            Ok(Answer::Rejected(reason, json)) => {
                if let Some(diff) = json.get("diff").and_then(|d| d.as_str()) {
                    self.io.error(diff);
                }
                self.io.error(&format!("error: {reason}\n"));
                false
            }
            r => match client::expect_ok(self.io, r) {
                Ok(json) => super::patch::report(self.io, &json) == Exit::Success,
                Err(_) => false,
            },
        };
        if let Err(e) = self.load_program() {
            return self.fail(&e);
        }
        if ok {
            Ok(())
        } else {
            Err(())
        }
    }

    /// The session's bindings as statements opening a function body.
    fn prelude(&self) -> String {
        let mut out = String::new();
        for b in &self.bindings {
            let kw = if b.mutable { "var" } else { "let" };
            out.push_str(&format!("  {kw} {}: {} = {}\n", b.name, b.ty, b.source));
        }
        out
    }

    /// Checks the program, the session's definitions, and `tail` (holding `input` at
    /// `input_at` in it); prints the diagnostics (those in the input against the input).
    fn check(&self, tail: &str, input: &str, input_at: usize) -> Result<Checked, ()> {
        let mut text = self.root.1.clone();
        text.push_str("\n\n");
        for d in &self.defs {
            text.push_str(d);
            text.push_str("\n\n");
        }
        let start = text.len() + input_at;
        text.push_str(tail);
        let loader = MapLoader { files: &self.files };
        let front = weft_lang::check_file(&self.root.0, &text, &loader);
        let root = front
            .sources
            .files()
            .find(|(_, f)| f.name == self.root.0)
            .map(|(id, _)| id);
        let end = start + input.len();
        let in_input = |s: Span| {
            Some(s.file) == root && (s.start as usize) >= start && (s.end as usize) <= end
        };
        let mut ours = vec![];
        let mut theirs = vec![];
        for d in front.diagnostics.iter().filter(|d| d.is_error()) {
            if in_input(d.span) {
                let shift = |s: Span| {
                    Span::new(FileId(0), s.start as usize - start, s.end as usize - start)
                };
                ours.push(Diagnostic {
                    span: shift(d.span),
                    notes: d
                        .notes
                        .iter()
                        .filter(|(s, _)| in_input(*s))
                        .map(|(s, l)| (shift(*s), l.clone()))
                        .collect(),
                    ..d.clone()
                });
            } else {
                theirs.push(d.clone());
            }
        }
        if !ours.is_empty() {
            let mut map = SourceMap::new();
            map.add(INPUT_NAME, input);
            self.io.error(&render_all(&ours, &map));
        }
        if !theirs.is_empty() {
            self.io.error(&render_all(&theirs, &front.sources));
        }
        match front.program {
            Some(program) if ours.is_empty() && theirs.is_empty() => Ok(Checked {
                program,
                sources: front.sources,
            }),
            _ => Err(()),
        }
    }

    /// The type of `expr` (checked after the bindings, not run), as text and as a type.
    fn probe(&self, expr: &str) -> Result<(String, Ty), ()> {
        let head = format!("fn __repl_probe() {{\n{}  let __it = {{\n", self.prelude());
        let tail = format!("{head}{expr}\n  }}\n}}\n");
        let c = self.check(&tail, expr, head.len())?;
        let f = c
            .program
            .funcs
            .iter()
            .find(|f| f.name == "__repl_probe")
            .ok_or(())?;
        let local = f.locals.iter().find(|l| l.name == "__it").ok_or(())?;
        Ok((
            weft_compiler::ty_name(&c.program, &local.ty),
            local.ty.clone(),
        ))
    }

    /// Runs `expr` after the bindings on the node: what it printed is printed, and its
    /// value (with `ty` as declared, if given) and the final values of `var` bindings
    /// come back.
    fn run(
        &mut self,
        expr: &str,
        declared: Option<&str>,
    ) -> Result<(Value, TypeDesc, Vec<AdtDesc>), ()> {
        let (probed, ty) = self.probe(expr)?;
        if !storable(&ty) {
            return self.fail(&format!(
                "a value of type `{probed}` cannot leave the node; call it, or keep what it returns"
            ));
        }
        let it = declared.map_or(probed.clone(), str::to_string);
        let it = if matches!(ty, Ty::Never) {
            "Unit".to_string()
        } else {
            it
        };
        let vars: Vec<&Binding> = self.bindings.iter().filter(|b| b.mutable).collect();
        let (ret, value) = if vars.is_empty() {
            (it.clone(), "__it".to_string())
        } else {
            let tys: Vec<&str> = vars.iter().map(|b| b.ty.as_str()).collect();
            let names: Vec<&str> = vars.iter().map(|b| b.name.as_str()).collect();
            (
                format!("({it}, {})", tys.join(", ")),
                format!("(__it, {})", names.join(", ")),
            )
        };
        let head = format!(
            "fn __repl_run() -> {ret} {{\n{}  let __it: {it} = {{\n",
            self.prelude()
        );
        let tail = format!("{head}{expr}\n  }}\n  {value}\n}}\n");
        let c = self.check(&tail, expr, head.len())?;
        let Some(f) = c.program.funcs.iter().position(|f| f.name == "__repl_run") else {
            return self.fail("the input did not compile to a function");
        };
        let options = weft_compiler::Options {
            entries: vec![weft_lang::tir::FuncId(f as u32)],
            members: false,
            ..weft_compiler::Options::default()
        };
        let artifact = match weft_compiler::compile_with(&c.program, &c.sources, options) {
            Ok(a) => a,
            Err(e) => return self.fail(&e.to_string()),
        };
        let Some(entry) = artifact.manifest.entries.first().cloned() else {
            return self.fail("the input has no entry");
        };
        let path = format!("/api/v1/eval?export={}", percent(&entry.export));
        let types = artifact.manifest.types.clone();
        let json = match client::post_bytes(&self.target, &path, artifact.wasm) {
            Ok(Answer::Ok(json)) => json,
            // It ran and trapped: what it printed, then the trap and its stack.
            Ok(Answer::Rejected(e, json)) => {
                if let Some(out) = json.get("output").and_then(|o| o.as_str()) {
                    let _ = self.io.out.write_str(out);
                }
                self.io.error(&format!("{}\n", e.trim_end()));
                return Err(());
            }
            Ok(Answer::Refused(e)) | Ok(Answer::Failed(e)) => return self.fail(&e),
            Err(e) => return self.fail(&e),
        };
        if let Some(out) = json.get("output").and_then(|o| o.as_str()) {
            let _ = self.io.out.write_str(out);
        }
        let hex = json.get("result").and_then(|r| r.as_str()).unwrap_or("");
        let bytes = unhex(hex).ok_or(())?;
        let v = value::decode(&bytes, &entry.result, &types).map_err(|e| {
            self.io.error(&format!("error: a malformed result: {e}\n"));
        })?;
        if vars.is_empty() {
            return Ok((v, entry.result, types));
        }
        let (Value::Tuple(mut parts), TypeDesc::Tuple(mut tys)) = (v, entry.result) else {
            return self.fail("a malformed result");
        };
        if parts.len() != vars.len() + 1 || tys.len() != parts.len() {
            return self.fail("a malformed result");
        }
        let names: Vec<String> = vars.iter().map(|b| b.name.clone()).collect();
        for (i, name) in names.iter().enumerate().rev() {
            let (v, t) = (parts.remove(i + 1), tys.remove(i + 1));
            if let Ok(src) = value::to_source(&v, &t, &types) {
                if let Some(b) = self.bindings.iter_mut().find(|b| &b.name == name) {
                    b.source = src;
                }
            }
        }
        Ok((parts.remove(0), tys.remove(0), types))
    }

    fn eval(&mut self, expr: &str) -> Result<(), ()> {
        let (v, ty, types) = self.run(expr, None)?;
        if !matches!(v, Value::Unit) {
            self.io.say(&abbreviate(value::show(&v, &ty, &types)));
        }
        Ok(())
    }

    /// `let NAME [: TY] = EXPR` or `var ...`: runs EXPR and keeps its value.
    fn bind(&mut self, text: &str) -> Result<(), ()> {
        let mutable = text.starts_with("var");
        let rest = text[3..].trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after = rest[name.len()..].trim_start();
        let (declared, expr) =
            match (after.strip_prefix(':'), after.strip_prefix('=')) {
                (Some(typed), _) => match typed.split_once('=') {
                    Some((ty, expr)) => (Some(ty.trim().to_string()), expr),
                    None => return self.fail("expected `= EXPR` after the binding's type"),
                },
                (None, Some(expr)) => (None, expr),
                _ => return self.fail(
                    "only `let NAME = EXPR` (or `var NAME = EXPR`) keeps a binding between inputs",
                ),
            };
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return self.fail(
                "only `let NAME = EXPR` (or `var NAME = EXPR`) keeps a binding between inputs",
            );
        }
        let expr = expr.trim();
        let (v, ty, types) = self.run(expr, declared.as_deref())?;
        let source = match value::to_source(&v, &ty, &types) {
            Ok(s) => s,
            Err(e) => return self.fail(&format!("`{name}` cannot be kept: {e}")),
        };
        let shown = abbreviate(value::show(&v, &ty, &types));
        let ty = declared.unwrap_or_else(|| value::type_text(&ty, &types));
        self.bindings.retain(|b| b.name != name);
        self.io.say(&format!("{name}: {ty} = {shown}"));
        self.bindings.push(Binding {
            name,
            mutable,
            ty,
            source,
        });
        Ok(())
    }

    /// A definition (`fn`, `type`, `enum`, `use`): kept when the program still checks.
    fn define(&mut self, text: &str) -> Result<(), ()> {
        let tail = format!("{text}\n");
        self.check(&tail, text, 0)?;
        self.defs.push(text.to_string());
        Ok(())
    }
}

/// Waits for one key on the terminal (read raw, not echoed) or for `t` to end.
fn wait_for_key<T>(t: &std::thread::JoinHandle<T>) {
    // SAFETY: termios calls on stdin with a zeroed struct they fill in; the old mode is
    // put back before returning.
    unsafe {
        let mut old: libc::termios = std::mem::zeroed();
        let raw_ok = libc::tcgetattr(0, &mut old) == 0;
        if raw_ok {
            let mut raw = old;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            libc::tcsetattr(0, libc::TCSANOW, &raw);
        }
        while !t.is_finished() {
            let mut fds = libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut fds, 1, 100) > 0 {
                let mut b = [0u8; 16];
                libc::read(0, b.as_mut_ptr().cast(), b.len());
                break;
            }
        }
        if raw_ok {
            libc::tcsetattr(0, libc::TCSANOW, &old);
        }
    }
}

/// The most characters of a value the REPL prints.
const SHOWN_MAX: usize = 2000;

/// `text`, cut to [`SHOWN_MAX`] characters with a note of how long it was.
fn abbreviate(text: String) -> String {
    let n = text.chars().count();
    if n <= SHOWN_MAX {
        return text;
    }
    let cut: String = text.chars().take(SHOWN_MAX).collect();
    format!("{cut} … ({n} characters in all)")
}

/// Whether a value of this type can come back from the node (no functions in it).
fn storable(ty: &Ty) -> bool {
    match ty {
        Ty::Fn(..) | Ty::Param(_) | Ty::Var(_) => false,
        Ty::List(t) => storable(t),
        Ty::Map(k, v) => storable(k) && storable(v),
        Ty::Tuple(ts) | Ty::Adt(_, ts) => ts.iter().all(storable),
        _ => true,
    }
}

/// How many brackets `text` leaves open (strings and `//` comments skipped).
fn open_brackets(text: &str) -> i64 {
    let mut depth = 0i64;
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            '/' if !in_str && chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            _ => {}
        }
    }
    depth
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The program's files as the node's module carries them.
struct MapLoader<'a> {
    files: &'a HashMap<String, String>,
}

impl weft_lang::Loader for MapLoader<'_> {
    fn load(&self, path: &[String], from: &str) -> Result<(String, String), String> {
        let name = FsLoader::module_file(path, from)
            .to_string_lossy()
            .replace('\\', "/");
        match self.files.get(&name) {
            Some(text) => Ok((name, text.clone())),
            None => Err(format!("the program has no module `{}`", path.join("::"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn brackets_and_hex() {
        assert_eq!(super::open_brackets("fn f() {"), 1);
        assert_eq!(super::open_brackets("\"{\" // {\n"), 0);
        assert_eq!(super::open_brackets("[1, (2)]"), 0);
        assert_eq!(super::unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(super::unhex("0"), None);
        assert_eq!(super::percent("entry __repl_run"), "entry%20__repl_run");
    }
}
