//! Internal units of one authority: shown on its landing page only and kept
//! out of every public list (catalog and its pre-filtered pages, the
//! backend's filter, search index, sitemap, home page, topic and lecturer
//! pages); other authorities and courses may not list them.

use crate::support::*;
use campus_generator::discovery::{self, CatalogFilter};
use campus_generator::error::RefKind;
use campus_generator::ProblemKind;
use std::path::Path;

const INTERNAL: &str = "---
titel: Interne Einführung Mitgliedsstadt
kurzbeschreibung: Nur für die Beschäftigten der Mitgliedsstadt.
format: hybrid
niveau: fachkompetenzen
themen: [testthema]
dozierende: [dr-test]
intern_fuer: mitgliedsstadt
aufwand_stunden: 3
termine:
  - datum: 2027-02-17
    plaetze: 12
---
Text.
";

fn site_with_internal_unit() -> tempfile::TempDir {
    let site = fixture("minimal");
    write(site.path(), "content/einheiten/intern-eins.md", INTERNAL);
    site
}

fn page(site: &Path, rel: &str) -> String {
    read(&site.join("public"), rel)
}

#[test]
fn an_internal_unit_shows_on_its_authority_page_only() {
    let site = site_with_internal_unit();
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
    let s = site.path();
    let link = "/lerneinheiten/intern-eins/";
    // Its own authority lists it although its file does not name it.
    assert!(!read(s, "content/kommunen/mitgliedsstadt.md").contains("intern-eins"));
    assert!(page(s, "kommunen/mitgliedsstadt/index.html").contains(link));
    assert!(!page(s, "kommunen/nichtmitglied/index.html").contains(link));
    // Out of every public list.
    for rel in [
        "index.html",
        "lerneinheiten/index.html",
        "lerneinheiten/format/hybrid/index.html",
        "lerneinheiten/niveau/fachkompetenzen/index.html",
        "themen/testthema/index.html",
        "themen/index.html",
        "dozierende/index.html",
        "dozierende/dr-test/index.html",
        "sitemap.xml",
        "suche/index.json",
    ] {
        let text = page(s, rel);
        assert!(
            !text.contains("intern-eins"),
            "{rel} lists the internal unit"
        );
        assert!(
            !text.contains("Interne Einführung"),
            "{rel} names the internal unit"
        );
    }
    // A public unit still appears there (the lists are not simply empty).
    assert!(page(s, "lerneinheiten/index.html").contains("/lerneinheiten/hybrid-eins/"));
    assert!(page(s, "sitemap.xml").contains("/lerneinheiten/hybrid-eins/"));
    // The topic card counts public units only.
    let loaded = load(s);
    let public_in_topic = loaded.units.iter().filter(|u| u.is_public()).count();
    let topics = html(s, "themen/index.html");
    assert!(
        text(&select(&topics, "ul.karten li")[0])
            .contains(&format!("{public_in_topic} Lerneinheit")),
        "{}",
        text(&select(&topics, "ul.karten li")[0])
    );

    // The page itself exists (its staff book there), is not indexed, and its
    // form offers the owning authority only.
    let unit = html(s, "lerneinheiten/intern-eins/index.html");
    assert_eq!(
        select(&unit, "meta[name=robots]")[0]
            .value()
            .attr("content"),
        Some("noindex")
    );
    assert!(text(&select(&unit, "header .hinweis-box")[0]).contains("Stadt Mitgliedsstadt"));
    let options: Vec<String> = select(&unit, "#buchung-kommune option")
        .iter()
        .filter_map(|o| o.value().attr("value"))
        .map(str::to_string)
        .collect();
    assert_eq!(options, ["", "mitgliedsstadt", "andere"]);
    let selected = select(&unit, "#buchung-kommune option[selected]");
    assert_eq!(selected[0].value().attr("value"), Some("mitgliedsstadt"));
    // Public pages keep the whole list.
    let public = html(s, "lerneinheiten/hybrid-eins/index.html");
    assert!(select(&public, "meta[name=robots]").is_empty());
    assert!(select(&public, "#buchung-kommune option[value=nichtmitglied]").len() == 1);
}

