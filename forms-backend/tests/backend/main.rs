//! Integration tests of the form backend, one module per feature, in one
//! test binary. Fixture sites are the repository's `tests/fixtures/`
//! (shared with `tests/campus`), copied into temporary folders. Tests that
//! need time to pass move a manual clock ([`campus_forms::clock::Clock`])
//! instead of sleeping.
//!
//! `CAMPUS_TEST_DATABASE=postgres` runs the same tests on PostgreSQL (a
//! throw-away cluster for the run, a fresh database per test; see `pg`).

#[allow(dead_code)]
mod common;

mod booking;
mod delivery;
mod discovery;
mod http;
mod intake;
#[allow(dead_code)]
mod pg;
mod theme;
mod verwaltung;
