//! Issue 19: forms that everyone can use. A form shown again says "Fehler"
//! in its title and puts a focused summary first in the main content; the
//! contact form asks for phone and dates only for an info call; a booking
//! names its legal basis (the contract), not a consent.

use crate::common::*;

fn contact<'a>(ts: &'a str, anliegen: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("anliegen", anliegen),
        ("name", "Karl Kontakt"),
        ("organisation", "Stadt Beispiel"),
        ("email", "kontakt@beispiel.example"),
        ("telefon", "+49 621 000000"),
        ("termin1", "2099-02-10T10:00"),
        ("termin2", "2099-02-11T10:00"),
        ("termin3", "2099-02-12T14:30"),
        ("nachricht", "Wie werden wir Mitglied?"),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ts),
    ]
}

fn export(state: &campus_forms::AppState) -> String {
    let mut csv = Vec::new();
    campus_forms::ops::export_csv(&state.store, "kontakt", &mut csv).unwrap();
    String::from_utf8(csv).unwrap()
}

#[tokio::test]
async fn a_question_keeps_no_phone_and_no_dates_even_if_they_were_filled_in() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(&state, "/forms/kontakt", &contact(&ts, "frage")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let csv = export(&state);
    assert!(csv.contains("Wie werden wir Mitglied?"), "{csv}");
    assert!(!csv.contains("621 000000"), "{csv}");
    assert!(!csv.contains("2099"), "{csv}");
    let outbox = state.store.outbox().unwrap();
    let raw = String::from_utf8(state.store.raw_message(outbox[0].id).unwrap()).unwrap();
    assert!(!raw.contains("Terminvorschl"), "{raw}");
    assert!(!raw.contains("621 000000"), "{raw}");
}

#[tokio::test]
async fn a_question_needs_only_a_message_and_an_info_call_needs_phone_and_dates() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let question: Vec<(&str, &str)> = contact(&ts, "frage")
        .into_iter()
        .filter(|(k, _)| !k.starts_with("termin") && *k != "telefon")
        .collect();
    let r = post_form(&state, "/forms/kontakt", &question).await;
    assert_eq!(
        r.status, 303,
        "a question without phone and dates: {}",
        r.body
    );

    let mut empty_question = question.clone();
    empty_question.retain(|(k, _)| *k != "nachricht");
    let r = post_json(
        &state,
        "/forms/kontakt",
        serde_json::Value::Object(
            empty_question
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                .collect(),
        ),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["errors"]["nachricht"],
        "Bitte schreiben Sie uns Ihre Frage."
    );

    let mut info_call = question.clone();
    info_call[0].1 = "infogespraech";
    let r = post_json(
        &state,
        "/forms/kontakt",
        serde_json::Value::Object(
            info_call
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                .collect(),
        ),
    )
    .await;
    assert_eq!(r.status, 422);
    let errors = &r.json()["errors"];
    assert!(errors["telefon"]
        .as_str()
        .unwrap()
        .contains("Telefonnummer"));
    // Each date field says which one it is.
    for i in 1..=3 {
        assert_eq!(
            errors[format!("termin{i}")],
            format!("{i}. Terminvorschlag: Bitte schlagen Sie einen Termin vor.")
        );
    }

    let mut unknown = question.clone();
    unknown[0].1 = "etwas";
    let r = post_form(&state, "/forms/kontakt", &unknown).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Bitte wählen Sie, ob Sie eine Frage"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_form_shown_again_says_fehler_in_the_title_and_puts_the_focused_summary_first() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let mut pairs = contact(&ts, "infogespraech");
    for (k, v) in pairs.iter_mut() {
        match *k {
            "termin2" => *v = "2099-02-10T10:00",
            "termin3" => *v = "2001-01-01T10:00",
            "email" => *v = "kontakt@",
            _ => {}
        }
    }
    let r = post_form(&state, "/forms/kontakt", &pairs).await;
    assert_eq!(r.status, 422);
    let body = &r.body;
    let title = body
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap();
    assert!(title.starts_with("Fehler: "), "{title}");
    // The summary is the first thing in <main>, takes the focus and links to the fields.
    let main = body
        .split("<main id=\"inhalt\" tabindex=\"-1\">")
        .nth(1)
        .unwrap();
    let first = main
        .trim_start()
        .trim_start_matches("<div class=\"rahmen\">")
        .trim_start();
    assert!(
        first.starts_with(
            "<div class=\"fehler-zusammenfassung\" role=\"alert\" tabindex=\"-1\" autofocus"
        ),
        "{first}"
    );
    assert_eq!(body.matches("class=\"fehler-zusammenfassung\"").count(), 1);
    for field in ["email", "termin2", "termin3"] {
        assert!(
            body.contains(&format!("<a href=\"#kontakt-{field}\">")),
            "{field}"
        );
        assert!(body.contains(&format!("id=\"kontakt-{field}\"")), "{field}");
    }
    // Distinct messages for the date fields, and the input kept.
    assert!(body.contains("2. Terminvorschlag: Dieser Termin steht schon weiter oben."));
    assert!(
        body.contains("3. Terminvorschlag: Bitte schlagen Sie einen Termin in der Zukunft vor.")
    );
    assert!(body.contains("value=\"2001-01-01T10:00\""));
    assert!(body.contains(
        "id=\"kontakt-anliegen-infogespraech\" name=\"anliegen\" value=\"infogespraech\" checked"
    ));

    // A page without errors has neither.
    let page = get(&state, "/forms/mitgliedschaft/rechner?beschaeftigte=50").await;
    assert!(!page.body.contains("<title>Fehler: "), "{}", page.body);
}

