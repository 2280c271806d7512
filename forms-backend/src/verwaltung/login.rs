//! Login by e-mail link and logout.

use super::session::{checked_post, role_of};
use super::{address_of, answer, field, read_form, redirect, render, COOKIE};
use crate::sign::{random_token, token_hash};
use crate::web::{blocking, check_ip_limit};
use crate::{AppError, AppState, Loaded};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

pub(super) async fn login_form(State(state): State<AppState>) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/anmelden.html",
        "/verwaltung/anmelden",
        "Anmelden",
        &[("sent", json!(false)), ("email", json!(""))],
    );
    answer(StatusCode::OK, html)
}

/// The same answer for every address; known ones get a link by mail.
pub(super) async fn login_request(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    check_ip_limit(&state, &parts, false)?;
    let form = read_form(&state, body).await?;
    let typed = field(&form, "email").trim().to_string();
    let loaded = state.loaded();
    let Some(email) = address_of(&typed) else {
        let html = render(
            &loaded,
            "verwaltung/anmelden.html",
            "/verwaltung/anmelden",
            "Anmelden",
            &[
                ("sent", json!(false)),
                ("email", json!(typed)),
                (
                    "error",
                    json!("Bitte geben Sie Ihre dienstliche E-Mail-Adresse an, zum Beispiel name@kommunalcampus.de."),
                ),
            ],
        );
        return Ok(answer(StatusCode::UNPROCESSABLE_ENTITY, html));
    };
    if role_of(&state, &email).is_some() {
        let st = state.clone();
        let ld = loaded.clone();
        let to = email.clone();
        blocking(move || send_login_link(&st, &ld, &to)).await?;
        state.wake.notify_one();
    } else {
        tracing::info!("Verwaltung: Anmeldung für unbekannte Adresse angefragt");
    }
    let html = render(
        &loaded,
        "verwaltung/anmelden.html",
        "/verwaltung/anmelden",
        "Anmelden",
        &[("sent", json!(true)), ("email", json!(typed))],
    );
    Ok(answer(StatusCode::OK, html))
}

/// Stores the link's hash and queues its mail in one transaction.
fn send_login_link(
    state: &AppState,
    loaded: &Loaded,
    email: &str,
) -> Result<(), crate::workflow::WorkflowError> {
    let s = &state.settings.verwaltung;
    let now = state.settings.clock.now();
    let token = random_token();
    let url = format!("{}/verwaltung/anmelden/{token}", loaded.backend_url);
    let draft = loaded.letterhead.draft(
        "verwaltung-anmelden",
        email,
        "",
        serde_json::json!({ "link": url, "minutes": s.link_valid_secs / 60 }),
    )?;
    let mail = loaded.letterhead.compose(&draft, None)?;
    state
        .store
        .write(|tx| -> Result<_, crate::workflow::WorkflowError> {
            tx.insert_login_link(&token_hash(&token), email, now, now + s.link_valid_secs)?;
            tx.enqueue(&mail, now)?;
            Ok(())
        })
}

/// GET and HEAD: only a page with a button; nothing is used up.
pub(super) async fn link_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let hash = token_hash(&token);
    let valid = blocking(move || st.store.login_link_email(&hash, st.settings.clock.now()))
        .await?
        .is_some();
    Ok(link_answer(&state, valid, &token))
}

fn link_answer(state: &AppState, valid: bool, token: &str) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/link.html",
        "/verwaltung/anmelden/",
        "Anmelden",
        &[
            ("valid", json!(valid)),
            ("action", json!(format!("/verwaltung/anmelden/{token}"))),
        ],
    );
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    answer(status, html)
}

/// The button's POST: uses the link once and starts a session.
pub(super) async fn link_login(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    check_ip_limit(&state, &parts, false)?;
    let session_id = random_token();
    let csrf = random_token();
    let st = state.clone();
    let hash = token_hash(&token);
    let sid_hash = token_hash(&session_id);
    let email = blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| -> Result<_, crate::store::StoreError> {
            let Some(email) = tx.use_login_link(&hash, now)? else {
                return Ok(None);
            };
            if role_of(&st, &email).is_none() {
                return Ok(None);
            }
            tx.insert_office_session(&sid_hash, &email, &csrf, now)?;
            Ok(Some(email))
        })
    })
    .await?;
    let Some(email) = email else {
        return Ok(link_answer(&state, false, &token));
    };
    tracing::info!(%email, "Verwaltung: angemeldet");
    let secure = if state.loaded().backend_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={session_id}; Path=/verwaltung/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.settings.verwaltung.absolute_secs
    );
    let mut r = redirect("/verwaltung/");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(Box::new(e)))?,
    );
    Ok(r)
}

pub(super) async fn logout(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, AppError> {
    let staff = match checked_post(&state, req).await {
        Ok((staff, _)) => staff,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let id_hash = staff.id_hash.clone();
    blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| tx.end_office_session(&id_hash, now))
    })
    .await?;
    let mut r = redirect("/verwaltung/anmelden");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{COOKIE}=; Path=/verwaltung/; HttpOnly; SameSite=Strict; Max-Age=0"
        ))
        .map_err(|e| AppError::Internal(Box::new(e)))?,
    );
    Ok(r)
}
