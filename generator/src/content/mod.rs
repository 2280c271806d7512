//! Reading content files: front matter split, YAML parsing with locations,
//! and the raw shapes editors write. Nothing here checks references; that is
//! the job of `model`. Submodules: `parse` (front matter and YAML), `files`
//! (finding and reading files), `loader` (folders, reuse of unchanged files),
//! `front_cache` (parsed front matter kept between builds), `raw` (the raw shapes); their public items are re-exported here.

use crate::error::{Problem, ProblemKind};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod files;
mod front_cache;
mod loader;
mod parse;
mod raw;

pub use files::{
    german_io_error, is_content_file, markdown_files, read_data, unread_data_files, unread_files,
};
pub use front_cache::FrontCache;
pub use loader::{load_folder, Folder, Loader};
pub(crate) use parse::classify;
pub(crate) use parse::{cache_form, in_cache_form};
pub use parse::{parse_yaml, Located, SourceFile};
pub use raw::{
    Approval, AuthorityKind, Format, PageTemplate, RawAuthority, RawBracket, RawCancellationTerms,
    RawCompetenceArea, RawContact, RawCourse, RawCourseUnit, RawFaq, RawFaqCategory, RawHome,
    RawLecturer, RawLevel, RawLiveDate, RawMembership, RawNameForms, RawPage, RawPicture,
    RawPostalAddress, RawPriceRules, RawReduction, RawRoleProfile, RawTopic, RawUnit, RawVideo,
    UnitRole,
};
pub use raw::{Audience, RawEvent};
pub use raw::{ProviderKind, RawCertification, RawProvider, RawQualifiedLecturer};
