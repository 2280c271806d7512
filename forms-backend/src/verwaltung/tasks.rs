//! The office's daily tasks besides bookings: contact and info-call
//! requests with an "erledigt" marker, and the outbox's failed mails with a
//! retry. Office only; every action is logged in `office_actions`.

use super::{answer, office_post, office_user, redirect, render, time_text};
use crate::store::StoreError;
use crate::web::blocking;
use crate::{AppError, AppState};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

/// The value of `ergebnis=` after a redirect, if it is one of `known`.
fn result_of(query: &RawQuery, known: &[&str]) -> String {
    query
        .0
        .as_deref()
        .and_then(|q| q.strip_prefix("ergebnis="))
        .filter(|r| known.contains(r))
        .unwrap_or("")
        .to_string()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

pub(super) async fn contact_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let rows = blocking(move || st.store.contact_requests()).await?;
    let (open, done): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r.done.is_none());
    let view = |r: &&crate::store::ContactRequest| {
        let p = &r.payload;
        json!({
            "id": r.id,
            "received": time_text(r.created_at),
            "name": text(&p["name"]),
            "organisation": text(&p["organisation"]),
            "email": text(&p["email"]),
            "telefon": text(&p["telefon"]),
            "termine": p["termine"].as_array().map(|a| a.iter().map(|t| crate::workflow::format_termin(t.as_str().unwrap_or(""))).collect::<Vec<_>>()).unwrap_or_default(),
            "nachricht": text(&p["nachricht"]),
            "done_by": r.done.as_ref().map(|d| d.0.clone()),
            "done_at": r.done.as_ref().map(|d| time_text(d.1)),
            "action": format!("/verwaltung/anfragen/{}/erledigt", r.id),
        })
    };
    let mut extra = staff.context();
    extra.extend([
        ("open", json!(open.iter().map(view).collect::<Vec<_>>())),
        ("done", json!(done.iter().map(view).collect::<Vec<_>>())),
        (
            "result",
            json!(result_of(&query, &["erledigt", "unveraendert"])),
        ),
    ]);
    let html = render(
        &state.loaded(),
        "verwaltung/anfragen.html",
        "/verwaltung/anfragen",
        "Anfragen",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

pub(super) async fn contact_done(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, _) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let actor = staff.actor().to_string();
    let st = state.clone();
    let changed = blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| -> Result<bool, StoreError> {
            let changed = tx.mark_contact_done(id, &actor, now)?;
            if changed {
                tx.record_office_action(&actor, "anfrage-erledigt", &format!("K-{id}"), now)?;
            }
            Ok(changed)
        })
    })
    .await?;
    let result = if changed { "erledigt" } else { "unveraendert" };
    Ok(redirect(&format!("/verwaltung/anfragen?ergebnis={result}")))
}

pub(super) async fn outbox_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: RawQuery,
) -> Result<Response, AppError> {
    let staff = match office_user(&state, &headers).await? {
        Ok(s) => s,
        Err(r) => return Ok(r),
    };
    let st = state.clone();
    let failed = blocking(move || st.store.failed_mails()).await?;
    let failed: Vec<Value> = failed
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "kind": m.kind,
                "recipient": m.recipient,
                "attempts": m.attempts,
                "error": m.last_error,
                "queued": time_text(m.created_at),
                "action": format!("/verwaltung/postausgang/{}/erneut", m.id),
            })
        })
        .collect();
    let mut extra = staff.context();
    extra.extend([
        ("failed_mails", json!(failed)),
        (
            "result",
            json!(result_of(&query, &["erneut", "unveraendert"])),
        ),
    ]);
    let html = render(
        &state.loaded(),
        "verwaltung/postausgang.html",
        "/verwaltung/postausgang",
        "Postausgang",
        &extra,
    );
    Ok(answer(StatusCode::OK, html))
}

/// One more attempt for a failed mail, sent by the worker right away.
pub(super) async fn outbox_retry(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, AppError> {
    let (staff, _) = match office_post(&state, req).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let actor = staff.actor().to_string();
    let st = state.clone();
    let changed = blocking(move || {
        let now = st.settings.clock.now();
        st.store.write(|tx| -> Result<bool, StoreError> {
            let changed = tx.retry_failed_mail(id, now)?;
            if changed {
                tx.record_office_action(&actor, "mail-erneut", &format!("M-{id}"), now)?;
            }
            Ok(changed)
        })
    })
    .await?;
    if changed {
        state.wake.notify_one();
    }
    let result = if changed { "erneut" } else { "unveraendert" };
    Ok(redirect(&format!(
        "/verwaltung/postausgang?ergebnis={result}"
    )))
}
