//! Education providers and their quality facts: the providers page, the
//! lecturers index, the quality section of unit pages, and the editors'
//! mistakes in the new content type (file:line, all at once).

use crate::support::*;
use campus_generator::error::RefKind;
use campus_generator::ProblemKind;
use std::path::Path;

const PROVIDER: &str = "---
name: Testakademie
art: hochschule
ort: Teststadt
aufgenommen: 2023-01-16
dozierende:
  - person: dr-test
    qualifiziert: 2023-02-01
zertifizierungen:
  - bezeichnung: Geprüfter Lehrgang
    stelle: Prüfstelle Süd
    datum: 2025-03-10
    gueltig_bis: 2028-03-09
    einheiten: [hybrid-eins]
  - bezeichnung: Qualitätsmanagement nach DIN ISO 21001
    stelle: Zertifizierer Nord
    datum: 2024-06-03
---
Über die Akademie.
";

/// The minimal fixture with one provider for two of its units.
fn site_with_provider() -> tempfile::TempDir {
    let site = fixture("minimal");
    write(site.path(), "content/anbieter/testakademie.md", PROVIDER);
    for unit in ["hybrid-eins", "hybrid-ohne-termin"] {
        edit(
            site.path(),
            &format!("content/einheiten/{unit}.md"),
            "format: hybrid",
            "format: hybrid\nanbieter: testakademie",
        );
    }
    site
}

#[test]
fn providers_page_lists_qualified_lecturers_and_audits() {
    let site = site_with_provider();
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let doc = html(site.path(), "anbieter/index.html");
    let section = select(&doc, "section.anbieter");
    assert_eq!(section.len(), 1);
    let text = text(&section[0]);
    assert_eq!(
        select(&doc, "section.anbieter h2")[0].value().id(),
        Some("testakademie")
    );
    assert!(text.contains("Testakademie"), "{text}");
    assert!(text.contains("Hochschule"), "{text}");
    assert!(text.contains("16. Januar 2023"), "{text}");
    assert!(
        text.contains("Dr. Test (qualifiziert am 1. Februar 2023)"),
        "{text}"
    );
    assert!(
        text.contains("Geprüfter Lehrgang, geprüft von Prüfstelle Süd am 10. März 2025, gültig bis 9. März 2028; gilt für Hybrid Eins"),
        "{text}"
    );
    assert!(
        text.contains("gilt für alle Lerneinheiten des Anbieters"),
        "{text}"
    );
}

#[test]
fn lecturers_index_answers_with_every_lecturer() {
    let site = site_with_provider();
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let doc = html(site.path(), "dozierende/index.html");
    let entries = select(&doc, "ul.dozierende-liste > li");
    assert_eq!(entries.len(), load(site.path()).lecturers.len());
    let entry = text(&entries[0]);
    assert!(entry.contains("Dr. Test"), "{entry}");
    assert!(
        entry.contains("Vom Fachbeirat qualifiziert für Testakademie (am 1. Februar 2023)"),
        "{entry}"
    );
    assert!(entry.contains("Hybrid Eins"), "{entry}");
    let links: Vec<_> = select(&doc, "ul.dozierende-liste a")
        .iter()
        .filter_map(|a| a.value().attr("href"))
        .map(str::to_string)
        .collect();
    assert!(
        links.contains(&"/dozierende/dr-test/".to_string()),
        "{links:?}"
    );
    assert!(
        links.contains(&"/anbieter/#testakademie".to_string()),
        "{links:?}"
    );
    // Both lists are public pages.
    let sitemap = read(&site.path().join("public"), "sitemap.xml");
    assert!(sitemap.contains("/dozierende/</loc>"), "{sitemap}");
    assert!(sitemap.contains("/anbieter/</loc>"), "{sitemap}");
}

#[test]
fn unit_pages_show_their_quality_facts() {
    let site = site_with_provider();
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let quality = |unit: &str| {
        let doc = html(site.path(), &format!("lerneinheiten/{unit}/index.html"));
        let found = select(&doc, "section[aria-labelledby=qualitaet-titel]");
        found.first().map(text)
    };
    let eins = quality("hybrid-eins").expect("quality section");
    assert!(
        eins.contains("Bildungsanbieter Testakademie (Hochschule)"),
        "{eins}"
    );
    assert!(
        eins.contains("Dr. Test vom Fachbeirat qualifiziert am 1. Februar 2023"),
        "{eins}"
    );
    assert!(
        eins.contains("Geprüfter Lehrgang geprüft von Prüfstelle Süd"),
        "{eins}"
    );
    assert!(
        eins.contains("Qualitätsmanagement nach DIN ISO 21001"),
        "{eins}"
    );
    // The audit of one unit is not shown on the provider's other units.
    let other = quality("hybrid-ohne-termin").expect("quality section");
    assert!(!other.contains("Geprüfter Lehrgang"), "{other}");
    assert!(
        other.contains("Qualitätsmanagement nach DIN ISO 21001"),
        "{other}"
    );
    // A unit without a provider has no quality section.
    assert_eq!(quality("selbstlernen"), None);

    // A lecturer of the unit whom the Fachbeirat has not qualified for
    // this provider is shown as such.
    edit(
        site.path(),
        "content/anbieter/testakademie.md",
        "dozierende:\n  - person: dr-test\n    qualifiziert: 2023-02-01\n",
        "dozierende: []\n",
    );
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let eins = quality("hybrid-eins").unwrap();
    assert!(
        eins.contains("Dr. Test Qualifizierung durch den Fachbeirat steht noch aus"),
        "{eins}"
    );
}

