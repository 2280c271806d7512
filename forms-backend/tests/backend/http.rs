//! The axum app in-process: validation, answers (HTML and JSON), abuse
//! checks, double opt-in links.

use crate::common::{self, *};
use axum::body::Body;
use axum::http::{header, Method, Request};
use campus_forms::store::Table;
use serde_json::json;
use std::time::Duration;

fn registration<'a>(ts: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Erika Beispiel"),
        ("email", email),
        ("kommune", "mitgliedsstadt"),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ts),
    ]
}

fn contact<'a>(ts: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("organisation", "Stadt Beispiel"),
        ("email", "kontakt@beispiel.example"),
        ("telefon", "+49 621 000000"),
        ("termin1", "2099-02-10T10:00"),
        ("termin2", "2099-02-11T10:00"),
        ("termin3", "2099-02-12T14:30"),
        (
            "nachricht",
            "Wir möchten Mitglied werden.\r\nBitte rufen Sie an.",
        ),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ts),
    ]
}

#[tokio::test]
async fn healthz_and_token() {
    let site = site_dir();
    let state = state(site.path());
    let r = get(&state, "/healthz").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ok"], true);
    assert_eq!(r.json()["version"], env!("CARGO_PKG_VERSION"));
    // No worker in this test: reported, not an error.
    assert_eq!(r.json()["mailversand"]["status"], "nicht gestartet");
    // A worker whose last round is older than its lease allows is stuck.
    let stale = state.settings.clock.now() - 3600;
    state
        .worker_heartbeat
        .store(stale, std::sync::atomic::Ordering::Relaxed);
    let r = get(&state, "/healthz").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["mailversand"]["status"], "haengt");
    state.worker_heartbeat.store(
        state.settings.clock.now(),
        std::sync::atomic::Ordering::Relaxed,
    );
    assert_eq!(get(&state, "/healthz").await.status, 200);
    let r = get(&state, "/forms/token").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let token = r.json()["ts"].as_str().unwrap().to_string();
    assert_eq!(
        state.signer.check_form_stamp(
            &token,
            state.settings.clock.now_millis(),
            Duration::ZERO,
            Duration::from_secs(60)
        ),
        campus_forms::sign::FormStamp::Valid
    );
}

#[tokio::test]
async fn registration_is_stored_with_consent_token_and_mail_before_the_redirect() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &registration(&ts, "Erika@Beispiel.example"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/formular/danke-registrierung/")
    );
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 1);
    assert_eq!(state.store.count(Table::Consents).unwrap(), 1);
    assert_eq!(state.store.count(Table::Tokens).unwrap(), 1);
    let outbox = state.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].recipient, "erika@beispiel.example");
    assert_eq!(outbox[0].state, "queued");
    assert_eq!(outbox[0].kind, "registrierung-bestaetigen");
    let export = state.store.export("registrierung").unwrap();
    assert_eq!(export[0].payload["kommune"], "mitgliedsstadt");
    assert_eq!(export[0].status, "unbestaetigt");
}

#[tokio::test]
async fn contact_goes_to_the_office_with_reply_to() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(&state, "/forms/kontakt", &contact(&ts, "Karl Kontakt")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/formular/danke-kontakt/"));
    let outbox = state.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].recipient, "info@campus.example");
    let raw = String::from_utf8(state.store.raw_message(outbox[0].id).unwrap()).unwrap();
    assert!(raw.contains("Reply-To: kontakt@beispiel.example"), "{raw}");
    let mut csv = Vec::new();
    campus_forms::ops::export_csv(&state.store, "kontakt", &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("Karl Kontakt"), "{csv}");
    // A leading `+` can start a formula: phone numbers are neutralised too.
    assert!(csv.contains(";'+49 621 000000;"), "{csv}");
}

