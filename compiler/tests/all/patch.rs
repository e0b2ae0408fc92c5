//! What a patch relies on, from source to wire bytes: lane migrations and their `undo`,
//! record field defaults and method parameter defaults as exported entries, and the
//! manifest that lists them with the program's calls to agent methods.

use crate::harness::{build_source, run_entry};
use weft_compiler::manifest::{CallSite, FieldDefault, Manifest, MigrationDesc, TypeDesc};
use weft_compiler::Artifact;

const SRC: &str = r#"type Link = { url: String, hits: Int = 40 + 2, tags: List<String> = ["new"] }
type Page<T> = { items: List<T> = [], title: String = "untitled" }
type Plain = { a: Int }

fn half(x: Float) -> Float { x / 2.0 }

agent Counter at "/counters/:id" {
  value count: Float = 0.0
  value links: List<Link> = []
  value page: Page<Int> = Page {}
  value plain: Plain = Plain { a: 1 }
  map by_user: Map<String, Int>
  migrate count(old: Int) -> Float { half(old.to_float()) * 2.0 } undo(new) { new.to_int() }
  migrate count(old: String) -> Float { old.parse_float().unwrap_or(-1.0) }
  migrate by_user(old: List<String>) -> Map<String, Int> {
    var m = Map.new()
    for u in old { m[u] = m.get(u).unwrap_or(0) + 1 }
    m
  }
  migrate links(old: List<String>) -> List<Link> { old.map(|u| Link { url: u }) }
  fn label(user: String, by: Int = 1, sep: String = "+") -> String { "{user}{sep}{by}" }
  fn twice() -> String { self.label("me") }
  command reset() { count = 0.0 }
}

fn main() {
  let c = Counter("/counters/a")
  print(c.label("ada"))
  send c.reset()
}
"#;

fn artifact() -> Artifact {
    build_source(SRC)
}

fn int(n: i64) -> Vec<u8> {
    n.to_le_bytes().to_vec()
}

fn float(x: f64) -> Vec<u8> {
    x.to_bits().to_le_bytes().to_vec()
}

fn count(n: usize) -> Vec<u8> {
    (n as u32).to_le_bytes().to_vec()
}

fn text(s: &str) -> Vec<u8> {
    let mut out = count(s.len());
    out.extend_from_slice(s.as_bytes());
    out
}

