//! Booking a course as a whole: one form books all units, one confirmation,
//! one approval for the whole course; a full date puts that unit on the
//! waiting list and the page and the one result mail say so per unit.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Request};
use campus_forms::booking::{self, Actor, BookingState, CourseDecision, Decision};
use campus_forms::config::Secret;
use campus_forms::store::{BookingFilter, BookingRow, CourseState};
use campus_forms::AppState;
use chrono::{Datelike, Duration as Days, NaiveDate};
use mail_parser::MimeHeaders;
use std::path::Path;

fn weekday_in(days: i64) -> NaiveDate {
    let mut d = chrono::Local::now().date_naive() + Days::days(days);
    while d.weekday().number_from_monday() > 5 {
        d += Days::days(1);
    }
    d
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A hybrid unit (199 € for members) with one date (capacity, taken outside).
fn write_unit(site: &Path, id: &str, title: &str, date: NaiveDate, capacity: u32, taken: u32) {
    std::fs::write(
        site.join(format!("content/einheiten/{id}.md")),
        format!(
            "---\ntitel: {title}\nkurzbeschreibung: Test.\nformat: hybrid\nniveau: fachkompetenzen\nthemen: [testthema]\naufwand_stunden: 8\ntermine:\n  - datum: {}\n    plaetze: {capacity}\n    vergeben: {taken}\n---\nText.\n",
            iso(date)
        ),
    )
    .unwrap();
}

/// The site with course `doppelkurs`: two hybrid units `knapp` (date in
/// 40 days, `knapp_free` places left) and `weit` (in 60 days, 10 free),
/// one elective of `selbstlernen` (on-demand, 49 €) and `kostenlos-starten`.
fn course_site(knapp_free: u32) -> (tempfile::TempDir, NaiveDate, NaiveDate) {
    let site = site_dir();
    let (d1, d2) = (weekday_in(40), weekday_in(60));
    write_unit(
        site.path(),
        "knapp",
        "Knappe Einheit",
        d1,
        5,
        5 - knapp_free,
    );
    write_unit(site.path(), "weit", "Weite Einheit", d2, 10, 0);
    std::fs::write(
        site.path().join("content/kurse/doppelkurs.md"),
        "---\ntitel: Doppelkurs\nkurzbeschreibung: Zwei Live-Einheiten und eine Wahl.\neinheiten:\n  - einheit: knapp\n    art: pflicht\n  - einheit: weit\n    art: pflicht\n  - einheit: selbstlernen\n    art: wahlpflicht\n  - einheit: kostenlos-starten\n    art: wahlpflicht\nwahlpflicht_anzahl: 1\nzertifikat: Zertifikat Doppelkurs\n---\nText.\n",
    )
    .unwrap();
    (site, d1, d2)
}

fn open(site: &Path) -> AppState {
    let mut s = settings(site);
    s.per_ip_per_10_min = 100_000;
    s.signing_key = Some(Secret("course-test".into()));
    state_with(site, s)
}

async fn request_course(state: &AppState, email: &str, kommune: &str, knapp: &str) -> Reply {
    let ts = ts(state, 5);
    post_form(
        state,
        "/forms/kurs",
        &[
            ("kurs", "doppelkurs"),
            ("wahl", "selbstlernen"),
            ("termin-knapp", knapp),
            ("termin-weit", "naechster"),
            ("name", "Erika Kurs"),
            ("email", email),
            ("kommune", kommune),
            ("organisation", ""),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await
}

fn mails(state: &AppState, to: &str, kind: &str) -> Vec<Vec<u8>> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to && m.kind == kind)
        .map(|m| state.store.raw_message(m.id).unwrap())
        .collect()
}

fn text_of(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    msg.body_text(0).unwrap().replace("\r\n", "\n")
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

fn link(state: &AppState, to: &str, kind: &str, step: &str) -> String {
    let all = mails(state, to, kind);
    let raw = all
        .last()
        .unwrap_or_else(|| panic!("no {kind} mail to {to}"));
    let base = state.loaded().backend_url.clone();
    path_of(&link_in(raw, &format!("{base}/forms/kurs/{step}/")))
}

async fn post(state: &AppState, path: &str) -> Reply {
    let mut req = Request::post(path)
        .header(header::ORIGIN, BASE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let addr: std::net::SocketAddr = format!("{CLIENT_IP}:50000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    send(state, req).await
}

fn bookings_of(state: &AppState, email: &str) -> Vec<BookingRow> {
    state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .into_iter()
        .filter(|b| b.email == email)
        .collect()
}

fn unit<'a>(all: &'a [BookingRow], id: &str) -> &'a BookingRow {
    all.iter().find(|b| b.unit_id == id).unwrap()
}

/// Request and confirm a course booking; the approver gets one request.
async fn request_and_confirm(state: &AppState, email: &str, kommune: &str, knapp: &str) -> i64 {
    let r = request_course(state, email, kommune, knapp).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let confirm = link(state, email, "kurs-bestaetigen", "bestaetigen");
    let r = post(state, &confirm).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let first = &bookings_of(state, email)[0];
    state.store.course_of_booking(first.id).unwrap().unwrap().id
}

#[tokio::test]
async fn one_request_one_confirmation_one_approval_and_a_full_unit_waits() {
    // `knapp` is full on its date: that unit goes on the waiting list.
    let (site, d1, d2) = course_site(0);
    let state = open(site.path());
    let email = "erika@stadt.example";

    let r = request_course(&state, email, "mitgliedsstadt", &iso(d1)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("Bitte bestätigen Sie Ihre Kursbuchung"),
        "{}",
        r.body
    );
    // 199 + 199 + 49 for members.
    assert!(
        r.body.contains("447,00\u{a0}€ (Summe der Einzelpreise"),
        "{}",
        r.body
    );
    let all = bookings_of(&state, email);
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|b| b.state == BookingState::Unconfirmed));
    assert_eq!(kinds_to(&state, email), ["kurs-bestaetigen"]);
    let text = text_of(&mails(&state, email, "kurs-bestaetigen")[0]);
    assert!(
        text.contains("- Knappe Einheit: Live-Tutorium am"),
        "{text}"
    );
    assert!(
        text.contains("- Weite Einheit: nächster möglicher Termin"),
        "{text}"
    );

    // GET of the confirmation link changes nothing; the POST confirms all.
    let confirm = link(&state, email, "kurs-bestaetigen", "bestaetigen");
    let r = get(&state, &confirm).await;
    assert_eq!(r.status, 200);
    assert!(bookings_of(&state, email)
        .iter()
        .all(|b| b.state == BookingState::Unconfirmed));
    let r = post(&state, &confirm).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("wartet auf Freigabe"), "{}", r.body);
    assert!(bookings_of(&state, email)
        .iter()
        .all(|b| b.state == BookingState::Approval));
    assert_eq!(post(&state, &confirm).await.status, 410);

    // One approval request for the whole course, to the authority's approver.
    let approver = "freigabe@stadt.example";
    assert_eq!(mails(&state, approver, "kurs-freigabe-anfrage").len(), 1);
    assert!(mails(&state, approver, "buchung-freigabe-anfrage").is_empty());
    let approve = link(&state, approver, "kurs-freigabe-anfrage", "freigeben");
    assert_eq!(get(&state, &approve).await.status, 200);
    assert!(bookings_of(&state, email)
        .iter()
        .all(|b| b.state == BookingState::Approval));
    let r = post(&state, &approve).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Warteliste (Platz 1)"), "{}", r.body);
    assert_eq!(post(&state, &approve).await.status, 410);

    let all = bookings_of(&state, email);
    assert_eq!(unit(&all, "knapp").state, BookingState::Waiting);
    assert_eq!(unit(&all, "weit").state, BookingState::Confirmed);
    assert_eq!(
        unit(&all, "weit").live_date.as_deref(),
        Some(iso(d2).as_str())
    );
    assert_eq!(unit(&all, "selbstlernen").state, BookingState::Enrolled);
    assert_eq!(unit(&all, "selbstlernen").price_cents, 4900);

    // One mail says what became of each unit, with the booked date's calendar.
    assert_eq!(
        kinds_to(&state, email),
        ["kurs-bestaetigen", "kurs-in-freigabe", "kurs-ergebnis"]
    );
    let raw = &mails(&state, email, "kurs-ergebnis")[0];
    let text = text_of(raw);
    assert!(
        text.contains("- Knappe Einheit: Warteliste, Platz 1 – am gewünschten Termin ist kein Platz mehr frei"),
        "{text}"
    );
    assert!(
        text.contains("- Weite Einheit: verbindlich gebucht"),
        "{text}"
    );
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let calendars: Vec<String> = msg
        .attachments()
        .filter_map(|a| a.attachment_name().map(String::from))
        .collect();
    assert_eq!(calendars, [format!("weit-{}.ics", iso(d2))]);
    let course = state
        .store
        .course_of_booking(unit(&all, "weit").id)
        .unwrap()
        .unwrap();
    assert_eq!(course.state, CourseState::Approved);
    assert_eq!(course.price_cents, 44_700);
}

