//! After the live date: attendance in the back-office (form and CSV import,
//! all or nothing, audited), the evaluation link (once, after the follow-up
//! module opens, only to attended bookings), the anonymous evaluation with
//! its aggregated office view, the certificate PDF read back with pdftotext,
//! pdfinfo and qpdf, the verification page, and the course certificate.

use crate::common::*;
use crate::verwaltung::{csrf_of, post_with, OFFICE};
use axum::body::Body;
use axum::http::{header, Request};
use campus_forms::booking::{Actor, BookingState};
use campus_forms::clock::Clock;
use campus_forms::config::Secret;
use campus_forms::store::{BookingFilter, BookingRow};
use campus_forms::AppState;
use std::time::Duration;
use tower::ServiceExt;

const DAY: u64 = 86_400;

pub(crate) const QUESTIONS: &str = "\
- id: gesamt
  frage: Wie zufrieden sind Sie insgesamt?
  art: skala
  pflicht: true
  skala_von: gar nicht
  skala_bis: sehr
- id: umfang
  frage: Wie war der Zeitaufwand?
  art: auswahl
  optionen: [zu gering, passend, zu hoch]
- id: anregungen
  frage: Was sollen wir verbessern?
  art: text
";

/// Unix seconds of 09:00 Berlin time (winter, UTC+1) on `iso`.
fn morning(iso: &str) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap();
    d.and_hms_opt(8, 0, 0).unwrap().and_utc().timestamp()
}

/// The fixture with evaluation questions, a second hybrid unit and a
/// course of both; a state whose manual clock stands at 1 March 2027.
fn open() -> (tempfile::TempDir, AppState, Clock) {
    let site = site_dir();
    let root = site.path();
    std::fs::write(root.join("data/bewertung.yaml"), QUESTIONS).unwrap();
    let one = std::fs::read_to_string(root.join("content/einheiten/hybrid-eins.md")).unwrap();
    std::fs::write(
        root.join("content/einheiten/hybrid-zwei.md"),
        one.replace("titel: Hybrid Eins", "titel: Hybrid Zwei")
            .replace("aufwand_stunden: 8", "aufwand_stunden: 6"),
    )
    .unwrap();
    std::fs::write(
        root.join("content/kurse/live-kurs.md"),
        "---\ntitel: Live-Kurs\nkurzbeschreibung: Zwei Live-Einheiten.\neinheiten:\n  - einheit: hybrid-eins\n    art: pflicht\n  - einheit: hybrid-zwei\n    art: wahlpflicht\n  - einheit: selbstlernen\n    art: wahlpflicht\nwahlpflicht_anzahl: 1\nzertifikat: Zertifikat Live\n---\nKurs.\n",
    )
    .unwrap();
    let clock = Clock::manual_at(morning("2027-03-01"));
    let mut s = settings(root);
    s.per_ip_per_10_min = 1000;
    s.signing_key = Some(Secret("bescheinigung-test".into()));
    s.clock = clock.clone();
    let state = state_with(root, s);
    (site, state, clock)
}

async fn get_with(state: &AppState, path: &str, cookie: Option<&str>) -> Reply {
    crate::verwaltung::get_with(state, axum::http::Method::GET, path, cookie).await
}

/// The office logged in through its mail link.
async fn log_in(state: &AppState) -> String {
    crate::verwaltung::log_in(state, OFFICE).await
}

fn mails(state: &AppState, kind: &str, to: &str) -> Vec<Vec<u8>> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == kind && m.recipient == to)
        .map(|m| state.store.raw_message(m.id).unwrap())
        .collect()
}

