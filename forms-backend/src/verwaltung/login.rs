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
    check_ip_limit(&state, &parts, false).await?;
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

/// GET and HEAD: only a page with a button (and the code field when the
/// account has a second factor); nothing is used up.
pub(super) async fn link_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let hash = token_hash(&token);
    let found = blocking(move || {
        let Some(email) = st.store.login_link_email(&hash, st.settings.clock.now())? else {
            return Ok(None);
        };
        let totp = st.store.office_totp(&email)?.is_some_and(|t| t.confirmed);
        Ok::<_, crate::store::StoreError>(Some(totp))
    })
    .await?;
    Ok(link_answer(
        &state,
        found.is_some(),
        found == Some(true),
        None,
        &token,
    ))
}

fn link_answer(
    state: &AppState,
    valid: bool,
    needs_code: bool,
    error: Option<&str>,
    token: &str,
) -> Response {
    let html = render(
        &state.loaded(),
        "verwaltung/link.html",
        "/verwaltung/anmelden/",
        "Anmelden",
        &[
            ("valid", json!(valid)),
            ("needs_code", json!(needs_code)),
            ("error", json!(error)),
            ("action", json!(format!("/verwaltung/anmelden/{token}"))),
        ],
    );
    let status = match (valid, error) {
        (false, _) => StatusCode::GONE,
        (true, Some(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        (true, None) => StatusCode::OK,
    };
    answer(status, html)
}

/// Why a login link's POST did not log in.
#[derive(Debug, thiserror::Error)]
enum LoginRefused {
    #[error("Link nicht gültig")]
    Link,
    /// The account has a second factor and the code is missing or wrong;
    /// the transaction rolls back, so the link stays usable.
    #[error("Code falsch")]
    Code,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The button's POST: uses the link once and starts a session; with a
/// second factor only together with a valid code not used before.
pub(super) async fn link_login(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    check_ip_limit(&state, &parts, false).await?;
    let form = read_form(&state, body).await?;
    let typed = field(&form, "code").to_string();
    let session_id = random_token();
    let csrf = random_token();
    let st = state.clone();
    let hash = token_hash(&token);
    let sid_hash = token_hash(&session_id);
    let result = blocking(move || {
        let now = st.settings.clock.now();
        let done = st.store.write(|tx| -> Result<_, LoginRefused> {
            let email = tx.use_login_link(&hash, now)?.ok_or(LoginRefused::Link)?;
            if role_of(&st, &email).is_none() {
                return Err(LoginRefused::Link);
            }
            if let Some(t) = tx.office_totp(&email)?.filter(|t| t.confirmed) {
                let secret = super::second_factor::secret_bytes(&t.secret_hex);
                let step =
                    crate::totp::matching_step(&secret, &typed, now).ok_or(LoginRefused::Code)?;
                if !tx.use_totp_step(&email, step)? {
                    return Err(LoginRefused::Code);
                }
            }
            tx.insert_office_session(&sid_hash, &email, &csrf, now)?;
            Ok(email)
        });
        match done {
            Ok(email) => Ok(Ok(email)),
            Err(LoginRefused::Store(e)) => Err(e),
            Err(refused) => Ok(Err(refused)),
        }
    })
    .await?;
    let email = match result {
        Ok(email) => email,
        Err(LoginRefused::Code) => {
            tracing::warn!("Verwaltung: Anmeldung mit falschem Code abgewiesen");
            let error = "Der Code stimmt nicht. Bitte geben Sie den aktuellen sechsstelligen Code aus Ihrer Authenticator-App ein.";
            return Ok(link_answer(&state, true, true, Some(error), &token));
        }
        Err(_) => return Ok(link_answer(&state, false, false, None, &token)),
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
