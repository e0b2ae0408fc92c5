//! A compiled module carries its own description: `main`, its tests, its manifest and its
//! debug info travel inside the wasm bytes as one custom section (`weft`), so the bytes
//! alone are a whole program that a node can be sent, store and run, and its content
//! address covers all of it.

use crate::manifest::Manifest;
use crate::{Artifact, DebugInfo, ModuleId, TestEntry};
use serde::{Deserialize, Serialize};

/// The custom section's name.
const SECTION: &str = "weft";

/// Everything in an [`Artifact`] but the code.
#[derive(Serialize, Deserialize)]
struct Description {
    main_export: Option<String>,
    tests: Vec<TestEntry>,
    manifest: Manifest,
    debug: DebugInfo,
    /// The program's own source files (not the standard library's), root first: what a
    /// REPL connected to a node needs to put the program in scope.
    #[serde(default)]
    sources: Vec<(String, String)>,
}

/// Appends the section describing the module to its bytes.
pub(crate) fn describe(
    wasm: &mut Vec<u8>,
    main_export: &Option<String>,
    tests: &[TestEntry],
    manifest: &Manifest,
    debug: &DebugInfo,
    sources: &[(String, String)],
) {
    let d = Description {
        main_export: main_export.clone(),
        tests: tests.to_vec(),
        manifest: manifest.clone(),
        debug: debug.clone(),
        sources: sources.to_vec(),
    };
    let payload = serde_json::to_vec(&d).expect("a description always serializes");
    let mut body = vec![];
    leb128(&mut body, SECTION.len() as u64);
    body.extend_from_slice(SECTION.as_bytes());
    body.extend_from_slice(&payload);
    wasm.push(0);
    leb128(wasm, body.len() as u64);
    wasm.extend_from_slice(&body);
}

fn leb128(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads an unsigned LEB128 number at `*pos`, moving past it.
fn read_leb128(bytes: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos).ok_or("the module ends inside a number")?;
        *pos += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(n);
        }
    }
    Err("a number in the module is too long".into())
}

impl Artifact {
    /// The program whose module is `wasm`, as [`crate::compile`] made it. Fails, saying
    /// why, on bytes that are not a Weft module.
    pub fn from_wasm(wasm: Vec<u8>) -> Result<Artifact, String> {
        const HEADER: [u8; 8] = [0, b'a', b's', b'm', 1, 0, 0, 0];
        if !wasm.starts_with(&HEADER) {
            return Err("not a WebAssembly module".into());
        }
        let mut pos = HEADER.len();
        let mut found = None;
        while pos < wasm.len() {
            let id = wasm[pos];
            pos += 1;
            let size = read_leb128(&wasm, &mut pos)?;
            let end = usize::try_from(size)
                .ok()
                .and_then(|s| pos.checked_add(s))
                .filter(|&e| e <= wasm.len())
                .ok_or("a section runs past the end of the module")?;
            if id == 0 {
                let mut at = pos;
                let len = read_leb128(&wasm[..end], &mut at)?;
                let name_end = usize::try_from(len)
                    .ok()
                    .and_then(|l| at.checked_add(l))
                    .filter(|&e| e <= end)
                    .ok_or("a custom section's name runs past its end")?;
                if &wasm[at..name_end] == SECTION.as_bytes() {
                    found = Some((name_end, end));
                }
            }
            pos = end;
        }
        let (start, end) = found.ok_or("not a Weft module (it has no `weft` section)")?;
        let d: Description = serde_json::from_slice(&wasm[start..end])
            .map_err(|e| format!("the module's `weft` section is malformed: {e}"))?;
        Ok(Artifact {
            id: ModuleId::of(&wasm),
            wasm,
            main_export: d.main_export,
            tests: d.tests,
            manifest: d.manifest,
            debug: d.debug,
            sources: d.sources,
        })
    }
}
