//! The membership application (issue 17): "Berechnen" shows the figures of
//! `data/mitgliedschaft.yaml` with everything typed and stores nothing;
//! errors come back GOV.UK style with the input kept; a valid application
//! waits for the contact person's confirmation (double opt-in), then the
//! office moves it step by step (CSRF, conditional update, event with the
//! office account, one mail per step, a double click changes it once) and
//! downloads the draft of the landing page at the end.

use crate::common::*;
use crate::verwaltung::{csrf_of, get_with, log_in, open, post_with, OFFICE};
use axum::body::Body;
use axum::http::{header, Method, Request};
use campus_forms::membership::ApplicationState;
use campus_forms::store::Table;
use campus_forms::AppState;

const CONTACT: &str = "k.kaiser@musterhausen.example";

fn application<'a>(ts: &'a str, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", "Stadt Musterhausen"),
        ("art", "Stadt"),
        ("strasse", "Rathausplatz 1"),
        ("plz", "64646"),
        ("ort", "Musterhausen"),
        ("beschaeftigte", "1.500"),
        ("beschluss_datum", "2026-11-10"),
        ("beschluss_gremium", "Stadtrat"),
        ("kontakt_name", "Karla Kaiser"),
        ("kontakt_email", CONTACT),
        ("kontakt_telefon", "06251 123-45"),
        ("freigabe", "kommune"),
        ("freigabe_email", "fortbildung@musterhausen.example"),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ts),
        ("aktion", "senden"),
    ];
    for (k, v) in overrides {
        match fields.iter_mut().find(|(name, _)| name == k) {
            Some(field) => field.1 = v,
            None => fields.push((k, v)),
        }
    }
    fields
}

fn mails_of(state: &AppState, kind: &str) -> Vec<(String, Vec<u8>)> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == kind)
        .map(|m| (m.recipient.clone(), state.store.raw_message(m.id).unwrap()))
        .collect()
}

fn text_of(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    format!(
        "{}\n{}",
        msg.subject().unwrap_or(""),
        msg.body_text(0).unwrap()
    )
}

async fn confirm(state: &AppState, raw: &[u8]) -> u16 {
    let path = path_of(&link_in(raw, "https://campus.example/forms/bestaetigen/"));
    let req = Request::post(path.as_str())
        .header(header::ORIGIN, BASE)
        .body(Body::empty())
        .unwrap();
    send(state, req).await.status
}

/// Sends a valid application and confirms it; returns its id.
async fn applied_and_confirmed(state: &AppState) -> i64 {
    let ts = ts(state, 5);
    let r = post_form(state, "/forms/mitgliedsantrag", &application(&ts, &[])).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (_, raw) = mails_of(state, "mitgliedsantrag-bestaetigen").remove(0);
    assert_eq!(confirm(state, &raw).await, 303);
    state.store.membership_applications().unwrap()[0].id
}