/// Every text field a visitor fills in, with values a spreadsheet would run
/// as formulas: each such cell of the export starts with `'`.
#[tokio::test]
async fn exports_neutralise_formulas_in_every_text_field() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let mut pairs = contact(&ts, "=HYPERLINK(\"http://boese.example\")");
    for (k, v) in pairs.iter_mut() {
        match *k {
            "organisation" => *v = "@SUMME(A1:A9)",
            "telefon" => *v = "+49 621 000000",
            "nachricht" => *v = "-2+3 bitte zurückrufen",
            _ => {}
        }
    }
    let r = post_form(&state, "/forms/kontakt", &pairs).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mut reg = registration(&ts, "erika@beispiel.example");
    reg[0].1 = "+Erika";
    let r = post_form(&state, "/forms/registrierung", &reg).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let export = |form: &str| {
        let mut csv = Vec::new();
        campus_forms::ops::export_csv(&state.store, form, &mut csv).unwrap();
        String::from_utf8(csv).unwrap()
    };
    let csv = export("kontakt");
    for cell in [
        "'=HYPERLINK(\"\"http://boese.example\"\")\"",
        ";'@SUMME(A1:A9);",
        ";'+49 621 000000;",
        "'-2+3 bitte zurückrufen",
    ] {
        assert!(csv.contains(cell), "{cell} missing in {csv}");
    }
    let csv = export("registrierung");
    assert!(csv.contains(";'+Erika;"), "{csv}");
    for (raw, safe) in [
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("=1", "'=1"),
        ("Anna", "Anna"),
        ("", ""),
    ] {
        assert_eq!(campus_forms::ops::spreadsheet_safe(raw), safe);
    }
}

#[tokio::test]
async fn json_answers_with_ok_or_per_field_errors() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let ok = post_json(
        &state,
        "/forms/newsletter",
        json!({ "email": "leser@beispiel.example", "einwilligung": true, "ts": ts }),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json(), json!({ "ok": true }));
    let bad = post_json(
        &state,
        "/forms/registrierung",
        json!({ "name": "", "email": "kein-at", "kommune": "atlantis", "ts": ts }),
    )
    .await;
    assert_eq!(bad.status, 422);
    let v = bad.json();
    assert_eq!(v["ok"], false);
    let errors = v["errors"].as_object().unwrap();
    for field in ["name", "email", "kommune", "einwilligung"] {
        assert!(errors.contains_key(field), "{field} missing in {v}");
    }
    assert!(errors["email"]
        .as_str()
        .unwrap()
        .contains("gültige E-Mail-Adresse"));
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 1);
}

#[tokio::test]
async fn html_errors_show_german_messages_and_keep_the_input() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let mut fields = contact(&ts, "Karl <Kontakt>");
    fields.retain(|(k, _)| *k != "einwilligung");
    fields.iter_mut().for_each(|f| {
        if f.0 == "email" {
            f.1 = "karl@";
        }
    });
    let r = post_form(&state, "/forms/kontakt", &fields).await;
    assert_eq!(r.status, 422);
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        r.body
            .contains("Bitte geben Sie eine gültige E-Mail-Adresse an"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Bitte stimmen Sie der Verarbeitung"),
        "{}",
        r.body
    );
    // The site's own page, with what the person typed.
    assert!(r.body.contains("action=\"/forms/kontakt\""));
    assert!(
        r.body.contains("value=\"Karl &lt;Kontakt&gt;\""),
        "name kept and escaped"
    );
    assert!(r.body.contains("value=\"karl@\""), "email kept");
    assert!(
        r.body.contains("Bitte rufen Sie an.</textarea>"),
        "message kept"
    );
    assert!(
        !r.body.contains("name=\"ts\" value=\"\""),
        "a fresh form token is filled in"
    );
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
}

