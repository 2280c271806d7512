//! The office's daily tasks in `/verwaltung/`: contact requests with their
//! "erledigt" marker, failed mails with a retry, per-person view, CSV
//! exports (spreadsheet-safe) and the yearly fee; who may see what (an
//! approver of authority A never sees B's staff), CSRF, and the action log.

use crate::common::*;
use crate::verwaltung::{
    awaiting_approval, csrf_of, get_with, log_in, open, post_with, snapshot, OFFICE,
};
use axum::http::{header, Method};
use campus_forms::AppState;
use std::time::Duration;

const APPROVER_A: &str = "freigabe@stadt.example";

/// The fixture with a second member authority `zweitstadt` approved by
/// `freigabe@zweit.example`.
fn two_authorities() -> tempfile::TempDir {
    let site = site_dir();
    let a_file = site.path().join("content/kommunen/mitgliedsstadt.md");
    let text = std::fs::read_to_string(&a_file).unwrap();
    std::fs::write(
        site.path().join("content/kommunen/zweitstadt.md"),
        text.replace("name: Mitgliedsstadt", "name: Zweitstadt")
            .replace("freigabe@stadt.example", "freigabe@zweit.example"),
    )
    .unwrap();
    site
}

/// A contact request whose text fields all begin like spreadsheet formulas.
async fn contact_request(state: &AppState) {
    let ts = ts(state, 5);
    let r = post_form(
        state,
        "/forms/kontakt",
        &[
            ("name", "=HYPERLINK(\"http://x\")"),
            ("organisation", "@Stadt Beispiel"),
            ("email", "kontakt@beispiel.example"),
            ("telefon", "+49 621 000000"),
            ("termin1", "2099-02-10T10:00"),
            ("termin2", "2099-02-11T10:00"),
            ("termin3", "2099-02-12T14:30"),
            ("nachricht", "-Bitte rufen Sie an."),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
}

#[tokio::test]
async fn contact_requests_show_their_three_dates_and_are_marked_done_once() {
    let site = two_authorities();
    let (state, _) = open(site.path(), 1000);
    contact_request(&state).await;
    let id = state.store.contact_requests().unwrap()[0].id;
    let cookie = log_in(&state, OFFICE).await;
    let page = get_with(&state, Method::GET, "/verwaltung/anfragen", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "Offen (1)",
        "Dienstag, 10. Februar 2099, 10:00 Uhr",
        "Mittwoch, 11. Februar 2099, 10:00 Uhr",
        "Donnerstag, 12. Februar 2099, 14:30 Uhr",
        "+49 621 000000",
    ] {
        // Pages join a date's parts with no-break spaces.
        assert!(
            page.body.replace('\u{a0}', " ").contains(text),
            "{text}: {}",
            page.body
        );
    }
    let csrf = csrf_of(&page.body);
    let done = format!("/verwaltung/anfragen/{id}/erledigt");

    // Without or with a wrong token: 403, nothing marked.
    for token in ["", "falsch"] {
        let r = post_with(&state, &done, Some(&cookie), &[("csrf", token)]).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    // An approver may neither see nor mark contact requests.
    let approver = log_in(&state, APPROVER_A).await;
    let r = get_with(&state, Method::GET, "/verwaltung/anfragen", Some(&approver)).await;
    assert_eq!(r.status, 404);
    assert!(!r.body.contains("HYPERLINK"));
    let approver_page = get_with(&state, Method::GET, "/verwaltung/", Some(&approver)).await;
    let approver_csrf = csrf_of(&approver_page.body);
    let r = post_with(&state, &done, Some(&approver), &[("csrf", &approver_csrf)]).await;
    assert_eq!(r.status, 404);
    assert!(state.store.contact_requests().unwrap()[0].done.is_none());
    assert!(state.store.office_actions().unwrap().is_empty());

    let r = post_with(&state, &done, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers[header::LOCATION],
        "/verwaltung/anfragen?ergebnis=erledigt"
    );
    let marked = state.store.contact_requests().unwrap()[0].done.clone();
    assert_eq!(
        marked.as_ref().map(|d| d.0.as_str()),
        Some("geschaeftsstelle:info@campus.example")
    );
    // The second time changes nothing and says so.
    let r = post_with(&state, &done, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(
        r.headers[header::LOCATION],
        "/verwaltung/anfragen?ergebnis=unveraendert"
    );
    assert_eq!(state.store.contact_requests().unwrap()[0].done, marked);
    let log = state.store.office_actions().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (
            log[0].actor.as_str(),
            log[0].action.as_str(),
            log[0].subject.clone()
        ),
        (
            "geschaeftsstelle:info@campus.example",
            "anfrage-erledigt",
            format!("K-{id}")
        )
    );
    let page = get_with(&state, Method::GET, "/verwaltung/anfragen", Some(&cookie)).await;
    assert!(page.body.contains("Offen (0)") && page.body.contains("Erledigt (1)"));
}

#[tokio::test]
async fn failed_mails_show_their_error_and_a_retry_queues_them_again() {
    let site = site_dir();
    let (state, clock) = open(site.path(), 1000);
    contact_request(&state).await;
    // The worker gives up on every queued mail.
    let now = state.settings.clock.now();
    while let Some(m) = state
        .store
        .claim_next("test", now, Duration::from_secs(60))
        .unwrap()
    {
        assert!(state
            .store
            .mark_attempt_failed(m.id, "test", "550 Postfach unbekannt", None)
            .unwrap());
    }
    let failed = state.store.failed_mails().unwrap();
    assert!(!failed.is_empty());
    let cookie = log_in(&state, OFFICE).await;
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert!(
        start.body.contains("550 Postfach unbekannt"),
        "{}",
        start.body
    );
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/postausgang",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("550 Postfach unbekannt"));
    let csrf = csrf_of(&page.body);
    let id = failed[0].id;
    let retry = format!("/verwaltung/postausgang/{id}/erneut");

    let r = post_with(&state, &retry, Some(&cookie), &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(state.store.failed_mails().unwrap(), failed);

    clock.advance(Duration::from_secs(120));
    let r = post_with(&state, &retry, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(
        r.headers[header::LOCATION],
        "/verwaltung/postausgang?ergebnis=erneut"
    );
    assert!(state
        .store
        .failed_mails()
        .unwrap()
        .iter()
        .all(|m| m.id != id));
    // Due now: the worker's next rounds claim it (and the login mail).
    let now = state.settings.clock.now();
    let claimed: Vec<i64> = std::iter::from_fn(|| {
        state
            .store
            .claim_next("test", now, Duration::from_secs(60))
            .unwrap()
            .map(|m| m.id)
    })
    .collect();
    assert!(claimed.contains(&id), "{claimed:?}");
    // Not failed any more: a second retry changes nothing.
    let r = post_with(&state, &retry, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(
        r.headers[header::LOCATION],
        "/verwaltung/postausgang?ergebnis=unveraendert"
    );
    let log = state.store.office_actions().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "mail-erneut");
    assert_eq!(log[0].subject, format!("M-{id}"));
    assert_eq!(log[0].actor, "geschaeftsstelle:info@campus.example");
}

/// The CSV's lines without the BOM.
fn csv_lines(body: &str) -> Vec<String> {
    body.trim_start_matches('\u{feff}')
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn exports_and_the_person_view_give_an_approver_only_their_own_staff() {
    let site = two_authorities();
    let (state, _) = open(site.path(), 1000);
    let a = awaiting_approval(&state, "=Anna A", "anna@stadt.example", "mitgliedsstadt").await;
    let b = awaiting_approval(&state, "Bernd B", "bernd@zweit.example", "zweitstadt").await;
    contact_request(&state).await;

    // Not logged in: to the login, no data.
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/export/buchungen.csv",
        None,
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(!r.body.contains("Bernd"));

    let office = log_in(&state, OFFICE).await;
    let all = get_with(
        &state,
        Method::GET,
        "/verwaltung/export/buchungen.csv",
        Some(&office),
    )
    .await;
    assert_eq!(all.status, 200);
    assert_eq!(all.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let lines = csv_lines(&all.body);
    assert_eq!(lines.len(), 3, "{}", all.body);
    assert!(
        all.body.contains(";'=Anna A;"),
        "formula neutralised: {}",
        all.body
    );
    assert!(all.body.contains("Bernd B"));
    // The same file as `campus bookings export` writes.
    let mut cli = Vec::new();
    campus_forms::ops::export_bookings_csv(
        &state.store.bookings(&Default::default()).unwrap(),
        state.loaded().site.prices.vat_percent,
        &mut cli,
    )
    .unwrap();
    assert_eq!(all.body.as_bytes(), &cli[..]);
    let filtered = get_with(
        &state,
        Method::GET,
        "/verwaltung/export/buchungen.csv?einheit=&status=storniert",
        Some(&office),
    )
    .await;
    assert_eq!(csv_lines(&filtered.body).len(), 1, "header only");
    let contacts = get_with(
        &state,
        Method::GET,
        "/verwaltung/export/formulare/kontakt.csv",
        Some(&office),
    )
    .await;
    assert_eq!(contacts.status, 200);
    for cell in [
        "'=HYPERLINK",
        "'@Stadt Beispiel",
        "'+49 621 000000",
        "'-Bitte",
    ] {
        assert!(contacts.body.contains(cell), "{cell}: {}", contacts.body);
    }

    let approver = log_in(&state, APPROVER_A).await;
    let hr = get_with(
        &state,
        Method::GET,
        "/verwaltung/export/buchungen.csv",
        Some(&approver),
    )
    .await;
    assert_eq!(hr.status, 200);
    assert_eq!(csv_lines(&hr.body).len(), 2, "{}", hr.body);
    assert!(hr.body.contains(&format!("B-{}", a.id)));
    assert!(!hr.body.contains("Bernd") && !hr.body.contains(&format!("B-{};", b.id)));
    // Filtering for B's unit and date still yields only A's staff.
    let hr = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/export/buchungen.csv?einheit={}", b.unit_id),
        Some(&approver),
    )
    .await;
    assert!(!hr.body.contains("Bernd"));
    for form in ["kontakt", "registrierung", "newsletter"] {
        let r = get_with(
            &state,
            Method::GET,
            &format!("/verwaltung/export/formulare/{form}.csv"),
            Some(&approver),
        )
        .await;
        assert_eq!(r.status, 404, "{form}");
        assert!(!r.body.contains("HYPERLINK"));
    }

    // Per person: B's address asked by A's approver shows nothing of B.
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/personen?email=bernd%40zweit.example",
        Some(&approver),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        !r.body.contains("Bernd B") && r.body.contains("Keine Buchungen"),
        "{}",
        r.body
    );
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/personen?email=ANNA%40stadt.example",
        Some(&approver),
    )
    .await;
    assert!(
        r.body
            .contains(&format!("/verwaltung/buchungen/{}\"", a.id)),
        "{}",
        r.body
    );
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/personen?email=bernd%40zweit.example",
        Some(&office),
    )
    .await;
    assert!(
        r.body
            .contains(&format!("/verwaltung/buchungen/{}\"", b.id)),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn the_fee_page_shows_only_the_approvers_authority() {
    let site = two_authorities();
    let (state, _) = open(site.path(), 1000);
    let before = snapshot(&state);
    let approver = log_in(&state, APPROVER_A).await;
    let r = get_with(&state, Method::GET, "/verwaltung/beitrag", Some(&approver)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Mitgliedsstadt"), "{}", r.body);
    assert!(!r.body.contains("Zweitstadt"), "{}", r.body);
    assert!(r.body.contains("Geschäftsanteile"));
    let office = log_in(&state, OFFICE).await;
    let r = get_with(&state, Method::GET, "/verwaltung/beitrag", Some(&office)).await;
    assert!(r.body.contains("Mitgliedsstadt") && r.body.contains("Zweitstadt"));
    // Reading changes no booking.
    assert_eq!(snapshot(&state).0, before.0);
}

#[tokio::test]
async fn the_start_page_lists_approvals_nobody_decided() {
    let site = site_dir();
    let (state, clock) = open(site.path(), 1000);
    let b = crate::verwaltung::booking_awaiting_the_office(&state).await;
    let cookie = log_in(&state, OFFICE).await;
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert!(
        start
            .body
            .contains("seit drei Tagen niemand entschieden hat (0)"),
        "{}",
        start.body
    );
    clock.advance(Duration::from_secs(3 * 86_400));
    // The session's idle time ran out meanwhile; a fresh login.
    let cookie = log_in(&state, OFFICE).await;
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert!(
        start
            .body
            .contains("seit drei Tagen niemand entschieden hat (1)"),
        "{}",
        start.body
    );
    assert!(start
        .body
        .contains(&format!("/verwaltung/buchungen/{}\"", b.id)));
}
