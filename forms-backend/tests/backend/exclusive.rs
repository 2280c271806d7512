//! Exclusive courses for one authority: the request form (price from
//! `data/exklusivkurse.yaml`, official address, group size), the office's
//! answer in the back-office (dates or a refusal, once), and the whole
//! course as one line of the authority's invoice.

use crate::common::*;
use crate::verwaltung::{csrf_of, get_with, log_in, open, post_with, OFFICE};
use axum::http::Method;
use campus_forms::invoice::{self, Period};
use campus_forms::store::ExclusiveState;
use campus_forms::AppState;
use chrono::{Datelike, Duration as Days, NaiveDate};

/// The minimal fixture with an exclusive price for `testkurs` (hybrid-eins
/// is its live unit), official domains and billing details.
fn site() -> tempfile::TempDir {
    let site = site_dir();
    std::fs::write(
        site.path().join("data/exklusivkurse.yaml"),
        "- kurs: testkurs\n  preis: 5950\n  teilnehmende_hoechstens: 12\n",
    )
    .unwrap();
    let path = site.path().join("content/kommunen/mitgliedsstadt.md");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "\n---\n",
        "\ndienstliche_domains: [stadt.example]\nleitweg_id: \"06999102-rechnung-65\"\nrechnungsanschrift:\n  strasse: Markt 1\n  plz: \"64602\"\n  ort: Mitgliedsstadt\n---\n",
        1,
    );
    std::fs::write(&path, text).unwrap();
    site
}

async fn ask(state: &AppState, pairs: &[(&str, &str)]) -> Reply {
    let ts = ts(state, 5);
    let mut all: Vec<(&str, &str)> = vec![("website", ""), ("ts", &ts)];
    all.extend_from_slice(pairs);
    post_form(state, "/forms/kurs-exklusiv", &all).await
}

fn good<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("kurs", "testkurs"),
        ("kommune", "mitgliedsstadt"),
        ("name", "Erika Ansprech"),
        ("email", "erika@stadt.example"),
        ("gruppengroesse", "12"),
        ("zeitraum", "Frühjahr 2027"),
        ("anmerkungen", "Gern dienstags.\nNicht in den Ferien."),
        ("einwilligung", "ja"),
    ]
}

fn kinds_to(state: &AppState, to: &str) -> Vec<String> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to)
        .map(|m| m.kind)
        .collect()
}

fn weekday_in(today: NaiveDate, days: i64) -> NaiveDate {
    let mut d = today + Days::days(days);
    while d.weekday().number_from_monday() > 5 {
        d += Days::days(1);
    }
    d
}