#[tokio::test]
async fn berechnen_shows_the_figures_with_everything_typed_and_stores_nothing() {
    let site = site_dir();
    let state = state(site.path());
    let page = get(&state, "/forms/mitgliedsantrag").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"aktion\" value=\"berechnen\""));
    assert!(
        !page.body.contains("Geschäftsanteile</dt>"),
        "no figures yet"
    );
    // Only the name and the number typed, the rest empty: still the figures.
    let r = post_form(
        &state,
        "/forms/mitgliedsantrag",
        &[
            ("name", "Gemeinde Kleinau"),
            ("beschaeftigte", "1.500"),
            ("aktion", "berechnen"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // 1.500 employees: 5 shares of 1.000 EUR, yearly fee twice the deposit.
    assert!(r.body.contains("Für 1.500 Beschäftigte:"), "{}", r.body);
    assert!(
        r.body.contains("<dt>Geschäftsanteile</dt><dd>5</dd>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("5.000,00"), "{}", r.body);
    assert!(r.body.contains("10.000,00"), "{}", r.body);
    assert!(r.body.contains("value=\"Gemeinde Kleinau\""));
    assert!(r.body.contains("value=\"1.500\""));
    // Nothing judged but the number, nothing stored, nothing sent.
    assert!(!r.body.contains("fehler-zusammenfassung"));
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
    assert_eq!(state.store.count(Table::Outbox).unwrap(), 0);

    let doubtful = post_form(
        &state,
        "/forms/mitgliedsantrag",
        &[("beschaeftigte", "1,5"), ("aktion", "berechnen")],
    )
    .await;
    assert_eq!(doubtful.status, 422);
    assert!(doubtful
        .body
        .contains("href=\"#mitgliedsantrag-beschaeftigte\""));
    assert!(doubtful.body.contains("ohne Komma"));
    assert!(doubtful.body.contains("value=\"1,5\""));
}

#[tokio::test]
async fn errors_are_listed_in_field_order_with_the_input_kept() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/mitgliedsantrag",
        &application(
            &ts,
            &[
                ("plz", "6464"),
                ("beschluss_datum", "2099-01-01"),
                ("freigabe_email", ""),
                ("art", "Bezirk"),
            ],
        ),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("<title>Fehler: "));
    let summary = &r.body[r.body.find("fehler-zusammenfassung").unwrap()..];
    let order: Vec<usize> = ["art", "plz", "beschluss_datum", "freigabe_email"]
        .iter()
        .map(|f| {
            summary
                .find(&format!("href=\"#mitgliedsantrag-{f}\""))
                .unwrap_or_else(|| panic!("{f} in {summary}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(r.body.contains("fünf Ziffern"));
    assert!(r.body.contains("liegt in der Zukunft"));
    assert!(r.body.contains("value=\"6464\""));
    assert!(r.body.contains("value=\"Stadt Musterhausen\""));
    assert!(r.body.contains(
        "id=\"mitgliedsantrag-freigabe-kommune\" name=\"freigabe\" value=\"kommune\" checked"
    ));
    // The figures of the valid number are still shown.
    assert!(r.body.contains("<dt>Geschäftsanteile</dt><dd>5</dd>"));
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);

    // A member cannot apply again.
    let member = post_form(
        &state,
        "/forms/mitgliedsantrag",
        &application(&ts, &[("name", "Mitgliedsstadt")]),
    )
    .await;
    assert_eq!(member.status, 422);
    assert!(
        member.body.contains("ist bereits Mitglied"),
        "{}",
        member.body
    );
}

#[tokio::test]
async fn an_application_waits_for_the_contact_persons_confirmation() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(&state, "/forms/mitgliedsantrag", &application(&ts, &[])).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/forms/mitgliedsantrag/danke"));
    assert_eq!(
        get(&state, "/forms/mitgliedsantrag/danke").await.status,
        200
    );
    // Not in the office's list before the address is confirmed.
    assert!(state.store.membership_applications().unwrap().is_empty());
    let asks = mails_of(&state, "mitgliedsantrag-bestaetigen");
    assert_eq!(asks.len(), 1);
    assert_eq!(asks[0].0, CONTACT);
    let text = text_of(&asks[0].1);
    assert!(
        text.contains("Geschäftsanteile: 5, Einlage (einmalig): 5.000,00"),
        "{text}"
    );
    assert!(text.contains("Beschäftigte: 1.500"), "{text}");
    assert!(
        text.contains("Stadtrat am Dienstag, 10. November 2026"),
        "{text}"
    );

    // The page behind the link (GET changes nothing) names the application.
    let link = path_of(&link_in(
        &asks[0].1,
        "https://campus.example/forms/bestaetigen/",
    ));
    let page = get(&state, &link).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<h1>Mitgliedsantrag bestätigen</h1>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<title>Mitgliedsantrag bestätigen – "),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Anmeldung"), "{}", page.body);
    assert!(state.store.membership_applications().unwrap().is_empty());

    assert_eq!(confirm(&state, &asks[0].1).await, 303);
    let rows = state.store.membership_applications().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, ApplicationState::Received);
    assert_eq!(rows[0].payload["employees"], 1500);
    assert_eq!(rows[0].payload["deposit_cents"], 500_000);
    let office = mails_of(&state, "mitgliedsantrag-geschaeftsstelle");
    assert_eq!(office.len(), 1);
    assert_eq!(office[0].0, OFFICE);
    assert!(
        text_of(&office[0].1).contains(&format!("/verwaltung/mitgliedsantraege/{}", rows[0].id))
    );
    assert_eq!(mails_of(&state, "mitgliedsantrag-eingegangen").len(), 1);
    // The link works once: nothing more on a second use.
    assert_eq!(confirm(&state, &asks[0].1).await, 410);
    assert_eq!(state.store.membership_applications().unwrap().len(), 1);
    assert_eq!(mails_of(&state, "mitgliedsantrag-eingegangen").len(), 1);
}

#[tokio::test]
async fn the_office_moves_it_to_member_once_per_step_and_downloads_the_draft() {
    let site = site_dir();
    let (state, clock) = open(site.path(), 1000);
    let id = applied_and_confirmed(&state).await;
    let page_url = format!("/verwaltung/mitgliedsantraege/{id}");
    // Only for logged-in office staff.
    assert_eq!(
        get_with(&state, Method::GET, &page_url, None).await.status,
        303
    );
    let cookie = log_in(&state, OFFICE).await;
    let list = get_with(
        &state,
        Method::GET,
        "/verwaltung/mitgliedsantraege",
        Some(&cookie),
    )
    .await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(&format!("M-{id}: Stadt Musterhausen")),
        "{}",
        list.body
    );
    let page = get_with(&state, Method::GET, &page_url, Some(&cookie)).await;
    let csrf = csrf_of(&page.body);
    assert!(page.body.contains("Vorstand hat zugestimmt</button>"));

    // Without the CSRF token: refused, nothing changed.
    let forged = post_with(
        &state,
        &format!("{page_url}/vorstand"),
        Some(&cookie),
        &[("erwartet", "eingegangen")],
    )
    .await;
    assert_eq!(forged.status, 403);

    // A double click: two posts expecting "eingegangen" at once.
    let step = format!("{page_url}/vorstand");
    let pairs = [("csrf", csrf.as_str()), ("erwartet", "eingegangen")];
    let (a, b) = tokio::join!(
        post_with(&state, &step, Some(&cookie), &pairs),
        post_with(&state, &step, Some(&cookie), &pairs),
    );
    let mut results = [a.location.unwrap(), b.location.unwrap()];
    results.sort();
    assert_eq!(
        results,
        [
            format!("{page_url}?ergebnis=geaendert"),
            format!("{page_url}?ergebnis=unveraendert"),
        ]
    );
    assert_eq!(mails_of(&state, "mitgliedsantrag-vorstand").len(), 1);
    let row = state.store.membership_application(id).unwrap().unwrap();
    assert_eq!(row.state, ApplicationState::BoardApproved);

    // A step that does not follow from the state: unchanged, no mail.
    let skip = post_with(
        &state,
        &format!("{page_url}/mitglied"),
        Some(&cookie),
        &[("csrf", &csrf), ("erwartet", "vorstand-zugestimmt")],
    )
    .await;
    assert_eq!(
        skip.location.unwrap(),
        format!("{page_url}?ergebnis=unveraendert")
    );
    assert!(mails_of(&state, "mitgliedsantrag-mitglied").is_empty());

    // No draft before the end.
    let early = get_with(
        &state,
        Method::GET,
        &format!("{page_url}/entwurf"),
        Some(&cookie),
    )
    .await;
    assert_eq!(early.status, 404);

    for (path, expected) in [
        ("einlage", "vorstand-zugestimmt"),
        ("mitglied", "einlage-eingegangen"),
    ] {
        let r = post_with(
            &state,
            &format!("{page_url}/{path}"),
            Some(&cookie),
            &[("csrf", &csrf), ("erwartet", expected)],
        )
        .await;
        assert_eq!(
            r.location.unwrap(),
            format!("{page_url}?ergebnis=geaendert")
        );
    }
    let row = state.store.membership_application(id).unwrap().unwrap();
    assert_eq!(row.state, ApplicationState::Member);
    for kind in ["mitgliedsantrag-einlage", "mitgliedsantrag-mitglied"] {
        let mails = mails_of(&state, kind);
        assert_eq!(mails.len(), 1, "{kind}");
        assert_eq!(mails[0].0, CONTACT);
    }
    assert!(text_of(&mails_of(&state, "mitgliedsantrag-vorstand")[0].1).contains("5.000,00"));

    // The history names the office account for every step.
    let events = state.store.membership_events(id).unwrap();
    let steps: Vec<_> = events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        steps,
        [
            (ApplicationState::Received, ApplicationState::BoardApproved),
            (
                ApplicationState::BoardApproved,
                ApplicationState::DepositReceived
            ),
            (ApplicationState::DepositReceived, ApplicationState::Member),
        ]
    );
    assert!(events
        .iter()
        .all(|e| e.actor == format!("geschaeftsstelle:{OFFICE}")));
    let actions = state.store.office_actions().unwrap();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.subject == format!("M-{id}"))
            .count(),
        3
    );

    let done = get_with(&state, Method::GET, &page_url, Some(&cookie)).await;
    assert!(done.body.contains("Entwurf der Seite herunterladen"));
    assert!(
        !done.body.contains("Nächster Schritt"),
        "no steps after the last"
    );
    let draft = get_with(
        &state,
        Method::GET,
        &format!("{page_url}/entwurf"),
        Some(&cookie),
    )
    .await;
    assert_eq!(draft.status, 200);
    assert_eq!(
        draft.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"stadt-musterhausen.md\""
    );
    // The application that made the authority a member is part of the
    // membership record: no retention period removes it.
    clock.advance(std::time::Duration::from_secs(10 * 366 * 86_400));
    let purged = campus_forms::ops::purge(&state.store, &state.settings).unwrap();
    assert_eq!(purged.journey.membership_applications, 0);
    assert!(state.store.membership_application(id).unwrap().is_some());
    for line in [
        "name: \"Stadt Musterhausen\"",
        "art: Stadt",
        "mitglied: true",
        "beschaeftigte: 1500",
        "freigabe: kommune",
        "freigabe_email: \"fortbildung@musterhausen.example\"",
        "dienstliche_domains: [\"musterhausen.example\"]",
        "leitweg_id: \"Leitweg-ID eintragen\"",
    ] {
        assert!(draft.body.contains(line), "{line} in {}", draft.body);
    }
}