#[tokio::test]
async fn honeypot_gets_the_normal_answer_and_nothing_is_stored() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let mut fields = registration(&ts, "bot@beispiel.example");
    fields.retain(|(k, _)| *k != "website");
    fields.push(("website", "http://spam.example"));
    let r = post_form(&state, "/forms/registrierung", &fields).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location.as_deref(),
        Some("/formular/danke-registrierung/")
    );
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
    assert_eq!(state.store.count(Table::Outbox).unwrap(), 0);
}

#[tokio::test]
async fn too_fast_or_missing_token_asks_again_with_the_values_and_a_fresh_token() {
    let site = site_dir();
    let mut settings = settings_with_manual_clock(site.path());
    settings.min_fill_time = Duration::from_millis(300);
    let state = state_with(site.path(), settings);
    // Too fast: a token issued just now.
    let fresh = state.form_stamp();
    let r = post_form(
        &state,
        "/forms/registrierung",
        &registration(&fresh, "schnell@beispiel.example"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Das ging sehr schnell"), "{}", r.body);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
    let j = post_json(&state, "/forms/registrierung", json!({ "name": "A B", "email": "a@b.example", "kommune": "andere", "organisation": "Zweckverband Test", "einwilligung": "ja", "ts": fresh })).await;
    assert_eq!(j.status, 422);
    assert!(j.json()["errors"]["ts"].is_string());

    // No token (no JavaScript): the interstitial repeats the values.
    let r = post_form(
        &state,
        "/forms/registrierung",
        &registration("", "ohnejs@beispiel.example"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Jetzt absenden"));
    assert!(
        r.body
            .contains("name=\"email\" value=\"ohnejs@beispiel.example\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("name=\"kommune\" value=\"mitgliedsstadt\""));
    assert!(
        !r.body.contains("name=\"website\""),
        "the honeypot is not repeated"
    );
    let ts = r
        .body
        .split("name=\"ts\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(!ts.is_empty());
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);

    // Sending the interstitial (a moment later) stores the submission.
    state.settings.clock.advance(Duration::from_millis(350));
    let again = post_form(
        &state,
        "/forms/registrierung",
        &registration(&ts, "ohnejs@beispiel.example"),
    )
    .await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 1);

    // A forged token is not accepted.
    let forged = format!("{}x", ts);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &registration(&forged, "x@beispiel.example"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 1);
}

#[tokio::test]
async fn cr_lf_in_header_fields_is_rejected() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/kontakt",
        &contact(&ts, "Eve\r\nBcc: opfer@example.org"),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("keine Zeilenumbrüche"), "{}", r.body);
    let j = post_json(&state, "/forms/newsletter", json!({ "email": "eve@example.org\r\nBcc: opfer@example.org", "einwilligung": "ja", "ts": ts })).await;
    assert_eq!(j.status, 422);
    assert!(j.json()["errors"]["email"].is_string());
    let j = post_json(&state, "/forms/newsletter", json!({ "email": "eve@example.org", "name": "Eve\nX-Evil: 1", "einwilligung": "ja", "ts": ts })).await;
    assert_eq!(j.status, 422);
    assert!(j.json()["errors"]["name"].is_string());
    assert_eq!(state.store.count(Table::Outbox).unwrap(), 0);
}

#[tokio::test]
async fn foreign_origins_are_rejected() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    for origin in [
        "https://evil.example",
        "null",
        "https://campus.example.evil.example",
    ] {
        let req = Request::post("/forms/registrierung")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, origin)
            .body(Body::from(urlencode(&registration(
                &ts,
                "a@beispiel.example",
            ))))
            .unwrap();
        let r = send(&state, req).await;
        assert_eq!(r.status, 403, "{origin}");
    }
    let req = Request::post("/forms/registrierung")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(urlencode(&registration(
            &ts,
            "a@beispiel.example",
        ))))
        .unwrap();
    assert_eq!(send(&state, req).await.status, 403);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
    // The serving address can be allowed in addition to the base URL.
    state.allow_origin("http://127.0.0.1:8080");
    let req = Request::post("/forms/registrierung")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://127.0.0.1:8080")
        .body(Body::from(urlencode(&registration(
            &ts,
            "a@beispiel.example",
        ))))
        .unwrap();
    assert_eq!(send(&state, req).await.status, 303);
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_answer() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let fields = |email: &'static str| {
        vec![
            ("email", email),
            ("einwilligung", "ja"),
            ("ts", ts.as_str()),
        ]
    };
    let first = post_form(
        &state,
        "/forms/newsletter",
        &fields("leser@beispiel.example"),
    )
    .await;
    // Confirm it, so the address is known and active.
    let raw = state
        .store
        .raw_message(state.store.outbox().unwrap()[0].id)
        .unwrap();
    let link = link_in(&raw, "https://campus.example/forms/bestaetigen/");
    let path = link.trim_start_matches(BASE).to_string();
    let req = Request::post(path.as_str())
        .header(header::ORIGIN, BASE)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&state, req).await.status, 303);

    let known = post_form(
        &state,
        "/forms/newsletter",
        &fields("leser@beispiel.example"),
    )
    .await;
    let unknown = post_form(&state, "/forms/newsletter", &fields("neu@beispiel.example")).await;
    for r in [&first, &known, &unknown] {
        assert_eq!(r.status, 303);
        assert_eq!(r.location.as_deref(), Some("/formular/danke-newsletter/"));
        assert_eq!(r.body, first.body);
    }
    let jk = post_json(
        &state,
        "/forms/newsletter",
        json!({ "email": "leser@beispiel.example", "einwilligung": "ja", "ts": ts }),
    )
    .await;
    let ju = post_json(
        &state,
        "/forms/newsletter",
        json!({ "email": "anders@beispiel.example", "einwilligung": "ja", "ts": ts }),
    )
    .await;
    assert_eq!((jk.status, jk.body.clone()), (ju.status, ju.body.clone()));
    // The known address got a notice, not a second confirmation link; the
    // second notice is held back by the per-recipient limit (3 per hour).
    let kinds: Vec<String> = state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == "leser@beispiel.example")
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "newsletter-bestaetigen",
            "newsletter-willkommen",
            "newsletter-bekannt"
        ]
    );
}

