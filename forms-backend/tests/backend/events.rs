//! Event registrations through the booking workflow: double opt-in, one
//! place for twenty people (the rest waiting in the order they confirmed),
//! a cancellation moving the next one up, the members-only check, the
//! calendar file with the event's own times, the reminder.

use crate::booking::{booking_of, link, mails, post, text_of};
use crate::common::*;
use campus_forms::booking::{self, BookingKind, BookingState};
use campus_forms::config::Secret;
use campus_forms::store::{BookingFilter, BookingRow};
use campus_forms::AppState;
use chrono::{Duration as Days, NaiveDate};
use std::collections::HashSet;
use std::path::Path;

fn in_days(days: i64) -> NaiveDate {
    chrono::Local::now().date_naive() + Days::days(days)
}

/// The minimal fixture with mail domains for both authorities, a
/// members-only online event with `places` and an open one at a place.
fn site_with_events(places: u32, date: NaiveDate) -> tempfile::TempDir {
    let site = site_dir();
    for (file, domains) in [
        ("mitgliedsstadt", "[stadt.example]"),
        ("nichtmitglied", "[gemeinde.example]"),
    ] {
        let path = site.path().join(format!("content/kommunen/{file}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replacen(
            "\n---\n",
            &format!("\ndienstliche_domains: {domains}\n---\n"),
            1,
        );
        std::fs::write(&path, text).unwrap();
    }
    let dir = site.path().join("content/veranstaltungen");
    std::fs::create_dir_all(&dir).unwrap();
    let day = date.format("%Y-%m-%d");
    std::fs::write(
        dir.join("lernraum.md"),
        format!("---\ntitel: Lernraum\nkurzbeschreibung: Austausch.\ndatum: {day}\nbeginn: \"18:30\"\nende: \"20:00\"\nonline_link: https://lernen.example/raum/geheim\nplaetze: {places}\nteilnahme: mitglieder\n---\nText.\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("markt.md"),
        format!("---\ntitel: Markt\nkurzbeschreibung: Für alle.\ndatum: {day}\nbeginn: \"13:00\"\nende: \"17:00\"\nort: \"Stadthalle, Am Park 4, 12345 Teststadt\"\nplaetze: 50\nteilnahme: alle\n---\nText.\n"),
    )
    .unwrap();
    site
}

fn open(site: &Path) -> AppState {
    let mut s = settings(site);
    s.per_ip_per_10_min = 100_000;
    s.per_recipient_per_hour = 1000;
    s.signing_key = Some(Secret("events-test".into()));
    state_with(site, s)
}

async fn register(state: &AppState, event: &str, email: &str, kommune: &str) -> Reply {
    let ts = ts(state, 5);
    let name = format!("Person {}", email.split('@').next().unwrap());
    post_form(
        state,
        "/forms/veranstaltung",
        &[
            ("veranstaltung", event),
            ("name", &name),
            ("email", email),
            ("kommune", kommune),
            ("organisation", "Zweckverband Test"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await
}

fn all(state: &AppState) -> Vec<BookingRow> {
    state.store.bookings(&BookingFilter::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_for_one_place_one_gets_it_the_rest_wait_in_confirmation_order() {
    let site = site_with_events(1, in_days(30));
    let (a, b) = (open(site.path()), open(site.path()));
    let people: Vec<String> = (0..20).map(|i| format!("p{i:02}@stadt.example")).collect();
    let mut tasks = Vec::new();
    for (i, email) in people.iter().cloned().enumerate() {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let r = register(&s, "lernraum", &email, "mitgliedsstadt").await;
            assert_eq!(r.status, 303, "{}", r.body);
            assert_eq!(
                r.location.as_deref(),
                Some("/formular/danke-veranstaltung/")
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Double opt-in: nobody holds a place before confirming.
    assert!(all(&a).iter().all(|b| b.state == BookingState::Unconfirmed));
    assert!(all(&a)
        .iter()
        .all(|b| b.kind == BookingKind::Event && b.price_cents == 0));
    // Everybody confirms at the same moment, through both servers.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(people.len()));
    let mut tasks = Vec::new();
    for (i, email) in people.iter().cloned().enumerate() {
        let s = if i % 2 == 0 { b.clone() } else { a.clone() };
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let confirm = link(&s, &email, "veranstaltung-bestaetigen", "bestaetigen");
            barrier.wait().await;
            assert_eq!(post(&s, &confirm).await.status, 303);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rows = all(&a);
    let confirmed: Vec<&BookingRow> = rows
        .iter()
        .filter(|b| b.state == BookingState::Confirmed)
        .collect();
    let mut waiting: Vec<&BookingRow> = rows
        .iter()
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    assert_eq!(confirmed.len(), 1, "one place: {rows:#?}");
    assert_eq!(waiting.len(), 19);
    // The waiting list is in the order of the confirmations.
    let events = a.store.booking_events(None).unwrap();
    let waiting_ids: HashSet<i64> = waiting.iter().map(|b| b.id).collect();
    let order: Vec<i64> = events
        .iter()
        .filter(|e| e.from_state == Some(BookingState::Unconfirmed))
        .map(|e| e.booking_id)
        .filter(|id| waiting_ids.contains(id))
        .collect();
    waiting.sort_by_key(|b| b.queue_no);
    assert_eq!(waiting.iter().map(|b| b.id).collect::<Vec<_>>(), order);
    // Each mail exactly once.
    for email in &people {
        assert_eq!(
            mails(&a, email, "veranstaltung-bestaetigen").len(),
            1,
            "{email}"
        );
        let placed = mails(&a, email, "veranstaltung-bestaetigt").len();
        let on_list = mails(&a, email, "veranstaltung-warteliste").len();
        assert_eq!(placed + on_list, 1, "{email}: {placed} + {on_list}");
        assert!(mails(&a, email, "buchung-bestaetigt").is_empty());
    }
    let first = &confirmed[0].email;
    let raw = &mails(&a, first, "veranstaltung-bestaetigt")[0];
    let text = text_of(raw);
    assert!(text.contains("von 18:30 bis 20:00 Uhr"), "{text}");
    assert!(
        text.contains("https://lernen.example/raum/geheim"),
        "the link goes to the registered: {text}"
    );
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let ics = msg.attachments().next().expect("calendar attachment");
    let ics = String::from_utf8(ics.contents().to_vec()).unwrap();
    let day = in_days(30).format("%Y%m%d");
    assert!(
        ics.contains(&format!("DTSTART;TZID=Europe/Berlin:{day}T183000\r\n")),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTEND;TZID=Europe/Berlin:{day}T200000\r\n")),
        "{ics}"
    );
    assert!(ics.contains("BEGIN:VTIMEZONE"), "{ics}");
    assert!(
        !ics.contains("geheim"),
        "no private link in a calendar file: {ics}"
    );
    let position_two = &waiting[1].email;
    assert!(
        text_of(&mails(&a, position_two, "veranstaltung-warteliste")[0])
            .contains("Platz 2 der Warteliste")
    );

    // The confirmed person cancels: the first one waiting moves up at once.
    let cancel = link(&a, first, "veranstaltung-bestaetigt", "stornieren");
    assert_eq!(post(&b, &cancel).await.status, 200);
    assert_eq!(booking_of(&a, first).state, BookingState::Cancelled);
    assert_eq!(mails(&a, first, "veranstaltung-storniert").len(), 1);
    let next = booking_of(&a, &waiting[0].email);
    assert_eq!(next.state, BookingState::Confirmed);
    let moved = mails(&a, &next.email, "veranstaltung-bestaetigt");
    assert_eq!(moved.len(), 1);
    assert!(text_of(&moved[0]).contains("von der Warteliste nachgerückt"));
    let still: Vec<BookingRow> = all(&a)
        .into_iter()
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    assert_eq!(still.len(), 18);
    assert!(all(&a).iter().all(|b| b.state != BookingState::Offered));
    // The one who moved up is no longer told anything else; the second waits on.
    assert_eq!(booking_of(&a, position_two).state, BookingState::Waiting);
    // Cancelling twice changes nothing and sends nothing.
    post(&a, &cancel).await;
    assert_eq!(mails(&a, first, "veranstaltung-storniert").len(), 1);
    assert_eq!(mails(&a, &next.email, "veranstaltung-bestaetigt").len(), 1);
}

#[tokio::test]
async fn members_only_events_refuse_other_addresses_with_a_clear_message() {
    let site = site_with_events(10, in_days(30));
    let state = open(site.path());
    let r = register(&state, "lernraum", "eva@gemeinde.example", "nichtmitglied").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains(
            "„Lernraum“ ist nur für Beschäftigte der Mitgliedskommunen der KommunalCampus eG;"
        ),
        "{}",
        r.body
    );
    assert!(r.body.contains("ist kein Mitglied"), "{}", r.body);
    assert!(
        r.body.contains("eva@gemeinde.example"),
        "input kept: {}",
        r.body
    );
    let r = register(&state, "lernraum", "eva@privat.example", "andere").await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("nur für Beschäftigte der Mitgliedskommunen"),
        "{}",
        r.body
    );
    // A member chosen, but a private address: the official-address check.
    let r = register(&state, "lernraum", "eva@privat.example", "mitgliedsstadt").await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("nur dienstliche Adressen (@stadt.example)"),
        "{}",
        r.body
    );
    assert!(all(&state).is_empty(), "nothing stored");
    assert!(state.store.outbox().unwrap().is_empty(), "nothing sent");
    // The open event takes everybody.
    let r = register(&state, "markt", "eva@gemeinde.example", "nichtmitglied").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = register(&state, "markt", "max@privat.example", "andere").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(all(&state).len(), 2);
}

#[tokio::test]
async fn past_and_unknown_events_take_no_registration() {
    let site = site_with_events(10, in_days(-3));
    let state = open(site.path());
    let r = register(&state, "markt", "eva@stadt.example", "mitgliedsstadt").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("hat bereits stattgefunden"), "{}", r.body);
    let r = register(
        &state,
        "gibt-es-nicht",
        "eva@stadt.example",
        "mitgliedsstadt",
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Diese Veranstaltung gibt es nicht"),
        "{}",
        r.body
    );
    assert!(all(&state).is_empty());
}

#[tokio::test]
async fn one_reminder_before_the_event_and_no_module_mails() {
    let date = in_days(20);
    let site = site_with_events(5, date);
    let state = open(site.path());
    let r = register(&state, "markt", "eva@stadt.example", "mitgliedsstadt").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let confirm = link(
        &state,
        "eva@stadt.example",
        "veranstaltung-bestaetigen",
        "bestaetigen",
    );
    assert_eq!(post(&state, &confirm).await.status, 303);
    assert_eq!(
        booking_of(&state, "eva@stadt.example").state,
        BookingState::Confirmed
    );
    // One day before, at noon Berlin time; twice (a second worker).
    let noon = (date - Days::days(1))
        .and_hms_opt(11, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    for _ in 0..2 {
        booking::with_env_at(&state, "", noon, |env| {
            booking::send_reminders(env, &state.settings.reminders)
        })
        .unwrap();
    }
    // "Meine Buchungen" names the event's own times and links its page.
    let listed = booking::with_env(&state, "", |env| {
        booking::my_bookings(env, "eva@stadt.example", "t")
    })
    .unwrap();
    assert_eq!(listed.len(), 1);
    let when = listed[0]["date"].as_str().unwrap();
    assert!(when.ends_with(", 13:00–17:00 Uhr"), "{when}");
    assert!(listed[0]["unit_url"]
        .as_str()
        .unwrap()
        .ends_with("/veranstaltungen/markt/"));
    let reminders = mails(&state, "eva@stadt.example", "veranstaltung-erinnerung");
    assert_eq!(reminders.len(), 1);
    let text = text_of(&reminders[0]);
    assert!(text.contains("von 13:00 bis 17:00 Uhr"), "{text}");
    assert!(
        text.contains("Ort: Stadthalle, Am Park 4, 12345 Teststadt"),
        "{text}"
    );
    for unit_mail in [
        "buchung-vorbereitung",
        "buchung-erinnerung",
        "buchung-nachbereitung",
    ] {
        assert!(
            mails(&state, "eva@stadt.example", unit_mail).is_empty(),
            "{unit_mail}"
        );
    }
    // After the event: no follow-up module mail either.
    let later = (date + Days::days(15))
        .and_hms_opt(11, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    booking::with_env_at(&state, "", later, |env| {
        booking::send_reminders(env, &state.settings.reminders)
    })
    .unwrap();
    assert!(mails(&state, "eva@stadt.example", "buchung-nachbereitung").is_empty());
}

#[tokio::test]
async fn the_office_sees_an_event_like_a_live_date() {
    use axum::http::Method;
    let date = in_days(25);
    let site = site_with_events(2, date);
    let state = open(site.path());
    let people = ["a@stadt.example", "b@stadt.example", "c@stadt.example"];
    for email in people {
        assert_eq!(
            register(&state, "lernraum", email, "mitgliedsstadt")
                .await
                .status,
            303
        );
        let confirm = link(&state, email, "veranstaltung-bestaetigen", "bestaetigen");
        assert_eq!(post(&state, &confirm).await.status, 303);
    }
    let cookie = crate::verwaltung::log_in(&state, crate::verwaltung::OFFICE).await;
    let start =
        crate::verwaltung::get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert_eq!(start.status, 200, "{}", start.body);
    let url = format!("/verwaltung/termine/lernraum/{}", date.format("%Y-%m-%d"));
    assert!(start.body.contains(&url), "{}", start.body);
    assert!(
        start.body.contains("Veranstaltung: Lernraum"),
        "{}",
        start.body
    );
    let page = crate::verwaltung::get_with(&state, Method::GET, &url, Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for name in ["Person a", "Person b", "Person c"] {
        assert!(
            page.body.contains(name),
            "{name} on the date page: {}",
            page.body
        );
    }
    // Two places, both taken; the third person waits.
    let waiting: Vec<BookingRow> = all(&state)
        .into_iter()
        .filter(|b| b.state == BookingState::Waiting)
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].email, "c@stadt.example");
}

#[tokio::test]
async fn an_attended_event_sends_no_evaluation_invite() {
    use campus_forms::attendance::Attendance;
    let site = site_with_events(5, in_days(3));
    // With an evaluation form, so the invite job has something to send.
    std::fs::write(
        site.path().join("data/bewertung.yaml"),
        crate::certificate::QUESTIONS,
    )
    .unwrap();
    let mut s = settings_with_manual_clock(site.path());
    s.per_ip_per_10_min = 100_000;
    s.signing_key = Some(Secret("events-test".into()));
    let clock = s.clock.clone();
    let state = state_with(site.path(), s);
    assert_eq!(
        register(&state, "markt", "eva@stadt.example", "mitgliedsstadt")
            .await
            .status,
        303
    );
    let confirm = link(
        &state,
        "eva@stadt.example",
        "veranstaltung-bestaetigen",
        "bestaetigen",
    );
    assert_eq!(post(&state, &confirm).await.status, 303);
    let b = booking_of(&state, "eva@stadt.example");
    assert_eq!(b.state, BookingState::Confirmed);
    // The office noted that she came; weeks later the invite job runs.
    clock.advance(std::time::Duration::from_secs(4 * 86_400));
    state
        .store
        .write(|tx| {
            tx.record_attendance(
                b.id,
                Attendance::Attended,
                "geschaeftsstelle:test",
                "test",
                clock.now(),
            )
        })
        .unwrap();
    clock.advance(std::time::Duration::from_secs(40 * 86_400));
    assert_eq!(
        campus_forms::evaluation::send_due_invites(&state).unwrap(),
        0
    );
    assert!(mails(&state, "eva@stadt.example", "bewertung-einladung").is_empty());
}

#[tokio::test]
async fn a_new_time_for_the_event_sends_the_updated_calendar_file() {
    let date = in_days(30);
    let site = site_with_events(5, date);
    let state = open(site.path());
    assert_eq!(
        register(&state, "markt", "eva@stadt.example", "mitgliedsstadt")
            .await
            .status,
        303
    );
    let confirm = link(
        &state,
        "eva@stadt.example",
        "veranstaltung-bestaetigen",
        "bestaetigen",
    );
    assert_eq!(post(&state, &confirm).await.status, 303);
    assert_eq!(
        mails(&state, "eva@stadt.example", "veranstaltung-bestaetigt").len(),
        1
    );
    let file = site.path().join("content/veranstaltungen/markt.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("beginn: \"13:00\"", "beginn: \"14:00\""),
    )
    .unwrap();
    let loaded = campus_generator::model::load(site.path()).unwrap_or_else(|p| panic!("{p}"));
    state.reload(std::sync::Arc::new(loaded)).unwrap();
    let sent = mails(&state, "eva@stadt.example", "veranstaltung-bestaetigt");
    assert_eq!(sent.len(), 2, "one update");
    let msg = mail_parser::MessageParser::default()
        .parse(&sent[1])
        .unwrap();
    assert!(
        msg.subject()
            .unwrap()
            .starts_with("Veranstaltung aktualisiert"),
        "{:?}",
        msg.subject()
    );
    let ics = String::from_utf8(msg.attachments().next().unwrap().contents().to_vec()).unwrap();
    let day = date.format("%Y%m%d");
    assert!(
        ics.contains(&format!("DTSTART;TZID=Europe/Berlin:{day}T140000\r\n")),
        "{ics}"
    );
    assert!(!ics.contains("SEQUENCE:0\r\n"), "a higher SEQUENCE: {ics}");
    assert!(ics.contains("METHOD:PUBLISH\r\n"), "{ics}");
    assert!(
        ics.contains("SUMMARY:Markt\r\n"),
        "the title stays the title: {ics}"
    );
    // Loading the same content again changes nothing.
    let loaded = campus_generator::model::load(site.path()).unwrap_or_else(|p| panic!("{p}"));
    state.reload(std::sync::Arc::new(loaded)).unwrap();
    assert_eq!(
        mails(&state, "eva@stadt.example", "veranstaltung-bestaetigt").len(),
        2
    );
}
