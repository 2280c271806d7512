//! The office moves a person to another date (capacity respected, the old
//! date's waiting list advances, mails) and offers a free place by hand to
//! a waiting person of its choosing; only the office, only with the CSRF
//! token, every move in the booking's trail with the office account.

use crate::common::*;
use crate::verwaltung::{
    awaiting_approval, csrf_of, get_with, log_in, open, post_with, snapshot, OFFICE,
};
use axum::http::{header, Method};
use campus_forms::booking::BookingState;
use campus_forms::store::BookingRow;
use campus_forms::AppState;

/// hybrid-eins in the fixture: 2027-02-10 has one free place, 2027-03-10 ten.
const FIRST: &str = "2027-02-10";
const SECOND: &str = "2027-03-10";

fn booking(state: &AppState, id: i64) -> BookingRow {
    state.store.booking(id).unwrap().unwrap()
}

fn mails_to(state: &AppState, to: &str, kind: &str) -> Vec<String> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to && m.kind == kind)
        .map(|m| String::from_utf8_lossy(&state.store.raw_message(m.id).unwrap()).into_owned())
        .collect()
}

async fn act(
    state: &AppState,
    cookie: &str,
    csrf: &str,
    id: i64,
    action: &str,
    date: &str,
) -> String {
    let r = post_with(
        state,
        &format!("/verwaltung/buchungen/{id}/{action}"),
        Some(cookie),
        &[("csrf", csrf), ("termin", date)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.headers[header::LOCATION].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_office_moves_a_person_and_offers_a_place_by_hand() {
    let site = site_dir();
    let (state, _) = open(site.path(), 1000);
    let anna = awaiting_approval(&state, "Anna", "anna@anderswo.example", "nichtmitglied").await;
    let bernd = awaiting_approval(&state, "Bernd", "bernd@anderswo.example", "nichtmitglied").await;
    let carla = awaiting_approval(&state, "Carla", "carla@anderswo.example", "nichtmitglied").await;
    assert_eq!(anna.unit_id, "hybrid-eins");
    let office = log_in(&state, OFFICE).await;
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&office)).await;
    let csrf = csrf_of(&start.body);
    for b in [&anna, &bernd, &carla] {
        act(&state, &office, &csrf, b.id, "freigeben", "").await;
    }
    assert_eq!(booking(&state, anna.id).state, BookingState::Confirmed);
    assert_eq!(booking(&state, bernd.id).state, BookingState::Waiting);
    assert_eq!(booking(&state, carla.id).state, BookingState::Waiting);

    // The booking page offers the move and the offer with the dates.
    let page = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/buchungen/{}", anna.id),
        Some(&office),
    )
    .await;
    assert!(
        page.body.contains("/umbuchen") && page.body.contains("10.\u{a0}März\u{a0}2027 (10 frei)"),
        "{}",
        page.body
    );
    let page = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/buchungen/{}", carla.id),
        Some(&office),
    )
    .await;
    assert!(page.body.contains("/angebieten"), "{}", page.body);

    // Refused: no token, an approver's session, a full date, no such date.
    let before = snapshot(&state);
    let r = post_with(
        &state,
        &format!("/verwaltung/buchungen/{}/umbuchen", anna.id),
        Some(&office),
        &[("termin", SECOND)],
    )
    .await;
    assert_eq!(r.status, 403);
    let approver = log_in(&state, "freigabe@stadt.example").await;
    let approver_csrf = csrf_of(
        &get_with(&state, Method::GET, "/verwaltung/", Some(&approver))
            .await
            .body,
    );
    for action in ["umbuchen", "angebieten"] {
        let r = post_with(
            &state,
            &format!("/verwaltung/buchungen/{}/{action}", carla.id),
            Some(&approver),
            &[("csrf", &approver_csrf), ("termin", SECOND)],
        )
        .await;
        assert_eq!(r.status, 404, "{action}");
    }
    let loc = act(&state, &office, &csrf, carla.id, "angebieten", FIRST).await;
    assert!(loc.ends_with("ergebnis=voll"), "{loc}");
    let loc = act(&state, &office, &csrf, anna.id, "umbuchen", "2027-04-01").await;
    assert!(loc.ends_with("ergebnis=kein-termin"), "{loc}");
    let loc = act(&state, &office, &csrf, anna.id, "umbuchen", FIRST).await;
    assert!(
        loc.ends_with("ergebnis=kein-termin"),
        "the current date: {loc}"
    );
    let loc = act(&state, &office, &csrf, bernd.id, "umbuchen", SECOND).await;
    assert!(
        loc.ends_with("ergebnis=unveraendert"),
        "waiting, not movable: {loc}"
    );
    let after = snapshot(&state);
    assert_eq!(
        (after.0, after.1),
        (before.0, before.1),
        "no booking, no event changed"
    );

    // Anna moves; Bernd, first on the old date's list, is offered her place.
    let loc = act(&state, &office, &csrf, anna.id, "umbuchen", SECOND).await;
    assert!(loc.ends_with("ergebnis=umgebucht"), "{loc}");
    let a = booking(&state, anna.id);
    assert_eq!(
        (a.state, a.live_date.as_deref()),
        (BookingState::Confirmed, Some(SECOND))
    );
    let confirmed = mails_to(&state, "anna@anderswo.example", "buchung-bestaetigt");
    assert_eq!(confirmed.len(), 2, "first confirmation and the update");
    assert!(
        confirmed[1].contains("Termin aktualisiert"),
        "{}",
        confirmed[1]
    );
    assert!(confirmed[1].contains("hybrid-eins-2027-03-10.ics"));
    let b = booking(&state, bernd.id);
    assert_eq!(
        (b.state, b.live_date.as_deref()),
        (BookingState::Offered, Some(FIRST))
    );
    assert_eq!(
        mails_to(&state, "bernd@anderswo.example", "buchung-angebot").len(),
        1
    );
    let trail = state.store.booking_events(Some(anna.id)).unwrap();
    let last = trail.last().unwrap();
    assert_eq!(last.actor, format!("geschaeftsstelle:{OFFICE}"));
    assert_eq!(last.note, format!("umgebucht vom {FIRST}"));

    // Carla, behind Bernd, gets a place on the second date by hand.
    let loc = act(&state, &office, &csrf, carla.id, "angebieten", SECOND).await;
    assert!(loc.ends_with("ergebnis=angeboten"), "{loc}");
    let c = booking(&state, carla.id);
    assert_eq!(
        (c.state, c.live_date.as_deref()),
        (BookingState::Offered, Some(SECOND))
    );
    assert!(c.offer_until.is_some());
    let offer = mails_to(&state, "carla@anderswo.example", "buchung-angebot");
    assert_eq!(offer.len(), 1);
    assert!(offer[0].contains("/forms/buchung/angebot/"), "{}", offer[0]);
    let last = state
        .store
        .booking_events(Some(carla.id))
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (last.actor.as_str(), last.note.as_str()),
        ("geschaeftsstelle:info@campus.example", "Angebot von Hand")
    );
    // Twice changes nothing: she no longer waits.
    let loc = act(&state, &office, &csrf, carla.id, "angebieten", SECOND).await;
    assert!(loc.ends_with("ergebnis=unveraendert"), "{loc}");
    assert_eq!(
        mails_to(&state, "carla@anderswo.example", "buchung-angebot").len(),
        1
    );
}
