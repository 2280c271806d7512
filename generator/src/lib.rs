//! The KommunalCampus site generator.
//!
//! Data flows in one direction: `content` reads files into raw front matter,
//! `model` validates and links them into a [`model::Site`] (no rendering there),
//! `render` turns the site into pages, `output` writes them. [`build::build_site`]
//! is the one pipeline function that runs all of it.
//!
//! The largest modules are folders along their steps:
//! - `content/`: `parse` (front matter, YAML with file lines, typed parser
//!   problems), `files` (finding and reading files, reporting unread ones),
//!   `loader` (whole folders in parallel, reuse of unchanged files), `raw`
//!   (the raw shapes editors write).
//! - `model/`: `mod.rs` (the [`model::Site`] and the load pipeline), `link`
//!   (resolving references into indices), `checks` (checks that span files),
//!   `pricing` (prices and membership), `patch` (incremental updates).
//! - `render/`: `mod.rs` (the pipeline functions [`render::render_site`],
//!   [`render::render_page`], ...), `templates` (loading Tera, filters,
//!   template problems), `views` (the values templates see), `pages` (the
//!   page list and its rendering jobs), `discovery_pages` (catalog, search
//!   and self-check pages).
//!
//! `render` uses `discovery` (the filter, search and self-check views), never
//! the other way round.

pub mod assets;
pub mod build;
mod build_cache;
pub mod config;
pub mod content;
pub mod discovery;
pub mod error;
pub mod headers;
pub mod ics;
pub mod images;
pub mod incremental;
pub mod kept;
pub mod links;
pub mod markdown;
pub mod model;
pub mod money;
pub mod output;
pub mod render;
pub mod retention;
pub mod search;
pub mod selfcheck;
pub mod slug;
pub mod svg;
pub mod time;
pub mod typography;
pub mod urls;

pub use build::{build_site, check, check_site, BuildOptions, BuildReport};
pub use build_cache::is_first_build;
pub use error::{Problem, ProblemKind, Problems};
pub use model::Site;