/// A booking of `unit` on `date` by `email`, confirmed by mail and approved
/// by the office: a place on the live date.
async fn confirmed(
    state: &AppState,
    unit: &str,
    date: &str,
    name: &str,
    email: &str,
) -> BookingRow {
    let ts = ts(state, 5);
    let r = post_form(
        state,
        "/forms/buchung",
        &[
            ("einheit", unit),
            ("termin", date),
            ("name", name),
            ("email", email),
            ("kommune", "nichtmitglied"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let raw = mails(state, "buchung-bestaetigen", email).pop().unwrap();
    let link = path_of(&link_in(
        &raw,
        &format!("{}/forms/buchung/bestaetigen/", state.loaded().backend_url),
    ));
    assert_eq!(post_with(state, &link, None, &[]).await.status, 303);
    let b = booking_of(state, email, unit);
    campus_forms::booking::with_env(state, "", |env| {
        campus_forms::booking::decide_by_id(env, b.id, true, &Actor::Office("test".into()))
    })
    .unwrap();
    let b = booking_of(state, email, unit);
    assert_eq!(b.state, BookingState::Confirmed, "{b:?}");
    b
}

fn booking_of(state: &AppState, email: &str, unit: &str) -> BookingRow {
    state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .into_iter()
        .find(|b| b.email == email && b.unit_id == unit)
        .unwrap()
}

fn advance_to(clock: &Clock, iso: &str) {
    let target = morning(iso);
    let now = clock.now();
    assert!(target >= now);
    clock.advance(Duration::from_secs((target - now) as u64));
}

const DATE_PAGE: &str = "/verwaltung/termine/hybrid-eins/2027-03-10";

#[tokio::test]
async fn attendance_is_recorded_from_the_day_on_with_csrf_and_the_office_account() {
    let (_site, state, clock) = open();
    let a = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Anna Anwesend",
        "anna@x.example",
    )
    .await;
    let b = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Bodo Fehlt",
        "bodo@x.example",
    )
    .await;
    let cookie = log_in(&state).await;
    let page = get_with(&state, DATE_PAGE, Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("ab dem Tag des Termins erfasst"),
        "{}",
        page.body
    );
    let csrf = csrf_of(&page.body);
    let (ka, kb) = (format!("b-{}", a.id), format!("b-{}", b.id));
    let action = format!("{DATE_PAGE}/anwesenheit");
    // Before the date: refused, nothing stored.
    let r = post_with(
        &state,
        &action,
        Some(&cookie),
        &[("csrf", &csrf), (&ka, "teilgenommen")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("erst ab dem Tag des Termins"), "{}", r.body);
    assert!(state.store.attendance_events(a.id).unwrap().is_empty());

    advance_to(&clock, "2027-03-10");
    // (The session of nine days ago has ended: log in again.)
    let cookie = log_in(&state).await;
    let page = get_with(&state, DATE_PAGE, Some(&cookie)).await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.body);
    assert!(
        page.body
            .contains(&format!("name=\"{ka}\" value=\"teilgenommen\"")),
        "{}",
        page.body
    );
    // Without the session's token: 403 and nothing stored.
    let r = post_with(
        &state,
        &action,
        Some(&cookie),
        &[("csrf", "falsch"), (&ka, "teilgenommen")],
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(state.store.attendance_events(a.id).unwrap().is_empty());
    // A booking of another date is refused with its number.
    let r = post_with(
        &state,
        &action,
        Some(&cookie),
        &[("csrf", &csrf), ("b-99999", "teilgenommen")],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("B-99999 ist keine bestätigte Buchung"),
        "{}",
        r.body
    );

    let r = post_with(
        &state,
        &action,
        Some(&cookie),
        &[
            ("csrf", &csrf),
            (&ka, "teilgenommen"),
            (&kb, "nicht-erschienen"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let events = state.store.attendance_events(a.id).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1, format!("geschaeftsstelle:{OFFICE}"));
    assert_eq!(
        (events[0].2.as_str(), events[0].3.as_str()),
        ("teilgenommen", "verwaltung")
    );
    // The same again is no new event; a correction is one.
    post_with(
        &state,
        &action,
        Some(&cookie),
        &[("csrf", &csrf), (&ka, "teilgenommen")],
    )
    .await;
    assert_eq!(state.store.attendance_events(a.id).unwrap().len(), 1);
    post_with(
        &state,
        &action,
        Some(&cookie),
        &[("csrf", &csrf), (&kb, "teilgenommen")],
    )
    .await;
    let eb = state.store.attendance_events(b.id).unwrap();
    assert_eq!(
        eb.iter().map(|e| e.2.as_str()).collect::<Vec<_>>(),
        ["nicht-erschienen", "teilgenommen"]
    );
    let page = get_with(&state, DATE_PAGE, Some(&cookie)).await;
    assert!(
        page.body
            .contains("Anna Anwesend, anna@x.example – teilgenommen"),
        "{}",
        page.body
    );
    // The overview of past dates (the start page lists only coming ones).
    let past = get_with(&state, "/verwaltung/anwesenheit/", Some(&cookie)).await;
    assert_eq!(past.status, 200, "{}", past.body);
    let row = past
        .body
        .split("<tr>")
        .find(|r| r.contains(&format!("href=\"{DATE_PAGE}\"")))
        .expect("the date in the overview");
    assert!(
        // Pages keep a date on one line (no-break spaces).
        row.contains("Mittwoch, 10.\u{a0}März\u{a0}2027") && row.contains("Hybrid Eins"),
        "{row}"
    );
    assert!(
        row.contains("<td class=\"zahl\">2</td><td class=\"zahl\">2</td><td class=\"zahl\">2</td>"),
        "{row}"
    );
}

#[tokio::test]
async fn the_csv_import_names_every_bad_line_and_takes_all_or_nothing() {
    let (_site, state, clock) = open();
    let a = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Anna Anwesend",
        "anna@x.example",
    )
    .await;
    let b = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Bodo Fehlt",
        "bodo@x.example",
    )
    .await;
    advance_to(&clock, "2027-03-11");
    let cookie = log_in(&state).await;
    let page = get_with(&state, "/verwaltung/anwesenheit/import", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    let bad = "lerneinheit;termin;email;teilnahme\n\
               hybrid-eins;2027-03-10;ANNA@x.example;teilgenommen\n\
               hybrid-eins;10.03.2027;niemand@x.example;teilgenommen\n\
               gibt-es-nicht;2027-03-10;bodo@x.example;nein\n\
               hybrid-eins;2027-03-10;bodo@x.example;vielleicht\n";
    let r = post_with(
        &state,
        "/verwaltung/anwesenheit/import",
        Some(&cookie),
        &[("csrf", &csrf), ("csv", bad)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Zeile 5:"), "{}", r.body);
    assert!(r.body.contains("„vielleicht“"), "{}", r.body);
    // Line errors of the syntax come first; the file is kept in the field.
    assert!(
        r.body.contains("hybrid-eins;10.03.2027;niemand@x.example"),
        "{}",
        r.body
    );
    assert!(state.store.attendance_events(a.id).unwrap().is_empty());
    let bad2 = "lerneinheit;termin;email;teilnahme\n\
                hybrid-eins;2027-03-10;ANNA@x.example;teilgenommen\n\
                hybrid-eins;10.03.2027;niemand@x.example;teilgenommen\n\
                gibt-es-nicht;2027-03-10;bodo@x.example;nein\n";
    let r = post_with(
        &state,
        "/verwaltung/anwesenheit/import",
        Some(&cookie),
        &[("csrf", &csrf), ("csv", bad2)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body
            .contains("Zeile 3: Keine bestätigte Buchung von niemand@x.example"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Zeile 4: Unbekannte Lerneinheit „gibt-es-nicht“"),
        "{}",
        r.body
    );
    assert!(
        state.store.attendance_events(a.id).unwrap().is_empty(),
        "nothing taken"
    );

    let good = "email,teilnahme,lerneinheit,termin\nANNA@x.example,teilgenommen,hybrid-eins,2027-03-10\nbodo@x.example,nicht erschienen,hybrid-eins,10.03.2027\n";
    let r = post_with(
        &state,
        "/verwaltung/anwesenheit/import",
        Some(&cookie),
        &[("csrf", &csrf), ("csv", good)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ea = state.store.attendance_events(a.id).unwrap();
    assert_eq!(
        (ea[0].2.as_str(), ea[0].3.as_str()),
        ("teilgenommen", "import")
    );
    assert_eq!(ea[0].1, format!("geschaeftsstelle:{OFFICE}"));
    assert_eq!(
        state.store.attendance_events(b.id).unwrap()[0].2,
        "nicht-erschienen"
    );
}

async fn record(state: &AppState, marks: &[(&BookingRow, campus_forms::attendance::Attendance)]) {
    let marks: Vec<_> = marks
        .iter()
        .map(|(b, s)| campus_forms::attendance::Mark {
            booking_id: b.id,
            status: *s,
        })
        .collect();
    campus_forms::attendance::record(state, &marks, &Actor::Office("test".into()), "verwaltung")
        .unwrap();
}

#[tokio::test]
async fn the_evaluation_link_goes_once_when_the_follow_up_opens_and_only_to_attendees() {
    use campus_forms::attendance::Attendance::*;
    let (_site, state, clock) = open();
    let a = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Anna Anwesend",
        "anna@x.example",
    )
    .await;
    let b = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Bodo Fehlt",
        "bodo@x.example",
    )
    .await;
    advance_to(&clock, "2027-03-10");
    record(&state, &[(&a, Attended), (&b, NoShow)]).await;
    advance_to(&clock, "2027-03-23");
    assert_eq!(
        campus_forms::evaluation::send_due_invites(&state).unwrap(),
        0,
        "13 days after"
    );
    clock.advance(Duration::from_secs(DAY));
    assert_eq!(
        campus_forms::evaluation::send_due_invites(&state).unwrap(),
        1
    );
    assert_eq!(
        campus_forms::evaluation::send_due_invites(&state).unwrap(),
        0,
        "once"
    );
    assert_eq!(
        mails(&state, "bewertung-einladung", "anna@x.example").len(),
        1
    );
    assert!(mails(&state, "bewertung-einladung", "bodo@x.example").is_empty());
    // The no-show's link (forged from the booking id) opens nothing.
    let forged = state
        .signer
        .sign(campus_forms::sign::Purpose::Evaluation, &b.id.to_string());
    let r = get(&state, &format!("/bewertung/{forged}")).await;
    assert_eq!(r.status, 410, "{}", r.body);
}

/// The evaluation link of `b` (from its mail).
fn evaluation_path(state: &AppState, email: &str) -> String {
    let raw = mails(state, "bewertung-einladung", email)
        .pop()
        .expect("an evaluation mail");
    path_of(&link_in(
        &raw,
        &format!("{}/bewertung/", state.loaded().backend_url),
    ))
}

async fn get_bytes(state: &AppState, path: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let res = campus_forms::app(state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 10_000_000)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} not runnable (apt-get install poppler-utils qpdf): {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn the_evaluation_is_anonymous_and_once_and_gives_a_pdf_that_checks_out() {
    use campus_forms::attendance::Attendance::*;
    let (site, state, clock) = open();
    let a = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Anna Anwesend",
        "anna@x.example",
    )
    .await;
    advance_to(&clock, "2027-03-10");
    record(&state, &[(&a, Attended)]).await;
    advance_to(&clock, "2027-03-24");
    campus_forms::evaluation::send_due_invites(&state).unwrap();
    let link = evaluation_path(&state, "anna@x.example");

    let form = get(&state, &link).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("Wie zufrieden sind Sie insgesamt?"),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains("type=\"radio\" id=\"bewertung-q-gesamt\""),
        "{}",
        form.body
    );
    // GET changes nothing: still no certificate, the form still open.
    assert!(state
        .store
        .certificates_of("anna@x.example")
        .unwrap()
        .is_empty());

    // The required question missing: the form again with the message and the
    // typed text kept, nothing stored.
    let r = post_with(
        &state,
        &link,
        None,
        &[("q-umfang", "passend"), ("q-anregungen", "Mehr Pausen")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("href=\"#bewertung-q-gesamt\">Bitte beantworten Sie die Frage „Wie zufrieden sind Sie insgesamt?“"), "{}", r.body);
    assert!(r.body.contains(">Mehr Pausen</textarea>"), "{}", r.body);
    assert!(r.body.contains("value=\"passend\" checked"), "{}", r.body);
    assert!(state
        .store
        .evaluations("hybrid-eins", "2027-03-10")
        .unwrap()
        .is_empty());
    let r = post_with(&state, &link, None, &[("q-gesamt", "9")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("einen Wert von 1 bis 5"), "{}", r.body);

    let r = post_with(
        &state,
        &link,
        None,
        &[
            ("q-gesamt", "4"),
            ("q-umfang", "passend"),
            ("q-anregungen", "Mehr Pausen"),
            ("teilen", "ja"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Vielen Dank für Ihre Bewertung"),
        "{}",
        r.body
    );
    // Once per attendance: a second post stores nothing more.
    let again = post_with(&state, &link, None, &[("q-gesamt", "1")]).await;
    assert_eq!(again.status, 200);
    let stored = state
        .store
        .evaluations("hybrid-eins", "2027-03-10")
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].answers["gesamt"], 4);
    // The answers' row holds nothing of the person: no booking, name, address, time.
    if let campus_forms::store::Location::File(db) = state.settings.database.clone() {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('evaluation_answers')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            columns,
            ["id", "unit_id", "live_date", "answers", "share_text"]
        );
    }
    let row: String = state
        .store
        .read(|tx| {
            tx.query_row(
                "SELECT id || unit_id || live_date || answers FROM evaluation_answers",
                &[],
                |r| r.get(0),
            )
        })
        .unwrap();
    for personal in ["anna", "Anna", &a.id.to_string()] {
        assert!(
            !row.contains(&format!("\"{personal}\"")) && !row.contains("x.example"),
            "{row}"
        );
    }

    // The certificate: its link on the thank-you page, a PDF with the facts.
    let certs = state.store.certificates_of("anna@x.example").unwrap();
    assert_eq!(certs.len(), 1, "{certs:?}");
    let number = certs[0].number.clone();
    let download = r
        .body
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|h| h.contains("/bescheinigung/") && !h.contains("pruefen"))
        .expect("a download link");
    let (status, headers, pdf) = get_bytes(&state, &path_of(download)).await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let file = site.path().join("b.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let f = file.to_str().unwrap();
    let (ok, text) = run("pdftotext", &["-layout", f, "-"]);
    assert!(ok, "{text}");
    for fact in [
        "Teilnahmebescheinigung",
        "Anna Anwesend",
        "Hybrid Eins",
        "Mittwoch, 10. März 2027",
        "Zeitaufwand: 8 Stunden",
        &number,
        &format!("/bescheinigung/pruefen/{number}"),
        "Testcampus eG",
    ] {
        assert!(text.contains(fact), "{fact} missing in:\n{text}");
    }
    let (ok, check) = run("qpdf", &["--check", f]);
    assert!(ok, "{check}");
    assert!(
        check.contains("No syntax or stream encoding errors"),
        "{check}"
    );
    let (ok, info) = run("pdfinfo", &[f]);
    assert!(ok, "{info}");
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(field("Tagged:"), "yes", "{info}");
    assert_eq!(
        field("Title:"),
        "Teilnahmebescheinigung: Hybrid Eins",
        "{info}"
    );
    let (_, fonts) = run("pdffonts", &[f]);
    assert!(
        fonts.contains("DejaVuSans") && fonts.contains(" yes yes "),
        "embedded subset: {fonts}"
    );
    let raw = String::from_utf8_lossy(&pdf);
    assert!(
        raw.contains("/Lang (de-DE)") || raw.contains("de-DE"),
        "no language"
    );
    assert!(
        raw.contains("pdfaid:part") || raw.contains("pdfaid"),
        "no PDF/A id"
    );

    // The link again later shows the certificates, not the form.
    let later = get(&state, &link).await;
    assert!(
        later.body.contains("Vielen Dank") && later.body.contains(&number),
        "{}",
        later.body
    );

    // Verification: sloppy typing is fine, other numbers are not found.
    let sloppy = number.to_lowercase().replace('-', " ");
    let ok_page = get(
        &state,
        &format!("/bescheinigung/pruefen/?nummer={}", urlencode_one(&sloppy)),
    )
    .await;
    assert_eq!(ok_page.status, 200, "{}", ok_page.body);
    for fact in [
        "Bescheinigung gültig",
        "Anna Anwesend",
        "Hybrid Eins",
        "8 Stunden",
        "Dr. Test",
    ] {
        assert!(ok_page.body.contains(fact), "{fact}: {}", ok_page.body);
    }
    let r = get(&state, &format!("/bescheinigung/pruefen/{number}")).await;
    assert_eq!(r.status, 200);
    let r = get(&state, "/bescheinigung/pruefen/KC-0000-0000-0000").await;
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("Bescheinigung nicht gefunden"),
        "{}",
        r.body
    );
    // A forged download link is not found.
    let (status, _, _) = get_bytes(&state, &format!("/bescheinigung/{}", number)).await;
    assert_eq!(status, 404);
}

fn urlencode_one(s: &str) -> String {
    urlencode(&[("x", s)]).trim_start_matches("x=").to_string()
}

#[tokio::test]
async fn the_office_sees_counts_and_averages_and_only_shared_free_text() {
    use campus_forms::attendance::Attendance::*;
    let (_site, state, clock) = open();
    let people = [
        ("Anna A", "anna@x.example"),
        ("Bert B", "bert@x.example"),
        ("Cora C", "cora@x.example"),
    ];
    let mut rows = Vec::new();
    for (name, email) in people {
        rows.push(confirmed(&state, "hybrid-eins", "2027-03-10", name, email).await);
    }
    advance_to(&clock, "2027-03-10");
    record(
        &state,
        &rows.iter().map(|b| (b, Attended)).collect::<Vec<_>>(),
    )
    .await;
    advance_to(&clock, "2027-03-24");
    assert_eq!(
        campus_forms::evaluation::send_due_invites(&state).unwrap(),
        3
    );
    for ((_, email), (score, text, share)) in people.iter().zip([
        ("5", "Gern mehr davon", "ja"),
        ("4", "Geheimer Hinweis", ""),
        ("2", "", "ja"),
    ]) {
        let link = evaluation_path(&state, email);
        let r = post_with(
            &state,
            &link,
            None,
            &[
                ("q-gesamt", score),
                ("q-umfang", "passend"),
                ("q-anregungen", text),
                ("teilen", share),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let cookie = log_in(&state).await;
    let page = get_with(
        &state,
        "/verwaltung/bewertungen/hybrid-eins/2027-03-10",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("3 Bewertungen von 3 Teilnehmenden"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("3 Antworten, Durchschnitt 3,7"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<td>passend</td><td>3</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Gern mehr davon"), "{}", page.body);
    assert!(
        !page.body.contains("Geheimer Hinweis"),
        "not shared: {}",
        page.body
    );
    assert!(
        page.body.contains("1 Antworten ohne Zustimmung"),
        "{}",
        page.body
    );
    // Nobody without a session sees it.
    let r = get_with(
        &state,
        "/verwaltung/bewertungen/hybrid-eins/2027-03-10",
        None,
    )
    .await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn a_course_certificate_needs_every_pflicht_and_enough_wahlpflicht_units() {
    use campus_forms::attendance::Attendance::*;
    let (_site, state, clock) = open();
    let one = confirmed(
        &state,
        "hybrid-zwei",
        "2027-03-10",
        "Anna Anwesend",
        "anna@x.example",
    )
    .await;
    advance_to(&clock, "2027-03-10");
    record(&state, &[(&one, Attended)]).await;
    advance_to(&clock, "2027-03-24");
    campus_forms::evaluation::send_due_invites(&state).unwrap();
    let link = evaluation_path(&state, "anna@x.example");
    let r = post_with(&state, &link, None, &[("q-gesamt", "5")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Only the Wahlpflicht unit: no course certificate yet.
    let certs = state.store.certificates_of("anna@x.example").unwrap();
    assert_eq!(certs.len(), 1, "{certs:?}");
    assert!(!r.body.contains("Kursbescheinigung"), "{}", r.body);

    // The Pflicht unit, attended on an earlier date and recorded only now:
    // its link goes out with the recording, without waiting for the ticker.
    let two = booking_for_pflicht(&state).await;
    record(&state, &[(&two, Attended)]).await;
    let raw = mails(&state, "bewertung-einladung", "anna@x.example");
    assert_eq!(raw.len(), 2);
    let link = path_of(&link_in(
        raw.last().unwrap(),
        &format!("{}/bewertung/", state.loaded().backend_url),
    ));
    let r = post_with(&state, &link, None, &[("q-gesamt", "4")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Kursbescheinigung „Live-Kurs“"),
        "{}",
        r.body
    );
    let certs = state.store.certificates_of("anna@x.example").unwrap();
    let course: Vec<_> = certs.iter().filter(|c| c.course_id.is_some()).collect();
    assert_eq!(course.len(), 1, "{certs:?}");
    assert_eq!(
        course[0].units, "Hybrid Eins\nHybrid Zwei",
        "in the course's order"
    );
    assert_eq!(course[0].workload_tenths, 140);
    let page = get(
        &state,
        &format!("/bescheinigung/pruefen/{}", course[0].number),
    )
    .await;
    assert!(
        page.body.contains("Kursbescheinigung") && page.body.contains("Live-Kurs"),
        "{}",
        page.body
    );
}

/// A confirmed, past booking of the Pflicht unit for Anna, written as the
/// booking steps would have left it (the clock is past its date already).
async fn booking_for_pflicht(state: &AppState) -> BookingRow {
    let now = state.settings.clock.now();
    state
        .store
        .write(|tx| {
            let b = tx.insert_booking(&campus_forms::store::NewBooking {
                kind: campus_forms::booking::BookingKind::Booking,
                unit_id: "hybrid-eins",
                unit_title: "Hybrid Eins",
                wanted: "2027-02-10",
                name: "Anna Anwesend",
                email: "anna@x.example",
                authority_id: "nichtmitglied",
                member: false,
                price_cents: 0,
                approver: campus_forms::booking::Approver::NotNeeded,
                approver_email: "",
                state: BookingState::Waiting,
                consent_id: None,
                ip_hash: "h",
                actor: &Actor::Participant,
                now,
            })?;
            let b = tx
                .move_to(
                    b.id,
                    BookingState::Waiting,
                    BookingState::Confirmed,
                    &Actor::Office("test".into()),
                    campus_forms::store::Change::at(now).live_date(Some("2027-02-10")),
                )
                .map_err(|e| match e {
                    campus_forms::store::MoveError::Store(s) => s,
                    other => panic!("{other}"),
                })?;
            Ok::<_, campus_forms::store::StoreError>(b)
        })
        .unwrap()
}

/// An enrolment in an on-demand unit, as the enrolment step leaves it.
fn enrolled(state: &AppState, unit: &str, title: &str, name: &str, email: &str) -> BookingRow {
    let now = state.settings.clock.now();
    state
        .store
        .write(|tx| {
            tx.insert_booking(&campus_forms::store::NewBooking {
                kind: campus_forms::booking::BookingKind::Enrolment,
                unit_id: unit,
                unit_title: title,
                wanted: "",
                name,
                email,
                authority_id: "nichtmitglied",
                member: false,
                price_cents: 0,
                approver: campus_forms::booking::Approver::NotNeeded,
                approver_email: "",
                state: BookingState::Enrolled,
                consent_id: None,
                ip_hash: "h",
                actor: &Actor::Participant,
                now,
            })
        })
        .unwrap()
}

#[tokio::test]
async fn an_on_demand_unit_completed_on_the_platform_completes_the_course_by_mail() {
    use campus_forms::attendance::Attendance::*;
    let (site, state, clock) = open();
    // testkurs: hybrid-eins (Pflicht), selbstlernen and kostenlos-starten
    // (Wahlpflicht, one needed); live-kurs also counts selbstlernen.
    let live = confirmed(
        &state,
        "hybrid-eins",
        "2027-03-10",
        "Anna Anwesend",
        "anna@x.example",
    )
    .await;
    enrolled(
        &state,
        "selbstlernen",
        "Selbstlernen",
        "Anna Anwesend",
        "anna@x.example",
    );
    advance_to(&clock, "2027-03-11");
    record(&state, &[(&live, Attended)]).await;
    assert!(state
        .store
        .certificates_of("anna@x.example")
        .unwrap()
        .is_empty());
    assert!(mails(&state, "kurs-bescheinigung", "anna@x.example").is_empty());

    let cookie = log_in(&state).await;
    let page = get_with(&state, "/verwaltung/anwesenheit/import", Some(&cookie)).await;
    let csrf = csrf_of(&page.body);
    let bad = "lerneinheit;termin;email;teilnahme\nselbstlernen;2027-03-10;anna@x.example;ja\nhybrid-eins;;anna@x.example;ja\nkostenlos-starten;;anna@x.example;ja\n";
    let r = post_with(
        &state,
        "/verwaltung/anwesenheit/import",
        Some(&cookie),
        &[("csrf", &csrf), ("csv", bad)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains(
            "Zeile 2: „Selbstlernen“ ist eine On-Demand-Lerneinheit: Termin bitte leer lassen."
        ),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Zeile 3: Bei „Hybrid Eins“ fehlt der Termin"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Zeile 4: anna@x.example ist nicht in"),
        "{}",
        r.body
    );
    assert!(
        state
            .store
            .certificates_of("anna@x.example")
            .unwrap()
            .is_empty(),
        "nothing taken"
    );

    let good = "lerneinheit;termin;email;teilnahme\nselbstlernen;;ANNA@x.example;teilgenommen\n";
    let r = post_with(
        &state,
        "/verwaltung/anwesenheit/import",
        Some(&cookie),
        &[("csrf", &csrf), ("csv", good)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let courses: Vec<String> = state
        .store
        .certificates_of("anna@x.example")
        .unwrap()
        .into_iter()
        .filter_map(|c| c.course_id)
        .collect();
    assert_eq!(courses.len(), 2, "{courses:?}");
    assert!(
        courses.contains(&"testkurs".to_string()) && courses.contains(&"live-kurs".to_string())
    );
    let sent = mails(&state, "kurs-bescheinigung", "anna@x.example");
    assert_eq!(sent.len(), 2, "one mail per course certificate");
    // The same import again: no new certificate, no new mail.
    post_with(
        &state,
        "/verwaltung/anwesenheit/import",
        Some(&cookie),
        &[("csrf", &csrf), ("csv", good)],
    )
    .await;
    assert_eq!(
        mails(&state, "kurs-bescheinigung", "anna@x.example").len(),
        2
    );

    // The mail's link is the PDF.
    let testkurs = sent
        .iter()
        .find(|raw| String::from_utf8_lossy(raw).contains("Testkurs"))
        .expect("the Testkurs mail");
    let link = path_of(&link_in(
        testkurs,
        &format!("{}/bescheinigung/", state.loaded().backend_url),
    ));
    let (status, headers, pdf) = get_bytes(&state, &link).await;
    assert_eq!(status, 200);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    let file = site.path().join("kurs.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let (ok, text) = run("pdftotext", &["-layout", file.to_str().unwrap(), "-"]);
    assert!(ok, "{text}");
    for fact in [
        "Kursbescheinigung",
        "Anna Anwesend",
        "„Testkurs“",
        "– Hybrid Eins",
        "– Selbstlernen",
    ] {
        assert!(text.contains(fact), "{fact} missing in:\n{text}");
    }
}
