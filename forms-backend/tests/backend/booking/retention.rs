//! Retention of bookings, their history, consents and office sessions by
//! the clock: "N years after the end of the year", as `[aufbewahrung]` says.

use super::*;
use campus_forms::store::Table;
use chrono::TimeZone;

/// Moves the manual clock of `state` to 10:00 UTC on `date`.
fn move_to(state: &AppState, date: NaiveDate) {
    let target = chrono::Utc
        .from_utc_datetime(&date.and_hms_opt(10, 0, 0).unwrap())
        .timestamp();
    let now = state.settings.clock.now();
    assert!(target > now, "the clock only moves forward");
    state
        .settings
        .clock
        .advance(Duration::from_secs((target - now) as u64));
}

fn purge(state: &AppState) -> campus_forms::store::PurgeReport {
    campus_forms::ops::purge(&state.store, &state.settings).unwrap()
}

fn ids(state: &AppState) -> Vec<i64> {
    let mut ids: Vec<i64> = state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .iter()
        .map(|b| b.id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn bookings_history_consents_and_sessions_go_when_their_period_ends() {
    let site = site_dir();
    let d = weekday_in(40);
    write_unit(site.path(), "eins", "Eins", &[(d, 5, 0)]);
    let mut settings = test_settings(site.path());
    settings.clock = Clock::manual();
    let state = state_with(site.path(), settings);
    let kept = book(
        &state,
        "bleibt@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    let gone = book(
        &state,
        "geht@gemeinde.example",
        "nichtmitglied",
        "eins",
        &iso(d),
    )
    .await;
    booking::with_env(&state, "", |env| {
        booking::cancel(env, gone.id, &Actor::Participant)
    })
    .unwrap()
    .expect("cancelled");
    let now = state.settings.clock.now();
    state
        .store
        .write(|tx| tx.insert_login_link("hash", "office@campus.example", now, now + 900))
        .unwrap();
    let consents = state.store.count(Table::Consents).unwrap();
    let events = state.store.booking_events(None).unwrap().len();

    // 29 days later the expired login link is still there, after 31 it is gone.
    let day = Duration::from_secs(86_400);
    state.settings.clock.advance(day * 29);
    assert_eq!(purge(&state).journey.sessions, 0);
    state.settings.clock.advance(day * 2);
    assert_eq!(purge(&state).journey.sessions, 1);

    // Until the end of the third year after the cancellation everything stays.
    let cancelled_year = chrono::DateTime::from_timestamp(now, 0).unwrap().year();
    move_to(
        &state,
        NaiveDate::from_ymd_opt(cancelled_year + 3, 12, 30).unwrap(),
    );
    let r = purge(&state);
    assert_eq!(r.journey, Default::default(), "{r:?}");
    assert_eq!(ids(&state), vec![kept.id, gone.id]);

    // Then the cancelled booking goes with its history and its consent; the
    // confirmed one stays until three years after the year of its live date.
    move_to(
        &state,
        NaiveDate::from_ymd_opt(cancelled_year + 4, 1, 2).unwrap(),
    );
    let r = purge(&state);
    let live_year = d.year();
    if live_year > cancelled_year {
        assert_eq!(r.journey.bookings, 1, "{r:?}");
        assert_eq!(ids(&state), vec![kept.id]);
        assert_eq!(state.store.count(Table::Consents).unwrap(), consents - 1);
        let left = state.store.booking_events(None).unwrap();
        assert!(left.iter().all(|e| e.booking_id == kept.id));
        assert!(left.len() < events);
        assert!(!left.is_empty(), "the kept booking keeps its history");
    }
    move_to(
        &state,
        NaiveDate::from_ymd_opt(live_year + 4, 1, 2).unwrap(),
    );
    purge(&state);
    assert!(ids(&state).is_empty());
    assert!(state.store.booking_events(None).unwrap().is_empty());
    assert_eq!(state.store.count(Table::Consents).unwrap(), 0);
}

/// Evaluations go three years after the end of their live date's year,
/// certificates ten years after the end of the year they were issued in
/// (the defaults of `[aufbewahrung]`); the verification then says "unknown".
#[tokio::test]
async fn evaluations_and_certificates_go_when_their_period_ends() {
    let site = site_dir();
    let mut settings = test_settings(site.path());
    settings.clock = Clock::manual();
    let state = state_with(site.path(), settings);
    let now = state.settings.clock.now();
    let year = chrono::DateTime::from_timestamp(now, 0).unwrap().year();
    let live_date = format!("{year}-03-10");
    state
        .store
        .write(|tx| {
            tx.execute(
                "INSERT INTO evaluation_answers (id, unit_id, live_date, answers, share_text)
                 VALUES ('zufall', 'eins', ?1, '{}', 0)",
                &[&live_date as &dyn campus_forms::store::ToValue],
            )?;
            tx.issue_certificate(&campus_forms::store::CertificateRow {
                number: "KC-TEST-0000-0001".into(),
                booking_id: None,
                course_id: None,
                email: "anna@x.example".into(),
                name: "Anna Beispiel".into(),
                title: "Eins".into(),
                live_date: live_date.clone(),
                workload_tenths: 30,
                lecturers: String::new(),
                units: String::new(),
                issued_at: now,
            })
            .map(drop)
        })
        .unwrap();
    let kept = |state: &AppState| {
        (
            state.store.evaluations("eins", &live_date).unwrap().len(),
            state
                .store
                .certificate("KC-TEST-0000-0001")
                .unwrap()
                .is_some(),
        )
    };

    move_to(&state, NaiveDate::from_ymd_opt(year + 3, 12, 30).unwrap());
    let r = purge(&state);
    assert_eq!((r.journey.evaluations, r.journey.certificates), (0, 0));
    assert_eq!(kept(&state), (1, true));

    move_to(&state, NaiveDate::from_ymd_opt(year + 4, 1, 2).unwrap());
    let r = purge(&state);
    assert_eq!((r.journey.evaluations, r.journey.certificates), (1, 0));
    assert_eq!(kept(&state), (0, true));

    move_to(&state, NaiveDate::from_ymd_opt(year + 10, 12, 30).unwrap());
    assert_eq!(purge(&state).journey.certificates, 0);
    move_to(&state, NaiveDate::from_ymd_opt(year + 11, 1, 2).unwrap());
    assert_eq!(purge(&state).journey.certificates, 1);
    assert_eq!(kept(&state), (0, false));
}

#[test]
fn the_privacy_page_shows_the_configured_periods() {
    let site = site_dir();
    let page = repo_root().join("content/seiten/datenschutz.md");
    let body = std::fs::read_to_string(&page).unwrap();
    assert!(campus_generator::retention::unknown_keys(&body).is_empty());
    let mut config = campus_generator::config::Config::load(site.path()).unwrap();
    let mut table = toml::Table::new();
    table.insert("buchungen_jahre".into(), toml::Value::Integer(5));
    table.insert("sitzungen_tage".into(), toml::Value::Integer(12));
    config
        .rest
        .insert("aufbewahrung".into(), toml::Value::Table(table));
    let text = campus_generator::retention::expand(&body, &config);
    assert!(!text.contains("[[aufbewahrung:"), "{text}");
    assert!(
        text.contains("löschen wir 5 Jahre nach Ablauf des Jahres"),
        "{text}"
    );
    assert!(
        text.contains("löschen wir 12 Tage nach ihrer letzten Nutzung"),
        "{text}"
    );
    assert!(
        text.contains("Ihre Anfrage 365 Tage nach ihrem Eingang"),
        "{text}"
    );
}