#[test]
fn the_backend_filter_never_shows_an_internal_unit() {
    let site = site_with_internal_unit();
    let loaded = load(site.path());
    let all = CatalogFilter::default();
    let visible: Vec<&str> = discovery::visible_units(&loaded, &all, today())
        .map(|u| u.id.as_str())
        .collect();
    assert!(!visible.contains(&"intern-eins"), "{visible:?}");
    assert_eq!(visible.len(), loaded.units.len() - 1);
    let hybrid = CatalogFilter {
        format: "hybrid".into(),
        ..CatalogFilter::default()
    };
    assert!(discovery::visible_units(&loaded, &hybrid, today()).all(|u| u.id != "intern-eins"));
}

#[test]
fn other_authorities_courses_and_unknown_owners_are_errors_at_their_lines() {
    let site = site_with_internal_unit();
    edit(
        site.path(),
        "content/kommunen/nichtmitglied.md",
        "einheiten: [hybrid-eins]",
        "einheiten: [hybrid-eins, intern-eins]",
    );
    edit(
        site.path(),
        "content/kurse/testkurs.md",
        "  - einheit: kostenlos-starten",
        "  - einheit: intern-eins",
    );
    write(
        site.path(),
        "content/einheiten/intern-zwei.md",
        &INTERNAL.replace("intern_fuer: mitgliedsstadt", "intern_fuer: mitgliedstadt"),
    );
    let problems = match build(site.path()) {
        Ok(_) => panic!("build should fail"),
        Err(p) => p.0,
    };
    let of = |file: &str| {
        problems
            .iter()
            .filter(|p| p.file == Path::new(file))
            .collect::<Vec<_>>()
    };
    let authority = of("content/kommunen/nichtmitglied.md");
    assert_eq!(authority.len(), 1, "{problems:#?}");
    assert_eq!(authority[0].line, Some(10));
    assert!(
        authority[0]
            .to_string()
            .contains("„intern-eins“ ist eine interne Lerneinheit der Kommune „mitgliedsstadt“"),
        "{}",
        authority[0]
    );
    let course = of("content/kurse/testkurs.md");
    assert_eq!(course.len(), 1, "{problems:#?}");
    assert_eq!(course[0].line, Some(9));
    assert!(matches!(
        course[0].kind,
        ProblemKind::InvalidValue {
            field: "einheiten",
            ..
        }
    ));
    let unknown = of("content/einheiten/intern-zwei.md");
    assert_eq!(unknown.len(), 1, "{problems:#?}");
    assert_eq!(unknown[0].line, Some(8));
    assert_eq!(
        unknown[0].kind,
        ProblemKind::UnknownReference {
            kind: RefKind::Authority,
            id: "mitgliedstadt".into(),
            suggestion: Some("mitgliedsstadt".into()),
        }
    );
    // Its own authority may list it explicitly.
    let site = site_with_internal_unit();
    edit(
        site.path(),
        "content/kommunen/mitgliedsstadt.md",
        "einheiten: [",
        "einheiten: [intern-eins, ",
    );
    build(site.path()).unwrap_or_else(|p| panic!("{p}"));
}

#[test]
fn the_sample_site_has_an_internal_unit_on_its_authority_page() {
    let site = load(&repo_root());
    let internal: Vec<_> = site.units.iter().filter(|u| !u.is_public()).collect();
    assert!(!internal.is_empty());
    for u in internal {
        let owner = &site.authorities[u.internal_to.unwrap()];
        let index = site.unit_index(&u.id).unwrap();
        assert!(owner.units.contains(&index), "{} not on {}", u.id, owner.id);
        for other in site.authorities.iter().filter(|a| a.id != owner.id) {
            assert!(!other.units.contains(&index));
        }
    }
}
