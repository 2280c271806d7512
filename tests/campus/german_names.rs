//! Authorities named as people write German ("für die Stadt Ahornfeld",
//! "Beschäftigte des Landkreises Falkenried"), by the rule of their kind or
//! as the front matter spells an odd name out.

use crate::support::*;

#[test]
fn landing_pages_name_the_authority_with_article_and_case() {
    let site = sample();
    build(site.path()).unwrap_or_else(|p| panic!("sample site does not build:\n{p}"));
    let public = site.path().join("public");

    let stadt = html(site.path(), "kommunen/ahornfeld/index.html");
    assert_eq!(
        text(&select(&stadt, "h1")[0]),
        "KommunalCampus für die Stadt Ahornfeld"
    );
    let logo = select(&stadt, "img.kommune-wappen")[0]
        .value()
        .attr("alt")
        .unwrap()
        .to_string();
    assert_eq!(logo, "Wappen der Stadt Ahornfeld");
    let prices: Vec<String> = select(&stadt, ".karte-einheit dt")
        .iter()
        .map(text)
        .collect();
    assert!(
        prices
            .iter()
            .any(|p| p == "Preis für Beschäftigte der Stadt Ahornfeld"),
        "{prices:?}"
    );

    let kreis = html(site.path(), "kommunen/landkreis-falkenried/index.html");
    assert_eq!(
        text(&select(&kreis, "h1")[0]),
        "KommunalCampus für den Landkreis Falkenried"
    );
    let page = read(&public, "kommunen/landkreis-falkenried/index.html");
    assert!(
        page.contains("Beschäftigte des Landkreises Falkenried"),
        "genitive of Landkreis"
    );
    let note = text(&select(&kreis, ".hinweis-wichtig p")[0]);
    assert!(
        note.starts_with("Hinweis: Der Landkreis Falkenried ist derzeit kein Mitglied"),
        "{note}"
    );
    let description = select(&kreis, "meta[name='description']")[0]
        .value()
        .attr("content")
        .unwrap()
        .to_string();
    assert!(
        description.ends_with("für die Beschäftigten des Landkreises Falkenried."),
        "{description}"
    );

    let gemeinde = html(site.path(), "kommunen/quellental/index.html");
    assert_eq!(
        text(&select(&gemeinde, "h1")[0]),
        "KommunalCampus für die Gemeinde Quellental"
    );
    // No page says "von Stadt X" or "für Landkreis Y" any more.
    for file in [
        "kommunen/ahornfeld/index.html",
        "kommunen/landkreis-falkenried/index.html",
        "lerneinheiten/ahornfeld-it-einstieg/index.html",
    ] {
        let t = text(&select(&html(site.path(), file), "main")[0]);
        for wrong in [
            "von Stadt ",
            "von Landkreis ",
            "von Gemeinde ",
            "für Stadt ",
            "für Landkreis ",
            "für Gemeinde ",
        ] {
            assert!(!t.contains(wrong), "{file}: „{wrong}…“ in {t}");
        }
    }
}

#[test]
fn an_odd_name_takes_its_forms_from_the_front_matter() {
    let site = sample();
    edit(
        site.path(),
        "content/kommunen/rebenau.md",
        "art: Gemeinde\n",
        "art: Gemeinde\nnamensformen:\n  nominativ: der Markt Rebenau\n  genitiv: des Marktes Rebenau\n  dativ: dem Markt Rebenau\n  akkusativ: den Markt Rebenau\n",
    );
    build(site.path()).unwrap_or_else(|p| panic!("site does not build:\n{p}"));
    let page = html(site.path(), "kommunen/rebenau/index.html");
    assert_eq!(
        text(&select(&page, "h1")[0]),
        "KommunalCampus für den Markt Rebenau"
    );
    let logo = select(&page, "img.kommune-wappen")[0]
        .value()
        .attr("alt")
        .unwrap()
        .to_string();
    assert_eq!(logo, "Wappen des Marktes Rebenau");

    // A form left out is reported at its line, in German.
    edit(
        site.path(),
        "content/kommunen/rebenau.md",
        "  akkusativ: den Markt Rebenau\n",
        "",
    );
    let problems = build(site.path()).unwrap_err().to_string();
    assert!(problems.contains("rebenau.md:"), "{problems}");
    assert!(problems.contains("akkusativ"), "{problems}");
}
