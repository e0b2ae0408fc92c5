//! Parser tests for agents: declarations, members, `send`, and the words that are
//! keywords only in an agent body (or only outside one).

use super::parse;
use super::tests::{body, errors, ex, items, one, rendered, titles};
use crate::ast::{Item, Member};
use crate::source::FileId;

const COUNTER: &str = r#"/// One counter per URI.
agent Counter at "/counters/:id" {   // without `at`: route "/counter/:id"
  value count: Int = 0               // value lane
  map by_user: Map<String, Int>      // map lane
  list log: List<String>             // list lane
  fn incr(user: String, by: Int = 1) -> Int { count += by; by_user[user] = by_user.get(user).unwrap_or(0) + by; count }
  command reset() { count = 0 }      // a command lane
  demand doubled: Int { count * 2 }  // a demand lane
  on start { log.push("started") }
  every 1m { log.push("tick") }
}
fn main() {
  let c = Counter("/counters/home")
  let n = c.incr("ada", 5)
  send c.reset()
  print("count was {n} at {c.uri}")
}
"#;

#[test]
fn the_counter_parses() {
    let v = items(COUNTER);
    assert_eq!(v.len(), 2);
    assert_eq!(
        v[0],
        "agent Counter at \"/counters/:id\" { \
         value count: Int = 0; \
         map by_user: Map<String, Int>; \
         list log: List<String>; \
         fn incr(user: String, by: Int = 1) -> Int {(+= count by); \
         (index by_user user) = (+ (.unwrap_or (.get by_user user) 0) by); => count}; \
         command reset() {count = 0}; \
         demand doubled: Int {=> (* count 2)}; \
         on start {=> (.push log \"started\")}; \
         every 60000000000ns {=> (.push log \"tick\")} }"
            .replace("(+= count by)", "count += by")
    );
    assert_eq!(
        v[1],
        "fn main() {let c = (call Counter \"/counters/home\"); \
         let n = (.incr c \"ada\" 5); (send (.reset c)); \
         => (call print \"count was {n} at {(. c uri)}\")}"
    );
}

#[test]
fn agent_forms() {
    assert_eq!(one("agent A {}"), "agent A {  }");
    assert_eq!(
        one("agent A at \"/a/:x\" { list l: List<Int> = [1]; value v: Bool = true, }"),
        "agent A at \"/a/:x\" { list l: List<Int> = [1]; value v: Bool = true }"
    );
    assert_eq!(
        one("agent A\n{\n  every -5s { }\n  command c(x: Int, var y: Int) { }\n}"),
        "agent A { every -5000000000ns {}; command c(x: Int, var y: Int) {} }"
    );
    // A method in column 1 of an agent body does not start a new item.
    assert_eq!(
        items("agent A {\nfn f() {}\nfn g() {}\n}\nfn main() {}").len(),
        2
    );
}

#[test]
fn agent_docs_attach_to_members() {
    let (m, _) = parse(
        FileId(0),
        "/// The agent.\nagent A {\n  /// A lane.\n  value v: Int = 0\n  /// A method.\n  fn f() {}\n}",
    );
    let Some(Item::Agent(a)) = m.items.first() else {
        panic!("no agent");
    };
    assert_eq!(a.doc.as_deref(), Some("The agent."));
    match (&a.members[0], &a.members[1]) {
        (Member::Lane(l), Member::Fn(f)) => {
            assert_eq!(l.doc.as_deref(), Some("A lane."));
            assert_eq!(f.doc.as_deref(), Some("A method."));
        }
        other => panic!("unexpected members {other:?}"),
    }
}

#[test]
fn send_is_an_expression() {
    assert_eq!(ex("send c.reset()"), "(send (.reset c))");
    assert_eq!(ex("send c.add(1 + 2)"), "(send (.add c (+ 1 2)))");
    assert_eq!(
        body("if ok { send c.reset() }"),
        "{=> (if ok {=> (send (.reset c))})}"
    );
    assert_eq!(body("send\n  c.reset()"), "{=> (send (.reset c))}");
}

#[test]
fn new_allocates_a_resource() {
    assert_eq!(
        ex("new QueueService<Job>(\"jobs\")"),
        "(new QueueService<Job> \"jobs\")"
    );
    assert_eq!(
        ex("new Table<Int, String>(\"t\", size: 3)"),
        "(new Table<Int, String> \"t\" size=3)"
    );
    assert_eq!(ex("Map.new()"), "(.new Map)");
    assert_eq!(
        body("let q = new QueueService<Int>(\"q\")\nq.send(1)"),
        "{let q = (new QueueService<Int> \"q\"); => (.send q 1)}"
    );
}