#[tokio::test]
async fn a_booking_names_the_contract_as_its_legal_basis_not_a_consent() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let unit = state
        .loaded()
        .site
        .units
        .iter()
        .find(|u| u.format == campus_generator::content::Format::Hybrid)
        .map(|u| u.id.clone())
        .unwrap();
    let r = post_form(
        &state,
        "/forms/buchung",
        &[
            ("einheit", &unit),
            ("termin", "naechster"),
            ("name", "Erika Beispiel"),
            ("email", "erika@mitgliedsstadt.example"),
            ("kommune", "mitgliedsstadt"),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Art. 6 Abs. 1 Buchst. b DSGVO"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Bitte bestätigen Sie Ihre Anmeldung"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("Ich willige ein"), "{}", r.body);
}

// ---- Fair limits: per client and form, IPv6 per /64, bounded memory ----

use axum::body::Body;
use axum::http::{header, Request};
use campus_forms::web::{limit_key, RateLimiter};
use std::time::Duration;

#[test]
fn the_limit_key_is_the_client_and_the_form() {
    assert_eq!(
        limit_key("203.0.113.7", "/forms/kontakt"),
        "203.0.113.7|/forms/kontakt"
    );
    // One IPv6 connection usually has a whole /64.
    assert_eq!(
        limit_key("2001:db8:a:b:1:2:3:4", "/forms/buchung/bestaetigen/TOKEN"),
        "2001:db8:a:b::/64|/forms/buchung"
    );
    assert_eq!(
        limit_key("2001:db8:a:b::99", "/forms/buchung"),
        limit_key("2001:db8:a:b:ffff::1", "/forms/buchung")
    );
    assert_ne!(
        limit_key("2001:db8:a:b::1", "/forms/buchung"),
        limit_key("2001:db8:a:c::1", "/forms/buchung")
    );
    assert_eq!(
        limit_key("::ffff:198.51.100.9", "/verwaltung/anmelden"),
        "198.51.100.9|/verwaltung/anmelden"
    );
}

