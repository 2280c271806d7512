//! The no-JavaScript routes for finding units: search, filtered catalog and
//! the self-check result, on the sample site. HTML and JSON come from the
//! same Rust code, so they must agree.

use crate::common::{self, *};
use axum::body::Body;
use axum::http::{header, Request};
use std::path::Path;

fn copy(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the repository's sample site.
fn sample() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["content", "data", "static", "themes"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        copy(&repo_root().join(sub), &dir.path().join(sub));
    }
    std::fs::copy(
        repo_root().join("campus.toml"),
        dir.path().join("campus.toml"),
    )
    .unwrap();
    dir
}

async fn get_json(state: &campus_forms::AppState, path: &str) -> (u16, serde_json::Value) {
    let req = Request::get(path)
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let r = send(state, req).await;
    (r.status, r.json())
}

/// The hrefs of `<a>` elements inside the first element matching `scope`.
fn links(html: &str, scope: &str) -> Vec<String> {
    let start = html
        .find(scope)
        .unwrap_or_else(|| panic!("{scope} missing"));
    let rest = &html[start..];
    let end = rest.find("</ol>").unwrap_or(rest.len());
    rest[..end]
        .split("<a ")
        .skip(1)
        .filter_map(|a| a.split("href=\"").nth(1)?.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn search_without_javascript_finds_umlaut_spellings() {
    let site = sample();
    let state = state(site.path());
    for q in [
        "Bürgerbeteiligung",
        "Buergerbeteiligung",
        "Burgerbeteiligung",
    ] {
        let r = get(
            &state,
            &format!(
                "/forms/suche?q={}",
                urlencode(&[("", q)]).trim_start_matches('=')
            ),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.headers.get("x-robots-tag").unwrap(), "noindex");
        let hits = links(&r.body, "id=\"such-liste\"");
        assert_eq!(
            hits.first().map(String::as_str),
            Some("/lerneinheiten/buergerbeteiligung-digital-einstieg/"),
            "{q}"
        );
        assert!(r.body.contains("Treffer für"), "{q}");
    }
    let r = get(&state, "/forms/suche?q=Datenschutzes").await;
    let html_hits = links(&r.body, "id=\"such-liste\"");
    assert_eq!(html_hits[0], "/lerneinheiten/datenschutz-grundlagen/");
    // JSON: the same results in the same order.
    let (status, j) = get_json(&state, "/forms/suche?q=Datenschutzes").await;
    assert_eq!(status, 200);
    let json_hits: Vec<String> = j["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(json_hits, html_hits);
    // Results show format, level and next date.
    let (_, j) = get_json(&state, "/forms/suche?q=E-Akte").await;
    let unit = j["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["url"] == "/lerneinheiten/e-akte-einfuehren/")
        .unwrap();
    assert_eq!(unit["format"], "Hybrid");
    assert_eq!(unit["level"], "Fachkompetenzen");
    // The long date the pages show, "10. Februar 2027" kept on one line.
    assert!(
        unit["next_date"].as_str().is_some_and(|d| {
            let words: Vec<&str> = d.split('\u{a0}').collect();
            words.len() == 3 && (words[0].contains("woch, ") || words[0].contains("tag, "))
        }),
        "{unit}"
    );
    // Nothing to search for.
    let r = get(&state, "/forms/suche?q=").await;
    assert!(r.body.contains("Geben Sie einen Suchbegriff ein."));
}

#[tokio::test]
async fn search_without_javascript_forgives_typos_variants_and_compounds() {
    let site = sample();
    let state = state(site.path());
    // A typo finds the unit and offers the corrected query as a link.
    let r = get(&state, "/forms/suche?q=Datenschtuz").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        links(&r.body, "id=\"such-liste\"")[0],
        "/lerneinheiten/datenschutz-grundlagen/"
    );
    // (`links` reads on to the end of the list: the suggestion comes first.)
    assert_eq!(
        links(&r.body, "id=\"such-vorschlag\"")[0],
        "/forms/suche?q=Datenschutz"
    );
    assert!(r.body.contains("Meinten Sie <a"), "{}", r.body);
    assert!(r.body.contains("„Datenschutz“</a>?"), "{}", r.body);
    // Written with umlauts, and the address encoded.
    let r = get(&state, "/forms/suche?q=B%C3%BCrgerbeteilgung").await;
    assert_eq!(
        links(&r.body, "id=\"such-vorschlag\"")[0],
        "/forms/suche?q=B%C3%BCrgerbeteiligung"
    );
    assert!(r.body.contains("„Bürgerbeteiligung“</a>?"), "{}", r.body);
    let (_, j) = get_json(&state, "/forms/suche?q=Verwaltnug%20digital").await;
    assert_eq!(j["suggestion"]["query"], "Verwaltung digital", "{j}");
    assert!(j["count"].as_u64().unwrap() > 0, "{j}");
    // Spelling variants and compounds are found without a suggestion.
    for (q, unit) in [
        ("eakte", "/lerneinheiten/e-akte-einfuehren/"),
        ("E%20Akte", "/lerneinheiten/e-akte-grundlagen/"),
        (
            "Vorf%C3%A4lle",
            "/lerneinheiten/informationssicherheit-im-arbeitsalltag/",
        ),
    ] {
        let r = get(&state, &format!("/forms/suche?q={q}")).await;
        assert_eq!(
            links(&r.body, "id=\"such-liste\"")
                .first()
                .map(String::as_str),
            Some(unit),
            "{q}"
        );
        assert!(!r.body.contains("such-vorschlag"), "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn catalog_filter_without_javascript_keeps_state_in_the_form() {
    let site = sample();
    let state = state(site.path());
    let r = get(
        &state,
        "/forms/katalog?format=on-demand&aufwand=bis-4&thema=",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<option value=\"on-demand\" selected>"),
        "format preselected"
    );
    assert!(
        r.body.contains("<option value=\"bis-4\" selected>"),
        "workload preselected"
    );
    let (_, j) = get_json(&state, "/forms/katalog?format=on-demand&aufwand=bis-4").await;
    let shown = j["units"].as_array().unwrap().len();
    assert!(shown > 3, "{j}");
    assert!(
        r.body.contains(&format!("{shown} Lerneinheiten gefunden")),
        "count announced"
    );
    let visible = r.body.matches("<li data-stunden=").count();
    assert_eq!(visible, shown, "cards not hidden");
    // A filter nothing matches shows the empty-state hint.
    let r = get(&state, "/forms/katalog?format=hybrid&aufwand=bis-4").await;
    assert!(r.body.contains("0 Lerneinheiten gefunden"));
    assert!(r
        .body
        .contains("<p id=\"katalog-leer\" class=\"hinweis-box\">"));
}

#[tokio::test]
async fn self_check_html_and_json_give_the_same_path() {
    let site = sample();
    let state = state(site.path());
    let q = "/forms/selbstcheck?profil=sachbearbeitung&ist-digitale-grundlagen=1&ist-informationssicherheit=0&kommune=ahornfeld";
    let r = get(&state, q).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<table class=\"tabelle lueckentabelle\""));
    assert!(r
        .body
        .contains("<th scope=\"row\">Digitale Grundkompetenzen</th>"));
    assert!(!r.body.contains("style="), "no inline styles");
    let html_path: Vec<String> = links(&r.body, "<ol class=\"lernpfad\">")
        .into_iter()
        .filter(|l| !l.contains('#'))
        .collect();
    assert!(!html_path.is_empty());
    let (status, j) = get_json(&state, q).await;
    assert_eq!(status, 200);
    let json_path: Vec<String> = j["result"]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(json_path, html_path);
    assert!(j["html"].as_str().unwrap().contains("lernpfad"));
    assert_eq!(j["result"]["authority"]["id"], "ahornfeld");
    // Every path unit links to its booking or enrolment form.
    for u in j["result"]["path"].as_array().unwrap() {
        let booking = u["booking_url"].as_str().unwrap();
        assert!(
            booking.ends_with("#buchung-titel") || booking.ends_with("#einschreibung-titel"),
            "{booking}"
        );
        assert!(r.body.contains(booking));
    }
}

#[tokio::test]
async fn self_check_reports_missing_answers() {
    let site = sample();
    let state = state(site.path());
    let r = get(&state, "/forms/selbstcheck?profil=").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Bitte wählen Sie ein Rollenprofil aus."));
    let (status, j) = get_json(
        &state,
        "/forms/selbstcheck?profil=sachbearbeitung&ist-fuehrung=7",
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        j["errors"][0]
            .as_str()
            .unwrap()
            .contains("Führung im digitalen Wandel"),
        "{j}"
    );
    // Sites without self-check data have no such route.
    let minimal = site_dir();
    let state = common::state(minimal.path());
    assert_eq!(get(&state, "/forms/selbstcheck?profil=x").await.status, 404);
}

/// The index follows the content through reloads, also when several reloads
/// come without a search in between (an index kept per process by the
/// address of the loaded site could be handed to a later site).
#[tokio::test]
async fn search_follows_content_reloads() {
    let site = sample();
    let state = state(site.path());
    let unit = site.path().join("content/einheiten/ozg-grundlagen.md");
    let original = std::fs::read_to_string(&unit).unwrap();
    let hits = |body: &str| links(body, "id=\"such-liste\"").len();
    let r = get(&state, "/forms/suche?q=Zauberwort").await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("id=\"such-liste\"") || hits(&r.body) == 0);
    for word in ["Erstwort", "Zauberwort"] {
        std::fs::write(
            &unit,
            original.replace("titel: \"OZG", &format!("titel: \"{word} OZG")),
        )
        .unwrap();
        let loaded = campus_generator::model::load(site.path()).unwrap();
        state.reload(std::sync::Arc::new(loaded)).unwrap();
    }
    let r = get(&state, "/forms/suche?q=Zauberwort").await;
    assert_eq!(
        links(&r.body, "id=\"such-liste\"")
            .first()
            .map(String::as_str),
        Some("/lerneinheiten/ozg-grundlagen/"),
        "{}",
        r.body
    );
    let r = get(&state, "/forms/suche?q=Erstwort").await;
    assert!(!r.body.contains("id=\"such-liste\"") || hits(&r.body) == 0);
}

/// `campus serve` offers the index it made for the static search; the
/// backend takes it only for the site it has loaded, and then searches it
/// instead of building its own.
#[tokio::test]
async fn an_offered_search_index_is_used_only_for_the_loaded_site() {
    let site = sample();
    let state = state(site.path());
    let today = chrono::Local::now().date_naive();
    let loaded = state.loaded();
    // An index in which a unit carries a word the content does not have.
    let mut marked = (*loaded.site).clone();
    // A public unit: internal units of one authority are never searched.
    let first = marked.units.iter().position(|u| u.is_public()).unwrap();
    let mut unit = (*marked.units[first]).clone();
    unit.title = format!("Angebotswort {}", unit.title);
    let url = format!("/lerneinheiten/{}/", unit.id);
    marked.units[first] = std::sync::Arc::new(unit);
    let index = std::sync::Arc::new(campus_generator::search::site_index(&marked, today));

    // Made for another site (an equal copy, not the loaded one): refused.
    let other = std::sync::Arc::new((*loaded.site).clone());
    assert!(!state.offer_search_index(&other, today, index.clone()));
    let r = get(&state, "/forms/suche?q=Angebotswort").await;
    assert_eq!(r.status, 200);
    assert!(
        !r.body.contains("id=\"such-liste\"") || links(&r.body, "id=\"such-liste\"").is_empty(),
        "{}",
        r.body
    );

    // For the loaded site: the search answers from it.
    assert!(state.offer_search_index(&loaded.site, today, index));
    let r = get(&state, "/forms/suche?q=Angebotswort").await;
    assert_eq!(
        links(&r.body, "id=\"such-liste\"").first(),
        Some(&url),
        "{}",
        r.body
    );
}