#[tokio::test]
async fn the_office_decides_a_course_through_any_of_its_units() {
    let (site, d1, _) = course_site(3);
    let state = open(site.path());
    // A non-member's course goes to the office, at the non-member price.
    let id = request_and_confirm(&state, "max@gemeinde.example", "nichtmitglied", &iso(d1)).await;
    let course = state.store.course_booking(id).unwrap().unwrap();
    assert_eq!(course.state, CourseState::Approval);
    assert_eq!(course.price_cents, 23_880 * 2 + 5_880);
    assert_eq!(
        mails(&state, "info@campus.example", "kurs-freigabe-anfrage").len(),
        1
    );

    // Rejecting one unit in the back-office rejects the whole course.
    let weit = unit(&bookings_of(&state, "max@gemeinde.example"), "weit").id;
    let actor = Actor::Office("jo".into());
    let d = booking::with_env(&state, "", |env| {
        booking::decide_by_id(env, weit, false, &actor)
    })
    .unwrap();
    assert_eq!(d, Decision::Rejected);
    assert!(bookings_of(&state, "max@gemeinde.example")
        .iter()
        .all(|b| b.state == BookingState::Rejected));
    assert_eq!(
        mails(&state, "max@gemeinde.example", "kurs-abgelehnt").len(),
        1
    );
    // The approver's link is void now.
    let approve = link(
        &state,
        "info@campus.example",
        "kurs-freigabe-anfrage",
        "freigeben",
    );
    assert_eq!(post(&state, &approve).await.status, 410);

    // Approving one unit of another course booking approves all of them.
    let id = request_and_confirm(&state, "erika@stadt.example", "mitgliedsstadt", &iso(d1)).await;
    let knapp = unit(&bookings_of(&state, "erika@stadt.example"), "knapp").id;
    let d = booking::with_env(&state, "", |env| {
        booking::decide_by_id(env, knapp, true, &actor)
    })
    .unwrap();
    assert_eq!(d, Decision::Approved(BookingState::Confirmed));
    let all = bookings_of(&state, "erika@stadt.example");
    assert_eq!(unit(&all, "knapp").state, BookingState::Confirmed);
    assert_eq!(unit(&all, "weit").state, BookingState::Confirmed);
    assert_eq!(unit(&all, "selbstlernen").state, BookingState::Enrolled);
    assert_eq!(
        state.store.course_booking(id).unwrap().unwrap().state,
        CourseState::Approved
    );
    // Deciding again changes nothing.
    let again = booking::with_env(&state, "", |env| {
        booking::decide_course_by_id(env, id, false, &actor)
    })
    .unwrap();
    assert_eq!(again, CourseDecision::NotPending);
}

