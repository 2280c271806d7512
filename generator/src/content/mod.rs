//! Reading content files: front matter split, YAML parsing with locations,
//! and the raw shapes editors write. Nothing here checks references; that is
//! the job of `model`. Submodules: `parse` (front matter and YAML), `files`
//! (finding and reading files), `loader` (folders, reuse of unchanged files),
//! `raw` (the raw shapes); their public items are re-exported here.

use crate::error::{Problem, ProblemKind};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod files;
mod loader;
mod parse;
mod raw;

pub use files::{
    german_io_error, is_content_file, markdown_files, read_data, unread_data_files, unread_files,
};
pub use loader::{load_folder, Folder, Loader};
pub use parse::{parse_yaml, Located, SourceFile};
pub use raw::{
    Approval, AuthorityKind, Format, PageTemplate, RawAuthority, RawBracket, RawCompetenceArea,
    RawContact, RawCourse, RawCourseUnit, RawFaq, RawFaqCategory, RawHome, RawLecturer, RawLevel,
    RawLiveDate, RawMembership, RawPage, RawPicture, RawPriceRules, RawReduction, RawRoleProfile,
    RawTopic, RawUnit, UnitRole,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_body() {
        let f = SourceFile::parse(Path::new("x/abc.md"), "---\ntitel: A\n---\nText\n").unwrap();
        assert_eq!(f.id, "abc");
        assert_eq!(f.front, "titel: A\n");
        assert_eq!(f.body, "Text\n");
        assert_eq!(f.body_line, 4);
    }

    #[test]
    fn missing_and_unclosed_front_matter() {
        let e = SourceFile::parse(Path::new("a.md"), "titel: A\n").unwrap_err();
        assert_eq!(e.kind, ProblemKind::MissingFrontMatter);
        let e = SourceFile::parse(Path::new("a.md"), "---\ntitel: A\n").unwrap_err();
        assert_eq!(e.kind, ProblemKind::UnclosedFrontMatter);
    }

    #[test]
    fn yaml_errors_carry_file_lines() {
        let f = SourceFile::parse(
            Path::new("a.md"),
            "---\ntitel: A\nkurzbeschreibung: B\nfalsch: 1\n---\n",
        )
        .unwrap();
        let e = f.front_matter::<RawTopic>().unwrap_err();
        assert!(
            matches!(&e.kind, ProblemKind::UnknownField { field, .. } if field == "falsch"),
            "{e}"
        );
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn located_values_know_their_line() {
        let f = SourceFile::parse(
            Path::new("a.md"),
            "---\nfrage: Was?\n\nkategorie: kosten\n---\nAntwort\n",
        )
        .unwrap();
        let faq = f.front_matter::<RawFaq>().unwrap();
        assert_eq!(f.file_line(&faq.kategorie), 4);
    }

    #[test]
    fn parser_messages_become_typed_problems() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Item {
            titel: String,
            format: Format,
            stunden: f64,
            themen: Vec<String>,
        }
        let kind = |yaml: &str| {
            parse_yaml::<Item>(yaml, Path::new("x.md"), 1)
                .unwrap_err()
                .kind
        };
        let ok = "titel: A\nformat: hybrid\nstunden: 3\nthemen: [a]\n";
        assert!(matches!(
            kind(&ok.replace("stunden:", "stunde:")),
            ProblemKind::UnknownField { field, suggestion: Some(s), allowed }
                if field == "stunde" && &*s == "stunden" && allowed.len() == 4
        ));
        assert!(matches!(
            kind(&ok.replace("hybrid", "praesenz")),
            ProblemKind::UnknownChoice { value, allowed }
                if value == "praesenz" && *allowed == ["hybrid", "on-demand"]
        ));
        assert!(matches!(
            kind(&ok.replace("titel: A\n", "")),
            ProblemKind::MissingKey { field } if field == "titel"
        ));
        assert!(matches!(
            kind(&ok.replace("stunden: 3", "stunden: drei")),
            ProblemKind::WrongType { expected } if expected.contains("Zahl")
        ));
        assert!(matches!(
            kind(&ok.replace("themen: [a]", "themen: a")),
            ProblemKind::WrongType {
                expected: "eine Liste"
            }
        ));
        // An unquoted text starting with "[" reads as a list.
        assert!(matches!(
            kind(&ok.replace("titel: A", "titel: [A")),
            ProblemKind::WrongType {
                expected: "ein Text"
            }
        ));
    }

    #[test]
    fn every_parser_complaint_is_german() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Item {
            titel: String,
            anzahl: Option<u32>,
        }
        let problem = |yaml: &str| parse_yaml::<Item>(yaml, Path::new("x.md"), 1).unwrap_err();
        assert_eq!(
            problem("titel: A\nanzahl: 2.400\n").kind,
            ProblemKind::GermanNumber {
                value: "2.400".into()
            }
        );
        assert_eq!(
            problem("titel:\n").kind,
            ProblemKind::BlankText {
                field: "titel".into()
            }
        );
        let doubled = problem("titel: A\ntitel: B\n");
        assert_eq!(
            doubled.kind,
            ProblemKind::DuplicateKey {
                field: "titel".into()
            }
        );
        assert_eq!(doubled.line, Some(3));
        assert!(matches!(
            problem("titel: A\nanzahl: -1\n").kind,
            ProblemKind::WrongType {
                expected: "eine ganze Zahl"
            }
        ));
        // Whatever the parser says, no English and no Rust words.
        for yaml in [
            "titel A\n",
            "titel: a: b\n",
            "titel: \"offen\n",
            "titel: a\n\tanzahl: 1\n",
            "titel: `a`\n",
            "titel: @a\n",
            "- a\n",
            "titel: A\nanzahl: 2.400\n",
            "titel:\n",
            "titel: A\ntitel: B\n",
            "titel: A\nanzahl: -1\n",
        ] {
            let text = problem(yaml).to_string();
            for word in [
                "expected", "mapping", "Option", "String", "u32", "invalid", "Policy", "scalar",
                "YAML:",
            ] {
                assert!(!text.contains(word), "{yaml:?}: {text}");
            }
        }
    }

    #[test]
    fn ignores_editor_temp_files() {
        assert!(is_content_file(Path::new("a/b.md")));
        assert!(!is_content_file(Path::new("a/.b.md.swp")));
        assert!(!is_content_file(Path::new("a/#b.md#")));
        assert!(!is_content_file(Path::new("a/b.md~")));
    }
}
