//! After the booking: calendar updates read back by a real iCalendar
//! parser, reminders and notices exactly once with two processes and a
//! restart, `Auto-Submitted` on every automatic mail.

use super::*;
use campus_forms::booking::ReminderReport;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The calendar attachment of a raw mail: (method of its content type, body).
pub(super) fn calendar_of(raw: &[u8]) -> Option<(String, Vec<u8>)> {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    let part = msg
        .attachments()
        .find(|a| a.is_content_type("text", "calendar"))?;
    let method = part
        .content_type()
        .and_then(|c| c.attribute("method"))
        .unwrap_or_default()
        .to_string();
    Some((method, part.contents().to_vec()))
}

/// The file as the Python `icalendar` package reads it (installed by `.ci/run`).
pub(super) fn parse_ics(ics: &[u8]) -> serde_json::Value {
    const SCRIPT: &str = r#"
import datetime, json, sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
events = []
for e in cal.walk("VEVENT"):
    start, end = e.decoded("DTSTART"), e.decoded("DTEND")
    events.append({
        "uid": str(e["UID"]), "sequence": int(e["SEQUENCE"]), "status": str(e.get("STATUS")),
        "tzid": e["DTSTART"].params.get("TZID"), "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": end.strftime("%Y-%m-%dT%H:%M"),
        "start_utc": start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M"),
    })
print(json.dumps({"method": str(cal.get("METHOD")),
    "timezones": [str(t["TZID"]) for t in cal.walk("VTIMEZONE")], "events": events}))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with the icalendar package, see .ci/run)");
    child.stdin.take().unwrap().write_all(ics).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar could not read the file: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(ics)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Checks one calendar mail: method, one event of booking `id` on `date`
/// at 09:00–13:00 Berlin time, its SEQUENCE and status.
fn assert_calendar(raw: &[u8], id: i64, date: NaiveDate, sequence: i64, cancelled: bool) {
    let (ct_method, body) = calendar_of(raw).expect("calendar attachment");
    let method = if cancelled { "CANCEL" } else { "PUBLISH" };
    assert_eq!(ct_method, method);
    let cal = parse_ics(&body);
    assert_eq!(cal["method"], method, "{cal}");
    assert_eq!(cal["timezones"], serde_json::json!(["Europe/Berlin"]));
    let events = cal["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{cal}");
    let e = &events[0];
    assert_eq!(e["uid"], format!("buchung-{id}@campus.example"));
    assert_eq!(e["sequence"], sequence, "{cal}");
    assert_eq!(
        e["status"],
        if cancelled { "CANCELLED" } else { "CONFIRMED" }
    );
    assert_eq!(e["tzid"], "Europe/Berlin");
    assert_eq!(e["start"], format!("{}T09:00", iso(date)));
    assert_eq!(e["end"], format!("{}T13:00", iso(date)));
    let utc = campus_generator::time::berlin_to_utc(campus_generator::time::live_start_local(date));
    assert_eq!(
        e["start_utc"],
        utc.format("%Y-%m-%dT%H:%M").to_string(),
        "the VTIMEZONE resolves to the right offset"
    );
}

