//! Pages and mail texts of the backend come from the theme: a form shown
//! again is the theme's form with the input and the messages, error pages
//! are the theme's, and a site overrides a backend page or a mail by
//! putting a template of the same name into its own `templates/`.

use crate::common::*;

fn write(site: &std::path::Path, name: &str, text: &str) {
    let path = site.join("templates").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_form_shown_again_is_the_theme_form_with_values_and_messages() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &[
            ("name", "Eva \"E\" <Beispiel>"),
            ("email", "eva@"),
            ("kommune", "mitgliedsstadt"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 422);
    let body = &r.body;
    // The summary on top links to the field; the field has its message.
    assert!(
        body.contains("<div class=\"fehler-zusammenfassung\" role=\"alert\""),
        "{body}"
    );
    assert!(body.contains("<a href=\"#registrierung-email\">"), "{body}");
    assert!(
        body.contains("<p class=\"feld-fehler\" id=\"registrierung-email-fehler\">"),
        "{body}"
    );
    assert!(body.contains("aria-invalid=\"true\""), "{body}");
    // Exactly the field with the error is marked.
    assert_eq!(body.matches("aria-invalid=\"true\"").count(), 1, "{body}");
    // The input comes back, escaped once; the choice and the consent too.
    assert!(
        body.contains("value=\"Eva &quot;E&quot; &lt;Beispiel&gt;\""),
        "{body}"
    );
    assert!(body.contains("value=\"eva@\""), "{body}");
    assert!(
        body.contains("<option value=\"mitgliedsstadt\" selected>"),
        "{body}"
    );
    assert!(
        body.contains("name=\"einwilligung\" value=\"ja\" checked"),
        "{body}"
    );
    // A fresh time stamp in this form.
    let ts_field = body
        .split("name=\"ts\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert!(!ts_field.is_empty());
    // Other forms of the page are untouched (the header search).
    assert!(body.contains(
        "<input type=\"search\" id=\"kopfsuche-begriff\" name=\"q\" autocomplete=\"off\">"
    ));
}

#[tokio::test]
async fn generated_form_pages_show_no_values_or_messages() {
    let site = site_dir();
    let state = state(site.path());
    let page = state
        .loaded()
        .pages
        .site_page("/registrierung/", &[])
        .unwrap()
        .unwrap();
    assert!(!page.contains("feld-fehler"), "{page}");
    assert!(!page.contains("aria-invalid"), "{page}");
    assert!(!page.contains(" checked"), "{page}");
    assert!(page.contains("name=\"ts\" value=\"\""), "{page}");
}

#[tokio::test]
async fn error_pages_are_the_theme_pages() {
    let site = site_dir();
    let state = state(site.path());
    let r = get(&state, "/forms/gibt-es-nicht").await;
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("Diese Adresse gibt es nicht."),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Zum Inhalt springen"),
        "in the theme's base.html: {}",
        r.body
    );
    assert!(
        r.body
            .contains("<title>Seite nicht gefunden – Testcampus</title>"),
        "{}",
        r.body
    );
    // JSON clients still get JSON.
    let j = send(
        &state,
        axum::http::Request::get("/forms/gibt-es-nicht")
            .header("accept", "application/json")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(j.status, 404);
    assert_eq!(j.json()["ok"], false);
}

#[tokio::test]
async fn a_site_overrides_a_backend_page_with_its_own_template() {
    let site = site_dir();
    write(
        site.path(),
        "forms/bestaetigen.html",
        "{% extends \"base.html\" %}{% block content %}<h1>Eigene Bestätigungsseite</h1>{% if valid %}gültig{% else %}ungültig{% endif %}{% endblock content %}",
    );
    let state = state(site.path());
    let r = get(&state, "/forms/bestaetigen/unbekannt").await;
    assert_eq!(r.status, 410);
    assert!(r.body.contains("Eigene Bestätigungsseite"), "{}", r.body);
    assert!(r.body.contains("ungültig"), "{}", r.body);
    assert!(
        !r.body
            .contains("Dieser Bestätigungslink ist nicht mehr gültig"),
        "the theme's text is replaced"
    );
}

#[tokio::test]
async fn a_broken_backend_page_falls_back_to_a_plain_german_page() {
    let site = site_dir();
    write(
        site.path(),
        "forms/abmelden.html",
        "{% extends \"base.html\" %}{% block content %}{{ gibt_es_nicht.feld }}{% endblock content %}",
    );
    let state = state(site.path());
    let r = get(&state, "/forms/newsletter/abmelden/unbekannt").await;
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("<h1>Newsletter abbestellen</h1>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("technischen Fehlers"), "{}", r.body);
}

/// A booking as the booking mails get it (see `mail/buchung_fakten.txt`).
fn sample_booking(kind: &str) -> serde_json::Value {
    serde_json::json!({
        "id": 4711, "kind": kind, "unit_title": "E-Akte einführen",
        "date": "Mittwoch, 10. Februar 2027", "name": "Erika Musterfrau",
        "email": "erika@verwaltung.example", "authority": "Stadt Mitgliedsstadt",
        "member": true, "free": false, "price": "199,00 €", "billing_unit": "Teilnahme",
        "vat_percent": 19, "vat": "31,77 €", "surcharge_percent": 20,
    })
}

/// An event registration as the event mails get it (`booking.event`).
fn sample_event() -> serde_json::Value {
    serde_json::json!({
        "id": 4712, "kind": "veranstaltung", "unit_title": "Rathausdialog",
        "date": "Donnerstag, 18. Februar 2027", "name": "Erika Musterfrau",
        "email": "erika@verwaltung.example", "authority": "Stadt Mitgliedsstadt",
        "member": true, "free": true, "price": "0,00 €", "billing_unit": "",
        "vat_percent": 19, "vat": "0,00 €", "surcharge_percent": 20,
        "event": { "start": "16:00", "end": "18:30", "online": false,
            "place": "Ratssaal, Marktplatz 1, 69000 Eschenbrück", "link": null,
            "members_only": true, "url": "https://kc.example/veranstaltungen/rathausdialog/" },
    })
}

#[test]
fn every_mail_kind_renders_with_a_sample_context() {
    use campus_forms::mail::Block;
    use serde_json::json;
    let site = site_dir();
    let state = state(site.path());
    let letterhead = state.loaded().letterhead.clone();
    let booking = sample_booking("buchung");
    let application = json!({ "name": "Stadt Musterhausen", "kind": "Stadt", "street": "Rathausplatz 1", "postcode": "64646",
        "town": "Musterhausen", "employees": 1500, "employees_label": "1.500", "shares": 5, "deposit_cents": 500_000,
        "annual_fee_cents": 1_000_000, "resolution_date": "2026-11-10", "resolution_date_label": "Dienstag, 10. November 2026",
        "resolution_body": "Stadtrat", "contact_name": "Karla Kaiser", "contact_email": "k.kaiser@musterhausen.example",
        "contact_phone": "06251 123-45", "approval": "kommune", "approver_email": "fortbildung@musterhausen.example" });
    // (kind, values, what the subject says, what the text says)
    let cases: Vec<(&str, serde_json::Value, &str, Vec<&str>)> = vec![
        ("registrierung-bestaetigen", json!({ "name": "Eva Beispiel", "link": "https://kc.example/forms/bestaetigen/abc", "hours": 48 }),
            "Bitte bestätigen Sie Ihre Registrierung", vec!["Guten Tag Eva Beispiel,", "48 Stunden gültig"]),
        ("registrierung-bekannt", json!({ "name": "Eva Beispiel" }), "Sie sind bereits registriert", vec!["Guten Tag Eva Beispiel,"]),
        ("registrierung-willkommen", json!({ "link": "https://kc.example/lerneinheiten/" }), "Ihre Registrierung ist bestätigt", vec!["Lerneinheiten buchen"]),
        ("newsletter-bestaetigen", json!({ "name": "", "link": "https://kc.example/forms/bestaetigen/n", "hours": 24 }),
            "Bitte bestätigen Sie Ihre Newsletter-Anmeldung", vec!["Guten Tag,", "24 Stunden gültig"]),
        ("newsletter-bekannt", json!({ "name": "Ali" }), "Sie erhalten unseren Newsletter bereits", vec!["Guten Tag Ali,"]),
        ("newsletter-willkommen", json!({}), "Willkommen beim Newsletter des KommunalCampus", vec!["Anmeldung zum Newsletter ist bestätigt"]),
        ("kurs-bescheinigung", json!({ "name": "Erika Musterfrau", "course_title": "Digitale Verwaltung", "units": ["E-Akte einführen", "OZG umsetzen"],
            "number": "KC-AAAA-BBBB-CCCC", "link": "https://kc.example/bescheinigung/t" }),
            "Ihre Kursbescheinigung: Digitale Verwaltung", vec!["„E-Akte einführen“, „OZG umsetzen“.", "Nummer KC-AAAA-BBBB-CCCC"]),
        ("bewertung-einladung", json!({ "name": "Erika Musterfrau", "unit_title": "E-Akte einführen", "date": "Mittwoch, 10. Februar 2027",
            "link": "https://kc.example/bewertung/t" }),
            "Ihre Bewertung und Teilnahmebescheinigung: E-Akte einführen", vec!["Guten Tag Erika Musterfrau,", "am Mittwoch, 10. Februar 2027", "ohne Ihren Namen"]),
        ("verwaltung-anmelden", json!({ "link": "https://kc.example/verwaltung/anmelden/t", "minutes": 15 }),
            "Ihr Anmeldelink für die Verwaltung des KommunalCampus", vec!["gilt 15 Minuten", "https://kc.example/verwaltung/anmelden/t"]),
        ("kontakt-geschaeftsstelle", json!({ "contact": { "id": 17, "name": "Karl Kontakt", "organisation": "Stadt Beispiel", "email": "karl@beispiel.example",
            "infogespraech": true, "telefon": "+49 621 000000", "termine": ["Mittwoch, 10. Februar 2099, 10:00 Uhr", "Donnerstag, 11. Februar 2099, 10:00 Uhr"], "nachricht": "Bitte rufen Sie an." } }),
            "Kontaktanfrage K-17: Karl Kontakt (Stadt Beispiel)",
            vec!["Telefon: +49 621 000000", "Informationsgespräch:\nMittwoch, 10. Februar 2099, 10:00 Uhr\nDonnerstag, 11. Februar 2099, 10:00 Uhr", "Anliegen:\nBitte rufen Sie an.", "Vorgangsnummer: K-17."]),
        ("buchung-bestaetigen", json!({ "booking": booking, "approver": "kommune", "link": "https://kc.example/forms/buchung/bestaetigen/t", "hours": 48 }),
            "Bitte bestätigen Sie Ihre Buchungsanfrage: E-Akte einführen", vec!["Freigabe an Ihre Verwaltung", "Vorgangsnummer: B-4711"]),
        ("buchung-freigabe-anfrage", json!({ "booking": booking, "approver": "genossenschaft", "approve_link": "https://kc.example/forms/buchung/freigeben/t",
            "reject_link": "https://kc.example/forms/buchung/ablehnen/t", "days": 7 }),
            "Freigabe erbeten: B-4711 E-Akte einführen – Erika Musterfrau", vec!["gibt die Geschäftsstelle frei", "Ablehnen:\nhttps://kc.example/forms/buchung/ablehnen/t", "gelten 7 Tage"]),
        ("buchung-in-freigabe", json!({ "booking": booking, "approver": "kommune" }), "Ihre Anfrage liegt zur Freigabe vor: E-Akte einführen", vec!["bei Ihrer Verwaltung"]),
        ("buchung-bestaetigt", json!({ "booking": booking, "updated": true, "date": "Mittwoch, 10. Februar 2027", "preparation_opens": "Mittwoch, 27. Januar 2027",
            "follow_up_opens": "Mittwoch, 24. Februar 2027", "cancel_link": "https://kc.example/forms/buchung/stornieren/s",
            "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Termin aktualisiert: E-Akte einführen", vec!["am Mittwoch, 10. Februar 2027 von 09:00 bis 13:00 Uhr", "öffnet am Mittwoch, 27. Januar 2027", "https://kc.example/forms/buchung/stornieren/s"]),
        ("buchung-warteliste", json!({ "booking": booking, "reason": "termin-abgesagt", "cancelled_date": "Mittwoch, 10. Februar 2027", "position": 3, "hold_hours": 48,
            "cancel_link": "https://kc.example/forms/buchung/stornieren/s", "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Sie stehen auf der Warteliste: E-Akte einführen", vec!["der Termin am Mittwoch, 10. Februar 2027 für die Lerneinheit „E-Akte einführen“ findet leider nicht statt", "auf Platz 3 der Warteliste", "gilt dann 48 Stunden"]),
        ("buchung-angebot", json!({ "booking": booking, "date": "Mittwoch, 10. Februar 2027", "until": "Freitag, 5. Februar 2027, 18:30 Uhr",
            "link": "https://kc.example/forms/buchung/angebot/a", "cancel_link": "https://kc.example/forms/buchung/stornieren/s" }),
            "Ein Platz ist frei: E-Akte einführen", vec!["bis Freitag, 5. Februar 2027, 18:30 Uhr"]),
        ("buchung-angebot-verfallen", json!({ "booking": booking }), "Angebot verfallen: E-Akte einführen", vec!["nicht rechtzeitig angenommen"]),
        ("buchung-abgelehnt", json!({ "booking": booking, "approver": "genossenschaft" }), "Ihre Buchung wurde nicht freigegeben: E-Akte einführen", vec!["leider hat die Geschäftsstelle"]),
        ("kurs-bestaetigen", json!({ "course": sample_course(), "approver": "genossenschaft", "link": "https://kc.example/forms/kurs/bestaetigen/t", "hours": 48 }),
            "Bitte bestätigen Sie Ihre Kursbuchung: Digitale Verwaltung gestalten", vec!["mit einer Anfrage zur Freigabe an die Geschäftsstelle", "Vorgangsnummer: K-12", "- Prozesse modellieren: Live-Tutorium am Dienstag, 16. März 2027, 09:00–13:00 Uhr, 199,00 €", "- E-Akte einführen: nächster möglicher Termin"]),
        ("kurs-freigabe-anfrage", json!({ "course": sample_course(), "approver": "kommune", "approve_link": "https://kc.example/forms/kurs/freigeben/t",
            "reject_link": "https://kc.example/forms/kurs/ablehnen/t", "days": 7 }),
            "Freigabe erbeten: Kurs K-12 Digitale Verwaltung gestalten – Erika Musterfrau", vec!["Eine Entscheidung gilt für den ganzen Kurs", "Ablehnen:\nhttps://kc.example/forms/kurs/ablehnen/t", "gelten 7 Tage"]),
        ("kurs-in-freigabe", json!({ "course": sample_course(), "approver": "kommune", "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Ihre Kursbuchung liegt zur Freigabe vor: Digitale Verwaltung gestalten", vec!["bei Ihrer Verwaltung"]),
        ("kurs-ergebnis", json!({ "course": sample_course(), "reasons": { "41": "kein-platz" }, "hold_hours": 48, "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Ihre Kursbuchung: Digitale Verwaltung gestalten", vec!["- Prozesse modellieren: verbindlich gebucht, Live-Tutorium am Dienstag, 16. März 2027 von 09:00 bis 13:00 Uhr.",
                "- E-Akte einführen: Warteliste, Platz 2 – am gewünschten Termin ist kein Platz mehr frei", "- E-Akte Grundlagen: eingeschrieben, Start jederzeit: https://lms.example/e-akte",
                "- Prozesse modellieren: https://kc.example/forms/buchung/stornieren/s40"]),
        ("kurs-abgelehnt", json!({ "course": sample_course(), "approver": "genossenschaft", "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Kursbuchung nicht freigegeben: Digitale Verwaltung gestalten", vec!["die Geschäftsstelle der KommunalCampus eG hat Ihre Kursbuchung", "keine der Lerneinheiten gebucht"]),
        ("kurs-exklusiv-anfrage", json!({ "request": sample_exclusive(), "link": "https://kc.example/verwaltung/exklusivkurse/3" }),
            "Exklusivkurs angefragt: X-3 Digitale Verwaltung gestalten – Stadt Ahornfeld", vec!["Gruppengröße: 14 Personen", "Gewünschter Zeitraum: Frühjahr 2027", "Preis für den ganzen Kurs: 7.900,00 € (Preis für Mitglieder", "Anmerkungen:\nGern dienstags.", "[Anfrage X-3 öffnen](https://kc.example/verwaltung/exklusivkurse/3)"]),
        ("kurs-exklusiv-termine", json!({ "request": sample_exclusive() }),
            "Ihr exklusiver Kurs: Digitale Verwaltung gestalten – Termine", vec!["- Prozesse modellieren: Dienstag, 16. März 2027", "Der Raumlink kommt vorher.", "als eine Position in Rechnung"]),
        ("kurs-exklusiv-abgelehnt", json!({ "request": sample_exclusive() }),
            "Ihre Anfrage für einen exklusiven Kurs: Digitale Verwaltung gestalten", vec!["im gewünschten Zeitraum (Frühjahr 2027) nicht exklusiv anbieten", "Der Raumlink kommt vorher."]),
        ("buchung-storniert", json!({ "booking": booking, "by_participant": false, "calendar": true }), "Storniert: E-Akte einführen",
            vec!["die Geschäftsstelle hat Ihre Buchung storniert", "die Absage für Ihren Kalender"]),
        ("buchung-neuer-termin", json!({ "booking": booking, "date": "Mittwoch, 10. März 2027" }), "Neuer Termin: E-Akte einführen", vec!["Live-Tutorium am Mittwoch, 10. März 2027, 09:00–13:00 Uhr"]),
        ("buchung-vorbereitung", json!({ "booking": booking, "date": "Mittwoch, 10. Februar 2027", "preparation_link": "https://lms.example/vorbereitung",
            "unit_link": "https://kc.example/lerneinheiten/e-akte/", "cancel_link": "https://kc.example/forms/buchung/stornieren/s" }),
            "Vorbereitung geöffnet: E-Akte einführen", vec!["[Zum Vorbereitungsmodul](https://lms.example/vorbereitung)", "am Mittwoch, 10. Februar 2027 (09:00–13:00 Uhr)"]),
        ("buchung-erinnerung", json!({ "booking": booking, "date": "Mittwoch, 10. Februar 2027", "preparation_link": "https://lms.example/vorbereitung",
            "unit_link": "https://kc.example/lerneinheiten/e-akte/", "cancel_link": "https://kc.example/forms/buchung/stornieren/s" }),
            "Erinnerung: Live-Tutorium am Mittwoch, 10. Februar 2027 – E-Akte einführen", vec!["Technik-Check", "Kamera", "Mikrofon", "https://kc.example/forms/buchung/stornieren/s"]),
        ("buchung-nachbereitung", json!({ "booking": booking, "date": "Mittwoch, 10. Februar 2027", "preparation_link": "https://lms.example/vorbereitung",
            "unit_link": "https://kc.example/lerneinheiten/e-akte/" }),
            "Nachbereitung geöffnet: E-Akte einführen", vec!["Nachbereitungsmodul", "(Live-Tutorium am Mittwoch, 10. Februar 2027)"]),
        ("buchung-freigabe-erinnerung", json!({ "booking": booking, "approver": "kommune", "approve_link": "https://kc.example/forms/buchung/freigeben/t2",
            "reject_link": "https://kc.example/forms/buchung/ablehnen/t2", "until": "Freitag, 5. Februar 2027, 18:30 Uhr" }),
            "Erinnerung – Freigabe erbeten: B-4711 E-Akte einführen – Erika Musterfrau", vec!["gelten bis Freitag, 5. Februar 2027, 18:30 Uhr", "Ablehnen:\nhttps://kc.example/forms/buchung/ablehnen/t2"]),
        ("buchung-freigabe-abgelaufen", json!({ "booking": booking, "approver": "kommune", "days": 14, "cancel_link": "https://kc.example/forms/buchung/stornieren/s" }),
            "Freigabe noch offen: E-Akte einführen", vec!["innerhalb von 14 Tagen nicht von Ihrer Kommune entschieden", "Ihre Anfrage bleibt bestehen"]),
        ("meine-buchungen", json!({ "name": "Erika Musterfrau", "link": "https://kc.example/forms/meine-buchungen/t", "hours": 48, "count": 2 }),
            "Ihr Link zu „Meine Buchungen“", vec!["[Meine Buchungen öffnen](https://kc.example/forms/meine-buchungen/t)", "gilt 48 Stunden"]),
        ("buchung-storniert-freigabe", json!({ "booking": booking, "approver": "kommune", "was_pending": true }),
            "Storniert: B-4711 E-Akte einführen – Erika Musterfrau", vec!["hat die Buchungsanfrage zurückgezogen"]),
        ("einschreibung-start", json!({ "booking": sample_booking("einschreibung"), "link": "https://lms.example/e-akte" }), "Sie sind eingeschrieben: E-Akte einführen",
            vec!["Termin: jederzeit (Selbststudium)"]),
        ("mitgliedsantrag-bestaetigen", json!({ "application": application, "link": "https://kc.example/forms/bestaetigen/m", "hours": 48 }),
            "Bitte bestätigen Sie den Mitgliedsantrag: Stadt Musterhausen", vec!["Guten Tag Karla Kaiser,", "48 Stunden gültig", "[Mitgliedsantrag bestätigen](https://kc.example/forms/bestaetigen/m)",
            "Beschäftigte: 1.500\nGeschäftsanteile: 5, Einlage (einmalig): 5.000,00", "durch Ihre Kommune (fortbildung@musterhausen.example)"]),
        ("mitgliedsantrag-eingegangen", json!({ "application": application, "number": "M-12" }),
            "Ihr Mitgliedsantrag ist eingegangen (M-12)", vec!["entscheidet der Vorstand", "Antragsnummer: M-12"]),
        ("mitgliedsantrag-geschaeftsstelle", json!({ "application": application, "number": "M-12", "link": "https://kc.example/verwaltung/mitgliedsantraege/12" }),
            "Neuer Mitgliedsantrag M-12: Stadt Musterhausen", vec!["Stadtrat am Dienstag, 10. November 2026", "https://kc.example/verwaltung/mitgliedsantraege/12"]),
        ("mitgliedsantrag-vorstand", json!({ "application": application, "number": "M-12" }),
            "Der Vorstand hat Ihrem Mitgliedsantrag zugestimmt (M-12)", vec!["Einlage für 5 Geschäftsanteile in Höhe von 5.000,00", "Antragsnummer M-12"]),
        ("mitgliedsantrag-einlage", json!({ "application": application, "number": "M-12" }),
            "Ihre Einlage ist eingegangen (M-12)", vec!["für Stadt Musterhausen ist bei uns eingegangen"]),
        ("mitgliedsantrag-mitglied", json!({ "application": application, "number": "M-12" }),
            "Willkommen in der KommunalCampus eG: Stadt Musterhausen", vec!["mit 5 Geschäftsanteilen", "Leitweg-ID"]),
        ("mitgliedsantrag-abgelehnt", json!({ "application": application, "number": "M-12" }),
            "Ihr Mitgliedsantrag M-12: Stadt Musterhausen", vec!["nicht annehmen"]),
        ("veranstaltung-bestaetigen", json!({ "booking": sample_event(), "link": "https://kc.example/forms/buchung/bestaetigen/t", "hours": 48 }),
            "Bitte bestätigen Sie Ihre Anmeldung: Rathausdialog", vec!["Anmeldung zur Veranstaltung „Rathausdialog“", "Zeitpunkt Ihrer Bestätigung",
                "[Anmeldung bestätigen](https://kc.example/forms/buchung/bestaetigen/t)"]),
        ("veranstaltung-bestaetigt", json!({ "booking": sample_event(), "updated": false, "moved_up": true, "date": "Donnerstag, 18. Februar 2027",
            "cancel_link": "https://kc.example/forms/buchung/stornieren/s", "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Nachgerückt – Ihr Platz ist sicher: Rathausdialog", vec!["von der Warteliste nachgerückt", "am Donnerstag, 18. Februar 2027 von 16:00 bis 18:30 Uhr",
                "Ort: Ratssaal, Marktplatz 1, 69000 Eschenbrück", "https://kc.example/forms/buchung/stornieren/s"]),
        ("veranstaltung-warteliste", json!({ "booking": sample_event(), "reason": "kein-platz", "cancelled_date": "", "position": 2,
            "cancel_link": "https://kc.example/forms/buchung/stornieren/s", "calendar": false, "my_bookings_url": "https://kc.example/forms/meine-buchungen/" }),
            "Sie stehen auf der Warteliste: Rathausdialog", vec!["ist leider ausgebucht", "auf Platz 2 der Warteliste", "automatisch nach"]),
        ("veranstaltung-storniert", json!({ "booking": sample_event(), "by_participant": true, "calendar": true }), "Abgemeldet: Rathausdialog",
            vec!["Sie haben Ihre Anmeldung zur Veranstaltung „Rathausdialog“ abgesagt", "die Absage für Ihren Kalender"]),
        ("veranstaltung-erinnerung", json!({ "booking": sample_event(), "date": "Donnerstag, 18. Februar 2027",
            "unit_link": "https://kc.example/veranstaltungen/rathausdialog/", "cancel_link": "https://kc.example/forms/buchung/stornieren/s" }),
            "Erinnerung: Rathausdialog am Donnerstag, 18. Februar 2027", vec!["von 16:00 bis 18:30 Uhr", "Ort: Ratssaal, Marktplatz 1, 69000 Eschenbrück",
                "[Zur Veranstaltung](https://kc.example/veranstaltungen/rathausdialog/)"]),
    ];
    // Every mail template of the theme has a case here.
    let mut files: Vec<String> =
        std::fs::read_dir(repo_root().join("themes/default/templates/mail"))
            .unwrap()
            .map(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .trim_end_matches(".txt")
                    .to_string()
            })
            .filter(|n| n != "gruss" && !n.ends_with("_fakten"))
            .collect();
    files.sort();
    let mut kinds: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    kinds.sort();
    assert_eq!(files, kinds);
    for (kind, values, subject, says) in cases {
        let mail = letterhead
            .text(kind, values)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(mail.subject, subject, "{kind}");
        let text: Vec<String> = mail
            .blocks
            .iter()
            .map(|b| match b {
                Block::Text(t) => t.clone(),
                Block::Button { label, url } => format!("[{label}]({url})"),
            })
            .collect();
        let text = text.join("\n\n");
        for s in says {
            assert!(text.contains(s), "{kind}: „{s}“ missing in\n{text}");
        }
        assert!(
            text.ends_with("Mit freundlichen Grüßen\nIhre Testcampus eG"),
            "{kind}: closing\n{text}"
        );
        if kind.starts_with("veranstaltung-") && kind != "veranstaltung-erinnerung" {
            assert!(
                text.contains("Vorgangsnummer: B-4712\nVeranstaltung: Rathausdialog\nTermin: Donnerstag, 18. Februar 2027, 16:00–18:30 Uhr\nOrt: Ratssaal, Marktplatz 1, 69000 Eschenbrück\n"),
                "{kind}: the event's facts\n{text}"
            );
        } else if text.contains("Vorgangsnummer: B-") {
            assert!(
                text.contains("Vorgangsnummer: B-4711\nLerneinheit: E-Akte einführen\n"),
                "{kind}: the facts are one paragraph\n{text}"
            );
        }
    }
    // The facts of a paid booking, word for word.
    let facts = letterhead
        .render("mail/buchung_fakten.txt", json!({ "booking": booking }))
        .unwrap();
    assert_eq!(
        facts.trim(),
        "Vorgangsnummer: B-4711\nLerneinheit: E-Akte einführen\nTermin: Live-Tutorium am Mittwoch, 10. Februar 2027, 09:00–13:00 Uhr\nName: Erika Musterfrau\nE-Mail: erika@verwaltung.example\nKommune: Stadt Mitgliedsstadt (Mitglied)\nPreis: 199,00 € je Teilnahme, Preis für Mitglieder, inkl. 19 % MwSt. (31,77 €)"
    );
}

#[tokio::test]
async fn newsletter_mail_has_one_click_headers_and_both_parts() {
    let site = site_dir();
    let state = state(site.path());
    let letterhead = state.loaded().letterhead.clone();
    let mut draft = letterhead
        .draft(
            "newsletter-bekannt",
            "a@b.de",
            "Änne Müller",
            serde_json::json!({ "name": "Änne <Welt>" }),
        )
        .unwrap();
    draft.unsubscribe = Some("https://kc.example/forms/newsletter/abmelden/x.y".into());
    let mail = letterhead.compose(&draft, None).unwrap();
    let raw = String::from_utf8(mail.raw).unwrap();
    assert!(raw.contains("List-Unsubscribe: <https://kc.example/forms/newsletter/abmelden/x.y>"));
    assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(raw.contains("text/plain"));
    assert!(raw.contains("text/html"));
    assert!(raw.contains(&format!("Message-ID: {}", mail.message_id)));
    assert_eq!(mail.recipient, "a@b.de");
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let html = parsed.body_html(0).unwrap();
    assert!(html.contains("Guten Tag Änne &lt;Welt&gt;,"), "{html}");
    let text = parsed.body_text(0).unwrap();
    assert!(
        text.contains("Newsletter abbestellen: https://kc.example/forms/newsletter/abmelden/x.y"),
        "{text}"
    );
}

#[tokio::test]
async fn a_site_overrides_a_mail_with_its_own_template() {
    let site = site_dir();
    write(
        site.path(),
        "mail/registrierung-bestaetigen.txt",
        "Betreff: Willkommen in Testcampus, {{ name }}\n\nEigener Text der Redaktion.\n\n[Jetzt bestätigen]({{ link }})\n",
    );
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &[
            ("name", "Eva Beispiel"),
            ("email", "eva@beispiel.example"),
            ("kommune", "mitgliedsstadt"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let outbox = state.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    let raw = state.store.raw_message(outbox[0].id).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        msg.subject(),
        Some("Willkommen in Testcampus, Eva Beispiel")
    );
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("Eigener Text der Redaktion."), "{text}");
    assert!(
        !text.contains("vielen Dank für Ihre Registrierung"),
        "{text}"
    );
    // The button still carries the working link.
    assert!(
        text.contains("Jetzt bestätigen:\nhttps://campus.example/forms/bestaetigen/")
            || text.contains("Jetzt bestätigen:\r\nhttps://campus.example/forms/bestaetigen/"),
        "{text}"
    );
}

#[tokio::test]
async fn a_broken_mail_template_stores_nothing_and_answers_with_an_error_page() {
    let site = site_dir();
    write(
        site.path(),
        "mail/registrierung-bestaetigen.txt",
        "Kein Betreff\n\n{{ name }}\n",
    );
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &[
            ("name", "Eva Beispiel"),
            ("email", "eva@beispiel.example"),
            ("kommune", "mitgliedsstadt"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("technischen Fehlers"), "{}", r.body);
    assert!(state.store.outbox().unwrap().is_empty());
    assert_eq!(
        state
            .store
            .count(campus_forms::store::Table::Submissions)
            .unwrap(),
        0
    );
}

#[test]
fn thank_you_pages_take_their_texts_from_the_theme() {
    let site = site_dir();
    let state = state(site.path());
    let page = state
        .loaded()
        .pages
        .site_page("/formular/danke-kontakt/", &[])
        .unwrap()
        .unwrap();
    assert!(
        page.contains("<title>Vielen Dank für Ihre Nachricht – Testcampus</title>"),
        "{page}"
    );
    assert!(
        page.contains("<h1>Vielen Dank für Ihre Nachricht</h1>"),
        "{page}"
    );
    assert!(page.contains("innerhalb von zwei Arbeitstagen"), "{page}");
}

#[tokio::test]
async fn search_titles_come_from_the_template() {
    let site = site_dir();
    let state = state(site.path());
    let r = get(&state, "/forms/suche?q=Akte").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("<title>Suche nach „Akte“ – Testcampus</title>"),
        "{}",
        r.body
    );
    let r = get(&state, "/forms/suche").await;
    assert!(
        r.body.contains("<title>Suche – Testcampus</title>"),
        "{}",
        r.body
    );
}

/// A course booking as `Env::course_view` shows it: one unit booked, one
/// waiting, one on-demand unit enrolled.
fn sample_course() -> serde_json::Value {
    serde_json::json!({
        "id": 12, "title": "Digitale Verwaltung gestalten", "url": "https://kc.example/kurse/digitale-verwaltung-gestalten/",
        "name": "Erika Musterfrau", "email": "erika@ahornfeld.example", "authority": "Stadt Ahornfeld", "organisation": "",
        "member": true, "free": false, "price": "447,00 €", "vat_percent": 19, "vat": "71,37 €", "surcharge_percent": 20,
        "state": "freigegeben", "state_label": "freigegeben",
        "units": [
            { "id": 40, "title": "Prozesse modellieren", "kind": "buchung", "next": false, "date": "Dienstag, 16. März 2027", "state": "bestaetigt",
              "state_label": "gebucht", "position": 0, "free": false, "price": "199,00 €", "cancel_link": "https://kc.example/forms/buchung/stornieren/s40", "start_link": "" },
            { "id": 41, "title": "E-Akte einführen", "kind": "buchung", "next": true, "date": "", "state": "warteliste",
              "state_label": "Warteliste", "position": 2, "free": false, "price": "199,00 €", "cancel_link": "https://kc.example/forms/buchung/stornieren/s41", "start_link": "" },
            { "id": 42, "title": "E-Akte Grundlagen", "kind": "einschreibung", "next": false, "date": "", "state": "eingeschrieben",
              "state_label": "eingeschrieben", "position": 0, "free": false, "price": "49,00 €", "cancel_link": "", "start_link": "https://lms.example/e-akte" }
        ]
    })
}

/// An exclusive course request as `exclusive::view` shows it.
fn sample_exclusive() -> serde_json::Value {
    serde_json::json!({
        "id": 3, "course_title": "Digitale Verwaltung gestalten", "authority": "Stadt Ahornfeld", "member": true,
        "name": "Erika Musterfrau", "email": "erika@ahornfeld.example", "group_size": 14, "period": "Frühjahr 2027",
        "remarks": "Gern dienstags.", "price": "7.900,00 €", "vat_percent": 19, "vat": "1.261,34 €", "surcharge_percent": 20,
        "state": "terminiert", "state_label": "Termine vereinbart", "answer": "Der Raumlink kommt vorher.",
        "dates": [{ "unit_title": "Prozesse modellieren", "date": "Dienstag, 16. März 2027" }]
    })
}