#[tokio::test]
async fn confirmation_links_change_nothing_on_get_or_head() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/newsletter",
        &[
            ("email", "leser@beispiel.example"),
            ("name", "Lea"),
            ("einwilligung", "ja"),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303);
    let raw = state
        .store
        .raw_message(state.store.outbox().unwrap()[0].id)
        .unwrap();
    let path = link_in(&raw, "https://campus.example/forms/bestaetigen/")
        .trim_start_matches(BASE)
        .to_string();

    for method in [Method::GET, Method::HEAD, Method::GET] {
        let req = Request::builder()
            .method(method.clone())
            .uri(path.as_str())
            .body(Body::empty())
            .unwrap();
        let r = send(&state, req).await;
        assert_eq!(r.status, 200, "{method}");
        assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
        if method == Method::GET {
            assert!(r.body.contains("Jetzt bestätigen"), "{}", r.body);
            assert!(r.body.contains("method=\"post\""));
        }
    }
    assert_eq!(
        state.store.outbox().unwrap().len(),
        1,
        "no welcome mail yet"
    );
    let export = state.store.export("newsletter").unwrap();
    assert_eq!(export[0].status, "unbestaetigt");

    let req = Request::post(path.as_str())
        .header(header::ORIGIN, BASE)
        .header(header::USER_AGENT, "Testbrowser")
        .body(Body::empty())
        .unwrap();
    let r = send(&state, req).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/formular/bestaetigt/"));
    assert_eq!(
        state.store.export("newsletter").unwrap()[0].status,
        "bestaetigt"
    );
    let outbox = state.store.outbox().unwrap();
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[1].kind, "newsletter-willkommen");
    let welcome = String::from_utf8(state.store.raw_message(outbox[1].id).unwrap()).unwrap();
    assert!(
        welcome.contains("List-Unsubscribe: <https://campus.example/forms/newsletter/abmelden/")
    );
    assert!(welcome.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));

    // Used once: a second POST and a GET say the link is no longer valid.
    let req = Request::post(path.as_str())
        .header(header::ORIGIN, BASE)
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&state, req).await.status, 410);
    assert_eq!(get(&state, &path).await.status, 410);
    assert_eq!(get(&state, "/forms/bestaetigen/erfunden").await.status, 410);
    assert_eq!(state.store.outbox().unwrap().len(), 2);

    // One-click unsubscribe (RFC 8058): GET shows a button, POST removes.
    let msg = mail_parser::MessageParser::default()
        .parse(welcome.as_bytes())
        .unwrap();
    let unsub = msg
        .header_raw("List-Unsubscribe")
        .unwrap()
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_start_matches(BASE)
        .to_string();
    assert_eq!(state.store.count(Table::Subscribers).unwrap(), 1);
    let r = get(&state, &unsub).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Newsletter abbestellen"));
    assert_eq!(
        state.store.count(Table::Subscribers).unwrap(),
        1,
        "GET unsubscribes nobody"
    );
    let req = Request::post(unsub.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    let r = send(&state, req).await;
    assert_eq!(r.status, 200);
    assert_eq!(state.store.count(Table::Subscribers).unwrap(), 0);
    let forged = format!("{unsub}x");
    let req = Request::post(forged.as_str()).body(Body::empty()).unwrap();
    assert_eq!(send(&state, req).await.status, 404);
}