fn texts(xs: &[&str]) -> Vec<u8> {
    let mut out = count(xs.len());
    for x in xs {
        out.extend(text(x));
    }
    out
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn migrations_convert_wire_values_both_ways() {
    let a = artifact();
    let run = |export: &str, args: &[u8]| {
        run_entry(&a, export, args).unwrap_or_else(|e| panic!("{export}: {e}"))
    };
    assert_eq!(
        run("agent Counter.migrate count from Int", &int(21)),
        float(21.0)
    );
    assert_eq!(
        run("agent Counter.undo count to Int", &float(42.5)),
        int(42)
    );
    assert_eq!(
        run("agent Counter.migrate count from String", &text("2.5")),
        float(2.5)
    );
    // A map lane's whole value, in insertion order.
    assert_eq!(
        run(
            "agent Counter.migrate by_user from List<String>",
            &texts(&["ada", "bob", "ada"])
        ),
        cat(&[count(2), text("ada"), int(2), text("bob"), int(1)])
    );
    // A record literal inside a migration fills in the defaulted fields.
    assert_eq!(
        run(
            "agent Counter.migrate links from List<String>",
            &texts(&["x"])
        ),
        cat(&[count(1), text("x"), int(42), texts(&["new"])])
    );
}

#[test]
fn field_defaults_are_exported_per_record_type() {
    let a = artifact();
    let run = |export: &str| run_entry(&a, export, &[]).unwrap_or_else(|e| panic!("{export}: {e}"));
    assert_eq!(run("default Link.hits"), int(42));
    assert_eq!(run("default Link.tags"), texts(&["new"]));
    assert_eq!(run("default Page<Int>.items"), count(0));
    assert_eq!(run("default Page<Int>.title"), text("untitled"));
    let m = &a.manifest;
    let defaults = |name: &str| {
        m.types
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no type {name}"))
            .defaults
            .clone()
    };
    let d = |field: &str, export: &str| FieldDefault {
        field: field.into(),
        export: export.into(),
    };
    assert_eq!(
        defaults("Link"),
        vec![
            d("hits", "default Link.hits"),
            d("tags", "default Link.tags")
        ]
    );
    assert_eq!(
        defaults("Page<Int>"),
        vec![
            d("items", "default Page<Int>.items"),
            d("title", "default Page<Int>.title")
        ]
    );
    assert_eq!(
        defaults("Plain"),
        vec![],
        "records without defaults stay as they were"
    );
}

#[test]
fn a_method_entry_fills_in_the_defaults_a_caller_left_out() {
    let a = artifact();
    let label = |args: &[u8]| {
        run_entry(&a, "agent Counter.label", args).unwrap_or_else(|e| panic!("label: {e}"))
    };
    assert_eq!(
        label(&cat(&[text("ada"), int(5), text("-")])),
        text("ada-5")
    );
    assert_eq!(label(&cat(&[text("ada"), int(7)])), text("ada+7"));
    assert_eq!(label(&text("ada")), text("ada+1"));
    let params: Vec<(String, bool)> = a.manifest.agents[0]
        .method("label")
        .map(|m| {
            m.params
                .iter()
                .map(|p| (p.name.clone(), p.default))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        params,
        vec![
            ("user".to_string(), false),
            ("by".to_string(), true),
            ("sep".to_string(), true)
        ]
    );
}

/// `file:line:col` of the first occurrence of `needle` in `SRC`.
fn at(needle: &str) -> String {
    let off = SRC
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in SRC"));
    let line = SRC[..off].matches('\n').count() + 1;
    let col = off - SRC[..off].rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("main.weft:{line}:{col}")
}

#[test]
fn the_manifest_lists_migrations_calls_and_places() {
    let m: Manifest = artifact().manifest;
    let agent = &m.agents[0];
    assert_eq!(agent.at, at("Counter at"));
    assert_eq!(
        agent.lane("count").map(|(_, l)| l.at.clone()),
        Some(at("value count"))
    );
    assert_eq!(
        agent.method("label").map(|x| x.at.clone()),
        Some(at("fn label"))
    );
    assert_eq!(
        agent.method("reset").map(|x| x.at.clone()),
        Some(at("command reset"))
    );
    let list_of = |t: TypeDesc| TypeDesc::List(Box::new(t));
    let mg =
        |lane: &str, from: TypeDesc, export: &str, undo: Option<&str>, decl: &str| MigrationDesc {
            lane: lane.into(),
            from,
            export: export.into(),
            undo: undo.map(Into::into),
            at: at(decl),
        };
    assert_eq!(
        agent.migrations,
        vec![
            mg(
                "count",
                TypeDesc::Int,
                "agent Counter.migrate count from Int",
                Some("agent Counter.undo count to Int"),
                "migrate count(old: Int)"
            ),
            mg(
                "count",
                TypeDesc::String,
                "agent Counter.migrate count from String",
                None,
                "migrate count(old: String)"
            ),
            mg(
                "by_user",
                list_of(TypeDesc::String),
                "agent Counter.migrate by_user from List<String>",
                None,
                "migrate by_user"
            ),
            mg(
                "links",
                list_of(TypeDesc::String),
                "agent Counter.migrate links from List<String>",
                None,
                "migrate links"
            ),
        ]
    );
    let call = |method: &str, caller: &str, decl: &str| CallSite {
        agent: "Counter".into(),
        method: method.into(),
        caller: caller.into(),
        at: at(decl),
    };
    assert_eq!(
        m.calls,
        vec![
            call("label", "Counter.twice", "self.label"),
            call("label", "main", "c.label"),
            call("reset", "main", "send c.reset"),
        ]
    );
}
