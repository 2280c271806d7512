//! The booking workflow in-process: request → double opt-in → approval →
//! place or waiting list, offers, cancellation, content changes, calendar.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Method, Request};
use campus_forms::booking::{self, Actor, Approver, BookingState, Decision};
use campus_forms::clock::Clock;
use campus_forms::config::Secret;
use campus_forms::store::{BookingFilter, BookingRow, Table};
use campus_forms::{AppState, Settings};
use chrono::{Datelike, Duration as Days, NaiveDate};
use mail_parser::MimeHeaders;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

/// A weekday about `days` from today.
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

/// Writes a hybrid unit (199 € for members) with the given dates
/// (date, capacity, taken outside the platform).
fn write_unit(site: &Path, id: &str, title: &str, dates: &[(NaiveDate, u32, u32)]) {
    let mut termine = String::new();
    if !dates.is_empty() {
        termine.push_str("termine:\n");
        for (d, cap, taken) in dates {
            termine.push_str(&format!(
                "  - datum: {}\n    plaetze: {cap}\n    vergeben: {taken}\n",
                iso(*d)
            ));
        }
    }
    std::fs::write(
        site.join(format!("content/einheiten/{id}.md")),
        format!("---\ntitel: {title}\nkurzbeschreibung: Test.\nformat: hybrid\nniveau: fachkompetenzen\nthemen: [testthema]\naufwand_stunden: 8\n{termine}---\nText.\n"),
    )
    .unwrap();
}

fn test_settings(site: &Path) -> Settings {
    let mut s = settings(site);
    s.per_ip_per_10_min = 100_000;
    s.signing_key = Some(Secret("booking-test".into()));
    s
}

fn open(site: &Path) -> AppState {
    state_with(site, test_settings(site))
}

fn reload(state: &AppState, site: &Path) {
    let loaded = campus_generator::model::load(site).unwrap_or_else(|p| panic!("{p}"));
    state.reload(std::sync::Arc::new(loaded)).unwrap();
}

/// Where links in mails point to.
fn base(state: &AppState) -> String {
    state.loaded().backend_url.clone()
}