#[tokio::test]
async fn limits_per_ip_per_recipient_and_body_size() {
    let site = site_dir();
    let mut settings = settings(site.path());
    settings.per_ip_per_10_min = 5;
    settings.per_recipient_per_hour = 2;
    settings.body_limit = 2048;
    let state = state_with(site.path(), settings);
    let ts = ts(&state, 5);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = post_form(
            &state,
            "/forms/newsletter",
            &[
                ("email", "opfer@beispiel.example"),
                ("einwilligung", "ja"),
                ("ts", &ts),
            ],
        )
        .await;
        statuses.push(r.status);
    }
    assert_eq!(
        statuses, [303; 5],
        "the victim's address gets the same answer"
    );
    assert_eq!(
        state.store.count(Table::Outbox).unwrap(),
        2,
        "but at most 2 mails per hour"
    );
    let r = post_form(
        &state,
        "/forms/newsletter",
        &[
            ("email", "x@beispiel.example"),
            ("einwilligung", "ja"),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 429);
    assert!(r.headers.contains_key(header::RETRY_AFTER));

    let state = state_with(site.path(), {
        let mut s = common::settings(site.path());
        s.body_limit = 2048;
        s
    });
    let long = "x".repeat(4096);
    let r = post_form(&state, "/forms/kontakt", &contact(&ts, &long)).await;
    assert_eq!(r.status, 413);
}

#[tokio::test]
async fn membership_calculator_uses_the_same_rules() {
    let site = site_dir();
    let state = state(site.path());
    let r = get(&state, "/forms/mitgliedschaft/rechner?beschaeftigte=750").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("4.000,00"), "{}", r.body);
    assert!(r.body.contains("8.000,00"));
    let req = Request::get("/forms/mitgliedschaft/rechner?beschaeftigte=2.400")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let j = send(&state, req).await.json();
    assert_eq!(j["shares"], 6);
    assert_eq!(j["deposit"], 600_000);
    let r = get(&state, "/forms/mitgliedschaft/rechner?beschaeftigte=viele").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("ganze Zahl"));
    assert_eq!(get(&state, "/forms/gibtsnicht").await.status, 404);
}

