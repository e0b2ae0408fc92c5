//! A deterministic fuzz test of the Recon parser and printer (xorshift, fixed seeds).
//!
//! Random bytes, token soups and mutated envelopes must never panic or hang the parser;
//! whatever parses must print to text that parses to the same thing; random values must
//! survive print and parse unchanged.

use crate::warp::{parse, print, Envelope, Item, Value};
use std::time::{Duration, Instant};

/// xorshift64*: small, fast, and the same sequence on every run.
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

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const TOKENS: &[&str] = &[
    "@",
    "a",
    "lane",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    ";",
    "\n",
    "\r",
    " ",
    "\t",
    "\"",
    "'",
    "\\",
    "\\u",
    "\\ud83d",
    "d83d",
    "-",
    "0",
    "1",
    "9",
    ".",
    "e",
    "E",
    "+",
    "x",
    "%",
    "=",
    "AAEC",
    "#",
    "true",
    "NaN",
    "Infinity",
    "1e999",
    "0xffffffffffffffff",
    "é",
    "😀",
    "`",
    "$",
    "@event(node:\"/a\",lane:b)",
    "@update(key:",
    "node:",
    "\u{0}",
];

const SEEDS: &[&str] = &[
    "@link(node:\"/unit/foo\",lane:bar)",
    "@event(node:\"/unit/foo\",lane:bar)@update(key:a)1",
    "@sync(node: node_uri, lane: lane_uri, prio: 0.5, rate: 1.0)",
    "@command(node:\"/unit/foo\",lane:shoppingCart)@remove(key:FromClientLink)",
    "@unlinked(node:\"/node\",lane:lane)@nodeNotFound",
    "@event(node:a,lane:b){x:1,y:[text @em[more]{2}],z:%AAEC,w:\"q\\u00e9\"}",
    "{a: 1; b: -2.5e3\n c: @t(1, 2) {d: true}} # comment",
];

/// Parses `input`, checking that it is quick and that what it reads prints stably.
fn check(input: &str) {
    let start = Instant::now();
    let result = parse(input);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "slow parse of {} bytes",
        input.len()
    );
    let _ = Envelope::parse(input);
    if let Ok(value) = result {
        let printed = print(&value);
        let reread = parse(&printed);
        let reprinted = reread.as_ref().map(print);
        assert_eq!(reprinted.as_ref(), Ok(&printed), "input {input:?}");
        assert_eq!(reread, Ok(value), "input {input:?} printed {printed:?}");
    }
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(5) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => {
                chars[at] = *rng.pick(&['{', '}', '@', '"', ':', ',', 'x', '('])
            }
            2 => {
                let token: Vec<char> = rng.pick(TOKENS).chars().collect();
                chars.splice(at..at, token);
            }
            3 if at < chars.len() => {
                let end = (at + rng.below(8)).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let len = rng.below(64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        check(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn token_soup_never_panics() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..5000 {
        let input: String = (0..rng.below(24)).map(|_| *rng.pick(TOKENS)).collect();
        check(&input);
    }
}

#[test]
fn mutated_envelopes_never_panic() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for _ in 0..5000 {
        let seed = *rng.pick(SEEDS);
        check(&mutate(&mut rng, seed));
    }
}

#[test]
fn large_inputs_parse_in_linear_time() {
    let inputs = [
        "@a".repeat(50_000),
        "{}".repeat(50_000),
        format!("{{{}}}", "1,".repeat(50_000)),
        format!("[{}]", "text ".repeat(50_000)),
        format!("\"{}\"", "\\n".repeat(50_000)),
        "1".repeat(100_000),
        format!("%{}", "A".repeat(100_000)),
        "#".repeat(100_000),
        format!("{{{}", ",".repeat(100_000)),
    ];
    for input in inputs {
        check(&input);
    }
}

fn gen_text(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a", "Z", "_", "-", "9", " ", "é", "😀", "\"", "\\", "\n", "\u{1}", "@", "{", "}", ":",
        ",", "true", "NaN", "Infinity", "/", "#",
    ];
    (0..rng.below(6)).map(|_| *rng.pick(PIECES)).collect()
}

fn gen_scalar(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 | 1 => Value::Text(gen_text(rng)),
        2 => Value::Int(rng.next() as i64 >> rng.below(64)),
        3 => Value::Float(f64::from_bits(rng.next())),
        4 => Value::Float(*rng.pick(&[0.0, -0.0, 1.0, 0.5, -2.25, 1e21, 1e-7, f64::INFINITY])),
        5 => Value::Bool(rng.below(2) == 0),
        6 => Value::Data((0..rng.below(7)).map(|_| rng.next() as u8).collect()),
        _ => Value::Extant,
    }
}

fn gen_value(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 || rng.below(3) > 0 {
        return gen_scalar(rng);
    }
    let items = (0..rng.below(5))
        .map(|_| match rng.below(3) {
            0 => Item::Attr(gen_text(rng), gen_value(rng, depth - 1)),
            1 => Item::Slot(gen_value(rng, depth - 1), gen_value(rng, depth - 1)),
            _ => Item::Value(gen_value(rng, depth - 1)),
        })
        .collect();
    Value::Record(items)
}

fn has_nan(value: &Value) -> bool {
    match value {
        Value::Float(x) => x.is_nan(),
        Value::Record(items) => items.iter().any(|item| match item {
            Item::Attr(_, v) | Item::Value(v) => has_nan(v),
            Item::Slot(k, v) => has_nan(k) || has_nan(v),
        }),
        _ => false,
    }
}

#[test]
fn random_values_round_trip() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut checked = 0;
    while checked < 5000 {
        let value = gen_value(&mut rng, 5);
        // A bare extant value prints as nothing and reads back absent, as in Swim.
        if value == Value::Extant || has_nan(&value) {
            continue;
        }
        let printed = print(&value);
        assert_eq!(parse(&printed), Ok(value), "printed {printed:?}");
        checked += 1;
    }
}

#[test]
fn random_envelopes_round_trip() {
    let mut rng = Rng(0x5555_aaaa_3333_cccc);
    for _ in 0..2000 {
        let body = match gen_value(&mut rng, 4) {
            Value::Extant => Value::Absent,
            Value::Record(items) if items.is_empty() => Value::Absent,
            Value::Record(items) if matches!(items.as_slice(), [Item::Value(_)]) => continue,
            body if has_nan(&body) => continue,
            body => body,
        };
        let (node, lane) = (gen_text(&mut rng), gen_text(&mut rng));
        let envelope = match rng.below(4) {
            0 => Envelope::event(node, lane, body),
            1 => Envelope::command(node, lane, body),
            2 => Envelope::unlinked(node, lane, body),
            _ => Envelope::Auth(body),
        };
        let text = envelope.to_text();
        assert_eq!(Envelope::parse(&text), Ok(envelope), "{text}");
    }
}
