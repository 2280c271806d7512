//! The optional second factor (TOTP) of office accounts: set up with a
//! first code, then the login link's button needs a current code that was
//! not used before; a wrong or missing code leaves the link usable; turning
//! it off needs a code; approvers have no such page.

use crate::common::*;
use crate::verwaltung::{csrf_of, get_with, log_in, open, post_with, request_link, OFFICE};
use axum::http::{header, Method};
use campus_forms::totp;
use campus_forms::AppState;
use std::time::Duration;

fn secret(state: &AppState) -> Vec<u8> {
    let hex = state.store.office_totp(OFFICE).unwrap().unwrap().secret_hex;
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn current_code(state: &AppState) -> String {
    totp::code(&secret(state), totp::step_at(state.settings.clock.now()))
}

/// A code that is not the current one.
fn wrong_code(state: &AppState) -> &'static str {
    if current_code(state) == "000000" {
        "111111"
    } else {
        "000000"
    }
}

fn location(r: &Reply) -> String {
    r.headers[header::LOCATION].to_str().unwrap().to_string()
}

#[tokio::test]
async fn an_office_account_with_a_second_factor_logs_in_only_with_a_fresh_code() {
    let site = site_dir();
    let (state, clock) = open(site.path(), 1000);
    let cookie = log_in(&state, OFFICE).await;
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/zwei-faktor",
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    let post = |path: &'static str, code: String| {
        let (state, cookie, csrf) = (&state, cookie.clone(), csrf.clone());
        async move {
            post_with(
                state,
                path,
                Some(&cookie),
                &[("csrf", &csrf), ("code", &code)],
            )
            .await
        }
    };
    assert_eq!(
        post_with(
            &state,
            "/verwaltung/zwei-faktor/einrichten",
            Some(&cookie),
            &[]
        )
        .await
        .status,
        403
    );
    assert!(state.store.office_totp(OFFICE).unwrap().is_none());
    let r = post("/verwaltung/zwei-faktor/einrichten", String::new()).await;
    assert!(location(&r).ends_with("ergebnis=neu"));
    let page = get_with(
        &state,
        Method::GET,
        "/verwaltung/zwei-faktor",
        Some(&cookie),
    )
    .await;
    let shown = totp::base32(&secret(&state));
    assert!(page.body.contains(&shown), "{}", page.body);
    assert!(
        page.body.contains("otpauth://totp/") && page.body.contains(&format!("secret={shown}"))
    );

    // A wrong code does not switch it on; the right one does.
    let wrong = wrong_code(&state);
    let r = post("/verwaltung/zwei-faktor/bestaetigen", wrong.into()).await;
    assert!(location(&r).ends_with("ergebnis=code-falsch"));
    assert!(!state.store.office_totp(OFFICE).unwrap().unwrap().confirmed);
    let first = current_code(&state);
    let r = post("/verwaltung/zwei-faktor/bestaetigen", first.clone()).await;
    assert!(
        location(&r).ends_with("ergebnis=eingerichtet"),
        "{}",
        location(&r)
    );
    assert!(state.store.office_totp(OFFICE).unwrap().unwrap().confirmed);
    let log = state.store.office_actions().unwrap();
    assert_eq!(log.last().unwrap().action, "zwei-faktor-eingerichtet");

    // The next login: the link page asks for the code.
    let link = request_link(&state, OFFICE).await;
    let page = get_with(&state, Method::GET, &link, None).await;
    assert!(page.body.contains("name=\"code\""), "{}", page.body);
    for code in ["", wrong, first.as_str()] {
        // Missing, wrong, or the code already used to confirm (replay).
        let r = post_with(&state, &link, None, &[("code", code)]).await;
        assert_eq!(r.status, 422, "code {code:?}: {}", r.body);
        assert!(r.headers.get(header::SET_COOKIE).is_none());
        assert!(r.body.contains("Der Code stimmt nicht"));
    }
    assert_eq!(
        get_with(&state, Method::GET, &link, None).await.status,
        200,
        "link still usable"
    );
    clock.advance(Duration::from_secs(30));
    let fresh = current_code(&state);
    let r = post_with(&state, &link, None, &[("code", &fresh)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .starts_with("campus_verwaltung="));
    // The same code does not log in twice, even with a new link.
    let again = request_link(&state, OFFICE).await;
    assert_eq!(
        post_with(&state, &again, None, &[("code", &fresh)])
            .await
            .status,
        422
    );

    // Turning it off needs a current code.
    clock.advance(Duration::from_secs(30));
    let r = post(
        "/verwaltung/zwei-faktor/ausschalten",
        wrong_code(&state).into(),
    )
    .await;
    assert!(location(&r).ends_with("ergebnis=code-falsch"));
    assert!(state.store.office_totp(OFFICE).unwrap().is_some());
    let r = post("/verwaltung/zwei-faktor/ausschalten", current_code(&state)).await;
    assert!(
        location(&r).ends_with("ergebnis=ausgeschaltet"),
        "{}",
        location(&r)
    );
    assert!(state.store.office_totp(OFFICE).unwrap().is_none());
    let link = request_link(&state, OFFICE).await;
    assert_eq!(post_with(&state, &link, None, &[]).await.status, 303);
}

#[tokio::test]
async fn approvers_have_no_second_factor_page() {
    let site = site_dir();
    let (state, _) = open(site.path(), 1000);
    let cookie = log_in(&state, "freigabe@stadt.example").await;
    let r = get_with(
        &state,
        Method::GET,
        "/verwaltung/zwei-faktor",
        Some(&cookie),
    )
    .await;
    assert_eq!(r.status, 404);
    let csrf = csrf_of(
        &get_with(&state, Method::GET, "/verwaltung/", Some(&cookie))
            .await
            .body,
    );
    let r = post_with(
        &state,
        "/verwaltung/zwei-faktor/einrichten",
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, 404);
    assert!(state
        .store
        .office_totp("freigabe@stadt.example")
        .unwrap()
        .is_none());
}
