//! One cause, one error: a mistake in a data file or in one content file
//! is reported once, at its own file and line, and no correct file is named.

use crate::support::*;
use campus_generator::{Problem, ProblemKind};
use std::path::Path;

fn problems(site: &Path) -> Vec<Problem> {
    match build(site) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    }
}

/// The one problem of the site, which must be in `file`.
fn only_in(site: &Path, file: &str) -> Problem {
    let mut all = problems(site);
    assert_eq!(all.len(), 1, "expected one problem in {file}, got {all:#?}");
    let p = all.remove(0);
    assert_eq!(p.file, Path::new(file), "{p}");
    p
}

#[test]
fn a_broken_levels_file_is_not_blamed_on_every_unit() {
    let site = broken("niveaus-kaputt");
    let p = only_in(site.path(), "data/niveaus.yaml");
    assert!(matches!(p.kind, ProblemKind::Syntax { .. }), "{p}");
    assert_eq!(p.line, Some(10));
    assert!(p.to_string().contains("Doppelpunkt"), "{p}");
}

#[test]
fn a_broken_faq_category_file_is_not_blamed_on_the_questions() {
    let site = broken("faq-kategorien-kaputt");
    let p = only_in(site.path(), "data/faq-kategorien.yaml");
    assert!(
        matches!(&p.kind, ProblemKind::UnknownField { field, .. } if field == "nam"),
        "{p}"
    );
    assert_eq!(p.line, Some(2));
}

#[test]
fn a_broken_topic_is_not_blamed_on_the_units_that_name_it() {
    let site = broken("thema-kaputt");
    let p = only_in(site.path(), "content/themen/testthema.md");
    assert!(matches!(p.kind, ProblemKind::Syntax { .. }), "{p}");
    assert!(p.to_string().contains("Anführungszeichen"), "{p}");
}

#[test]
fn a_misnamed_unit_file_is_not_blamed_on_the_course_and_authority() {
    let site = fixture("minimal");
    std::fs::rename(
        site.path().join("content/einheiten/hybrid-eins.md"),
        site.path().join("content/einheiten/Hybrid-Eins.md"),
    )
    .unwrap();
    let p = only_in(site.path(), "content/einheiten/Hybrid-Eins.md");
    assert_eq!(
        p.kind,
        ProblemKind::InvalidId {
            id: "Hybrid-Eins".into(),
            suggestion: "hybrid-eins".into()
        }
    );
}

#[test]
fn duplicate_and_blank_data_entries_are_named_at_their_lines() {
    let site = broken("niveau-doppelt");
    let all = problems(site.path());
    assert_eq!(all.len(), 2, "{all:#?}");
    for p in &all {
        assert_eq!(p.file, Path::new("data/niveaus.yaml"), "{p}");
        assert_eq!(p.line, Some(13), "{p}");
    }
    assert!(all.iter().any(|p| p.kind
        == ProblemKind::DuplicateEntry {
            id: "basiswissen".into(),
            first_line: 5
        }));
    assert!(all.iter().any(|p| p.kind
        == ProblemKind::BlankText {
            field: "name".into()
        }));
}

#[test]
fn a_broken_config_is_the_only_error() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "campus.toml",
        "name = \"Testcampus\"",
        "name = \"Testcampus",
    );
    let p = only_in(site.path(), "campus.toml");
    assert!(matches!(p.kind, ProblemKind::Syntax { .. }), "{p}");
}

#[test]
fn mistakes_in_several_files_are_each_reported_once_at_their_place() {
    let site = broken("niveaus-kaputt");
    copy_dir(
        &repo_root().join("tests/fixtures/broken/thema-kaputt"),
        site.path(),
    );
    edit(
        site.path(),
        "content/kurse/testkurs.md",
        "einheit: selbstlernen",
        "einheit: selbstlerne",
    );
    let all = problems(site.path());
    let files: Vec<_> = all
        .iter()
        .map(|p| p.file.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        [
            "content/kurse/testkurs.md",
            "content/themen/testthema.md",
            "data/niveaus.yaml"
        ],
        "{all:#?}"
    );
    assert!(matches!(
        &all[0].kind,
        ProblemKind::UnknownReference { id, suggestion: Some(s), .. } if id == "selbstlerne" && s == "selbstlernen"
    ));
}