#[test]
fn the_limiter_memory_is_bounded_and_old_entries_expire() {
    let limiter = RateLimiter::new(3, Duration::from_secs(600));
    for i in 0..(RateLimiter::MAX_KEYS + 500) {
        assert!(limiter.allow(
            &format!("10.0.{}.{}|/forms/kontakt", i / 256, i % 256),
            1_000
        ));
    }
    assert_eq!(limiter.keys(), RateLimiter::MAX_KEYS);
    // Over the limit: the answer says when the oldest hit leaves the window.
    for _ in 0..3 {
        assert!(limiter.allow("a|/forms/kontakt", 10_000));
    }
    assert_eq!(limiter.check("a|/forms/kontakt", 70_000), Err(540));
    // After the window every old key is swept at the next hit.
    assert!(limiter.allow("b|/forms/kontakt", 1_000 + 600_000 + 60_000));
    assert_eq!(limiter.keys(), 1);
}

async fn newsletter_from(state: &campus_forms::AppState, ip: &str, path: &str) -> Reply {
    let ts = ts(state, 5);
    let body = urlencode(&[
        ("email", "leserin@beispiel.example"),
        ("name", "Lena Leserin"),
        ("einwilligung", "ja"),
        ("ts", &ts),
    ]);
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, BASE)
        .body(Body::from(body))
        .unwrap();
    let addr: std::net::SocketAddr = std::net::SocketAddr::new(ip.parse().unwrap(), 50000);
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    send(state, req).await
}

#[tokio::test]
async fn one_town_hall_behind_one_address_is_limited_per_form_and_keeps_its_input() {
    let site = site_dir();
    let mut settings = settings_with_manual_clock(site.path());
    settings.per_ip_per_10_min = 2;
    let state = state_with(site.path(), settings);
    let hall = "2001:db8:5:6::10";
    assert_eq!(
        newsletter_from(&state, hall, "/forms/newsletter")
            .await
            .status,
        303
    );
    // A colleague's computer in the same /64.
    assert_eq!(
        newsletter_from(&state, "2001:db8:5:6::11", "/forms/newsletter")
            .await
            .status,
        303
    );
    let r = newsletter_from(&state, "2001:db8:5:6::12", "/forms/newsletter").await;
    assert_eq!(r.status, 429);
    // The input comes back with a button to send it, and when.
    assert_eq!(r.headers[header::RETRY_AFTER], "600");
    assert!(r.body.contains("value=\"Lena Leserin\""), "{}", r.body);
    assert!(r.body.contains("<title>Zu viele Anfragen"), "{}", r.body);
    assert!(r.body.contains("in etwa 10 Minuten"), "{}", r.body);
    assert!(r.body.contains("<footer class=\"fuss\">"), "{}", r.body);
    // Another form of the same address and another /64 are not affected.
    let ts = ts(&state, 5);
    let registration = urlencode(&[
        ("name", "Erika Beispiel"),
        ("email", "erika@beispiel.example"),
        ("kommune", "mitgliedsstadt"),
        ("einwilligung", "ja"),
        ("ts", &ts),
    ]);
    let mut req = Request::post("/forms/registrierung")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, BASE)
        .body(Body::from(registration))
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
            hall.parse().unwrap(),
            50000,
        )));
    assert_eq!(send(&state, req).await.status, 303);
    assert_eq!(
        newsletter_from(&state, "2001:db8:5:7::10", "/forms/newsletter")
            .await
            .status,
        303
    );
    // Five minutes later the wait is shorter.
    state.settings.clock.advance(Duration::from_secs(300));
    let r = newsletter_from(&state, hall, "/forms/newsletter").await;
    assert_eq!(r.headers[header::RETRY_AFTER], "300");
    assert!(r.body.contains("in etwa 5 Minuten"), "{}", r.body);
}

// ---- Every error answer a full page of the site ----

fn full_page(body: &str) {
    for part in [
        "<header class=\"kopf\">",
        "<footer class=\"fuss\">",
        "href=\"/impressum/\"",
        "href=\"/datenschutz/\"",
        "<h1>",
    ] {
        assert!(body.contains(part), "{part} missing in\n{body}");
    }
}

