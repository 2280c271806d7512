//! An authority's internal unit is bookable only by that authority's staff:
//! the backend refuses every other authority with a German message, keeps
//! the input and stores nothing.

use crate::common::*;
use campus_forms::store::Table;
use chrono::{Datelike, Duration as Days};

/// The minimal fixture with `intern-eins`, internal to `mitgliedsstadt`.
fn site_with_internal_unit() -> tempfile::TempDir {
    let site = site_dir();
    let mut date = chrono::Local::now().date_naive() + Days::days(40);
    while date.weekday().number_from_monday() > 5 {
        date += Days::days(1);
    }
    std::fs::write(
        site.path().join("content/einheiten/intern-eins.md"),
        format!(
            "---\ntitel: Interne Einführung\nkurzbeschreibung: Nur für die Mitgliedsstadt.\nformat: hybrid\nniveau: fachkompetenzen\nthemen: [testthema]\nintern_fuer: mitgliedsstadt\naufwand_stunden: 3\ntermine:\n  - datum: {}\n    plaetze: 5\n---\nText.\n",
            date.format("%Y-%m-%d")
        ),
    )
    .unwrap();
    site
}

async fn book(state: &campus_forms::AppState, kommune: &str, email: &str) -> Reply {
    let ts = ts(state, 5);
    post_form(
        state,
        "/forms/buchung",
        &[
            ("einheit", "intern-eins"),
            ("termin", "naechster"),
            ("name", "Karla Beispiel"),
            ("email", email),
            ("kommune", kommune),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await
}

#[tokio::test]
async fn only_the_owning_authority_books_an_internal_unit() {
    let site = site_with_internal_unit();
    let mut settings = settings(site.path());
    settings.per_ip_per_10_min = 100_000;
    let state = state_with(site.path(), settings);

    for other in ["nichtmitglied", "andere"] {
        let r = book(&state, other, "karla@amt.example").await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("„Interne Einführung“ ist ein internes Angebot der Stadt Mitgliedsstadt und nur für deren Beschäftigte buchbar. Bitte wählen Sie die Stadt Mitgliedsstadt als Ihre Kommune"),
            "{}",
            r.body
        );
        // The unit page again, with the input kept.
        assert!(r.body.contains("value=\"Karla Beispiel\""), "{}", r.body);
        assert_eq!(state.store.count(Table::Bookings).unwrap(), 0);
    }

    let ts = ts(&state, 5);
    let r = post_json(
        &state,
        "/forms/buchung",
        serde_json::json!({ "einheit": "intern-eins", "termin": "naechster", "name": "K", "email": "k@amt.example", "kommune": "nichtmitglied", "einwilligung": true, "ts": ts }),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.json()["errors"]["kommune"]
            .as_str()
            .is_some_and(|m| m.contains("internes Angebot")),
        "{}",
        r.body
    );
    assert_eq!(state.store.count(Table::Bookings).unwrap(), 0);

    let r = book(&state, "mitgliedsstadt", "karla@stadt.example").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/formular/danke-buchung/"));
    assert_eq!(state.store.count(Table::Bookings).unwrap(), 1);
}

#[tokio::test]
async fn the_filtered_catalog_and_the_search_never_show_an_internal_unit() {
    let site = site_with_internal_unit();
    let state = state_with(site.path(), settings(site.path()));
    for path in [
        "/forms/katalog?format=hybrid",
        "/forms/katalog?format=",
        "/forms/suche?q=Interne",
    ] {
        let page = get(&state, path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("/lerneinheiten/intern-eins/"),
            "{path}: {}",
            page.body
        );
    }
    // The same filter does show the public hybrid unit, so the page is not empty by accident.
    let page = get(&state, "/forms/katalog?format=hybrid").await;
    assert!(
        page.body.contains("/lerneinheiten/hybrid-eins/"),
        "{}",
        page.body
    );
}
