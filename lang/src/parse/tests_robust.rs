//! Robustness: random bytes, random token soups and deep nesting must all come
//! back with diagnostics, never a panic, a hang or a stack overflow.

use super::{parse, parse_expr};
use crate::source::FileId;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn titles(src: &str) -> Vec<String> {
    let (_, diags) = parse(FileId(0), src);
    let (_, expr_diags) = parse_expr(FileId(0), src);
    diags
        .into_iter()
        .chain(expr_diags)
        .map(|d| d.title)
        .collect()
}

#[test]
fn empty_and_blank_files() {
    for src in [
        "",
        "\n",
        "   \n\t\n",
        "//",
        "/*",
        "/* */",
        ";",
        ";;\n;",
        "\"",
        "{",
        "}",
        "\u{feff}",
    ] {
        let _ = titles(src);
    }
    assert!(parse(FileId(0), "").0.items.is_empty());
    assert!(parse(FileId(0), "").1.is_empty());
}

#[test]
fn random_bytes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let len = rng.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = titles(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn random_ascii() {
    let chars = b"abcXYZ_019 \n\t\"\\{}()[]<>=!&|+-*/%.,;:?#'`~@$^e";
    let mut rng = Rng(42);
    for _ in 0..500 {
        let len = rng.below(120);
        let s: String = (0..len)
            .map(|_| chars[rng.below(chars.len())] as char)
            .collect();
        let _ = titles(&s);
    }
}

#[test]
fn random_token_soup() {
    let toks = [
        "fn", "let", "var", "if", "else", "match", "while", "for", "in", "break", "continue",
        "return", "type", "enum", "use", "test", "true", "false", "try", "_", "(", ")", "[", "]",
        "{", "}", ",", ";", ":", "::", ".", "..", "...", "->", "=>", "=", "+=", "-=", "+", "-",
        "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "?", "|", "x", "y",
        "Point", "List", "1", "2.5", "250ms", "0xff", "\"s\"", "\"a{", "}b\"", "\n", "\n", "\n",
        "/*", "*/", "//", "///", "t.0.1",
    ];
    let mut rng = Rng(7);
    for _ in 0..1500 {
        let len = rng.below(60);
        let mut s = String::new();
        if rng.below(2) == 0 {
            s.push_str("fn f() {\n");
        }
        for _ in 0..len {
            s.push_str(toks[rng.below(toks.len())]);
            s.push(' ');
        }
        let _ = titles(&s);
    }
}

/// Mutations of a valid program: delete, duplicate or swap random tokens.
#[test]
fn mutated_programs() {
    let program = super::tests_programs::NBODY;
    let words: Vec<&str> = program.split_inclusive([' ', '\n']).collect();
    let mut rng = Rng(2024);
    for _ in 0..300 {
        let mut w = words.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(w.len());
            match rng.below(3) {
                0 => {
                    w.remove(i);
                }
                1 => w.insert(i, w[i]),
                _ => {
                    let j = rng.below(w.len());
                    w.swap(i, j);
                }
            }
        }
        let _ = titles(&w.concat());
    }
}

fn file_titles(src: &str) -> Vec<String> {
    parse(FileId(0), src)
        .1
        .into_iter()
        .map(|d| d.title)
        .collect()
}

fn deep(open: &str, close: &str, n: usize) -> String {
    format!("{}{}", open.repeat(n), close.repeat(n))
}

fn assert_too_deep(src: &str) {
    let t = file_titles(src);
    let head = src.get(..40).unwrap_or(src);
    assert!(
        t.iter().any(|t| t == "nesting too deep"),
        "{head:?}: {:?}",
        &t[..t.len().min(5)]
    );
}

#[test]
fn deep_brackets() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let inner = deep(open, close, 10_000);
        assert_too_deep(&format!("fn f() {{ {inner} }}"));
        let _ = titles(&inner);
        let _ = titles(&open.repeat(10_000));
        let _ = titles(&close.repeat(10_000));
    }
    assert_too_deep(&format!("fn f() {{ {} }}", deep("\"{", "}\"", 5_000)));
    assert_too_deep(&format!("fn f() {{ {} }}", deep("Some(", ")", 10_000)));
    assert_too_deep(&format!("type T = {}", deep("List<", ">", 10_000)));
    let _ = titles(&deep("/*", "*/", 10_000));
    let _ = titles(&"\"{".repeat(10_000));
}

#[test]
fn deep_chains() {
    let n = 10_000;
    for src in [
        format!("fn f() {{ {}x }}", "-".repeat(n)),
        format!("fn f() {{ {}x }}", "!".repeat(n)),
        format!("fn f() {{ {}x }}", "try ".repeat(n)),
        format!("fn f() {{ {}x }}", "return ".repeat(n)),
        format!("fn f() {{ x{} }}", ".y".repeat(n)),
        format!("fn f() {{ x{} }}", "?".repeat(n)),
        format!("fn f() {{ x{} }}", "(1)".repeat(n)),
        format!("fn f() {{ x{} }}", "[1]".repeat(n)),
        format!("fn f() {{ 1{} }}", " + 1".repeat(n)),
        format!("fn f() {{ {}x }}", "|x| ".repeat(n)),
        format!("fn f() {{ if a {{ }}{} }}", " else if a { }".repeat(n)),
        format!("fn f() {{ {}a{} }}", "if ".repeat(n), " { }".repeat(n)),
        format!("fn f() {{ {}a{} }}", "match ".repeat(n), " { }".repeat(n)),
    ] {
        assert_too_deep(&src);
    }
}

#[test]
fn moderate_nesting_is_fine() {
    let src = format!("fn f() {{ {} }}", deep("(", ")", 50).replace("()", "(1)"));
    assert!(file_titles(&src).is_empty(), "{:?}", file_titles(&src));
    let chain = format!("fn f() {{ x{} }}", ".y()".repeat(60));
    assert!(file_titles(&chain).is_empty());
}

#[test]
fn many_items_parse_quickly() {
    let one = "fn f(x: Int) -> Int {\n  let y = x * 2\n  if y > 3 { y } else { 0 }\n}\n";
    let src = one.repeat(5_000);
    let start = std::time::Instant::now();
    let (m, diags) = parse(FileId(0), &src);
    assert!(diags.is_empty());
    assert_eq!(m.items.len(), 5_000);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}
