//! Exclusive course requests in the back-office (office only): the list,
//! one request with its answer forms (dates per live unit, or a refusal).
//! Both answers are conditional on the request still being open.

use super::{answer, office_post, office_user, redirect, render, time_text};
use crate::exclusive::{self, Answered};
use crate::store::ExclusiveState;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub(super) async fn list_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let rows = blocking(move || st.store.exclusive_requests()).await?;
    let loaded = state.loaded();
    let view = |r: &crate::store::ExclusiveRequest| {
        let mut v = exclusive::view(&loaded.site, r, &[]);
        v["received"] = json!(time_text(r.created_at));
        v["url"] = json!(format!("/verwaltung/exklusivkurse/{}", r.id));
        v
    };
    let (open, done): (Vec<_>, Vec<_>) = rows
        .iter()
        .partition(|r| r.state == ExclusiveState::Received);
    let mut extra = staff.context();
    extra.extend([
        (
            "open",
            json!(open.into_iter().map(view).collect::<Vec<_>>()),
        ),
        (
            "done",
            json!(done.into_iter().map(view).collect::<Vec<_>>()),
        ),
    ]);
    let html = render(
        &loaded,
        "verwaltung/exklusivkurse.html",
        "/verwaltung/exklusivkurse",
        "Exklusive Kurse",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// One request; `errors`/`values` when an answer form came back.
async fn detail(
    state: &AppState,
    staff: &super::Staff,
    id: i64,
    result: &str,
    errors: BTreeMap<String, String>,
    values: BTreeMap<String, String>,
) -> Result<Response, AppError> {
    let st = state.clone();
    let Some((r, dates)) = blocking(move || st.store.exclusive_request(id)).await? else {
        return Ok(super::not_found(state, staff));
    };
    let loaded = state.loaded();
    let mut v = exclusive::view(&loaded.site, &r, &dates);
    v["received"] = json!(time_text(r.created_at));
    v["answered_at"] = json!(r.answered_at.map(time_text));
    v["answered_by"] = json!(r.answered_by);
    v["open"] = json!(r.state == ExclusiveState::Received);
    let units: Vec<Value> = exclusive::live_units(&loaded.site, &r.course_id)
        .iter()
        .map(|u| json!({ "id": u.id, "title": u.title, "field": format!("termin-{}", u.id) }))
        .collect();
    let error_list: Vec<Value> = errors
        .iter()
        .map(|(f, m)| json!({ "field": f, "message": m }))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut extra = staff.context();
    extra.extend([
        ("request", v),
        ("units", json!(units)),
        ("result", json!(result)),
        (
            "form",
            json!({ "name": if errors.is_empty() { "" } else { "antwort" }, "errors": errors, "values": values, "error_list": error_list }),
        ),
    ]);
    let html = render(
        &loaded,
        "verwaltung/exklusivkurs.html",
        &format!("/verwaltung/exklusivkurse/{id}"),
        &format!("Exklusiver Kurs X-{id}"),
        &extra,
    );
    Ok(answer(status, html))
}

pub(super) async fn request_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let result = query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("ergebnis="))
        .filter(|r| ["terminiert", "abgelehnt", "unveraendert"].contains(r))
        .unwrap_or("")
        .to_string();
    detail(
        &state,
        &staff,
        id,
        &result,
        BTreeMap::new(),
        BTreeMap::new(),
    )
    .await
}

/// The office's answer: `terminieren` (a date per live unit, `nachricht`)
/// or `ablehnen` (`begruendung`).
pub(super) async fn answer_request(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, form) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in form {
        values.entry(k).or_insert_with(|| v.trim().to_string());
    }
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let mut errors = BTreeMap::new();
    let loaded = state.loaded();
    let by = staff.actor().to_string();
    let today = state.settings.clock.berlin_now().date();
    let st = state.clone();
    let outcome = match action.as_str() {
        "terminieren" => {
            let Some((r, _)) = ({
                let st = state.clone();
                blocking(move || st.store.exclusive_request(id)).await?
            }) else {
                return Ok(super::not_found(&state, &staff));
            };
            let mut dates = Vec::new();
            for u in exclusive::live_units(&loaded.site, &r.course_id) {
                let field = format!("termin-{}", u.id);
                match NaiveDate::parse_from_str(&get(&field), "%Y-%m-%d") {
                    Err(_) => {
                        errors.insert(
                            field,
                            format!("Bitte geben Sie den Termin für „{}“ an (Datum).", u.title),
                        );
                    }
                    Ok(d) if d < today => {
                        errors.insert(
                            field,
                            format!("Der Termin für „{}“ liegt in der Vergangenheit.", u.title),
                        );
                    }
                    Ok(d) if d.weekday().number_from_monday() > 5 => {
                        errors.insert(field, format!("Der Termin für „{}“ fällt auf ein Wochenende; Live-Tutorien finden werktags statt.", u.title));
                    }
                    Ok(d) => dates.push((u.id.clone(), d)),
                }
            }
            if !errors.is_empty() {
                return detail(&state, &staff, id, "", errors, values).await;
            }
            let note = get("nachricht");
            blocking(move || {
                crate::booking::with_env(&st, "", |env| {
                    exclusive::schedule(&env.ctx, env.site, id, &dates, &note, &by)
                })
            })
            .await?
        }
        "ablehnen" => {
            let reason = get("begruendung");
            if reason.is_empty() {
                errors.insert(
                    "begruendung".into(),
                    "Bitte schreiben Sie eine Begründung; die Ansprechperson liest sie in der Mail.".into(),
                );
                return detail(&state, &staff, id, "", errors, values).await;
            }
            blocking(move || {
                crate::booking::with_env(&st, "", |env| {
                    exclusive::decline(&env.ctx, env.site, id, &reason, &by)
                })
            })
            .await?
        }
        _ => return Ok(super::not_found(&state, &staff)),
    };
    state.wake.notify_one();
    let result = match (outcome, action.as_str()) {
        (Answered::Unchanged, _) => "unveraendert",
        (Answered::Done, "terminieren") => "terminiert",
        (Answered::Done, _) => "abgelehnt",
    };
    Ok(redirect(&format!(
        "/verwaltung/exklusivkurse/{id}?ergebnis={result}"
    )))
}
