//! The `weft` package's integration tests: the data-driven programs under `tests/data`
//! (run through the library, not a subprocess), the examples' own tests, the built
//! binary's exit codes, and the repository's tidy rules.

mod agents;
mod cells_workers;
mod cli;
mod cluster_cli;
mod data;
mod defaults;
mod deploy;
mod diff;
mod e2e;
mod examples;
mod linearizable;
mod node;
mod patch;
mod repl;
mod resources;
mod secrets;
mod services;
mod support;
mod swim;
mod tidy;
mod volumes;
