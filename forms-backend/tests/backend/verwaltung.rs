//! The back-office `/verwaltung/`: login by mail link (scanners, one-time,
//! same answer for unknown addresses, rate limit), sessions (cookie flags,
//! idle and absolute expiry with an injected clock), CSRF, and approving a
//! booking through the web with the office account in the audit trail.

use crate::common::*;
use axum::body::Body;
use axum::http::{header, Method, Request};
use campus_forms::booking::BookingState;
use campus_forms::clock::Clock;
use campus_forms::config::Secret;
use campus_forms::store::{BookingFilter, BookingRow, Table};
use campus_forms::AppState;

pub(crate) const OFFICE: &str = "info@campus.example";

/// A state with a manual clock the test moves.
pub(crate) fn open(site: &std::path::Path, per_ip: u32) -> (AppState, Clock) {
    let clock = Clock::manual();
    let mut s = settings(site);
    s.per_ip_per_10_min = per_ip;
    s.signing_key = Some(Secret("verwaltung-test".into()));
    s.clock = clock.clone();
    (state_with(site, s), clock)
}

fn with_client(mut req: Request<Body>) -> Request<Body> {
    let addr: std::net::SocketAddr = format!("{CLIENT_IP}:50000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

pub(crate) async fn post_with(
    state: &AppState,
    path: &str,
    cookie: Option<&str>,
    pairs: &[(&str, &str)],
) -> Reply {
    let mut req = Request::post(path)
        .header(header::ORIGIN, BASE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(
        state,
        with_client(req.body(Body::from(urlencode(pairs))).unwrap()),
    )
    .await
}

pub(crate) async fn get_with(
    state: &AppState,
    method: Method,
    path: &str,
    cookie: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}

fn login_mails(state: &AppState, to: &str) -> Vec<Vec<u8>> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == to && m.kind == "verwaltung-anmelden")
        .map(|m| state.store.raw_message(m.id).unwrap())
        .collect()
}

/// Asks for a login link for `email` and returns its path.
pub(crate) async fn request_link(state: &AppState, email: &str) -> String {
    let r = post_with(state, "/verwaltung/anmelden", None, &[("email", email)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mails = login_mails(state, email);
    let raw = mails.last().expect("a login mail");
    path_of(&link_in(
        raw,
        &format!("{}/verwaltung/anmelden/", state.loaded().backend_url),
    ))
}

/// Logs in through the link; returns the `Cookie` header value.
pub(crate) async fn log_in(state: &AppState, email: &str) -> String {
    let link = request_link(state, email).await;
    let r = post_with(state, &link, None, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let set = r.headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token in the forms of a page.
pub(crate) fn csrf_of(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn link_scanners_log_nobody_in_and_the_post_works_once() {
    let site = site_dir();
    let (state, _) = open(site.path(), 1000);
    let link = request_link(&state, OFFICE).await;
    for method in [Method::GET, Method::HEAD, Method::GET, Method::HEAD] {
        let r = get_with(&state, method.clone(), &link, None).await;
        assert_eq!(r.status, 200, "{method} {}", r.body);
        assert!(r.headers.get(header::SET_COOKIE).is_none(), "{method}");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    }
    let page = get_with(&state, Method::GET, &link, None).await;
    assert!(page.body.contains("Jetzt anmelden"), "{}", page.body);
    assert!(
        page.body.contains(&format!("action=\"{link}\"")),
        "{}",
        page.body
    );
    // Still nobody logged in.
    let r = get_with(&state, Method::GET, "/verwaltung/", None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/verwaltung/anmelden"));

    let r = post_with(&state, &link, None, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/verwaltung/"));
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/verwaltung/", "Secure"] {
        assert!(set.contains(flag), "{flag} missing in {set}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(
        start.body.contains(&format!("Angemeldet als {OFFICE}")),
        "{}",
        start.body
    );

    // One-time: the second POST and a later GET find the link used.
    let again = post_with(&state, &link, None, &[]).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(again.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(get_with(&state, Method::GET, &link, None).await.status, 410);
    // A forged cookie is nobody.
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/",
        Some("campus_verwaltung=erfunden"),
    )
    .await;
    assert_eq!(r.status, 303);
}

#[tokio::test]
async fn unknown_addresses_get_the_identical_answer_and_no_mail() {
    let site = site_dir();
    let (state, _) = open(site.path(), 1000);
    // Same length, so the pages can be compared byte for byte.
    let unknown = "xxxx@campus.example";
    assert_eq!(unknown.len(), OFFICE.len());
    let known = post_with(&state, "/verwaltung/anmelden", None, &[("email", OFFICE)]).await;
    let other = post_with(&state, "/verwaltung/anmelden", None, &[("email", unknown)]).await;
    assert_eq!(known.status, 200);
    assert_eq!(other.status, known.status);
    assert_eq!(
        other.body.replace(unknown, OFFICE),
        known.body,
        "the answer must not tell whether an address is known"
    );
    assert_eq!(login_mails(&state, OFFICE).len(), 1);
    assert!(login_mails(&state, unknown).is_empty());
    assert_eq!(state.store.outbox().unwrap().len(), 1);
    // Not an address at all: a German message, nothing sent.
    let bad = post_with(
        &state,
        "/verwaltung/anmelden",
        None,
        &[("email", "kein-at")],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("dienstliche E-Mail-Adresse"),
        "{}",
        bad.body
    );
    assert_eq!(state.store.outbox().unwrap().len(), 1);
}

#[tokio::test]
async fn login_requests_are_rate_limited() {
    let site = site_dir();
    let (state, _) = open(site.path(), 3);
    for _ in 0..3 {
        let r = post_with(&state, "/verwaltung/anmelden", None, &[("email", OFFICE)]).await;
        assert_eq!(r.status, 200);
    }
    let r = post_with(&state, "/verwaltung/anmelden", None, &[("email", OFFICE)]).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(login_mails(&state, OFFICE).len(), 3);
}

#[tokio::test]
async fn links_expire_and_sessions_expire_when_idle_and_absolutely() {
    let site = site_dir();
    let (state, offset) = open(site.path(), 1000);
    let s = state.settings.verwaltung.clone();
    // An old link no longer logs in.
    let link = request_link(&state, OFFICE).await;
    offset.advance(std::time::Duration::from_secs(
        (s.link_valid_secs + 1) as u64,
    ));
    assert_eq!(get_with(&state, Method::GET, &link, None).await.status, 410);
    assert_eq!(post_with(&state, &link, None, &[]).await.status, 410);

    // Idle: one step beyond the idle time ends the session.
    let cookie = log_in(&state, OFFICE).await;
    let page = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.body);
    offset.advance(std::time::Duration::from_secs((s.idle_secs + 1) as u64));
    let r = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert_eq!(r.status, 303);
    let r = post_with(
        &state,
        "/verwaltung/abmelden",
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, 403);

    // Absolute: active all the time, still ends after the maximum.
    let cookie = log_in(&state, OFFICE).await;
    let step = s.idle_secs - 60;
    let mut active = 0;
    while active + step <= s.absolute_secs {
        offset.advance(std::time::Duration::from_secs((step) as u64));
        active += step;
        let r = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
        assert_eq!(r.status, 200, "still active after {active} s");
    }
    offset.advance(std::time::Duration::from_secs((step) as u64));
    let r = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert_eq!(r.status, 303, "ended after {} s", active + step);

    // Logout ends the session at once.
    let cookie = log_in(&state, OFFICE).await;
    let page = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    let r = post_with(
        &state,
        "/verwaltung/abmelden",
        Some(&cookie),
        &[("csrf", &csrf_of(&page.body))],
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        get_with(&state, Method::GET, "/verwaltung/", Some(&cookie))
            .await
            .status,
        303
    );
}

/// A booking of a non-member, which the office approves, waiting for it.
pub(crate) async fn booking_awaiting_the_office(state: &AppState) -> BookingRow {
    awaiting_approval(
        state,
        "Nora Nichtmitglied",
        "nora@anderswo.example",
        "nichtmitglied",
    )
    .await
}

/// A confirmed booking request of `email` (staff of `kommune`) waiting for
/// its approval.
pub(crate) async fn awaiting_approval(
    state: &AppState,
    name: &str,
    email: &str,
    kommune: &str,
) -> BookingRow {
    let ts = ts(state, 5);
    let unit = state
        .loaded()
        .site
        .units
        .iter()
        .find(|u| !u.dates.is_empty() && u.dates[0].capacity > u.dates[0].taken)
        .map(|u| (u.id.clone(), u.dates[0].date.format("%Y-%m-%d").to_string()))
        .expect("a unit with a free live date in the fixture");
    let r = post_form(
        state,
        "/forms/buchung",
        &[
            ("einheit", &unit.0),
            ("termin", &unit.1),
            ("name", name),
            ("email", email),
            ("kommune", kommune),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let confirm = state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "buchung-bestaetigen" && m.recipient == email)
        .map(|m| state.store.raw_message(m.id).unwrap())
        .unwrap();
    let link = path_of(&link_in(
        &confirm,
        &format!("{}/forms/buchung/bestaetigen/", state.loaded().backend_url),
    ));
    assert_eq!(post_with(state, &link, None, &[]).await.status, 303);
    let b = state
        .store
        .bookings(&BookingFilter::default())
        .unwrap()
        .into_iter()
        .find(|b| b.email == email)
        .unwrap();
    assert_eq!(b.state, BookingState::Approval);
    b
}

pub(crate) fn snapshot(state: &AppState) -> (Vec<BookingRow>, usize, usize, i64) {
    (
        state.store.bookings(&BookingFilter::default()).unwrap(),
        state.store.booking_events(None).unwrap().len(),
        state.store.outbox().unwrap().len(),
        state.store.count(Table::Consents).unwrap(),
    )
}

#[tokio::test]
async fn approving_on_the_web_needs_the_csrf_token_and_records_the_office_account() {
    let site = site_dir();
    let (state, _) = open(site.path(), 1000);
    let b = booking_awaiting_the_office(&state).await;
    let cookie = log_in(&state, OFFICE).await;
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert!(
        start
            .body
            .contains(&format!("/verwaltung/buchungen/{}", b.id)),
        "{}",
        start.body
    );
    let page = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/buchungen/{}", b.id),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Freigeben"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let approve = format!("/verwaltung/buchungen/{}/freigeben", b.id);

    // Missing token, wrong token, no session: 403 and nothing changed.
    let before = snapshot(&state);
    for (c, token) in [
        (Some(cookie.as_str()), None),
        (Some(cookie.as_str()), Some("falsch")),
        (None, Some(csrf.as_str())),
    ] {
        let pairs: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
        let r = post_with(&state, &approve, c, &pairs).await;
        assert_eq!(r.status, 403, "{c:?} {token:?}: {}", r.body);
        assert!(r.body.contains("Es wurde nichts geändert"), "{}", r.body);
    }
    // Another session's token is wrong too.
    let other = log_in(&state, OFFICE).await;
    let r = post_with(&state, &approve, Some(&other), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 403);
    assert_eq!(snapshot(&state).0, before.0);
    assert_eq!(snapshot(&state).1, before.1);

    // With the token: approved, the office account in the trail, one place mail.
    let mails_before = state.store.outbox().unwrap().len();
    let r = post_with(&state, &approve, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/verwaltung/buchungen/{}?ergebnis=freigegeben", b.id).as_str())
    );
    let after = state.store.booking(b.id).unwrap().unwrap();
    assert_eq!(after.state, BookingState::Confirmed);
    let events = state.store.booking_events(Some(b.id)).unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.actor, format!("geschaeftsstelle:{OFFICE}"));
    assert_eq!(last.to_state, BookingState::Confirmed);
    let placed: Vec<_> = state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "buchung-bestaetigt" && m.recipient == "nora@anderswo.example")
        .collect();
    assert_eq!(placed.len(), 1);
    assert!(state.store.outbox().unwrap().len() > mails_before);

    // Approving again changes nothing and sends nothing.
    let before = snapshot(&state);
    let r = post_with(&state, &approve, Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/verwaltung/buchungen/{}?ergebnis=unveraendert", b.id).as_str())
    );
    assert_eq!(snapshot(&state), before);

    // The trail on the booking page names who and when; the date page lists her.
    let page = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/buchungen/{}?ergebnis=freigegeben", b.id),
        Some(&cookie),
    )
    .await;
    assert!(
        page.body.contains(&format!("geschaeftsstelle:{OFFICE}")),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Freigegeben. Die Person wird per E-Mail informiert."),
        "{}",
        page.body
    );
    let date_url = format!(
        "/verwaltung/termine/{}/{}",
        after.unit_id,
        after.live_date.clone().unwrap()
    );
    assert!(start.body.contains(&date_url), "{}", start.body);
    let date = get_with(&state, Method::GET, &date_url, Some(&cookie)).await;
    assert_eq!(date.status, 200, "{}", date.body);
    assert!(date.body.contains("Nora Nichtmitglied"), "{}", date.body);

    // Cancelling through the web: same workflow, same actor.
    let r = post_with(
        &state,
        &format!("/verwaltung/buchungen/{}/stornieren", b.id),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        state.store.booking(b.id).unwrap().unwrap().state,
        BookingState::Cancelled
    );
    let events = state.store.booking_events(Some(b.id)).unwrap();
    assert_eq!(
        events.last().unwrap().actor,
        format!("geschaeftsstelle:{OFFICE}")
    );
}

/// An approver of authority A sees and decides only A's staff: B's booking
/// is "not found" by URL, posting a decision on it changes nothing.
#[tokio::test]
async fn an_approver_sees_and_decides_only_their_own_authority() {
    let site = site_dir();
    let a_file = site.path().join("content/kommunen/mitgliedsstadt.md");
    let b_file = site.path().join("content/kommunen/zweitstadt.md");
    let text = std::fs::read_to_string(&a_file).unwrap();
    std::fs::write(
        &b_file,
        text.replace("name: Mitgliedsstadt", "name: Zweitstadt")
            .replace("freigabe@stadt.example", "freigabe@zweit.example"),
    )
    .unwrap();
    let (state, _) = open(site.path(), 1000);
    let a = awaiting_approval(&state, "Anna A", "anna@stadt.example", "mitgliedsstadt").await;
    let b = awaiting_approval(&state, "Bernd B", "bernd@zweit.example", "zweitstadt").await;
    assert_eq!(a.approver_email, "freigabe@stadt.example");
    assert_eq!(b.approver_email, "freigabe@zweit.example");

    let cookie = log_in(&state, "freigabe@stadt.example").await;
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(
        start
            .body
            .contains(&format!("/verwaltung/buchungen/{}\"", a.id)),
        "{}",
        start.body
    );
    assert!(
        !start
            .body
            .contains(&format!("/verwaltung/buchungen/{}\"", b.id)),
        "{}",
        start.body
    );
    assert!(!start.body.contains("Bernd B"), "{}", start.body);
    let csrf = csrf_of(&start.body);

    let before = snapshot(&state);
    let other = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/buchungen/{}", b.id),
        Some(&cookie),
    )
    .await;
    assert_eq!(other.status, 404);
    assert!(!other.body.contains("Bernd B"));
    let date = get_with(
        &state,
        Method::GET,
        "/verwaltung/termine/hybrid-eins/2027-02-10",
        Some(&cookie),
    )
    .await;
    assert_eq!(date.status, 404);
    for action in ["freigeben", "ablehnen", "stornieren"] {
        let r = post_with(
            &state,
            &format!("/verwaltung/buchungen/{}/{action}", b.id),
            Some(&cookie),
            &[("csrf", &csrf)],
        )
        .await;
        assert_eq!(r.status, 404, "{action} on B: {}", r.body);
    }
    // Cancelling is the office's, even for A's own staff.
    let r = post_with(
        &state,
        &format!("/verwaltung/buchungen/{}/stornieren", a.id),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(snapshot(&state), before, "nothing changed");

    // A's own request: approved, with the approver in the trail.
    let page = get_with(
        &state,
        Method::GET,
        &format!("/verwaltung/buchungen/{}", a.id),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Freigeben") && !page.body.contains("Stornieren"),
        "{}",
        page.body
    );
    let r = post_with(
        &state,
        &format!("/verwaltung/buchungen/{}/freigeben", a.id),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        state.store.booking(a.id).unwrap().unwrap().state,
        BookingState::Confirmed
    );
    let events = state.store.booking_events(Some(a.id)).unwrap();
    assert_eq!(
        events.last().unwrap().actor,
        "freigabe-kommune:freigabe@stadt.example"
    );
    assert_eq!(
        state.store.booking(b.id).unwrap().unwrap().state,
        BookingState::Approval
    );

    // Once the office recorded the attendance, the approver sees it.
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert!(!start.body.contains("Teilnahme:"), "{}", start.body);
    let now = state.settings.clock.now();
    state
        .store
        .write(|tx| {
            tx.record_attendance(
                a.id,
                campus_forms::attendance::Attendance::NoShow,
                "geschaeftsstelle:office@campus.example",
                "test",
                now,
            )
        })
        .unwrap();
    let start = get_with(&state, Method::GET, "/verwaltung/", Some(&cookie)).await;
    assert!(
        start.body.contains("Teilnahme: nicht erschienen"),
        "{}",
        start.body
    );
}
