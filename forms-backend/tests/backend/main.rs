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
mod certificate;
mod courses;
mod delivery;
mod discovery;
mod events;
mod exclusive;
mod fee;
mod forms_for_everyone;
mod http;
mod intake;
mod internal_units;
mod invoices;
mod membership;
mod nodes;
mod official_addresses;
mod paging;
#[allow(dead_code)]
mod pg;
mod theme;
mod verwaltung;
mod verwaltung_moves;
mod verwaltung_tasks;
mod verwaltung_totp;