#[tokio::test]
async fn a_request_is_checked_stored_with_its_price_and_answered_once() {
    let site = site();
    let (state, _) = open(site.path(), 1000);

    // Refused: a private address, too large a group, "andere", a course
    // without an exclusive price; nothing stored or sent.
    let mut bad = good();
    bad[3] = ("email", "erika@privat.example");
    bad[4] = ("gruppengroesse", "13");
    let r = ask(&state, &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("nur dienstliche Adressen (@stadt.example)"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Die Gruppe kann 1 bis 12 Personen groß sein"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"Frühjahr 2027\""), "{}", r.body);
    let mut bad = good();
    bad[0] = ("kurs", "gibt-es-nicht");
    bad[1] = ("kommune", "andere");
    let r = ask(&state, &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("nur eine Kommune aus unserer Liste"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("nicht exklusiv für eine Kommune an"),
        "{}",
        r.body
    );
    assert!(state.store.exclusive_requests().unwrap().is_empty());
    assert!(state.store.outbox().unwrap().is_empty());

    // Accepted: stored at the data's price, one mail to the office.
    let r = ask(&state, &good()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Vorgangsnummer ist X-1"), "{}", r.body);
    let stored = state.store.exclusive_requests().unwrap();
    assert_eq!(stored.len(), 1);
    let req = &stored[0];
    assert_eq!(
        (req.price_cents, req.group_size, req.state),
        (595_000, 12, ExclusiveState::Received)
    );
    assert_eq!(req.remarks, "Gern dienstags.\nNicht in den Ferien.");
    assert_eq!(kinds_to(&state, OFFICE), ["kurs-exklusiv-anfrage"]);
    assert!(kinds_to(&state, "erika@stadt.example").is_empty());

    // The office sees it and answers with a date for the live unit.
    let cookie = log_in(&state, OFFICE).await;
    let list = get_with(
        &state,
        Method::GET,
        "/verwaltung/exklusivkurse",
        Some(&cookie),
    )
    .await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains("X-1: Testkurs für Stadt Mitgliedsstadt"),
        "{}",
        list.body
    );
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/exklusivkurse/1",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    // A weekend date is refused with the input kept.
    let today = chrono::Local::now().date_naive();
    let mut saturday = today + Days::days(30);
    while saturday.weekday().number_from_monday() != 6 {
        saturday += Days::days(1);
    }
    let sat = saturday.format("%Y-%m-%d").to_string();
    let r = post_with(
        &state,
        "/verwaltung/exklusivkurse/1/terminieren",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("termin-hybrid-eins", &sat),
            ("nachricht", "Bis bald"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("fällt auf ein Wochenende"), "{}", r.body);
    assert!(r.body.contains(&format!("value=\"{sat}\"")), "{}", r.body);
    let day = weekday_in(today, 45);
    let iso = day.format("%Y-%m-%d").to_string();
    let r = post_with(
        &state,
        "/verwaltung/exklusivkurse/1/terminieren",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("termin-hybrid-eins", &iso),
            ("nachricht", "Der Raumlink kommt vorher."),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/verwaltung/exklusivkurse/1?ergebnis=terminiert")
    );
    // A second answer changes nothing and sends nothing.
    let r = post_with(
        &state,
        "/verwaltung/exklusivkurse/1/ablehnen",
        Some(&cookie),
        &[("csrf", &csrf), ("begruendung", "Doch nicht.")],
    )
    .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/verwaltung/exklusivkurse/1?ergebnis=unveraendert")
    );
    let (req, dates) = state.store.exclusive_request(1).unwrap().unwrap();
    assert_eq!(req.state, ExclusiveState::Scheduled);
    assert_eq!(dates.len(), 1);
    assert_eq!(dates[0].date, iso);
    assert_eq!(
        kinds_to(&state, "erika@stadt.example"),
        ["kurs-exklusiv-termine"]
    );
    // The date is the authority's own: the public unit does not offer it.
    assert!(!state
        .loaded()
        .site
        .units
        .iter()
        .any(|u| u.dates.iter().any(|d| d.date == day)));

    // Billing: the whole course is one line in the month of its first date,
    // net + 19 % VAT = gross, and never billed twice.
    let period = Period::month(&day.format("%Y-%m").to_string()).unwrap();
    let site_model = state.loaded().site.clone();
    let invoices = invoice::run(&state.store, &site_model, period, None, 1).unwrap();
    let lines: Vec<_> = invoices
        .iter()
        .flat_map(|i| i.lines.iter())
        .filter(|l| l.item_key.starts_with("kurs-exklusiv:"))
        .collect();
    assert_eq!(lines.len(), 1, "{invoices:?}");
    let l = lines[0];
    assert_eq!(l.item_key, "kurs-exklusiv:1");
    assert_eq!(
        l.description,
        "Exklusiver Kurs: Testkurs für bis zu 12 Beschäftigte (X-1)"
    );
    assert_eq!(l.service_date, iso);
    assert_eq!(
        (l.net_cents, l.vat_cents, l.gross_cents),
        (500_000, 95_000, 595_000)
    );
    let again = invoice::run(&state.store, &site_model, period, None, 2).unwrap();
    assert!(again
        .iter()
        .flat_map(|i| i.lines.iter())
        .all(|l| !l.item_key.starts_with("kurs-exklusiv:")));
}

#[tokio::test]
async fn the_office_declines_with_a_reason_the_contact_person_reads() {
    let site = site();
    let (state, clock) = open(site.path(), 1000);
    let r = ask(&state, &good()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = log_in(&state, OFFICE).await;
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/exklusivkurse/1",
        Some(&cookie),
    )
    .await;
    let csrf = csrf_of(&page.body);
    let r = post_with(
        &state,
        "/verwaltung/exklusivkurse/1/ablehnen",
        Some(&cookie),
        &[("csrf", &csrf), ("begruendung", "")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Bitte schreiben Sie eine Begründung"),
        "{}",
        r.body
    );
    let r = post_with(
        &state,
        "/verwaltung/exklusivkurse/1/ablehnen",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            (
                "begruendung",
                "Im Frühjahr sind alle Dozierenden ausgebucht.",
            ),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (req, dates) = state.store.exclusive_request(1).unwrap().unwrap();
    assert_eq!(req.state, ExclusiveState::Declined);
    assert!(dates.is_empty());
    let mails: Vec<_> = state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == "erika@stadt.example")
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].kind, "kurs-exklusiv-abgelehnt");
    let raw = state.store.raw_message(mails[0].id).unwrap();
    let text = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .unwrap()
        .body_text(0)
        .unwrap()
        .into_owned();
    assert!(
        text.contains("Im Frühjahr sind alle Dozierenden ausgebucht."),
        "{text}"
    );
    // An approver of an authority does not see the office's list.
    let approver = log_in(&state, "freigabe@stadt.example").await;
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/exklusivkurse/1",
        Some(&approver),
    )
    .await;
    assert_ne!(r.status, 200);

    // The declined request (name, address) is kept for the bookings' period
    // after its answer, then it goes.
    let purge = || campus_forms::ops::purge(&state.store, &state.settings).unwrap();
    assert_eq!(purge().journey.exclusive_requests, 0);
    assert!(state.store.exclusive_request(1).unwrap().is_some());
    clock.advance(std::time::Duration::from_secs(5 * 366 * 86_400));
    assert_eq!(purge().journey.exclusive_requests, 1);
    assert!(state.store.exclusive_request(1).unwrap().is_none());
}