#[test]
fn mistakes_in_providers_are_reported_at_their_lines_all_at_once() {
    let site = site_with_provider();
    // A wrong kind stops its file before anything in it is checked ...
    write(
        site.path(),
        "content/anbieter/testakademie.md",
        &PROVIDER.replace("art: hochschule", "art: hochschul"),
    );
    // ... the other mistakes are all reported, each at its line.
    write(
        site.path(),
        "content/anbieter/zweite.md",
        &PROVIDER
            .replace("name: Testakademie", "name: Zweite")
            .replace("person: dr-test", "person: dr-tset")
            .replace("qualifiziert: 2023-02-01", "qualifiziert: 2023-02-30")
            .replace("gueltig_bis: 2028-03-09", "gueltig_bis: 2020-01-01")
            .replace("einheiten: [hybrid-eins]", "einheiten: [hybrid-zwei]"),
    );
    edit(
        site.path(),
        "content/einheiten/selbstlernen.md",
        "format: on-demand",
        "format: on-demand\nanbieter: testakademi",
    );
    let problems = match build(site.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    let at = |file: &str, line: u64| {
        problems
            .iter()
            .filter(|p| p.file == Path::new(file) && p.line == Some(line))
            .map(|p| p.kind.clone())
            .collect::<Vec<_>>()
    };
    let first = "content/anbieter/testakademie.md";
    assert!(
        matches!(&at(first, 3)[..], [ProblemKind::UnknownChoice { value, .. }] if value == "hochschul"),
        "{problems:#?}"
    );
    let second = "content/anbieter/zweite.md";
    assert_eq!(
        at(second, 7),
        vec![ProblemKind::UnknownReference {
            kind: RefKind::Lecturer,
            id: "dr-tset".into(),
            suggestion: Some("dr-test".into()),
        }]
    );
    assert_eq!(
        at(second, 8),
        vec![ProblemKind::InvalidDate {
            value: "2023-02-30".into()
        }]
    );
    assert!(
        matches!(
            &at(second, 13)[..],
            [ProblemKind::InvalidValue {
                field: "gueltig_bis",
                ..
            }]
        ),
        "{problems:#?}"
    );
    assert!(
        matches!(&at(second, 14)[..], [ProblemKind::UnknownReference { kind: RefKind::Unit, id, .. }] if id == "hybrid-zwei"),
        "{problems:#?}"
    );
    let unit = "content/einheiten/selbstlernen.md";
    let unit_problems: Vec<_> = problems
        .iter()
        .filter(|p| p.file == Path::new(unit))
        .collect();
    assert_eq!(unit_problems.len(), 1, "{problems:#?}");
    assert_eq!(
        unit_problems[0].kind,
        ProblemKind::UnknownReference {
            kind: RefKind::Provider,
            id: "testakademi".into(),
            suggestion: Some("testakademie".into()),
        }
    );
    assert!(unit_problems[0].line.is_some());
    let message = unit_problems[0].to_string();
    assert!(
        message.contains("Unbekannter Bildungsanbieter „testakademi“"),
        "{message}"
    );
    assert!(message.contains("content/anbieter/"), "{message}");
}

#[test]
fn sample_site_names_a_provider_for_every_unit_and_explains_its_quality() {
    let site = load(&repo_root());
    assert!(site.providers.len() >= 3);
    // An authority's own internal units come from the authority itself.
    for unit in site.units.iter().filter(|u| u.is_public()) {
        assert!(unit.provider.is_some(), "{} names no provider", unit.id);
    }
    let lecturers_taught: std::collections::BTreeSet<usize> = site
        .units
        .iter()
        .flat_map(|u| u.lecturers.clone())
        .collect();
    for l in lecturers_taught {
        assert!(
            site.providers.iter().any(|p| p.qualified_on(l).is_some()),
            "{} is not qualified by the Fachbeirat",
            site.lecturers[l].id
        );
    }
    let page = site.page("qualitaet").expect("quality management page");
    for topic in [
        "Bildungsanbieter",
        "Dozierende",
        "Evaluation",
        "Rückmeldung",
        "Lerneinheiten",
    ] {
        assert!(page.body.contains(topic), "qualitaet.md lacks {topic}");
    }
}
