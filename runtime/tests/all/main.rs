//! weft-runtime's integration tests: hand-built wasm modules (no compiler needed) run
//! through the public API.

mod host;
mod imports;
mod run;
mod wasm;

use std::sync::OnceLock;
use weft_runtime::{Runtime, Settings};

/// One runtime shared by the tests, as a node shares one.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| match Runtime::new(Settings::default()) {
        Ok(rt) => rt,
        Err(e) => panic!("{e}"),
    })
}
