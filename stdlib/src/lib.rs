//! The Weft standard library, as Weft source embedded in the binary.
//!
//! Whatever can be written in Weft lives in `weft/*.weft`; what must be native is an
//! intrinsic of the compiler or a host function of the runtime. This crate holds only text.

/// The prelude, in scope in every module.
pub const PRELUDE: &str = include_str!("../weft/prelude.weft");

/// `std::http`: requests, responses and the helpers an HttpService's handler uses.
pub const HTTP: &str = include_str!("../weft/http.weft");

/// The source of `std::NAME`, for `use std::NAME`.
pub fn module(path: &[&str]) -> Option<&'static str> {
    match path {
        ["prelude"] => Some(PRELUDE),
        ["http"] => Some(HTTP),
        _ => None,
    }
}