#[tokio::test]
async fn start_returns_router_and_a_worker_that_shuts_down() {
    let site = site_dir();
    let (router, worker) = campus_forms::start(site.path()).await.unwrap();
    let res = tower::ServiceExt::oneshot(
        router,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["mailversand"]["status"], "laeuft", "{health}");
    tokio::time::timeout(Duration::from_secs(5), worker.shutdown())
        .await
        .expect("worker stops promptly");
    assert!(site.path().join("var/campus.db").exists());
}

#[tokio::test]
async fn cors_only_for_allowed_origins() {
    let site = site_dir();
    let state = state(site.path());
    let preflight = |origin: &'static str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/forms/newsletter")
            .header(header::ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let ok = send(&state, preflight(BASE)).await;
    assert_eq!(ok.status, 204);
    assert_eq!(ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], BASE);
    let bad = send(&state, preflight("https://evil.example")).await;
    assert_eq!(bad.status, 403);
    assert!(!bad
        .headers
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    let req = Request::get("/forms/token")
        .header(header::ORIGIN, BASE)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&state, req).await.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        BASE
    );
    let req = Request::get("/forms/token")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    assert!(!send(&state, req)
        .await
        .headers
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn registration_double_opt_in_records_proof_without_raw_ip() {
    let site = site_dir();
    let state = state(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &registration(&ts, "neu@beispiel.example"),
    )
    .await;
    assert_eq!(r.status, 303);
    let raw = state
        .store
        .raw_message(state.store.outbox().unwrap()[0].id)
        .unwrap();
    let path = link_in(&raw, "https://campus.example/forms/bestaetigen/")
        .trim_start_matches(BASE)
        .to_string();
    let consent = &state.store.consents("neu@beispiel.example").unwrap()[0];
    assert_eq!(consent.confirmed_at, None);
    let mut req = Request::post(path.as_str())
        .header(header::ORIGIN, BASE)
        .header(header::USER_AGENT, "Testbrowser/1.0")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "198.51.100.9:1234".parse::<std::net::SocketAddr>().unwrap(),
    ));
    assert_eq!(send(&state, req).await.status, 303);
    let consent = &state.store.consents("neu@beispiel.example").unwrap()[0];
    assert_eq!(consent.purpose, "registrierung");
    assert_eq!(
        consent.text_version,
        campus_forms::workflow::CONSENT_VERSION
    );
    assert!(consent.confirmed_at.is_some());
    assert_eq!(
        consent.confirm_user_agent.as_deref(),
        Some("Testbrowser/1.0")
    );
    assert_eq!(consent.given_ip_hash, state.signer.ip_hash(CLIENT_IP));
    assert_eq!(
        consent.confirm_ip_hash.as_deref(),
        Some(state.signer.ip_hash("198.51.100.9").as_str())
    );
    assert_eq!(
        state.store.export("registrierung").unwrap()[0].status,
        "bestaetigt"
    );
    let kinds: Vec<String> = state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        ["registrierung-bestaetigen", "registrierung-willkommen"]
    );

    // Registering again: same answer, a notice instead of a new link.
    let again = post_form(
        &state,
        "/forms/registrierung",
        &registration(&ts, "neu@beispiel.example"),
    )
    .await;
    assert_eq!(
        (again.status, again.location.clone()),
        (r.status, r.location.clone())
    );
    assert_eq!(
        state.store.outbox().unwrap().last().unwrap().kind,
        "registrierung-bekannt"
    );

    // Neither address appears in the database files in raw form (the
    // SQLite file; on PostgreSQL the files are the server's).
    if state.settings.database.file().is_some() {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(site.path().join("var")).unwrap() {
            let p = entry.unwrap().path();
            if p.to_string_lossy().contains("campus.db") {
                bytes.extend(std::fs::read(&p).unwrap());
            }
        }
        assert!(!bytes.is_empty());
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("neu@beispiel.example"),
            "sanity: the scan sees data"
        );
        assert!(!text.contains(CLIENT_IP) && !text.contains("198.51.100.9"));
    }
}

