//! Arbitrary input through the parser and checker: diagnostics or success, never a panic,
//! a stack overflow or a hang.

use weft_lang::NoFiles;

/// xorshift64*: deterministic, so a failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "fn",
    "main",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "let",
    "var",
    "x",
    "y",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "<",
    ">",
    "if",
    "else",
    "match",
    "=>",
    ",",
    ";",
    "\n",
    "for",
    "in",
    "..",
    "while",
    "return",
    "break",
    "|",
    "||",
    "&&",
    "1",
    "2.5",
    "\"s\"",
    "\"a{x}b\"",
    "Some",
    "None",
    "Ok",
    "Err",
    "type",
    "enum",
    "P",
    "=",
    ":",
    "Int",
    "List",
    "<",
    ">",
    "Map",
    ".",
    "len",
    "push",
    "?",
    "_",
    "test",
    "\"t\"",
    "true",
    "false",
    "250ms",
    "use",
    "::",
    "...",
    "self",
    "0xff",
    "agent",
    "send",
    "value",
    "map",
    "list",
    "command",
    "demand",
    "on",
    "start",
    "every",
    "1m",
    "at",
    "\"/a/:id\"",
    "uri",
    "A",
    "migrate",
    "undo",
    "old",
    "-> Int",
];

/// Programs built from a valid base with random edits, then random token soups and bytes.
#[test]
fn arbitrary_input_never_panics() {
    let base = "type P = { x: Int, y: Int = 0 }\nenum E<T> { A, B(T) }\nfn f<T>(v: T, n: Int = 2) -> List<T> {\n  var out = []\n  for _ in 0..n { out.push(v) }\n  out\n}\nfn main() {\n  let p = P { x: 1, y: 2 }\n  var m = Map.new()\n  m[\"k\"] = p.x\n  match B(p) { A => print(\"a\"), B({ x, y }) if x > y => print(\"{x}\"), _ => () }\n  print(f(\"s\").map(|s| s + \"!\"))\n  send Ag(\"/a/1\").c()\n}\nagent Ag at \"/a/:id\" {\n  value n: Int = 0\n  map m: Map<String, Int>\n  list l: List<Int>\n  fn f(x: Int = 1) -> Int { n += x; m[\"k\"] = n; l.push(x); self.g() }\n  fn g() -> Int { n + m.get(\"k\").unwrap_or(0) }\n  command c() { n = 0 }\n  demand d: Int { n * 2 }\n  on start { l.push(1) }\n  every 1m { n += 1 }\n  migrate n(old: String) -> Int { old.len() } undo(new) { \"{new}\" }\n  migrate l(old: Int) -> List<Int> { [old] }\n  undo(new) { new.len() }\n}\n";
    let clean = weft_lang::check_file("base.weft", base, &NoFiles);
    assert!(!clean.has_errors(), "the base program must check");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..600 {
        let text = match round % 3 {
            0 => {
                let mut s: Vec<char> = base.chars().collect();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(s.len() + 1);
                    match rng.below(3) {
                        0 if i < s.len() => {
                            s.remove(i);
                        }
                        1 => {
                            let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                            for (k, c) in frag.chars().enumerate() {
                                s.insert((i + k).min(s.len()), c);
                            }
                        }
                        _ => {
                            let j = rng.below(s.len() + 1);
                            let (a, b) = (i.min(j), i.max(j));
                            s.drain(a..b.min(a + 8));
                        }
                    }
                }
                s.into_iter().collect::<String>()
            }
            1 => (0..rng.below(60))
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect::<Vec<_>>()
                .join(" "),
            _ => {
                let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let fe = weft_lang::check_file("fuzz.weft", &text, &NoFiles);
        for d in &fe.diagnostics {
            let _ = d.render(&fe.sources);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let text = format!(
            "fn main() {{ let x = {}1{} }}",
            open.repeat(10_000),
            close.repeat(10_000)
        );
        let fe = weft_lang::check_file("deep.weft", &text, &NoFiles);
        assert!(fe.has_errors());
    }
    let chain = format!("fn main() {{ let x = 1{} }}", " + 1".repeat(20_000));
    let _ = weft_lang::check_file("long.weft", &chain, &NoFiles);
    let unary = format!("fn main() {{ let x = {}1 }}", "-".repeat(10_000));
    let _ = weft_lang::check_file("unary.weft", &unary, &NoFiles);
}

#[test]
fn empty_file_checks() {
    let fe = weft_lang::check_file("empty.weft", "", &NoFiles);
    assert!(!fe.has_errors());
}
