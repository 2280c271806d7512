//! Official addresses: a booking, enrolment or registration for an authority
//! that lists its mail domains needs an address in one of them; "andere
//! Kommune" needs the organisation's name and pays the non-member price.

use crate::common::*;
use campus_forms::config::Secret;
use campus_forms::store::Table;
use campus_forms::AppState;
use std::path::Path;

/// The minimal fixture with mail domains for both authorities.
fn site_with_domains() -> tempfile::TempDir {
    let site = site_dir();
    for (file, domains) in [
        ("mitgliedsstadt", "[stadt.example, rathaus.stadt.example]"),
        ("nichtmitglied", "[gemeinde.example]"),
    ] {
        let path = site.path().join(format!("content/kommunen/{file}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replacen(
            "\n---\n",
            &format!("\ndienstliche_domains: {domains}\n---\n"),
            1,
        );
        std::fs::write(&path, text).unwrap();
    }
    site
}

fn open(site: &Path) -> AppState {
    let mut s = settings(site);
    s.per_ip_per_10_min = 100_000;
    s.signing_key = Some(Secret("domains-test".into()));
    state_with(site, s)
}

async fn book(state: &AppState, email: &str, kommune: &str, organisation: &str) -> Reply {
    let ts = ts(state, 5);
    post_form(
        state,
        "/forms/buchung",
        &[
            ("einheit", "hybrid-eins"),
            ("termin", "naechster"),
            ("name", "Eva Beispiel"),
            ("email", email),
            ("kommune", kommune),
            ("organisation", organisation),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await
}

#[tokio::test]
async fn a_private_address_is_refused_with_the_way_to_book() {
    let site = site_with_domains();
    let state = open(site.path());
    let r = book(&state, "eva.privat@webmail.example", "mitgliedsstadt", "").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("nur dienstliche Adressen (@stadt.example, @rathaus.stadt.example)"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Andere Kommune oder Behörde"), "{}", r.body);
    assert!(r.body.contains("Preis für Nichtmitglieder"), "{}", r.body);
    // The input is kept on the unit page.
    assert!(
        r.body.contains("value=\"eva.privat@webmail.example\""),
        "{}",
        r.body
    );
    assert_eq!(state.store.count(Table::Bookings).unwrap(), 0);
    assert_eq!(state.store.count(Table::Outbox).unwrap(), 0);
}

#[tokio::test]
async fn an_address_of_another_authority_names_that_authority() {
    let site = site_with_domains();
    let state = open(site.path());
    let r = book(&state, "max@gemeinde.example", "mitgliedsstadt", "").await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Die Adresse ist eine dienstliche Adresse der Gemeinde Nichtmitglied:"),
        "{}",
        r.body
    );
    assert_eq!(state.store.count(Table::Bookings).unwrap(), 0);
}

#[tokio::test]
async fn only_listed_subdomains_count_and_listed_addresses_book() {
    let site = site_with_domains();
    let state = open(site.path());
    // Not listed: a subdomain of a listed domain.
    let r = book(&state, "a@amt.stadt.example", "mitgliedsstadt", "").await;
    assert_eq!(r.status, 422, "{}", r.body);
    // Listed, also in capitals.
    let r = book(&state, "b@Rathaus.Stadt.example", "mitgliedsstadt", "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = book(&state, "c@stadt.example", "mitgliedsstadt", "").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(state.store.count(Table::Bookings).unwrap(), 2);
}

#[tokio::test]
async fn another_organisation_names_itself_and_pays_the_non_member_price() {
    let site = site_with_domains();
    let state = open(site.path());
    let r = book(&state, "eva@zweckverband.example", "andere", "").await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Bitte nennen Sie Ihre Kommune, Behörde oder Organisation"),
        "{}",
        r.body
    );
    let r = book(
        &state,
        "eva@zweckverband.example",
        "andere",
        "Zweckverband Wasser",
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = state
        .store
        .bookings(&Default::default())
        .unwrap()
        .into_iter()
        .find(|b| b.email == "eva@zweckverband.example")
        .map(|b| {
            assert!(!b.member);
            // 199 € for members, 20 % more for others.
            assert_eq!(b.price_cents, 23_880);
            b.id
        })
        .unwrap();
    let (organisation, fee) = state
        .store
        .write(|tx| tx.booking_billing(id))
        .unwrap()
        .unwrap();
    assert_eq!(organisation, "Zweckverband Wasser");
    assert_eq!(fee, None);

    // The office sees whom to bill on the booking's page.
    let cookie = crate::verwaltung::log_in(&state, crate::verwaltung::OFFICE).await;
    let page = crate::verwaltung::get_with(
        &state,
        axum::http::Method::GET,
        &format!("/verwaltung/buchungen/{id}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("Andere Kommune oder Behörde: Zweckverband Wasser"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn registration_and_json_answers_check_the_address_too() {
    let site = site_with_domains();
    let state = open(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &[
            ("name", "Eva Beispiel"),
            ("email", "eva@webmail.example"),
            ("kommune", "nichtmitglied"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("(@gemeinde.example)"), "{}", r.body);
    let r = post_json(
        &state,
        "/forms/einschreibung",
        serde_json::json!({ "einheit": "selbstlernen", "name": "K", "email": "k@webmail.example",
            "kommune": "mitgliedsstadt", "einwilligung": true, "ts": ts }),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let e = r.json()["errors"]["email"].as_str().unwrap().to_string();
    assert!(
        e.starts_with("Für die Stadt Mitgliedsstadt können nur"),
        "{e}"
    );
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
}
