//! The KommunalCampus site generator.
//!
//! Data flows in one direction: `content` reads files into raw front matter,
//! `model` validates and links them into a [`model::Site`] (no rendering there),
//! `render` turns the site into pages, `output` writes them. [`build::build_site`]
//! is the one pipeline function that runs all of it.
//!
//! The three largest modules are folders along their steps. `content`:
//! `content/parse.rs` splits front matter and parses YAML with file lines,
//! `content/files.rs` finds and reads files (and reports the unread ones),
//! `content/loader.rs` reads folders in parallel and reuses unchanged files,
//! `content/raw.rs` holds the raw shapes editors write. `model`: `model/mod.rs` holds the [`model::Site`]
//! and the load pipeline, `model/link.rs` resolves references into indices,
//! `model/checks.rs` holds the checks that span files, `model/pricing.rs` the
//! prices and membership, `model/patch.rs` the incremental updates.
//! `render`: `render/mod.rs` holds the pipeline functions
//! ([`render::render_site`], [`render::render_page`]), `render/templates.rs`
//! loads Tera with its filters and turns template errors into problems,
//! `render/views.rs` builds the values templates see, and `render/pages.rs`
//! the page list and its rendering jobs, with `render/discovery_pages.rs` for
//! the catalog, search and self-check pages. `render` uses `discovery` (the
//! filter and search views), never the other way round.

pub mod build;
pub mod config;
pub mod content;
pub mod discovery;
pub mod error;
pub mod headers;
pub mod ics;
pub mod incremental;
pub mod links;
pub mod markdown;
pub mod model;
pub mod money;
pub mod output;
pub mod render;
pub mod search;
pub mod selfcheck;
pub mod slug;
pub mod svg;
pub mod time;
pub mod urls;

pub use build::{build_site, check_site, BuildOptions, BuildReport};
pub use error::{Problem, ProblemKind, Problems};
pub use model::Site;
