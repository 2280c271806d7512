//! The request form for an exclusive course (`POST /forms/kurs-exklusiv`).

use super::{
    blocking, check_ip_limit, html_headers, parse_body, stamp_json, stamp_reason, AppError, Format,
};
use crate::sign::FormStamp;
use crate::validate::exclusive::{self as form, FIELDS};
use crate::validate::{Errors, Input};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub(super) const PATH: &str = "/forms/kurs-exklusiv";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(PATH, post(submit))
}

/// The course page again with the input and the messages.
fn form_again(state: &AppState, input: &Input, errors: Errors, json: bool) -> Response {
    if json {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "ok": false, "errors": errors })),
        )
            .into_response();
    }
    let error_list: Vec<Value> = FIELDS
        .iter()
        .filter_map(|f| errors.get(*f).map(|m| json!({ "field": f, "message": m })))
        .collect();
    let values: serde_json::Map<String, Value> = FIELDS
        .iter()
        .map(|f| (f.to_string(), json!(input.get(f))))
        .collect();
    super::course::course_page_again(
        state,
        form::FORM,
        input.get("kurs"),
        values,
        &errors,
        error_list,
    )
}

/// The page repeating the input with a button to send it again.
fn send_again(state: &AppState, input: &Input, reason: &str) -> Response {
    let fields: Vec<Value> = input
        .values
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    let html = state.loaded().pages.own(
        "forms/erneut.html",
        PATH,
        "Formular absenden",
        &[
            ("reason", json!(reason)),
            ("fields", json!(fields)),
            ("ts", json!(state.form_stamp())),
            ("action", json!(PATH)),
        ],
    );
    (StatusCode::OK, html_headers(), html).into_response()
}

fn received(state: &AppState, id: Option<i64>) -> Response {
    let html = state.loaded().pages.own(
        "forms/kurs-exklusiv.html",
        PATH,
        "Anfrage eingegangen",
        &[("id", json!(id))],
    );
    (StatusCode::OK, html_headers(), html).into_response()
}

async fn submit(
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
    let input = form::input(parse_body(&parts.headers, &bytes, json)?);
    if !input.honeypot.is_empty() {
        tracing::info!(form = form::FORM, "Honeypot ausgefüllt, Anfrage verworfen");
        return Ok(received(&state, None));
    }
    let loaded = state.loaded();
    let valid = match form::validate(&input, &loaded.site) {
        Ok(v) => v,
        Err(errors) => return Ok(form_again(&state, &input, errors, json)),
    };
    let stamp = state.check_form_stamp(&input.ts);
    if stamp != FormStamp::Valid {
        if json {
            return Ok(stamp_json(&state, stamp).into_response());
        }
        return Ok(send_again(&state, &input, stamp_reason(stamp).0));
    }
    let ip_hash = state.signer.ip_hash(&ip);
    let st = state.clone();
    let id = blocking(move || {
        crate::booking::with_env(&st, &ip_hash, |env| {
            crate::exclusive::request(&env.ctx, env.site, &valid)
        })
    })
    .await?;
    state.wake.notify_one();
    tracing::info!(form = form::FORM, id, "Exklusivkurs-Anfrage gespeichert");
    if json {
        return Ok(Json(json!({ "ok": true, "id": id })).into_response());
    }
    Ok(received(&state, Some(id)))
}
