//! Integration tests of the `campus` binary and the generator, one module per
//! feature. Fixture sites live in `tests/fixtures/` and are copied into
//! temporary folders, so tests never touch the repository's own `public/`.

mod support;

mod assets;
mod build_errors;
mod config_check;
mod courses;
mod events;
mod forms;
mod german_names;
mod hardening;
mod incremental;
mod internal_units;
mod invoices;
mod large_sites;
mod membership_draft;
mod membership_fee;
mod multinode;
mod net;
mod occupancy;
mod official_domains;
mod one_cause;
mod operations;
/// The throw-away PostgreSQL cluster of the backend tests.
#[path = "../../forms-backend/tests/backend/pg.rs"]
#[allow(dead_code, clippy::zombie_processes)]
mod pg;
mod pictures;
mod providers;
mod reproducible;
mod run;
mod safe_content;
mod sample_site;
mod selfcheck;
mod serve;
mod shutdown;
mod smtp;
mod typography;
mod videos;
