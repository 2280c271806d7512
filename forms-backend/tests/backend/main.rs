//! Integration tests of the form backend, one module per feature, in one
//! test binary. Fixture sites are the repository's `tests/fixtures/`
//! (shared with `tests/campus`), copied into temporary folders. Tests that
//! need time to pass move a manual clock ([`campus_forms::clock::Clock`])
//! instead of sleeping.

#[allow(dead_code)]
mod common;

mod booking;
mod delivery;
mod discovery;
mod forms_for_everyone;
mod http;
mod intake;
mod theme;
mod verwaltung;
