//! `campus.toml`: the one configuration file at the site's root.
//!
//! The generator reads `[site]`, `[kontakt]` and `[forms]`; other tables
//! (`[serve]`, `[backend]`, `[mail]`, ...) belong to the form backend and are
//! kept as raw TOML so each part parses only what it owns.

use crate::error::{Problem, ProblemKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "campus.toml";

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    pub site: SiteConfig,
    pub kontakt: ContactConfig,
    #[serde(default)]
    pub forms: FormsConfig,
    /// Everything else in the file, for the other parts of the product.
    #[serde(flatten)]
    #[serde(skip_serializing)]
    pub rest: toml::Table,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub name: String,
    /// Absolute URL the site is published under, without trailing slash.
    /// `adresse` in campus.toml (German like the table's other keys);
    /// `base_url` is still read, as older files have it.
    #[serde(rename = "adresse", alias = "base_url")]
    pub base_url: String,
    #[serde(default)]
    pub beschreibung: String,
    #[serde(default = "default_theme")]
    pub theme: String,
}

fn default_theme() -> String {
    "default".into()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContactConfig {
    pub organisation: String,
    pub strasse: String,
    pub ort: String,
    pub email: String,
    pub telefon: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FormsConfig {
    /// Base URL of the form backend; empty means the same origin as the site.
    #[serde(default)]
    pub url: String,
}

impl Config {
    pub fn load(site_dir: &Path) -> Result<Config, Problem> {
        let path = site_dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Problem::new(
                &path,
                ProblemKind::Unreadable {
                    reason: e.to_string(),
                },
            )
        })?;
        Self::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, Problem> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let mut problem = Problem::new(
                path,
                ProblemKind::Syntax {
                    message: e.message().to_string(),
                },
            );
            if let Some(span) = e.span() {
                let (line, col) = line_col(text, span.start);
                problem = problem.at(line, Some(col));
            }
            problem
        })?;
        config.site.base_url = config.site.base_url.trim_end_matches('/').to_string();
        config.forms.url = config.forms.url.trim_end_matches('/').to_string();
        Ok(config)
    }

    /// Where the theme's templates and assets live.
    pub fn theme_dir(&self, site_dir: &Path) -> PathBuf {
        site_dir.join("themes").join(&self.site.theme)
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u64, u64) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() as u64 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_of_toml_error() {
        let text = "[site]\nname = \"X\"\nbase_url = 5\n[kontakt]\norganisation=\"a\"\nstrasse=\"b\"\nort=\"c\"\nemail=\"d\"\ntelefon=\"e\"\n";
        let err = Config::parse(text, Path::new("campus.toml")).unwrap_err();
        assert!(matches!(err.kind, ProblemKind::Syntax { .. }));
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn keeps_other_tables_for_the_backend() {
        let text = "[site]\nname = \"X\"\nbase_url = \"http://a/\"\n[kontakt]\norganisation=\"a\"\nstrasse=\"b\"\nort=\"c\"\nemail=\"d\"\ntelefon=\"e\"\n[serve]\naddress=\"127.0.0.1:1\"\n";
        let config = Config::parse(text, Path::new("campus.toml")).unwrap();
        assert_eq!(config.site.base_url, "http://a");
        assert!(config.rest.contains_key("serve"));
    }

    #[test]
    fn site_address_is_read_under_its_german_and_its_old_key() {
        let rest =
            "[kontakt]\norganisation=\"a\"\nstrasse=\"b\"\nort=\"c\"\nemail=\"d\"\ntelefon=\"e\"\n";
        for key in ["adresse", "base_url"] {
            let text = format!("[site]\nname = \"X\"\n{key} = \"https://k.example/\"\n{rest}");
            let config = Config::parse(&text, Path::new("campus.toml")).unwrap();
            assert_eq!(config.site.base_url, "https://k.example", "{key}");
        }
    }
}
