//! The KommunalCampus site generator.
//!
//! Data flows in one direction: `content` reads files into raw front matter,
//! `model` validates and links them into a [`model::Site`] (no rendering there),
//! `render` turns the site into pages, `output` writes them. [`build::build_site`]
//! is the one pipeline function that runs all of it.

pub mod config;
pub mod content;
pub mod error;
pub mod money;
pub mod slug;
pub mod time;

pub use error::{Problem, ProblemKind, Problems};