#[tokio::test]
async fn error_answers_of_the_backend_are_full_site_pages() {
    let site = site_dir();
    let mut settings = settings(site.path());
    settings.body_limit = 512;
    let state = state_with(site.path(), settings);
    // 405: a form's address opened in the browser.
    let r = get(&state, "/forms/kontakt").await;
    assert_eq!(r.status, 405);
    full_page(&r.body);
    assert!(r.body.contains("nimmt nur Formulare an"), "{}", r.body);
    // 404 below /forms/.
    let r = get(&state, "/forms/gibt-es-nicht").await;
    assert_eq!(r.status, 404);
    full_page(&r.body);
    // 413: too much data.
    let ts = ts(&state, 5);
    let long = "x".repeat(2048);
    let r = post_form(
        &state,
        "/forms/kontakt",
        &contact(&ts, "frage")
            .iter()
            .map(|(k, v)| (*k, if *k == "nachricht" { long.as_str() } else { *v }))
            .collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(r.status, 413);
    full_page(&r.body);
    // 422 (a form shown again) is the site's page with the form.
    let r = post_form(
        &state,
        "/forms/kontakt",
        &[("anliegen", "frage"), ("ts", &ts)],
    )
    .await;
    assert_eq!(r.status, 422);
    full_page(&r.body);
}

#[tokio::test]
async fn a_json_client_over_the_limit_gets_json_with_retry_after() {
    let site = site_dir();
    let mut settings = settings(site.path());
    settings.per_ip_per_10_min = 1;
    let state = state_with(site.path(), settings);
    let ts = ts(&state, 5);
    let body = serde_json::json!({ "email": "a@beispiel.example", "einwilligung": "ja", "ts": ts });
    assert_eq!(
        post_json(&state, "/forms/newsletter", body.clone())
            .await
            .status,
        200
    );
    let r = post_json(&state, "/forms/newsletter", body).await;
    assert_eq!(r.status, 429);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert_eq!(r.json()["ok"], false);
}

// ---- Numbers as Germans write them ----

#[tokio::test]
async fn the_calculator_reads_german_numbers_and_refuses_doubtful_ones() {
    let site = site_dir();
    let state = state(site.path());
    let r = get(&state, "/forms/mitgliedschaft/rechner?beschaeftigte=1.500").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("mit 1.500 Beschäftigten"), "{}", r.body);
    for (raw, says) in [("1%2C5", "ohne Komma"), ("1.50", "nicht eindeutig")] {
        let r = get(
            &state,
            &format!("/forms/mitgliedschaft/rechner?beschaeftigte={raw}"),
        )
        .await;
        assert_eq!(r.status, 422, "{raw}");
        assert!(r.body.contains(says), "{raw}: {}", r.body);
        assert!(r.body.contains("<title>Fehler: "), "{raw}");
        // The input comes back in a text field, never into a number field.
        assert!(!r.body.contains("type=\"number\""), "{raw}");
        let shown = raw.replace("%2C", ",");
        assert!(r.body.contains(&format!("value=\"{shown}\"")), "{raw}");
    }
}

/// A contact request has no double opt-in: its consent is stored as given
/// and confirmed by the post itself (one insert in the intake batch).
#[tokio::test]
async fn a_contact_post_stores_its_consent_as_given_and_confirmed_at_once() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(&state, "/forms/kontakt", &contact(&ts, "frage")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let consents = state.store.consents("kontakt@beispiel.example").unwrap();
    assert_eq!(consents.len(), 1);
    let consent = &consents[0];
    assert_eq!(consent.purpose, "kontakt");
    assert_eq!(consent.confirmed_at, Some(consent.given_at));
    assert_eq!(consent.confirm_user_agent.as_deref(), Some("Formular"));
    assert_eq!(consent.given_ip_hash, state.signer.ip_hash(CLIENT_IP));
    assert_eq!(
        consent.confirm_ip_hash.as_deref(),
        Some(consent.given_ip_hash.as_str())
    );
}
