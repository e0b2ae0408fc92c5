//! Integration tests of the front end: whole programs through parse and check.

mod checker;
mod fuzz;
mod migrations;
mod support;
