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