#[tokio::test]
async fn calendar_updates_keep_the_uid_raise_the_sequence_and_cancel() {
    let site = site_dir();
    let d1 = weekday_in(40);
    let d2 = weekday_in(70);
    write_unit(site.path(), "wandel", "Wandel", &[(d1, 3, 0)]);
    let state = open(site.path());
    let a = book(
        &state,
        "anna@gemeinde.example",
        "nichtmitglied",
        "wandel",
        &iso(d1),
    )
    .await;
    let b = book(
        &state,
        "bert@gemeinde.example",
        "nichtmitglied",
        "wandel",
        &iso(d1),
    )
    .await;
    assert_eq!(a.state, BookingState::Confirmed);
    let confirmed = mails(&state, "anna@gemeinde.example", "buchung-bestaetigt");
    assert_calendar(&confirmed[0], a.id, d1, 0, false);
    // The date moves: the old entry is cancelled, the new one has the same UID.
    write_unit(site.path(), "wandel", "Wandel", &[(d2, 3, 0)]);
    reload(&state, site.path());
    let waiting = mails(&state, "anna@gemeinde.example", "buchung-warteliste");
    assert_eq!(waiting.len(), 1);
    assert_calendar(&waiting[0], a.id, d1, 1, true);
    assert!(text_of(&waiting[0]).contains("Absage des bisherigen Termins"));
    let accept = link(
        &state,
        "anna@gemeinde.example",
        "buchung-angebot",
        "angebot",
    );
    assert_eq!(post(&state, &accept).await.status, 200);
    let confirmed = mails(&state, "anna@gemeinde.example", "buchung-bestaetigt");
    assert_eq!(confirmed.len(), 2);
    assert_calendar(&confirmed[1], a.id, d2, 2, false);
    // Reloading the same content sends nothing and keeps the SEQUENCE.
    let before = snapshot(&state);
    reload(&state, site.path());
    assert_eq!(snapshot(&state), before);
    // The person cancels: CANCEL with the next SEQUENCE; the approver hears of it.
    let cancel = link(
        &state,
        "anna@gemeinde.example",
        "buchung-bestaetigt",
        "stornieren",
    );
    let r = post(&state, &cancel).await;
    assert!(r.status < 400, "{} {}", r.status, r.body);
    assert_eq!(
        booking_of(&state, "anna@gemeinde.example").state,
        BookingState::Cancelled
    );
    let cancelled = mails(&state, "anna@gemeinde.example", "buchung-storniert");
    assert_eq!(cancelled.len(), 1);
    assert_calendar(&cancelled[0], a.id, d2, 3, true);
    assert!(text_of(&cancelled[0]).contains("entfernt den Termin aus Ihrem Kalender"));
    let told = mails(&state, "info@campus.example", "buchung-storniert-freigabe");
    assert_eq!(told.len(), 1);
    assert!(text_of(&told[0]).contains("die Buchung storniert, die Sie freigegeben haben"));
    // Bert's booking moved too; the office cancels it: CANCEL, no notice to the office.
    let accept = link(
        &state,
        "bert@gemeinde.example",
        "buchung-angebot",
        "angebot",
    );
    assert_eq!(post(&state, &accept).await.status, 200);
    let bert = mails(&state, "bert@gemeinde.example", "buchung-bestaetigt");
    assert_eq!(bert.len(), 2);
    assert_calendar(&bert[1], b.id, d2, 2, false);
    booking::with_env(&state, "", |env| {
        booking::cancel(env, b.id, &Actor::Office("test".into()))
    })
    .unwrap()
    .expect("cancelled");
    let cancelled = mails(&state, "bert@gemeinde.example", "buchung-storniert");
    assert_calendar(&cancelled[0], b.id, d2, 3, true);
    assert_eq!(
        mails(&state, "info@campus.example", "buchung-storniert-freigabe").len(),
        1
    );
}

#[tokio::test]
async fn a_waiting_list_place_without_calendar_cancels_without_a_file() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "voll", "Voll", &[(d, 1, 1)]);
    let state = open(site.path());
    let w = book(
        &state,
        "wartet@gemeinde.example",
        "nichtmitglied",
        "voll",
        &iso(d),
    )
    .await;
    assert_eq!(w.state, BookingState::Waiting);
    booking::with_env(&state, "", |env| {
        booking::cancel(env, w.id, &Actor::Participant)
    })
    .unwrap()
    .expect("cancelled");
    let cancelled = mails(&state, "wartet@gemeinde.example", "buchung-storniert");
    assert!(
        calendar_of(&cancelled[0]).is_none(),
        "nothing in a calendar to cancel"
    );
    assert!(!text_of(&cancelled[0]).contains("Kalender"));
}

#[tokio::test]
async fn every_automatic_mail_says_auto_submitted() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Eins", &[(d, 3, 0)]);
    let state = open(site.path());
    let b = book(
        &state,
        "eva@stadt.example",
        "mitgliedsstadt",
        "eins",
        &iso(d),
    )
    .await;
    booking::with_env(&state, "", |env| {
        booking::cancel(env, b.id, &Actor::Participant)
    })
    .unwrap();
    let all = state.store.outbox().unwrap();
    let kinds: HashSet<&str> = all.iter().map(|m| m.kind.as_str()).collect();
    for kind in [
        "buchung-bestaetigen",
        "buchung-freigabe-anfrage",
        "buchung-in-freigabe",
        "buchung-bestaetigt",
        "buchung-storniert",
        "buchung-storniert-freigabe",
    ] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    for m in &all {
        let raw = state.store.raw_message(m.id).unwrap();
        let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let value = msg
            .header_raw("Auto-Submitted")
            .unwrap_or_else(|| panic!("{}: no Auto-Submitted", m.kind));
        assert_eq!(value.trim(), "auto-generated", "{}", m.kind);
    }
}

/// A unit with one date and a preparation link in its content.
fn write_unit_with_preparation(site: &Path, date: NaiveDate) {
    std::fs::write(
        site.join("content/einheiten/vorbereitet.md"),
        format!("---\ntitel: Gut vorbereitet\nkurzbeschreibung: Test.\nformat: hybrid\nniveau: fachkompetenzen\nthemen: [testthema]\naufwand_stunden: 8\nvorbereitung_link: https://lernen.example/vorbereitung/gut\ntermine:\n  - datum: {}\n    plaetze: 5\n---\nText.\n", iso(date)),
    )
    .unwrap();
}