#[tokio::test]
async fn the_per_ip_limit_opens_again_when_its_window_has_passed() {
    let site = site_dir();
    let mut settings = settings_with_manual_clock(site.path());
    settings.per_ip_per_10_min = 2;
    let state = state_with(site.path(), settings);
    async fn newsletter(state: &campus_forms::AppState) -> u16 {
        let ts = ts(state, 5);
        let pairs = [
            ("email", "leser@beispiel.example"),
            ("einwilligung", "ja"),
            ("ts", ts.as_str()),
        ];
        post_form(state, "/forms/newsletter", &pairs).await.status
    }
    assert_eq!(newsletter(&state).await, 303);
    assert_eq!(newsletter(&state).await, 303);
    assert_eq!(newsletter(&state).await, 429);
    // Just before the window ends the oldest hits still count.
    state.settings.clock.advance(Duration::from_secs(599));
    assert_eq!(newsletter(&state).await, 429);
    state.settings.clock.advance(Duration::from_secs(1));
    assert_eq!(newsletter(&state).await, 303);
}

#[tokio::test]
async fn retention_deletes_at_the_end_of_its_period_by_the_backends_clock() {
    let site = site_dir();
    let mut settings = settings_with_manual_clock(site.path());
    settings.retention_days.insert("kontakt".into(), 30);
    let state = state_with(site.path(), settings);
    let t = ts(&state, 5);
    let r = post_form(&state, "/forms/kontakt", &contact(&t, "Karl Kontakt")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = post_form(
        &state,
        "/forms/registrierung",
        &registration(&t, "offen@beispiel.example"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 2);
    let purge = || campus_forms::ops::purge(&state.store, &state.settings).unwrap();
    // Within the confirmation time nothing goes.
    assert_eq!(purge(), campus_forms::store::PurgeReport::default());
    // The unconfirmed registration goes once its link has expired.
    state
        .settings
        .clock
        .advance(state.settings.confirm_valid + Duration::from_secs(1));
    let report = purge();
    assert_eq!(
        (report.submissions, report.unconfirmed),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 1);
    // The contact request stays 30 days, then goes.
    let elapsed = state.settings.confirm_valid + Duration::from_secs(1);
    let thirty_days = Duration::from_secs(30 * 86_400);
    state.settings.clock.advance(thirty_days - elapsed);
    assert_eq!(purge().submissions, 0, "exactly 30 days old");
    state.settings.clock.advance(Duration::from_secs(1));
    assert_eq!(purge().submissions, 1);
    assert_eq!(state.store.count(Table::Submissions).unwrap(), 0);
}

/// A key rotation keeps links in mails already sent working: the old key
/// moves to `fruehere_signaturschluessel` and still verifies.
#[tokio::test]
async fn an_unsubscribe_link_signed_before_a_key_rotation_still_works() {
    let site = site_dir();
    let with_keys = |current: &str, previous: &[&str]| {
        let mut s = settings(site.path());
        s.signing_key = Some(campus_forms::config::Secret(current.into()));
        s.previous_signing_keys = previous
            .iter()
            .map(|k| campus_forms::config::Secret(k.to_string()))
            .collect();
        state_with(site.path(), s)
    };
    let before = with_keys("schluessel-2026", &[]);
    let link = campus_forms::workflow::unsubscribe_url(&before.signer, "", "eva@gemeinde.example");
    assert!(get(&before, &link)
        .await
        .body
        .contains("Möchten Sie den Newsletter"));

    let rotated = with_keys("schluessel-2027", &["schluessel-2026"]);
    let page = get(&rotated, &link).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Möchten Sie den Newsletter"),
        "{}",
        page.body
    );

    let retired = with_keys("schluessel-2027", &[]);
    assert!(get(&retired, &link)
        .await
        .body
        .contains("Dieser Link ist nicht gültig"));
}
