//! Broken fixture sites, one per class of error: each must name the file,
//! the line, and the kind of problem, and leave the previous output alone.

use crate::support::*;
use campus_generator::error::RefKind;
use campus_generator::{Problem, ProblemKind};
use std::path::Path;

/// Builds the site and returns its problems; the build must fail.
fn problems(site: &Path) -> Vec<Problem> {
    match build(site) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    }
}

fn only(site: &Path) -> Problem {
    let mut all = problems(site);
    assert_eq!(all.len(), 1, "expected one problem, got {all:#?}");
    all.remove(0)
}

#[test]
fn minimal_fixture_builds() {
    let site = fixture("minimal");
    let report = build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    assert!(report.pages > 10);
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/themen/testthema.md",
        "kurzbeschreibung: Ein Thema.",
        "kurzbeschreibung: [offen",
    );
    let p = only(site.path());
    assert_eq!(p.file, Path::new("content/themen/testthema.md"));
    // An unquoted text starting with "[" reads as a list.
    assert_eq!(
        p.kind,
        ProblemKind::WrongType {
            expected: "ein Text"
        }
    );
    assert!(p.line.is_some_and(|l| l >= 3), "{p}");
    assert!(p.to_string().contains("Anführungszeichen"), "{p}");

    // A line without the colon after the field name.
    edit(
        site.path(),
        "content/themen/testthema.md",
        "kurzbeschreibung: [offen",
        "kurzbeschreibung Ein Thema.",
    );
    let p = only(site.path());
    assert!(matches!(p.kind, ProblemKind::Syntax { .. }), "{p}");
    assert!(p.line.is_some(), "{p}");
}

#[test]
fn mistyped_field_is_reported_at_its_line() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/einheiten/hybrid-ohne-termin.md",
        "aufwand_stunden: 9",
        "aufwand_stunde: 9",
    );
    let p = only(site.path());
    assert_eq!(p.file, Path::new("content/einheiten/hybrid-ohne-termin.md"));
    assert!(
        matches!(&p.kind, ProblemKind::UnknownField { field, suggestion: Some(s), .. }
            if field == "aufwand_stunde" && &**s == "aufwand_stunden"),
        "{p}"
    );
    assert_eq!(p.line, Some(7));
}

#[test]
fn unknown_unit_in_authority_suggests_the_closest() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kommunen/nichtmitglied.md",
        "einheiten: [hybrid-eins]",
        "einheiten: [hybrid-ein]",
    );
    let p = only(site.path());
    assert_eq!(p.file, Path::new("content/kommunen/nichtmitglied.md"));
    assert_eq!(p.line, Some(10));
    assert_eq!(
        p.kind,
        ProblemKind::UnknownReference {
            kind: RefKind::Unit,
            id: "hybrid-ein".into(),
            suggestion: Some("hybrid-eins".into())
        }
    );
}

#[test]
fn unknown_unit_in_course_and_topic_in_unit() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kurse/testkurs.md",
        "einheit: selbstlernen",
        "einheit: gibt-es-nicht",
    );
    edit(
        site.path(),
        "content/einheiten/selbstlernen.md",
        "themen: [testthema]",
        "themen: [testthema, raumfahrt]",
    );
    let all = problems(site.path());
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all.iter().any(|p| p.file == Path::new("content/kurse/testkurs.md")
        && p.line == Some(7)
        && matches!(&p.kind, ProblemKind::UnknownReference { kind: RefKind::Unit, id, .. } if id == "gibt-es-nicht")));
    assert!(all.iter().any(|p| p.file == Path::new("content/einheiten/selbstlernen.md")
        && p.line == Some(6)
        && matches!(&p.kind, ProblemKind::UnknownReference { kind: RefKind::Topic, id, .. } if id == "raumfahrt")));
}

#[test]
fn page_cannot_take_a_section_slug() {
    let site = fixture("minimal");
    write(
        site.path(),
        "content/seiten/kurse.md",
        "---\ntitel: Kurse\n---\nText\n",
    );
    let p = only(site.path());
    assert_eq!(p.file, Path::new("content/seiten/kurse.md"));
    assert!(matches!(&p.kind, ProblemKind::DuplicateId { id, .. } if id == "kurse"));
}

#[test]
fn file_name_with_umlaut_gets_a_suggested_slug() {
    let site = fixture("minimal");
    write(
        site.path(),
        "content/themen/Bürgerdienste.md",
        "---\ntitel: B\nkurzbeschreibung: B\n---\n",
    );
    let p = only(site.path());
    assert_eq!(
        p.kind,
        ProblemKind::InvalidId {
            id: "Bürgerdienste".into(),
            suggestion: "buergerdienste".into()
        }
    );
}

#[test]
fn invalid_and_weekend_dates() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/einheiten/hybrid-eins.md",
        "datum: 2027-02-10",
        "datum: 2027-02-30",
    );
    edit(
        site.path(),
        "content/einheiten/hybrid-eins.md",
        "datum: 2027-03-10",
        "datum: 2027-03-13",
    );
    let all = problems(site.path());
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(
        all[0].kind,
        ProblemKind::InvalidDate {
            value: "2027-02-30".into()
        }
    );
    assert_eq!(all[0].line, Some(12));
    assert_eq!(
        all[1].kind,
        ProblemKind::WeekendDate {
            value: "2027-03-13".into()
        }
    );
    assert_eq!(all[1].line, Some(15));
}

