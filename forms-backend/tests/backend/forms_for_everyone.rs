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
