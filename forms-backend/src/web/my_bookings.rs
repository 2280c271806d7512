//! "Meine Buchungen" (see [`crate::booking::MY_BOOKINGS_PATH`]): GET shows
//! the form to ask for the link, POST sends it (the same answer for known
//! and unknown addresses; per-IP and per-recipient limits), GET on the
//! signed link lists the bookings, and each confirmed one has its calendar
//! file. Nothing here changes a booking: cancel buttons post to the signed
//! cancellation link of the booking workflow.

use super::{blocking, check_ip_limit, html_headers, link_headers, AppError, Format};
use crate::booking::{self, MY_BOOKINGS_PATH};
use crate::validate::email_ok;
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(MY_BOOKINGS_PATH, get(ask_page).post(ask))
        .route(&format!("{MY_BOOKINGS_PATH}{{token}}"), get(list))
        .route(
            &format!("{MY_BOOKINGS_PATH}{{token}}/kalender/{{file}}"),
            get(calendar),
        )
}

/// `forms/meine-buchungen.html` at `step` ("anfordern", "gesendet", "liste", "ungueltig").
fn render(
    state: &AppState,
    status: StatusCode,
    step: &str,
    extra: &[(&'static str, Value)],
) -> Response {
    // Every variable of the template has a value, whatever the step.
    let mut values: Vec<(&'static str, Value)> = vec![
        ("step", json!(step)),
        ("email", json!("")),
        ("error", json!("")),
        ("action", json!(MY_BOOKINGS_PATH)),
        ("bookings", json!([])),
    ];
    for (key, value) in extra {
        match values.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => values.push((key, value.clone())),
        }
    }
    let html = state.loaded().pages.own(
        "forms/meine-buchungen.html",
        MY_BOOKINGS_PATH,
        "Meine Buchungen",
        &values,
    );
    link_headers((status, html_headers(), html).into_response())
}

fn form(state: &AppState, status: StatusCode, email: &str, error: &str) -> Response {
    render(
        state,
        status,
        "anfordern",
        &[
            ("email", json!(email)),
            ("error", json!(error)),
            ("action", json!(MY_BOOKINGS_PATH)),
        ],
    )
}

async fn ask_page(State(state): State<AppState>) -> Response {
    form(&state, StatusCode::OK, "", "")
}

async fn ask(
    State(state): State<AppState>,
    format: Format,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let json = format.is_json();
    let ip = check_ip_limit(&state, &parts, json).await?;
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|_| AppError::TooLarge { json })?;
    let fields = super::forms::parse_body(&parts.headers, &bytes, json)?;
    let raw = fields
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if !email_ok(&raw) {
        let error = if raw.is_empty() {
            "Bitte geben Sie Ihre E-Mail-Adresse ein."
        } else {
            "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@kommune.de."
        };
        return Ok(form(&state, StatusCode::UNPROCESSABLE_ENTITY, &raw, error));
    }
    let email = raw.to_lowercase();
    let ip_hash = state.signer.ip_hash(&ip);
    let st = state.clone();
    let sent = blocking(move || {
        booking::with_env(&st, &ip_hash, |env| {
            booking::send_my_bookings_link(env, &email)
        })
    })
    .await?;
    if sent {
        state.wake.notify_one();
    }
    // The same page whether the address is known or not.
    Ok(render(
        &state,
        StatusCode::OK,
        "gesendet",
        &[("email", json!(raw))],
    ))
}

async fn list(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let now = state.settings.clock.now();
    let Some(email) = booking::my_bookings_email(&state.signer, &token, now) else {
        return Ok(render(
            &state,
            StatusCode::GONE,
            "ungueltig",
            &[("action", json!(MY_BOOKINGS_PATH))],
        ));
    };
    let st = state.clone();
    let shown = email.clone();
    let bookings = blocking(move || {
        booking::with_env(&st, "", |env| booking::my_bookings(env, &email, &token))
    })
    .await?;
    Ok(render(
        &state,
        StatusCode::OK,
        "liste",
        &[("email", json!(shown)), ("bookings", json!(bookings))],
    ))
}

async fn calendar(
    State(state): State<AppState>,
    Path((token, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let now = state.settings.clock.now();
    let (Some(email), Some(id)) = (
        booking::my_bookings_email(&state.signer, &token, now),
        file.strip_suffix(".ics")
            .and_then(|id| id.parse::<i64>().ok()),
    ) else {
        return Ok(render(
            &state,
            StatusCode::GONE,
            "ungueltig",
            &[("action", json!(MY_BOOKINGS_PATH))],
        ));
    };
    let st = state.clone();
    let file =
        blocking(move || booking::with_env(&st, "", |env| booking::my_calendar(env, &email, id)))
            .await?;
    let Some(file) = file else {
        return Err(AppError::NotFound { json: false });
    };
    let disposition = format!("attachment; filename=\"{}\"", file.filename);
    Ok(link_headers(
        (
            [
                (header::CONTENT_TYPE, file.content_type),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            file.body,
        )
            .into_response(),
    ))
}
