//! Answers that do not grow with the site: the no-JavaScript search and the
//! filtered catalog show one page of a large result set, with plain links
//! to the pages before and after; their JSON is bounded the same way.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request};
use campus_forms::AppState;

/// The minimal fixture with `extra` more on-demand units of one topic,
/// each titled with a word only they share.
fn site_with_many_units(extra: usize) -> (tempfile::TempDir, AppState) {
    let dir = site_dir();
    for i in 0..extra {
        let text = format!(
            "---\ntitel: Seitenwort Einheit {i:03}\nkurzbeschreibung: Zum Blättern.\nformat: on-demand\nniveau: basiswissen\nthemen: [testthema]\naufwand_stunden: 2\nstart_link: https://lms.example/viele-{i}\n---\nBeschreibung.\n"
        );
        std::fs::write(
            dir.path()
                .join(format!("content/einheiten/viele-{i:03}.md")),
            text,
        )
        .unwrap();
    }
    let state = state(dir.path());
    (dir, state)
}

async fn get_json(state: &AppState, path: &str) -> serde_json::Value {
    let req = Request::get(path)
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let r = send(state, req).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn cards(body: &str) -> usize {
    body.matches("<li data-stunden=").count()
}

/// The `href` of the link marked `rel="…"`, as the browser would follow it.
fn rel_link(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!("rel=\"{rel}\""))?;
    let start = body[..at].rfind("href=\"")? + 6;
    let href = &body[start..at];
    Some(
        href[..href.find('"')?]
            .replace("&amp;", "&")
            .replace("&#x2F;", "/"),
    )
}

#[tokio::test]
async fn filtered_catalog_shows_one_page_of_matching_cards() {
    let (_dir, state) = site_with_many_units(60);
    let (per_page, filter) = (
        campus_generator::discovery::CATALOG_PAGE_SIZE,
        "format=on-demand&thema=testthema",
    );
    let total = get_json(&state, &format!("/forms/katalog?{filter}")).await["count"]
        .as_u64()
        .unwrap() as usize;
    assert!(total >= 60 && total > 2 * per_page, "{total}");

    let first = get(&state, &format!("/forms/katalog?{filter}")).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        cards(&first.body),
        per_page,
        "only one page of cards is rendered"
    );
    assert!(
        !first.body.contains("<li hidden"),
        "no hidden cards: only matches are in the page"
    );
    assert!(first
        .body
        .contains(&format!("{total} Lerneinheiten gefunden")));
    let pages = total.div_ceil(per_page);
    assert!(
        first.body.contains(&format!("Seite 1 von {pages}")),
        "{}",
        first.body
    );
    assert_eq!(rel_link(&first.body, "prev"), None);

    // Following "Nächste Seite" to the end keeps the filter and shows every
    // matching unit once.
    let mut seen = Vec::new();
    let mut body = first.body;
    let mut page = 1;
    loop {
        for id in body.split("href=\"/lerneinheiten/").skip(1) {
            let id = id.split('/').next().unwrap();
            if id.starts_with("viele-") || id == "selbstlernen" || id == "kostenlos-starten" {
                seen.push(id.to_string());
            }
        }
        let Some(next) = rel_link(&body, "next") else {
            break;
        };
        assert!(
            next.contains("format=on-demand") && next.contains("thema=testthema"),
            "{next}"
        );
        page += 1;
        assert!(next.ends_with(&format!("seite={page}")), "{next}");
        let r = get(&state, &next).await;
        assert_eq!(r.status, 200);
        assert!(cards(&r.body) <= per_page);
        assert!(rel_link(&r.body, "prev").is_some());
        body = r.body;
    }
    assert_eq!(page, pages);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "every match on exactly one page");

    // JSON answers one page too; a page past the end shows the last page.
    let j = get_json(&state, &format!("/forms/katalog?{filter}&seite=2")).await;
    assert_eq!(j["units"].as_array().unwrap().len(), per_page);
    assert_eq!(j["page"], 2);
    let j = get_json(&state, &format!("/forms/katalog?{filter}&seite=999")).await;
    assert_eq!(j["page"].as_u64().unwrap() as usize, pages);
    assert_eq!(
        j["units"].as_array().unwrap().len(),
        total - (pages - 1) * per_page
    );
}

#[tokio::test]
async fn search_without_javascript_is_split_into_pages() {
    let (_dir, state) = site_with_many_units(45);
    let per_page = campus_generator::discovery::SEARCH_PAGE_SIZE;
    let first = get(&state, "/forms/suche?q=Seitenwort").await;
    assert_eq!(first.status, 200);
    assert!(
        first.body.contains("45 Treffer für „Seitenwort“"),
        "{}",
        first.body
    );
    let hits = |body: &str| body.matches("class=\"suchtreffer-titel\"").count();
    assert_eq!(hits(&first.body), per_page);
    assert!(first.body.contains("Seite 1 von 3"));
    let next = rel_link(&first.body, "next").expect("link to page 2");
    assert!(
        next.starts_with("/forms/suche?q=Seitenwort&") && next.ends_with("seite=2"),
        "{next}"
    );
    let second = get(&state, &next).await;
    assert_eq!(hits(&second.body), per_page);
    let third = get(&state, &rel_link(&second.body, "next").unwrap()).await;
    assert_eq!(hits(&third.body), 45 - 2 * per_page);
    assert_eq!(rel_link(&third.body, "next"), None);
    assert!(rel_link(&third.body, "prev").unwrap().ends_with("seite=2"));

    let j = get_json(&state, "/forms/suche?q=Seitenwort&seite=3").await;
    assert_eq!(j["count"], 45);
    assert_eq!(j["pages"], 3);
    assert_eq!(j["results"].as_array().unwrap().len(), 45 - 2 * per_page);
    assert!(j["next_url"].is_null());

    // A short result list has no page links.
    let few = get(&state, "/forms/suche?q=Selbstlernen").await;
    assert!(!few.body.contains("seitenwahl"), "{}", few.body);
}