/// Runs the reminders of `states` at the same time (as two processes would).
fn remind_all(states: &[&AppState]) -> Vec<ReminderReport> {
    std::thread::scope(|s| {
        let runs: Vec<_> = states
            .iter()
            .map(|st| {
                s.spawn(move || {
                    booking::with_env(st, "", |env| {
                        booking::send_reminders(env, &st.settings.reminders)
                    })
                    .unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

fn count(state: &AppState, to: &str, kind: &str) -> usize {
    mails(state, to, kind).len()
}

#[tokio::test]
async fn reminders_and_notices_go_out_once_with_two_processes_and_a_restart() {
    let site = site_dir();
    let d = weekday_in(30);
    write_unit_with_preparation(site.path(), d);
    let mut settings = test_settings(site.path());
    settings.clock = Clock::manual();
    let clock = settings.clock.clone();
    let one = state_with(site.path(), settings.clone());
    let two = state_with(site.path(), settings.clone());
    let anna = "anna@stadt.example";
    let paul = "paul@stadt.example";
    let approver = "freigabe@stadt.example";
    let a = book(&one, anna, "mitgliedsstadt", "vorbereitet", &iso(d)).await;
    assert_eq!(a.state, BookingState::Confirmed);
    // Paul confirms his request; his authority does not decide.
    request_booking(&one, paul, "mitgliedsstadt", "vorbereitet", &iso(d)).await;
    let confirm = link(&one, paul, "buchung-bestaetigen", "bestaetigen");
    assert_eq!(post(&one, &confirm).await.status, 303);
    assert_eq!(booking_of(&one, paul).state, BookingState::Approval);
    let total = |s: &AppState| s.store.outbox().unwrap().len();
    let queued = total(&one);
    remind_all(&[&one, &two]);
    assert_eq!(total(&one), queued, "nothing due yet");

    let day = Duration::from_secs(86_400);
    let until = |days_before: i64| {
        let today = clock.berlin_now().date();
        ((d - today).num_days() - days_before) as u32
    };
    // Seven days later the approver is reminded, once, with links that work.
    clock.advance(day * 7 + Duration::from_secs(60));
    let reports = remind_all(&[&one, &two]);
    assert_eq!(
        reports.iter().map(|r| r.approval_reminders).sum::<usize>(),
        1,
        "{reports:?}"
    );
    assert_eq!(count(&one, approver, "buchung-freigabe-erinnerung"), 1);
    let raw = &mails(&one, approver, "buchung-freigabe-erinnerung")[0];
    assert!(text_of(raw).contains("wartet noch auf Ihre Entscheidung"));
    let fresh = path_of(&link_in(
        raw,
        &format!("{}/forms/buchung/freigeben/", base(&one)),
    ));
    assert_eq!(get(&one, &fresh).await.status, 200);
    // After the approval's validity Paul is told, once.
    clock.advance(day * 7);
    remind_all(&[&one, &two]);
    assert_eq!(count(&one, paul, "buchung-freigabe-abgelaufen"), 1);
    assert_eq!(count(&one, approver, "buchung-freigabe-erinnerung"), 1);
    assert!(
        text_of(&mails(&one, paul, "buchung-freigabe-abgelaufen")[0])
            .contains("Ihre Anfrage bleibt bestehen")
    );

    // 14 days before: the preparation module with the link from the content.
    clock.advance(day * until(14));
    let reports = remind_all(&[&one, &two]);
    assert_eq!(
        reports.iter().map(|r| r.preparation).sum::<usize>(),
        1,
        "{reports:?}"
    );
    let prep = mails(&one, anna, "buchung-vorbereitung");
    assert_eq!(prep.len(), 1);
    assert!(text_of(&prep[0]).contains("https://lernen.example/vorbereitung/gut"));
    assert_eq!(count(&one, anna, "buchung-erinnerung"), 0);
    // A restart (a third process on the same database) sends nothing again.
    let three = state_with(site.path(), settings.clone());
    let before = total(&three);
    remind_all(&[&three]);
    assert_eq!(total(&three), before);

    // 2 days before: the short reminder.
    clock.advance(day * until(2));
    remind_all(&[&one, &two, &three]);
    assert_eq!(count(&one, anna, "buchung-erinnerung"), 1);
    let short = text_of(&mails(&one, anna, "buchung-erinnerung")[0]);
    for word in ["Technik-Check", "Kamera", "Mikrofon"] {
        assert!(short.contains(word), "{word} in {short}");
    }
    assert_eq!(count(&one, anna, "buchung-vorbereitung"), 1);

    // 14 days after: the follow-up module.
    clock.advance(day * (until(-14)));
    remind_all(&[&one, &two]);
    remind_all(&[&three]);
    assert_eq!(count(&one, anna, "buchung-nachbereitung"), 1);
    assert_eq!(count(&one, anna, "buchung-vorbereitung"), 1);
    assert_eq!(count(&one, anna, "buchung-erinnerung"), 1);
    assert_eq!(count(&one, paul, "buchung-freigabe-abgelaufen"), 1);
    // Paul never held a place: no reminders about the date.
    assert_eq!(count(&one, paul, "buchung-vorbereitung"), 0);
}