#[test]
fn send_and_agent_are_names_after_a_dot() {
    assert_eq!(ex("jobs.send(x)"), "(.send jobs x)");
    assert_eq!(ex("a.agent"), "(. a agent)");
    assert_eq!(ex("a.agent.send()"), "(.send (. a agent))");
    // ... and after `fn`, so a `send` method can still be declared.
    assert_eq!(
        one("fn send(self: Queue, x: Int) { }"),
        "fn send(self: Queue, x: Int) {}"
    );
    assert_eq!(titles("fn main() { let send = 1 }").len(), 1);
}

#[test]
fn member_words_stay_ordinary_names() {
    assert_eq!(
        body("let value = 1\nlet list = [value]\nlet map = list.map(|x| x)\nmap"),
        "{let value = 1; let list = [value]; let map = (.map list (lambda x x)); => map}"
    );
    assert_eq!(
        body("let on = at + every + start + command + demand\nxs.value().list.on"),
        "{let on = (+ (+ (+ (+ at every) start) command) demand); \
         => (. (. (.value xs) list) on)}"
    );
    assert_eq!(
        one("fn map(self: Box, value: Int, list: Int) { }"),
        "fn map(self: Box, value: Int, list: Int) {}"
    );
    // Inside an agent too, in bodies.
    assert_eq!(
        one("agent A { fn f(value: Int) -> Int { let map = value; map } }"),
        "agent A { fn f(value: Int) -> Int {let map = value; => map} }"
    );
}

#[test]
fn wrong_member_keywords_are_reported_and_the_rest_parses() {
    let src = "agent A {\n  vaule count: Int = 0\n  value ok: Int = 1\n}\nfn main() {}\n";
    let (m, diags) = parse(FileId(0), src);
    assert_eq!(m.items.len(), 2, "{}", rendered(src, &diags));
    let Some(Item::Agent(a)) = m.items.first() else {
        panic!("no agent");
    };
    assert_eq!(a.members.len(), 1);
    assert_eq!(
        errors(src),
        "error: expected `value`, `map` or `list` before a lane name
 --> test.weft:2:3
  |
2 |   vaule count: Int = 0
  |   ^^^^^ found `vaule`
  = hint: declare a lane as `value count: Int = 0`, `map m: Map<K, V>` or `list l: List<T>`

error: could not compile due to 1 error
"
    );
    assert_eq!(
        titles("agent A on \"/a\" { }"),
        vec!["expected `at` before an agent's route"]
    );
    assert_eq!(
        titles("agent A { def f() { } }"),
        vec!["expected `fn` or `command` before a method"]
    );
    assert_eq!(
        titles("agent A { value v: Int { 1 } }"),
        vec!["expected `demand` before a computed lane"]
    );
    assert_eq!(
        titles("agent A { command c() -> Int { 1 } }"),
        vec!["a command returns nothing"]
    );
    assert_eq!(
        titles("agent A { each 1m { } }"),
        vec!["expected `every` before a period"]
    );
    assert_eq!(
        titles("agent A { when start { } }"),
        vec!["expected `on` before an event"]
    );
}

#[test]
fn broken_members_recover() {
    let src = "agent A {\n  value v: = 0\n  value w: Int = 1\n  fn f() -> Int {\n    w +\n  }\n  fn g() {}\n}\n";
    let (m, diags) = parse(FileId(0), src);
    assert_eq!(diags.len(), 2, "{}", rendered(src, &diags));
    let Some(Item::Agent(a)) = m.items.first() else {
        panic!("no agent");
    };
    assert_eq!(a.members.len(), 3);
}

#[test]
fn agent_keyword_tokens() {
    use crate::lexer::{lex, Tok};
    let toks = |src: &str| -> Vec<Tok> {
        lex(FileId(0), src)
            .tokens
            .into_iter()
            .map(|t| t.tok)
            .collect()
    };
    let id = |s: &str| Tok::LowerIdent(s.into());
    assert_eq!(toks("agent send"), vec![Tok::Agent, Tok::Send]);
    assert_eq!(
        toks("x.send x.agent"),
        vec![
            id("x"),
            Tok::Dot,
            id("send"),
            id("x"),
            Tok::Dot,
            id("agent")
        ]
    );
    assert_eq!(toks("fn send"), vec![Tok::Fn, id("send")]);
    assert_eq!(toks("sender agents"), vec![id("sender"), id("agents")]);
    // `agent` waits for its body like `enum`: the `{` may start the next line.
    assert_eq!(
        toks("agent A\n{"),
        vec![Tok::Agent, Tok::UpperIdent("A".into()), Tok::LBrace]
    );
}

#[test]
fn not_an_item_mentions_agent() {
    let out = errors("send x.y()\n");
    assert!(
        out.contains("expected `fn`, `type`, `enum`, `agent`, `use` or `test`"),
        "{out}"
    );
}
