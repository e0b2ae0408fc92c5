//! The hot swap checker's tests: two manifests built by hand (`support`), checked, and
//! the report's changes and lane plans compared with what a user would expect, one
//! module per area of the rules.

mod agents;
mod lanes;
mod members;
mod methods;
mod render;
mod support;
mod types;
