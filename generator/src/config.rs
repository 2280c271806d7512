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

/// One table of `campus.toml` and the type that reads it, so `campus check`
/// can hold every table to its type without each part parsing the file.
pub struct KnownTable {
    pub name: &'static str,
    read: for<'a> fn(toml::de::ValueDeserializer<'a>) -> Result<(), toml::de::Error>,
}

impl KnownTable {
    /// The table `name`, read as `T` (a struct with `deny_unknown_fields`).
    pub fn of<T: serde::de::DeserializeOwned>(name: &'static str) -> KnownTable {
        fn read<T: serde::de::DeserializeOwned>(
            value: toml::de::ValueDeserializer<'_>,
        ) -> Result<(), toml::de::Error> {
            T::deserialize(value).map(drop)
        }
        KnownTable {
            name,
            read: read::<T>,
        }
    }
}

/// The generator's own tables.
pub fn generator_tables() -> Vec<KnownTable> {
    vec![
        KnownTable::of::<SiteConfig>("site"),
        KnownTable::of::<ContactConfig>("kontakt"),
        KnownTable::of::<FormsConfig>("forms"),
    ]
}

/// Every problem of `campus.toml` against the known tables, each at its
/// line and column: an unknown table or key (with the closest known name),
/// a value of the wrong type, a missing required key. A table is read again
/// without the offending entry after each problem, so all are listed at once.
pub fn check_tables(text: &str, path: &Path, known: &[KnownTable]) -> Vec<Problem> {
    use crate::content::classify;
    let at = |problem: Problem, offset: usize| {
        let (line, col) = line_col(text, offset);
        problem.at(line, Some(col))
    };
    let document = match toml::de::DeTable::parse(text) {
        Ok(document) => document.into_inner(),
        Err(e) => {
            let problem = Problem::new(
                path,
                ProblemKind::Config {
                    table: None,
                    problem: Box::new(ProblemKind::Syntax {
                        message: e.message().to_string(),
                    }),
                },
            );
            return vec![match e.span() {
                Some(span) => at(problem, span.start),
                None => problem,
            }];
        }
    };
    let names: Vec<&str> = known.iter().map(|t| t.name).collect();
    let mut problems = Vec::new();
    for table in known {
        let present = document
            .iter()
            .any(|(k, _)| k.get_ref().as_ref() == table.name);
        if !present && !matches!(table.name, "site" | "kontakt") {
            continue;
        }
        if !present {
            problems.push(Problem::new(
                path,
                ProblemKind::Config {
                    table: None,
                    problem: Box::new(ProblemKind::MissingKey {
                        field: format!("[{}]", table.name),
                    }),
                },
            ));
        }
    }
    for (key, value) in document.iter() {
        let name: &str = key.get_ref().as_ref();
        let Some(table) = known.iter().find(|t| t.name == name) else {
            let suggestion = crate::slug::closest(name, names.iter().copied()).map(Box::from);
            let kind = ProblemKind::Config {
                table: None,
                problem: Box::new(ProblemKind::UnknownField {
                    field: name.to_string(),
                    allowed: names.iter().map(|n| n.to_string()).collect(),
                    suggestion,
                }),
            };
            problems.push(at(Problem::new(path, kind), key.span().start));
            continue;
        };
        let mut value = value.clone();
        // Each round reports the first problem serde finds and drops the entry
        // it points at; a table has few keys, so this ends quickly.
        for _ in 0..64 {
            let Err(e) = (table.read)(toml::de::ValueDeserializer::from(value.clone())) else {
                break;
            };
            let offset = e.span().map_or(value.span().start, |s| s.start);
            let line = text
                .lines()
                .nth(line_col(text, offset).0 as usize - 1)
                .unwrap_or("");
            let rest: String = text[offset.min(text.len())..]
                .lines()
                .next()
                .unwrap_or("")
                .into();
            let mut problem = classify(e.message(), line, &rest);
            // "kopf_zeitlimit" for "kopf_zeitlimit_sekunden": too far apart for
            // the edit distance, but plainly meant.
            if let ProblemKind::UnknownField {
                field,
                allowed,
                suggestion: suggestion @ None,
            } = &mut problem
            {
                let longer: Vec<&String> = allowed
                    .iter()
                    .filter(|a| a.starts_with(field.as_str()))
                    .collect();
                if let [only] = longer[..] {
                    *suggestion = Some(only.as_str().into());
                }
            }
            let kind = ProblemKind::Config {
                table: Some(name.to_string()),
                problem: Box::new(problem),
            };
            problems.push(at(Problem::new(path, kind), offset));
            let toml::de::DeValue::Table(entries) = value.get_mut() else {
                break;
            };
            let hit = entries
                .iter()
                .find(|(k, v)| k.span().contains(&offset) || v.span().contains(&offset))
                .map(|(k, _)| k.clone());
            match hit {
                Some(k) => drop(entries.remove(&k)),
                None => break,
            }
        }
    }
    problems
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
