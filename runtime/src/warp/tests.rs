//! Tests of Recon and WARP: values, envelopes, and a fuzz test of the parser.

mod envelope;
mod fuzz;
mod recon;
