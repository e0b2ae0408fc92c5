//! Integration tests of the Weft compiler: hand-built typed IR, compiled and run in wasmtime.

mod build;
mod harness;

mod adts;
mod basics;
mod cache;
mod closures;
mod debug;
mod e2e;
mod inline;
mod lists;
mod maps;
mod memory;
mod patch;
mod strings;
mod tidy;