#[test]
fn overbooked_date() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/einheiten/hybrid-eins.md",
        "vergeben: 9",
        "vergeben: 11",
    );
    let p = only(site.path());
    assert_eq!(
        p.kind,
        ProblemKind::Overbooked {
            date: "2027-02-10".into(),
            capacity: 10,
            taken: 11
        }
    );
    assert_eq!(p.line, Some(13));
}

#[test]
fn missing_image() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kommunen/mitgliedsstadt.md",
        "logo: /bilder/logo.svg",
        "logo: /bilder/wappen.svg",
    );
    let p = only(site.path());
    assert_eq!(
        p.kind,
        ProblemKind::MissingImage {
            path: "/bilder/wappen.svg".into()
        }
    );
    assert_eq!(p.line, Some(6));
}

#[test]
fn course_with_too_few_units() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kurse/testkurs.md",
        "  - einheit: kostenlos-starten\n    art: wahlpflicht\n",
        "",
    );
    let p = only(site.path());
    assert_eq!(p.kind, ProblemKind::CourseUnitCount { count: 2 });
    assert_eq!(p.file, Path::new("content/kurse/testkurs.md"));
}

#[test]
fn format_rules_for_on_demand_and_hybrid() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/einheiten/selbstlernen.md",
        "start_link: https://lms.example/selbstlernen\n",
        "",
    );
    edit(
        site.path(),
        "content/einheiten/hybrid-ohne-termin.md",
        "aufwand_stunden: 9",
        "aufwand_stunden: 9\nstart_link: https://x.example/",
    );
    let all = problems(site.path());
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all.iter().any(|p| p.kind
        == ProblemKind::ForbiddenField {
            field: "start_link",
            why: "Hybrid-Einheiten starten mit dem Live-Termin"
        }
        && p.line == Some(8)));
    assert!(all.iter().any(|p| matches!(
        p.kind,
        ProblemKind::MissingField {
            field: "start_link",
            ..
        }
    )));
}

#[test]
fn approval_by_authority_needs_an_address() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kommunen/mitgliedsstadt.md",
        "freigabe_email: freigabe@stadt.example\n",
        "",
    );
    let p = only(site.path());
    assert!(matches!(
        p.kind,
        ProblemKind::MissingField {
            field: "freigabe_email",
            ..
        }
    ));
    assert_eq!(p.line, Some(14));
}

#[test]
fn template_error_names_the_template() {
    let site = fixture("minimal");
    write(site.path(), "templates/page.html", "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title | nonexistent_filter }\n{% endblock %}\n");
    let all = problems(site.path());
    assert!(!all.is_empty());
    assert!(
        all.iter()
            .all(|p| matches!(p.kind, ProblemKind::Template { .. })),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|p| p.file == Path::new("templates/page.html")),
        "{all:#?}"
    );
}

#[test]
fn all_errors_are_listed_and_previous_output_survives() {
    let site = fixture("minimal");
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let before = read(site.path(), "public/index.html");
    edit(
        site.path(),
        "content/kommunen/nichtmitglied.md",
        "einheiten: [hybrid-eins]",
        "einheiten: [nix]",
    );
    edit(
        site.path(),
        "content/einheiten/hybrid-eins.md",
        "niveau: fachkompetenzen",
        "niveau: experten",
    );
    edit(
        site.path(),
        "content/start.md",
        "titel: Willkommen",
        "titel Willkommen",
    );
    let all = problems(site.path());
    assert_eq!(all.len(), 3, "{all:#?}");
    // Sorted by file, so editors can work top to bottom.
    let files: Vec<_> = all
        .iter()
        .map(|p| p.file.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        [
            "content/einheiten/hybrid-eins.md",
            "content/kommunen/nichtmitglied.md",
            "content/start.md"
        ]
    );
    assert_eq!(read(site.path(), "public/index.html"), before);
    let leftovers: Vec<_> = std::fs::read_dir(site.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".public"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left behind");
}

#[test]
fn cli_check_exits_non_zero_with_file_and_line() {
    let site = fixture("minimal");
    edit(
        site.path(),
        "content/kommunen/nichtmitglied.md",
        "einheiten: [hybrid-eins]",
        "einheiten: [hybrid-ein]",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_campus"))
        .args(["--site", site.path().to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("content/kommunen/nichtmitglied.md:10:"),
        "{stderr}"
    );
    assert!(!site.path().join("public").exists(), "check writes nothing");
}

#[test]
fn site_templates_override_single_theme_templates() {
    let site = fixture("minimal");
    write(
        site.path(),
        "templates/404.html",
        "{% extends \"base.html\" %}{% block content %}<h1>Eigene Fehlerseite</h1>{% endblock %}",
    );
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    assert!(read(site.path(), "public/404.html").contains("Eigene Fehlerseite"));
    // Other pages still come from the theme.
    assert!(read(site.path(), "public/faq/index.html").contains("Was kostet das?"));
}