async fn request_booking(state: &AppState, email: &str, kommune: &str, unit: &str, termin: &str) {
    let ts = ts(state, 5);
    let name = format!("Person {}", email.split('@').next().unwrap());
    let r = post_form(
        state,
        "/forms/buchung",
        &[
            ("einheit", unit),
            ("termin", termin),
            ("name", &name),
            ("email", email),
            ("kommune", kommune),
            // Read only with "andere" (the organisation billed).
            ("organisation", "Zweckverband Test"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/formular/danke-buchung/"));
}

/// Raw messages of `kind` to `to`, oldest first.
pub(crate) fn mails(state: &AppState, to: &str, kind: &str) -> Vec<Vec<u8>> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to && m.kind == kind)
        .map(|m| state.store.raw_message(m.id).unwrap())
        .collect()
}

pub(crate) fn text_of(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    msg.body_text(0).unwrap().replace("\r\n", "\n")
}

/// The path of the newest link below `/forms/buchung/<action>/` in a mail
/// of `kind` to `to`.
pub(crate) fn link(state: &AppState, to: &str, kind: &str, action: &str) -> String {
    let all = mails(state, to, kind);
    let raw = all
        .last()
        .unwrap_or_else(|| panic!("no {kind} mail to {to}"));
    path_of(&link_in(
        raw,
        &format!("{}/forms/buchung/{action}/", base(state)),
    ))
}

pub(crate) async fn post(state: &AppState, path: &str) -> Reply {
    let req = Request::post(path)
        .header(header::ORIGIN, BASE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let mut req = req;
    let addr: std::net::SocketAddr = format!("{CLIENT_IP}:50000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    send(state, req).await
}

async fn head(state: &AppState, path: &str) -> Reply {
    send(
        state,
        Request::builder()
            .method(Method::HEAD)
            .uri(path)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

pub(crate) fn booking_of(state: &AppState, email: &str) -> BookingRow {
    state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .into_iter()
        .filter(|b| b.email == email)
        .max_by_key(|b| b.id)
        .unwrap_or_else(|| panic!("no booking of {email}"))
}

/// Request, confirm by mail and (if needed) approve by mail.
async fn book(
    state: &AppState,
    email: &str,
    kommune: &str,
    unit: &str,
    termin: &str,
) -> BookingRow {
    request_booking(state, email, kommune, unit, termin).await;
    let confirm = link(state, email, "buchung-bestaetigen", "bestaetigen");
    let r = post(state, &confirm).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let b = booking_of(state, email);
    if b.state == BookingState::Approval {
        let approver = if b.approver == Approver::Authority {
            b.approver_email.clone()
        } else {
            "info@campus.example".to_string()
        };
        let approve = approval_link_for(state, &approver, b.id);
        let r = post(state, &approve).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    booking_of(state, email)
}

fn approval_link_for(state: &AppState, approver: &str, id: i64) -> String {
    let raw = mails(state, approver, "buchung-freigabe-anfrage")
        .into_iter()
        .find(|raw| text_of(raw).contains(&format!("Vorgangsnummer: B-{id}\n")))
        .unwrap_or_else(|| panic!("no approval mail for B-{id}"));
    path_of(&link_in(
        &raw,
        &format!("{}/forms/buchung/freigeben/", base(state)),
    ))
}

/// Everything a request could change, to compare before and after.
fn snapshot(state: &AppState) -> (Vec<BookingRow>, usize, usize, i64) {
    (
        state.store.bookings(&BookingFilter::default()).unwrap(),
        state.store.booking_events(None).unwrap().len(),
        state.store.outbox().unwrap().len(),
        state.store.count(Table::Consents).unwrap(),
    )
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn price_for_member_and_non_member_with_vat_in_every_mail() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "knapp", "Knappe Einheit", &[(d, 10, 0)]);
    let state = open(site.path());
    request_booking(
        &state,
        "mitglied@stadt.example",
        "mitgliedsstadt",
        "knapp",
        &iso(d),
    )
    .await;
    request_booking(
        &state,
        "gast@gemeinde.example",
        "nichtmitglied",
        "knapp",
        "naechster",
    )
    .await;
    request_booking(
        &state,
        "fremd@anders.example",
        "andere",
        "knapp",
        "naechster",
    )
    .await;
    let member = text_of(&mails(&state, "mitglied@stadt.example", "buchung-bestaetigen")[0]);
    assert!(
        member.contains("Preis: 199,00\u{a0}€ je Teilnahme, Preis für Mitglieder, inkl. 19 % MwSt. (31,77\u{a0}€)"),
        "{member}"
    );
    for to in ["gast@gemeinde.example", "fremd@anders.example"] {
        let text = text_of(&mails(&state, to, "buchung-bestaetigen")[0]);
        assert!(
            text.contains("Preis: 238,80\u{a0}€ je Teilnahme, Preis für Nicht-Mitglieder (+20 %), inkl. 19 % MwSt. (38,13\u{a0}€)"),
            "{text}"
        );
    }
    // The price stays in the approver's mail and the result.
    let b = book(
        &state,
        "gast2@gemeinde.example",
        "nichtmitglied",
        "knapp",
        &iso(d),
    )
    .await;
    assert_eq!(b.state, BookingState::Confirmed);
    assert_eq!(b.price_cents, 23_880);
    let to_office = text_of(&mails(&state, "info@campus.example", "buchung-freigabe-anfrage")[0]);
    assert!(to_office.contains("238,80\u{a0}€"), "{to_office}");
    let confirmed = text_of(&mails(&state, "gast2@gemeinde.example", "buchung-bestaetigt")[0]);
    assert!(
        confirmed.contains("inkl. 19 % MwSt. (38,13\u{a0}€)"),
        "{confirmed}"
    );
}

#[tokio::test]
async fn confirmation_carries_a_calendar_file_without_private_links() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(
        site.path(),
        "knapp",
        "Knappe Einheit, Teil 1",
        &[(d, 10, 0)],
    );
    let state = open(site.path());
    let b = book(
        &state,
        "erika@stadt.example",
        "mitgliedsstadt",
        "knapp",
        &iso(d),
    )
    .await;
    assert_eq!(b.state, BookingState::Confirmed);
    assert_eq!(b.approver, Approver::Authority);
    // The authority's approver got the approval mail, not the office.
    assert_eq!(
        mails(&state, "freigabe@stadt.example", "buchung-freigabe-anfrage").len(),
        1
    );
    assert!(mails(&state, "info@campus.example", "buchung-freigabe-anfrage").is_empty());
    let raw = &mails(&state, "erika@stadt.example", "buchung-bestaetigt")[0];
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let ics = msg
        .attachments()
        .find(|a| a.is_content_type("text", "calendar"))
        .expect("calendar attachment");
    let ct = ics.content_type().unwrap();
    assert_eq!(ct.attribute("method"), Some("PUBLISH"));
    let body = String::from_utf8(ics.contents().to_vec()).unwrap();
    let unfolded = body.replace("\r\n ", "");
    let start = campus_generator::time::live_start_local(d);
    let end = campus_generator::time::live_end_local(d);
    for line in [
        "METHOD:PUBLISH".to_string(),
        format!("UID:buchung-{}@campus.example", b.id),
        "SEQUENCE:0".into(),
        format!(
            "DTSTART;TZID=Europe/Berlin:{}",
            start.format("%Y%m%dT%H%M%S")
        ),
        format!("DTEND;TZID=Europe/Berlin:{}", end.format("%Y%m%dT%H%M%S")),
        "SUMMARY:Knappe Einheit\\, Teil 1".into(),
    ] {
        assert!(
            unfolded.contains(&format!("{line}\r\n")),
            "{line} in {unfolded}"
        );
    }
    assert_eq!((end - start).num_hours(), 4);
    assert!(
        !unfolded.contains("/forms/"),
        "no private links: {unfolded}"
    );
    assert!(unfolded.contains("URL:https://campus.example/lerneinheiten/knapp/"));
    let text = text_of(raw);
    let long = campus_generator::time::german_long_date;
    assert!(
        text.contains(&format!(
            "Das Vorbereitungsmodul im Selbststudium öffnet am {}",
            long(campus_generator::time::preparation_opens(d))
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "Das Nachbereitungsmodul öffnet am {}",
        long(campus_generator::time::follow_up_opens(d))
    )));
    // The history names every step with its actor.
    let steps: Vec<(String, String)> = state
        .store
        .booking_events(Some(b.id))
        .unwrap()
        .into_iter()
        .map(|e| (e.to_state.as_str().to_string(), e.actor))
        .collect();
    assert_eq!(
        steps,
        [
            ("unbestaetigt".to_string(), "teilnehmer".to_string()),
            ("freigabe".into(), "teilnehmer".into()),
            (
                "bestaetigt".into(),
                "freigabe-kommune:freigabe@stadt.example".into()
            ),
        ]
    );
}

#[tokio::test]
async fn get_and_head_on_every_action_link_change_nothing() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Ein Platz", &[(d, 1, 0)]);
    let state = open(site.path());
    // confirm
    request_booking(&state, "a@stadt.example", "mitgliedsstadt", "eins", &iso(d)).await;
    let confirm = link(
        &state,
        "a@stadt.example",
        "buchung-bestaetigen",
        "bestaetigen",
    );
    // approve and reject (two bookings waiting for approval)
    request_booking(&state, "b@stadt.example", "mitgliedsstadt", "eins", &iso(d)).await;
    let confirm_b = link(
        &state,
        "b@stadt.example",
        "buchung-bestaetigen",
        "bestaetigen",
    );
    assert_eq!(post(&state, &confirm_b).await.status, 303);
    let b = booking_of(&state, "b@stadt.example");
    let approve = approval_link_for(&state, "freigabe@stadt.example", b.id);
    let reject = approve.replace("/freigeben/", "/ablehnen/");
    let check = |label: &'static str, path: String| {
        let state = state.clone();
        async move {
            let before = snapshot(&state);
            let g = get(&state, &path).await;
            assert_eq!(g.status, 200, "GET {label}: {}", g.body);
            assert!(g.body.contains("method=\"post\""), "{label} shows a button");
            assert_eq!(g.headers[header::CACHE_CONTROL], "no-store");
            let h = head(&state, &path).await;
            assert_eq!(h.status, 200, "HEAD {label}");
            assert_eq!(
                snapshot(&state),
                before,
                "GET/HEAD {label} changed something"
            );
        }
    };
    check("bestaetigen", confirm.clone()).await;
    check("freigeben", approve.clone()).await;
    check("ablehnen", reject.clone()).await;
    // The POSTs still work after the GETs, once.
    assert_eq!(post(&state, &approve).await.status, 200);
    assert_eq!(
        post(&state, &reject).await.status,
        410,
        "one decision per link"
    );
    assert_eq!(post(&state, &approve).await.status, 410);
    assert_eq!(
        booking_of(&state, "b@stadt.example").state,
        BookingState::Confirmed
    );
    assert_eq!(post(&state, &confirm).await.status, 303);
    assert_eq!(post(&state, &confirm).await.status, 410);
    let a = booking_of(&state, "a@stadt.example");
    let approve_a = approval_link_for(&state, "freigabe@stadt.example", a.id);
    assert_eq!(post(&state, &approve_a).await.status, 200);
    assert_eq!(
        booking_of(&state, "a@stadt.example").state,
        BookingState::Waiting
    );
    // cancel (the confirmed one) and accept offer (the waiting one gets it)
    let cancel = link(
        &state,
        "b@stadt.example",
        "buchung-bestaetigt",
        "stornieren",
    );
    check("stornieren", cancel.clone()).await;
    assert_eq!(post(&state, &cancel).await.status, 200);
    assert_eq!(post(&state, &cancel).await.status, 410);
    assert_eq!(
        booking_of(&state, "a@stadt.example").state,
        BookingState::Offered
    );
    let accept = link(&state, "a@stadt.example", "buchung-angebot", "angebot");
    check("angebot", accept.clone()).await;
    assert_eq!(post(&state, &accept).await.status, 200);
    assert_eq!(post(&state, &accept).await.status, 410);
    assert_eq!(
        booking_of(&state, "a@stadt.example").state,
        BookingState::Confirmed
    );
    assert_eq!(
        mails(&state, "a@stadt.example", "buchung-bestaetigt").len(),
        1
    );
    // Forged or unknown links: 410 on GET and POST.
    assert_eq!(
        get(&state, "/forms/buchung/angebot/erfunden").await.status,
        410
    );
    assert_eq!(
        post(&state, "/forms/buchung/stornieren/erfunden.x")
            .await
            .status,
        410
    );
}

/// Two servers (own connections) on one database, as with `campus serve`
/// and the command line, or two processes.
fn two_servers(site: &Path) -> (AppState, AppState) {
    let a = open(site);
    let b = open(site);
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_requests_three_places_concurrent_approvals() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "knapp", "Knappe Einheit", &[(d, 5, 2)]);
    let (a, b) = two_servers(site.path());
    let people: Vec<(String, &str)> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                (format!("p{i:02}@stadt.example"), "mitgliedsstadt")
            } else {
                (format!("p{i:02}@gemeinde.example"), "nichtmitglied")
            }
        })
        .collect();
    // 50 concurrent requests, alternating between the servers.
    let mut tasks = Vec::new();
    for (i, (email, kommune)) in people.iter().cloned().enumerate() {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        let date = iso(d);
        tasks.push(tokio::spawn(async move {
            request_booking(&s, &email, kommune, "knapp", &date).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Everybody confirms, concurrently.
    let mut tasks = Vec::new();
    for (i, (email, _)) in people.iter().cloned().enumerate() {
        let s = if i % 2 == 0 { b.clone() } else { a.clone() };
        tasks.push(tokio::spawn(async move {
            let confirm = link(&s, &email, "buchung-bestaetigen", "bestaetigen");
            assert_eq!(post(&s, &confirm).await.status, 303);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // The authority's approver and the office click all approval links at
    // the same moment, each link twice (through both servers).
    let mut links = Vec::new();
    for approver in ["freigabe@stadt.example", "info@campus.example"] {
        for raw in mails(&a, approver, "buchung-freigabe-anfrage") {
            links.push(path_of(&link_in(
                &raw,
                &format!("{BASE}/forms/buchung/freigeben/"),
            )));
        }
    }
    assert_eq!(links.len(), 50);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(100));
    let mut tasks = Vec::new();
    for l in &links {
        for s in [a.clone(), b.clone()] {
            let l = l.clone();
            let barrier = barrier.clone();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                post(&s, &l).await.status
            }));
        }
    }
    let mut statuses = BTreeMap::new();
    for t in tasks {
        *statuses.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        BTreeMap::from([(200, 50), (410, 50)]),
        "each link acts once"
    );
    let all = a.store.bookings(&BookingFilter::default()).unwrap();
    let confirmed: Vec<&BookingRow> = all
        .iter()
        .filter(|b| b.state == BookingState::Confirmed)
        .collect();
    let waiting: Vec<&BookingRow> = all
        .iter()
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    assert_eq!(confirmed.len(), 3, "exactly the free places: {all:#?}");
    assert_eq!(waiting.len(), 47);
    // The waiting list is in the order the requests were confirmed (not
    // the order of the approvals): positions 1..=47 without gaps, and every
    // place was given before the first person went onto the waiting list.
    let events = a.store.booking_events(None).unwrap();
    let waiting_ids: HashSet<i64> = waiting.iter().map(|b| b.id).collect();
    let order: Vec<i64> = events
        .iter()
        .filter(|e| e.from_state == Some(BookingState::Unconfirmed))
        .map(|e| e.booking_id)
        .filter(|id| waiting_ids.contains(id))
        .collect();
    let mut by_queue: Vec<&&BookingRow> = waiting.iter().collect();
    by_queue.sort_by_key(|b| b.queue_no);
    assert_eq!(by_queue.iter().map(|b| b.id).collect::<Vec<_>>(), order);
    let queue: HashSet<i64> = waiting.iter().filter_map(|b| b.queue_no).collect();
    assert_eq!(queue.len(), 47);
    let last_place = events
        .iter()
        .filter(|e| e.to_state == BookingState::Confirmed)
        .map(|e| e.id)
        .max()
        .unwrap();
    let first_wait = events
        .iter()
        .filter(|e| e.to_state == BookingState::Waiting)
        .map(|e| e.id)
        .min()
        .unwrap();
    assert!(last_place < first_wait);
    // Each mail names the place at the time it was written: the people
    // already waiting then who confirmed earlier, and the person.
    let joined: std::collections::HashMap<i64, i64> = events
        .iter()
        .filter(|e| e.to_state == BookingState::Waiting)
        .map(|e| (e.booking_id, e.id))
        .collect();
    for w in &by_queue {
        let place = by_queue
            .iter()
            .filter(|x| joined[&x.id] <= joined[&w.id] && x.queue_no <= w.queue_no)
            .count();
        let text = text_of(&mails(&a, &w.email, "buchung-warteliste")[0]);
        assert!(
            text.contains(&format!("Platz {place} der Warteliste")),
            "{text}"
        );
    }
    // One result mail each.
    for (email, _) in &people {
        let results = mails(&a, email, "buchung-bestaetigt").len()
            + mails(&a, email, "buchung-warteliste").len();
        assert_eq!(results, 1, "{email}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_offer_passes_to_the_next_person_exactly_once_with_two_workers() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Ein Platz", &[(d, 1, 0)]);
    let (a, b) = two_servers(site.path());
    let first = book(
        &a,
        "erste@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    assert_eq!(first.state, BookingState::Confirmed);
    for who in ["zweite", "dritte", "vierte"] {
        let w = book(
            &a,
            &format!("{who}@gemeinde.example"),
            "nichtmitglied",
            "eins",
            "naechster",
        )
        .await;
        assert_eq!(w.state, BookingState::Waiting);
    }
    // The office cancels the first booking: the place goes to the second.
    booking::with_env(&a, "", |env| {
        booking::cancel(env, first.id, &Actor::Office("test".into()))
    })
    .unwrap()
    .unwrap();
    let second = booking_of(&a, "zweite@gemeinde.example");
    assert_eq!(second.state, BookingState::Offered);
    assert_eq!(second.live_date.as_deref(), Some(iso(d).as_str()));
    let hold = a.settings.offer_hold.as_secs() as i64;
    assert_eq!(hold, 48 * 3600, "default holding time");
    assert!(second.offer_until.unwrap() - campus_forms::store::now() > hold - 60);
    // Nothing happens before the offer runs out.
    assert_eq!(
        booking::with_env(&a, "", booking::expire_offers).unwrap(),
        0
    );
    // Two workers run the expiry at the same moment, after the holding time.
    let later = second.offer_until.unwrap() + 1;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let run = |s: AppState| {
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            barrier.wait();
            booking::with_env_at(&s, "", later, booking::expire_offers).unwrap()
        })
    };
    let (ta, tb) = (run(a.clone()), run(b.clone()));
    let lapsed = ta.join().unwrap() + tb.join().unwrap();
    assert_eq!(lapsed, 1, "one expiry in total");
    assert_eq!(
        booking::with_env_at(&b, "", later, booking::expire_offers).unwrap(),
        0
    );
    assert_eq!(
        booking_of(&a, "zweite@gemeinde.example").state,
        BookingState::Lapsed
    );
    let third = booking_of(&a, "dritte@gemeinde.example");
    assert_eq!(third.state, BookingState::Offered);
    assert_eq!(
        booking_of(&a, "vierte@gemeinde.example").state,
        BookingState::Waiting
    );
    assert_eq!(
        mails(&a, "zweite@gemeinde.example", "buchung-angebot-verfallen").len(),
        1
    );
    assert_eq!(
        mails(&a, "dritte@gemeinde.example", "buchung-angebot").len(),
        1
    );
    assert!(mails(&a, "vierte@gemeinde.example", "buchung-angebot").is_empty());
    // The lapsed offer's link is dead; the third person's works.
    let old = link(&a, "zweite@gemeinde.example", "buchung-angebot", "angebot");
    assert_eq!(get(&a, &old).await.status, 410);
    assert_eq!(post(&a, &old).await.status, 410);
    let accept = link(&a, "dritte@gemeinde.example", "buchung-angebot", "angebot");
    assert_eq!(post(&b, &accept).await.status, 200);
    assert_eq!(
        booking_of(&a, "dritte@gemeinde.example").state,
        BookingState::Confirmed
    );
    let lapses = a
        .store
        .booking_events(None)
        .unwrap()
        .into_iter()
        .filter(|e| e.to_state == BookingState::Lapsed)
        .count();
    assert_eq!(lapses, 1);
}

#[tokio::test]
async fn a_removed_date_moves_bookings_to_the_waiting_list_and_a_new_date_is_offered() {
    let site = site_dir();
    let d1 = weekday_in(40);
    let d2 = weekday_in(70);
    write_unit(site.path(), "wandel", "Wandel", &[(d1, 2, 0)]);
    write_unit(site.path(), "leer", "Noch ohne Termin", &[]);
    let state = open(site.path());
    let b = book(
        &state,
        "bleibt@gemeinde.example",
        "nichtmitglied",
        "wandel",
        &iso(d1),
    )
    .await;
    assert_eq!(b.state, BookingState::Confirmed);
    let w = book(
        &state,
        "wartet@gemeinde.example",
        "nichtmitglied",
        "leer",
        "naechster",
    )
    .await;
    assert_eq!(w.state, BookingState::Waiting, "no date yet: waiting list");
    let w2 = book(
        &state,
        "wartet2@gemeinde.example",
        "nichtmitglied",
        "leer",
        "naechster",
    )
    .await;
    assert_eq!(w2.state, BookingState::Waiting);
    // The date disappears from content.
    write_unit(site.path(), "wandel", "Wandel", &[]);
    reload(&state, site.path());
    let moved = booking_of(&state, "bleibt@gemeinde.example");
    assert_eq!(moved.state, BookingState::Waiting);
    assert_eq!(moved.wanted, "naechster");
    assert_eq!(moved.live_date, None);
    let told = text_of(&mails(&state, "bleibt@gemeinde.example", "buchung-warteliste")[0]);
    assert!(told.contains("findet leider nicht statt"), "{told}");
    assert!(told.contains("Ihre Buchung ist nicht verloren"), "{told}");
    // Reloading the same content changes nothing more.
    let before = snapshot(&state);
    reload(&state, site.path());
    assert_eq!(snapshot(&state), before);
    // A date is published for the unit without dates: one place, two waiting.
    write_unit(site.path(), "leer", "Noch ohne Termin", &[(d2, 1, 0)]);
    reload(&state, site.path());
    assert_eq!(
        booking_of(&state, "wartet@gemeinde.example").state,
        BookingState::Offered
    );
    assert_eq!(
        booking_of(&state, "wartet2@gemeinde.example").state,
        BookingState::Waiting
    );
    let news = text_of(&mails(&state, "wartet2@gemeinde.example", "buchung-neuer-termin")[0]);
    assert!(news.contains("steht ein neuer Termin fest"), "{news}");
    assert!(mails(&state, "wartet@gemeinde.example", "buchung-neuer-termin").is_empty());
    // A new title raises the calendar SEQUENCE; participants get the update.
    let accept = link(
        &state,
        "wartet@gemeinde.example",
        "buchung-angebot",
        "angebot",
    );
    assert_eq!(post(&state, &accept).await.status, 200);
    write_unit(site.path(), "leer", "Jetzt mit Termin", &[(d2, 1, 0)]);
    reload(&state, site.path());
    let updates = mails(&state, "wartet@gemeinde.example", "buchung-bestaetigt");
    assert_eq!(updates.len(), 2);
    let msg = mail_parser::MessageParser::default()
        .parse(&updates[1])
        .unwrap();
    let ics = String::from_utf8(msg.attachments().next().unwrap().contents().to_vec()).unwrap();
    assert!(ics.contains("SEQUENCE:1\r\n"), "{ics}");
    assert!(ics.contains("SUMMARY:Jetzt mit Termin\r\n"), "{ics}");
}

#[tokio::test]
async fn enrolment_free_after_confirmation_paid_after_approval() {
    let site = site_dir();
    let state = open(site.path());
    let ts = ts(&state, 5);
    let enrol = |email: &'static str, unit: &'static str, ts: String| {
        let state = state.clone();
        async move {
            let r = post_form(
                &state,
                "/forms/einschreibung",
                &[
                    ("einheit", unit),
                    ("name", "Eva Einschreibung"),
                    ("email", email),
                    ("kommune", "mitgliedsstadt"),
                    ("einwilligung", "ja"),
                    ("website", ""),
                    ("ts", &ts),
                ],
            )
            .await;
            assert_eq!(r.status, 303, "{}", r.body);
            assert_eq!(
                r.location.as_deref(),
                Some("/formular/danke-einschreibung/")
            );
        }
    };
    enrol("frei@stadt.example", "kostenlos-starten", ts.clone()).await;
    // Free, but confirmed first (double opt-in): until then only the
    // confirmation mail goes to the address.
    assert_eq!(
        booking_of(&state, "frei@stadt.example").state,
        BookingState::Unconfirmed
    );
    let kinds: Vec<String> = state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == "frei@stadt.example")
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds, ["buchung-bestaetigen"]);
    let ask = text_of(&mails(&state, "frei@stadt.example", "buchung-bestaetigen")[0]);
    assert!(
        ask.contains("schalten wir die Lerneinheit für Sie frei"),
        "{ask}"
    );
    let confirm = link(
        &state,
        "frei@stadt.example",
        "buchung-bestaetigen",
        "bestaetigen",
    );
    assert_eq!(post(&state, &confirm).await.status, 303);
    assert_eq!(
        booking_of(&state, "frei@stadt.example").state,
        BookingState::Enrolled
    );
    let start = text_of(&mails(&state, "frei@stadt.example", "einschreibung-start")[0]);
    assert!(start.contains("https://lms.example/start"), "{start}");
    assert!(start.contains("Preis: kostenlos"), "{start}");
    enrol("lizenz@stadt.example", "selbstlernen", ts).await;
    let b = booking_of(&state, "lizenz@stadt.example");
    assert_eq!(b.state, BookingState::Unconfirmed);
    assert_eq!(b.price_cents, 4_900);
    let confirm = link(
        &state,
        "lizenz@stadt.example",
        "buchung-bestaetigen",
        "bestaetigen",
    );
    assert_eq!(post(&state, &confirm).await.status, 303);
    let approve = approval_link_for(&state, "freigabe@stadt.example", b.id);
    let r = post(&state, &approve).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        booking_of(&state, "lizenz@stadt.example").state,
        BookingState::Enrolled
    );
    let start = text_of(&mails(&state, "lizenz@stadt.example", "einschreibung-start")[0]);
    assert!(
        start.contains("https://lms.example/selbstlernen"),
        "{start}"
    );
    assert!(start.contains("49,00\u{a0}€ je Lizenz"), "{start}");
}

