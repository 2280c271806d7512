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

// ---------------------------------------------------------------- nothing dropped silently

#[test]
fn files_the_build_does_not_read_are_named() {
    let site = broken("uebersehene-dateien");
    // Meant to be a question, but `.MD` would not be read: an error.
    let p = only_in(site.path(), "content/faq/Anmeldung.MD");
    assert_eq!(
        p.kind,
        ProblemKind::WrongExtension {
            suggestion: "Anmeldung.md".into()
        }
    );
    std::fs::remove_file(site.path().join("content/faq/Anmeldung.MD")).unwrap();
    let report = build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let warned: Vec<_> = report
        .warnings
        .iter()
        .map(|w| {
            assert!(matches!(w.kind, ProblemKind::Ignored { .. }), "{w}");
            assert!(
                w.to_string().contains("Warnung: Wird nicht veröffentlicht"),
                "{w}"
            );
            w.file.to_string_lossy().into_owned()
        })
        .collect();
    assert_eq!(
        warned,
        [
            "content/aktionen",
            "content/einheiten/archiv",
            "content/liesmich.md",
            "content/seiten/notiz.txt",
            "data/niveau.yaml",
        ]
    );
}

#[test]
fn a_static_file_on_a_page_address_and_a_page_on_the_search_address() {
    let site = fixture("minimal");
    write(site.path(), "static/suche/index.json", "{}");
    let p = only_in(site.path(), "static/suche/index.json");
    assert_eq!(
        p.kind,
        ProblemKind::TakenPath {
            url: "/suche/index.json".into()
        }
    );
    std::fs::remove_file(site.path().join("static/suche/index.json")).unwrap();
    write(
        site.path(),
        "content/seiten/suche.md",
        "---\ntitel: Suche\n---\nText\n",
    );
    let p = only_in(site.path(), "content/seiten/suche.md");
    assert!(
        matches!(&p.kind, ProblemKind::DuplicateId { id, .. } if id == "suche"),
        "{p}"
    );
}

#[test]
fn blank_titles_and_german_numbers_are_errors_with_a_hint() {
    let site = broken("deutsche-schreibweisen");
    let all = problems(site.path());
    assert_eq!(all.len(), 2, "{all:#?}");
    let number = &all[0];
    assert_eq!(number.file, Path::new("content/kommunen/mitgliedsstadt.md"));
    assert_eq!(
        number.kind,
        ProblemKind::GermanNumber {
            value: "2.400".into()
        }
    );
    assert_eq!(number.line, Some(5));
    assert!(number.to_string().contains("ohne Punkt: 2400"), "{number}");
    let blank = &all[1];
    assert_eq!(blank.file, Path::new("content/themen/testthema.md"));
    assert_eq!(
        blank.kind,
        ProblemKind::BlankText {
            field: "titel".into()
        }
    );
    assert_eq!(blank.line, Some(2));
}

#[test]
fn a_live_date_in_the_past_is_a_warning_at_its_line() {
    let site = broken("vergangener-termin");
    let report = build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(report.warnings.len(), 1, "{:#?}", report.warnings);
    let w = &report.warnings[0];
    assert_eq!(w.file, Path::new("content/einheiten/hybrid-eins.md"));
    assert_eq!(w.line, Some(12));
    assert_eq!(
        w.kind,
        ProblemKind::PastDate {
            value: "2026-11-10".into()
        }
    );
    // `campus build` prints it and still succeeds.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_campus"))
        .args([
            "--site",
            site.path().to_str().unwrap(),
            "build",
            "--today",
            "2026-12-01",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("content/einheiten/hybrid-eins.md:12: Warnung: Der Live-Termin 2026-11-10 liegt in der Vergangenheit."),
        "{stderr}"
    );
}

#[test]
fn a_file_that_is_not_text_is_named_in_german() {
    let site = fixture("minimal");
    std::fs::write(
        site.path().join("content/seiten/impressum.md"),
        b"---\ntitel: Impressum\n---\nStra\xdfe\n",
    )
    .unwrap();
    let p = only_in(site.path(), "content/seiten/impressum.md");
    assert_eq!(
        p.kind,
        ProblemKind::Unreadable {
            reason: "Die Datei ist nicht als UTF-8-Text gespeichert.".into()
        }
    );
}