#[tokio::test]
async fn a_rejected_application_takes_no_more_steps() {
    let site = site_dir();
    let (state, clock) = open(site.path(), 1000);
    let id = applied_and_confirmed(&state).await;
    let page_url = format!("/verwaltung/mitgliedsantraege/{id}");
    let cookie = log_in(&state, OFFICE).await;
    let csrf = csrf_of(
        &get_with(&state, Method::GET, &page_url, Some(&cookie))
            .await
            .body,
    );
    let r = post_with(
        &state,
        &format!("{page_url}/ablehnen"),
        Some(&cookie),
        &[("csrf", &csrf), ("erwartet", "eingegangen")],
    )
    .await;
    assert_eq!(
        r.location.unwrap(),
        format!("{page_url}?ergebnis=geaendert")
    );
    assert_eq!(mails_of(&state, "mitgliedsantrag-abgelehnt").len(), 1);
    let again = post_with(
        &state,
        &format!("{page_url}/vorstand"),
        Some(&cookie),
        &[("csrf", &csrf), ("erwartet", "abgelehnt")],
    )
    .await;
    assert_eq!(
        again.location.unwrap(),
        format!("{page_url}?ergebnis=unveraendert")
    );
    let page = get_with(&state, Method::GET, &page_url, Some(&cookie)).await;
    assert!(page.body.contains("<strong>Abgelehnt</strong>"));
    assert!(!page.body.contains("Vorstand hat zugestimmt</button>"));
    assert!(mails_of(&state, "mitgliedsantrag-vorstand").is_empty());
    // An authority's approver sees no applications and takes no step.
    let approver = log_in(&state, "freigabe@stadt.example").await;
    let list = get_with(
        &state,
        Method::GET,
        "/verwaltung/mitgliedsantraege",
        Some(&approver),
    )
    .await;
    assert_eq!(list.status, 404);
    assert!(!list.body.contains("Stadt Musterhausen"));
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&approver)).await;
    assert!(!start.body.contains("/verwaltung/mitgliedsantraege"));
    let approver_csrf = csrf_of(&start.body);
    let theirs = post_with(
        &state,
        &format!("{page_url}/vorstand"),
        Some(&approver),
        &[("csrf", &approver_csrf), ("erwartet", "abgelehnt")],
    )
    .await;
    assert_eq!(theirs.status, 404);

    // An unknown step or state is not found, not a change.
    let unknown = post_with(
        &state,
        &format!("{page_url}/irgendwas"),
        Some(&cookie),
        &[("csrf", &csrf), ("erwartet", "eingegangen")],
    )
    .await;
    assert_eq!(unknown.status, 404);

    // A rejected application (the contact person's name and address) is
    // kept for `mitgliedsantraege_jahre` after the end of the year of its
    // rejection, then it goes with its steps.
    let purge = || campus_forms::ops::purge(&state.store, &state.settings).unwrap();
    assert_eq!(purge().journey.membership_applications, 0);
    assert!(state.store.membership_application(id).unwrap().is_some());
    clock.advance(std::time::Duration::from_secs(5 * 366 * 86_400));
    assert_eq!(purge().journey.membership_applications, 1);
    assert!(state.store.membership_application(id).unwrap().is_none());
    assert_eq!(
        state
            .store
            .read(
                |tx| tx.query_row("SELECT count(*) FROM membership_events", &[], |r| r
                    .get::<i64>(0))
            )
            .unwrap(),
        0
    );
}