#[tokio::test]
async fn two_courses_approved_at_once_for_the_last_place_give_it_once() {
    let (site, d1, _) = course_site(1);
    let state = open(site.path());
    let a = request_and_confirm(&state, "a@gemeinde.example", "nichtmitglied", &iso(d1)).await;
    let b = request_and_confirm(&state, "b@gemeinde.example", "nichtmitglied", &iso(d1)).await;
    let actor = Actor::Office("jo".into());
    let results: Vec<CourseDecision> = std::thread::scope(|s| {
        let handles: Vec<_> = [a, b]
            .into_iter()
            .map(|id| {
                let (state, actor) = (&state, &actor);
                s.spawn(move || {
                    booking::with_env(state, "", |env| {
                        booking::decide_course_by_id(env, id, true, actor)
                    })
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results
        .iter()
        .all(|r| matches!(r, CourseDecision::Approved(_))));
    let knapp: Vec<BookingRow> = ["a@gemeinde.example", "b@gemeinde.example"]
        .iter()
        .map(|e| unit(&bookings_of(&state, e), "knapp").clone())
        .collect();
    let confirmed = knapp
        .iter()
        .filter(|b| b.state == BookingState::Confirmed)
        .count();
    let waiting = knapp
        .iter()
        .filter(|b| b.state == BookingState::Waiting)
        .count();
    assert_eq!((confirmed, waiting), (1, 1), "{knapp:?}");
    // Both got their place on the roomy unit.
    for e in ["a@gemeinde.example", "b@gemeinde.example"] {
        assert_eq!(
            unit(&bookings_of(&state, e), "weit").state,
            BookingState::Confirmed
        );
        assert_eq!(mails(&state, e, "kurs-ergebnis").len(), 1);
    }
}

#[tokio::test]
async fn a_course_form_with_gaps_comes_back_with_the_input_and_german_messages() {
    let (site, _, _) = course_site(3);
    let state = open(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/kurs",
        &[
            ("kurs", "doppelkurs"),
            ("termin-weit", "2001-01-01"),
            ("name", "Erika Lücke"),
            ("email", "erika@stadt.example"),
            ("kommune", "mitgliedsstadt"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Bitte wählen Sie eine Wahlpflichteinheit."),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Bitte wählen Sie einen Termin für „Knappe Einheit“"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Diesen Termin für „Weite Einheit“ gibt es nicht mehr."),
        "{}",
        r.body
    );
    // The course page again, with what was typed and links to the fields.
    assert!(r.body.contains("value=\"Erika Lücke\""), "{}", r.body);
    assert!(r.body.contains("href=\"#kurs-termin-knapp\""), "{}", r.body);
    assert!(r.body.contains("id=\"kurs-termin-knapp\""), "{}", r.body);
    assert!(bookings_of(&state, "erika@stadt.example").is_empty());
    assert!(state.store.outbox().unwrap().is_empty());

    // A person who already holds a booking of one unit gets no second one.
    let (site, d1, _) = course_site(3);
    let state = open(site.path());
    request_and_confirm(&state, "erika@stadt.example", "mitgliedsstadt", &iso(d1)).await;
    let before = state.store.outbox().unwrap().len();
    let r = request_course(&state, "erika@stadt.example", "mitgliedsstadt", &iso(d1)).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(bookings_of(&state, "erika@stadt.example").len(), 3);
    assert_eq!(state.store.outbox().unwrap().len(), before);
}

#[tokio::test]
async fn a_free_course_is_placed_at_its_confirmation() {
    let site = site_dir();
    std::fs::write(
        site.path().join("content/kurse/frei.md"),
        "---\ntitel: Freier Kurs\nkurzbeschreibung: Kostenlos.\neinheiten:\n  - einheit: kostenlos-starten\n    art: pflicht\n  - einheit: frei-zwei\n    art: pflicht\n  - einheit: frei-live\n    art: pflicht\nzertifikat: Teilnahme\n---\nText.\n",
    )
    .unwrap();
    let d = weekday_in(30);
    std::fs::write(
        site.path().join("content/einheiten/frei-zwei.md"),
        "---\ntitel: Frei zwei\nkurzbeschreibung: Test.\nformat: on-demand\nniveau: kostenlos\nthemen: [testthema]\naufwand_stunden: 2\nstart_link: https://lms.example/frei\n---\nText.\n",
    )
    .unwrap();
    std::fs::write(
        site.path().join("content/einheiten/frei-live.md"),
        format!("---\ntitel: Frei live\nkurzbeschreibung: Test.\nformat: hybrid\nniveau: kostenlos\nthemen: [testthema]\naufwand_stunden: 4\ntermine:\n  - datum: {}\n    plaetze: 5\n    vergeben: 0\n---\nText.\n", iso(d)),
    )
    .unwrap();
    let state = open(site.path());
    let ts = ts(&state, 5);
    let email = "frei@stadt.example";
    let r = post_form(
        &state,
        "/forms/kurs",
        &[
            ("kurs", "frei"),
            ("termin-frei-live", &iso(d)),
            ("name", "Fritz Frei"),
            ("email", email),
            ("kommune", "mitgliedsstadt"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let confirm = link(&state, email, "kurs-bestaetigen", "bestaetigen");
    let r = post(&state, &confirm).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("eingeschrieben"), "{}", r.body);
    let all = bookings_of(&state, email);
    assert_eq!(
        unit(&all, "kostenlos-starten").state,
        BookingState::Enrolled
    );
    assert_eq!(unit(&all, "frei-zwei").state, BookingState::Enrolled);
    assert_eq!(unit(&all, "frei-live").state, BookingState::Confirmed);
    assert!(all.iter().all(|b| b.price_cents == 0));
    assert_eq!(
        kinds_to(&state, email),
        ["kurs-bestaetigen", "kurs-ergebnis"]
    );
}

/// A course booking (name, address) is personal data: it goes once its unit
/// bookings are past their retention, and not before; an open one stays.
#[tokio::test]
async fn a_course_booking_goes_with_its_unit_bookings_when_their_period_ends() {
    let (site, d1, _) = course_site(3);
    let mut s = settings(site.path());
    s.per_ip_per_10_min = 100_000;
    s.signing_key = Some(Secret("course-test".into()));
    s.clock = campus_forms::clock::Clock::manual();
    let state = state_with(site.path(), s);
    let rejected =
        request_and_confirm(&state, "max@gemeinde.example", "nichtmitglied", &iso(d1)).await;
    let open = request_and_confirm(&state, "eva@gemeinde.example", "nichtmitglied", &iso(d1)).await;
    booking::with_env(&state, "", |env| {
        booking::decide_course_by_id(env, rejected, false, &Actor::Office("jo".into()))
    })
    .unwrap();
    let purge = || campus_forms::ops::purge(&state.store, &state.settings).unwrap();

    // Within the bookings' period (three years after the end of the year) all stays.
    let r = purge();
    assert_eq!(r.journey.course_bookings, 0, "{r:?}");
    assert!(state.store.course_booking(rejected).unwrap().is_some());

    // Five years on the rejected course goes with its unit bookings; the
    // one still waiting for approval is kept with its units.
    state
        .settings
        .clock
        .advance(std::time::Duration::from_secs(5 * 366 * 86_400));
    let r = purge();
    assert_eq!(r.journey.course_bookings, 1, "{r:?}");
    assert!(state.store.course_booking(rejected).unwrap().is_none());
    assert!(bookings_of(&state, "max@gemeinde.example").is_empty());
    assert_eq!(
        state.store.course_booking(open).unwrap().unwrap().state,
        CourseState::Approval
    );
    assert!(!bookings_of(&state, "eva@gemeinde.example").is_empty());
}