#[tokio::test]
async fn invalid_booking_keeps_the_input_on_the_unit_page() {
    let site = site_dir();
    let state = open(site.path());
    let ts = ts(&state, 5);
    let r = post_form(
        &state,
        "/forms/buchung",
        &[
            ("einheit", "hybrid-eins"),
            ("termin", "1999-01-01"),
            ("name", "Karl"),
            ("email", "karl@"),
            ("kommune", "mitgliedsstadt"),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Diesen Termin gibt es nicht mehr"),
        "{}",
        r.body
    );
    assert!(r.body.contains("action=\"/forms/buchung\""));
    assert!(r.body.contains("value=\"karl@\""));
    assert_eq!(state.store.count(Table::Bookings).unwrap(), 0);
    let r = post_json(
        &state,
        "/forms/buchung",
        serde_json::json!({ "einheit": "selbstlernen", "termin": "naechster", "name": "K", "email": "k@x.example", "kommune": "andere", "einwilligung": true, "ts": ts }),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.json()["errors"]["einheit"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_on_the_sample_site_lands_a_calendar_in_the_mail_directory() {
    // The real sample site with its theme.
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    for part in ["content", "data", "static", "themes"] {
        copy_tree(&root.join(part), &dir.path().join(part));
    }
    std::fs::copy(root.join("campus.toml"), dir.path().join("campus.toml")).unwrap();
    let mut s = test_settings(dir.path());
    s.min_fill_time = Duration::ZERO;
    s.retry_base = Duration::from_millis(200);
    let state = state_with(dir.path(), s);
    state.allow_origin(BASE);
    let site = state.loaded();
    let today = chrono::Local::now().date_naive();
    // A paid hybrid unit with a free date and an authority that approves itself.
    let authority = site
        .site
        .authorities
        .iter()
        .find(|a| a.approval == campus_generator::content::Approval::Kommune)
        .expect("an authority approving itself");
    let unit = site
        .site
        .units
        .iter()
        .find(|u| u.next_free_date(today).is_some() && !site.site.unit_price(u).member.is_zero())
        .expect("a bookable unit");
    let date = iso(unit.next_free_date(today).unwrap().date);
    // The unit page has the form (rendered as the generator does).
    let page = site
        .pages
        .site_page(&format!("/lerneinheiten/{}/", unit.id), &[])
        .unwrap()
        .unwrap();
    assert!(page.contains("action=\"/forms/buchung\""));
    assert!(page.contains(&format!("value=\"{date}\"")));
    // Without JavaScript `ts` is empty: the backend asks once more.
    // An official address of the chosen authority.
    let email = format!("erika@{}", authority.mail_domains[0]);
    let fields = [
        ("einheit", unit.id.as_str()),
        ("termin", date.as_str()),
        ("name", "Erika Musterfrau"),
        ("email", email.as_str()),
        ("kommune", authority.id.as_str()),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ""),
    ];
    let r = post_form(&state, "/forms/buchung", &fields).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Jetzt absenden"), "{}", r.body);
    let ts_start = r.body.find("name=\"ts\" value=\"").unwrap() + 17;
    let ts = &r.body[ts_start..ts_start + r.body[ts_start..].find('"').unwrap()];
    let mut again: Vec<(&str, &str)> = fields.to_vec();
    again.retain(|(k, _)| *k != "ts");
    again.push(("ts", ts));
    let r = post_form(&state, "/forms/buchung", &again).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The person confirms, the authority's approver approves, by mail.
    let confirm = link(&state, &email, "buchung-bestaetigen", "bestaetigen");
    assert_eq!(post(&state, &confirm).await.status, 303);
    let approver = authority.approver_email.clone().unwrap();
    let b = booking_of(&state, &email);
    let approve = approval_link_for(&state, &approver, b.id);
    assert_eq!(get(&state, &approve).await.status, 200);
    assert_eq!(post(&state, &approve).await.status, 200);
    assert_eq!(booking_of(&state, &email).state, BookingState::Confirmed);
    // The worker writes the confirmation with its calendar file.
    let worker = campus_forms::spawn_worker(&state).unwrap();
    let mail_dir = match &state.settings.transport {
        campus_forms::config::MailTransport::Files(d) => d.clone(),
        other => panic!("{other:?}"),
    };
    let found = eventually("the confirmation .eml", Duration::from_secs(15), || {
        std::fs::read_dir(&mail_dir).ok()?.find_map(|e| {
            let raw = std::fs::read(e.ok()?.path()).ok()?;
            let text = String::from_utf8_lossy(&raw).into_owned();
            (text.contains("text/calendar") && text.contains(&email)).then_some(text)
        })
    })
    .await;
    worker.shutdown().await;
    assert!(
        found.contains("method=PUBLISH") || found.contains("method=\"PUBLISH\""),
        "{found}"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn an_approval_link_expires_by_the_clock_and_the_office_can_still_decide() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Drei Plätze", &[(d, 3, 0)]);
    let mut settings = test_settings(site.path());
    settings.clock = Clock::manual();
    let state = state_with(site.path(), settings);
    let email = "eva@gemeinde.example";
    request_booking(&state, email, "nichtmitglied", "eins", &iso(d)).await;
    let confirm = link(&state, email, "buchung-bestaetigen", "bestaetigen");
    assert_eq!(post(&state, &confirm).await.status, 303);
    let b = booking_of(&state, email);
    assert_eq!(b.state, BookingState::Approval);
    let approve = approval_link_for(&state, "info@campus.example", b.id);
    let valid = state.settings.approval_valid;
    state
        .settings
        .clock
        .advance(valid - Duration::from_secs(60));
    assert_eq!(get(&state, &approve).await.status, 200);
    state.settings.clock.advance(Duration::from_secs(61));
    assert_eq!(get(&state, &approve).await.status, 410);
    assert_eq!(post(&state, &approve).await.status, 410);
    assert_eq!(booking_of(&state, email).state, BookingState::Approval);
    let decision = booking::with_env(&state, "", |env| {
        booking::decide_by_id(env, b.id, true, &Actor::Office("test".into()))
    })
    .unwrap();
    assert_eq!(decision, Decision::Approved(BookingState::Confirmed));
}

#[tokio::test]
async fn an_offer_lapses_when_the_clock_passes_its_holding_time() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Ein Platz", &[(d, 1, 0)]);
    let mut settings = test_settings(site.path());
    settings.clock = Clock::manual();
    let state = state_with(site.path(), settings);
    let first = book(
        &state,
        "erste@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    assert_eq!(first.state, BookingState::Confirmed);
    let second = book(
        &state,
        "zweite@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    assert_eq!(second.state, BookingState::Waiting);
    booking::with_env(&state, "", |env| {
        booking::cancel(env, first.id, &Actor::Office("test".into()))
    })
    .unwrap()
    .unwrap();
    let offered = booking_of(&state, "zweite@gemeinde.example");
    assert_eq!(offered.state, BookingState::Offered);
    assert_eq!(
        offered.offer_until,
        Some(state.settings.clock.now() + state.settings.offer_hold.as_secs() as i64)
    );
    let expire = || booking::with_env(&state, "", booking::expire_offers).unwrap();
    state.settings.clock.advance(state.settings.offer_hold);
    assert_eq!(expire(), 0, "the offer holds until its last second");
    state.settings.clock.advance(Duration::from_secs(1));
    assert_eq!(expire(), 1);
    assert_eq!(
        booking_of(&state, "zweite@gemeinde.example").state,
        BookingState::Lapsed
    );
    let accept = link(
        &state,
        "zweite@gemeinde.example",
        "buchung-angebot",
        "angebot",
    );
    assert_eq!(post(&state, &accept).await.status, 410);
}

/// The bookings export (CLI and web) neutralises formulas in the name the
/// person typed and in the unit title from content.
#[tokio::test]
async fn bookings_export_neutralises_formulas() {
    let site = site_dir();
    let day = weekday_in(30);
    write_unit(site.path(), "formel", "\"=WENN(1;2)\"", &[(day, 5, 0)]);
    let state = open(site.path());
    let ts = ts(&state, 5);
    let termin = iso(day);
    let r = post_form(
        &state,
        "/forms/buchung",
        &[
            ("einheit", "formel"),
            ("termin", &termin),
            ("name", "@Befehl Person"),
            ("email", "formel@stadt.example"),
            ("kommune", "mitgliedsstadt"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let rows = state.store.bookings(&BookingFilter::default()).unwrap();
    assert_eq!(rows.len(), 1);
    let mut csv = Vec::new();
    campus_forms::ops::export_bookings_csv(&rows, 19, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    // The title holds the delimiter, so its cell is quoted.
    assert!(csv.contains(";\"'=WENN(1;2)\";"), "{csv}");
    assert!(csv.contains(";'@Befehl Person;"), "{csv}");
}

fn booking_form<'a>(
    unit: &'a str,
    termin: &'a str,
    email: &'a str,
    ts: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("einheit", unit),
        ("termin", termin),
        ("name", "Doppel Klick"),
        ("email", email),
        ("kommune", "nichtmitglied"),
        ("einwilligung", "ja"),
        ("website", ""),
        ("ts", ts),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_active_booking_per_person_and_unit_even_for_parallel_posts() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "zwei", "Zwei Plätze", &[(d, 2, 0)]);
    let state = open(site.path());
    let t = ts(&state, 5);
    let date = iso(d);
    // A double click: two posts at the same time, one booking.
    let email = "doppelt@gemeinde.example";
    let form = booking_form("zwei", &date, email, &t);
    let (a, b) = tokio::join!(
        post_form(&state, "/forms/buchung", &form),
        post_form(&state, "/forms/buchung", &form)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "{} / {}", a.body, b.body);
    let second = if a.status == 409 { &a } else { &b };
    assert!(
        second
            .body
            .contains("Für diese Lerneinheit haben Sie bereits eine Anfrage"),
        "{}",
        second.body
    );
    let mine: Vec<BookingRow> = state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .into_iter()
        .filter(|b| b.email == email)
        .collect();
    assert_eq!(mine.len(), 1);
    assert!(
        second.body.contains(&format!("B-{}", mine[0].id)),
        "{}",
        second.body
    );
    assert_eq!(mails(&state, email, "buchung-bestaetigen").len(), 1);
    // JSON gets the existing booking too; after confirming, still one.
    let confirm = link(&state, email, "buchung-bestaetigen", "bestaetigen");
    assert_eq!(post(&state, &confirm).await.status, 303);
    let body: serde_json::Value = form
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    let j = post_json(&state, "/forms/buchung", body).await;
    assert_eq!(j.status, 409, "{}", j.body);
    assert_eq!(j.json()["booking"]["id"], mine[0].id);
    assert_eq!(j.json()["booking"]["state"], "freigabe");
    // Once cancelled, the person may ask again.
    booking::with_env(&state, "", |env| {
        booking::cancel(env, mine[0].id, &Actor::Office("test".into()))
    })
    .unwrap()
    .unwrap();
    let again = post_form(&state, "/forms/buchung", &form).await;
    assert_eq!(again.status, 303, "{}", again.body);
    let count = state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .into_iter()
        .filter(|b| b.email == email)
        .count();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn the_waiting_list_follows_the_order_of_confirmation_not_of_approval() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Ein Platz", &[(d, 1, 0)]);
    let state = open(site.path());
    let first = book(
        &state,
        "erste@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    assert_eq!(first.state, BookingState::Confirmed);
    let people = ["anna", "bert", "cora"].map(|n| format!("{n}@gemeinde.example"));
    for p in &people {
        request_booking(&state, p, "nichtmitglied", "eins", &iso(d)).await;
    }
    // They confirm in the order bert, anna, cora ...
    for i in [1, 0, 2] {
        let confirm = link(&state, &people[i], "buchung-bestaetigen", "bestaetigen");
        assert_eq!(post(&state, &confirm).await.status, 303);
    }
    // ... and the office approves in the reverse order: cora, anna, bert.
    for i in [2, 0, 1] {
        let b = booking_of(&state, &people[i]);
        let approve = approval_link_for(&state, "info@campus.example", b.id);
        assert_eq!(post(&state, &approve).await.status, 200);
        assert_eq!(booking_of(&state, &people[i]).state, BookingState::Waiting);
    }
    let mut waiting: Vec<BookingRow> = people.iter().map(|p| booking_of(&state, p)).collect();
    waiting.sort_by_key(|b| b.queue_no);
    let order: Vec<&str> = waiting.iter().map(|b| b.email.as_str()).collect();
    assert_eq!(
        order,
        [
            "bert@gemeinde.example",
            "anna@gemeinde.example",
            "cora@gemeinde.example"
        ]
    );
    // The freed place goes to the one who confirmed first.
    booking::with_env(&state, "", |env| {
        booking::cancel(env, first.id, &Actor::Office("test".into()))
    })
    .unwrap()
    .unwrap();
    assert_eq!(booking_of(&state, &people[1]).state, BookingState::Offered);
    assert_eq!(booking_of(&state, &people[0]).state, BookingState::Waiting);
    assert_eq!(booking_of(&state, &people[2]).state, BookingState::Waiting);
    // The office's export numbers the waiting list the same way.
    let rows = state.store.bookings(&BookingFilter::default()).unwrap();
    let mut csv = Vec::new();
    campus_forms::ops::export_bookings_csv(&rows, 19, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let place_of = |email: &str| {
        let line = csv.lines().find(|l| l.contains(email)).unwrap();
        line.split(';').nth(5).unwrap().to_string()
    };
    assert_eq!(place_of("anna@gemeinde.example"), "1");
    assert_eq!(place_of("cora@gemeinde.example"), "2");
}

mod journey;
mod my_bookings;
mod retention;
#[tokio::test]
async fn a_late_cancellation_is_recorded_as_billable_and_an_early_one_is_free() {
    let site = site_dir();
    std::fs::write(
        site.path().join("data/stornobedingungen.yaml"),
        "kostenfrei_bis_tage_vorher: 14\nspaete_stornierung_prozent: 50\nnichterscheinen_prozent: 100\n",
    )
    .unwrap();
    let soon = weekday_in(5);
    let later = weekday_in(40);
    write_unit(
        site.path(),
        "storno",
        "Storno-Test",
        &[(soon, 5, 0), (later, 5, 0)],
    );
    let state = open(site.path());
    let late = book(
        &state,
        "spaet@stadt.example",
        "mitgliedsstadt",
        "storno",
        &iso(soon),
    )
    .await;
    let early = book(
        &state,
        "frueh@stadt.example",
        "mitgliedsstadt",
        "storno",
        &iso(later),
    )
    .await;
    assert_eq!(late.state, BookingState::Confirmed);
    assert_eq!(early.state, BookingState::Confirmed);
    // Every booking mail states the terms with the last free day.
    let confirmed = text_of(&mails(&state, "frueh@stadt.example", "buchung-bestaetigt")[0]);
    let free_until = campus_generator::time::german_long_date(later - Days::days(14));
    assert!(
        confirmed.contains(&format!(
            "Stornierung: kostenfrei bis einschließlich {free_until}."
        )),
        "{confirmed}"
    );
    assert!(
        confirmed.contains("danach werden 50 % des Preises berechnet"),
        "{confirmed}"
    );
    for b in [&late, &early] {
        booking::with_env(&state, "h", |env| {
            booking::cancel(env, b.id, &Actor::Participant)
        })
        .unwrap()
        .unwrap();
    }
    let fee_of = |id| {
        state
            .store
            .write(|tx| tx.booking_billing(id))
            .unwrap()
            .unwrap()
            .1
    };
    // 50 % of 199 €.
    assert_eq!(fee_of(late.id), Some(9_950));
    assert_eq!(fee_of(early.id), None);
    let told = text_of(&mails(&state, "spaet@stadt.example", "buchung-storniert")[0]);
    assert!(
        told.contains("stellen wir Ihrem Arbeitgeber 99,50\u{a0}€ in Rechnung"),
        "{told}"
    );
    let free = text_of(&mails(&state, "frueh@stadt.example", "buchung-storniert")[0]);
    assert!(!free.contains("in Rechnung"), "{free}");
    let events = state.store.booking_events(Some(late.id)).unwrap();
    assert!(
        events.iter().any(|e| e.note.contains("späte Stornierung")),
        "{events:?}"
    );
}
