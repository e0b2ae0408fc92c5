//! Recon and WARP: the text format and the envelopes of Swim's link protocol, so that any
//! WARP client (such as `@swim/client`) can link to a Weft agent's lanes over WebSocket.
//!
//! - [`Value`] and [`Item`]: the Recon data model (`value.rs`).
//! - [`parse`] and [`print()`]: Recon text to values and back (`parse.rs`, `print.rs`).
//!   Parsing never panics, refuses nesting deeper than [`NESTING_DEPTH_MAX`], and takes
//!   time linear in the text.
//! - [`Envelope`]: one WARP message per WebSocket text frame (`envelope.rs`).
//! - [`MapEvent`]: the bodies a map lane streams (`map.rs`).
//!
//! The formats were checked against Swim's implementations (`@swim/recon`,
//! `@swim/warp`, the Java `swim.warp` specs and `swimos` in Rust), but the code is our
//! own; `@swim/recon` 4.0.0 itself read 20,000 random printed values, and 5,000 printed
//! envelopes through `@swim/warp`, as the same values, and we read what it wrote back.
//! This module does no IO: a connection hands it frames and sends what it prints.
//! Operators, selectors and other Recon expressions are not supported; WARP does not use
//! them.
//!
//! What does not survive print and parse, in Swim as here: an absent or extant value on
//! its own prints as nothing and reads back absent (so does an envelope body), NaN reads
//! back as the text `NaN`, and a body that is a record of one value reads back as that
//! value. Printing recurses once per level of nesting; a value nested deeper than
//! [`NESTING_DEPTH_MAX`] prints, but no peer with the same limit will read it.

mod base64;
mod chars;
mod envelope;
mod error;
mod map;
mod parse;
mod print;
mod value;

#[cfg(test)]
mod tests;

pub use envelope::{Envelope, LaneAddressed, LinkAddressed};
pub use error::{EnvelopeError, MapEventError, Position, ReconError};
pub use map::MapEvent;
pub use parse::{parse, parse_with_depth_max, NESTING_DEPTH_MAX};
pub use print::print;
pub use value::{Item, Value};
